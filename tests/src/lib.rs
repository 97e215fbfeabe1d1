//! Support code for the cross-checks and end-to-end tests in `tests/tests/`.
//!
//! - [`conformance`]: the Rust twin of the reference chaincodes in
//!   `tests/conformance/` (Node on fabric-shim 2.5.8, Go on fabric-chaincode-go v2).
//! - Servers to talk to: [`start_rust_chaincode`] serves it in-process;
//!   [`spawn_node_chaincode`], [`spawn_go_chaincode`] and
//!   [`spawn_rust_chaincode_process`] start chaincode-as-a-service servers as
//!   child processes that are killed when their handle is dropped.
//!
//! - [`network`]: driving the local Fabric network from end-to-end tests.
//!
//! A missing Node install or Go binary is an error that says to run
//! `tests/conformance/setup.sh`: callers never skip silently.

pub mod bench;
pub mod conformance;
pub mod network;

use std::fs::File;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, anyhow, bail};
use fabric_chaincode_shim::ServerConfig;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use conformance::{ConformanceChaincode, DEFAULT_CCID};

/// How long a server child process may take to accept connections.
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// Env var naming the Go reference chaincode binary (overrides the default path).
pub const GO_CHAINCODE_ENV: &str = "CONFORMANCE_GO_CHAINCODE";

/// Env var naming the Rust conformance chaincode binary, for [`spawn_rust_chaincode_process`].
pub const RUST_CHAINCODE_ENV: &str = "CONFORMANCE_RUST_CHAINCODE";

const SETUP_HINT: &str = "run `tests/conformance/setup.sh` first (it installs the Node chaincode's \
     node_modules and builds the Go chaincode into target/conformance/)";

/// The repository root (the workspace directory).
pub fn repo_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map_or_else(|| manifest.to_path_buf(), Path::to_path_buf)
}

/// `${CARGO_TARGET_DIR:-<repo>/target}`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() { dir } else { repo_root().join(dir) }
        }
        _ => repo_root().join("target"),
    }
}

/// The Node reference chaincode's entry point.
pub fn node_chaincode_path() -> PathBuf {
    repo_root().join("tests/conformance/node/chaincode.js")
}

/// The Go reference chaincode binary: `$CONFORMANCE_GO_CHAINCODE`, else
/// `<target>/conformance/conformance-go-chaincode` as `setup.sh` builds it.
pub fn go_chaincode_path() -> PathBuf {
    match std::env::var_os(GO_CHAINCODE_ENV) {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => target_dir().join("conformance/conformance-go-chaincode"),
    }
}

/// A free loopback port, found by binding port 0 and releasing it.
///
/// Another process could take it before the caller binds it; the startup wait
/// then fails with the child's log, which names the address.
pub fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("binding 127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// The Rust conformance chaincode served in-process by [`fabric_chaincode_shim::serve`].
///
/// Dropping it requests shutdown; [`RustServer::stop`] also waits for it.
pub struct RustServer {
    /// `127.0.0.1:<port>` the server listens on.
    pub address: String,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<fabric_chaincode_shim::Result<()>>>,
}

impl RustServer {
    /// Requests shutdown and waits for the server to stop.
    pub async fn stop(mut self) -> Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.context("server task panicked")?.context("server failed")?;
        }
        Ok(())
    }
}

impl Drop for RustServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Serves [`ConformanceChaincode`] in-process on `127.0.0.1:0` (plaintext),
/// registering as `ccid`. Must be called inside a Tokio runtime.
pub async fn start_rust_chaincode(ccid: &str) -> Result<RustServer> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.context("binding 127.0.0.1:0")?;
    let address = listener.local_addr()?.to_string();
    let (tx, rx) = oneshot::channel::<()>();
    let shutdown = async move {
        let _ = rx.await;
    };
    let task = tokio::spawn(fabric_chaincode_shim::serve(
        listener,
        ServerConfig::new(ccid),
        Arc::new(ConformanceChaincode),
        shutdown,
    ));
    Ok(RustServer { address, shutdown: Some(tx), task: Some(task) })
}

/// Serves [`ConformanceChaincode`] as the reference servers are configured:
/// `CHAINCODE_ID`, `CHAINCODE_SERVER_ADDRESS` (and optional `CHAINCODE_TLS_*`
/// files) from the environment, until Ctrl-C / SIGINT.
pub async fn serve_conformance_from_env() -> Result<()> {
    let (address, config) = ServerConfig::from_lookup(|name| std::env::var(name).ok())?;
    let listener =
        tokio::net::TcpListener::bind(address).await.with_context(|| format!("cannot listen on {address}"))?;
    eprintln!("conformance-rust-chaincode: serving {} on {address} (tls: {})", config.ccid, config.tls.is_some());
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    fabric_chaincode_shim::serve(listener, config, Arc::new(ConformanceChaincode), shutdown).await?;
    Ok(())
}

/// A chaincode server running as a child process; killed (SIGKILL) when dropped.
pub struct ChildServer {
    /// Which implementation this is (`node`, `go`, `rust`), for messages.
    pub name: String,
    /// `127.0.0.1:<port>` the server listens on.
    pub address: String,
    /// Where the child's stdout and stderr go.
    pub log_path: PathBuf,
    child: Child,
}

