//! Where the `ehr` tool finds the network, its identity and its files.
//!
//! One path: built-in defaults for the local network, then the config file
//! (`$EHR_CONFIG`, else `~/.config/ehr/config.toml`), then environment
//! variables, then command-line flags. Every value is optional everywhere, so
//! the tool works right after `fabric-network/network.sh up` with none of them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{EhrClientError, Result};

/// The local network's organisations: name, MSP id, and the prefix of its
/// entries in `fabric-network/ports.env` (the one place the ports live).
const LOCAL_ORGS: [(&str, &str, &str); 3] = [
    ("hospitala", "HospitalAMSP", "HOSPITALA"),
    ("hospitalb", "HospitalBMSP", "HOSPITALB"),
    ("regulator", "RegulatorMSP", "REGULATOR"),
];

/// Settings as read from a file or the environment; every field optional.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct Settings {
    /// Identity label in the wallet, `user@org` (e.g. `doctor1@hospitala`).
    pub identity: Option<String>,
    /// Gateway peer, `host:port`.
    pub peer: Option<String>,
    /// PEM file of the CA that signed the peer's TLS certificate.
    pub tls_root: Option<PathBuf>,
    /// Name to check the peer's TLS certificate against.
    pub server_name: Option<String>,
    /// Wallet folder.
    pub wallet: Option<PathBuf>,
    /// Channel.
    pub channel: Option<String>,
    /// Chaincode name.
    pub chaincode: Option<String>,
    /// Where uploaded files go: a folder, `file://`, or `s3://bucket/prefix`.
    pub store: Option<String>,
    /// fabric-ca URL for `login`.
    pub ca_url: Option<String>,
    /// fabric-ca CA name.
    pub ca_name: Option<String>,
    /// PEM file of the CA that signed the fabric-ca server's TLS certificate.
    pub ca_tls_root: Option<PathBuf>,
    /// The local network's state folder (`fabric-network/state`).
    pub network_dir: Option<PathBuf>,
}

impl Settings {
    /// Fields of `over` win over ours.
    fn merge(self, over: Settings) -> Settings {
        Settings {
            identity: over.identity.or(self.identity),
            peer: over.peer.or(self.peer),
            tls_root: over.tls_root.or(self.tls_root),
            server_name: over.server_name.or(self.server_name),
            wallet: over.wallet.or(self.wallet),
            channel: over.channel.or(self.channel),
            chaincode: over.chaincode.or(self.chaincode),
            store: over.store.or(self.store),
            ca_url: over.ca_url.or(self.ca_url),
            ca_name: over.ca_name.or(self.ca_name),
            ca_tls_root: over.ca_tls_root.or(self.ca_tls_root),
            network_dir: over.network_dir.or(self.network_dir),
        }
    }

    /// Reads `EHR_*` variables through `lookup` (the process environment in
    /// the tool, a map in tests).
    pub fn from_env(lookup: impl Fn(&str) -> Option<String>) -> Settings {
        let get = |k: &str| lookup(k).filter(|v| !v.is_empty());
        Settings {
            identity: get("EHR_IDENTITY"),
            peer: get("EHR_PEER"),
            tls_root: get("EHR_TLS_ROOT").map(PathBuf::from),
            server_name: get("EHR_SERVER_NAME"),
            wallet: get("EHR_WALLET").map(PathBuf::from),
            channel: get("EHR_CHANNEL"),
            chaincode: get("EHR_CHAINCODE"),
            store: get("EHR_STORE"),
            ca_url: get("EHR_CA_URL"),
            ca_name: get("EHR_CA_NAME"),
            ca_tls_root: get("EHR_CA_TLS_ROOT").map(PathBuf::from),
            network_dir: get("EHR_NETWORK_DIR").map(PathBuf::from),
        }
    }

