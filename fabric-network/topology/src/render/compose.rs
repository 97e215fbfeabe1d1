//! `docker-compose.yaml`: the same network in containers, with CouchDB.

use super::{CHAINCODE_HOST, GENERATED_NOTICE, line};
use crate::{Consensus, OrdererNode, Organisation, Topology, chaincode_port_name};

/// The port every chaincode container listens on; the host port is the topology's.
const CONTAINER_CHAINCODE_PORT: u16 = 9999;
/// CouchDB's port inside its container.
const CONTAINER_COUCHDB_PORT: u16 = 5984;
/// The Docker network every container joins.
const NETWORK: &str = "ehr";

/// The Compose file: Raft orderers, and per organisation CouchDB, a peer, a
/// fabric-ca server and a server of the Compose chaincode. Host ports default
/// to the topology's, each overridable by its environment name.
pub fn docker_compose(topology: &Topology) -> String {
    let c = &topology.compose;
    let mut out = String::new();
    line(&mut out, format!("# {GENERATED_NOTICE}"));
    out.push_str(&header(topology));
    out.push_str(
        &ANCHORS
            .replace("$FABRIC", &c.fabric_image)
            .replace("$CA", &c.ca_image)
            .replace("$COUCHDB", &c.couchdb_image)
            .replace("$CHAINCODE_PORT", &CONTAINER_CHAINCODE_PORT.to_string())
            .replace("$ORDERER_MSP", &topology.orderers.msp)
            .replace("$NETWORK", NETWORK),
    );
    line(&mut out, "services:");
    line(&mut out, "  # ============================================================= orderers ==");
    let orderers = topology.orderer_nodes(Consensus::Raft);
    for node in orderers {
        orderer(&mut out, topology, node);
    }
    for org in &topology.organisations {
        line(&mut out, format!("  # {:=<60} {} ==", "", org.name));
        couchdb(&mut out, topology, org);
        peer(&mut out, topology, org);
        ca(&mut out, topology, org);
        chaincode(&mut out, topology, org);
    }
    line(&mut out, "networks:");
    line(&mut out, format!("  {NETWORK}:\n    name: {NETWORK}"));
    line(&mut out, "");
    line(&mut out, "volumes:");
    let mut volumes: Vec<String> =
        orderers.iter().map(|n| format!("{}.{}", n.name, topology.orderer_domain())).collect();
    for kind in ["couchdb", "peer0", "ca"] {
        volumes.extend(topology.organisations.iter().map(|o| format!("{kind}.{}", topology.org_domain(o))));
    }
    for volume in volumes {
        line(&mut out, format!("  {volume}:"));
    }
    out
}

fn header(topology: &Topology) -> String {
    let orgs: Vec<String> = topology.organisations.iter().map(|o| format!("{} ({})", o.name, o.msp)).collect();
    let cc = &topology.compose.chaincode;
    HEADER
        .replace("$RAFT", &topology.orderers.raft.to_string())
        .replace("$ORGS", &orgs.join(", "))
        .replace("$CHAINCODE", cc)
        .replace("$CHANNEL", &topology.channel)
        .replace("$DOMAIN", &topology.domain)
}

fn service(out: &mut String, name: &str, anchor: &str) {
    line(out, format!("  {name}:\n    <<: *{anchor}\n    container_name: {name}\n    hostname: {name}"));
}

fn orderer(out: &mut String, topology: &Topology, node: &OrdererNode) {
    let name = format!("{}.{}", node.name, topology.orderer_domain());
    let var = node.name.to_uppercase();
    let crypto =
        format!("./fabric-network/state/crypto/ordererOrganizations/{}/orderers/{name}", topology.orderer_domain());
    service(out, &name, "orderer");
    line(out, "    environment:\n      <<: *orderer-env");
    line(out, format!("      ORDERER_GENERAL_LISTENPORT: \"{}\"", node.port));
    line(out, format!("      ORDERER_ADMIN_LISTENADDRESS: 0.0.0.0:{}", node.admin_port));
    line(out, format!("      ORDERER_OPERATIONS_LISTENADDRESS: 0.0.0.0:{}", node.operations_port));
    line(out, "    ports:");
    for (suffix, port) in [("PORT", node.port), ("ADMIN_PORT", node.admin_port), ("OPS_PORT", node.operations_port)] {
        line(out, format!("      - ${{{var}_{suffix}:-{port}}}:{port}"));
    }
    line(out, "    volumes:");
    line(out, format!("      - {crypto}/msp:/var/hyperledger/orderer/msp:ro"));
    line(out, format!("      - {crypto}/tls:/var/hyperledger/orderer/tls:ro"));
    line(out, format!("      - {name}:/var/hyperledger/production/orderer"));
    line(out, "");
}