impl ChildServer {
    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process has exited, and how.
    pub fn try_exit_status(&mut self) -> Result<Option<std::process::ExitStatus>> {
        Ok(self.child.try_wait()?)
    }

    /// Waits up to `timeout` for the process to exit by itself.
    pub fn wait_exit(&mut self, timeout: Duration) -> Result<Option<std::process::ExitStatus>> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok(Some(status));
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The last `max` bytes of the child's log (lossy UTF-8).
    pub fn log_tail(&self, max: usize) -> String {
        log_tail(&self.log_path, max)
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn log_tail(path: &Path, max: usize) -> String {
    match std::fs::read(path) {
        Ok(bytes) => String::from_utf8_lossy(&bytes[bytes.len().saturating_sub(max)..]).into_owned(),
        Err(e) => format!("(cannot read {}: {e})", path.display()),
    }
}

/// Starts `command` with `CHAINCODE_ID=ccid` and `CHAINCODE_SERVER_ADDRESS` on a
/// free loopback port, and waits (bounded by [`STARTUP_TIMEOUT`]) until it
/// accepts connections. Output goes to a log file under the system temp dir.
pub fn spawn_server(name: &str, mut command: Command, ccid: &str) -> Result<ChildServer> {
    let port = free_port()?;
    let address = format!("127.0.0.1:{port}");
    let log_dir = std::env::temp_dir().join("ehr-tests-conformance");
    std::fs::create_dir_all(&log_dir).with_context(|| format!("creating {}", log_dir.display()))?;
    let log_path = log_dir.join(format!("{name}-{port}.log"));
    let log = File::create(&log_path).with_context(|| format!("creating {}", log_path.display()))?;
    let program = format!("{command:?}");
    let child = command
        .env("CHAINCODE_ID", ccid)
        .env("CHAINCODE_SERVER_ADDRESS", &address)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .with_context(|| format!("starting the {name} chaincode server: {program}"))?;
    let mut server = ChildServer { name: name.to_owned(), address, log_path, child };
    wait_until_listening(&mut server, STARTUP_TIMEOUT)?;
    Ok(server)
}

fn wait_until_listening(server: &mut ChildServer, timeout: Duration) -> Result<()> {
    let addr: SocketAddr = server.address.parse()?;
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = server.child.try_wait()? {
            bail!(
                "the {} chaincode server exited ({status}) before listening on {}; its log ({}):\n{}",
                server.name,
                server.address,
                server.log_path.display(),
                server.log_tail(4000)
            );
        }
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!(
                "the {} chaincode server did not listen on {} within {timeout:?}; its log ({}):\n{}",
                server.name,
                server.address,
                server.log_path.display(),
                server.log_tail(4000)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Starts the Node reference chaincode (`node tests/conformance/node/chaincode.js`).
///
/// Fails, asking to run `setup.sh`, when its `node_modules` is missing.
pub fn spawn_node_chaincode(ccid: &str) -> Result<ChildServer> {
    let script = node_chaincode_path();
    let shim = repo_root().join("tests/conformance/node/node_modules/fabric-shim");
    if !shim.is_dir() {
        bail!("the Node reference chaincode is not installed ({} is missing): {SETUP_HINT}", shim.display());
    }
    let mut command = Command::new("node");
    command.arg(&script);
    spawn_server("node", command, ccid).map_err(|e| anyhow!("{e:#}\n(is `node` >= 18 on PATH? {SETUP_HINT})"))
}

/// Starts the Go reference chaincode binary (see [`go_chaincode_path`]).
///
/// Fails, asking to run `setup.sh`, when the binary is missing.
pub fn spawn_go_chaincode(ccid: &str) -> Result<ChildServer> {
    let binary = go_chaincode_path();
    if !binary.is_file() {
        bail!(
            "the Go reference chaincode binary {} does not exist (set {GO_CHAINCODE_ENV} to use another): {SETUP_HINT}",
            binary.display()
        );
    }
    spawn_server("go", Command::new(binary), ccid)
}

/// Starts the Rust conformance chaincode as its own process: `binary`, or
/// `$CONFORMANCE_RUST_CHAINCODE`, or `conformance-rust-chaincode` next to the
/// running executable (as `cargo build --bin conformance-rust-chaincode` puts it).
pub fn spawn_rust_chaincode_process(ccid: &str, binary: Option<&Path>) -> Result<ChildServer> {
    let binary = match binary {
        Some(b) => b.to_path_buf(),
        None => match std::env::var_os(RUST_CHAINCODE_ENV) {
            Some(p) if !p.is_empty() => PathBuf::from(p),
            _ => {
                let exe = std::env::current_exe().context("locating the running executable")?;
                exe.with_file_name(format!("conformance-rust-chaincode{}", std::env::consts::EXE_SUFFIX))
            }
        },
    };
    if !binary.is_file() {
        bail!(
            "the Rust conformance chaincode binary {} does not exist: build it with \
             `cargo build --release -p ehr-tests --bin conformance-rust-chaincode` or set {RUST_CHAINCODE_ENV}",
            binary.display()
        );
    }
    spawn_server("rust", Command::new(binary), ccid)
}
