//! Who a client is ([`Identity`]) and how it proves it ([`Signer`]), like
//! Go's `fabric-gateway/pkg/identity`.
//!
//! The two are separate on purpose: an application that keeps its key in a
//! hardware module or on another machine connects with an identity only, and
//! signs the digests the gateway client hands out.

use std::fmt;
use std::path::Path;

use fabric_protos::msp::SerializedIdentity;
use p256::ecdsa::signature::hazmat::PrehashSigner;
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use prost::Message;
use sha2::{Digest, Sha256};

use crate::certificate::Certificate;
use crate::error::{IdentityError, Result};

/// The client's certificate and the MSP that issued it, as Fabric serialises
/// it into every proposal and request (`msp.SerializedIdentity`).
#[derive(Clone, PartialEq, Eq)]
pub struct Identity {
    msp_id: String,
    certificate: Certificate,
}

impl Identity {
    /// An identity from an MSP id and a PEM certificate. The certificate is
    /// parsed so that a wrong file fails here, not at the peer.
    pub fn new(msp_id: impl Into<String>, certificate_pem: impl AsRef<[u8]>) -> Result<Self> {
        Self::from_certificate(msp_id, Certificate::from_pem(certificate_pem.as_ref())?)
    }

    /// An identity from an MSP id and a certificate already read.
    pub fn from_certificate(msp_id: impl Into<String>, certificate: Certificate) -> Result<Self> {
        let msp_id = msp_id.into();
        if msp_id.trim().is_empty() {
            return Err(IdentityError::EmptyMspId);
        }
        Ok(Self { msp_id, certificate })
    }

    /// Reads the certificate from a PEM file (`signcerts/cert.pem` in an MSP folder).
    pub fn from_file(msp_id: impl Into<String>, path: &Path) -> Result<Self> {
        let pem = std::fs::read(path).map_err(IdentityError::io(path))?;
        Self::new(msp_id, pem).map_err(|e| IdentityError::MspFolder { path: path.to_path_buf(), detail: e.to_string() })
    }

    /// The MSP id.
    pub fn msp_id(&self) -> &str {
        &self.msp_id
    }

    /// The certificate as PEM.
    pub fn certificate_pem(&self) -> &[u8] {
        self.certificate.pem()
    }

    /// The certificate.
    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    /// The `SerializedIdentity` bytes that go into headers as the creator.
    pub fn to_bytes(&self) -> Vec<u8> {
        SerializedIdentity { mspid: self.msp_id.clone(), id_bytes: self.certificate.pem().to_vec() }.encode_to_vec()
    }

    /// Fails unless `signer` holds the private key of this certificate, so a
    /// mismatched wallet entry is named before any transaction is sent.
    pub fn check_signer(&self, signer: &Signer) -> Result<()> {
        signer.check_certificate(&self.certificate)
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity").field("msp_id", &self.msp_id).finish_non_exhaustive()
    }
}

/// An ECDSA P-256 private key that signs SHA-256 digests the way Fabric
/// verifies them: DER signatures with a low S value (Fabric rejects high S).
#[derive(Clone)]
pub struct Signer {
    key: SigningKey,
}

impl Signer {
    /// A key from PEM: PKCS#8 (`PRIVATE KEY`, as cryptogen and fabric-ca
    /// write it) or SEC1 (`EC PRIVATE KEY`).
    pub fn from_pem(pem: &str) -> Result<Self> {
        if let Ok(key) = SigningKey::from_pkcs8_pem(pem) {
            return Ok(Self { key });
        }
        p256::SecretKey::from_sec1_pem(pem).map(|k| Self { key: SigningKey::from(k) }).map_err(|_| {
            IdentityError::Key(
                "the private key is not a PEM P-256 key (PKCS#8 \"PRIVATE KEY\" or SEC1 \"EC PRIVATE KEY\")".into(),
            )
        })
    }

