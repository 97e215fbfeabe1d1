//! Our Rust Fabric Gateway client (`fabric-gateway-client`) against Fabric's official
//! Node client (`@hyperledger/fabric-gateway` 1.12.1) on the running local
//! network: throughput, latency and client CPU per transaction, side by side.
//!
//! Every transaction is `AddRecord` (patient id in transient data) as doctor1 of HospitalAMSP
//! through the HospitalA peer's gateway, with the same transient data on both
//! sides (`record` = a diagnosis, `salt` = 64 random hex characters): build
//! and sign the proposal, endorse (the gateway picks HospitalA and HospitalB,
//! the members of the private collection), submit to the orderers, wait for
//! the commit status. The Rust side uses `contract.call(..).build()` and the
//! steps that `CallBuilder::submit` is made of; the Node side uses
//! `newProposal`, `endorse`, `submit`, `getStatus`.
//!
//! At each concurrency level C, N transactions are spread over C workers;
//! each worker has its own patient (registered first, not timed), so no two
//! transactions in flight touch the same keys, and submits its next
//! transaction once the previous one has committed. W warm-up transactions
//! (default 50) run before each measured level: the Node process is new at
//! each level and V8 needs some to compile the signing code, so fewer
//! overstate Node's CPU. Measured per side and level:
//! - throughput: committed transactions / the level's wall time;
//! - latency p50/p99: from building the proposal to the commit status;
//! - client CPU per transaction (user + system of every thread of the client
//!   process, divided by N; signing, protobuf, TLS and HTTP/2 included):
//!   for Rust, the on-CPU nanoseconds of each thread
//!   (`/proc/self/task/*/schedstat`), because `/proc/self/stat` counts 10 ms
//!   clock ticks, too coarse for a few hundred transactions (its figure is
//!   printed alongside as a cross-check); for Node, `process.cpuUsage()` (µs);
//! - the whole machine's busy CPU per transaction (`/proc/stat`): peers,
//!   orderers, chaincode and client together.
//!
//! The Node side is `node tests/network/bench.mjs`, a fresh process per level
//! that prints one JSON line. Levels alternate between the sides (rust C=1,
//! node C=1, rust C=4, ...) so that the ledger's growth affects both alike.
//! Every run adds patients and records to the ledger.
//!
//! ```text
//! cargo run --release -p ehr-tests --bin gateway-bench -- --concurrency 1,4,16 --count 200
//!     [--warmup W] [--side rust|node|both]
//! ```
//! Needs the network (`fabric-network/network.sh up`, with the ehr chaincode
//! deployed) and, for the Node side, `npm ci` in `tests/network`.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result, anyhow, bail};
use ehr_tests::bench::{ms, parse_list, percentile};
use fabric_gateway_client::{Contract, Gateway, GatewayError, Identity, Signer};
use serde::Deserialize;
use sha2::{Digest as _, Sha256};

const MSP_ID: &str = "HospitalAMSP";
const CHANNEL: &str = "ehr";
const CHAINCODE: &str = "ehr";
/// Byte for byte what `bench.mjs` sends.
const RECORD: &str = r#"{"body":{"kind":"diagnosis","icd10":"K35.80","text":"bench"},"attachments":[]}"#;
const PATIENT: &str = r#"{"name":"Bench Patient","birthDate":"1980-01-01","sex":"unknown"}"#;
const NETWORK_HINT: &str = "is the local network running? start it with fabric-network/network.sh up";
const NPM_HINT: &str = "run `npm ci` in tests/network first";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Rust,
    Node,
}

impl Side {
    fn name(self) -> &'static str {
        match self {
            Side::Rust => "rust",
            Side::Node => "node",
        }
    }
}

struct Options {
    levels: Vec<usize>,
    count: usize,
    warmup: usize,
    sides: Vec<Side>,
}

const USAGE: &str = "usage: gateway-bench [--concurrency 1,4,16] [--count N] [--warmup W] [--side rust|node|both]";

