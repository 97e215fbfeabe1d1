#!/usr/bin/env bash
# The local Fabric network: real Fabric binaries as local processes on 127.0.0.1.
#
#   fabric-network/network.sh up [--bft]     build what is missing, start everything, deploy the EHR chaincode
#   fabric-network/network.sh down           stop every process this script started, remove the state
#   fabric-network/network.sh status         health of every node, channel height, committed chaincodes
#   fabric-network/network.sh logs NODE      print a node's log (NODE as listed by status)
#   fabric-network/network.sh deploy [NAME]  (re)deploy chaincode NAME (ehr, conformance) at the next sequence;
#                                            for ehr, also write its roles registry (chaincode/ehr/roles_registry.json)
#                                            and, once, the channel secret (SetChannelSecret)
#   fabric-network/network.sh env ORG [USER] print exports to use the peer CLI as ORG's admin (or USER)
#   fabric-network/network.sh user ORG NAME ROLE [ATTR=VALUE...]
#                                            register and enrol one more user at ORG's fabric-ca (attributes
#                                            role=ROLE and each ATTR=VALUE in the certificate; secret NAMEpw)
#   fabric-network/network.sh crypto         only make identities and channel blocks (also for docker-compose.yaml)
#
# The topology (organisations, users and roles, ports, policies, chaincodes)
# is fabric-network/topology.toml, read through the `topology` tool (crate
# fabric-network/topology, rebuilt by cargo when stale): three Raft orderers (four
# SmartBFT orderers with --bft); organisations HospitalA, HospitalB and
# Regulator, each with one peer (LevelDB, gateway on) and one fabric-ca server
# signing with the org's MSP CA; channel "ehr" created through channel
# participation; each chaincode served by one process per organisation,
# dialled by that organisation's peer over mutual TLS.
#
# Everything lives in fabric-network/state/ (logs/, pids/, crypto/, users/...).
# Versions are in versions.env.
set -euo pipefail

NET="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$NET/.." && pwd)"
STATE="$NET/state"
# shellcheck source=versions.env
source "$NET/versions.env"

case "${1:-}" in
    -h | --help | help | "") sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;;
esac

# Release builds (the chaincode servers, the topology tool) land here.
TARGET="${CARGO_TARGET_DIR:-$REPO/target}"
TOPOLOGY="$TARGET/release/topology"
topology() { "$TOPOLOGY" --repo "$REPO" "$@"; }

# load_topology: builds the topology tool (release, like the chaincode; a
# no-op when it is up to date) and evals `topology env`, which sets CHANNEL,
# ORDERER_DOMAIN, ORDERER_MSP, ORDERERS, RAFT_ORDERERS, ORGS, ORG_MSP,
# ORG_DOMAIN, ORG_USERS, CHAINCODES, every port by name, PORT_VARS and
# BFT_ONLY_PORT_VARS (fabric-network/topology/src/render/shell.rs). Every
# command but `down` and `logs` needs it.
load_topology() {
    local build_log settings
    if ! build_log="$(cd "$REPO" && cargo build --release --locked -q -p ehr-topology 2>&1)"; then
        printf '%s\n' "$build_log" >&2
        fail "building the topology tool (cargo build --release -p ehr-topology) failed (output above)"
    fi
    settings="$(topology env)" || fail "fabric-network/topology.toml cannot be used (the reason is above)"
    eval "$settings"
}

HEALTH_TIMEOUT="${HEALTH_TIMEOUT:-90}"

case "$FABRIC_LINE" in
    3.1) FABRIC_VERSION=$FABRIC_3_1_VERSION FABRIC_MODULE_VERSION=$FABRIC_3_1_MODULE ;;
    2.5) FABRIC_VERSION=$FABRIC_2_5_VERSION FABRIC_MODULE_VERSION=$FABRIC_2_5_MODULE ;;
    *) echo "network.sh: FABRIC_LINE=$FABRIC_LINE is not supported (3.1 or 2.5)" >&2; exit 2 ;;
esac
BIN="$NET/bin/fabric-$FABRIC_VERSION"
export PATH="$BIN:$PATH"

# ---------------------------------------------------------------- helpers

say() { printf '[network] %s\n' "$*"; }
fail() { printf '[network] ERROR: %s\n' "$*" >&2; exit 1; }
phase_start=0
phase() { phase_start=$SECONDS; say "== $*"; }
phase_done() { say "   done in $((SECONDS - phase_start))s"; }

org_domain() { echo "${ORG_DOMAIN[$1]}"; }
org_msp() { echo "${ORG_MSP[$1]}"; }
# port_of NAME KIND: the port named <NAME>_<KIND> in the topology (NAME: an org or orderer).
port_of() { local v="${1^^}_$2"; echo "${!v}"; }
# orderer_count: how many orderers run (Raft: RAFT_ORDERERS; SmartBFT: all).
orderer_count() { if [[ "${BFT:-0}" == 1 ]]; then echo "${#ORDERERS[@]}"; else echo "$RAFT_ORDERERS"; fi; }

peer_dir() { echo "$STATE/crypto/peerOrganizations/$(org_domain "$1")"; }
orderer_dir() { echo "$STATE/crypto/ordererOrganizations/$ORDERER_DOMAIN/orderers/$1.$ORDERER_DOMAIN"; }
orderer_tls_ca() { echo "$STATE/crypto/ordererOrganizations/$ORDERER_DOMAIN/tlsca/tlsca.$ORDERER_DOMAIN-cert.pem"; }
org_tls_ca() { echo "$(peer_dir "$1")/tlsca/tlsca.$(org_domain "$1")-cert.pem"; }

# start NAME CMD...: runs CMD in the background with its log and PID recorded.
start() {
    local name="$1"
    shift
    mkdir -p "$STATE/logs" "$STATE/pids"
    "$@" >"$STATE/logs/$name.log" 2>&1 &
    echo $! >"$STATE/pids/$name.pid"
    say "   started $name (pid $!, log state/logs/$name.log)"
}

