/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Reference chaincode for shim conformance tests, written against the
 * official Node shim (fabric-shim 2.5.8, low-level ChaincodeInterface).
 *
 * It runs as a chaincode-as-a-service gRPC server: the peer (or the Rust peer
 * simulator) dials CHAINCODE_SERVER_ADDRESS and calls protos.Chaincode/Connect.
 *
 * The Go twin in ../go/main.go implements the same functions and must return
 * byte-identical payloads; see ../README.md for the function table.
 */
'use strict';

// The shim logs every transaction at INFO by default; that skews benchmarks.
// Keep it quiet unless the caller asks for more.
if (!process.env.CORE_CHAINCODE_LOGGING_LEVEL) {
    process.env.CORE_CHAINCODE_LOGGING_LEVEL = 'WARNING';
}

const shim = require('fabric-shim');

const BENCH_WRITE = Buffer.alloc(1024, 'x');
const BENCH_RESULT = Buffer.alloc(1024, 'y');

// Thrown for argument problems detected by this chaincode itself; the message
// text is shared with the Go implementation.
class UsageError extends Error {}

function expectArgs(fn, params, n) {
    if (params.length !== n) {
        throw new UsageError(`incorrect number of arguments for ${fn}: expected ${n}, got ${params.length}`);
    }
}

function expectAtLeast(fn, params, n) {
    if (params.length < n) {
        throw new UsageError(`incorrect number of arguments for ${fn}: expected at least ${n}, got ${params.length}`);
    }
}

function parsePageSize(text) {
    if (!/^-?[0-9]+$/.test(text)) {
        throw new UsageError(`invalid pageSize ${text}`);
    }
    const n = Number(text);
    if (!Number.isSafeInteger(n) || n < -2147483648 || n > 2147483647) {
        throw new UsageError(`invalid pageSize ${text}`);
    }
    return n;
}

// JSON.stringify of a plain object, as bytes.
function json(obj) {
    return Buffer.from(JSON.stringify(obj), 'utf8');
}

// Bytes -> UTF-8 string, or null when absent/empty.
function nullableText(buf) {
    if (!buf || buf.length === 0) {
        return null;
    }
    return Buffer.from(buf).toString('utf8');
}

function text(buf) {
    return buf ? Buffer.from(buf).toString('utf8') : '';
}

// Drain a state iterator explicitly (next until done, then a single close),
// so the message sequence matches the Go shim's HasNext/Next/Close.
async function drainKV(iterator) {
    const out = [];
    try {
        for (;;) {
            const res = await iterator.next();
            if (res.done) {
                break;
            }
            out.push(res.value);
        }
    } finally {
        await iterator.close();
    }
    return out;
}

function requireProposal(stub) {
    if (!stub.getSignedProposal()) {
        throw new UsageError('signed proposal is required');
    }
}

const OK = json({ok: true});

