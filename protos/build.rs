//! Compiles the Fabric `.proto` files under `proto/` into Rust with
//! prost/tonic. Parsing is done by `protox` (pure Rust), so no system
//! `protoc` is required.

use std::error::Error;
use std::fs;
use std::path::{Path, PathBuf};

const PROTO_ROOT: &str = "proto";

fn collect_protos(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_protos(&path, out)?;
        } else if path.extension().is_some_and(|ext| ext == "proto") {
            out.push(path);
        }
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo:rerun-if-changed={PROTO_ROOT}");

    let mut files = Vec::new();
    collect_protos(Path::new(PROTO_ROOT), &mut files)?;
    // Deterministic order keeps the generated output stable.
    files.sort();
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
    }

    let fds = protox::compile(&files, [PROTO_ROOT])?;

    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        // Fabric's `Chaincode` service has an rpc named `Connect`, whose
        // generated client method would clash with tonic's `connect`
        // constructor. Clients are therefore built from a channel:
        // `XClient::new(Endpoint::from_shared(url)?.connect().await?)`.
        .build_transport(false)
        .compile_fds(fds)?;

    Ok(())
}
