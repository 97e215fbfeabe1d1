#!/usr/bin/env node
/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Smoke probe for the conformance chaincode servers. It dials a chaincode
 * server the way a peer does (protos.Chaincode/Connect), prints the REGISTER
 * message, and (unless --register-only) plays a tiny in-memory peer through a
 * fixed list of invocations, printing for each one the messages the chaincode
 * sent and the final response. Running it against the Go and Node servers and
 * diffing the two outputs is a quick parity check; it is not a replacement for
 * the Rust peer simulator.
 *
 *   node probe.js 127.0.0.1:9999 [--register-only]
 *
 * Uses the @grpc/grpc-js and @hyperledger/fabric-protos copies installed under
 * node/node_modules (run setup.sh first).
 */
'use strict';

const path = require('path');
const crypto = require('crypto');
const {createRequire} = require('module');

const nodeRequire = createRequire(path.join(__dirname, 'node', 'package.json'));
const grpc = nodeRequire('@grpc/grpc-js');
const {peer, common, msp, ledger} = nodeRequire('@hyperledger/fabric-protos');
const protosRequire = createRequire(nodeRequire.resolve('@hyperledger/fabric-protos'));
const {Timestamp} = protosRequire('google-protobuf/google/protobuf/timestamp_pb.js');

const T = peer.ChaincodeMessage.Type;
const typeName = Object.fromEntries(Object.entries(T).map(([k, v]) => [v, k]));

const CHANNEL = 'conformance';
const TX_SECONDS = 1700000000;
const TX_NANOS = 123456789;
const FAKE_PEM = '-----BEGIN CERTIFICATE-----\nMIIBprobe\n-----END CERTIFICATE-----\n';
const RESULTS_PER_CHUNK = 2; // small, so QUERY_STATE_NEXT gets exercised

// Each step: [args..., {transient}] - transient optional.
const STEPS = [
    ['put', 'a', '1'],
    ['put', 'b', '<b>&\u2028'],
    ['put', 'c', '3'],
    ['put', 'd', '4'],
    ['put', 'e', '5'],
    ['get', 'a'],
    ['get', 'missing'],
    ['getMultiple', 'a', 'missing', 'b'],
    ['getMultiple'],
    ['range', 'a', 'e'],
    ['range', '', ''],
    ['range', 'x', 'z'],
    ['rangePage', 'a', '', '2', ''],
    ['rangePage', 'a', '', '2', 'c'],
    ['rangePage', 'a', '', 'abc', ''],
    ['composite', 'color', 'red', 'r1'],
    ['composite', 'color', 'red', 'r2'],
    ['composite', 'color', 'blue', 'b1'],
    ['partial', 'color', 'red'],
    ['partial', 'color'],
    ['partial', 'nothing'],
    ['del', 'a'],
    ['history', 'a'],
    ['history', 'never'],
    ['putPrivate', 'coll', 'p1', {value: 'secret'}],
    ['putPrivate', 'coll', 'p2'],
    ['getPrivate', 'coll', 'p1'],
    ['getPrivate', 'coll', 'nope'],
    ['privateHash', 'coll', 'p1'],
    ['privateHash', 'coll', 'nope'],
    ['privateRange', 'coll', '', ''],
    ['delPrivate', 'coll', 'p1'],
    ['purgePrivate', 'coll', 'p1'],
    ['event', 'evt', 'payload-bytes'],
    ['fail', 'boom'],
    ['txinfo'],
    ['creator'],
    ['transient', 'value', {value: 'tv'}],
    ['transient', 'absent'],
    ['bench', 'k'],
    ['get'],
    ['nosuch', 'x'],
];

function chaincodeMessage(type, payload, txid, proposal) {
    const m = new peer.ChaincodeMessage();
    m.setType(type);
    if (payload) {
        m.setPayload(payload);
    }
    if (txid) {
        m.setTxid(txid);
        m.setChannelId(CHANNEL);
    }
    if (proposal) {
        m.setProposal(proposal);
    }
    return m;
}

function signedProposal(txid, args, transient) {
    const ts = new Timestamp();
    ts.setSeconds(TX_SECONDS);
    ts.setNanos(TX_NANOS);
    const chdr = new common.ChannelHeader();
    chdr.setType(common.HeaderType.ENDORSER_TRANSACTION);
    chdr.setChannelId(CHANNEL);
    chdr.setTxId(txid);
    chdr.setTimestamp(ts);
    const id = new msp.SerializedIdentity();
    id.setMspid('Org1MSP');
    id.setIdBytes(Buffer.from(FAKE_PEM));
    const shdr = new common.SignatureHeader();
    shdr.setCreator(id.serializeBinary());
    shdr.setNonce(Buffer.from('nonce-' + txid));
    const hdr = new common.Header();
    hdr.setChannelHeader(chdr.serializeBinary());
    hdr.setSignatureHeader(shdr.serializeBinary());

    const input = new peer.ChaincodeInput();
    input.setArgsList(args.map((a) => Buffer.from(a)));
    const spec = new peer.ChaincodeSpec();
    spec.setInput(input);
    const cis = new peer.ChaincodeInvocationSpec();
    cis.setChaincodeSpec(spec);
    const ccpp = new peer.ChaincodeProposalPayload();
    ccpp.setInput(cis.serializeBinary());
    for (const [k, v] of Object.entries(transient || {})) {
        ccpp.getTransientmapMap().set(k, Buffer.from(v));
    }
    const prop = new peer.Proposal();
    prop.setHeader(hdr.serializeBinary());
    prop.setPayload(ccpp.serializeBinary());
    const sp = new peer.SignedProposal();
    sp.setProposalBytes(prop.serializeBinary());
    sp.setSignature(Buffer.from('sig'));
    return sp;
}

