//! Reading an MSP folder, as `cryptogen` and `fabric-ca-client` write one:
//! `signcerts/` holds the certificate and `keystore/` its private key.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{IdentityError, Result};
use crate::signing::{Identity, Signer};

/// Reads the identity in the MSP folder `dir` (the first file of
/// `signcerts/` and of `keystore/`, by name, hidden files skipped) and
/// checks that the key belongs to the certificate, so that a mixed-up folder
/// is named here rather than refused by a peer.
///
/// ```no_run
/// let (identity, signer) =
///     fabric_identity::read_msp_folder("HospitalAMSP", "users/doctor1/msp".as_ref())?;
/// assert_eq!(identity.msp_id(), "HospitalAMSP");
/// # Ok::<(), fabric_identity::IdentityError>(())
/// ```
pub fn read_msp_folder(msp_id: &str, dir: &Path) -> Result<(Identity, Signer)> {
    let cert_path = first_file(&dir.join("signcerts"))?;
    let key_path = first_file(&dir.join("keystore"))?;
    let identity = Identity::from_file(msp_id, &cert_path)?;
    let signer = Signer::from_file(&key_path)?;
    identity.check_signer(&signer).map_err(|e| match e {
        IdentityError::KeyMismatch => IdentityError::MspFolder {
            path: dir.to_path_buf(),
            detail: format!(
                "the key {} does not belong to the certificate {}",
                key_path.display(),
                cert_path.display()
            ),
        },
        other => other,
    })?;
    Ok((identity, signer))
}

/// The first regular, non-hidden file of `dir` by name.
fn first_file(dir: &Path) -> Result<PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).map_err(IdentityError::io(dir))? {
        let entry = entry.map_err(IdentityError::io(dir))?;
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if !hidden && entry.path().is_file() {
            files.push(entry.path());
        }
    }
    files.sort();
    files
        .into_iter()
        .next()
        .ok_or_else(|| IdentityError::MspFolder { path: dir.to_path_buf(), detail: "no file in it".into() })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn pair(cn: &str) -> (String, Signer) {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let cert = rcgen::CertificateParams::new(vec![cn.into()]).unwrap().self_signed(&key).unwrap();
        (cert.pem(), Signer::from_pem(&key.serialize_pem()).unwrap())
    }

    #[test]
    fn the_first_certificate_and_key_are_read_and_must_match() {
        let tmp = tempfile::tempdir().unwrap();
        let msp = tmp.path().join("msp");
        fs::create_dir_all(msp.join("signcerts")).unwrap();
        fs::create_dir_all(msp.join("keystore")).unwrap();
        let (cert, signer) = pair("patient1");
        fs::write(msp.join("signcerts/cert.pem"), &cert).unwrap();
        fs::write(msp.join("keystore/.hidden"), b"junk").unwrap();
        fs::write(msp.join("keystore/0a1b_sk"), signer.to_pkcs8_pem().unwrap()).unwrap();

        let (identity, read) = read_msp_folder("HospitalAMSP", &msp).unwrap();
        assert_eq!(identity.certificate_pem(), cert.as_bytes());
        assert_eq!(read.public_key_sec1(), signer.public_key_sec1());

        let empty = tmp.path().join("empty");
        fs::create_dir_all(empty.join("signcerts")).unwrap();
        let err = read_msp_folder("HospitalAMSP", &empty).unwrap_err().to_string();
        assert!(err.contains("signcerts") && err.contains("no file"), "{err}");
        let err = read_msp_folder("HospitalAMSP", &tmp.path().join("absent")).unwrap_err().to_string();
        assert!(err.starts_with("cannot read") && err.contains("absent/signcerts"), "{err}");

        fs::write(msp.join("keystore/0a1b_sk"), Signer::generate().to_pkcs8_pem().unwrap()).unwrap();
        let err = read_msp_folder("HospitalAMSP", &msp).unwrap_err().to_string();
        assert!(err.contains("does not belong"), "{err}");
        fs::write(msp.join("keystore/0a1b_sk"), b"not a key").unwrap();
        let err = read_msp_folder("HospitalAMSP", &msp).unwrap_err().to_string();
        assert!(err.contains("0a1b_sk") && err.contains("PKCS#8"), "{err}");
    }
}
