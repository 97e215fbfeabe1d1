#!/usr/bin/env bash
# Builds and starts the EHR chaincode server for a local peer to dial.
#
#   scripts/run-chaincode.sh
#
# Listens on $CHAINCODE_SERVER_ADDRESS (default 127.0.0.1:9999) and registers as
# $CHAINCODE_ID (default a development id; a real peer needs the package id that
# `peer lifecycle chaincode install` printed). TLS variables are passed through;
# see `ehr-chaincode --help`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
echo "==> building ehr-chaincode (release)"
cargo build --release --locked -p ehr-chaincode
export CHAINCODE_SERVER_ADDRESS="${CHAINCODE_SERVER_ADDRESS:-127.0.0.1:9999}"
export CHAINCODE_ID="${CHAINCODE_ID:-ehr_dev:0000000000000000000000000000000000000000000000000000000000000000}"
echo "==> serving on $CHAINCODE_SERVER_ADDRESS as $CHAINCODE_ID (Ctrl-C to stop)"
exec target/release/ehr-chaincode
