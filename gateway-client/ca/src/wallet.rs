//! [`Wallet`]: identities kept on disk, one folder per label, keys private.
//!
//! ```text
//! <wallet>/                      0700
//!   <label>/                     0700
//!     cert.pem                   the enrolment certificate
//!     key.pem                    0600, PKCS#8, written atomically
//!     identity.json              {"mspId", "label", "enrollmentId", "caUrl"}
//! ```
//!
//! Files are replaced by writing a temporary file (created with its final
//! mode, so a key is never readable by others, not even for an instant),
//! syncing it and renaming it over the old one. Reading refuses a key that
//! group or others may read, the way `ssh` does, and a key that is not the
//! certificate's.
//!
//! Certificates and keys are read with `fabric-identity`, which also tells
//! when a certificate expires.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use fabric_identity::{Identity, Signer, read_msp_folder};
use serde::{Deserialize, Serialize};

use crate::error::{CaError, Result};

const CERT_FILE: &str = "cert.pem";
const KEY_FILE: &str = "key.pem";
const META_FILE: &str = "identity.json";

/// A folder of identities, one sub-folder per label.
///
/// A handle does no I/O until used; the folder is created by the first
/// [`Wallet::put`].
#[derive(Debug, Clone)]
pub struct Wallet {
    dir: PathBuf,
}

/// What a wallet remembers about an identity besides its certificate and
/// key: enough to connect as it and to re-enrol it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityMeta {
    /// The MSP that issued the certificate, e.g. `HospitalAMSP`.
    pub msp_id: String,
    /// The wallet label (the sub-folder's name).
    pub label: String,
    /// The enrolment id at the CA (the certificate's common name).
    pub enrollment_id: String,
    /// The CA that enrolled it; `None` for identities imported from an MSP folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_url: Option<String>,
}

/// One identity read from a wallet, its key checked against its certificate.
#[derive(Debug, Clone)]
pub struct WalletEntry {
    /// The certificate and MSP id, to hand to a gateway.
    pub identity: Identity,
    /// The private key of the certificate.
    pub signer: Signer,
    /// The stored details.
    pub meta: IdentityMeta,
}

impl Wallet {
    /// A wallet in `dir` (created when the first identity is put).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The wallet folder.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Stores (or replaces) the identity `meta.label`: certificate, key and
    /// details. Refuses a key that is not the certificate's, so a wallet never
    /// holds a pair that cannot sign.
    pub fn put(&self, meta: &IdentityMeta, certificate_pem: &[u8], signer: &Signer) -> Result<()> {
        validate_label(&meta.label)?;
        let identity = Identity::new(meta.msp_id.as_str(), certificate_pem)?;
        identity.check_signer(signer).map_err(|_| CaError::KeyMismatch { label: meta.label.clone() })?;
        let key_pem = signer.to_pkcs8_pem()?;
        let json = serde_json::to_vec_pretty(meta).map_err(|e| CaError::BadEntry {
            path: self.dir.join(&meta.label).join(META_FILE),
            detail: format!("cannot encode: {e}"),
        })?;

        create_private_dir(&self.dir)?;
        let entry = self.dir.join(&meta.label);
        create_private_dir(&entry)?;
        write_atomic(&entry.join(KEY_FILE), key_pem.as_bytes(), 0o600)?;
        write_atomic(&entry.join(CERT_FILE), certificate_pem, 0o644)?;
        write_atomic(&entry.join(META_FILE), &json, 0o644)
    }

    /// Reads the identity `label`, refusing a key readable by group or
    /// others and a key that does not belong to the certificate.
    pub fn get(&self, label: &str) -> Result<WalletEntry> {
        let entry = self.entry_dir(label)?;
        let meta_path = entry.join(META_FILE);
        let json = fs::read(&meta_path).map_err(CaError::io("read", &meta_path))?;
        let meta: IdentityMeta = serde_json::from_slice(&json).map_err(|e| CaError::BadEntry {
            path: meta_path.clone(),
            detail: format!("not a wallet identity: {e}"),
        })?;

        let key_path = entry.join(KEY_FILE);
        let mode = fs::metadata(&key_path).map_err(CaError::io("read", &key_path))?.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(CaError::KeyPermissions { path: key_path, mode: mode & 0o7777 });
        }
        let key_pem = fs::read_to_string(&key_path).map_err(CaError::io("read", &key_path))?;
        let signer =
            Signer::from_pem(&key_pem).map_err(|e| CaError::BadEntry { path: key_path, detail: e.to_string() })?;