fn couchdb(out: &mut String, topology: &Topology, org: &Organisation) {
    let name = format!("couchdb.{}", topology.org_domain(org));
    service(out, &name, "couchdb");
    let var = format!("{}_COUCHDB_PORT", org.name.to_uppercase());
    line(out, "    ports:");
    line(out, format!("      - 127.0.0.1:${{{var}:-{}}}:{CONTAINER_COUCHDB_PORT}", org.ports.couchdb));
    line(out, format!("    volumes:\n      - {name}:/opt/couchdb/data"));
    line(out, "");
}

fn peer(out: &mut String, topology: &Topology, org: &Organisation) {
    let domain = topology.org_domain(org);
    let name = format!("peer0.{domain}");
    let p = org.ports;
    let var = org.name.to_uppercase();
    let crypto = format!("./fabric-network/state/crypto/peerOrganizations/{domain}/peers/{name}");
    service(out, &name, "peer");
    line(out, "    environment:\n      <<: *peer-env");
    line(out, format!("      CORE_PEER_ID: {name}\n      CORE_PEER_LOCALMSPID: {}", org.msp));
    line(out, format!("      CORE_PEER_ADDRESS: {name}:{}\n      CORE_PEER_LISTENADDRESS: 0.0.0.0:{}", p.peer, p.peer));
    line(out, format!("      CORE_PEER_CHAINCODEADDRESS: {name}:{}", p.peer_chaincode));
    line(out, format!("      CORE_PEER_CHAINCODELISTENADDRESS: 0.0.0.0:{}", p.peer_chaincode));
    line(out, format!("      CORE_PEER_GOSSIP_BOOTSTRAP: {name}:{}", p.peer));
    line(out, format!("      CORE_PEER_GOSSIP_EXTERNALENDPOINT: {name}:{}", p.peer));
    line(out, format!("      CORE_OPERATIONS_LISTENADDRESS: 0.0.0.0:{}", p.peer_operations));
    line(
        out,
        format!("      CORE_LEDGER_STATE_COUCHDBCONFIG_COUCHDBADDRESS: couchdb.{domain}:{CONTAINER_COUCHDB_PORT}"),
    );
    line(
        out,
        format!("      CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG: '{{\"org\":\"{}\",\"peername\":\"{name}\"}}'", org.name),
    );
    line(out, "    ports:");
    for (suffix, port) in
        [("PEER_PORT", p.peer), ("PEER_CC_PORT", p.peer_chaincode), ("PEER_OPS_PORT", p.peer_operations)]
    {
        line(out, format!("      - ${{{var}_{suffix}:-{port}}}:{port}"));
    }
    line(out, "    volumes:");
    line(out, format!("      - {crypto}/msp:/etc/hyperledger/peer/msp:ro"));
    line(out, format!("      - {crypto}/tls:/etc/hyperledger/peer/tls:ro"));
    line(out, format!("      - {name}:/var/hyperledger/production"));
    line(out, format!("    depends_on:\n      couchdb.{domain}:\n        condition: service_healthy"));
    line(out, "");
}

