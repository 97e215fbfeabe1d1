//! The PKCS#10 certificate signing request sent at enrolment.
//!
//! fabric-ca signs whatever public key the request carries, so the private key
//! never leaves this process: it is generated here (by `fabric_identity`) and
//! only its public half goes to the CA. The subject's common name must equal
//! the enrolment id, or fabric-ca refuses the request (code 77).

use fabric_identity::Signer;
use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair};

use crate::error::{CaError, Result};

/// A PEM `CERTIFICATE REQUEST` for `signer`'s key with CN = `common_name`.
pub(crate) fn certificate_request(common_name: &str, signer: &Signer) -> Result<String> {
    let pkcs8 = signer.to_pkcs8_pem()?;
    let key = KeyPair::from_pem(&pkcs8).map_err(|e| CaError::Csr(format!("the key cannot be used by rcgen: {e}")))?;
    let mut params = CertificateParams::default();
    let mut subject = DistinguishedName::new();
    subject.push(DnType::CommonName, common_name);
    params.distinguished_name = subject;
    params.serialize_request(&key).and_then(|csr| csr.pem()).map_err(|e| CaError::Csr(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::Verifier;
    use p256::ecdsa::{Signature, VerifyingKey};
    use x509_parser::prelude::{FromDer, X509CertificationRequest};

    #[test]
    fn request_carries_the_common_name_and_the_signers_key_and_is_signed_by_it() {
        let signer = Signer::generate();
        let pem = certificate_request("doctor1", &signer).unwrap();
        assert!(pem.starts_with("-----BEGIN CERTIFICATE REQUEST-----"), "{pem}");

        let (_, block) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).unwrap();
        let (rest, csr) = X509CertificationRequest::from_der(&block.contents).unwrap();
        assert!(rest.is_empty());
        let info = &csr.certification_request_info;
        let names: Vec<&str> = info.subject.iter_common_name().map(|cn| cn.as_str().unwrap()).collect();
        assert_eq!(names, ["doctor1"]);
        assert_eq!(info.subject.iter().count(), 1, "only the CN is set: {}", info.subject);
        assert_eq!(info.subject_pki.subject_public_key.data.as_ref(), signer.public_key_sec1().as_slice());

        // The request is self-signed with the same key (proof of possession).
        let key = VerifyingKey::from_sec1_bytes(&signer.public_key_sec1()).unwrap();
        let signature = Signature::from_der(&csr.signature_value.data).unwrap();
        key.verify(info.raw, &signature).unwrap();
    }

    #[test]
    fn every_request_is_for_its_own_key() {
        let (a, b) = (Signer::generate(), Signer::generate());
        assert_ne!(certificate_request("u", &a).unwrap(), certificate_request("u", &b).unwrap());
    }
}