fn options() -> Result<Options> {
    let mut o = Options { levels: vec![1, 4, 16], count: 200, warmup: 50, sides: vec![Side::Rust, Side::Node] };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().with_context(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--concurrency" => o.levels = parse_list(&value("--concurrency")?, "concurrency")?,
            "--count" => o.count = value("--count")?.parse().context("--count")?,
            "--warmup" => o.warmup = value("--warmup")?.parse().context("--warmup")?,
            "--side" => {
                o.sides = match value("--side")?.as_str() {
                    "rust" => vec![Side::Rust],
                    "node" => vec![Side::Node],
                    "both" => vec![Side::Rust, Side::Node],
                    other => bail!("unknown side {other:?}: use rust, node or both"),
                }
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => bail!("unknown argument {other:?}\n{USAGE}"),
        }
    }
    if o.levels.is_empty() || o.levels.contains(&0) || o.count == 0 {
        bail!("concurrency levels must be positive and --count non-zero");
    }
    Ok(o)
}

/// Where the HospitalA gateway is and who doctor1 is, resolved once and
/// handed to both sides.
struct Target {
    repo: PathBuf,
    endpoint: String,
    tls_root: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

impl Target {
    fn local() -> Result<Self> {
        let repo = ehr_tests::repo_root();
        let state = repo.join("fabric-network/state");
        // The network says where its gateways are (network.json, written by `network.sh up`).
        let profile = ehr_client::config::read_profile(&state).context(NETWORK_HINT)?;
        let org = profile.organisations.get("hospitala").context("network.json names no organisation hospitala")?;
        let msp = state.join("users/hospitala/doctor1/msp");
        let target = Target {
            endpoint: org.peer.clone(),
            tls_root: org.tls_root.clone(),
            cert: msp.join("signcerts/cert.pem"),
            key: msp.join("keystore/key.pem"),
            repo,
        };
        for file in [&target.tls_root, &target.cert, &target.key] {
            if !file.is_file() {
                bail!("{} does not exist: {NETWORK_HINT}", file.display());
            }
        }
        Ok(target)
    }

    async fn connect(&self) -> Result<Contract> {
        let root = std::fs::read(&self.tls_root).with_context(|| format!("reading {}", self.tls_root.display()))?;
        let gateway = Gateway::builder(self.endpoint.as_str())
            .tls_root(root)
            .identity(Identity::from_file(MSP_ID, &self.cert)?)
            .signer(Signer::from_file(&self.key)?)
            .connect()
            .await
            .map_err(|e| match e {
                GatewayError::Connect { .. } => anyhow!("{e}\n{NETWORK_HINT}"),
                other => other.into(),
            })?;
        Ok(gateway.network(CHANNEL).contract(CHAINCODE))
    }
}

/// 64 hex characters per call: SHA-256 of a random seed (from the OS, read
/// once) and a counter, so that a salt costs one hash and no system call.
struct Salts {
    seed: [u8; 32],
    counter: AtomicU64,
}

impl Salts {
    fn new() -> Result<Self> {
        let mut seed = [0u8; 32];
        std::fs::File::open("/dev/urandom")
            .and_then(|mut f| f.read_exact(&mut seed))
            .context("reading a seed from /dev/urandom")?;
        Ok(Self { seed, counter: AtomicU64::new(0) })
    }

    fn next(&self) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        hex::encode(Sha256::new().chain_update(self.seed).chain_update(n.to_le_bytes()).finalize())
    }
}

/// Time spent in each step of one transaction.
#[derive(Debug, Default, Clone, Copy)]
struct Phases {
    /// Build and sign the proposal, collect the endorsements.
    endorse: Duration,
    /// Sign the transaction, hand it to the orderers.
    submit: Duration,
    /// Wait for the block and the commit status.
    commit: Duration,
}

impl Phases {
    fn total(&self) -> Duration {
        self.endorse + self.submit + self.commit
    }
}

/// One full submit: the steps of `CallBuilder::submit`, timed one by one.
async fn submit(
    contract: &Contract,
    function: &str,
    patient: &str,
    transient: &[(&str, &str)],
    salt: String,
) -> fabric_gateway_client::Result<Phases> {
    let t0 = Instant::now();
    // The patient id goes as transient data (the contract takes it only there),
    // with a one-time key for the sealed answer (never opened here).
    let mut call = contract
        .call(function)
        .transient("patientId", patient)
        .transient("sealTo", SEAL_TO.to_vec())
        .transient("salt", salt);
    for (key, value) in transient {
        call = call.transient(*key, *value);
    }
    let proposal = call.build()?;
    let transaction = proposal.endorse().await?;
    let t1 = Instant::now();
    let submitted = transaction.submit().await?;
    let t2 = Instant::now();
    submitted.commit().status().await?.ensure_committed()?;
    let t3 = Instant::now();
    Ok(Phases { endorse: t1 - t0, submit: t2 - t1, commit: t3 - t2 })
}

