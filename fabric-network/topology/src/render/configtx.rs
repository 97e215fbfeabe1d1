//! `configtx.yaml`: the channel's genesis configuration for configtxgen.

use super::{GENERATED_NOTICE, line};
use crate::{Consensus, OrdererNode, Topology};

/// Which network a channel configuration is for. The two differ in the
/// addresses the orderers and anchor peers are named by and in where the
/// crypto material is, relative to the rendered file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The local network of processes on 127.0.0.1, rendered into its state folder.
    Local(Consensus),
    /// Docker Compose: nodes by their container host names, Raft, rendered
    /// into `fabric-network/compose/` next to `../state/crypto`.
    Compose,
}

impl Target {
    /// The configtxgen profile this target's file defines.
    pub fn profile(self) -> &'static str {
        match self {
            Target::Local(Consensus::Raft) => "EhrRaft",
            Target::Local(Consensus::Bft) => "EhrBFT",
            Target::Compose => "EhrChannel",
        }
    }

    fn consensus(self) -> Consensus {
        match self {
            Target::Local(c) => c,
            Target::Compose => Consensus::Raft,
        }
    }

    fn crypto(self) -> &'static str {
        match self {
            Target::Local(_) => "crypto",
            Target::Compose => "../state/crypto",
        }
    }

    /// The host of a node called `host` in `domain`.
    fn host(self, host: &str, domain: &str) -> String {
        match self {
            Target::Local(_) => "127.0.0.1".into(),
            Target::Compose => format!("{host}.{domain}"),
        }
    }

    /// The channel capability: the 2.5 line (the local network can run it)
    /// knows only V2_0; SmartBFT and the 3.1 images of Compose use V3_0.
    fn channel_capability(self) -> &'static str {
        match self {
            Target::Local(Consensus::Raft) => "V2_0",
            _ => "V3_0",
        }
    }
}

/// The channel configuration for `target`, with one profile ([`Target::profile`]).
pub fn configtx(topology: &Topology, target: Target) -> String {
    let mut out = String::new();
    line(&mut out, format!("# {GENERATED_NOTICE}"));
    line(&mut out, format!("# configtxgen -profile {} (paths are relative to this file).", target.profile()));
    line(&mut out, "");
    organisations(&mut out, topology, target);
    out.push_str(DEFAULTS.replace("$CHANNEL_CAPABILITY", target.channel_capability()).as_str());
    profile(&mut out, topology, target);
    out
}

fn organisations(out: &mut String, topology: &Topology, target: Target) {
    let crypto = target.crypto();
    let orderer_domain = topology.orderer_domain();
    let msp = &topology.orderers.msp;
    let endpoints: Vec<String> = topology
        .orderer_nodes(target.consensus())
        .iter()
        .map(|n| format!("\"{}:{}\"", target.host(&n.name, &orderer_domain), n.port))
        .collect();
    line(out, "Organizations:");
    line(out, "  - &Orderer");
    line(out, format!("    Name: {msp}\n    ID: {msp}"));
    line(out, format!("    MSPDir: {crypto}/ordererOrganizations/{orderer_domain}/msp"));
    let member = format!("OR('{msp}.member')");
    signature_policies(out, &[("Readers", &member), ("Writers", &member), ("Admins", &format!("OR('{msp}.admin')"))]);
    line(out, format!("    OrdererEndpoints: [{}]", endpoints.join(", ")));
    for org in &topology.organisations {
        let (m, domain) = (&org.msp, topology.org_domain(org));
        line(out, "");
        line(out, format!("  - &{}", org.label));
        line(out, format!("    Name: {m}\n    ID: {m}"));
        line(out, format!("    MSPDir: {crypto}/peerOrganizations/{domain}/msp"));
        signature_policies(
            out,
            &[
                ("Readers", &format!("OR('{m}.admin', '{m}.peer', '{m}.client')")),
                ("Writers", &format!("OR('{m}.admin', '{m}.client')")),
                ("Admins", &format!("OR('{m}.admin')")),
                ("Endorsement", &format!("OR('{m}.peer')")),
            ],
        );
        line(out, "    AnchorPeers:");
        line(out, format!("      - {{ Host: {}, Port: {} }}", target.host("peer0", &domain), org.ports.peer));
    }
    line(out, "");
}

