//! The topology file's shape and the rules it must keep.
//!
//! Everything generated from a topology assumes these rules hold (names that
//! are safe in paths, YAML and shell words, ports that do not collide), so
//! they are checked once, on load, and the generators never re-check them.

use std::collections::{BTreeMap, BTreeSet};

use ehr_api::model::Role;
use ehr_api::registry::{OrgKind, OrgRoles, RoleRegistry};
use serde::Deserialize;

use crate::error::{Result, TopologyError};

/// A whole network: one channel, its orderers, its organisations and the
/// chaincodes deployed on it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Topology {
    /// The one application channel.
    pub channel: String,
    /// Every organisation's domain is `<name>.<domain>`.
    pub domain: String,
    /// The ordering service.
    pub orderers: Orderers,
    /// The member organisations, in the order they are started and listed.
    pub organisations: Vec<Organisation>,
    /// The chaincodes `network.sh deploy` knows; the first is deployed by `up`.
    pub chaincodes: Vec<Chaincode>,
    /// Settings of the Docker Compose rendering of the same network.
    pub compose: Compose,
}

/// The ordering service: one organisation of orderer nodes.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Orderers {
    /// Short name; its domain is `<name>.<domain>`.
    pub name: String,
    /// Its MSP id.
    pub msp: String,
    /// How many of `nodes` (the first ones) run Raft; SmartBFT runs them all.
    pub raft: usize,
    /// Every orderer node.
    pub nodes: Vec<OrdererNode>,
}

/// One orderer node and its three listeners.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrdererNode {
    /// Host name inside the orderer organisation's domain, e.g. `orderer1`.
    pub name: String,
    /// gRPC: broadcast, deliver and cluster traffic.
    pub port: u16,
    /// Channel participation API (`osnadmin`).
    pub admin_port: u16,
    /// Operations: `/healthz` and metrics.
    pub operations_port: u16,
}

/// One member organisation: its peer, its CA and its users.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Organisation {
    /// Short name, the `org` of `user@org` (lower case).
    pub name: String,
    /// The name cryptogen gives it (`HospitalA`).
    pub label: String,
    /// Its MSP id.
    pub msp: String,
    /// Hospital or regulator, as the roles registry says.
    pub kind: OrgKind,
    /// The roles its CA may put into certificates.
    pub roles: BTreeSet<Role>,
    /// Its listeners.
    pub ports: OrgPorts,
    /// The sample users `network.sh up` enrols (secret: the name + `pw`).
    #[serde(default)]
    pub users: Vec<User>,
}

/// The ports of one organisation's nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgPorts {
    /// The peer's gRPC port (endorser, gateway, deliver).
    pub peer: u16,
    /// The peer's chaincode listener.
    pub peer_chaincode: u16,
    /// The peer's operations port.
    pub peer_operations: u16,
    /// The fabric-ca server.
    pub ca: u16,
    /// The fabric-ca server's operations port.
    pub ca_operations: u16,
    /// CouchDB's host port in Docker Compose (the local network runs LevelDB).
    pub couchdb: u16,
}

/// A sample user and what its certificate asserts.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// Enrolment id; also a folder name.
    pub name: String,
    /// The `role` attribute of its certificate.
    pub role: Role,
    /// Further certificate attributes, such as `patient_id`.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

/// A chaincode run as a service, one server per organisation.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Chaincode {
    /// Its name on the channel.
    pub name: String,
    /// The Cargo package that builds its server.
    pub package: String,
    /// The server binary's name.
    pub binary: String,
    /// Who must endorse keys without a key-level policy.
    pub endorsement: Endorsement,
    /// Private data collections (a `collections_config.json`), relative to the repository.
    pub collections: Option<String>,
    /// State database indexes (`META-INF`), relative to the repository.
    pub indexes: Option<String>,
    /// Generated from the organisations and written to the ledger on deploy, relative to the repository.
    pub roles_registry: Option<String>,
    /// Whether deploy sets the channel secret once (`SetChannelSecret`).
    #[serde(default)]
    pub channel_secret: bool,
    /// The port of each organisation's server.
    pub ports: BTreeMap<String, u16>,
}

