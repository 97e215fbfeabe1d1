#!/usr/bin/env bash
# Sets up everything on a fresh machine and runs the main job: the local Fabric
# network (built from source when needed) and the EHR core scenario through the
# Rust gateway client (`ehr demo`). A network that is already up is reused.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

if ! fabric-network/network.sh status >/dev/null 2>&1; then
    fabric-network/network.sh up
fi
echo "[demo] building the ehr command line (cargo build --release -p ehr-cli)"
cargo build --release --locked --quiet -p ehr-cli --bin ehr
echo "[demo] target/release/ehr demo"
exec target/release/ehr demo "$@"
