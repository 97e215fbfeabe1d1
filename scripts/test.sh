#!/usr/bin/env bash
# Runs every check of this repository, installing what the checks need first.
#
#   scripts/test.sh
#
# Steps: the official reference chaincodes (npm fabric-shim, Go fabric-chaincode-go)
# used by the conformance suite; Fabric's Node gateway client and Fabric's binaries
# for the end-to-end test on a real local network; the docker-compose check; the
# schema cross-check of our .proto files against Fabric's official Python bindings;
# cargo fmt, clippy, cargo doc and the whole workspace's tests (the network test among them).
# Any step that cannot run fails the whole script: nothing is skipped silently.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO="$PWD"

step() { printf '\n==> %s\n' "$*"; }
started=$SECONDS

step "toolchains"
for tool in cargo go node npm python3 curl jq ss; do
    command -v "$tool" >/dev/null || { echo "test.sh: $tool is required but not on PATH" >&2; exit 1; }
done
cargo --version; go version; node --version; python3 --version

step "reference chaincodes on Fabric's official shims (tests/conformance/setup.sh)"
tests/conformance/setup.sh

step "Fabric's official Node gateway client for the network smoke test (tests/network)"
if [[ ! -d tests/network/node_modules/@hyperledger/fabric-gateway || tests/network/package-lock.json -nt tests/network/node_modules ]]; then
    (cd tests/network && (npm ci --no-audit --no-fund || npm ci --no-audit --no-fund))
fi

step "Fabric binaries for the local network (fabric-network/scripts/install-binaries.sh)"
fabric-network/scripts/install-binaries.sh

step "HAPI FHIR's R4 validator for the FHIR export tests (tests/fhir-validator, Maven)"
for tool in java mvn; do
    command -v "$tool" >/dev/null || { echo "test.sh: $tool is required for the FHIR validator (apt-get install -y maven default-jdk-headless)" >&2; exit 1; }
done
(cd tests/fhir-validator && mvn -q -B compile dependency:build-classpath -Dmdep.outputFile=target/classpath.txt)
echo "validator built: tests/fhir-validator/target (HAPI FHIR $(sed -n 's:.*<hapi.version>\(.*\)</hapi.version>.*:\1:p' tests/fhir-validator/pom.xml))"

step "docker-compose.yaml and chaincode/Dockerfile (fabric-network/scripts/check-compose.sh)"
fabric-network/scripts/check-compose.sh

step "proto schema vs Fabric's official Python bindings (protos/fixtures/check_schema.py)"
VENV="$REPO/target/pyvenv"
if [[ ! -x "$VENV/bin/python" ]]; then
    python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c 'import fabric_protos, grpc_tools' 2>/dev/null; then
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r protos/fixtures/requirements.txt \
        || "$VENV/bin/pip" install --quiet --disable-pip-version-check -r protos/fixtures/requirements.txt
fi
"$VENV/bin/python" protos/fixtures/check_schema.py

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo doc --workspace --no-deps (warnings are errors: broken links, bad HTML in doc comments)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --quiet

step "cargo test --workspace"
cargo test --workspace --locked

printf '\ntest.sh: all checks passed in %ss\n' "$((SECONDS - started))"
