// SPDX-License-Identifier: Apache-2.0

// Command gochaincode is the reference chaincode for shim conformance tests,
// written against the official Go shim (fabric-chaincode-go/v2).
//
// It runs as a chaincode-as-a-service gRPC server: the peer (or the Rust peer
// simulator) dials CHAINCODE_SERVER_ADDRESS and calls protos.Chaincode/Connect.
//
// The Node twin in ../node/chaincode.js implements the same functions; every
// success payload must be byte-identical between the two (see ../README.md).
package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"strconv"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"
)

// ---- response shapes (field order and tags mirror the Node objects) ----

type okResult struct {
	OK bool `json:"ok"`
}

type valueResult struct {
	Value *jsText `json:"value"`
}

type valuesResult struct {
	Values []*jsText `json:"values"`
}

type kvEntry struct {
	Key   jsText `json:"key"`
	Value jsText `json:"value"`
}

type rangeResult struct {
	Results []kvEntry `json:"results"`
}

type pageResult struct {
	Results             []kvEntry `json:"results"`
	FetchedRecordsCount int32     `json:"fetchedRecordsCount"`
	Bookmark            jsText    `json:"bookmark"`
}

type compositeEntry struct {
	ObjectType jsText   `json:"objectType"`
	Attributes []jsText `json:"attributes"`
	Value      jsText   `json:"value"`
}

type partialResult struct {
	Results []compositeEntry `json:"results"`
}

type historyEntry struct {
	TxID     jsText `json:"txId"`
	Value    jsText `json:"value"`
	IsDelete bool   `json:"isDelete"`
	Seconds  int64  `json:"seconds"`
}

type historyResult struct {
	History []historyEntry `json:"history"`
}

type hashResult struct {
	Hash *string `json:"hash"`
}

type txInfoResult struct {
	TxID      jsText `json:"txId"`
	ChannelID jsText `json:"channelId"`
	Seconds   int64  `json:"seconds"`
	Nanos     int32  `json:"nanos"`
}

type creatorResult struct {
	MSPID jsText `json:"mspid"`
	Cert  jsText `json:"cert"`
}

var (
	benchWrite  = bytes.Repeat([]byte("x"), 1024)
	benchResult = bytes.Repeat([]byte("y"), 1024)
)

// encode renders v the way JSON.stringify would: no HTML escaping and no
// trailing newline. String fields use jsText, which handles the rest.
func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func textOf(b []byte) jsText { return jsText(b) }

func nullableOf(b []byte) *jsText {
	if len(b) == 0 {
		return nil
	}
	t := jsText(b)
	return &t
}

func argCount(fn string, params []string, n int) error {
	if len(params) != n {
		return fmt.Errorf("incorrect number of arguments for %s: expected %d, got %d", fn, n, len(params))
	}
	return nil
}

func argAtLeast(fn string, params []string, n int) error {
	if len(params) < n {
		return fmt.Errorf("incorrect number of arguments for %s: expected at least %d, got %d", fn, n, len(params))
	}
	return nil
}

// parsePageSize accepts an optional '-' followed by decimal digits that fit
// an int32 (same rule as the Node twin).
func parsePageSize(s string) (int32, error) {
	bad := fmt.Errorf("invalid pageSize %s", s)
	digits := s
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	if digits == "" {
		return 0, bad
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, bad
		}
	}
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return 0, bad
	}
	return int32(n), nil
}

func drainKV(iter shim.StateQueryIteratorInterface) ([]kvEntry, error) {
	defer iter.Close()
	out := []kvEntry{}
	for iter.HasNext() {
		kv, err := iter.Next()
		if err != nil {
			return nil, err
		}
		out = append(out, kvEntry{Key: jsText(kv.GetKey()), Value: textOf(kv.GetValue())})
	}
	return out, nil
}

func errSignedProposal() error { return fmt.Errorf("signed proposal is required") }

// conformanceCC implements shim.Chaincode.
type conformanceCC struct{}

func (conformanceCC) Init(shim.ChaincodeStubInterface) *peer.Response {
	return shim.Success(nil)
}

