// SPDX-License-Identifier: Apache-2.0

package main

import (
	"encoding/hex"
	"testing"
)

// Expected outputs were produced by Node 20:
// Buffer.from(JSON.stringify({value: Buffer.from(in, 'hex').toString('utf8')}))
// (a 200k-case random differential run matched as well).
var nodeVectors = []struct{ in, want string }{
	{"3c613e26e280a8e280a9225c080c0a0d09001f7f20c3a920f09f9880", "7b2276616c7565223a223c613e26e280a8e280a95c225c5c5c625c665c6e5c725c745c75303030305c75303031667f20c3a920f09f9880227d"},
	{"e28241", "7b2276616c7565223a22efbfbd41227d"},
	{"eda080", "7b2276616c7565223a22efbfbdefbfbdefbfbd227d"},
	{"f09f98", "7b2276616c7565223a22efbfbd227d"},
	{"c0af", "7b2276616c7565223a22efbfbdefbfbd227d"},
	{"f4908080", "7b2276616c7565223a22efbfbdefbfbdefbfbdefbfbd227d"},
	{"e08080", "7b2276616c7565223a22efbfbdefbfbdefbfbd227d"},
	{"ff", "7b2276616c7565223a22efbfbd227d"},
}

func TestJSONMatchesNode(t *testing.T) {
	for _, v := range nodeVectors {
		in, _ := hex.DecodeString(v.in)
		text := jsText(in)
		got, err := encode(valueResult{Value: &text})
		if err != nil {
			t.Fatal(err)
		}
		if hex.EncodeToString(got) != v.want {
			t.Errorf("input %s: got %q, want hex %s", v.in, got, v.want)
		}
	}
}

func TestShapes(t *testing.T) {
	cases := []struct {
		v    any
		want string
	}{
		{okResult{OK: true}, `{"ok":true}`},
		{valueResult{}, `{"value":null}`},
		{valuesResult{Values: []*jsText{nullableOf([]byte("a")), nil}}, `{"values":["a",null]}`},
		{rangeResult{Results: []kvEntry{}}, `{"results":[]}`},
		{pageResult{Results: []kvEntry{{"k", "v"}}, FetchedRecordsCount: 1, Bookmark: "k2"}, `{"results":[{"key":"k","value":"v"}],"fetchedRecordsCount":1,"bookmark":"k2"}`},
		{partialResult{Results: []compositeEntry{{ObjectType: "t", Attributes: []jsText{}, Value: "c"}}}, `{"results":[{"objectType":"t","attributes":[],"value":"c"}]}`},
		{historyResult{History: []historyEntry{{TxID: "tx", Value: "", IsDelete: true, Seconds: 5}}}, `{"history":[{"txId":"tx","value":"","isDelete":true,"seconds":5}]}`},
		{hashResult{}, `{"hash":null}`},
		{txInfoResult{TxID: "t", ChannelID: "c", Seconds: 1, Nanos: 2}, `{"txId":"t","channelId":"c","seconds":1,"nanos":2}`},
		{creatorResult{MSPID: "Org1MSP", Cert: "-----BEGIN CERTIFICATE-----\n"}, `{"mspid":"Org1MSP","cert":"-----BEGIN CERTIFICATE-----\n"}`},
	}
	for _, c := range cases {
		got, err := encode(c.v)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != c.want {
			t.Errorf("got %s, want %s", got, c.want)
		}
	}
}

func TestParsePageSize(t *testing.T) {
	for _, ok := range []string{"0", "5", "-1", "007", "2147483647", "-2147483648"} {
		if _, err := parsePageSize(ok); err != nil {
			t.Errorf("%q rejected: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "-", "+5", "1.0", " 1", "2147483648", "abc"} {
		if _, err := parsePageSize(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