    /// Reads a TOML config file; a missing file is no settings.
    pub fn from_file(path: &Path) -> Result<Settings> {
        match std::fs::read_to_string(path) {
            Ok(text) => toml::from_str(&text).map_err(|e| EhrClientError::Config(format!("{}: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Settings::default()),
            Err(e) => Err(EhrClientError::Config(format!("cannot read {}: {e}", path.display()))),
        }
    }
}

/// The settings every command uses, all filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Wallet label, `user@org`.
    pub identity: String,
    /// The organisation part of the label.
    pub org: String,
    /// The organisation's MSP id.
    pub msp_id: String,
    /// Gateway peer.
    pub peer: String,
    /// TLS root of the peer.
    pub tls_root: PathBuf,
    /// TLS server name, if set.
    pub server_name: Option<String>,
    /// Wallet folder.
    pub wallet: PathBuf,
    /// Channel.
    pub channel: String,
    /// Chaincode.
    pub chaincode: String,
    /// File store location.
    pub store: String,
    /// fabric-ca URL.
    pub ca_url: String,
    /// fabric-ca name.
    pub ca_name: String,
    /// fabric-ca TLS root.
    pub ca_tls_root: PathBuf,
    /// The local network's state folder.
    pub network_dir: PathBuf,
    /// Where `notifications` keeps its checkpoints by default.
    pub checkpoints: PathBuf,
}

/// The config file's path: `$EHR_CONFIG`, else `~/.config/ehr/config.toml`.
pub fn config_path(lookup: &impl Fn(&str) -> Option<String>) -> PathBuf {
    if let Some(p) = lookup("EHR_CONFIG").filter(|v| !v.is_empty()) {
        return PathBuf::from(p);
    }
    let home = lookup("HOME").unwrap_or_else(|| ".".into());
    let base = lookup("XDG_CONFIG_HOME").filter(|v| !v.is_empty()).unwrap_or_else(|| format!("{home}/.config"));
    PathBuf::from(base).join("ehr/config.toml")
}

/// The local network's state folder when nothing says otherwise: the
/// repository this tool was built from.
fn default_network_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fabric-network/state")
}

/// `KEY=VALUE` lines of `fabric-network/ports.env`.
fn local_ports(network_dir: &Path) -> BTreeMap<String, String> {
    let path = network_dir.join("../ports.env");
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

/// Splits `user@org`.
pub fn split_label(label: &str) -> Result<(&str, &str)> {
    label.split_once('@').filter(|(u, o)| !u.is_empty() && !o.is_empty()).ok_or_else(|| {
        EhrClientError::Config(format!(
            "identity {label:?} must be written user@org, e.g. doctor1@hospitala (set --identity or EHR_IDENTITY)"
        ))
    })
}

impl Config {
    /// Layers defaults, the file, the environment and `flags` (highest);
    /// `home` roots the default wallet, file store and checkpoints (`~/.ehr`).
    pub fn resolve(file: Settings, env: Settings, flags: Settings, home: &Path) -> Result<Config> {
        let ehr_home = home.join(".ehr");
        let s = file.merge(env).merge(flags);
        let network_dir = s.network_dir.clone().unwrap_or_else(default_network_dir);
        let identity = s.identity.clone().unwrap_or_else(|| "doctor1@hospitala".into());
        let (_, org) = split_label(&identity)?;
        let org = org.to_owned();
        let local = LOCAL_ORGS.iter().find(|(name, _, _)| *name == org);
        let ports = local_ports(&network_dir);
        let port = |suffix: &str| local.and_then(|(_, _, p)| ports.get(&format!("{p}_{suffix}")).cloned());
        let dom = format!("{org}.ehr");
        let org_tls = network_dir.join(format!("crypto/peerOrganizations/{dom}/tlsca/tlsca.{dom}-cert.pem"));
        let need = |what: &str, flag: &str| {
            EhrClientError::Config(format!(
                "no {what} for organisation {org:?}: it is not one of the local network's (hospitala, hospitalb, \
                 regulator); set {flag} in the config file or environment"
            ))
        };
        let msp_id = match local {
            Some((_, msp, _)) => (*msp).to_owned(),
            None => String::new(),
        };
        Ok(Config {
            peer: match s.peer {
                Some(p) => p,
                None => format!("127.0.0.1:{}", port("PEER_PORT").ok_or_else(|| need("peer", "EHR_PEER"))?),
            },
            tls_root: s.tls_root.unwrap_or_else(|| org_tls.clone()),
            server_name: s.server_name,
            wallet: s.wallet.unwrap_or_else(|| ehr_home.join("wallet")),
            channel: s.channel.unwrap_or_else(|| "ehr".into()),
            chaincode: s.chaincode.unwrap_or_else(|| "ehr".into()),
            store: s.store.unwrap_or_else(|| ehr_home.join("files").display().to_string()),
            checkpoints: ehr_home.join("checkpoints"),
            ca_url: match s.ca_url {
                Some(u) => u,
                None => format!("https://127.0.0.1:{}", port("CA_PORT").ok_or_else(|| need("CA", "EHR_CA_URL"))?),
            },
            ca_name: s.ca_name.unwrap_or_else(|| format!("ca-{org}")),
            ca_tls_root: s.ca_tls_root.unwrap_or(org_tls),
            identity,
            msp_id,
            org,
            network_dir,
        })
    }

    /// The local network's MSP folder for this identity, when it has one
    /// (`state/users/<org>/<user>/msp`, written by `network.sh up`).
    pub fn local_msp_dir(&self) -> Option<PathBuf> {
        let (user, org) = split_label(&self.identity).ok()?;
        let dir = self.network_dir.join("users").join(org).join(user).join("msp");
        dir.is_dir().then_some(dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_layers_win_and_defaults_fill_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        std::fs::create_dir_all(&state).unwrap();
        std::fs::write(dir.path().join("ports.env"), "# c\nHOSPITALB_PEER_PORT=8051\nHOSPITALB_CA_PORT=8054\n")
            .unwrap();
        let file =
            Settings { channel: Some("filechan".into()), chaincode: Some("filecc".into()), ..Default::default() };
        let env = Settings::from_env(|k| match k {
            "EHR_IDENTITY" => Some("lab1@hospitalb".into()),
            "EHR_CHANNEL" => Some("envchan".into()),
            "EHR_NETWORK_DIR" => Some(state.display().to_string()),
            _ => None,
        });
        let flags = Settings { chaincode: Some("flagcc".into()), ..Default::default() };
        let c = Config::resolve(file, env, flags, Path::new("/home/u")).unwrap();
        assert_eq!(c.wallet, Path::new("/home/u/.ehr/wallet"));
        assert_eq!((c.channel.as_str(), c.chaincode.as_str()), ("envchan", "flagcc"));
        assert_eq!(
            (c.org.as_str(), c.msp_id.as_str(), c.peer.as_str()),
            ("hospitalb", "HospitalBMSP", "127.0.0.1:8051")
        );
        assert_eq!(c.ca_url, "https://127.0.0.1:8054");
        assert_eq!(c.ca_name, "ca-hospitalb");
        assert!(c.tls_root.ends_with("tlsca/tlsca.hospitalb.ehr-cert.pem"));
    }

    #[test]
    fn a_foreign_org_needs_its_peer_named() {
        let env = Settings { identity: Some("x@elsewhere".into()), ..Default::default() };
        let err =
            Config::resolve(Settings::default(), env, Settings::default(), Path::new("/h")).unwrap_err().to_string();
        assert!(err.contains("EHR_PEER"), "{err}");
        let bad = Settings { identity: Some("nobody".into()), ..Default::default() };
        let err =
            Config::resolve(Settings::default(), bad, Settings::default(), Path::new("/h")).unwrap_err().to_string();
        assert!(err.contains("user@org"), "{err}");
    }

    #[test]
    fn config_files_are_toml_and_unknown_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "peer = \"10.0.0.1:7051\"\nchannel = \"x\"\n").unwrap();
        let s = Settings::from_file(&path).unwrap();
        assert_eq!(s.peer.as_deref(), Some("10.0.0.1:7051"));
        std::fs::write(&path, "pear = 1\n").unwrap();
        assert!(Settings::from_file(&path).unwrap_err().to_string().contains("pear"));
        assert_eq!(Settings::from_file(&dir.path().join("none.toml")).unwrap(), Settings::default());
    }
}
