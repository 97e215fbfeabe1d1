#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Starts both reference chaincode servers on free loopback ports, checks that
# they listen, runs probe.js against each, and diffs the two transcripts
# (messages sent by the chaincode + responses). Stops only the servers it
# started. Run setup.sh first (or let this script call it).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SETUP_OUT="$("$HERE/setup.sh")"
GO_BIN="$(sed -n 's/^CONFORMANCE_GO_CHAINCODE=//p' <<<"$SETUP_OUT")"
NODE_JS="$(sed -n 's/^CONFORMANCE_NODE_CHAINCODE=//p' <<<"$SETUP_OUT")"

WORK="$(mktemp -d)"
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
    node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close();})'
}

wait_listen() { # PORT PID NAME
    for _ in $(seq 1 100); do
        if ! kill -0 "$2" 2>/dev/null; then
            echo "smoke: $3 exited early; its stderr:" >&2
            cat "$WORK/$3.err" >&2
            return 1
        fi
        if ss -ltn "( sport = :$1 )" | grep -q LISTEN; then
            echo "smoke: $3 listening on 127.0.0.1:$1 (pid $2)"
            return 0
        fi
        sleep 0.1
    done
    echo "smoke: $3 did not listen on port $1 within 10s" >&2
    return 1
}

GO_PORT="$(free_port)"
CHAINCODE_ID=conf:0000 CHAINCODE_SERVER_ADDRESS="127.0.0.1:$GO_PORT" "$GO_BIN" 2>"$WORK/go.err" &
PIDS+=("$!")
wait_listen "$GO_PORT" "$!" go

NODE_PORT="$(free_port)"
CHAINCODE_ID=conf:0000 CHAINCODE_SERVER_ADDRESS="127.0.0.1:$NODE_PORT" node "$NODE_JS" >"$WORK/node.out" 2>"$WORK/node.err" &
PIDS+=("$!")
wait_listen "$NODE_PORT" "$!" node

node "$HERE/probe.js" "127.0.0.1:$GO_PORT" >"$WORK/probe.go.txt"
node "$HERE/probe.js" "127.0.0.1:$NODE_PORT" >"$WORK/probe.node.txt"

if [[ -s "$WORK/node.out" ]]; then
    echo "smoke: node chaincode wrote to stdout (should log to stderr only)" >&2
    exit 1
fi
if ! diff -u "$WORK/probe.go.txt" "$WORK/probe.node.txt"; then
    echo "smoke: FAILED: Go and Node transcripts differ (diff above: - go, + node)" >&2
    exit 1
fi
steps="$(grep -c '^  -> ' "$WORK/probe.go.txt")"
echo "smoke: $steps invocations, Go and Node transcripts identical"