fn ca(out: &mut String, topology: &Topology, org: &Organisation) {
    let domain = topology.org_domain(org);
    let name = format!("ca.{domain}");
    let var = org.name.to_uppercase();
    let config = "/etc/hyperledger/fabric-ca-server-config";
    service(out, &name, "ca");
    line(out, "    # The org's MSP CA from cryptogen signs enrolments, and (on first start)");
    line(
        out,
        format!(
            "    # the server's own TLS certificate for the names below: clients trust\n    # {name}-cert.pem for TLS too."
        ),
    );
    line(out, "    command: >-\n      fabric-ca-server start");
    line(out, "      -b ${CA_ADMIN_USER:-admin}:${CA_ADMIN_PASSWORD:-adminpw}");
    line(
        out,
        format!(
            "      --ca.name {name}\n      --ca.certfile {config}/{name}-cert.pem\n      --ca.keyfile {config}/priv_sk"
        ),
    );
    line(out, format!("      --csr.hosts {name},localhost,127.0.0.1"));
    line(out, "    environment:\n      <<: *ca-env");
    line(out, format!("      FABRIC_CA_SERVER_PORT: \"{}\"", org.ports.ca));
    line(out, format!("      FABRIC_CA_SERVER_OPERATIONS_LISTENADDRESS: 0.0.0.0:{}", org.ports.ca_operations));
    line(out, "    ports:");
    for (suffix, port) in [("CA_PORT", org.ports.ca), ("CA_OPS_PORT", org.ports.ca_operations)] {
        line(out, format!("      - ${{{var}_{suffix}:-{port}}}:{port}"));
    }
    line(out, "    volumes:");
    line(out, format!("      - ./fabric-network/state/crypto/peerOrganizations/{domain}/ca:{config}:ro"));
    line(out, format!("      - {name}:/etc/hyperledger/fabric-ca-server"));
    line(out, "");
}

fn chaincode(out: &mut String, topology: &Topology, org: &Organisation) {
    let domain = topology.org_domain(org);
    let cc = &topology.compose.chaincode;
    let name = format!("{cc}-chaincode.{domain}");
    let host_port = topology.chaincode(cc).ok().and_then(|c| c.ports.get(&org.name).copied()).unwrap_or_default();
    service(out, &name, "chaincode");
    line(out, "    environment: *chaincode-env");
    line(out, format!("    networks:\n      {NETWORK}:\n        aliases: [{CHAINCODE_HOST}.{domain}]"));
    line(out, "    ports:");
    let var = chaincode_port_name(&org.name, cc);
    line(out, format!("      - 127.0.0.1:${{{var}:-{host_port}}}:{CONTAINER_CHAINCODE_PORT}"));
    line(out, "    volumes:");
    line(
        out,
        format!(
            "      - ./fabric-network/state/crypto/peerOrganizations/{domain}/peers/{CHAINCODE_HOST}.{domain}/tls:/etc/hyperledger/chaincode/tls:ro"
        ),
    );
    line(out, "");
}

