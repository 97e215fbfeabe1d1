// The Node side of gateway-bench (tests/src/bin/gateway-bench.rs): the same
// AddRecord transactions, through Fabric's official Node gateway client.
//
//   node bench.mjs --endpoint 127.0.0.1:7051 --tls-root PEM --msp-id HospitalAMSP --cert PEM --key PEM
//                  --concurrency C --count N [--warmup W] [--run-id ID] [--channel ehr] [--chaincode ehr]
//
// Registers C patients (BENCH-node-<run-id>-c<C>-w<i>, not timed), runs W
// warm-up transactions, then N measured ones spread over C workers, one
// patient each; a worker starts its next transaction when the previous one
// has committed. Each transaction is proposal.endorse(), transaction.submit(),
// commit.getStatus(). Prints one JSON line:
//   {"ok":true,"completed":..,"errors":..,"conflicts":..,"firstError":..,"elapsedMs":..,
//    "latenciesMs":[..],"phasesMs":{"endorse":..,"submit":..,"commit":..},"cpuUs":..,
//    "machineBusyTicks":..,"machineTotalTicks":..}
// or {"ok":false,"error":"..."} with exit code 1. cpuUs is process.cpuUsage()
// (user + system, all threads) over the measured part only; the machine ticks
// come from /proc/stat over the same span.
import { readFileSync } from 'node:fs';
import { createPrivateKey, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import { connect, signers } from '@hyperledger/fabric-gateway';

// Byte for byte what the Rust side sends.
const RECORD = Buffer.from('{"body":{"kind":"diagnosis","icd10":"K35.80","text":"bench"},"attachments":[]}');
const PATIENT = Buffer.from('{"name":"Bench Patient","birthDate":"1980-01-01","sex":"unknown"}');
const NETWORK_HINT = 'is the local network running? start it with fabric-network/network.sh up';
// TxValidationCode MVCC_READ_CONFLICT and PHANTOM_READ_CONFLICT.
const CONFLICT_CODES = new Set([11, 12]);

function parse(argv) {
  const opts = { channel: 'ehr', chaincode: 'ehr', mspId: 'HospitalAMSP', warmup: 0, runId: String(Date.now()) };
  const numbers = new Set(['concurrency', 'count', 'warmup']);
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (!flag.startsWith('--') || value === undefined) throw new Error(`bad argument ${flag}: flags take one value each`);
    const name = flag.slice(2).replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    opts[name] = numbers.has(name) ? Number(value) : value;
  }
  for (const name of ['endpoint', 'tlsRoot', 'cert', 'key', 'concurrency', 'count']) {
    if (opts[name] === undefined) throw new Error(`--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} is required`);
  }
  if (!(opts.concurrency >= 1 && opts.count >= 1 && opts.warmup >= 0)) throw new Error('concurrency and count must be positive');
  return opts;
}

// [busy, total] ticks of the whole machine, from the first line of /proc/stat.
function machineTicks() {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = fields;
  const busy = user + nice + system + irq + softirq + steal;
  return [busy, busy + idle + iowait];
}

function waitForReady(client, endpoint) {
  return new Promise((resolve, reject) => {
    client.waitForReady(Date.now() + 10000, (err) => {
      if (err) reject(new Error(`cannot reach the Fabric gateway at ${endpoint} (${err.message}): ${NETWORK_HINT}`));
      else resolve();
    });
  });
}

function describe(err) {
  const details = (err.details ?? []).map((d) => ` [${d.mspId ?? '?'} ${d.address ?? '?'}: ${d.message}]`).join('');
  return `${err.message ?? err}${details}`;
}

// A fixed X25519 public key (the base point) for the sealed answers, which the bench does not read.
const SEAL_TO = Buffer.concat([Buffer.from([9]), Buffer.alloc(31)]);