func (c conformanceCC) Invoke(stub shim.ChaincodeStubInterface) (resp *peer.Response) {
	// A panic inside the shim (e.g. splitting a malformed composite key) would
	// take the whole server down; report it as a failed invocation instead.
	defer func() {
		if r := recover(); r != nil {
			resp = shim.Error(fmt.Sprintf("panic: %v", r))
		}
	}()

	// Mirror fabric-shim: arguments are decoded as UTF-8 text (lossy) for
	// names and keys; raw bytes are kept for values stored or emitted as-is.
	rawArgs := stub.GetArgs()
	fn := ""
	if len(rawArgs) > 0 {
		fn = decodeUTF8(rawArgs[0])
	}
	var params []string
	var raw [][]byte
	if len(rawArgs) > 1 {
		raw = rawArgs[1:]
		params = make([]string, len(raw))
		for i, a := range raw {
			params[i] = decodeUTF8(a)
		}
	}

	if fn == "fail" {
		if err := argCount("fail", params, 1); err != nil {
			return shim.Error(err.Error())
		}
		return shim.Error(params[0])
	}

	var result any
	var err error
	switch fn {
	case "put":
		result, err = c.put(stub, params, raw)
	case "get":
		result, err = c.get(stub, params)
	case "del":
		result, err = c.del(stub, params)
	case "getMultiple":
		result, err = c.getMultiple(stub, params)
	case "range":
		result, err = c.rangeQuery(stub, params)
	case "rangePage":
		result, err = c.rangePage(stub, params)
	case "composite":
		result, err = c.composite(stub, params)
	case "partial":
		result, err = c.partial(stub, params)
	case "history":
		result, err = c.history(stub, params)
	case "putPrivate":
		result, err = c.putPrivate(stub, params)
	case "getPrivate":
		result, err = c.getPrivate(stub, params)
	case "privateHash":
		result, err = c.privateHash(stub, params)
	case "delPrivate":
		result, err = c.delPrivate(stub, params)
	case "purgePrivate":
		result, err = c.purgePrivate(stub, params)
	case "privateRange":
		result, err = c.privateRange(stub, params)
	case "event":
		result, err = c.event(stub, params, raw)
	case "txinfo":
		result, err = c.txinfo(stub, params)
	case "creator":
		result, err = c.creator(stub, params)
	case "transient":
		result, err = c.transient(stub, params)
	case "bench":
		if err = argCount("bench", params, 1); err == nil {
			if _, err = stub.GetState(params[0]); err == nil {
				err = stub.PutState(params[0], benchWrite)
			}
		}
		if err != nil {
			return shim.Error(err.Error())
		}
		return shim.Success(benchResult)
	default:
		return shim.Error("unknown function " + fn)
	}
	if err != nil {
		return shim.Error(err.Error())
	}
	payload, err := encode(result)
	if err != nil {
		return shim.Error(err.Error())
	}
	return shim.Success(payload)
}

func (conformanceCC) put(stub shim.ChaincodeStubInterface, p []string, raw [][]byte) (any, error) {
	if err := argCount("put", p, 2); err != nil {
		return nil, err
	}
	if err := stub.PutState(p[0], raw[1]); err != nil {
		return nil, err
	}
	return okResult{OK: true}, nil
}

func (conformanceCC) get(stub shim.ChaincodeStubInterface, p []string) (any, error) {
	if err := argCount("get", p, 1); err != nil {
		return nil, err
	}
	v, err := stub.GetState(p[0])
	if err != nil {
		return nil, err
	}
	return valueResult{Value: nullableOf(v)}, nil
}

func (conformanceCC) del(stub shim.ChaincodeStubInterface, p []string) (any, error) {
	if err := argCount("del", p, 1); err != nil {
		return nil, err
	}
	if err := stub.DelState(p[0]); err != nil {
		return nil, err
	}
	return okResult{OK: true}, nil
}

func (conformanceCC) getMultiple(stub shim.ChaincodeStubInterface, p []string) (any, error) {
	values := []*jsText{}
	if len(p) > 0 {
		got, err := stub.GetMultipleStates(p...)
		if err != nil {
			return nil, err
		}
		for _, v := range got {
			values = append(values, nullableOf(v))
		}
	}
	return valuesResult{Values: values}, nil
}

func (conformanceCC) rangeQuery(stub shim.ChaincodeStubInterface, p []string) (any, error) {
	if err := argCount("range", p, 2); err != nil {
		return nil, err
	}
	iter, err := stub.GetStateByRange(p[0], p[1])
	if err != nil {
		return nil, err
	}
	kvs, err := drainKV(iter)
	if err != nil {
		return nil, err
	}
	return rangeResult{Results: kvs}, nil
}

