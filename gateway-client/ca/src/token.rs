//! fabric-ca's token authentication, used by every request made with an
//! enrolment certificate instead of a secret (re-enrol, register).
//!
//! The `Authorization` header is `B64(cert).B64(sig)`, where `cert` is the
//! caller's certificate PEM and `sig` an ECDSA signature over
//! `METHOD.B64(uri).B64(body).B64(cert)`; `uri` is the request path with its
//! query (`/api/v1/register`) and `B64` standard base64 with padding. The
//! server rebuilds the same text from what it received, so the body signed must
//! be the very bytes sent.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use fabric_identity::Signer;

use crate::error::Result;

/// The text fabric-ca verifies the token signature against.
pub(crate) fn signed_message(method: &str, uri: &str, body: &[u8], b64_cert: &str) -> String {
    format!("{method}.{}.{}.{b64_cert}", STANDARD.encode(uri), STANDARD.encode(body))
}

/// The `Authorization` header value for a request signed by `signer`, the key
/// of `certificate_pem`.
pub(crate) fn token(certificate_pem: &[u8], signer: &Signer, method: &str, uri: &str, body: &[u8]) -> Result<String> {
    let b64_cert = STANDARD.encode(certificate_pem);
    let signature = signer.sign(signed_message(method, uri, body, &b64_cert).as_bytes())?;
    Ok(format!("{b64_cert}.{}", STANDARD.encode(signature)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::Verifier;
    use p256::ecdsa::{Signature, VerifyingKey};

    #[test]
    fn token_is_cert_dot_signature_over_method_uri_body_cert() {
        let signer = Signer::generate();
        let cert = b"-----BEGIN CERTIFICATE-----\nnot parsed here\n-----END CERTIFICATE-----\n";
        let body = br#"{"id":"doctor7","type":"client"}"#;
        let token = token(cert, &signer, "POST", "/api/v1/register", body).unwrap();

        let (b64_cert, b64_sig) = token.split_once('.').unwrap();
        assert!(!b64_sig.contains('.'), "exactly one dot separates certificate and signature: {token}");
        assert_eq!(STANDARD.decode(b64_cert).unwrap(), cert);

        // The message exactly as fabric-ca's server rebuilds it.
        let expected =
            format!("POST.{}.{}.{}", STANDARD.encode("/api/v1/register"), STANDARD.encode(body), STANDARD.encode(cert));
        assert_eq!(signed_message("POST", "/api/v1/register", body, b64_cert), expected);

        let key = VerifyingKey::from_sec1_bytes(&signer.public_key_sec1()).unwrap();
        let sig = Signature::from_der(&STANDARD.decode(b64_sig).unwrap()).unwrap();
        key.verify(expected.as_bytes(), &sig).unwrap();
        // Any other request must not verify with this token.
        let other = signed_message("POST", "/api/v1/reenroll", body, b64_cert);
        assert!(key.verify(other.as_bytes(), &sig).is_err());
        let other = signed_message("POST", "/api/v1/register", b"{}", b64_cert);
        assert!(key.verify(other.as_bytes(), &sig).is_err());
    }

    #[test]
    fn empty_body_signs_an_empty_segment() {
        assert_eq!(
            signed_message("GET", "/api/v1/cainfo?ca=x", b"", "Q0VSVA=="),
            "GET.L2FwaS92MS9jYWluZm8/Y2E9eA==..Q0VSVA=="
        );
    }
}