    /// Reads a key file (`keystore/*_sk` or `keystore/key.pem` in an MSP folder).
    pub fn from_file(path: &Path) -> Result<Self> {
        let pem = std::fs::read_to_string(path).map_err(IdentityError::io(path))?;
        Self::from_pem(&pem).map_err(|e| IdentityError::MspFolder { path: path.to_path_buf(), detail: e.to_string() })
    }

    /// A fresh key from the operating system's random source, for enrolment.
    pub fn generate() -> Self {
        Self { key: SigningKey::random(&mut rand_core::OsRng) }
    }

    /// The key as PKCS#8 PEM, to store in a wallet.
    pub fn to_pkcs8_pem(&self) -> Result<String> {
        self.key
            .to_pkcs8_pem(LineEnding::LF)
            .map(|s| s.to_string())
            .map_err(|e| IdentityError::Key(format!("cannot encode the private key: {e}")))
    }

    /// Fails unless this is the private key of `certificate`
    /// ([`IdentityError::KeyMismatch`]), or when the certificate's key is not P-256.
    pub fn check_certificate(&self, certificate: &Certificate) -> Result<()> {
        let public = VerifyingKey::from_sec1_bytes(&certificate.public_key_bits()?).map_err(|_| {
            IdentityError::Key("the certificate's key is not an ECDSA P-256 key; Fabric MSPs here use P-256".into())
        })?;
        if public == *self.key.verifying_key() { Ok(()) } else { Err(IdentityError::KeyMismatch) }
    }

    /// The public key as an uncompressed SEC1 point.
    pub fn public_key_sec1(&self) -> Vec<u8> {
        self.key.verifying_key().to_encoded_point(false).as_bytes().to_vec()
    }

    /// Signs a SHA-256 digest already computed (the digests the step-by-step API hands out).
    pub fn sign_digest(&self, digest: &[u8]) -> Result<Vec<u8>> {
        let signature: Signature =
            self.key.sign_prehash(digest).map_err(|e| IdentityError::Key(format!("signing failed: {e}")))?;
        let signature = signature.normalize_s().unwrap_or(signature);
        Ok(signature.to_der().as_bytes().to_vec())
    }

    /// Hashes `message` with SHA-256 and signs the digest.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        self.sign_digest(&Sha256::digest(message))
    }
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Signer(P-256, key hidden)")
    }
}

/// SHA-256 of `bytes`: the digest every Fabric signature covers.
pub fn digest(bytes: &[u8]) -> Vec<u8> {
    Sha256::digest(bytes).to_vec()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use p256::ecdsa::signature::hazmat::PrehashVerifier;

    #[test]
    fn signatures_are_low_s_and_verify() {
        let signer = Signer::generate();
        for i in 0..64u8 {
            let digest = digest(&[i]);
            let der = signer.sign_digest(&digest).unwrap();
            let sig = Signature::from_der(&der).unwrap();
            assert!(sig.normalize_s().is_none(), "signature {i} has a high S");
            signer.key.verifying_key().verify_prehash(&digest, &sig).unwrap();
        }
    }

    #[test]
    fn pkcs8_round_trip_keeps_the_key() {
        let signer = Signer::generate();
        let pem = signer.to_pkcs8_pem().unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        let again = Signer::from_pem(&pem).unwrap();
        assert_eq!(signer.public_key_sec1(), again.public_key_sec1());
    }

    #[test]
    fn bad_key_text_is_named() {
        let err = Signer::from_pem("not a key").unwrap_err().to_string();
        assert!(err.contains("PKCS#8"), "{err}");
    }

    #[test]
    fn identity_detects_a_foreign_key() {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let cert = rcgen::CertificateParams::new(vec!["user".into()]).unwrap().self_signed(&key).unwrap();
        let identity = Identity::new("Org1MSP", cert.pem()).unwrap();
        let own = Signer::from_pem(&key.serialize_pem()).unwrap();
        identity.check_signer(&own).unwrap();
        let err = identity.check_signer(&Signer::generate()).unwrap_err().to_string();
        assert!(err.contains("does not belong"), "{err}");
        assert!(Identity::new("Org1MSP", b"junk").is_err());
        assert!(Identity::new(" ", cert.pem()).is_err());
    }
}