func (conformanceCC) rangePage(stub shim.ChaincodeStubInterface, p []string) (any, error) {
	if err := argCount("rangePage", p, 4); err != nil {
		return nil, err
	}
	pageSize, err := parsePageSize(p[2])
	if err != nil {
		return nil, err
	}
	iter, md, err := stub.GetStateByRangeWithPagination(p[0], p[1], pageSize, p[3])
	if err != nil {
		return nil, err
	}
	kvs, err := drainKV(iter)
	if err != nil {
		return nil, err
	}
	return pageResult{
		Results:             kvs,
		FetchedRecordsCount: md.GetFetchedRecordsCount(),
		Bookmark:            jsText(md.GetBookmark()),
	}, nil
}

func (conformanceCC) composite(stub shim.ChaincodeStubInterface, p []string) (any, error) {
	if err := argAtLeast("composite", p, 1); err != nil {
		return nil, err
	}
	key, err := stub.CreateCompositeKey(p[0], p[1:])
	if err != nil {
		return nil, err
	}
	if err := stub.PutState(key, []byte("c")); err != nil {
		return nil, err
	}
	return okResult{OK: true}, nil
}

func (conformanceCC) partial(stub shim.ChaincodeStubInterface, p []string) (any, error) {
	if err := argAtLeast("partial", p, 1); err != nil {
		return nil, err
	}
	iter, err := stub.GetStateByPartialCompositeKey(p[0], p[1:])
	if err != nil {
		return nil, err
	}
	kvs, err := drainKV(iter)
	if err != nil {
		return nil, err
	}
	results := []compositeEntry{}
	for _, kv := range kvs {
		objectType, attrs, err := stub.SplitCompositeKey(string(kv.Key))
		if err != nil {
			return nil, err
		}
		attributes := make([]jsText, 0, len(attrs))
		for _, a := range attrs {
			attributes = append(attributes, jsText(a))
		}
		results = append(results, compositeEntry{ObjectType: jsText(objectType), Attributes: attributes, Value: kv.Value})
	}
	return partialResult{Results: results}, nil
}

func (conformanceCC) history(stub shim.ChaincodeStubInterface, p []string) (any, error) {
	if err := argCount("history", p, 1); err != nil {
		return nil, err
	}
	iter, err := stub.GetHistoryForKey(p[0])
	if err != nil {
		return nil, err
	}
	defer iter.Close()
	entries := []historyEntry{}
	for iter.HasNext() {
		km, err := iter.Next()
		if err != nil {
			return nil, err
		}
		entries = append(entries, historyEntry{
			TxID:     jsText(km.GetTxId()),
			Value:    textOf(km.GetValue()),
			IsDelete: km.GetIsDelete(),
			Seconds:  km.GetTimestamp().GetSeconds(),
		})
	}
	return historyResult{History: entries}, nil
}

func (conformanceCC) putPrivate(stub shim.ChaincodeStubInterface, p []string) (any, error) {
	if err := argCount("putPrivate", p, 2); err != nil {
		return nil, err
	}
	transient, err := stub.GetTransient()
	if err != nil {
		return nil, err
	}
	// Empty counts as missing, matching what fabric-shim would accept.
	value := transient["value"]
	if len(value) == 0 {
		return nil, fmt.Errorf(`transient field "value" is required`)
	}
	if err := stub.PutPrivateData(p[0], p[1], value); err != nil {
		return nil, err
	}
	return okResult{OK: true}, nil
}

func (conformanceCC) getPrivate(stub shim.ChaincodeStubInterface, p []string) (any, error) {
	if err := argCount("getPrivate", p, 2); err != nil {
		return nil, err
	}
	v, err := stub.GetPrivateData(p[0], p[1])
	if err != nil {
		return nil, err
	}
	return valueResult{Value: nullableOf(v)}, nil
}

func (conformanceCC) privateHash(stub shim.ChaincodeStubInterface, p []string) (any, error) {
	if err := argCount("privateHash", p, 2); err != nil {
		return nil, err
	}
	h, err := stub.GetPrivateDataHash(p[0], p[1])
	if err != nil {
		return nil, err
	}
	if len(h) == 0 {
		return hashResult{}, nil
	}
	s := hex.EncodeToString(h)
	return hashResult{Hash: &s}, nil
}