        let cert_path = entry.join(CERT_FILE);
        let cert = fs::read(&cert_path).map_err(CaError::io("read", &cert_path))?;
        let identity = Identity::new(meta.msp_id.as_str(), cert)
            .map_err(|e| CaError::BadEntry { path: cert_path, detail: e.to_string() })?;
        identity.check_signer(&signer).map_err(|_| CaError::KeyMismatch { label: label.to_string() })?;
        Ok(WalletEntry { identity, signer, meta })
    }

    /// The labels in the wallet, sorted; empty when the wallet folder does
    /// not exist yet.
    pub fn list(&self) -> Result<Vec<String>> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(CaError::io("list", &self.dir)(e)),
        };
        let mut labels = Vec::new();
        for entry in entries {
            let entry = entry.map_err(CaError::io("list", &self.dir))?;
            let Ok(label) = entry.file_name().into_string() else { continue };
            if validate_label(&label).is_ok() && entry.path().join(META_FILE).is_file() {
                labels.push(label);
            }
        }
        labels.sort();
        Ok(labels)
    }

    /// Deletes the identity `label` (certificate, key and details).
    pub fn remove(&self, label: &str) -> Result<()> {
        let entry = self.entry_dir(label)?;
        fs::remove_dir_all(&entry).map_err(CaError::io("remove", entry))
    }

    /// Copies an MSP folder written by `fabric-ca-client` or `cryptogen` into
    /// the wallet as `label`: the first file of `signcerts/` and of
    /// `keystore/` (by name). The enrolment id is the certificate's common
    /// name; no CA URL is known.
    pub fn import_msp_dir(&self, label: &str, msp_id: &str, dir: &Path) -> Result<WalletEntry> {
        validate_label(label)?;
        let (identity, signer) = read_msp_folder(msp_id, dir)?;
        let cert = identity.certificate_pem().to_vec();
        let meta = IdentityMeta {
            msp_id: msp_id.to_string(),
            label: label.to_string(),
            enrollment_id: identity.certificate().common_name()?,
            ca_url: None,
        };
        self.put(&meta, &cert, &signer)?;
        Ok(WalletEntry { identity, signer, meta })
    }

    /// The folder of an existing entry.
    fn entry_dir(&self, label: &str) -> Result<PathBuf> {
        validate_label(label)?;
        let entry = self.dir.join(label);
        if entry.is_dir() {
            Ok(entry)
        } else {
            Err(CaError::NotInWallet { label: label.to_string(), wallet: self.dir.clone() })
        }
    }
}

/// Checks that `label` can name a wallet folder and nothing else: not empty,
/// no path separators, no `..`, not hidden.
pub fn validate_label(label: &str) -> Result<()> {
    let reason = if label.trim().is_empty() {
        "it is empty"
    } else if label.contains('/') || label.contains('\\') {
        "it contains a path separator"
    } else if label.contains("..") {
        "it contains '..'"
    } else if label.starts_with('.') {
        "it starts with '.'"
    } else if label.chars().any(char::is_control) {
        "it contains control characters"
    } else {
        return Ok(());
    };
    Err(CaError::InvalidLabel { label: label.to_string(), reason })
}

/// Creates `dir` (and missing parents) with mode 0700; an existing folder is
/// left as it is.
fn create_private_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(CaError::io("create folder", dir))
}

