#!/usr/bin/env bash
# Validates docker-compose.yaml and chaincode/Dockerfile without a Docker
# engine (CI has none), as well as this machine allows:
#
#   fabric-network/scripts/check-compose.sh
#
# 1. docker-compose (Debian's 1.29, installed with apt if missing) parses and
#    validates the compose file against its schema (`config -q`), once with
#    only the required variables set to dummy values (all others must have
#    defaults: an "unset variable" warning is an error) and once with every
#    variable it reads overridden.
# 2. A deliberately broken copy must be rejected, so a validator that accepts
#    anything cannot pass this check.
# 3. The rendered file is sound: images pinned (to versions.env's where it
#    names a release), names are the host names, crypto is mounted read-only,
#    peers use CouchDB. (Ports and names come from fabric-network/topology.toml,
#    which generates this file; `topology check` keeps the two in step.)
# 4. chaincode/Dockerfile: base images pinned, the Rust image is the toolchain
#    of rust-toolchain.toml, every COPY source exists and is not excluded by
#    .dockerignore, and the workspace loads from only the copied files.
# Exits non-zero on the first kind of problem found, after listing them all.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

say() { printf 'check-compose: %s\n' "$*"; }
die() { printf 'check-compose: FAILED: %s\n' "$*" >&2; exit 1; }

COMPOSE_FILE=docker-compose.yaml
DOCKERFILE=chaincode/Dockerfile
[[ -f $COMPOSE_FILE ]] || die "$COMPOSE_FILE is missing"
[[ -f $DOCKERFILE ]] || die "$DOCKERFILE is missing"

# ------------------------------------------------------------ docker-compose --
if ! command -v docker-compose >/dev/null; then
    say "docker-compose not found; installing Debian's package (apt-get install docker-compose)"
    SUDO=()
    [[ $(id -u) == 0 ]] || SUDO=(sudo -n)
    command -v apt-get >/dev/null || die "docker-compose is missing and apt-get is not available: install docker-compose (1.29+) or Docker Compose v2 yourself"
    if ! { "${SUDO[@]}" apt-get update -qq && DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq docker-compose >/dev/null; }; then
        die "could not install docker-compose with apt-get (needs root and Debian's package archive); install it and run again"
    fi
fi
command -v docker-compose >/dev/null || die "docker-compose still not on PATH after installing it"
command -v python3 >/dev/null && python3 -c 'import yaml' 2>/dev/null \
    || die "python3 with PyYAML is needed (Debian: apt-get install python3-yaml; docker-compose depends on it)"
say "using $(docker-compose version --short 2>/dev/null || docker-compose --version)"

# The variables a user must set (no default in the file), with dummy values.
# Any other variable the file reads must have a default: docker-compose's
# "variable is not set" warning (e.g. for a misspelt name) is a problem.
declare -A required_env=(
    [EHR_CHAINCODE_ID]="ehr_1.0:$(printf '0%.0s' {1..64})"
)
# Every variable the file reads, set to a dummy (distinct numbers for ports),
# for a second run that checks the file stays valid with everything overridden.
mapfile -t compose_vars < <(grep -o '\${[A-Za-z_][A-Za-z0-9_]*' "$COMPOSE_FILE" | cut -c3- | sort -u)
declare -A override_env=()
n=20000
for v in "${compose_vars[@]}"; do
    case $v in
        *_PORT) override_env[$v]=$((n++)) ;;
        EHR_CHAINCODE_USER) override_env[$v]="1000:1000" ;;
        *) override_env[$v]="dummy-$v" ;;
    esac
done

# run_config MODE FILE [ARGS...]: docker-compose config on FILE in a clean
# environment (the caller's variables do not leak in) with the required
# dummies (MODE=required) or with every variable overridden (MODE=override).
run_config() {
    local mode="$1" file="$2"; shift 2
    local -a envs=(PATH="$PATH" HOME="${HOME:-/tmp}" LANG=C.UTF-8)
    local v
    if [[ $mode == override ]]; then
        for v in "${!override_env[@]}"; do envs+=("$v=${override_env[$v]}"); done
    fi
    for v in "${!required_env[@]}"; do envs+=("$v=${required_env[$v]}"); done
    env -i "${envs[@]}" docker-compose --project-directory "$ROOT" -f "$file" config "$@"
}

