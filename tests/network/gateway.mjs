// Calls the local Fabric network through Fabric's official Node gateway client.
//
//   node gateway.mjs evaluate|submit --org hospitala --user doctor1 --chaincode ehr
//                    [--endorsing-orgs A,B] [--transient KEY=VALUE]...
//                    [--seal | --seal-key-hex HEX | --seal-raw BASE64] [--args-as-given] -- FN [ARG...]
//
// Prints one JSON line: {"ok":true,"result":"<utf-8 result>","txId":"..."} or
// {"ok":false,"error":"...","details":[...]} (exit code 1); a transaction that
// commits invalid adds "txId", "code" and "codeName" (e.g. 11, MVCC_READ_CONFLICT).
// The identity is read from fabric-network/state/users/<org>/<user>/msp (or the
// org's Admin for --user Admin); the peer is the org's own peer on 127.0.0.1.
//
// Sealed responses (seal.mjs): --seal sends a fresh X25519 public key as transient
// `sealTo`, decrypts the answer (aad = the tx id) and prints
// {"ok":true,"result":"<plaintext>","sealed":{...as received},"txId":"..."};
// --seal-key-hex sends the given 32-byte public key and --seal-raw the given bytes
// as `sealTo`, without decrypting (the result is printed as received).
//
// Functions that take their parameters as transient data (the contract's
// metadata tags them TRANSIENT) are submitted as a client of the contract
// must: ARGs go into the transient map under the parameters' names, none as
// arguments, and the answer is sealed (as with --seal unless another seal
// option is given). --args-as-given sends ARGs as plain arguments instead, to
// show that the contract refuses them.
import { readFileSync, readdirSync } from 'node:fs';
import { createPrivateKey } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { connect, signers, StatusCode } from '@hyperledger/fabric-gateway';

const here = path.dirname(fileURLToPath(import.meta.url));
const net = path.resolve(here, '../../fabric-network');
const state = path.join(net, 'state');

function parse(argv) {
  const [mode, ...rest] = argv;
  if (mode !== 'evaluate' && mode !== 'submit') throw new Error('first argument must be evaluate or submit');
  const opts = { mode, org: 'hospitala', user: 'Admin', chaincode: 'ehr', channel: 'ehr', endorsingOrgs: [], transient: {}, seal: null };
  const sealWith = (kind, bytes) => {
    if (opts.seal) throw new Error('give only one of --seal, --seal-key-hex, --seal-raw');
    opts.seal = { kind, bytes };
  };
  let i = 0;
  for (; i < rest.length; i++) {
    const a = rest[i];
    if (a === '--') { i++; break; }
    if (a === '--seal') { sealWith('decrypt'); continue; }
    if (a === '--args-as-given') { opts.argsAsGiven = true; continue; }
    const v = rest[++i];
    if (v === undefined) throw new Error(`${a} needs a value`);
    if (a === '--org') opts.org = v;
    else if (a === '--user') opts.user = v;
    else if (a === '--chaincode') opts.chaincode = v;
    else if (a === '--channel') opts.channel = v;
    else if (a === '--endorsing-orgs') opts.endorsingOrgs = v.split(',');
    else if (a === '--transient') {
      const eq = v.indexOf('=');
      if (eq < 1) throw new Error(`--transient needs KEY=VALUE, got ${v}`);
      opts.transient[v.slice(0, eq)] = Buffer.from(v.slice(eq + 1), 'utf8');
    }
    else if (a === '--seal-key-hex') {
      if (!/^[0-9a-fA-F]{64}$/.test(v)) throw new Error(`--seal-key-hex needs 64 hex characters (a 32-byte X25519 public key), got ${v}`);
      sealWith('key', Buffer.from(v, 'hex'));
    }
    else if (a === '--seal-raw') {
      if (v.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) throw new Error(`--seal-raw needs standard base64, got ${v}`);
      sealWith('raw', Buffer.from(v, 'base64'));
    }
    else throw new Error(`unknown option ${a}`);
  }
  opts.args = rest.slice(i);
  if (opts.args.length === 0) throw new Error('no function given after --');
  if (opts.seal && 'sealTo' in opts.transient) throw new Error('--transient sealTo=... cannot be combined with a --seal option');
  return opts;
}

// The network describes itself in state/network.json (written by network.sh up
// from fabric-network/topology.toml): each organisation's MSP id, gateway peer
// and TLS root.
function profile() {
  return JSON.parse(readFileSync(path.join(state, 'network.json'), 'utf8')).organisations;
}

function identity(org, user) {
  const domain = `${org}.ehr`;
  const msp = user === 'Admin'
    ? path.join(state, 'crypto/peerOrganizations', domain, 'users', `Admin@${domain}`, 'msp')
    : path.join(state, 'users', org, user, 'msp');
  const certDir = path.join(msp, 'signcerts');
  const keyDir = path.join(msp, 'keystore');
  const credentials = readFileSync(path.join(certDir, readdirSync(certDir)[0]));
  const key = createPrivateKey(readFileSync(path.join(keyDir, readdirSync(keyDir)[0])));
  return { identity: { mspId: profile()[org].mspId, credentials }, signer: signers.newPrivateKeySigner(key) };
}

