//! Throughput and latency of the three shims on the same workload.
//!
//! For each server (Rust, Node fabric-shim 2.5.8, Go fabric-chaincode-go v2),
//! a [`PeerSimulator`] dials it and runs the conformance chaincode's `bench k`
//! function (GET_STATE k, PUT_STATE k with 1 KiB, return 1 KiB) at several
//! concurrency levels over one chaincode stream, measuring each transaction
//! from `invoke` to its COMPLETED. Prints a table; this is not a test.
//!
//! ```text
//! cargo run --release -p ehr-tests --bin shim-bench -- [--count N] [--levels 1,4,16,64]
//!     [--servers rust,node,go] [--max-seconds S] [--warmup N] [--rust-in-process]
//! ```
//! `SHIM_BENCH_COUNT`, `SHIM_BENCH_LEVELS`, `SHIM_BENCH_SERVERS`,
//! `SHIM_BENCH_MAX_SECONDS` set the same defaults. The Rust server runs as a
//! separate process (this binary re-executed with `--serve-chaincode`), like
//! the other two; `--rust-in-process` adds a row set for it served inside the
//! benchmark process. Node and Go need `tests/conformance/setup.sh`.

use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use ehr_tests::bench::{ms, parse_list, percentile};
use ehr_tests::{ChildServer, DEFAULT_CCID, RustServer};
use fabric_chaincode_shim::testing::{Invocation, PeerSimulator, SimulatorConfig, TestCa, TestIdentity};

const SERVE_FLAG: &str = "--serve-chaincode";