/// An endorsement policy over organisations' peers: all of them, or at least
/// `at_least` of them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endorsement {
    /// Organisations (short names) whose peers count.
    pub peers_of: Vec<String>,
    /// How many must sign; all when absent.
    pub at_least: Option<usize>,
}

/// What only the Docker Compose rendering needs.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Compose {
    /// Image tag of `hyperledger/fabric-peer` and `-orderer` (a release: there are no images of commits).
    pub fabric_image: String,
    /// Image tag of `hyperledger/fabric-ca`.
    pub ca_image: String,
    /// Image tag of `couchdb` (3.x).
    pub couchdb_image: String,
    /// The chaincode whose servers run as containers.
    pub chaincode: String,
}

/// A port and the name it has in the shell environment, docker-compose and error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedPort {
    /// e.g. `HOSPITALA_PEER_PORT`.
    pub name: String,
    /// The port number.
    pub port: u16,
    /// Used only by SmartBFT (orderers beyond the Raft ones).
    pub bft_only: bool,
}

impl Topology {
    /// Parses a topology file's text and checks it.
    pub fn parse(text: &str) -> Result<Topology> {
        let topology: Topology = toml::from_str(text).map_err(|e| TopologyError::Parse(e.to_string()))?;
        topology.validate()?;
        Ok(topology)
    }

    /// The organisation with the short name `name`.
    pub fn org(&self, name: &str) -> Option<&Organisation> {
        self.organisations.iter().find(|o| o.name == name)
    }

    /// The chaincode named `name`.
    pub fn chaincode(&self, name: &str) -> Result<&Chaincode> {
        self.chaincodes.iter().find(|c| c.name == name).ok_or_else(|| {
            let known: Vec<&str> = self.chaincodes.iter().map(|c| c.name.as_str()).collect();
            TopologyError::Unknown(format!("chaincode {name:?} (known: {})", known.join(", ")))
        })
    }

    /// The orderer organisation's domain, e.g. `orderer.ehr`.
    pub fn orderer_domain(&self) -> String {
        format!("{}.{}", self.orderers.name, self.domain)
    }

    /// An organisation's domain, e.g. `hospitala.ehr`.
    pub fn org_domain(&self, org: &Organisation) -> String {
        format!("{}.{}", org.name, self.domain)
    }

    /// The orderer nodes a consensus type runs.
    pub fn orderer_nodes(&self, consensus: Consensus) -> &[OrdererNode] {
        match consensus {
            Consensus::Raft => &self.orderers.nodes[..self.orderers.raft],
            Consensus::Bft => &self.orderers.nodes,
        }
    }

    /// The roles registry the chaincode enforces, from the organisations.
    pub fn roles_registry(&self) -> Result<RoleRegistry> {
        let organisations = self
            .organisations
            .iter()
            .map(|o| OrgRoles { msp: o.msp.clone(), kind: o.kind, roles: o.roles.clone() })
            .collect();
        RoleRegistry { organisations }.validated().map_err(|e| TopologyError::Invalid(format!("roles: {e}")))
    }

    /// Every port with its environment name, orderers first, in file order.
    pub fn ports(&self) -> Vec<NamedPort> {
        let mut out = Vec::new();
        let mut add = |name: String, port: u16, bft_only: bool| out.push(NamedPort { name, port, bft_only });
        for (i, node) in self.orderers.nodes.iter().enumerate() {
            let prefix = node.name.to_uppercase();
            let bft_only = i >= self.orderers.raft;
            add(format!("{prefix}_PORT"), node.port, bft_only);
            add(format!("{prefix}_ADMIN_PORT"), node.admin_port, bft_only);
            add(format!("{prefix}_OPS_PORT"), node.operations_port, bft_only);
        }
        for org in &self.organisations {
            let prefix = org.name.to_uppercase();
            let p = org.ports;
            add(format!("{prefix}_PEER_PORT"), p.peer, false);
            add(format!("{prefix}_PEER_CC_PORT"), p.peer_chaincode, false);
            add(format!("{prefix}_PEER_OPS_PORT"), p.peer_operations, false);
            add(format!("{prefix}_CA_PORT"), p.ca, false);
            add(format!("{prefix}_CA_OPS_PORT"), p.ca_operations, false);
            for cc in &self.chaincodes {
                if let Some(port) = cc.ports.get(&org.name) {
                    add(chaincode_port_name(&org.name, &cc.name), *port, false);
                }
            }
        }
        out
    }