// TxValidationCode number -> name, from the protos fabric-gateway ships.
const codeNames = Object.fromEntries(Object.entries(StatusCode).map(([name, code]) => [code, name]));

// Adds fields to the failure JSON (see the catch at the bottom).
function failure(message, fields) {
  return Object.assign(new Error(message), { fields });
}

// The parameter names of a function that takes them as transient data, from
// the contract metadata; null for a function that takes arguments, and for a
// chaincode without contract metadata (the conformance chaincode).
async function transientParameters(contract, fn) {
  let md;
  try {
    md = JSON.parse(Buffer.from(await contract.evaluateTransaction('org.hyperledger.fabric:GetMetadata')).toString('utf8'));
  } catch (err) {
    if (String(err.details?.[0]?.message ?? err.message).includes('unknown function')) return null;
    throw err;
  }
  const txs = Object.values(md.contracts ?? {}).flatMap((c) => c.transactions ?? []);
  const tx = txs.find((t) => t.name === fn);
  return tx && (tx.tag ?? []).includes('TRANSIENT') ? tx.parameters.map((p) => p.name) : null;
}

async function main() {
  const opts = parse(process.argv.slice(2));
  const org = profile()[opts.org];
  if (!org) throw new Error(`unknown org ${opts.org} (state/network.json names ${Object.keys(profile()).join(', ')})`);
  const tlsRoot = readFileSync(org.tlsRoot);
  const client = new grpc.Client(org.peer, grpc.credentials.createSsl(tlsRoot));
  const { identity: id, signer } = identity(opts.org, opts.user);
  const gateway = connect({ client, identity: id, signer, evaluateOptions: () => ({ deadline: Date.now() + 30000 }),
    endorseOptions: () => ({ deadline: Date.now() + 30000 }), submitOptions: () => ({ deadline: Date.now() + 30000 }),
    commitStatusOptions: () => ({ deadline: Date.now() + 60000 }) });
  try {
    const contract = gateway.getNetwork(opts.channel).getContract(opts.chaincode);
    let [fn, ...args] = opts.args;
    if (opts.mode === 'submit' && !opts.argsAsGiven) {
      const names = await transientParameters(contract, fn);
      if (names) {
        if (args.length > names.length) throw new Error(`${fn} takes ${names.length} parameter(s) (${names.join(', ')}), got ${args.length}`);
        args.forEach((v, i) => { opts.transient[names[i]] = Buffer.from(v, 'utf8'); });
        args = [];
        if (!opts.seal) opts.seal = { kind: 'decrypt' };
      }
    }
    // Loaded only when needed, so that calls without sealing do not depend on the @hpke packages.
    const seal = opts.seal?.kind === 'decrypt' ? await import('./seal.mjs') : null;
    const recipient = seal ? await seal.newRecipient() : null;
    if (recipient) opts.transient.sealTo = recipient.publicKey;
    else if (opts.seal) opts.transient.sealTo = opts.seal.bytes;
    const request = { arguments: args };
    if (opts.endorsingOrgs.length) request.endorsingOrganizations = opts.endorsingOrgs;
    if (Object.keys(opts.transient).length) request.transientData = opts.transient;
    const proposal = contract.newProposal(fn, request);
    let result, txId;
    if (opts.mode === 'evaluate') {
      result = await proposal.evaluate();
      // The tx id is the aad of a sealed answer; otherwise evaluate prints none, as before.
      if (opts.seal) txId = proposal.getTransactionId();
    } else {
      txId = proposal.getTransactionId();
      const tx = await proposal.endorse();
      const commit = await tx.submit();
      result = tx.getResult();
      const status = await commit.getStatus();
      if (!status.successful) {
        const codeName = codeNames[status.code] ?? `UNKNOWN_${status.code}`;
        throw failure(`transaction ${txId} failed to commit with status ${status.code} (${codeName})`, { txId, code: status.code, codeName });
      }
    }
    if (recipient) {
      let opened;
      try { opened = await seal.openSealed(result, recipient.keyPair, txId); }
      catch (err) { throw failure(err.message, { txId, result: Buffer.from(result).toString('utf8') }); }
      console.log(JSON.stringify({ ok: true, result: opened.plaintext.toString('utf8'), sealed: opened.sealed, txId }));
    } else {
      console.log(JSON.stringify({ ok: true, result: Buffer.from(result).toString('utf8'), txId }));
    }
  } finally {
    gateway.close();
    client.close();
  }
}

main().catch((err) => {
  const details = (err.details ?? []).map((d) => ({ address: d.address, mspId: d.mspId, message: d.message }));
  console.log(JSON.stringify({ ok: false, error: String(err.message ?? err), details, ...err.fields }));
  process.exit(1);
});