problems=()
problem() { problems+=("$*"); printf 'check-compose: problem: %s\n' "$*" >&2; }

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# 1. The file itself: with its defaults, and with every variable overridden.
for mode in required override; do
    if run_config "$mode" "$COMPOSE_FILE" -q >"$TMP/valid.out" 2>&1; then
        if grep -qi 'variable is not set' "$TMP/valid.out"; then
            problem "docker-compose warns about a variable without a default (misspelt?): $(grep -i 'not set' "$TMP/valid.out" | tr '\n' ' ')"
        else
            say "docker-compose config ($mode variables): $COMPOSE_FILE is valid"
        fi
    else
        problem "docker-compose rejects $COMPOSE_FILE ($mode variables):"
        sed 's/^/    /' "$TMP/valid.out" >&2
    fi
done

# 2. The validator must reject broken files (a key the schema does not allow,
#    and a YAML syntax error).
python3 - "$COMPOSE_FILE" "$TMP/broken-key.yaml" <<'PY'
import sys
src, dst = sys.argv[1], sys.argv[2]
text = open(src).read()
marker = "\n  peer0.hospitala.ehr:\n"
assert marker in text, "peer0.hospitala.ehr service not found"
open(dst, "w").write(text.replace(marker, marker + "    no_such_compose_key: 1\n", 1))
PY
{ cat "$COMPOSE_FILE"; printf 'services: [unclosed\n'; } >"$TMP/broken-syntax.yaml"
for broken in broken-key broken-syntax; do
    if run_config required "$TMP/$broken.yaml" -q >"$TMP/$broken.out" 2>&1; then
        problem "docker-compose accepted a deliberately broken copy ($broken): the validation proves nothing"
    else
        say "docker-compose config rejects a broken copy ($broken): $(grep -m1 -iE 'invalid|error|unsupported' "$TMP/$broken.out" || head -n1 "$TMP/$broken.out")"
    fi
done

# 3. Consistency with the repository.
if run_config required "$COMPOSE_FILE" >"$TMP/rendered.yaml" 2>/dev/null; then
    if ! python3 - "$COMPOSE_FILE" "$TMP/rendered.yaml" fabric-network/versions.env \
        >"$TMP/consistency.out" 2>&1 <<'PY'
import re, sys, yaml

raw_path, rendered_path, versions_path = sys.argv[1:]
raw = open(raw_path).read()
doc = yaml.safe_load(open(rendered_path))
bad = []

def env_file(path):
    out = {}
    for line in open(path):
        m = re.match(r'\s*([A-Z0-9_]+)=("?)([^"#\s]*)\2', line)
        if m:
            out[m.group(1)] = m.group(3)
    return out

# Images: nothing unpinned; peer and orderer of one Fabric release; the
# versions of versions.env where they name a release (the local network may
# run a commit between releases, which has no image).
versions = env_file(versions_path)
release = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+$")
fabric = versions.get("FABRIC_3_1_VERSION", "")
ca = versions.get("FABRIC_CA_VERSION", "")
expected = {
    "hyperledger/fabric-orderer": fabric if release.match(fabric) else "",
    "hyperledger/fabric-peer": fabric if release.match(fabric) else "",
    "hyperledger/fabric-ca": ca if release.match(ca) else "",
}
fabric_tags = {svc.get("image", "").rpartition(":")[2]
               for svc in doc.get("services", {}).values()
               if svc.get("image", "").startswith(("hyperledger/fabric-peer:", "hyperledger/fabric-orderer:"))}
if len(fabric_tags) != 1:
    bad.append(f"peer and orderer images must share one Fabric version, found {sorted(fabric_tags)}")
services = doc.get("services", {})
for name, svc in services.items():
    image = svc.get("image", "")
    repo, _, tag = image.rpartition(":") if ":" in image else (image, "", "")
    if not tag or tag == "latest":
        bad.append(f"{name}: image {image!r} is not pinned to a tag")
    if repo in expected and expected[repo] and tag != expected[repo]:
        bad.append(f"{name}: {image} but versions.env pins {expected[repo]}")
    if repo == "couchdb" and not tag.startswith("3."):
        bad.append(f"{name}: CouchDB must be 3.x, got {image}")
    # Names: container name = hostname = service name, one network.
    if svc.get("container_name") != name or svc.get("hostname") != name:
        bad.append(f"{name}: container_name/hostname must both be {name}")
    if list((svc.get("networks") or {}).keys()) != ["ehr"]:
        bad.append(f"{name}: must be on network 'ehr' only")
    # Bind mounts: only generated material, read-only.
    for vol in svc.get("volumes", []):
        if isinstance(vol, dict):
            src, typ, ro = vol.get("source", ""), vol.get("type"), vol.get("read_only", False)
        else:
            parts = vol.split(":")
            src = parts[0]
            typ = "bind" if src.startswith("/") or src.startswith(".") else "volume"
            ro = len(parts) > 2 and "ro" in parts[2].split(",")
        if typ == "bind":
            if "/fabric-network/state/crypto/" not in src:
                bad.append(f"{name}: bind mount {src} is not under fabric-network/state/crypto")
            if not ro:
                bad.append(f"{name}: bind mount {src} must be read-only")