    /// Checks every rule the generators rely on.
    pub fn validate(&self) -> Result<()> {
        word("channel", &self.channel)?;
        word("domain", &self.domain)?;
        self.validate_orderers()?;
        if self.organisations.is_empty() {
            return Err(invalid("organisations: name at least one"));
        }
        let mut names = BTreeSet::from([self.orderers.name.clone()]);
        let mut msps = BTreeSet::from([self.orderers.msp.clone()]);
        for org in &self.organisations {
            validate_org(org)?;
            if !names.insert(org.name.clone()) || !msps.insert(org.msp.clone()) {
                return Err(invalid(format!("organisation {}: its name or MSP id is used twice", org.name)));
            }
        }
        self.roles_registry()?;
        if self.chaincodes.is_empty() {
            return Err(invalid("chaincodes: name at least one (the first is deployed by `network.sh up`)"));
        }
        for cc in &self.chaincodes {
            self.validate_chaincode(cc)?;
        }
        self.validate_ports()?;
        self.chaincode(&self.compose.chaincode)?;
        for (what, tag) in [
            ("compose.fabric_image", &self.compose.fabric_image),
            ("compose.ca_image", &self.compose.ca_image),
            ("compose.couchdb_image", &self.compose.couchdb_image),
        ] {
            let release = tag.split('.').count() == 3 && tag.split('.').all(|n| n.parse::<u32>().is_ok());
            if !release {
                return Err(invalid(format!("{what}: {tag:?} is not a release version such as 3.1.5")));
            }
        }
        Ok(())
    }

    fn validate_orderers(&self) -> Result<()> {
        let o = &self.orderers;
        word("orderers.name", &o.name)?;
        word("orderers.msp", &o.msp)?;
        if o.raft == 0 || o.raft > o.nodes.len() {
            return Err(invalid(format!("orderers.raft: {} is not between 1 and the {} nodes", o.raft, o.nodes.len())));
        }
        if o.nodes.len() < 4 {
            return Err(invalid("orderers.nodes: SmartBFT needs at least 4 nodes (3f+1 with f = 1)"));
        }
        let mut seen = BTreeSet::new();
        for node in &o.nodes {
            ident("orderers.nodes.name", &node.name)?;
            if !seen.insert(&node.name) {
                return Err(invalid(format!("orderer {} is listed twice", node.name)));
            }
        }
        Ok(())
    }

    fn validate_chaincode(&self, cc: &Chaincode) -> Result<()> {
        let at = format!("chaincode {}", cc.name);
        ident(&at, &cc.name)?;
        word(&format!("{at}: package"), &cc.package)?;
        word(&format!("{at}: binary"), &cc.binary)?;
        for path in [&cc.collections, &cc.indexes, &cc.roles_registry].into_iter().flatten() {
            let relative = !path.is_empty() && !path.starts_with('/') && !path.split('/').any(|part| part == "..");
            if !relative || path.chars().any(|c| c.is_whitespace() || c == '\'' || c == '"') {
                return Err(invalid(format!("{at}: {path:?} must be a plain path inside the repository")));
            }
        }
        let e = &cc.endorsement;
        if e.peers_of.is_empty() || e.peers_of.iter().collect::<BTreeSet<_>>().len() != e.peers_of.len() {
            return Err(invalid(format!("{at}: endorsement.peers_of must name organisations, each once")));
        }
        if let Some(unknown) = e.peers_of.iter().find(|name| self.org(name).is_none()) {
            return Err(invalid(format!("{at}: endorsement names {unknown:?}, which is not an organisation")));
        }
        if e.at_least.is_some_and(|n| n == 0 || n > e.peers_of.len()) {
            return Err(invalid(format!("{at}: endorsement.at_least must be between 1 and {}", e.peers_of.len())));
        }
        let wanted: BTreeSet<&String> = self.organisations.iter().map(|o| &o.name).collect();
        if cc.ports.keys().collect::<BTreeSet<_>>() != wanted {
            return Err(invalid(format!("{at}: ports must give exactly one port per organisation")));
        }
        Ok(())
    }