/// What a set of workers did.
#[derive(Default)]
struct Outcome {
    samples: Vec<Phases>,
    errors: usize,
    conflicts: usize,
    first_error: Option<String>,
}

impl Outcome {
    fn merge(&mut self, other: Outcome) {
        self.samples.extend(other.samples);
        self.errors += other.errors;
        self.conflicts += other.conflicts;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }
}

/// A fixed X25519 public key (the base point) for the answers, which the bench does not read.
const SEAL_TO: [u8; 32] = {
    let mut k = [0u8; 32];
    k[0] = 9;
    k
};

/// Runs `count` AddRecord transactions with one worker per patient.
async fn run_workers(contract: &Contract, patients: &[String], count: usize, salts: &Arc<Salts>) -> Outcome {
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::with_capacity(patients.len());
    for patient in patients {
        let (contract, patient, next, salts) = (contract.clone(), patient.clone(), next.clone(), salts.clone());
        workers.push(tokio::spawn(async move {
            let mut out = Outcome::default();
            while next.fetch_add(1, Ordering::Relaxed) < count {
                match submit(&contract, "AddRecord", &patient, &[("record", RECORD)], salts.next()).await {
                    Ok(phases) => out.samples.push(phases),
                    Err(e) => {
                        out.errors += 1;
                        if e.is_read_conflict() {
                            out.conflicts += 1;
                        }
                        out.first_error.get_or_insert_with(|| e.to_string());
                    }
                }
            }
            out
        }));
    }
    let mut all = Outcome::default();
    for worker in workers {
        match worker.await {
            Ok(out) => all.merge(out),
            Err(e) => {
                all.merge(Outcome { errors: 1, first_error: Some(format!("worker died: {e}")), ..Outcome::default() })
            }
        }
    }
    all
}

/// CPU time used so far by all threads of this process: fields 14 (utime)
/// and 15 (stime) of `/proc/self/stat`, in clock ticks.
fn process_ticks() -> Result<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").context("reading /proc/self/stat")?;
    // The command name (field 2) may hold spaces; count fields after its ')'.
    let rest = stat.rsplit_once(')').map(|(_, rest)| rest).context("unexpected /proc/self/stat")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| -> Result<u64> {
        fields.get(n - 3).and_then(|f| f.parse().ok()).with_context(|| format!("no field {n} in /proc/self/stat"))
    };
    Ok(field(14)? + field(15)?)
}

/// On-CPU nanoseconds of each live thread of this process, by thread id
/// (`/proc/self/task/<tid>/schedstat`, first field).
fn thread_cpu() -> Result<HashMap<u64, u64>> {
    let mut threads = HashMap::new();
    for entry in std::fs::read_dir("/proc/self/task").context("listing /proc/self/task")? {
        let entry = entry.context("listing /proc/self/task")?;
        let Some(tid) = entry.file_name().to_str().and_then(|s| s.parse().ok()) else { continue };
        // A thread may end between the listing and the read.
        let Ok(text) = std::fs::read_to_string(entry.path().join("schedstat")) else { continue };
        if let Some(ns) = text.split_whitespace().next().and_then(|f| f.parse().ok()) {
            threads.insert(tid, ns);
        }
    }
    if threads.is_empty() {
        bail!("/proc/self/task/*/schedstat gave no thread times");
    }
    Ok(threads)
}

/// CPU time between two [`thread_cpu`] snapshots. Per thread, so that a
/// thread that ends in between (an idle blocking-pool thread) takes only its
/// time in the window with it, not its whole life.
fn cpu_between(before: &HashMap<u64, u64>, after: &HashMap<u64, u64>) -> Duration {
    Duration::from_nanos(after.iter().map(|(tid, ns)| ns.saturating_sub(before.get(tid).copied().unwrap_or(0))).sum())
}