const HEADER: &str = r#"#
# The EHR Fabric network in Docker: the same topology, names and host ports as
# the local network of real binaries (fabric-network/), with CouchDB 3 as every
# peer's state database and the Rust chaincode as one container per
# organisation.
#
#   $RAFT etcdraft orderers
#   per organisation      peer0.<org>.$DOMAIN, ca.<org>.$DOMAIN, couchdb.<org>.$DOMAIN,
#                         $CHAINCODE-chaincode.<org>.$DOMAIN for <org> in
#                         $ORGS
#
# CouchDB is what makes rich (Mango JSON) queries work: GetQueryResult and the
# paginated query calls of the chaincode only run on a CouchDB state database
# (the local network runs LevelDB, where the chaincode searches through
# composite-key indexes instead). CouchDB indexes ship inside the chaincode
# package under META-INF/statedb/couchdb/indexes/. CouchDB is reachable only
# on 127.0.0.1, credentials COUCHDB_USER / COUCHDB_PASSWORD (default admin /
# adminpw; set both before the first start: CouchDB keeps the admin it was
# first started with in its volume).
#
# 1. Crypto material first. This file starts nothing that makes keys: the
#    network scripts write cryptogen material (and the channel block) into
#    fabric-network/state/, which is mounted read-only below:
#
#      fabric-network/network.sh crypto
#
#    The chaincode server runs as a non-root user and must read its TLS key,
#    which cryptogen writes with mode 0600: run the chaincode containers as
#    the owner of that material,
#
#      export EHR_CHAINCODE_USER="$(stat -c %u:%g fabric-network/state/crypto)"
#
# 2. Start orderers, CAs, CouchDBs and peers (the chaincode containers are in
#    the `chaincode` profile and start in step 4):
#
#      docker compose up -d          (or docker-compose 1.29+: docker-compose up -d)
#
#    The host ports are those of fabric-network/topology.toml, so the client
#    configuration of the local network works unchanged; override any port
#    with the variable named in its `${NAME:-port}` below, in the environment
#    or in an --env-file of NAME=port lines.
#
# 3. Channel and chaincode. Use the usual commands from the host with the
#    peer/osnadmin binaries (fabric-network/bin/) and the Admin MSPs in
#    fabric-network/state:
#      - the channel block names the consenters and anchor peers by their
#        Docker host names, not 127.0.0.1 as the local network's block does;
#        `network.sh crypto` writes it (state/compose/$CHANNEL.block) from
#        fabric-network/compose/configtx.yaml, profile EhrChannel;
#      - each orderer joins through its admin endpoint (mutual TLS):
#          osnadmin channel join --channelID $CHANNEL \
#            --config-block fabric-network/state/compose/$CHANNEL.block \
#            -o 127.0.0.1:<ADMIN_PORT> --ca-file <orderer tlsca cert> \
#            --client-cert <orderer tls server.crt> --client-key <server.key>;
#      - each peer joins with its org's Admin MSP: CORE_PEER_ADDRESS=127.0.0.1:<PEER_PORT>,
#        CORE_PEER_TLS_SERVERHOSTOVERRIDE=peer0.<org>.$DOMAIN,
#        `peer channel join -b $CHANNEL.block`;
#      - deploy the chaincode through the lifecycle: package a `ccaas` package
#        whose connection.json has address "ehr-ccaas.{{.org}}.$DOMAIN:9999" (each
#        peer fills in {{.org}} from CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG, so
#        one package serves every organisation; ehr-ccaas.<org>.$DOMAIN is the
#        name in the chaincode server's TLS certificate and a network alias of
#        $CHAINCODE-chaincode.<org>.$DOMAIN), `peer lifecycle chaincode install` on
#        each peer, approveformyorg for each org, commit, with the signature
#        policy and collections that `topology chaincode $CHAINCODE` prints; then
#        SetRoleRegistry with chaincode/ehr/roles_registry.json and
#        SetChannelSecret, as network.sh deploy does.
#    The peers run it through the ccaas external builder that ships in the
#    fabric-peer image (/opt/hyperledger/ccaas_builder, listed in the image's
#    default core.yaml), so no builder configuration is needed here.
#
# 4. Start the chaincode with the package id that `peer lifecycle chaincode
#    install` printed (also: `peer lifecycle chaincode calculatepackageid`):
#
#      EHR_CHAINCODE_ID=ehr_1.0:<sha256> docker compose --profile chaincode up -d --build
#
# Peer health: the image's core.yaml keeps vm.endpoint at the Docker socket,
# which is not mounted here (chaincode never runs through Docker), so
# GET /healthz on a peer's operations port lists a failing "docker" check
# while the peer works normally.
#
# This file is validated, not run, in our CI: the CI machine has no Docker
# engine. fabric-network/scripts/check-compose.sh validates it with
# `docker-compose config` and checks chaincode/Dockerfile.

"#;

const ANCHORS: &str = r#"x-couchdb-credentials: &couchdb-credentials
  COUCHDB_USER: ${COUCHDB_USER:-admin}
  COUCHDB_PASSWORD: ${COUCHDB_PASSWORD:-adminpw}

x-logging: &logging
  driver: json-file
  options:
    max-size: "10m"
    max-file: "3"

x-orderer-env: &orderer-env
  FABRIC_LOGGING_SPEC: ${FABRIC_LOGGING_SPEC:-INFO}
  ORDERER_GENERAL_LISTENADDRESS: 0.0.0.0
  ORDERER_GENERAL_LOCALMSPID: $ORDERER_MSP
  ORDERER_GENERAL_LOCALMSPDIR: /var/hyperledger/orderer/msp
  ORDERER_GENERAL_TLS_ENABLED: "true"
  ORDERER_GENERAL_TLS_PRIVATEKEY: /var/hyperledger/orderer/tls/server.key
  ORDERER_GENERAL_TLS_CERTIFICATE: /var/hyperledger/orderer/tls/server.crt
  ORDERER_GENERAL_TLS_ROOTCAS: "[/var/hyperledger/orderer/tls/ca.crt]"
  # Raft traffic shares the main listener; the TLS server cert is the client cert.
  ORDERER_GENERAL_CLUSTER_CLIENTCERTIFICATE: /var/hyperledger/orderer/tls/server.crt
  ORDERER_GENERAL_CLUSTER_CLIENTPRIVATEKEY: /var/hyperledger/orderer/tls/server.key
  # No system channel: channels are joined through the admin endpoint.
  ORDERER_GENERAL_BOOTSTRAPMETHOD: none
  ORDERER_CHANNELPARTICIPATION_ENABLED: "true"
  ORDERER_ADMIN_TLS_ENABLED: "true"
  ORDERER_ADMIN_TLS_PRIVATEKEY: /var/hyperledger/orderer/tls/server.key
  ORDERER_ADMIN_TLS_CERTIFICATE: /var/hyperledger/orderer/tls/server.crt
  ORDERER_ADMIN_TLS_ROOTCAS: "[/var/hyperledger/orderer/tls/ca.crt]"
  ORDERER_ADMIN_TLS_CLIENTAUTHREQUIRED: "true"
  ORDERER_ADMIN_TLS_CLIENTROOTCAS: "[/var/hyperledger/orderer/tls/ca.crt]"
  ORDERER_METRICS_PROVIDER: prometheus
  ORDERER_FILELEDGER_LOCATION: /var/hyperledger/production/orderer

