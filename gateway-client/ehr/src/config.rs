//! Where the network, the identity and the files are: [`Settings`] as given
//! (every field optional), [`NetworkProfile`] as the network describes
//! itself, and [`Config`], everything resolved.
//!
//! The settings are declared once, here. The `ehr` tool layers them: flags,
//! then `EHR_*` environment variables (both through clap, with the `clap`
//! feature), then the config file ([`Settings::from_file`]), then what the
//! network wrote about itself (`network.json` in its state folder), then
//! built-in defaults. This library reads no environment variable and knows
//! no path of its own: a binary built anywhere works against a network
//! started anywhere.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{EhrClientError, Result};

// The profile a network writes into its state folder is defined once, by the
// crate that writes it.
use ehr_topology::profile::local_ca_name;
pub use ehr_topology::profile::{NETWORK_FILE, NetworkProfile, OrgProfile};

/// Where a checkout keeps its local network's state folder, relative to the
/// checkout's root; searched for from the working directory upwards.
const LOCAL_STATE: &str = "fabric-network/state";

/// The identity used when none is named.
const DEFAULT_IDENTITY: &str = "doctor1@hospitala";

/// Settings as given on the command line, in the environment or in a config
/// file (TOML, the same names); every field optional.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Identity to act as, user@org (default doctor1@hospitala)
    #[cfg_attr(feature = "clap", arg(long, global = true, env = "EHR_IDENTITY"))]
    pub identity: Option<String>,
    /// Gateway peer, host:port (default: the organisation's peer in network.json)
    #[cfg_attr(feature = "clap", arg(long, global = true, env = "EHR_PEER"))]
    pub peer: Option<String>,
    /// PEM of the CA that signed the peer's TLS certificate (default: from network.json)
    #[cfg_attr(feature = "clap", arg(long, global = true, env = "EHR_TLS_ROOT"))]
    pub tls_root: Option<PathBuf>,
    /// Name to check the peer's TLS certificate against, when it is not the peer's host
    #[cfg_attr(feature = "clap", arg(long, global = true, env = "EHR_SERVER_NAME"))]
    pub server_name: Option<String>,
    /// MSP id of the identity's organisation (default: from network.json)
    #[cfg_attr(feature = "clap", arg(long, global = true, env = "EHR_MSP_ID"))]
    pub msp_id: Option<String>,
    /// Wallet folder (default ~/.ehr/wallet)
    #[cfg_attr(feature = "clap", arg(long, global = true, env = "EHR_WALLET"))]
    pub wallet: Option<PathBuf>,
    /// Channel (default: from network.json, else ehr)
    #[cfg_attr(feature = "clap", arg(long, global = true, env = "EHR_CHANNEL"))]
    pub channel: Option<String>,
    /// Chaincode (default: from network.json, else ehr)
    #[cfg_attr(feature = "clap", arg(long, global = true, env = "EHR_CHAINCODE"))]
    pub chaincode: Option<String>,
    /// File store: a folder, file:// or s3://bucket/prefix (default ~/.ehr/files)
    #[cfg_attr(feature = "clap", arg(long, global = true, env = "EHR_STORE"))]
    pub store: Option<String>,
    /// fabric-ca URL for login (default: from network.json)
    #[cfg_attr(feature = "clap", arg(long, global = true, env = "EHR_CA_URL"))]
    pub ca_url: Option<String>,
    /// fabric-ca CA name (default: from network.json)
    #[cfg_attr(feature = "clap", arg(long, global = true, env = "EHR_CA_NAME"))]
    pub ca_name: Option<String>,
    /// PEM of the CA that signed fabric-ca's TLS certificate (default: from network.json)
    #[cfg_attr(feature = "clap", arg(long, global = true, env = "EHR_CA_TLS_ROOT"))]
    pub ca_tls_root: Option<PathBuf>,
    /// The network's state folder holding network.json (default: fabric-network/state in the checkout around the working directory)
    #[cfg_attr(feature = "clap", arg(long, global = true, env = "EHR_NETWORK_DIR"))]
    pub network_dir: Option<PathBuf>,
}