roles = {"orderer": [], "peer": [], "ca": [], "couchdb": [], "chaincode": []}
for name in services:
    for role in roles:
        if name.startswith(role if role != "chaincode" else "ehr-chaincode."):
            roles[role].append(name)
want_counts = {"orderer": 3, "peer": 3, "ca": 3, "couchdb": 3, "chaincode": 3}
for role, n in want_counts.items():
    if len(roles[role]) != n:
        bad.append(f"expected {n} {role} services, found {sorted(roles[role])}")

for name in roles["orderer"]:
    env = services[name].get("environment", {})
    for key, val in {"ORDERER_GENERAL_BOOTSTRAPMETHOD": "none",
                     "ORDERER_CHANNELPARTICIPATION_ENABLED": "true",
                     "ORDERER_GENERAL_TLS_ENABLED": "true",
                     "ORDERER_ADMIN_TLS_ENABLED": "true"}.items():
        if str(env.get(key)) != val:
            bad.append(f"{name}: {key} must be {val}")
    for key in ("ORDERER_ADMIN_LISTENADDRESS", "ORDERER_OPERATIONS_LISTENADDRESS"):
        if not env.get(key):
            bad.append(f"{name}: {key} is not set")

for name in roles["peer"]:
    env = services[name].get("environment", {})
    org = name.split(".", 1)[1]
    if env.get("CORE_LEDGER_STATE_STATEDATABASE") != "CouchDB":
        bad.append(f"{name}: state database is not CouchDB")
    addr = str(env.get("CORE_LEDGER_STATE_COUCHDBCONFIG_COUCHDBADDRESS", ""))
    if addr != f"couchdb.{org}:5984" or f"couchdb.{org}" not in services:
        bad.append(f"{name}: CouchDB address {addr!r} is not the service couchdb.{org}:5984")
    for key in ("CORE_PEER_TLS_ENABLED", "CORE_PEER_GATEWAY_ENABLED"):
        if str(env.get(key)) != "true":
            bad.append(f"{name}: {key} must be true")
    for key in ("CORE_PEER_GOSSIP_BOOTSTRAP", "CORE_PEER_GOSSIP_EXTERNALENDPOINT",
                "CORE_OPERATIONS_LISTENADDRESS", "CORE_LEDGER_STATE_COUCHDBCONFIG_USERNAME",
                "CORE_LEDGER_STATE_COUCHDBCONFIG_PASSWORD", "CORE_PEER_LOCALMSPID"):
        if not env.get(key):
            bad.append(f"{name}: {key} is not set")

for name in roles["chaincode"]:
    svc = services[name]
    build = svc.get("build", {})
    if not str(build.get("dockerfile", "")).endswith("chaincode/Dockerfile"):
        bad.append(f"{name}: not built from chaincode/Dockerfile")
    env = svc.get("environment", {})
    for key in ("CHAINCODE_SERVER_ADDRESS", "CHAINCODE_ID", "CHAINCODE_TLS_KEY_FILE",
                "CHAINCODE_TLS_CERT_FILE", "CHAINCODE_TLS_CLIENT_CA_FILE"):
        if key not in env:
            bad.append(f"{name}: {key} is not set")

for line in bad:
    print(line)
sys.exit(1 if bad else 0)
PY
    then
        while IFS= read -r line; do problem "$line"; done <"$TMP/consistency.out"
    else
        say "compose file: images pinned, names, mounts and services as expected"
    fi
fi