fn profile(out: &mut String, topology: &Topology, target: Target) {
    let orgs: Vec<String> = topology.organisations.iter().map(|o| format!("*{}", o.label)).collect();
    line(out, "Profiles:");
    line(out, format!("  {}:", target.profile()));
    line(out, "    <<: *ChannelDefaults");
    line(out, "    Orderer:");
    line(out, "      <<: *OrdererDefaults");
    let nodes = topology.orderer_nodes(target.consensus());
    match target.consensus() {
        Consensus::Raft => {
            line(out, "      OrdererType: etcdraft");
            line(out, "      EtcdRaft:");
            line(out, "        Consenters:");
            for node in nodes {
                let (host, dir) = consenter(topology, target, node);
                let tls = format!("{dir}/tls/server.crt");
                line(
                    out,
                    format!(
                        "          - {{ Host: {host}, Port: {}, ClientTLSCert: {tls}, ServerTLSCert: {tls} }}",
                        node.port
                    ),
                );
            }
        }
        Consensus::Bft => {
            line(out, "      OrdererType: BFT");
            out.push_str(SMART_BFT);
            line(out, "      ConsenterMapping:");
            for (i, node) in nodes.iter().enumerate() {
                let (host, dir) = consenter(topology, target, node);
                let (tls, msp) = (format!("{dir}/tls/server.crt"), &topology.orderers.msp);
                let identity = format!("{dir}/msp/signcerts/{}-cert.pem", full_name(topology, node));
                let id = i + 1;
                line(
                    out,
                    format!(
                        "        - {{ ID: {id}, Host: {host}, Port: {}, MSPID: {msp}, Identity: {identity}, ClientTLSCert: {tls}, ServerTLSCert: {tls} }}",
                        node.port
                    ),
                );
            }
        }
    }
    line(out, "      Organizations: [*Orderer]");
    line(out, "      Capabilities: *OrdererCapabilities");
    line(out, "    Application:");
    line(out, "      <<: *ApplicationDefaults");
    line(out, format!("      Organizations: [{}]", orgs.join(", ")));
    line(out, "      Capabilities: *ApplicationCapabilities");
}

/// An organisation's `Policies:` block, each a signature policy.
fn signature_policies(out: &mut String, policies: &[(&str, &str)]) {
    line(out, "    Policies:");
    for (name, rule) in policies {
        line(out, format!("      {name}: {{ Type: Signature, Rule: \"{rule}\" }}"));
    }
}

/// A consenter's host and the folder cryptogen wrote its identities to.
fn consenter(topology: &Topology, target: Target, node: &OrdererNode) -> (String, String) {
    let domain = topology.orderer_domain();
    let dir = format!("{}/ordererOrganizations/{domain}/orderers/{}", target.crypto(), full_name(topology, node));
    (target.host(&node.name, &domain), dir)
}

/// A node's full host name, which cryptogen also uses for its folder and certificate.
fn full_name(topology: &Topology, node: &OrdererNode) -> String {
    format!("{}.{}", node.name, topology.orderer_domain())
}

const DEFAULTS: &str = r#"Capabilities:
  Channel: &ChannelCapabilities
    $CHANNEL_CAPABILITY: true
  Orderer: &OrdererCapabilities
    V2_0: true
  Application: &ApplicationCapabilities
    # V2_5 is needed for PurgePrivateData.
    V2_5: true

Application: &ApplicationDefaults
  Organizations:
  Policies:
    Readers: { Type: ImplicitMeta, Rule: "ANY Readers" }
    Writers: { Type: ImplicitMeta, Rule: "ANY Writers" }
    Admins: { Type: ImplicitMeta, Rule: "MAJORITY Admins" }
    LifecycleEndorsement: { Type: ImplicitMeta, Rule: "MAJORITY Endorsement" }
    Endorsement: { Type: ImplicitMeta, Rule: "MAJORITY Endorsement" }
  Capabilities:
    <<: *ApplicationCapabilities

Orderer: &OrdererDefaults
  BatchTimeout: 500ms
  BatchSize:
    MaxMessageCount: 100
    AbsoluteMaxBytes: 99 MB
    PreferredMaxBytes: 2 MB
  Organizations:
  Policies:
    Readers: { Type: ImplicitMeta, Rule: "ANY Readers" }
    Writers: { Type: ImplicitMeta, Rule: "ANY Writers" }
    Admins: { Type: ImplicitMeta, Rule: "MAJORITY Admins" }
    BlockValidation: { Type: ImplicitMeta, Rule: "ANY Writers" }

Channel: &ChannelDefaults
  Policies:
    Readers: { Type: ImplicitMeta, Rule: "ANY Readers" }
    Writers: { Type: ImplicitMeta, Rule: "ANY Writers" }
    Admins: { Type: ImplicitMeta, Rule: "MAJORITY Admins" }
  Capabilities:
    <<: *ChannelCapabilities

"#;

const SMART_BFT: &str = "      SmartBFT:
        RequestBatchMaxInterval: 200ms
        RequestForwardTimeout: 5s
        RequestComplainTimeout: 20s
        RequestAutoRemoveTimeout: 3m0s
        ViewChangeResendInterval: 5s
        ViewChangeTimeout: 20s
        LeaderHeartbeatTimeout: 1m0s
        CollectTimeout: 1s
        IncomingMessageBufferSize: 200
        RequestPoolSize: 100000
        LeaderHeartbeatCount: 10
";
