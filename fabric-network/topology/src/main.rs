//! `topology`: prints what the local network needs from `fabric-network/topology.toml`,
//! and keeps the committed files generated from it up to date.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use ehr_topology::render::{configtx, crypto, shell};
use ehr_topology::{Consensus, TOPOLOGY_FILE, Topology, generated_files, profile::NetworkProfile};

/// The EHR network's topology: one file, everything else generated from it.
#[derive(Debug, Parser)]
#[command(name = "topology", version, after_help = AFTER_HELP)]
struct Cli {
    /// The repository root (generated files are written relative to it).
    #[arg(long, default_value = ".", global = true)]
    repo: PathBuf,
    /// The topology file [default: REPO/fabric-network/topology.toml].
    #[arg(long, global = true)]
    file: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the network's settings as bash assignments (network.sh evals them).
    Env,
    /// Print one chaincode's deploy settings as bash assignments.
    Chaincode {
        /// The chaincode's name, e.g. ehr.
        name: String,
    },
    /// Print cryptogen's crypto-config.yaml.
    CryptoConfig,
    /// Print the local network's configtx.yaml (paths relative to its state folder).
    Configtx {
        /// SmartBFT over every orderer instead of Raft.
        #[arg(long)]
        bft: bool,
    },
    /// Print network.json, the profile clients read, for the local network whose state folder is STATE.
    Profile {
        /// The network's state folder (absolute paths go into the profile).
        #[arg(long)]
        state: PathBuf,
    },
    /// Rewrite the committed files generated from the topology.
    Generate,
    /// Fail if a committed generated file differs from what the topology gives.
    Check,
}

const AFTER_HELP: &str = "After editing fabric-network/topology.toml, run `cargo run -p ehr-topology -- generate` and commit the result; `cargo test` fails while a generated file is out of date.";

fn main() -> ExitCode {
    let cli = Cli::parse();
    let file = cli.file.clone().unwrap_or_else(|| cli.repo.join(TOPOLOGY_FILE));
    let topology = match ehr_topology::load(&file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("topology: {}: {e}", file.display());
            return ExitCode::FAILURE;
        }
    };
    match run(&cli, &topology) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("topology: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: &Cli, topology: &Topology) -> ehr_topology::Result<ExitCode> {
    match &cli.command {
        Command::Env => print!("{}", shell::network_env(topology)),
        Command::Chaincode { name } => print!("{}", shell::chaincode_env(topology, topology.chaincode(name)?)),
        Command::CryptoConfig => print!("{}", crypto::crypto_config(topology)),
        Command::Configtx { bft } => {
            let consensus = if *bft { Consensus::Bft } else { Consensus::Raft };
            print!("{}", configtx::configtx(topology, configtx::Target::Local(consensus)));
        }
        Command::Profile { state } => {
            let profile = NetworkProfile::local(topology, state);
            let json = serde_json::to_string_pretty(&profile)
                .map_err(|e| ehr_topology::TopologyError::Invalid(format!("the profile does not serialise: {e}")))?;
            println!("{json}");
        }
        Command::Generate => {
            for file in generated_files(topology)? {
                let state = if file.write(&cli.repo)? { "written" } else { "unchanged" };
                eprintln!("topology: {} {state}", file.path);
            }
        }
        Command::Check => {
            let stale: Vec<String> =
                generated_files(topology)?.into_iter().filter(|f| !f.is_current(&cli.repo)).map(|f| f.path).collect();
            if !stale.is_empty() {
                eprintln!(
                    "topology: out of date with {TOPOLOGY_FILE}: {}; run `cargo run -p ehr-topology -- generate`",
                    stale.join(", ")
                );
                return Ok(ExitCode::FAILURE);
            }
            eprintln!("topology: every generated file matches {TOPOLOGY_FILE}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