pid_alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

# wait_healthy NAME OPS_PORT: polls GET /healthz until it answers 200.
wait_healthy() {
    local name="$1" port="$2" deadline=$((SECONDS + HEALTH_TIMEOUT))
    while ((SECONDS < deadline)); do
        if ! pid_alive "$STATE/pids/$name.pid"; then
            tail -n 20 "$STATE/logs/$name.log" >&2 || true
            fail "$name exited during start-up; see fabric-network/state/logs/$name.log (last lines above)"
        fi
        if curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null; then
            return 0
        fi
        sleep 0.5
    done
    tail -n 20 "$STATE/logs/$name.log" >&2 || true
    fail "$name did not become healthy within ${HEALTH_TIMEOUT}s (http://127.0.0.1:$port/healthz); see fabric-network/state/logs/$name.log"
}

# wait_port NAME PORT: waits until something accepts TCP connections on PORT.
wait_port() {
    local name="$1" port="$2" deadline=$((SECONDS + HEALTH_TIMEOUT))
    while ((SECONDS < deadline)); do
        if ! pid_alive "$STATE/pids/$name.pid"; then
            tail -n 20 "$STATE/logs/$name.log" >&2 || true
            fail "$name exited during start-up; see fabric-network/state/logs/$name.log"
        fi
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            return 0
        fi
        sleep 0.3
    done
    fail "$name is not listening on 127.0.0.1:$port after ${HEALTH_TIMEOUT}s; see fabric-network/state/logs/$name.log"
}

# retry N DESCRIPTION CMD...: runs CMD up to N times, 2 s apart.
retry() {
    local n="$1" what="$2" i
    shift 2
    for ((i = 1; i <= n; i++)); do
        if "$@" >"$STATE/logs/last-command.log" 2>&1; then
            return 0
        fi
        sleep 2
    done
    cat "$STATE/logs/last-command.log" >&2
    fail "$what failed $n times (output above; command: $*)"
}

require_tools() {
    local t
    for t in curl jq python3 ss tar; do
        command -v "$t" >/dev/null || fail "$t is required; install it (e.g. apt-get install -y $t)"
    done
}

require_binaries() {
    local b
    for b in peer orderer configtxgen cryptogen osnadmin discover fabric-ca-server fabric-ca-client; do
        if [[ ! -x "$BIN/$b" ]]; then
            say "Fabric binaries missing in $BIN: building them (fabric-network/scripts/install-binaries.sh)"
            "$NET/scripts/install-binaries.sh"
            return
        fi
    done
}