async function submit(contract, fn, patient, transient) {
  const t0 = performance.now();
  // The contract takes the patient id only as transient data, never as an argument.
  const proposal = contract.newProposal(fn, {
    transientData: {
      ...transient,
      patientId: Buffer.from(patient),
      sealTo: SEAL_TO,
      salt: Buffer.from(randomBytes(32).toString('hex')),
    },
  });
  const transaction = await proposal.endorse();
  const t1 = performance.now();
  const commit = await transaction.submit();
  const t2 = performance.now();
  const status = await commit.getStatus();
  const t3 = performance.now();
  if (!status.successful) {
    const err = new Error(`transaction ${status.transactionId} was not committed: validation code ${status.code}`);
    err.code = status.code;
    throw err;
  }
  return { endorse: t1 - t0, submit: t2 - t1, commit: t3 - t2 };
}

// Runs `count` AddRecord transactions over one worker per patient.
async function runWorkers(contract, patients, count) {
  let next = 0;
  const out = { samples: [], errors: 0, conflicts: 0, firstError: null };
  await Promise.all(patients.map(async (patient) => {
    while (next < count) {
      next += 1;
      try {
        out.samples.push(await submit(contract, 'AddRecord', patient, { record: RECORD }));
      } catch (err) {
        out.errors += 1;
        if (CONFLICT_CODES.has(err.code)) out.conflicts += 1;
        out.firstError ??= describe(err);
      }
    }
  }));
  return out;
}

async function main() {
  const opts = parse(process.argv.slice(2));
  const tlsRoot = readFileSync(opts.tlsRoot);
  const credentials = readFileSync(opts.cert);
  const signer = signers.newPrivateKeySigner(createPrivateKey(readFileSync(opts.key)));
  const client = new grpc.Client(opts.endpoint, grpc.credentials.createSsl(tlsRoot));
  // The same time limits as the Rust client's defaults.
  const gateway = connect({
    client,
    identity: { mspId: opts.mspId, credentials },
    signer,
    endorseOptions: () => ({ deadline: Date.now() + 30000 }),
    submitOptions: () => ({ deadline: Date.now() + 30000 }),
    commitStatusOptions: () => ({ deadline: Date.now() + 60000 }),
  });
  try {
    await waitForReady(client, opts.endpoint);
    const contract = gateway.getNetwork(opts.channel).getContract(opts.chaincode);
    const patients = Array.from({ length: opts.concurrency }, (_, i) => `BENCH-node-${opts.runId}-c${opts.concurrency}-w${i}`);
    await Promise.all(patients.map(async (p) => {
      try {
        await submit(contract, 'RegisterPatient', p, { patient: PATIENT, fileKey: Buffer.from(randomBytes(32).toString('hex')) });
      } catch (err) {
        throw new Error(`registering patient ${p}: ${describe(err)}`);
      }
    }));
    if (opts.warmup > 0) {
      const warm = await runWorkers(contract, patients, opts.warmup);
      if (warm.errors > 0) console.error(`bench.mjs: ${warm.errors} warm-up transactions failed, first: ${warm.firstError}`);
    }
    const machine0 = machineTicks();
    const cpu0 = process.cpuUsage();
    const started = performance.now();
    const run = await runWorkers(contract, patients, opts.count);
    const elapsedMs = performance.now() - started;
    const cpu = process.cpuUsage(cpu0);
    const machine1 = machineTicks();
    const mean = (key) => (run.samples.length ? run.samples.reduce((s, x) => s + x[key], 0) / run.samples.length : 0);
    console.log(JSON.stringify({
      ok: true,
      completed: run.samples.length,
      errors: run.errors,
      conflicts: run.conflicts,
      firstError: run.firstError,
      elapsedMs,
      latenciesMs: run.samples.map((x) => x.endorse + x.submit + x.commit),
      phasesMs: { endorse: mean('endorse'), submit: mean('submit'), commit: mean('commit') },
      cpuUs: cpu.user + cpu.system,
      machineBusyTicks: machine1[0] - machine0[0],
      machineTotalTicks: machine1[1] - machine0[1],
    }));
  } finally {
    gateway.close();
    client.close();
  }
}

main().catch((err) => {
  console.log(JSON.stringify({ ok: false, error: describe(err) }));
  process.exit(1);
});
