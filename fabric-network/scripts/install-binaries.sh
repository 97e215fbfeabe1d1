#!/usr/bin/env bash
# Builds Fabric's binaries from source through the Go module proxy, pinned.
#
#   fabric-network/scripts/install-binaries.sh
#
# Installs into fabric-network/bin/fabric-<version>/ (git-ignored):
#   peer orderer configtxgen cryptogen osnadmin configtxlator discover fabric-ca-server fabric-ca-client
# A second run reuses what is there. Select Fabric 2.5 LTS with FABRIC_LINE=2.5.
#
# Why not `go install pkg@version`: it lists all of a module's versions to check
# for deprecation, and the proxy we can reach refuses that list for Fabric. A
# throwaway module that requires the pinned version and runs `go build` needs
# only the pinned version itself. Fabric and fabric-ca get one module each so
# their dependency graphs cannot pull each other up.
#
# The chaincode-as-a-service builder (Fabric's nested module ccaas_builder) is
# refused by the proxy too; fabric-network/builders/ccaas/ holds our own
# implementation of the same external-builder contract.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=../versions.env
source "$HERE/versions.env"

say() { printf 'install-binaries: %s\n' "$*"; }
die() { printf 'install-binaries: FAILED: %s\n' "$*" >&2; exit 1; }

case "$FABRIC_LINE" in
    3.1) version=$FABRIC_3_1_VERSION module=$FABRIC_3_1_MODULE ;;
    2.5) version=$FABRIC_2_5_VERSION module=$FABRIC_2_5_MODULE ;;
    *) die "FABRIC_LINE=$FABRIC_LINE is not supported; use 3.1 or 2.5" ;;
esac

command -v go >/dev/null || die "Go is not installed; Fabric needs Go >= 1.26 (https://go.dev/dl or your package manager)"
go_minor=$(go env GOVERSION | sed -E 's/^go1\.([0-9]+).*/\1/')
[[ "$go_minor" =~ ^[0-9]+$ && "$go_minor" -ge 26 ]] || die "Fabric $version needs Go >= 1.26; found $(go env GOVERSION)"

BIN="$HERE/bin/fabric-$version"
WORK="$HERE/bin/.build"
mkdir -p "$BIN" "$WORK"

# with_retry WHAT CMD...: one retry after 5 s, then a clear failure.
with_retry() {
    local what="$1"
    shift
    "$@" && return 0
    say "$what failed; retrying once in 5s"
    sleep 5
    "$@" && return 0
    die "$what failed twice; check access to the Go module proxy (GOPROXY=$(go env GOPROXY)) and the log above"
}

# build_set NAME MODULE@VERSION CGO PACKAGE...: builds the packages missing from $BIN.
build_set() {
    local name="$1" requirement="$2" cgo="$3"
    shift 3
    local missing=() pkg
    for pkg in "$@"; do
        [[ -x "$BIN/$(basename "$pkg")" ]] || missing+=("$pkg")
    done
    if ((${#missing[@]} == 0)); then
        say "$name: already built ($*)"
        return 0
    fi
    local dir="$WORK/$name" start=$SECONDS
    rm -rf "$dir" && mkdir -p "$dir"
    say "$name: resolving ${requirement} through the Go module proxy"
    {
        echo "module local/$name-build"
        echo
        echo "go 1.26"
        echo
        echo "require ${requirement% *} ${requirement#* }"
    } >"$dir/go.mod"
    {
        echo "//go:build tools"
        echo
        echo "package tools"
        echo
        for pkg in "${missing[@]}"; do echo "import _ \"$pkg\""; done
    } >"$dir/tools.go"
    (cd "$dir" && with_retry "go mod tidy for $name" go mod tidy)
    say "$name: building $(printf '%s ' "${missing[@]##*/}")(CGO_ENABLED=$cgo; several minutes on 2 cores)"
    (cd "$dir" && with_retry "go build for $name" env CGO_ENABLED="$cgo" go build -trimpath -o "$BIN/" "${missing[@]}")
    say "$name: built in $((SECONDS - start))s"
}

started=$SECONDS
say "Fabric $version (github.com/hyperledger/fabric $module), fabric-ca $FABRIC_CA_VERSION -> $BIN"
build_set fabric "github.com/hyperledger/fabric $module" 0 \
    github.com/hyperledger/fabric/cmd/peer github.com/hyperledger/fabric/cmd/orderer \
    github.com/hyperledger/fabric/cmd/configtxgen github.com/hyperledger/fabric/cmd/cryptogen \
    github.com/hyperledger/fabric/cmd/osnadmin github.com/hyperledger/fabric/cmd/configtxlator \
    github.com/hyperledger/fabric/cmd/discover
# fabric-ca links sqlite, which needs cgo.
build_set fabric-ca "github.com/hyperledger/fabric-ca v$FABRIC_CA_VERSION" 1 \
    github.com/hyperledger/fabric-ca/cmd/fabric-ca-server github.com/hyperledger/fabric-ca/cmd/fabric-ca-client
echo "$module" >"$BIN/.fabric-module-version"
say "all binaries ready in $((SECONDS - started))s: $BIN"
