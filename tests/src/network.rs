//! Driving the local Fabric network (`fabric-network/network.sh`) from tests.
//!
//! These helpers panic with the command's whole output when something fails:
//! they are for tests, where a clear failure is the point.
#![allow(clippy::panic, clippy::expect_used)]

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::repo_root;

/// `fabric-network/network.sh`.
pub fn network_sh() -> PathBuf {
    repo_root().join("fabric-network/network.sh")
}

/// Runs a command, panicking with its output when it fails; returns stdout.
pub fn run(cmd: &mut Command, what: &str) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{what} failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}", out.status);
    stdout
}

/// A running network, taken down when dropped (however the test ends).
pub struct Network;

impl Network {
    /// `network.sh up` with `args` (e.g. `--bft`); fails if a network is already running.
    pub fn up(args: &[&str]) -> Self {
        let status = Command::new(network_sh()).arg("status").output().expect("network.sh runs");
        assert!(
            !status.status.success(),
            "a network is already running; this test needs a fresh one (run fabric-network/network.sh down)"
        );
        run(Command::new(network_sh()).arg("up").args(args), "network.sh up");
        Network
    }

    /// `network.sh ARGS...`, which must succeed.
    pub fn sh(&self, args: &[&str]) -> String {
        run(Command::new(network_sh()).args(args), &format!("network.sh {}", args.join(" ")))
    }

    /// PIDs of the processes the network recorded.
    pub fn pids(&self) -> Vec<u32> {
        let dir = repo_root().join("fabric-network/state/pids");
        std::fs::read_dir(&dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                    .filter_map(|s| s.trim().parse().ok())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The PID `network.sh` recorded for one node (e.g. `orderer1`).
    pub fn pid_of(&self, node: &str) -> u32 {
        let file = repo_root().join(format!("fabric-network/state/pids/{node}.pid"));
        std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("no pid for {node} ({}): {e}", file.display()))
            .trim()
            .parse()
            .expect("pid file holds a number")
    }
}

/// One of the network's chaincode servers replaced by another binary with the
/// same settings (package id, address, TLS files): what an organisation running
/// its own build would do. The original binary is started again when dropped.
pub struct SwappedServer {
    node: String,
    env: Vec<(OsString, OsString)>,
    original: PathBuf,
    pid: u32,
}

/// Starts `binary` detached (so that it outlives this process's children and
/// `network.sh down` stops it by its pid file), appending to the node's log.
fn start_server(node: &str, binary: &Path, env: &[(OsString, OsString)]) -> u32 {
    let log = repo_root().join(format!("fabric-network/state/logs/{node}.log"));
    let out = Command::new("sh")
        .arg("-c")
        .arg(r#"log="$1"; shift; "$@" >>"$log" 2>&1 </dev/null & echo $!"#)
        .arg("sh")
        .arg(&log)
        .arg(binary)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
    let pid: u32 = String::from_utf8_lossy(&out.stdout).trim().parse().expect("sh printed the server's pid");
    let pid_file = repo_root().join(format!("fabric-network/state/pids/{node}.pid"));
    std::fs::write(&pid_file, pid.to_string()).expect("pid file written");
    let address = env
        .iter()
        .find(|(k, _)| k == "CHAINCODE_SERVER_ADDRESS")
        .map(|(_, v)| v.to_string_lossy().into_owned())
        .expect("the server has CHAINCODE_SERVER_ADDRESS");
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(&address).is_err() {
        assert!(alive(pid), "{} exited at start; see state/logs/{node}.log", binary.display());
        assert!(Instant::now() < deadline, "{} did not listen on {address} within 30 s", binary.display());
        std::thread::sleep(Duration::from_millis(100));
    }
    pid
}

fn stop_pid(pid: u32) {
    let _ = Command::new("kill").args(["-TERM", &pid.to_string()]).status();
    let deadline = Instant::now() + Duration::from_secs(20);
    while alive(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    if alive(pid) {
        let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
    }
}

impl Network {
    /// Stops chaincode server `node` (e.g. `ehr.hospitalb`) and starts `binary`
    /// in its place with exactly its environment.
    pub fn swap_server(&self, node: &str, binary: &Path) -> SwappedServer {
        let pid = self.pid_of(node);
        let environ = std::fs::read(format!("/proc/{pid}/environ")).expect("the server's environment is readable");
        let env: Vec<(OsString, OsString)> = environ
            .split(|b| *b == 0)
            .filter_map(|kv| {
                let eq = kv.iter().position(|b| *b == b'=')?;
                Some((OsString::from_vec(kv[..eq].to_vec()), OsString::from_vec(kv[eq + 1..].to_vec())))
            })
            .collect();
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).expect("the server's command line is readable");
        let original =
            PathBuf::from(OsString::from_vec(cmdline.split(|b| *b == 0).next().unwrap_or_default().to_vec()));
        stop_pid(pid);
        let pid = start_server(node, binary, &env);
        SwappedServer { node: node.to_owned(), env, original, pid }
    }
}

impl Drop for SwappedServer {
    fn drop(&mut self) {
        stop_pid(self.pid);
        start_server(&self.node, &self.original, &self.env);
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        let _ = Command::new(network_sh()).arg("down").status();
    }
}

/// Whether a process is still running.
pub fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Runs the peer CLI as `org`'s admin; returns stdout.
pub fn peer_cli(org: &str, args: &str) -> String {
    let script = format!("eval \"$({} env {org})\" && peer {args}", network_sh().display());
    run(Command::new("bash").arg("-c").arg(&script), &format!("peer {args} as {org} admin"))
}

/// Calls the network through Fabric's official Node gateway client (`tests/network/gateway.mjs`).
pub fn gateway(mode: &str, org: &str, user: &str, chaincode: &str, args: &[&str]) -> Value {
    gateway_with(mode, org, user, chaincode, &[], args)
}

/// [`gateway`] with extra options such as `--transient KEY=VALUE`.
pub fn gateway_with(mode: &str, org: &str, user: &str, chaincode: &str, options: &[&str], args: &[&str]) -> Value {
    let v = gateway_raw(mode, org, user, chaincode, options, args);
    assert_eq!(v["ok"], true, "gateway {mode} {args:?} as {org}/{user} failed: {v}");
    v
}

/// The gateway script's JSON answer, successful or not.
pub fn gateway_raw(mode: &str, org: &str, user: &str, chaincode: &str, options: &[&str], args: &[&str]) -> Value {
    let script = repo_root().join("tests/network/gateway.mjs");
    assert!(
        repo_root().join("tests/network/node_modules/@hyperledger/fabric-gateway").is_dir(),
        "tests/network/node_modules is missing: run `npm ci` in tests/network (scripts/test.sh does)"
    );
    let out = Command::new("node")
        .arg(&script)
        .args([mode, "--org", org, "--user", user, "--chaincode", chaincode])
        .args(options)
        .arg("--")
        .args(args)
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(line).unwrap_or_else(|e| {
        panic!("gateway.mjs printed no JSON ({e}): {stdout}\n{}", String::from_utf8_lossy(&out.stderr))
    })
}