# 4. chaincode/Dockerfile.
toolchain="$(sed -n 's/^channel *= *"\(.*\)"/\1/p' rust-toolchain.toml)"
declare -A stages=()
saw_runtime_user=0 saw_entrypoint=0 saw_expose=0
copies=()
while IFS= read -r line; do
    # Join nothing fancy: our Dockerfile keeps FROM/COPY on one line each.
    read -r -a w <<<"$line"
    [[ ${#w[@]} -gt 0 ]] || continue
    case "${w[0]^^}" in
        FROM)
            image="${w[1]}"
            [[ ${#w[@]} -ge 4 && ${w[2]^^} == AS ]] && stages[${w[3]}]=1
            if [[ -n ${stages[$image]+x} ]]; then continue; fi
            if [[ $image != *:* || $image == *:latest ]]; then
                problem "$DOCKERFILE: base image $image is not pinned to a version tag"
            fi
            if [[ $image == rust:* ]]; then
                tag="${image#rust:}"
                [[ ${tag%%-*} == "$toolchain" ]] \
                    || problem "$DOCKERFILE: $image does not match rust-toolchain.toml channel $toolchain"
            fi
            ;;
        COPY|ADD)
            [[ ${w[1]} == --from=* ]] && continue
            srcs=()
            for x in "${w[@]:1}"; do [[ $x == --* ]] || srcs+=("$x"); done
            unset 'srcs[${#srcs[@]}-1]'   # the last word is the destination
            copies+=("${srcs[@]}")
            ;;
        USER) [[ ${w[1]%%:*} != 0 && ${w[1]%%:*} != root ]] && saw_runtime_user=1 ;;
        ENTRYPOINT) [[ $line == *'"/usr/local/bin/ehr-chaincode"'* ]] && saw_entrypoint=1 ;;
        EXPOSE) [[ " ${w[*]:1} " == *" 9999 "* ]] && saw_expose=1 ;;
    esac
done < <(grep -v '^[[:space:]]*#' "$DOCKERFILE")

[[ $saw_runtime_user == 1 ]] || problem "$DOCKERFILE: the runtime stage does not switch to a non-root USER"
[[ $saw_entrypoint == 1 ]] || problem "$DOCKERFILE: ENTRYPOINT is not [\"/usr/local/bin/ehr-chaincode\"]"
[[ $saw_expose == 1 ]] || problem "$DOCKERFILE: does not EXPOSE 9999"
grep -q -- '--locked -p ehr-chaincode' "$DOCKERFILE" || problem "$DOCKERFILE: does not build with --locked -p ehr-chaincode"

mapfile -t ignored < <(grep -v '^[[:space:]]*\(#\|$\)' .dockerignore 2>/dev/null | sed 's:^\*\*/::; s:/$::')
for src in "${copies[@]}"; do
    path="${src%/}"
    [[ -e $path ]] || { problem "$DOCKERFILE: COPY source $src does not exist in the repository"; continue; }
    for pat in "${ignored[@]}"; do
        if [[ $path == "$pat" || $path == "$pat"/* ]]; then
            problem "$DOCKERFILE: COPY source $src is excluded by .dockerignore ($pat)"
        fi
    done
done
say "$DOCKERFILE: ${#copies[@]} COPY sources checked; rust toolchain $toolchain"

# The workspace must load from the copied files alone (a missing member,
# e.g. tests/, breaks `cargo build` inside the image). Cheap: no compiling.
if command -v cargo >/dev/null; then
    ctx="$TMP/context"
    mkdir -p "$ctx"
    for src in "${copies[@]}"; do
        path="${src%/}"
        mkdir -p "$ctx/$(dirname "$path")"
        cp -R "$path" "$ctx/$path"
    done
    find "$ctx" -name node_modules -prune -exec rm -rf {} + 2>/dev/null || true
    if (cd "$ctx" && cargo metadata --no-deps --format-version 1 >/dev/null 2>"$TMP/metadata.err" \
            && cargo pkgid -p ehr-chaincode >/dev/null 2>>"$TMP/metadata.err"); then
        say "workspace loads from the Dockerfile's COPY sources alone and has package ehr-chaincode"
    else
        problem "the workspace does not load from the Dockerfile's COPY sources alone: $(tr '\n' ' ' <"$TMP/metadata.err")"
    fi
else
    say "cargo not found: skipping the workspace-loads-from-COPY-sources check"
fi

if ((${#problems[@]})); then
    die "${#problems[@]} problem(s) in $COMPOSE_FILE / $DOCKERFILE (listed above)"
fi
say "OK"