/// Busy and total clock ticks of the whole machine (first line of `/proc/stat`).
fn machine_ticks() -> Result<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").context("reading /proc/stat")?;
    let line = stat.lines().next().context("/proc/stat is empty")?;
    let v: Vec<u64> = line.split_whitespace().skip(1).take(8).filter_map(|f| f.parse().ok()).collect();
    let [user, nice, system, idle, iowait, irq, softirq, steal] = v[..] else {
        bail!("unexpected /proc/stat line {line:?}");
    };
    let busy = user + nice + system + irq + softirq + steal;
    Ok((busy, busy + idle + iowait))
}

/// `getconf CLK_TCK`, 100 when it cannot be asked.
fn clock_ticks_per_second() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .filter(|&t| t > 0)
        .unwrap_or(100)
}

/// What one side measured at one level.
struct Level {
    completed: usize,
    errors: usize,
    conflicts: usize,
    first_error: Option<String>,
    elapsed: Duration,
    /// Sorted.
    latencies: Vec<Duration>,
    /// Mean per committed transaction.
    phases: Phases,
    /// Client CPU over the measured part.
    client_cpu: Duration,
    /// The same from `/proc/self/stat` (10 ms ticks), for the Rust side.
    client_cpu_ticks: Option<Duration>,
    /// Machine busy ticks and total ticks over the measured part.
    machine: (u64, u64),
}

impl Level {
    fn tps(&self) -> f64 {
        if self.elapsed.is_zero() { 0.0 } else { self.completed as f64 / self.elapsed.as_secs_f64() }
    }

    fn percentile(&self, p: f64) -> Duration {
        percentile(&self.latencies, p)
    }
}

fn mean_phases(samples: &[Phases]) -> Phases {
    let n = u32::try_from(samples.len()).unwrap_or(u32::MAX).max(1);
    let sum = samples.iter().fold(Phases::default(), |a, s| Phases {
        endorse: a.endorse + s.endorse,
        submit: a.submit + s.submit,
        commit: a.commit + s.commit,
    });
    Phases { endorse: sum.endorse / n, submit: sum.submit / n, commit: sum.commit / n }
}

fn patient_ids(side: Side, run_id: &str, concurrency: usize) -> Vec<String> {
    (0..concurrency).map(|w| format!("BENCH-{}-{run_id}-c{concurrency}-w{w}", side.name())).collect()
}

struct RustSide {
    contract: Contract,
    salts: Arc<Salts>,
    ticks_per_second: u64,
}

impl RustSide {
    async fn level(&self, run_id: &str, concurrency: usize, count: usize, warmup: usize) -> Result<Level> {
        let patients = patient_ids(Side::Rust, run_id, concurrency);
        let registrations = patients.iter().map(|p| async move {
            // A fresh random value from the same generator serves as the patient's file key.
            let file_key = self.salts.next();
            submit(
                &self.contract,
                "RegisterPatient",
                p,
                &[("patient", PATIENT), ("fileKey", &file_key)],
                self.salts.next(),
            )
            .await
            .with_context(|| format!("registering patient {p}"))
        });
        futures::future::try_join_all(registrations).await?;
        if warmup > 0 {
            let warm = run_workers(&self.contract, &patients, warmup, &self.salts).await;
            if warm.errors > 0 {
                eprintln!(
                    "gateway-bench: rust: {} warm-up transactions failed, first: {}",
                    warm.errors,
                    warm.first_error.unwrap_or_default()
                );
            }
        }
        let machine0 = machine_ticks()?;
        let ticks0 = process_ticks()?;
        let threads0 = thread_cpu()?;
        let started = Instant::now();
        let run = run_workers(&self.contract, &patients, count, &self.salts).await;
        let elapsed = started.elapsed();
        let threads1 = thread_cpu()?;
        let ticks1 = process_ticks()?;
        let machine1 = machine_ticks()?;
        let ticks = ticks1.saturating_sub(ticks0);
        let mut latencies: Vec<Duration> = run.samples.iter().map(Phases::total).collect();
        latencies.sort_unstable();
        Ok(Level {
            completed: run.samples.len(),
            errors: run.errors,
            conflicts: run.conflicts,
            first_error: run.first_error,
            elapsed,
            latencies,
            phases: mean_phases(&run.samples),
            client_cpu: cpu_between(&threads0, &threads1),
            client_cpu_ticks: Some(Duration::from_secs_f64(ticks as f64 / self.ticks_per_second as f64)),
            machine: (machine1.0.saturating_sub(machine0.0), machine1.1.saturating_sub(machine0.1)),
        })
    }
}