check_ports() {
    local busy=() var port
    for var in "${PORT_VARS[@]}"; do
        [[ "${BFT:-0}" != 1 && " ${BFT_ONLY_PORT_VARS[*]} " == *" $var "* ]] && continue
        port="${!var}"
        if ss -ltnH "sport = :$port" | grep -q .; then
            busy+=("$var=$port")
        fi
    done
    if ((${#busy[@]})); then
        fail "ports already in use: ${busy[*]} (see fabric-network/topology.toml); stop what uses them or change them there"
    fi
}

# ---------------------------------------------------------------- identities

peer_env() {
    # peer_env ORG: the peer CLI acting as ORG's admin against ORG's peer.
    local org="$1" d
    d="$(peer_dir "$org")"
    export FABRIC_CFG_PATH="$STATE/config"
    export CORE_PEER_TLS_ENABLED=true
    export CORE_PEER_LOCALMSPID
    CORE_PEER_LOCALMSPID="$(org_msp "$org")"
    export CORE_PEER_MSPCONFIGPATH="$d/users/Admin@$(org_domain "$org")/msp"
    export CORE_PEER_ADDRESS="127.0.0.1:$(port_of "$org" PEER_PORT)"
    export CORE_PEER_TLS_ROOTCERT_FILE
    CORE_PEER_TLS_ROOTCERT_FILE="$(org_tls_ca "$org")"
}

orderer_args() { echo "-o 127.0.0.1:$(port_of "${ORDERERS[0]}" PORT) --tls --cafile $(orderer_tls_ca)"; }

# ---------------------------------------------------------------- phases

make_config() {
    mkdir -p "$STATE/config"
    local sample
    sample="$(go env GOMODCACHE)/github.com/hyperledger/fabric@$FABRIC_MODULE_VERSION/sampleconfig"
    [[ -f "$sample/core.yaml" ]] || fail "Fabric's sampleconfig not found at $sample; run fabric-network/scripts/install-binaries.sh"
    cp "$sample/orderer.yaml" "$STATE/config/orderer.yaml"
    # The peer must not look for Docker, and must know our ccaas builder.
    python3 - "$sample/core.yaml" "$STATE/config/core.yaml" "$NET/builders/ccaas" <<'PY'
import re, sys
src, dst, builder = sys.argv[1:]
text = open(src).read()
text, n = re.subn(r"(\n\s*)endpoint: unix:///var/run/docker.sock", r'\1endpoint: ""', text, count=1)
assert n == 1, "vm.endpoint not found in core.yaml"
text, n = re.subn(r"(externalBuilders:\n\s*- name: )ccaas_builder\n(\s*)path: [^\n]*",
                  r"\1ehr_ccaas\n\2path: " + builder, text, count=1)
assert n == 1, "externalBuilders not found in core.yaml"
open(dst, "w").write(text)
PY
}

make_crypto() {
    phase "crypto material (cryptogen) and channel genesis block (configtxgen)"
    topology crypto-config >"$STATE/crypto-config.yaml"
    cryptogen generate --config="$STATE/crypto-config.yaml" --output="$STATE/crypto" >"$STATE/logs/cryptogen.log" 2>&1 \
        || { cat "$STATE/logs/cryptogen.log" >&2; fail "cryptogen failed"; }
    local profile=EhrRaft bft=()
    if [[ "${BFT:-0}" == 1 ]]; then profile=EhrBFT bft=(--bft); fi
    topology configtx "${bft[@]}" >"$STATE/configtx.yaml"
    FABRIC_CFG_PATH="$STATE" configtxgen -profile "$profile" -outputBlock "$STATE/$CHANNEL.block" -channelID "$CHANNEL" \
        >"$STATE/logs/configtxgen.log" 2>&1 || { cat "$STATE/logs/configtxgen.log" >&2; fail "configtxgen failed"; }
    echo "$profile" >"$STATE/consensus"
    phase_done
}

start_orderers() {
    local count n
    count="$(orderer_count)"
    phase "orderers ($count x $( [[ "${BFT:-0}" == 1 ]] && echo SmartBFT || echo Raft))"
    for n in "${ORDERERS[@]:0:count}"; do
        local dir data="$STATE/$n"
        dir="$(orderer_dir "$n")"
        mkdir -p "$data"
        start "$n" env \
            FABRIC_CFG_PATH="$STATE/config" FABRIC_LOGGING_SPEC="${FABRIC_LOGGING_SPEC:-INFO}" \
            ORDERER_GENERAL_LISTENADDRESS=127.0.0.1 ORDERER_GENERAL_LISTENPORT="$(port_of "$n" PORT)" \
            ORDERER_GENERAL_LOCALMSPID="$ORDERER_MSP" ORDERER_GENERAL_LOCALMSPDIR="$dir/msp" \
            ORDERER_GENERAL_TLS_ENABLED=true ORDERER_GENERAL_TLS_PRIVATEKEY="$dir/tls/server.key" \
            ORDERER_GENERAL_TLS_CERTIFICATE="$dir/tls/server.crt" ORDERER_GENERAL_TLS_ROOTCAS="[$dir/tls/ca.crt]" \
            ORDERER_GENERAL_CLUSTER_CLIENTCERTIFICATE="$dir/tls/server.crt" \
            ORDERER_GENERAL_CLUSTER_CLIENTPRIVATEKEY="$dir/tls/server.key" \
            ORDERER_GENERAL_CLUSTER_ROOTCAS="[$dir/tls/ca.crt]" \
            ORDERER_GENERAL_BOOTSTRAPMETHOD=none ORDERER_CHANNELPARTICIPATION_ENABLED=true \
            ORDERER_ADMIN_LISTENADDRESS="127.0.0.1:$(port_of "$n" ADMIN_PORT)" ORDERER_ADMIN_TLS_ENABLED=true \
            ORDERER_ADMIN_TLS_CERTIFICATE="$dir/tls/server.crt" ORDERER_ADMIN_TLS_PRIVATEKEY="$dir/tls/server.key" \
            ORDERER_ADMIN_TLS_ROOTCAS="[$dir/tls/ca.crt]" ORDERER_ADMIN_TLS_CLIENTAUTHREQUIRED=true \
            ORDERER_ADMIN_TLS_CLIENTROOTCAS="[$dir/tls/ca.crt]" \
            ORDERER_OPERATIONS_LISTENADDRESS="127.0.0.1:$(port_of "$n" OPS_PORT)" \
            ORDERER_FILELEDGER_LOCATION="$data/ledger" ORDERER_CONSENSUS_WALDIR="$data/wal" \
            ORDERER_CONSENSUS_SNAPDIR="$data/snap" \
            "$BIN/orderer"
    done
    for n in "${ORDERERS[@]:0:count}"; do
        wait_healthy "$n" "$(port_of "$n" OPS_PORT)"
    done
    local admin="$STATE/crypto/ordererOrganizations/$ORDERER_DOMAIN/users/Admin@$ORDERER_DOMAIN/tls"
    for n in "${ORDERERS[@]:0:count}"; do
        retry 5 "$n joining channel $CHANNEL (osnadmin)" osnadmin channel join --channelID "$CHANNEL" \
            --config-block "$STATE/$CHANNEL.block" -o "127.0.0.1:$(port_of "$n" ADMIN_PORT)" --ca-file "$(orderer_tls_ca)" \
            --client-cert "$admin/client.crt" --client-key "$admin/client.key"
        say "   $n joined channel $CHANNEL"
    done
    phase_done
}

start_peers() {
    phase "peers (one per organisation, LevelDB, gateway on)"
    local org
    for org in "${ORGS[@]}"; do
        local d host data
        d="$(peer_dir "$org")" host="peer0.$(org_domain "$org")" data="$STATE/peer0.$org"
        mkdir -p "$data"
        start "peer0.$org" env \
            FABRIC_CFG_PATH="$STATE/config" FABRIC_LOGGING_SPEC="${FABRIC_LOGGING_SPEC:-INFO}" \
            CORE_PEER_ID="$host" CORE_PEER_ADDRESS="127.0.0.1:$(port_of "$org" PEER_PORT)" \
            CORE_PEER_LISTENADDRESS="127.0.0.1:$(port_of "$org" PEER_PORT)" \
            CORE_PEER_CHAINCODEADDRESS="127.0.0.1:$(port_of "$org" PEER_CC_PORT)" \
            CORE_PEER_CHAINCODELISTENADDRESS="127.0.0.1:$(port_of "$org" PEER_CC_PORT)" \
            CORE_PEER_GOSSIP_BOOTSTRAP="127.0.0.1:$(port_of "$org" PEER_PORT)" \
            CORE_PEER_GOSSIP_EXTERNALENDPOINT="127.0.0.1:$(port_of "$org" PEER_PORT)" \
            CORE_PEER_LOCALMSPID="$(org_msp "$org")" CORE_PEER_MSPCONFIGPATH="$d/peers/$host/msp" \
            CORE_PEER_TLS_ENABLED=true CORE_PEER_TLS_CERT_FILE="$d/peers/$host/tls/server.crt" \
            CORE_PEER_TLS_KEY_FILE="$d/peers/$host/tls/server.key" CORE_PEER_TLS_ROOTCERT_FILE="$d/peers/$host/tls/ca.crt" \
            CORE_PEER_FILESYSTEMPATH="$data" CORE_LEDGER_SNAPSHOTS_ROOTDIR="$data/snapshots" \
            CORE_LEDGER_STATE_STATEDATABASE=goleveldb CORE_PEER_GATEWAY_ENABLED=true \
            CORE_OPERATIONS_LISTENADDRESS="127.0.0.1:$(port_of "$org" PEER_OPS_PORT)" \
            "$BIN/peer" node start
    done
    for org in "${ORGS[@]}"; do
        wait_healthy "peer0.$org" "$(port_of "$org" PEER_OPS_PORT)"
    done
    for org in "${ORGS[@]}"; do
        (peer_env "$org" && retry 5 "peer0.$org joining channel $CHANNEL" peer channel join -b "$STATE/$CHANNEL.block")
        say "   peer0.$org joined channel $CHANNEL"
    done
    phase_done
}

start_cas() {
    phase "fabric-ca servers (one per organisation, signing with the org's MSP CA) and sample users"
    local org
    for org in "${ORGS[@]}"; do
        local d dom home
        d="$(peer_dir "$org")" dom="$(org_domain "$org")" home="$STATE/ca.$org"
        mkdir -p "$home"
        start "ca.$org" "$BIN/fabric-ca-server" start -H "$home" -b admin:adminpw \
            --address 127.0.0.1 --port "$(port_of "$org" CA_PORT)" --ca.name "ca-$org" \
            --ca.certfile "$d/ca/ca.$dom-cert.pem" --ca.keyfile "$d/ca/priv_sk" \
            --tls.enabled --tls.certfile "$d/peers/ca.$dom/tls/server.crt" --tls.keyfile "$d/peers/ca.$dom/tls/server.key" \
            --operations.listenaddress "127.0.0.1:$(port_of "$org" CA_OPS_PORT)" --metrics.provider disabled
    done
    for org in "${ORGS[@]}"; do
        wait_healthy "ca.$org" "$(port_of "$org" CA_OPS_PORT)"
        enrol_users "$org"
    done
    phase_done
}

# enrol_users ORG: ORG's sample users (ORG_USERS: NAME:ROLE[:ATTR=VALUE,...]), each through enrol_user.
enrol_users() {
    local org="$1" entry
    enrol_registrar "$org"
    for entry in ${ORG_USERS[$org]}; do
        local name role extra extras=()
        IFS=: read -r name role extra <<<"$entry"
        [[ -n "$extra" ]] && IFS=, read -r -a extras <<<"$extra"
        enrol_user "$org" "$name" "$role" "${extras[@]}"
    done
}

# enrol_registrar ORG: enrols the bootstrap admin of ca.ORG (admin:adminpw), the
# registrar of every user, into state/ca-clients/ORG/registrar (once).
enrol_registrar() {
    local org="$1" registrar="$STATE/ca-clients/$1/registrar"
    [[ -f "$registrar/msp/signcerts/cert.pem" ]] && return 0
    retry 5 "enrolling the registrar of ca.$org" fabric-ca-client enroll \
        -u "https://admin:adminpw@127.0.0.1:$(port_of "$org" CA_PORT)" \
        --caname "ca-$org" --tls.certfiles "$(org_tls_ca "$org")" -H "$registrar"
}

# enrol_user ORG NAME ROLE [ATTR=VALUE...]: registers NAME (secret NAMEpw, type
# client) at ca.ORG with the attributes role=ROLE and each ATTR=VALUE, all put in
# the enrolment certificate (:ecert), enrols it and writes a usable MSP folder to
# state/users/ORG/NAME/msp (signcerts/cert.pem, keystore/key.pem, NodeOUs
# config.yaml). The one way users are made: sample users and `network.sh user`.
enrol_user() {
    local org="$1" name="$2" role="$3" url tlsca registrar attrs shown="" msp kv cacert
    shift 3
    url="127.0.0.1:$(port_of "$org" CA_PORT)" tlsca="$(org_tls_ca "$org")"
    registrar="$STATE/ca-clients/$org/registrar" msp="$STATE/users/$org/$name/msp"
    attrs="role=$role:ecert"
    for kv in "$@"; do attrs+=",$kv:ecert" shown+=", $kv"; done
    retry 3 "registering $name at ca.$org" fabric-ca-client register -H "$registrar" --caname "ca-$org" \
        --tls.certfiles "$tlsca" -u "https://$url" --id.name "$name" --id.secret "${name}pw" --id.type client \
        --id.attrs "$attrs"
    retry 3 "enrolling $name at ca.$org" fabric-ca-client enroll -u "https://$name:${name}pw@$url" \
        --caname "ca-$org" --tls.certfiles "$tlsca" -H "$STATE/ca-clients/$org/$name" -M "$msp"
    mv "$msp"/keystore/*_sk "$msp/keystore/key.pem"
    cacert="$(basename "$(ls "$msp"/cacerts/*.pem | head -n 1)")"
    cat >"$msp/config.yaml" <<YAML
NodeOUs:
  Enable: true
  ClientOUIdentifier: { Certificate: cacerts/$cacert, OrganizationalUnitIdentifier: client }
  PeerOUIdentifier: { Certificate: cacerts/$cacert, OrganizationalUnitIdentifier: peer }
  AdminOUIdentifier: { Certificate: cacerts/$cacert, OrganizationalUnitIdentifier: admin }
  OrdererOUIdentifier: { Certificate: cacerts/$cacert, OrganizationalUnitIdentifier: orderer }
YAML
    say "   $org/$name enrolled (role=$role$shown) -> state/users/$org/$name/msp"
}

# ---------------------------------------------------------------- chaincode

# chaincode_spec NAME: sets, from the topology's chaincode NAME, CC_PACKAGE,
# CC_BINARY, CC_PORT_SUFFIX (an org's server port is <ORG>_<CC_PORT_SUFFIX>),
# CC_COLLECTIONS, CC_INDEXES and CC_ROLES_REGISTRY (absolute; empty: none),
# CC_CHANNEL_SECRET (1: set it once) and CC_POLICY (the chaincode-level
# endorsement policy, --signature-policy of approve and commit; why each
# chaincode has its policy is explained in fabric-network/topology.toml).
chaincode_spec() {
    local spec v
    spec="$(topology chaincode "$1")" || fail "no chaincode '$1' in fabric-network/topology.toml (known: ${CHAINCODES[*]})"
    eval "$spec"
    CC_BINARY="$TARGET/release/$CC_BINARY_NAME"
    for v in CC_COLLECTIONS CC_INDEXES CC_ROLES_REGISTRY; do
        [[ -z "${!v}" ]] || printf -v "$v" '%s' "$REPO/${!v}"
    done
}

build_chaincode() {
    say "   building $CC_PACKAGE (cargo build --release)"
    (cd "$REPO" && cargo build --release --locked -p "$CC_PACKAGE" >"$STATE/logs/cargo-$1.log" 2>&1) \
        || { tail -n 30 "$STATE/logs/cargo-$1.log" >&2; fail "building the $1 chaincode failed; see state/logs/cargo-$1.log"; }
    [[ -x "$CC_BINARY" ]] || fail "$CC_BINARY was not built"
}

committed_sequence() {
    (peer_env "${ORGS[0]}" && peer lifecycle chaincode querycommitted -C "$CHANNEL" -n "$1" -O json 2>/dev/null | jq -r '.sequence') || echo 0
}

deploy_chaincode() {
    local name="$1" org
    chaincode_spec "$name"
    phase "chaincode '$name' through the lifecycle (package, install, approve, commit) and its servers"
    build_chaincode "$name"
    local sequence
    sequence=$(( $(committed_sequence "$name") + 1 ))
    local label="${name}_$sequence"
    declare -A pkgid
    local collections=()
    [[ -z "$CC_COLLECTIONS" ]] || collections=(--collections-config "$CC_COLLECTIONS")
    for org in "${ORGS[@]}"; do
        local d dom dir port
        d="$(peer_dir "$org")" dom="$(org_domain "$org")" dir="$STATE/chaincode/$name-$sequence-$org"
        port="$(port_of "$org" "$CC_PORT_SUFFIX")"
        rm -rf "$dir" && mkdir -p "$dir/code"
        jq -n --arg address "127.0.0.1:$port" \
            --rawfile root "$(org_tls_ca "$org")" \
            --rawfile cert "$d/peers/peer0.$dom/tls/server.crt" --rawfile key "$d/peers/peer0.$dom/tls/server.key" \
            '{address: $address, dial_timeout: "10s", tls_required: true, client_auth_required: true,
              root_cert: $root, client_cert: $cert, client_key: $key}' >"$dir/code/connection.json"
        if [[ -n "$CC_INDEXES" && -d "$CC_INDEXES" ]]; then cp -R "$CC_INDEXES" "$dir/code/META-INF"; fi
        jq -n --arg lbl "$label" '{"type": "ccaas", "label": $lbl}' >"$dir/metadata.json"
        tar -C "$dir/code" -czf "$dir/code.tar.gz" .
        tar -C "$dir" -czf "$dir/$label.tar.gz" metadata.json code.tar.gz
        (peer_env "$org" && retry 3 "installing $name on peer0.$org" peer lifecycle chaincode install "$dir/$label.tar.gz")
        pkgid[$org]=$(peer_env "$org" && peer lifecycle chaincode calculatepackageid "$dir/$label.tar.gz")
        say "   installed on peer0.$org as ${pkgid[$org]}"
        start_chaincode_server "$name" "$org" "${pkgid[$org]}" "$port"
    done
    for org in "${ORGS[@]}"; do
        wait_port "$name.$org" "$(port_of "$org" "$CC_PORT_SUFFIX")"
        # shellcheck disable=SC2046
        (peer_env "$org" && retry 3 "approving $name for $(org_msp "$org")" peer lifecycle chaincode approveformyorg \
            $(orderer_args) -C "$CHANNEL" -n "$name" -v "$sequence" --sequence "$sequence" --package-id "${pkgid[$org]}" \
            --signature-policy "$CC_POLICY" "${collections[@]}")
        say "   approved for $(org_msp "$org")"
    done
    local peers=()
    mapfile -t peers < <(peer_targets "${ORGS[@]}")
    # shellcheck disable=SC2046
    (peer_env "${ORGS[0]}" && retry 3 "committing $name sequence $sequence" peer lifecycle chaincode commit \
        $(orderer_args) -C "$CHANNEL" -n "$name" -v "$sequence" --sequence "$sequence" \
        --signature-policy "$CC_POLICY" "${collections[@]}" "${peers[@]}")
    say "   committed $name sequence $sequence on channel $CHANNEL (endorsement policy $CC_POLICY)"
    wait_endorsable "$name"
    write_roles_registry "$name"
    write_channel_secret "$name"
    phase_done
}

# peer_targets ORG...: the peer CLI's --peerAddresses/--tlsRootCertFiles pair
# for each ORG's peer, one word a line (read them with mapfile -t).
peer_targets() {
    local org
    for org in "$@"; do
        printf '%s\n' --peerAddresses "127.0.0.1:$(port_of "$org" PEER_PORT)" --tlsRootCertFiles "$(org_tls_ca "$org")"
    done
}

# canonical_registry: reads a roles registry on stdin and prints it as one line
# with sorted keys, organisations sorted by msp and each one's roles sorted (the
# order the chaincode's RoleRegistry answers in), so that equal registries
# compare equal; fails on anything that is not a registry.
canonical_registry() {
    jq -S -c '.organisations |= (sort_by(.msp) | map(.roles |= sort))'
}

# write_roles_registry NAME: makes the on-ledger roles registry of chaincode
# NAME (which organisation is a hospital or the regulator, and the roles its CA
# may give) equal to $CC_ROLES_REGISTRY; nothing to do when that is empty. It
# reads RoleRegistry as hospitala's admin first and submits SetRoleRegistry only
# when the ledger differs, so redeploying the same file writes nothing. The
# chaincode accepts SetRoleRegistry only from an organisation admin (cryptogen's
# Admin@<org>.ehr, as `network.sh env ORG` exports) and only with every
# organisation's endorsement, so the invoke targets all three peers.
write_roles_registry() {
    local name="$1" file="$CC_ROLES_REGISTRY" rel want have args peers=()
    [[ -n "$file" ]] || return 0
    rel="${file#"$REPO"/}"
    [[ -f "$file" ]] || fail "the roles registry $rel is missing"
    want="$(canonical_registry <"$file" 2>/dev/null)" \
        || fail "$rel is not a roles registry ({\"organisations\":[{\"msp\",\"kind\",\"roles\"}...]})"
    local err="$STATE/logs/roles-registry-query.log"
    if have="$(peer_env "${ORGS[0]}" && peer chaincode query -C "$CHANNEL" -n "$name" -c '{"Args":["RoleRegistry"]}' 2>"$err")"; then
        if [[ "$(canonical_registry <<<"$have" 2>/dev/null)" == "$want" ]]; then
            say "   the roles registry on the ledger already equals $rel; nothing written"
            return 0
        fi
        say "   the roles registry on the ledger differs from $rel: replacing it"
    elif grep -q "no roles registry" "$err"; then
        say "   no roles registry on the ledger yet: writing $rel"
    else
        say "   could not read the roles registry ($(tail -n 1 "$err")): writing $rel"
    fi
    # The registry goes in as one string argument: JSON inside the Args JSON.
    args="$(jq -c -n --arg r "$(jq -c . "$file")" '{Args: ["SetRoleRegistry", $r]}')"
    mapfile -t peers < <(peer_targets "${ORGS[@]}")
    # shellcheck disable=SC2046
    (peer_env "${ORGS[0]}" && retry 3 "writing the roles registry (SetRoleRegistry as Admin@$(org_domain "${ORGS[0]}"))" \
        peer chaincode invoke $(orderer_args) -C "$CHANNEL" -n "$name" "${peers[@]}" --waitForEvent -c "$args")
    have="$(peer_env "${ORGS[0]}" && peer chaincode query -C "$CHANNEL" -n "$name" -c '{"Args":["RoleRegistry"]}' 2>"$err")" \
        || { cat "$err" >&2; fail "RoleRegistry cannot be read after SetRoleRegistry (output above)"; }
    [[ "$(canonical_registry <<<"$have" 2>/dev/null)" == "$want" ]] \
        || fail "after SetRoleRegistry the ledger's roles registry is $have, not the contents of $rel"
    say "   roles registry written from $rel: $(jq -r '[.organisations[] | "\(.msp) \(.kind) (\(.roles | join(", ")))"] | join("; ")' "$file")"
}

# write_channel_secret NAME: sets, once, the secret that chaincode NAME keys its
# pseudonymous private-data keys and salts with (SetChannelSecret, 32 random
# bytes as transient data, never an argument). A second deploy finds it set.
write_channel_secret() {
    local name="$1" secret transient out peers=()
    [[ "$CC_CHANNEL_SECRET" == 1 ]] || return 0
    secret="$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')"
    [[ ${#secret} == 64 ]] || fail "could not draw 32 random bytes from /dev/urandom"
    transient="$(jq -c -n --arg s "$(printf %s "$secret" | base64 -w0)" '{channelSecret: $s}')"
    mapfile -t peers < <(peer_targets "${ORGS[@]}")
    # Retried on a transient endorsement failure; "already set" (a second
    # deploy, or a first try that committed before its answer was lost) is final.
    local attempt state="failed"
    for attempt in 1 2 3; do
        # shellcheck disable=SC2046
        if out="$(peer_env "${ORGS[0]}" && peer chaincode invoke $(orderer_args) -C "$CHANNEL" -n "$name" "${peers[@]}" \
            --waitForEvent -c '{"Args":["SetChannelSecret"]}' --transient "$transient" 2>&1)"; then
            state="set"
            break
        fi
        grep -q "already set" <<<"$out" && { state="kept"; break; }
        [[ $attempt == 3 ]] || { say "   SetChannelSecret failed (attempt $attempt of 3); retrying"; sleep 2; }
    done
    if [[ $state == set ]]; then
        say "   channel secret set (SetChannelSecret as Admin@$(org_domain "${ORGS[0]}")); it never changes"
    elif [[ $state == kept ]]; then
        say "   the channel secret is already set; kept"
    else
        printf '%s\n' "$out" >&2
        fail "SetChannelSecret failed (output above); without it nothing about patients can be written"
    fi
}

# wait_endorsable NAME: waits until every peer's discovery service knows a peer
# with the chaincode in each organisation its endorsement policy ($CC_POLICY)
# names, so that gateways can endorse at once.
wait_endorsable() {
    local name="$1" org want
    want="$CC_ENDORSING_ORGS"
    for org in "${ORGS[@]}"; do
        local d dom msp deadline groups
        d="$(peer_dir "$org")" dom="$(org_domain "$org")"
        msp="$d/users/Admin@$dom/msp"
        deadline=$((SECONDS + HEALTH_TIMEOUT))
        while :; do
            groups=$(discover --peerTLSCA "$(org_tls_ca "$org")" --userKey "$msp/keystore/priv_sk" \
                --userCert "$msp/signcerts/Admin@$dom-cert.pem" --MSP "$(org_msp "$org")" \
                endorsers --channel "$CHANNEL" --chaincode "$name" --server "127.0.0.1:$(port_of "$org" PEER_PORT)" \
                2>/dev/null | jq -r '.[0].EndorsersByGroups | length' 2>/dev/null || echo 0)
            [[ "$groups" == "$want" ]] && break
            ((SECONDS < deadline)) || fail "peer0.$org's discovery does not see $name on the peers of all $want organisations its policy names after ${HEALTH_TIMEOUT}s; see state/logs/peer0.$org.log"
            sleep 1
        done
    done
    say "   every peer's discovery sees $name on the $want organisations its endorsement policy names"
}

start_chaincode_server() {
    local name="$1" org="$2" pkgid="$3" port="$4" d dom
    d="$(peer_dir "$org")" dom="$(org_domain "$org")"
    stop_process "$name.$org"
    start "$name.$org" env \
        CHAINCODE_SERVER_ADDRESS="127.0.0.1:$port" CHAINCODE_ID="$pkgid" RUST_LOG="${CHAINCODE_LOG:-info}" \
        CHAINCODE_TLS_KEY_FILE="$d/peers/ehr-ccaas.$dom/tls/server.key" \
        CHAINCODE_TLS_CERT_FILE="$d/peers/ehr-ccaas.$dom/tls/server.crt" \
        CHAINCODE_TLS_CLIENT_CA_FILE="$(org_tls_ca "$org")" \
        "$CC_BINARY"
}

# ---------------------------------------------------------------- lifecycle of the network

stop_process() {
    local name="$1" file="$STATE/pids/$1.pid" pid i
    [[ -f "$file" ]] || return 0
    pid="$(cat "$file")"
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.2
        done
        if kill -0 "$pid" 2>/dev/null; then
            say "   $name (pid $pid) did not stop in 10s; killing it"
            kill -KILL "$pid" 2>/dev/null || true
        fi
        say "   stopped $name (pid $pid)"
    fi
    rm -f "$file"
}

running_count() {
    local f n=0
    for f in "$STATE"/pids/*.pid; do
        [[ -e "$f" ]] || continue
        pid_alive "$f" && n=$((n + 1))
    done
    echo "$n"
}

# network.json: what a client needs to reach each organisation (MSP id, gateway
# peer, TLS roots, CA, users' MSP folders), so that the ehr tool reads the
# network it talks to instead of knowing it in advance. Written once the
# CAs are up; EHR_NETWORK_DIR (or running ehr inside this checkout) finds it.
write_network_json() {
    topology profile --state "$STATE" >"$STATE/network.json"
}

cmd_up() {
    BFT=0
    [[ "${1:-}" == "--bft" ]] && BFT=1
    [[ $# -gt 1 || ( $# == 1 && "$1" != "--bft" ) ]] && fail "usage: network.sh up [--bft]"
    if [[ -d "$STATE/pids" && "$(running_count)" -gt 0 ]]; then
        say "the network is already up ($(running_count) processes); nothing changed. Use 'network.sh down' first to restart it."
        return 0
    fi
    local started=$SECONDS
    require_tools
    phase "prerequisites: Fabric $FABRIC_VERSION binaries, free ports"
    require_binaries
    check_ports
    phase_done
    rm -rf "$STATE"
    mkdir -p "$STATE/logs" "$STATE/pids"
    trap 'say "up failed; stopping what was started (network.sh down)"; cmd_down >/dev/null 2>&1 || true' ERR
    make_config
    make_crypto
    start_cas
    write_network_json
    start_orderers
    start_peers
    deploy_chaincode "${CHAINCODES[0]}"
    trap - ERR
    say "network is up in $((SECONDS - started))s: channel $CHANNEL, chaincode ${CHAINCODES[0]} committed. Users: fabric-network/state/users/<org>/<user>/msp"
}

cmd_down() {
    if [[ ! -d "$STATE" ]]; then
        say "nothing to stop: no state folder"
        return 0
    fi
    local f
    for f in "$STATE"/pids/*.pid; do
        [[ -e "$f" ]] || continue
        stop_process "$(basename "$f" .pid)"
    done
    rm -rf "$STATE"
    say "network is down; state removed"
}

cmd_status() {
    [[ -d "$STATE/pids" ]] || { say "the network is not up"; return 1; }
    local f name ok=0 bad=0
    printf '%-28s %-8s %-8s %s\n' NODE PID STATE HEALTH
    for f in "$STATE"/pids/*.pid; do
        [[ -e "$f" ]] || continue
        name="$(basename "$f" .pid)"
        local state=down health="-" port=""
        pid_alive "$f" && state=up
        # A node the topology no longer names (state from an older topology) gets no health.
        if [[ " ${ORDERERS[*]} " == *" $name "* ]]; then
            port="$(port_of "$name" OPS_PORT)"
        elif [[ "$name" == peer0.* ]] && is_org "${name#peer0.}"; then
            port="$(port_of "${name#peer0.}" PEER_OPS_PORT)"
        elif [[ "$name" == ca.* ]] && is_org "${name#ca.}"; then
            port="$(port_of "${name#ca.}" CA_OPS_PORT)"
        fi
        if [[ -n "$port" ]]; then
            health=$(curl -fsS "http://127.0.0.1:$port/healthz" 2>/dev/null | jq -r '.status' 2>/dev/null || echo unreachable)
        fi
        [[ $state == up ]] && ok=$((ok + 1)) || bad=$((bad + 1))
        printf '%-28s %-8s %-8s %s\n' "$name" "$(cat "$f")" "$state" "$health"
    done
    local org
    for org in "${ORGS[@]}"; do
        local height
        height=$(peer_env "$org" && peer channel getinfo -c "$CHANNEL" 2>/dev/null | sed -n 's/^Blockchain info: //p' | jq -r '.height' || echo "?")
        say "peer0.$org: channel $CHANNEL height ${height:-?}"
    done
    (peer_env "${ORGS[0]}" && peer lifecycle chaincode querycommitted -C "$CHANNEL" -O json 2>/dev/null \
        | jq -r '.chaincode_definitions[]? | "chaincode \(.name) committed: version \(.version), sequence \(.sequence)"') \
        | while read -r line; do say "$line"; done
    say "$ok processes up, $bad down"
    [[ $bad == 0 ]]
}

cmd_logs() {
    [[ $# == 1 ]] || fail "usage: network.sh logs NODE (e.g. orderer1, peer0.hospitala, ca.hospitalb, ehr.regulator)"
    local log="$STATE/logs/$1.log"
    [[ -f "$log" ]] || fail "no log for '$1'; known: $(ls "$STATE/logs" 2>/dev/null | sed 's/\.log$//' | tr '\n' ' ')"
    cat "$log"
}

cmd_crypto() {
    if [[ -d "$STATE/pids" && "$(running_count)" -gt 0 ]]; then
        fail "the network is up; new crypto material would replace its identities. Run 'network.sh down' first."
    fi
    require_tools
    require_binaries
    rm -rf "$STATE"
    mkdir -p "$STATE/logs" "$STATE/compose"
    make_crypto
    FABRIC_CFG_PATH="$NET/compose" configtxgen -profile EhrChannel -channelID "$CHANNEL" \
        -outputBlock "$STATE/compose/$CHANNEL.block" >"$STATE/logs/configtxgen-compose.log" 2>&1 \
        || { cat "$STATE/logs/configtxgen-compose.log" >&2; fail "configtxgen for docker-compose failed"; }
    say "identities in fabric-network/state/crypto; channel blocks: state/$CHANNEL.block (local), state/compose/$CHANNEL.block (docker-compose.yaml)"
}

require_up() {
    [[ -d "$STATE/pids" && "$(running_count)" -gt 0 ]] || fail "the network is not up; run 'network.sh up' first"
}

is_org() { [[ -n "$1" && " ${ORGS[*]} " == *" $1 "* ]]; }

cmd_deploy() {
    require_up
    deploy_chaincode "${1:-${CHAINCODES[0]}}"
}

# cmd_user ORG NAME ROLE [ATTR=VALUE...]: one more user at ORG's fabric-ca, made
# exactly as the sample users are (enrol_user). ROLE and the attributes are not
# checked against the roles registry: tests use this to mint identities that
# the chaincode must refuse (e.g. HospitalB's CA giving patient_id=P-0001).
cmd_user() {
    local usage="usage: network.sh user ORG NAME ROLE [ATTR=VALUE...]; ORG is one of ${ORGS[*]}"
    (($# >= 3)) || fail "$usage"
    local org="$1" name="$2" role="$3" kv
    shift 3
    is_org "$org" || fail "unknown organisation '$org'; $usage"
    # NAME ends up in a URL (NAME:NAMEpw@host) and in folder names.
    [[ "$name" =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]] \
        || fail "user name '$name' must be letters, digits, '.', '_' or '-' (not starting with one of the last three)"
    # fabric-ca-client splits --id.attrs at commas; keep values free of them.
    [[ -n "$role" && "$role" != *[,\"]* ]] || fail "ROLE '$role' must be non-empty, without ',' or '\"'"
    for kv in "$@"; do
        [[ "$kv" =~ ^[A-Za-z_][A-Za-z0-9_.]*=[^,\"]*$ ]] \
            || fail "attribute '$kv' must be ATTR=VALUE (ATTR: letters, digits, '_' or '.'; VALUE without ',' or '\"')"
        [[ "${kv%%=*}" != role ]] || fail "give the role as ROLE ('$kv' would be a second role attribute)"
    done
    require_up
    pid_alive "$STATE/pids/ca.$org.pid" || fail "ca.$org is not running (see network.sh status; state/logs/ca.$org.log)"
    [[ ! -e "$STATE/users/$org/$name" ]] \
        || fail "user $org/$name already exists (state/users/$org/$name); pick another name"
    enrol_registrar "$org"
    enrol_user "$org" "$name" "$role" "$@"
    say "use it with the peer CLI: eval \"\$(fabric-network/network.sh env $org $name)\""
}

cmd_env() {
    local org="${1:-}" user="${2:-}"
    is_org "$org" || fail "usage: network.sh env ORG [USER]; ORG is one of ${ORGS[*]}"
    peer_env "$org"
    [[ -n "$user" ]] && CORE_PEER_MSPCONFIGPATH="$STATE/users/$org/$user/msp"
    local v
    for v in FABRIC_CFG_PATH CORE_PEER_TLS_ENABLED CORE_PEER_LOCALMSPID CORE_PEER_MSPCONFIGPATH CORE_PEER_ADDRESS CORE_PEER_TLS_ROOTCERT_FILE; do
        printf 'export %s=%q\n' "$v" "${!v}"
    done
    printf 'export PATH=%q:$PATH\n' "$BIN"
    printf 'export ORDERER_CA=%q ORDERER_ADDRESS=127.0.0.1:%s\n' "$(orderer_tls_ca)" "$(port_of "${ORDERERS[0]}" PORT)"
}

cmd="${1:-}"
[[ $# -gt 0 ]] && shift
# `down` and `logs` need only the state folder: they work even when the tool
# or the topology file is broken.
case "$cmd" in
    down | logs) ;;
    *) load_topology ;;
esac
case "$cmd" in
    up) cmd_up "$@" ;;
    down) cmd_down ;;
    status) cmd_status ;;
    logs) cmd_logs "$@" ;;
    deploy) cmd_deploy "$@" ;;
    env) cmd_env "$@" ;;
    user) cmd_user "$@" ;;
    crypto) cmd_crypto ;;
    *) fail "unknown command '$cmd'; see network.sh --help" ;;
esac