x-orderer: &orderer
  image: hyperledger/fabric-orderer:$FABRIC
  command: orderer
  working_dir: /var/hyperledger/orderer
  logging: *logging
  networks: [$NETWORK]

x-peer-env: &peer-env
  FABRIC_LOGGING_SPEC: ${FABRIC_LOGGING_SPEC:-INFO}
  CORE_PEER_MSPCONFIGPATH: /etc/hyperledger/peer/msp
  CORE_PEER_TLS_ENABLED: "true"
  CORE_PEER_TLS_CERT_FILE: /etc/hyperledger/peer/tls/server.crt
  CORE_PEER_TLS_KEY_FILE: /etc/hyperledger/peer/tls/server.key
  CORE_PEER_TLS_ROOTCERT_FILE: /etc/hyperledger/peer/tls/ca.crt
  CORE_PEER_GATEWAY_ENABLED: "true"
  CORE_PEER_PROFILE_ENABLED: "false"
  CORE_METRICS_PROVIDER: prometheus
  CORE_LEDGER_STATE_STATEDATABASE: CouchDB
  CORE_LEDGER_STATE_COUCHDBCONFIG_USERNAME: ${COUCHDB_USER:-admin}
  CORE_LEDGER_STATE_COUCHDBCONFIG_PASSWORD: ${COUCHDB_PASSWORD:-adminpw}

x-peer: &peer
  image: hyperledger/fabric-peer:$FABRIC
  command: peer node start
  working_dir: /var/hyperledger/peer
  logging: *logging
  networks: [$NETWORK]

x-couchdb: &couchdb
  image: couchdb:$COUCHDB
  environment: *couchdb-credentials
  logging: *logging
  networks: [$NETWORK]
  healthcheck:
    test: ["CMD", "curl", "-fsS", "http://127.0.0.1:5984/_up"]
    interval: 5s
    timeout: 3s
    retries: 30

x-ca-env: &ca-env
  FABRIC_CA_HOME: /etc/hyperledger/fabric-ca-server
  FABRIC_CA_SERVER_TLS_ENABLED: "true"
  FABRIC_CA_SERVER_DEBUG: "false"

x-ca: &ca
  image: hyperledger/fabric-ca:$CA
  logging: *logging
  networks: [$NETWORK]

x-chaincode-env: &chaincode-env
  CHAINCODE_SERVER_ADDRESS: 0.0.0.0:$CHAINCODE_PORT
  # The package id printed by `peer lifecycle chaincode install`
  # (`ehr_1.0:<sha256>`); see step 4 at the top.
  CHAINCODE_ID: ${EHR_CHAINCODE_ID:-}
  CHAINCODE_TLS_KEY_FILE: /etc/hyperledger/chaincode/tls/server.key
  CHAINCODE_TLS_CERT_FILE: /etc/hyperledger/chaincode/tls/server.crt
  CHAINCODE_TLS_CLIENT_CA_FILE: /etc/hyperledger/chaincode/tls/ca.crt
  RUST_LOG: ${EHR_CHAINCODE_LOG:-info}

x-chaincode: &chaincode
  build:
    context: .
    dockerfile: chaincode/Dockerfile
  image: ehr-chaincode:${EHR_CHAINCODE_TAG:-local}
  profiles: [chaincode]
  user: ${EHR_CHAINCODE_USER:-10001:10001}
  read_only: true
  cap_drop: [ALL]
  security_opt: ["no-new-privileges:true"]
  logging: *logging

"#;
