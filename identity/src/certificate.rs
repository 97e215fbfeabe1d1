//! [`Certificate`]: the one place X.509 is parsed, for the shim, the gateway
//! client and the CA client alike.

use std::time::{Duration, SystemTime};

use x509_parser::prelude::{ASN1Time, FromDer, X509Certificate};

use crate::error::{IdentityError, Result};

/// An X.509 certificate checked once on construction, kept as PEM (what
/// Fabric serialises into identities) and DER (what is parsed).
///
/// ```
/// let pem = include_bytes!("../tests/fixtures/multi_ou.pem");
/// let cert = fabric_identity::Certificate::from_pem(pem).unwrap();
/// assert_eq!(cert.common_name().unwrap(), "user1");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Certificate {
    pem: Vec<u8>,
    der: Vec<u8>,
}

impl Certificate {
    /// The first `CERTIFICATE` block of a PEM text, which must be valid X.509.
    pub fn from_pem(pem: &[u8]) -> Result<Self> {
        let (_, block) = x509_parser::pem::parse_x509_pem(pem)
            .map_err(|e| IdentityError::Certificate(format!("the certificate is not PEM: {e}")))?;
        if block.label != "CERTIFICATE" {
            return Err(IdentityError::Certificate(format!("expected a PEM CERTIFICATE, found {}", block.label)));
        }
        parse(&block.contents)?;
        Ok(Self { pem: pem.to_vec(), der: block.contents })
    }

    /// Every certificate of a PEM bundle (a TLS root file may hold several);
    /// fails if there is none or one is not valid X.509.
    pub fn all_from_pem(pem: &[u8]) -> Result<Vec<Self>> {
        let mut all = Vec::new();
        for block in x509_parser::pem::Pem::iter_from_buffer(pem) {
            let block =
                block.map_err(|e| IdentityError::Certificate(format!("the certificate file is not PEM: {e}")))?;
            if block.label == "CERTIFICATE" {
                parse(&block.contents)?;
                all.push(Self { pem: encode_pem(&block.contents), der: block.contents });
            }
        }
        if all.is_empty() {
            return Err(IdentityError::Certificate("the file holds no PEM certificate".into()));
        }
        Ok(all)
    }

    /// The certificate as PEM: as given to [`Certificate::from_pem`] (Fabric
    /// serialises identities with the PEM exactly as issued), or re-encoded
    /// for one certificate of a bundle.
    pub fn pem(&self) -> &[u8] {
        &self.pem
    }

    /// The certificate as DER.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The parsed certificate, for checks this type does not offer.
    pub fn x509(&self) -> Result<X509Certificate<'_>> {
        parse(&self.der)
    }

    /// The subject's common name (the enrolment id at fabric-ca).
    pub fn common_name(&self) -> Result<String> {
        self.x509()?
            .subject()
            .iter_common_name()
            .next()
            .and_then(|cn| cn.as_str().ok())
            .map(str::to_string)
            .ok_or_else(|| IdentityError::Certificate("the certificate has no subject common name".into()))
    }

    /// The subject public key as the certificate carries it (an uncompressed
    /// SEC1 point for the ECDSA keys Fabric uses).
    pub fn public_key_bits(&self) -> Result<Vec<u8>> {
        Ok(self.x509()?.public_key().subject_public_key.data.to_vec())
    }

    /// When the certificate stops being valid (`not_after`).
    pub fn expiry(&self) -> Result<SystemTime> {
        Ok(to_system_time(self.x509()?.validity().not_after.timestamp()))
    }

    /// Fails with [`IdentityError::Expired`] when the certificate is past
    /// its `not_after` at `now`, so that a caller refuses an expired identity
    /// with advice instead of meeting an endorsement failure; otherwise
    /// returns `not_after`. `who` names the certificate in the message.
    pub fn check_not_expired(&self, who: &str, now: SystemTime) -> Result<SystemTime> {
        let not_after = self.x509()?.validity().not_after;
        let expiry = to_system_time(not_after.timestamp());
        if expiry < now {
            return Err(IdentityError::Expired { subject: who.to_string(), expired_on: format_utc(not_after) });
        }
        Ok(expiry)
    }
}