func (conformanceCC) delPrivate(stub shim.ChaincodeStubInterface, p []string) (any, error) {
	if err := argCount("delPrivate", p, 2); err != nil {
		return nil, err
	}
	if err := stub.DelPrivateData(p[0], p[1]); err != nil {
		return nil, err
	}
	return okResult{OK: true}, nil
}

func (conformanceCC) purgePrivate(stub shim.ChaincodeStubInterface, p []string) (any, error) {
	if err := argCount("purgePrivate", p, 2); err != nil {
		return nil, err
	}
	if err := stub.PurgePrivateData(p[0], p[1]); err != nil {
		return nil, err
	}
	return okResult{OK: true}, nil
}

func (conformanceCC) privateRange(stub shim.ChaincodeStubInterface, p []string) (any, error) {
	if err := argCount("privateRange", p, 3); err != nil {
		return nil, err
	}
	iter, err := stub.GetPrivateDataByRange(p[0], p[1], p[2])
	if err != nil {
		return nil, err
	}
	kvs, err := drainKV(iter)
	if err != nil {
		return nil, err
	}
	return rangeResult{Results: kvs}, nil
}

func (conformanceCC) event(stub shim.ChaincodeStubInterface, p []string, raw [][]byte) (any, error) {
	if err := argCount("event", p, 2); err != nil {
		return nil, err
	}
	if err := stub.SetEvent(p[0], raw[1]); err != nil {
		return nil, err
	}
	return okResult{OK: true}, nil
}

func (conformanceCC) txinfo(stub shim.ChaincodeStubInterface, p []string) (any, error) {
	if err := argCount("txinfo", p, 0); err != nil {
		return nil, err
	}
	// Without a signed proposal the Go shim would dereference nil here.
	if sp, _ := stub.GetSignedProposal(); sp == nil {
		return nil, errSignedProposal()
	}
	ts, err := stub.GetTxTimestamp()
	if err != nil {
		return nil, err
	}
	return txInfoResult{
		TxID:      jsText(stub.GetTxID()),
		ChannelID: jsText(stub.GetChannelID()),
		Seconds:   ts.GetSeconds(),
		Nanos:     ts.GetNanos(),
	}, nil
}

func (conformanceCC) creator(stub shim.ChaincodeStubInterface, p []string) (any, error) {
	if err := argCount("creator", p, 0); err != nil {
		return nil, err
	}
	if sp, _ := stub.GetSignedProposal(); sp == nil {
		return nil, errSignedProposal()
	}
	raw, err := stub.GetCreator()
	if err != nil {
		return nil, err
	}
	id := &msp.SerializedIdentity{}
	if err := proto.Unmarshal(raw, id); err != nil {
		return nil, fmt.Errorf("decoding SerializedIdentity: %w", err)
	}
	return creatorResult{MSPID: jsText(id.GetMspid()), Cert: textOf(id.GetIdBytes())}, nil
}

func (conformanceCC) transient(stub shim.ChaincodeStubInterface, p []string) (any, error) {
	if err := argCount("transient", p, 1); err != nil {
		return nil, err
	}
	transient, err := stub.GetTransient()
	if err != nil {
		return nil, err
	}
	return valueResult{Value: nullableOf(transient[p[0]])}, nil
}

func main() {
	// Diagnostics go to stderr only.
	log.SetOutput(os.Stderr)
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)
	log.SetPrefix("conformance-go-chaincode: ")

	ccid := os.Getenv("CHAINCODE_ID")
	address := os.Getenv("CHAINCODE_SERVER_ADDRESS")
	if ccid == "" || address == "" {
		log.Print("CHAINCODE_ID and CHAINCODE_SERVER_ADDRESS must be set")
		os.Exit(2)
	}

	server := &shim.ChaincodeServer{
		CCID:     ccid,
		Address:  address,
		CC:       conformanceCC{},
		TLSProps: shim.TLSProperties{Disabled: true},
	}
	log.Printf("serving %s on %s (plaintext)", ccid, address)
	if err := server.Start(); err != nil {
		log.Printf("server stopped: %v", err)
		os.Exit(1)
	}
}