struct Options {
    count: usize,
    levels: Vec<usize>,
    servers: Vec<String>,
    max_seconds: u64,
    warmup: usize,
    rust_in_process: bool,
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn options() -> Result<Options> {
    let mut o = Options {
        count: env_or("SHIM_BENCH_COUNT", 2000),
        levels: parse_list(&std::env::var("SHIM_BENCH_LEVELS").unwrap_or_else(|_| "1,4,16,64".into()), "level")?,
        servers: parse_list(&std::env::var("SHIM_BENCH_SERVERS").unwrap_or_else(|_| "rust,node,go".into()), "server")?,
        max_seconds: env_or("SHIM_BENCH_MAX_SECONDS", 60),
        warmup: 300,
        rust_in_process: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().with_context(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--count" => o.count = value("--count")?.parse().context("--count")?,
            "--levels" => o.levels = parse_list(&value("--levels")?, "level")?,
            "--servers" => o.servers = parse_list(&value("--servers")?, "server")?,
            "--max-seconds" => o.max_seconds = value("--max-seconds")?.parse().context("--max-seconds")?,
            "--warmup" => o.warmup = value("--warmup")?.parse().context("--warmup")?,
            "--rust-in-process" => o.rust_in_process = true,
            "-h" | "--help" => {
                println!(
                    "usage: shim-bench [--count N] [--levels 1,4,16,64] [--servers rust,node,go] \
                     [--max-seconds S] [--warmup N] [--rust-in-process]"
                );
                std::process::exit(0);
            }
            other => bail!("unknown argument {other:?} (try --help)"),
        }
    }
    if o.levels.is_empty() || o.levels.contains(&0) || o.count == 0 {
        bail!("levels must be positive and count non-zero");
    }
    for s in &o.servers {
        if !["rust", "node", "go"].contains(&s.as_str()) {
            bail!("unknown server {s:?}: use rust, node, go");
        }
    }
    Ok(o)
}

/// One measured level.
struct Row {
    server: String,
    concurrency: usize,
    completed: usize,
    errors: usize,
    elapsed: Duration,
    p50: Duration,
    p99: Duration,
    max: Duration,
    truncated: bool,
}

/// A running server and what keeps it alive.
enum Server {
    Child(ChildServer),
    InProcess(RustServer),
}

impl Server {
    fn address(&self) -> &str {
        match self {
            Server::Child(c) => &c.address,
            Server::InProcess(r) => &r.address,
        }
    }
}

async fn start(name: &str) -> Result<Server> {
    Ok(match name {
        "rust" => {
            let mut cmd = Command::new(std::env::current_exe().context("locating this executable")?);
            cmd.arg(SERVE_FLAG);
            Server::Child(ehr_tests::spawn_server("rust", cmd, DEFAULT_CCID)?)
        }
        "rust-in-process" => Server::InProcess(ehr_tests::start_rust_chaincode(DEFAULT_CCID).await?),
        "node" => {
            // Quiet logging (the chaincode defaults to WARNING too): INFO logs every transaction.
            Server::Child(ehr_tests::spawn_node_chaincode(DEFAULT_CCID)?)
        }
        "go" => Server::Child(ehr_tests::spawn_go_chaincode(DEFAULT_CCID)?),
        other => bail!("unknown server {other}"),
    })
}

/// Runs `count` bench transactions with `concurrency` workers (stopping early at `deadline`).
async fn run_level(
    sim: &Arc<PeerSimulator>,
    caller: &TestIdentity,
    concurrency: usize,
    count: usize,
    deadline: Duration,
) -> (Vec<Duration>, usize, Duration, bool) {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::with_capacity(concurrency);
    for worker in 0..concurrency {
        let sim = sim.clone();
        let next = next.clone();
        let creator = caller.clone();
        workers.push(tokio::spawn(async move {
            let key = format!("k{}", worker % 16);
            let mut latencies = Vec::new();
            let mut errors = 0usize;
            let mut truncated = false;
            loop {
                if next.fetch_add(1, Ordering::Relaxed) >= count {
                    break;
                }
                if started.elapsed() >= deadline {
                    truncated = true;
                    break;
                }
                let call = Invocation::new(["bench", key.as_str()]).caller(&creator);
                let t = Instant::now();
                let outcome = sim.invoke(call).await;
                let took = t.elapsed();
                match outcome {
                    Ok(o) if o.response.status == 200 && o.response.payload.len() == 1024 => latencies.push(took),
                    Ok(o) => {
                        errors += 1;
                        if errors <= 3 {
                            eprintln!("shim-bench: unexpected outcome: {} {}", o.response.status, o.response.message);
                        }
                    }
                    Err(e) => {
                        errors += 1;
                        if errors <= 3 {
                            eprintln!("shim-bench: invoke failed: {e}");
                        }
                    }
                }
            }
            (latencies, errors, truncated)
        }));
    }
    let mut all = Vec::with_capacity(count);
    let mut errors = 0;
    let mut truncated = false;
    for w in workers {
        match w.await {
            Ok((l, e, t)) => {
                all.extend(l);
                errors += e;
                truncated |= t;
            }
            Err(e) => {
                eprintln!("shim-bench: worker failed: {e}");
                errors += 1;
            }
        }
    }
    let elapsed = started.elapsed();
    all.sort_unstable();
    (all, errors, elapsed, truncated)
}

async fn bench_server(name: &str, o: &Options, caller: &TestIdentity) -> Result<Vec<Row>> {
    let server = start(name).await.with_context(|| format!("starting the {name} server"))?;
    let config = SimulatorConfig {
        channel_id: "bench".into(),
        expected_ccid: Some(DEFAULT_CCID.into()),
        ready: None,
        timeout: Duration::from_secs(30),
        ..Default::default()
    };
    let sim = Arc::new(
        PeerSimulator::connect(server.address(), config).await.with_context(|| format!("connecting to {name}"))?,
    );
    let deadline = Duration::from_secs(o.max_seconds);
    if o.warmup > 0 {
        let (_, errors, _, _) = run_level(&sim, caller, 4, o.warmup, deadline).await;
        if errors > 0 {
            bail!("{name}: {errors} warm-up transactions failed");
        }
    }
    let mut rows = Vec::new();
    for &concurrency in &o.levels {
        let (latencies, errors, elapsed, truncated) = run_level(&sim, caller, concurrency, o.count, deadline).await;
        let row = Row {
            server: name.to_owned(),
            concurrency,
            completed: latencies.len(),
            errors,
            elapsed,
            p50: percentile(&latencies, 50.0),
            p99: percentile(&latencies, 99.0),
            max: latencies.last().copied().unwrap_or_default(),
            truncated,
        };
        eprintln!("shim-bench: {}", format_row(&row));
        rows.push(row);
    }
    drop(sim);
    if let Server::InProcess(r) = server {
        r.stop().await?;
    }
    Ok(rows)
}

fn format_row(r: &Row) -> String {
    let tps = if r.elapsed.is_zero() { 0.0 } else { r.completed as f64 / r.elapsed.as_secs_f64() };
    format!(
        "{:<16} {:>5} {:>7} {:>6} {:>10.0} {:>9.3} {:>9.3} {:>9.3}{}",
        r.server,
        r.concurrency,
        r.completed,
        r.errors,
        tps,
        ms(r.p50),
        ms(r.p99),
        ms(r.max),
        if r.truncated { "  (stopped at --max-seconds)" } else { "" }
    )
}

async fn run() -> Result<()> {
    let o = options()?;
    let ca = TestCa::new("Org1")?;
    let caller = ca.identity("Org1MSP", "bench-user", &[("role", "doctor")], &["client"])?;
    let mut servers = o.servers.clone();
    if o.rust_in_process {
        servers.push("rust-in-process".into());
    }
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let profile = if cfg!(debug_assertions) { "DEBUG build: numbers are not meaningful" } else { "release build" };
    println!(
        "# shim-bench: `bench k` = GET_STATE k + PUT_STATE k (1 KiB) + 1 KiB response; one chaincode stream per server"
    );
    println!(
        "# {} tx per level (after {} warm-up tx at concurrency 4), workers use keys k0..k15; {profile}",
        o.count, o.warmup
    );
    println!(
        "# {cores} CPU cores, SHARED: the peer simulator (this process) and the chaincode server run on the same cores,"
    );
    println!(
        "#   so the simulator's own CPU cost is included in every figure; compare the rows, not the absolute values."
    );
    println!(
        "# rust = this binary re-run as a separate server process (same build); node = fabric-shim 2.5.8 (log level WARNING);"
    );
    println!("# go = fabric-chaincode-go v2 binary from setup.sh. Latency = invoke() call to COMPLETED, in ms.");
    println!();
    println!(
        "{:<16} {:>5} {:>7} {:>6} {:>10} {:>9} {:>9} {:>9}",
        "server", "conc", "tx", "errors", "tx/s", "p50 ms", "p99 ms", "max ms"
    );
    let mut failures = Vec::new();
    for name in &servers {
        match bench_server(name, &o, &caller).await {
            Ok(rows) => {
                for r in &rows {
                    println!("{}", format_row(r));
                }
            }
            Err(e) => {
                println!("{name:<16} FAILED: {e:#}");
                failures.push(name.clone());
            }
        }
    }
    if !failures.is_empty() {
        bail!("benchmark failed for: {}", failures.join(", "));
    }
    Ok(())
}

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("shim-bench: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let serve = std::env::args().nth(1).as_deref() == Some(SERVE_FLAG);
    let result =
        if serve { runtime.block_on(ehr_tests::serve_conformance_from_env()) } else { runtime.block_on(run()) };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("shim-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}