impl std::fmt::Debug for Certificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let subject = self.x509().map(|c| c.subject().to_string()).unwrap_or_default();
        f.debug_struct("Certificate").field("subject", &subject).finish_non_exhaustive()
    }
}

/// One `CERTIFICATE` block for `der`, in 64-character lines as RFC 7468 writes it.
fn encode_pem(der: &[u8]) -> Vec<u8> {
    use base64::Engine as _;
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in body.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE-----\n");
    pem.into_bytes()
}

fn parse(der: &[u8]) -> Result<X509Certificate<'_>> {
    X509Certificate::from_der(der)
        .map(|(_, c)| c)
        .map_err(|e| IdentityError::Certificate(format!("the certificate is not valid X.509: {e}")))
}

fn to_system_time(seconds: i64) -> SystemTime {
    let magnitude = Duration::from_secs(seconds.unsigned_abs());
    if seconds >= 0 { SystemTime::UNIX_EPOCH + magnitude } else { SystemTime::UNIX_EPOCH - magnitude }
}

/// `YYYY-MM-DD HH:MM:SS UTC`.
fn format_utc(time: ASN1Time) -> String {
    // Re-creating from the Unix timestamp puts the time in UTC whatever
    // offset the certificate was written with.
    let utc = ASN1Time::from_timestamp(time.timestamp()).unwrap_or(time).to_datetime();
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        utc.year(),
        u8::from(utc.month()),
        utc.day(),
        utc.hour(),
        utc.minute(),
        utc.second()
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn certificate(cn: &str, (year, month, day): (i32, u8, u8)) -> Certificate {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut params = rcgen::CertificateParams::new(vec![cn.into()]).unwrap();
        params.distinguished_name.push(rcgen::DnType::CommonName, cn);
        params.not_after = rcgen::date_time_ymd(year, month, day);
        Certificate::from_pem(params.self_signed(&key).unwrap().pem().as_bytes()).unwrap()
    }

    #[test]
    fn expiry_is_read_and_an_expired_certificate_is_refused_with_its_date() {
        let valid = certificate("doctor1", (2099, 1, 2));
        let expiry = valid.expiry().unwrap();
        assert_eq!(expiry.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs(), 4_070_995_200);
        assert_eq!(valid.check_not_expired("doctor1", SystemTime::now()).unwrap(), expiry);

        let old = certificate("doctor1", (2020, 3, 4));
        let err = old.check_not_expired("doctor1@hospitala", SystemTime::now()).unwrap_err();
        assert!(matches!(err, IdentityError::Expired { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            "the certificate of doctor1@hospitala expired on 2020-03-04 00:00:00 UTC; enrol again for a new one"
        );
        assert_eq!(old.common_name().unwrap(), "doctor1");
    }

    #[test]
    fn junk_and_other_pem_blocks_are_refused_by_name() {
        assert!(Certificate::from_pem(b"junk").unwrap_err().to_string().contains("not PEM"));
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let err = Certificate::from_pem(key.serialize_pem().as_bytes()).unwrap_err().to_string();
        assert!(err.contains("expected a PEM CERTIFICATE, found PRIVATE KEY"), "{err}");
        assert!(Certificate::all_from_pem(key.serialize_pem().as_bytes()).is_err());
        let one = certificate("a", (2099, 1, 1));
        let two = certificate("b", (2099, 1, 1));
        let bundle = [one.pem(), two.pem()].concat();
        let all = Certificate::all_from_pem(&bundle).unwrap();
        assert_eq!(all.iter().map(|c| c.common_name().unwrap()).collect::<Vec<_>>(), ["a", "b"]);
        // Each certificate of a bundle is itself, not the whole bundle.
        assert_eq!(all[1].der(), two.der());
        assert_eq!(Certificate::from_pem(all[1].pem()).unwrap().der(), two.der());
        assert!(all.iter().all(|c| c.pem().len() < bundle.len()));
    }
}
