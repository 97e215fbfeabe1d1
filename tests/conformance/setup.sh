#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Prepares the reference chaincodes built on Fabric's official shims:
#   - node/: `npm ci` (only when node_modules is missing or older than package-lock.json)
#   - go/:   `go build` -> <out>/conformance-go-chaincode (only when sources changed)
#
# <out> is $CONFORMANCE_OUT_DIR if set, else ${CARGO_TARGET_DIR:-<repo>/target}/conformance.
# Safe to run repeatedly. Downloads (npm, Go modules) are retried once.
# The last two lines of output are machine-readable:
#   CONFORMANCE_GO_CHAINCODE=<absolute path of the Go binary>
#   CONFORMANCE_NODE_CHAINCODE=<absolute path of node/chaincode.js>
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"

say() { printf 'setup.sh: %s\n' "$*"; }
die() { printf 'setup.sh: FAILED: %s\n' "$*" >&2; exit 1; }

# run_with_retry DESCRIPTION CMD...: one retry after a short pause.
run_with_retry() {
    local what="$1"
    shift
    if "$@"; then
        return 0
    fi
    say "$what failed; retrying once in 3s"
    sleep 3
    if "$@"; then
        return 0
    fi
    die "$what (command: $*) failed twice; check network access to the package registry"
}

abs_path() {
    case "$1" in
        /*) printf '%s\n' "$1" ;;
        *) printf '%s\n' "$PWD/$1" ;;
    esac
}

if [[ -n "${CONFORMANCE_OUT_DIR:-}" ]]; then
    OUT="$(abs_path "$CONFORMANCE_OUT_DIR")"
elif [[ -n "${CARGO_TARGET_DIR:-}" ]]; then
    OUT="$(abs_path "$CARGO_TARGET_DIR")/conformance"
else
    OUT="$REPO/target/conformance"
fi

for tool in node npm go; do
    command -v "$tool" >/dev/null 2>&1 || die "'$tool' is not on PATH (need Node >= 18 with npm, and Go >= 1.22)"
done

NODE_MAJOR="$(node -p 'process.versions.node.split(".")[0]')"
if (( NODE_MAJOR < 18 )); then
    die "Node $(node -v) is too old; fabric-shim 2.5.8 needs Node >= 18"
fi

# ---- Node chaincode ----
NODE_DIR="$HERE/node"
STAMP="$NODE_DIR/node_modules/.package-lock.json" # written by npm ci / npm install
if [[ ! -d "$NODE_DIR/node_modules/fabric-shim" || ! -f "$STAMP" || "$NODE_DIR/package-lock.json" -nt "$STAMP" ]]; then
    say "installing Node dependencies: npm ci in $NODE_DIR"
    run_with_retry "npm ci (fabric-shim and dependencies)" \
        npm ci --prefix "$NODE_DIR" --no-audit --no-fund --loglevel=error
else
    say "Node dependencies up to date ($NODE_DIR/node_modules), skipping npm ci"
fi
node -e 'require(process.argv[1])' "$NODE_DIR/node_modules/fabric-shim" \
    || die "fabric-shim does not load from $NODE_DIR/node_modules; delete that folder and re-run"

# ---- Go chaincode ----
GO_DIR="$HERE/go"
GO_BIN="$OUT/conformance-go-chaincode"
mkdir -p "$OUT"
if [[ -x "$GO_BIN" ]] && [[ -z "$(find "$GO_DIR" -maxdepth 1 \( -name '*.go' -o -name go.mod -o -name go.sum \) -newer "$GO_BIN" -print -quit)" ]]; then
    say "Go chaincode up to date ($GO_BIN), skipping build"
else
    say "downloading Go modules: go mod download in $GO_DIR"
    (cd "$GO_DIR" && run_with_retry "go mod download (fabric-chaincode-go/v2 and dependencies)" go mod download)
    say "building Go chaincode: CGO_ENABLED=0 go build -o $GO_BIN"
    (cd "$GO_DIR" && CGO_ENABLED=0 go build -buildvcs=false -trimpath -o "$GO_BIN" .) \
        || die "go build in $GO_DIR"
fi

say "done"
echo "CONFORMANCE_GO_CHAINCODE=$GO_BIN"
echo "CONFORMANCE_NODE_CHAINCODE=$NODE_DIR/chaincode.js"