/// The line `bench.mjs` prints.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NodeReport {
    ok: bool,
    error: Option<String>,
    #[serde(default)]
    completed: usize,
    #[serde(default)]
    errors: usize,
    #[serde(default)]
    conflicts: usize,
    first_error: Option<String>,
    #[serde(default)]
    elapsed_ms: f64,
    #[serde(default)]
    latencies_ms: Vec<f64>,
    #[serde(default)]
    phases_ms: NodePhases,
    #[serde(default)]
    cpu_us: f64,
    #[serde(default)]
    machine_busy_ticks: u64,
    #[serde(default)]
    machine_total_ticks: u64,
}

#[derive(Deserialize, Default)]
struct NodePhases {
    endorse: f64,
    submit: f64,
    commit: f64,
}

fn from_ms(ms: f64) -> Duration {
    Duration::try_from_secs_f64(ms / 1000.0).unwrap_or_default()
}

struct NodeSide {
    script: PathBuf,
}

impl NodeSide {
    fn new(repo: &Path) -> Result<Self> {
        let dir = repo.join("tests/network");
        if !dir.join("node_modules/@hyperledger/fabric-gateway/package.json").is_file() {
            bail!("Fabric's Node client is not installed in {}: {NPM_HINT}", dir.join("node_modules").display());
        }
        Ok(Self { script: dir.join("bench.mjs") })
    }

    async fn level(
        &self,
        target: &Target,
        run_id: &str,
        concurrency: usize,
        count: usize,
        warmup: usize,
    ) -> Result<Level> {
        let mut cmd = Command::new("node");
        // grpc-js passes the IP address as the TLS server name, which Node warns about on every run.
        cmd.arg("--no-deprecation")
            .arg(&self.script)
            .args(["--endpoint", &target.endpoint, "--msp-id", MSP_ID, "--channel", CHANNEL, "--chaincode", CHAINCODE])
            .arg("--tls-root")
            .arg(&target.tls_root)
            .arg("--cert")
            .arg(&target.cert)
            .arg("--key")
            .arg(&target.key)
            .args(["--concurrency", &concurrency.to_string(), "--count", &count.to_string()])
            .args(["--warmup", &warmup.to_string(), "--run-id", run_id])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let output = tokio::task::spawn_blocking(move || cmd.output()).await.context("waiting for node")?.map_err(
            |e| match e.kind() {
                std::io::ErrorKind::NotFound => anyhow!("`node` is not on PATH: install Node.js 18 or later"),
                _ => anyhow!("starting node: {e}"),
            },
        )?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let line = stdout
            .lines()
            .rev()
            .find(|l| l.trim_start().starts_with('{'))
            .with_context(|| format!("bench.mjs printed no result ({}); its output: {stdout}", output.status))?;
        let report: NodeReport =
            serde_json::from_str(line).with_context(|| format!("bench.mjs printed something unexpected: {line}"))?;
        if !report.ok {
            bail!("{}", report.error.unwrap_or_else(|| format!("bench.mjs failed ({})", output.status)));
        }
        let mut latencies: Vec<Duration> = report.latencies_ms.iter().copied().map(from_ms).collect();
        latencies.sort_unstable();
        let p = &report.phases_ms;
        Ok(Level {
            completed: report.completed,
            errors: report.errors,
            conflicts: report.conflicts,
            first_error: report.first_error,
            elapsed: from_ms(report.elapsed_ms),
            latencies,
            phases: Phases { endorse: from_ms(p.endorse), submit: from_ms(p.submit), commit: from_ms(p.commit) },
            client_cpu: from_ms(report.cpu_us / 1000.0),
            client_cpu_ticks: None,
            machine: (report.machine_busy_ticks, report.machine_total_ticks),
        })
    }
}

/// One row of results: each side's level, or why it failed.
struct Row {
    concurrency: usize,
    rust: Option<Result<Level, String>>,
    node: Option<Result<Level, String>>,
}