// ---- in-memory ledger, writes applied immediately (good enough for a probe) ----
const state = new Map(); // `${collection}\u0000${key}` -> Buffer
const history = new Map(); // key -> [{txId, value, isDelete}]
const iterators = new Map(); // id -> remaining result chunks
let nextIteratorId = 0;

const sk = (coll, key) => `${coll}\u0000${key}`;

function write(coll, key, value, txid) {
    if (value && value.length > 0) {
        state.set(sk(coll, key), Buffer.from(value));
    } else {
        state.delete(sk(coll, key));
    }
    if (!coll) {
        const h = history.get(key) || [];
        h.push({txId: txid, value: Buffer.from(value || []), isDelete: !(value && value.length > 0)});
        history.set(key, h);
    }
}

function queryResponse(results, metadata) {
    const id = `it${nextIteratorId++}`;
    const chunks = [];
    for (let i = 0; i < results.length; i += RESULTS_PER_CHUNK) {
        chunks.push(results.slice(i, i + RESULTS_PER_CHUNK));
    }
    iterators.set(id, chunks);
    return takeChunk(id, metadata);
}

function takeChunk(id, metadata) {
    const chunks = iterators.get(id) || [];
    const chunk = chunks.shift() || [];
    const qr = new peer.QueryResponse();
    qr.setId(id);
    qr.setHasMore(chunks.length > 0);
    qr.setResultsList(chunk.map((bytes) => {
        const r = new peer.QueryResultBytes();
        r.setResultbytes(bytes);
        return r;
    }));
    if (metadata) {
        qr.setMetadata(metadata.serializeBinary());
    }
    return qr.serializeBinary();
}

function kvBytes(key, value) {
    const kv = new ledger.queryresult.KV();
    kv.setNamespace('conf');
    kv.setKey(key);
    kv.setValue(value);
    return kv.serializeBinary();
}

function serve(msg) {
    const txid = msg.getTxid();
    const p = msg.getPayload_asU8();
    switch (msg.getType()) {
        case T.GET_STATE: {
            const m = peer.GetState.deserializeBinary(p);
            return state.get(sk(m.getCollection(), m.getKey())) || Buffer.alloc(0);
        }
        case T.GET_PRIVATE_DATA_HASH: {
            const m = peer.GetState.deserializeBinary(p);
            const v = state.get(sk(m.getCollection(), m.getKey()));
            return v ? crypto.createHash('sha256').update(v).digest() : Buffer.alloc(0);
        }
        case T.PUT_STATE: {
            const m = peer.PutState.deserializeBinary(p);
            write(m.getCollection(), m.getKey(), m.getValue_asU8(), txid);
            return Buffer.alloc(0);
        }
        case T.DEL_STATE:
        case T.PURGE_PRIVATE_DATA: {
            const m = peer.DelState.deserializeBinary(p);
            write(m.getCollection(), m.getKey(), null, txid);
            return Buffer.alloc(0);
        }
        case T.GET_STATE_BY_RANGE: {
            const m = peer.GetStateByRange.deserializeBinary(p);
            const coll = m.getCollection();
            let start = m.getStartkey();
            const end = m.getEndkey();
            let pageSize = 0;
            const mdBytes = m.getMetadata_asU8();
            if (mdBytes.length > 0) {
                const qm = peer.QueryMetadata.deserializeBinary(mdBytes);
                pageSize = qm.getPagesize();
                if (qm.getBookmark()) {
                    start = qm.getBookmark();
                }
            }
            const prefix = `${coll}\u0000`;
            let keys = [...state.keys()].filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length))
                .filter((k) => k >= start && (end === '' || k < end)).sort();
            let metadata = null;
            if (mdBytes.length > 0) {
                let bookmark = '';
                if (pageSize > 0 && keys.length > pageSize) {
                    bookmark = keys[pageSize];
                    keys = keys.slice(0, pageSize);
                }
                metadata = new peer.QueryResponseMetadata();
                metadata.setFetchedRecordsCount(keys.length);
                metadata.setBookmark(bookmark);
            }
            return queryResponse(keys.map((k) => kvBytes(k, state.get(prefix + k))), metadata);
        }
        case T.QUERY_STATE_NEXT:
            return takeChunk(peer.QueryStateNext.deserializeBinary(p).getId());
        case T.QUERY_STATE_CLOSE: {
            const id = peer.QueryStateClose.deserializeBinary(p).getId();
            iterators.delete(id);
            const qr = new peer.QueryResponse();
            qr.setId(id);
            return qr.serializeBinary();
        }
        case T.GET_HISTORY_FOR_KEY: {
            const key = peer.GetHistoryForKey.deserializeBinary(p).getKey();
            const mods = (history.get(key) || []).map((h, i) => {
                const km = new ledger.queryresult.KeyModification();
                km.setTxId(h.txId);
                km.setValue(h.value);
                km.setIsDelete(h.isDelete);
                const ts = new Timestamp();
                ts.setSeconds(TX_SECONDS + i);
                km.setTimestamp(ts);
                return km.serializeBinary();
            });
            return queryResponse(mods, null);
        }
        default:
            throw new Error(`probe peer does not support ${typeName[msg.getType()]}`);
    }
}