const handlers = {
    async put(stub, p, raw) {
        expectArgs('put', p, 2);
        await stub.putState(p[0], raw[1]);
        return OK;
    },

    async get(stub, p) {
        expectArgs('get', p, 1);
        const value = await stub.getState(p[0]);
        return json({value: nullableText(value)});
    },

    async del(stub, p) {
        expectArgs('del', p, 1);
        await stub.deleteState(p[0]);
        return OK;
    },

    // fabric-shim 2.5.8 has no getMultipleStates: one GET_STATE per key, in order.
    async getMultiple(stub, p) {
        const values = [];
        for (const key of p) {
            values.push(nullableText(await stub.getState(key)));
        }
        return json({values});
    },

    async range(stub, p) {
        expectArgs('range', p, 2);
        const iterator = await stub.getStateByRange(p[0], p[1]);
        const kvs = await drainKV(iterator);
        return json({results: kvs.map((kv) => ({key: kv.key, value: text(kv.value)}))});
    },

    async rangePage(stub, p) {
        expectArgs('rangePage', p, 4);
        const pageSize = parsePageSize(p[2]);
        const {iterator, metadata} = await stub.getStateByRangeWithPagination(p[0], p[1], pageSize, p[3]);
        const kvs = await drainKV(iterator);
        return json({
            results: kvs.map((kv) => ({key: kv.key, value: text(kv.value)})),
            fetchedRecordsCount: metadata ? metadata.fetchedRecordsCount : 0,
            bookmark: metadata ? metadata.bookmark : '',
        });
    },

    async composite(stub, p) {
        expectAtLeast('composite', p, 1);
        const key = stub.createCompositeKey(p[0], p.slice(1));
        await stub.putState(key, Buffer.from('c'));
        return OK;
    },

    async partial(stub, p) {
        expectAtLeast('partial', p, 1);
        const iterator = await stub.getStateByPartialCompositeKey(p[0], p.slice(1));
        const kvs = await drainKV(iterator);
        const results = kvs.map((kv) => {
            const parts = stub.splitCompositeKey(kv.key);
            return {objectType: parts.objectType, attributes: parts.attributes, value: text(kv.value)};
        });
        return json({results});
    },

    async history(stub, p) {
        expectArgs('history', p, 1);
        const iterator = await stub.getHistoryForKey(p[0]);
        const mods = await drainKV(iterator);
        const history = mods.map((m) => ({
            txId: m.txId,
            value: text(m.value),
            isDelete: m.isDelete,
            seconds: Number(m.timestamp && m.timestamp.seconds ? m.timestamp.seconds : 0),
        }));
        return json({history});
    },

    async putPrivate(stub, p) {
        expectArgs('putPrivate', p, 2);
        const transient = stub.getTransient() || new Map();
        const value = transient.get('value');
        // Empty counts as missing: fabric-shim refuses empty private values
        // itself, the Go shim would send them, so both reject up front.
        if (!value || value.length === 0) {
            throw new UsageError('transient field "value" is required');
        }
        await stub.putPrivateData(p[0], p[1], value);
        return OK;
    },

    async getPrivate(stub, p) {
        expectArgs('getPrivate', p, 2);
        const value = await stub.getPrivateData(p[0], p[1]);
        return json({value: nullableText(value)});
    },

    async privateHash(stub, p) {
        expectArgs('privateHash', p, 2);
        const hash = await stub.getPrivateDataHash(p[0], p[1]);
        return json({hash: hash && hash.length > 0 ? Buffer.from(hash).toString('hex') : null});
    },

    async delPrivate(stub, p) {
        expectArgs('delPrivate', p, 2);
        await stub.deletePrivateData(p[0], p[1]);
        return OK;
    },

    async purgePrivate(stub, p) {
        expectArgs('purgePrivate', p, 2);
        await stub.purgePrivateData(p[0], p[1]);
        return OK;
    },

    async privateRange(stub, p) {
        expectArgs('privateRange', p, 3);
        const result = await stub.getPrivateDataByRange(p[0], p[1], p[2]);
        const iterator = result.iterator ? result.iterator : result;
        const kvs = await drainKV(iterator);
        return json({results: kvs.map((kv) => ({key: kv.key, value: text(kv.value)}))});
    },

    async event(stub, p, raw) {
        expectArgs('event', p, 2);
        stub.setEvent(p[0], raw[1]);
        return OK;
    },

    async txinfo(stub, p) {
        expectArgs('txinfo', p, 0);
        requireProposal(stub);
        const ts = stub.getTxTimestamp();
        return json({
            txId: stub.getTxID(),
            channelId: stub.getChannelID(),
            seconds: ts.seconds.toNumber(),
            nanos: ts.nanos,
        });
    },

    async creator(stub, p) {
        expectArgs('creator', p, 0);
        requireProposal(stub);
        const c = stub.getCreator();
        return json({mspid: c.mspid, cert: text(c.idBytes)});
    },

    async transient(stub, p) {
        expectArgs('transient', p, 1);
        const transient = stub.getTransient() || new Map();
        return json({value: nullableText(transient.get(p[0]))});
    },

    async bench(stub, p) {
        expectArgs('bench', p, 1);
        await stub.getState(p[0]);
        await stub.putState(p[0], BENCH_WRITE);
        return BENCH_RESULT;
    },
};

class ConformanceChaincode {
    async Init() {
        return shim.success();
    }

    async Invoke(stub) {
        const {fcn, params} = stub.getFunctionAndParameters();
        // Raw argument bytes (index 0 = first parameter) for values that are
        // stored or emitted verbatim.
        const raw = stub.getBufferArgs().slice(1);
        if (fcn === 'fail') {
            if (params.length !== 1) {
                return shim.error(`incorrect number of arguments for fail: expected 1, got ${params.length}`);
            }
            return shim.error(params[0]);
        }
        const handler = Object.prototype.hasOwnProperty.call(handlers, fcn) ? handlers[fcn] : undefined;
        if (!handler) {
            return shim.error(`unknown function ${fcn}`);
        }
        try {
            return shim.success(await handler(stub, params, raw));
        } catch (err) {
            return shim.error(err && err.message !== undefined ? err.message : String(err));
        }
    }
}

function main() {
    // Everything this process prints is diagnostics: route stdout (which
    // winston's console transport uses for non-error levels) to stderr.
    process.stdout.write = process.stderr.write.bind(process.stderr);

    const ccid = process.env.CHAINCODE_ID;
    const address = process.env.CHAINCODE_SERVER_ADDRESS;
    if (!ccid || !address) {
        process.stderr.write('conformance-node-chaincode: CHAINCODE_ID and CHAINCODE_SERVER_ADDRESS must be set\n');
        process.exit(2);
    }
    const server = shim.server(new ConformanceChaincode(), {ccid, address});
    server.start().then(
        () => process.stderr.write(`conformance-node-chaincode: serving ${ccid} on ${address} (plaintext)\n`),
        (err) => {
            process.stderr.write(`conformance-node-chaincode: failed to start on ${address}: ${err && err.stack ? err.stack : err}\n`);
            process.exit(1);
        },
    );
}

if (require.main === module) {
    main();
}

module.exports = {ConformanceChaincode};