impl Settings {
    /// Reads a TOML config file; a missing file is no settings.
    pub fn from_file(path: &Path) -> Result<Settings> {
        match std::fs::read_to_string(path) {
            Ok(text) => toml::from_str(&text).map_err(|e| EhrClientError::Config(format!("{}: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Settings::default()),
            Err(e) => Err(EhrClientError::Config(format!("cannot read {}: {e}", path.display()))),
        }
    }

    /// Our fields where set, `fallback`'s elsewhere. Field by field through
    /// serde, so that a new setting needs no change here.
    pub fn or(self, fallback: Settings) -> Result<Settings> {
        let encode = |s: Settings| serde_json::to_value(s).map_err(|e| EhrClientError::Config(e.to_string()));
        let (mut ours, theirs) = (encode(self)?, encode(fallback)?);
        if let (Some(ours), serde_json::Value::Object(theirs)) = (ours.as_object_mut(), theirs) {
            for (key, value) in theirs {
                if ours.get(&key).is_none_or(serde_json::Value::is_null) {
                    ours.insert(key, value);
                }
            }
        }
        serde_json::from_value(ours).map_err(|e| EhrClientError::Config(e.to_string()))
    }
}

/// Reads `network.json` from the state folder `dir`.
pub fn read_profile(dir: &Path) -> Result<NetworkProfile> {
    let path = dir.join(NETWORK_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        EhrClientError::Config(format!(
            "cannot read the network's settings {}: {e}; is the network up, and is this its state folder?",
            path.display()
        ))
    })?;
    serde_json::from_str(&text).map_err(|e| EhrClientError::Config(format!("{}: {e}", path.display())))
}

/// The state folder of the local network of the checkout around `cwd`: the
/// first `fabric-network/state` holding a `network.json`, from `cwd` upwards.
pub fn find_local_state(cwd: &Path) -> Option<PathBuf> {
    cwd.ancestors().map(|dir| dir.join(LOCAL_STATE)).find(|state| state.join(NETWORK_FILE).is_file())
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
    /// Where `notifications` keeps its checkpoints by default.
    pub checkpoints: PathBuf,
    /// The network's description, when one was found.
    pub network: Option<NetworkProfile>,
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
    /// Fills in `settings` from the network's description (`network_dir`,
    /// else the local network of the checkout around `cwd`) and defaults;
    /// `home` roots the default wallet, file store and checkpoints (`~/.ehr`).
    pub fn resolve(settings: Settings, home: &Path, cwd: &Path) -> Result<Config> {
        let ehr_home = home.join(".ehr");
        let s = settings;
        let network = match s.network_dir.clone().or_else(|| find_local_state(cwd)) {
            Some(dir) => Some(read_profile(&dir)?),
            None => None,
        };
        let identity = s.identity.clone().unwrap_or_else(|| DEFAULT_IDENTITY.into());
        let org = split_label(&identity)?.1.to_owned();
        let local = network.as_ref().and_then(|n| n.organisations.get(&org));
        let need = |what: &str, flag: &str| missing(what, flag, &org, network.as_ref(), cwd);
        Ok(Config {
            msp_id: s
                .msp_id
                .or_else(|| local.map(|o| o.msp_id.clone()))
                .ok_or_else(|| need("MSP id", "--msp-id / EHR_MSP_ID"))?,
            peer: s.peer.or_else(|| local.map(|o| o.peer.clone())).ok_or_else(|| need("peer", "--peer / EHR_PEER"))?,
            tls_root: s
                .tls_root
                .or_else(|| local.map(|o| o.tls_root.clone()))
                .ok_or_else(|| need("peer TLS root", "--tls-root / EHR_TLS_ROOT"))?,
            ca_url: s.ca_url.or_else(|| local.map(|o| o.ca_url.clone())).unwrap_or_default(),
            ca_name: s.ca_name.or_else(|| local.map(|o| o.ca_name.clone())).unwrap_or_else(|| local_ca_name(&org)),
            ca_tls_root: s.ca_tls_root.or_else(|| local.map(|o| o.ca_tls_root.clone())).unwrap_or_default(),
            server_name: s.server_name,
            wallet: s.wallet.unwrap_or_else(|| ehr_home.join("wallet")),
            channel: s.channel.or_else(|| network.as_ref().map(|n| n.channel.clone())).unwrap_or_else(|| "ehr".into()),
            chaincode: s
                .chaincode
                .or_else(|| network.as_ref().map(|n| n.chaincode.clone()))
                .unwrap_or_else(|| "ehr".into()),
            store: s.store.unwrap_or_else(|| ehr_home.join("files").display().to_string()),
            checkpoints: ehr_home.join("checkpoints"),
            identity,
            org,
            network,
        })
    }

    /// The network's MSP folder for this identity, when the network enrolled
    /// it (`<users>/<user>/msp`).
    pub fn local_msp_dir(&self) -> Option<PathBuf> {
        let (user, org) = split_label(&self.identity).ok()?;
        let users = self.network.as_ref()?.organisations.get(org)?.users.as_ref()?;
        let dir = users.join(user).join("msp");
        dir.is_dir().then_some(dir)
    }

    /// Every identity the network enrolled, `user@org`, sorted.
    pub fn local_identities(&self) -> Vec<String> {
        let Some(network) = &self.network else { return Vec::new() };
        let mut labels: Vec<String> = network
            .organisations
            .iter()
            .filter_map(|(org, o)| Some((org, std::fs::read_dir(o.users.as_ref()?).ok()?)))
            .flat_map(|(org, users)| {
                users
                    .filter_map(|u| u.ok())
                    .filter(|u| u.path().join("msp").is_dir())
                    .map(move |u| format!("{}@{org}", u.file_name().to_string_lossy()))
            })
            .collect();
        labels.sort();
        labels
    }

    /// Fails unless login settings are complete: the CA's URL and TLS root.
    pub fn require_ca(&self) -> Result<()> {
        if self.ca_url.is_empty() || self.ca_tls_root.as_os_str().is_empty() {
            let missing = if self.ca_url.is_empty() { "URL" } else { "TLS root" };
            return Err(EhrClientError::Config(format!(
                "no CA {missing} for organisation {:?}; set --ca-url / EHR_CA_URL and --ca-tls-root / EHR_CA_TLS_ROOT",
                self.org
            )));
        }
        Ok(())
    }
}

/// The error for a setting nobody gave and the network does not know.
fn missing(what: &str, flag: &str, org: &str, network: Option<&NetworkProfile>, cwd: &Path) -> EhrClientError {
    match network {
        Some(n) => EhrClientError::Config(format!(
            "no {what} for organisation {org:?}: it is not in the network's settings (it has {}); set {flag}",
            n.organisations.keys().cloned().collect::<Vec<_>>().join(", ")
        )),
        None => EhrClientError::NoNetwork(format!(
            "no {what} for organisation {org:?}: no network settings were found (no --network-dir / \
             EHR_NETWORK_DIR, and no {LOCAL_STATE}/{NETWORK_FILE} in {} or a folder above it); set {flag}",
            cwd.display()
        )),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn profile(dir: &Path) -> PathBuf {
        let state = dir.join(LOCAL_STATE);
        std::fs::create_dir_all(state.join("users/hospitalb/lab1/msp")).unwrap();
        let org = |msp: &str, port: u16, name: &str| OrgProfile {
            msp_id: msp.into(),
            peer: format!("127.0.0.1:{port}"),
            tls_root: state.join(format!("tls-{name}.pem")),
            ca_url: format!("https://127.0.0.1:{}", port + 3),
            ca_name: format!("ca-{name}"),
            ca_tls_root: state.join(format!("tls-{name}.pem")),
            users: Some(state.join("users").join(name)),
        };
        let network = NetworkProfile {
            channel: "netchan".into(),
            chaincode: "ehr".into(),
            organisations: BTreeMap::from([
                ("hospitala".into(), org("HospitalAMSP", 7051, "hospitala")),
                ("hospitalb".into(), org("HospitalBMSP", 8051, "hospitalb")),
            ]),
        };
        std::fs::write(state.join(NETWORK_FILE), serde_json::to_vec(&network).unwrap()).unwrap();
        state
    }

    #[test]
    fn earlier_layers_win_and_the_network_fills_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let state = profile(dir.path());
        let file =
            Settings { channel: Some("filechan".into()), chaincode: Some("filecc".into()), ..Default::default() };
        let env =
            Settings { identity: Some("lab1@hospitalb".into()), channel: Some("envchan".into()), ..Default::default() };
        let flags = Settings { chaincode: Some("flagcc".into()), ..Default::default() };
        let settings = flags.or(env).unwrap().or(file).unwrap();
        // Found from a folder deep inside the checkout, as when run from a sub-folder.
        let cwd = dir.path().join("gateway-client/ehr");
        let c = Config::resolve(settings, Path::new("/home/u"), &cwd).unwrap();
        assert_eq!(c.wallet, Path::new("/home/u/.ehr/wallet"));
        assert_eq!((c.channel.as_str(), c.chaincode.as_str()), ("envchan", "flagcc"));
        assert_eq!(
            (c.org.as_str(), c.msp_id.as_str(), c.peer.as_str()),
            ("hospitalb", "HospitalBMSP", "127.0.0.1:8051")
        );
        assert_eq!(c.ca_url, "https://127.0.0.1:8054");
        assert_eq!(c.ca_name, "ca-hospitalb");
        assert_eq!(c.tls_root, state.join("tls-hospitalb.pem"));
        assert_eq!(c.local_msp_dir(), Some(state.join("users/hospitalb/lab1/msp")));
        assert_eq!(c.local_identities(), ["lab1@hospitalb"]);
        // The channel comes from the network when nobody names one.
        let c = Config::resolve(Settings::default(), Path::new("/h"), dir.path()).unwrap();
        assert_eq!((c.channel.as_str(), c.identity.as_str()), ("netchan", DEFAULT_IDENTITY));
    }

    #[test]
    fn an_org_the_network_does_not_know_needs_its_peer_named_and_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let state = profile(dir.path());
        let foreign = Settings { identity: Some("x@elsewhere".into()), network_dir: Some(state), ..Default::default() };
        let err = Config::resolve(foreign.clone(), Path::new("/h"), Path::new("/")).unwrap_err().to_string();
        assert!(err.contains("EHR_MSP_ID") && err.contains("it has hospitala, hospitalb"), "{err}");
        let named = Settings {
            msp_id: Some("ElsewhereMSP".into()),
            peer: Some("peer.elsewhere:7051".into()),
            tls_root: Some("/etc/elsewhere/tls.pem".into()),
            ..Default::default()
        };
        let c = Config::resolve(named.or(foreign).unwrap(), Path::new("/h"), Path::new("/")).unwrap();
        assert_eq!((c.msp_id.as_str(), c.peer.as_str()), ("ElsewhereMSP", "peer.elsewhere:7051"));
        assert!(c.require_ca().unwrap_err().to_string().contains("EHR_CA_URL"));

        let empty = tempfile::tempdir().unwrap();
        let err = Config::resolve(Settings::default(), Path::new("/h"), empty.path()).unwrap_err().to_string();
        assert!(err.contains("no network settings were found") && err.contains("EHR_NETWORK_DIR"), "{err}");
        let bad = Settings { identity: Some("nobody".into()), ..Default::default() };
        let err = Config::resolve(bad, Path::new("/h"), empty.path()).unwrap_err().to_string();
        assert!(err.contains("user@org"), "{err}");
        let gone = Settings { network_dir: Some(empty.path().into()), ..Default::default() };
        let err = Config::resolve(gone, Path::new("/h"), Path::new("/")).unwrap_err().to_string();
        assert!(err.contains("network.json") && err.contains("is the network up"), "{err}");
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