function describeResponse(msg) {
    if (msg.getType() === T.COMPLETED) {
        const r = peer.Response.deserializeBinary(msg.getPayload_asU8());
        const payload = Buffer.from(r.getPayload_asU8());
        let shown = payload.toString('utf8');
        if (payload.length > 512) {
            shown = `<${payload.length} bytes, sha256 ${crypto.createHash('sha256').update(payload).digest('hex').slice(0, 16)}>`;
        }
        let line = `status=${r.getStatus()} payload=${JSON.stringify(shown)}`;
        if (r.getMessage()) {
            line += ` message=${JSON.stringify(r.getMessage())}`;
        }
        const ev = msg.getChaincodeEvent();
        if (ev && ev.getEventName()) {
            line += ` event=${ev.getEventName()}:${Buffer.from(ev.getPayload_asU8()).toString()}`;
        }
        return line;
    }
    return `${typeName[msg.getType()]} ${Buffer.from(msg.getPayload_asU8()).toString()}`;
}

function main() {
    const address = process.argv[2];
    const registerOnly = process.argv.includes('--register-only');
    if (!address) {
        process.stderr.write('usage: node probe.js HOST:PORT [--register-only]\n');
        process.exit(2);
    }
    const client = new peer.ChaincodeClient(address, grpc.credentials.createInsecure());
    const stream = client.connect();
    const timer = setTimeout(() => {
        process.stderr.write('probe: timed out\n');
        process.exit(1);
    }, 20000);

    let phase = 'register';
    let step = -1;
    let current = null;

    const finish = (code) => {
        clearTimeout(timer);
        stream.end();
        client.close();
        process.exitCode = code;
    };

    const sendNext = () => {
        step++;
        if (step >= STEPS.length) {
            console.log('probe: done');
            finish(0);
            return;
        }
        const spec = STEPS[step];
        const last = spec[spec.length - 1];
        const transient = typeof last === 'object' ? last : null;
        const args = transient ? spec.slice(0, -1) : spec;
        const txid = `tx${String(step).padStart(3, '0')}`;
        current = {txid, args, sent: []};
        const input = new peer.ChaincodeInput();
        input.setArgsList(args.map((a) => Buffer.from(a)));
        stream.write(chaincodeMessage(T.TRANSACTION, input.serializeBinary(), txid, signedProposal(txid, args, transient)));
    };

    stream.on('data', (msg) => {
        if (phase === 'register') {
            if (msg.getType() !== T.REGISTER) {
                console.log(`probe: expected REGISTER, got ${typeName[msg.getType()]}`);
                finish(1);
                return;
            }
            const id = peer.ChaincodeID.deserializeBinary(msg.getPayload_asU8());
            console.log(`REGISTER chaincode_id.name=${JSON.stringify(id.getName())}`);
            if (registerOnly) {
                finish(0);
                return;
            }
            phase = 'tx';
            stream.write(chaincodeMessage(T.REGISTERED));
            stream.write(chaincodeMessage(T.READY));
            sendNext();
            return;
        }
        const type = msg.getType();
        if (type === T.COMPLETED || type === T.ERROR) {
            console.log(`${current.args.map((a) => JSON.stringify(a)).join(' ')}`);
            console.log(`  sent: ${current.sent.join(' ') || '-'}`);
            console.log(`  -> ${describeResponse(msg)}`);
            sendNext();
            return;
        }
        current.sent.push(typeName[type]);
        let reply;
        try {
            reply = chaincodeMessage(T.RESPONSE, serve(msg), msg.getTxid());
        } catch (err) {
            reply = chaincodeMessage(T.ERROR, Buffer.from(err.message), msg.getTxid());
        }
        stream.write(reply);
    });
    stream.on('error', (err) => {
        if (process.exitCode === undefined) {
            console.log(`probe: stream error: ${err.message}`);
            finish(1);
        }
    });
}

main();