/// Replaces `path` with `contents` so that readers see the old or the new
/// file, never a part; the file has `mode` from its creation on.
fn write_atomic(path: &Path, contents: &[u8], mode: u32) -> Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.{}.tmp", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed)));
    let written = (|| {
        let mut file = OpenOptions::new().write(true).create_new(true).mode(mode).open(&tmp)?;
        file.write_all(contents)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(CaError::io("write", path)(e));
    }
    // Make the rename itself durable.
    File::open(dir).and_then(|d| d.sync_all()).map_err(CaError::io("sync folder", dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A certificate for a fresh key (self-signed, as good as a CA's here).
    fn pair(cn: &str) -> (String, Signer) {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params.distinguished_name.push(rcgen::DnType::CommonName, cn);
        let cert = params.self_signed(&key).unwrap();
        (cert.pem(), Signer::from_pem(&key.serialize_pem()).unwrap())
    }

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    fn meta(label: &str) -> IdentityMeta {
        IdentityMeta {
            msp_id: "HospitalAMSP".into(),
            label: label.into(),
            enrollment_id: "doctor1".into(),
            ca_url: Some("https://127.0.0.1:7054".into()),
        }
    }

    #[test]
    fn put_writes_private_folders_and_key_and_get_reads_them_back() {
        let tmp = tempfile::tempdir().unwrap();
        let wallet = Wallet::new(tmp.path().join("nested/wallet"));
        assert_eq!(wallet.list().unwrap(), Vec::<String>::new(), "a wallet not created yet is empty");
        let (cert, signer) = pair("doctor1");
        wallet.put(&meta("doctor1@hospitala"), cert.as_bytes(), &signer).unwrap();

        let entry_dir = wallet.path().join("doctor1@hospitala");
        assert_eq!(mode(wallet.path()), 0o700);
        assert_eq!(mode(&entry_dir), 0o700);
        assert_eq!(mode(&entry_dir.join("key.pem")), 0o600);
        let mut names: Vec<String> =
            fs::read_dir(&entry_dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        names.sort();
        assert_eq!(names, ["cert.pem", "identity.json", "key.pem"], "no temporary file is left behind");

        let json: serde_json::Value =
            serde_json::from_slice(&fs::read(entry_dir.join("identity.json")).unwrap()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"mspId": "HospitalAMSP", "label": "doctor1@hospitala", "enrollmentId": "doctor1",
                "caUrl": "https://127.0.0.1:7054"})
        );

        let entry = wallet.get("doctor1@hospitala").unwrap();
        assert_eq!(entry.identity.certificate_pem(), cert.as_bytes());
        assert_eq!(entry.identity.msp_id(), "HospitalAMSP");
        assert_eq!(entry.signer.public_key_sec1(), signer.public_key_sec1());
        assert_eq!(entry.meta, meta("doctor1@hospitala"));
        assert_eq!(wallet.list().unwrap(), ["doctor1@hospitala"]);

        // Logging in again replaces certificate and key; the key stays private.
        let (cert2, signer2) = pair("doctor1");
        wallet.put(&meta("doctor1@hospitala"), cert2.as_bytes(), &signer2).unwrap();
        let entry = wallet.get("doctor1@hospitala").unwrap();
        assert_eq!(entry.signer.public_key_sec1(), signer2.public_key_sec1());
        assert_eq!(mode(&entry_dir.join("key.pem")), 0o600);

        wallet.remove("doctor1@hospitala").unwrap();
        assert!(!entry_dir.exists());
        assert!(matches!(wallet.get("doctor1@hospitala"), Err(CaError::NotInWallet { .. })));
        assert!(matches!(wallet.remove("doctor1@hospitala"), Err(CaError::NotInWallet { .. })));
    }

    #[test]
    fn get_refuses_a_key_that_group_or_others_can_read() {
        let tmp = tempfile::tempdir().unwrap();
        let wallet = Wallet::new(tmp.path());
        let (cert, signer) = pair("doctor1");
        wallet.put(&meta("d"), cert.as_bytes(), &signer).unwrap();
        let key = tmp.path().join("d/key.pem");
        for loose in [0o640, 0o604, 0o644] {
            fs::set_permissions(&key, fs::Permissions::from_mode(loose)).unwrap();
            let err = wallet.get("d").unwrap_err();
            assert!(matches!(err, CaError::KeyPermissions { .. }), "{err}");
            let text = err.to_string();
            assert!(text.contains(&format!("run `chmod 600 {}`", key.display())), "{text}");
            assert!(text.contains(&format!("{loose:o}")), "{text}");
        }
        fs::set_permissions(&key, fs::Permissions::from_mode(0o600)).unwrap();
        wallet.get("d").unwrap();
        fs::set_permissions(&key, fs::Permissions::from_mode(0o400)).unwrap();
        wallet.get("d").unwrap();
    }

    #[test]
    fn a_key_that_is_not_the_certificates_is_named() {
        let tmp = tempfile::tempdir().unwrap();
        let wallet = Wallet::new(tmp.path());
        let (cert, signer) = pair("doctor1");
        let err = wallet.put(&meta("d"), cert.as_bytes(), &Signer::generate()).unwrap_err();
        assert!(matches!(err, CaError::KeyMismatch { ref label } if label == "d"), "{err}");
        assert!(!tmp.path().join("d").exists(), "nothing is written for a mismatched pair");

        wallet.put(&meta("d"), cert.as_bytes(), &signer).unwrap();
        // Someone swaps the key file behind the wallet's back.
        write_atomic(&tmp.path().join("d/key.pem"), Signer::generate().to_pkcs8_pem().unwrap().as_bytes(), 0o600)
            .unwrap();
        let err = wallet.get("d").unwrap_err().to_string();
        assert!(err.contains("\"d\"") && err.contains("does not belong to its certificate"), "{err}");
    }

    #[test]
    fn labels_that_could_escape_the_wallet_are_refused() {
        for bad in ["", " ", "a/b", "..", "../x", "x/..", "a..b", ".hidden", "a\\b", "a\0b", "a\nb"] {
            let err = validate_label(bad).unwrap_err();
            assert!(matches!(err, CaError::InvalidLabel { .. }), "{bad:?}: {err}");
        }
        for good in ["doctor1", "doctor1@hospitala", "Dr Who", "p-9_x.y"] {
            validate_label(good).unwrap();
        }
        let tmp = tempfile::tempdir().unwrap();
        let wallet = Wallet::new(tmp.path().join("w"));
        let (cert, signer) = pair("x");
        assert!(wallet.put(&meta("../escape"), cert.as_bytes(), &signer).is_err());
        assert!(!tmp.path().join("escape").exists());
        assert!(matches!(wallet.get("../w"), Err(CaError::InvalidLabel { .. })));
        assert!(matches!(wallet.remove(".."), Err(CaError::InvalidLabel { .. })));
        // Stray folders and files are not listed as identities.
        fs::create_dir_all(tmp.path().join("w/not-an-identity")).unwrap();
        fs::write(tmp.path().join("w/.tmp"), b"").unwrap();
        wallet.put(&meta("real"), cert.as_bytes(), &signer).unwrap();
        assert_eq!(wallet.list().unwrap(), ["real"]);
    }

    #[test]
    fn an_msp_folder_is_imported_with_its_common_name() {
        let tmp = tempfile::tempdir().unwrap();
        let (cert, signer) = pair("patient1");
        let msp = tmp.path().join("msp");
        for (file, text) in [("signcerts/cert.pem", cert.clone()), ("keystore/0a1b_sk", signer.to_pkcs8_pem().unwrap())]
        {
            let path = msp.join(file);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }

        let wallet = Wallet::new(tmp.path().join("wallet"));
        let entry = wallet.import_msp_dir("patient1", "HospitalAMSP", &msp).unwrap();
        assert_eq!(entry.meta.enrollment_id, "patient1");
        assert_eq!(entry.meta.ca_url, None);
        let again = wallet.get("patient1").unwrap();
        assert_eq!(again.signer.public_key_sec1(), signer.public_key_sec1());
        assert_eq!(again.identity.certificate_pem(), cert.as_bytes());
        assert_eq!(mode(&wallet.path().join("patient1/key.pem")), 0o600);

        let empty = tmp.path().join("empty");
        fs::create_dir_all(empty.join("signcerts")).unwrap();
        let err = wallet.import_msp_dir("x", "HospitalAMSP", &empty).unwrap_err().to_string();
        assert!(err.contains("signcerts") && err.contains("no file"), "{err}");
        assert!(!wallet.path().join("x").exists(), "nothing is imported from a folder without a certificate");

        fs::write(msp.join("keystore/0a1b_sk"), Signer::generate().to_pkcs8_pem().unwrap()).unwrap();
        let err = wallet.import_msp_dir("y", "HospitalAMSP", &msp).unwrap_err().to_string();
        assert!(err.contains("does not belong"), "{err}");
    }
}