fn cell(level: Option<&Result<Level, String>>, f: impl Fn(&Level) -> String) -> String {
    match level {
        None => "-".into(),
        Some(Err(_)) => "failed".into(),
        Some(Ok(l)) => f(l),
    }
}

fn table(rows: &[Row], count: usize, ticks_per_second: u64) -> String {
    let mut out = String::new();
    let tps = |l: &Level| format!("{:.1}", l.tps());
    let lat = |l: &Level| format!("{:.0} / {:.0}", ms(l.percentile(50.0)), ms(l.percentile(99.0)));
    let cpu = |l: &Level| format!("{:.0}", l.client_cpu.as_secs_f64() * 1e6 / count as f64);
    let err = |l: &Level| format!("{} ({})", l.errors, l.conflicts);
    let _ = writeln!(
        out,
        "{:>4} | {:>9} | {:>9} | {:>15} | {:>15} | {:>14} | {:>14} | {:>15} | {:>15}",
        "conc",
        "rust tx/s",
        "node tx/s",
        "rust p50/p99 ms",
        "node p50/p99 ms",
        "rust CPU µs/tx",
        "node CPU µs/tx",
        "rust err (mvcc)",
        "node err (mvcc)"
    );
    let _ = writeln!(out, "{}", "-".repeat(4 + 9 * 2 + 15 * 4 + 14 * 2 + 3 * 8));
    for r in rows {
        let _ = writeln!(
            out,
            "{:>4} | {:>9} | {:>9} | {:>15} | {:>15} | {:>14} | {:>14} | {:>15} | {:>15}",
            r.concurrency,
            cell(r.rust.as_ref(), tps),
            cell(r.node.as_ref(), tps),
            cell(r.rust.as_ref(), lat),
            cell(r.node.as_ref(), lat),
            cell(r.rust.as_ref(), cpu),
            cell(r.node.as_ref(), cpu),
            cell(r.rust.as_ref(), err),
            cell(r.node.as_ref(), err),
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "Where the time goes (mean per committed tx; machine = all processes on this machine):");
    let _ = writeln!(
        out,
        "{:<4} {:>4} | {:>10} | {:>9} | {:>14} | {:>14} | {:>17} | {:>14}",
        "side",
        "conc",
        "endorse ms",
        "submit ms",
        "commit wait ms",
        "machine busy %",
        "machine CPU ms/tx",
        "client share %"
    );
    for r in rows {
        for (side, level) in [(Side::Rust, &r.rust), (Side::Node, &r.node)] {
            let Some(level) = level else { continue };
            let Ok(l) = level else {
                let _ = writeln!(out, "{:<4} {:>4} | failed", side.name(), r.concurrency);
                continue;
            };
            let (busy, total) = l.machine;
            let busy_pct = if total == 0 { 0.0 } else { 100.0 * busy as f64 / total as f64 };
            let machine_cpu = busy as f64 / ticks_per_second as f64;
            let client_share = if machine_cpu > 0.0 { 100.0 * l.client_cpu.as_secs_f64() / machine_cpu } else { 0.0 };
            let _ = writeln!(
                out,
                "{:<4} {:>4} | {:>10.1} | {:>9.1} | {:>14.1} | {:>14.0} | {:>17.1} | {:>14.1}",
                side.name(),
                r.concurrency,
                ms(l.phases.endorse),
                ms(l.phases.submit),
                ms(l.phases.commit),
                busy_pct,
                machine_cpu * 1000.0 / count as f64,
                client_share,
            );
        }
    }
    out
}

fn progress(side: Side, concurrency: usize, level: &Result<Level, String>) {
    match level {
        Ok(l) => eprintln!(
            "gateway-bench: {} c={concurrency}: {} ok, {} errors ({} mvcc) in {:.1} s = {:.1} tx/s, p50 {:.0} ms, \
             client CPU {:.0} ms{}{}",
            side.name(),
            l.completed,
            l.errors,
            l.conflicts,
            l.elapsed.as_secs_f64(),
            l.tps(),
            ms(l.percentile(50.0)),
            ms(l.client_cpu),
            l.client_cpu_ticks.map(|t| format!(" (/proc/self/stat: {:.0} ms)", ms(t))).unwrap_or_default(),
            l.first_error.as_deref().map(|e| format!("; first error: {e}")).unwrap_or_default()
        ),
        Err(e) => eprintln!("gateway-bench: {} c={concurrency} failed: {e}", side.name()),
    }
}

/// The orderers' batch timeout as configured, for the header.
fn batch_timeout(repo: &Path) -> Option<String> {
    let text = std::fs::read_to_string(repo.join("fabric-network/state/configtx.yaml")).ok()?;
    text.lines().find_map(|l| l.trim().strip_prefix("BatchTimeout:")).map(|v| v.trim().to_owned())
}

async fn run() -> Result<()> {
    let o = options()?;
    let target = Target::local()?;
    let ticks_per_second = clock_ticks_per_second();
    let run_id = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or_default().to_string();
    let rust = if o.sides.contains(&Side::Rust) {
        let contract = target.connect().await?;
        Some(RustSide { contract, salts: Arc::new(Salts::new()?), ticks_per_second })
    } else {
        None
    };
    let node = if o.sides.contains(&Side::Node) { Some(NodeSide::new(&target.repo)?) } else { None };

    print!("{}", header(&o, &target));

    let mut rows = Vec::new();
    for &concurrency in &o.levels {
        let mut row = Row { concurrency, rust: None, node: None };
        if let Some(side) = &rust {
            let level = side.level(&run_id, concurrency, o.count, o.warmup).await.map_err(|e| format!("{e:#}"));
            progress(Side::Rust, concurrency, &level);
            row.rust = Some(level);
        }
        if let Some(side) = &node {
            let level =
                side.level(&target, &run_id, concurrency, o.count, o.warmup).await.map_err(|e| format!("{e:#}"));
            progress(Side::Node, concurrency, &level);
            row.node = Some(level);
        }
        rows.push(row);
    }
    println!();
    print!("{}", table(&rows, o.count, ticks_per_second));

    let failures = failures(&rows);
    if !failures.is_empty() {
        bail!("some levels failed:\n  {}", failures.join("\n  "));
    }
    Ok(())
}

/// What was measured, how, and on what machine: printed before the figures.
fn header(o: &Options, target: &Target) -> String {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let profile = if cfg!(debug_assertions) { "DEBUG build: numbers are not meaningful" } else { "release build" };
    let mut header = String::new();
    let _ = writeln!(
        header,
        "# gateway-bench: AddRecord (diagnosis + salt as transient data) as doctor1@{MSP_ID} via the gateway at {}",
        target.endpoint
    );
    let _ = writeln!(
        header,
        "# each tx = endorse (HospitalA + HospitalB) + submit + commit status; {} measured tx per level after {} \
         warm-up tx; one patient per worker; {profile}",
        o.count, o.warmup
    );
    let _ = writeln!(
        header,
        "# machine: {cores} CPU cores SHARED by the client under test and the whole network (3 peers, 3 Raft \
         orderers, 3 chaincode servers, 3 CAs), all on this machine; orderer BatchTimeout {}",
        batch_timeout(&target.repo).unwrap_or_else(|| "unknown".into())
    );
    let _ = writeln!(
        header,
        "# rust = fabric-gateway-client (this workspace), tokio multi-thread, one HTTP/2 connection; node = \
         @hyperledger/fabric-gateway 1.12.1 on {}, one grpc-js connection, a fresh process per level",
        node_version()
    );
    let _ = writeln!(
        header,
        "# client CPU = user + system of all the client's threads over the measured tx / N (rust: \
         /proc/self/task/*/schedstat, ns; node: process.cpuUsage(), µs)"
    );
    header
}

/// The levels that failed; first errors of levels that ran are printed.
fn failures(rows: &[Row]) -> Vec<String> {
    let mut failures = Vec::new();
    for r in rows {
        for (side, level) in [(Side::Rust, &r.rust), (Side::Node, &r.node)] {
            match level {
                Some(Err(e)) => failures.push(format!("{} c={}: {e}", side.name(), r.concurrency)),
                Some(Ok(l)) => {
                    if let Some(e) = &l.first_error {
                        println!("# {} c={} first error: {e}", side.name(), r.concurrency);
                    }
                }
                None => {}
            }
        }
    }
    failures
}

fn node_version() -> String {
    Command::new("node")
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|v| format!("Node {}", v.trim()))
        .unwrap_or_else(|| "Node (version unknown)".into())
}

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("gateway-bench: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gateway-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}