    fn validate_ports(&self) -> Result<()> {
        let mut by_port: BTreeMap<u16, String> = BTreeMap::new();
        let mut names = BTreeSet::new();
        let couchdb = self.organisations.iter().map(|o| NamedPort {
            name: format!("{}_COUCHDB_PORT", o.name.to_uppercase()),
            port: o.ports.couchdb,
            bft_only: false,
        });
        for p in self.ports().into_iter().chain(couchdb) {
            if p.port < 1024 {
                return Err(invalid(format!("{} = {}: use a port from 1024 up", p.name, p.port)));
            }
            if !names.insert(p.name.clone()) {
                return Err(invalid(format!(
                    "two ports would both be named {}; rename an orderer or organisation",
                    p.name
                )));
            }
            if let Some(other) = by_port.insert(p.port, p.name.clone()) {
                return Err(invalid(format!("{} and {} are both port {}", other, p.name, p.port)));
            }
        }
        Ok(())
    }
}

/// Which consensus the orderers run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consensus {
    /// etcdraft over the first `orderers.raft` nodes.
    Raft,
    /// SmartBFT over every node.
    Bft,
}

/// The environment name of an organisation's chaincode server port.
pub fn chaincode_port_name(org: &str, chaincode: &str) -> String {
    format!("{}_{}_CHAINCODE_PORT", org.to_uppercase(), chaincode.to_uppercase())
}

fn validate_org(org: &Organisation) -> Result<()> {
    let at = format!("organisation {}", org.name);
    ident(&at, &org.name)?;
    word(&format!("{at}: label"), &org.label)?;
    word(&format!("{at}: msp"), &org.msp)?;
    let mut seen = BTreeSet::new();
    for user in &org.users {
        let who = format!("user {}@{}", user.name, org.name);
        word(&who, &user.name)?;
        if !seen.insert(&user.name) {
            return Err(invalid(format!("{who} is listed twice")));
        }
        if !org.roles.contains(&user.role) {
            return Err(invalid(format!("{who}: role {} is not one of the organisation's roles", user.role.as_str())));
        }
        for (key, value) in &user.attributes {
            let key_ok = key != "role" && key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_');
            if !key_ok || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.') {
                return Err(invalid(format!("{who}: attribute name {key:?} (letters, digits, '_', '.'; not 'role')")));
            }
            // fabric-ca-client splits attributes at commas; quotes would break the YAML and shell renderings.
            if value.is_empty() || !value.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
                return Err(invalid(format!("{who}: attribute {key} = {value:?} (letters, digits, '-', '_', '.')")));
            }
        }
    }
    Ok(())
}

/// A name that is safe in host names, paths, YAML and shell words.
fn word(what: &str, value: &str) -> Result<()> {
    let ok = value.starts_with(|c: char| c.is_ascii_alphanumeric())
        && value.len() <= 64
        && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(invalid(format!("{what}: {value:?} must be letters, digits, '-' or '_' (at most 64)")))
    }
}

/// A name that also becomes part of shell variable names (`HOSPITALA_PEER_PORT`):
/// a lower-case letter, then lower-case letters, digits and '_'.
fn ident(what: &str, value: &str) -> Result<()> {
    let ok = value.starts_with(|c: char| c.is_ascii_lowercase())
        && value.len() <= 32
        && value.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(invalid(format!(
            "{what}: {value:?} must start with a lower-case letter and use only a-z, 0-9 and '_' (at most 32; it names shell variables)"
        )))
    }
}

fn invalid(message: impl Into<String>) -> TopologyError {
    TopologyError::Invalid(message.into())
}
