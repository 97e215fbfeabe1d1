//! [`ClientIdentity`]: who submitted a transaction, read from its X.509
//! certificate exactly as chaincode written in Go reads it (Fabric's `cid`
//! package).
//!
//! The id is `base64("x509::" + subject DN + "::" + issuer DN)` with the DN
//! formatted the way Go's `crypto/x509` does (only the standard attribute
//! types, most specific first), and attributes come from fabric-ca's
//! extension `1.2.3.4.5.6.7.8.1`, whose value is JSON `{"attrs":{"name":"value"}}`.

use std::collections::BTreeMap;

use base64::Engine as _;
use fabric_protos::msp::SerializedIdentity;
use prost::Message;
use x509_parser::certificate::X509Certificate;
use x509_parser::x509::X509Name;

use crate::certificate::Certificate;
use crate::error::{IdentityError, Result};

/// OID of fabric-ca's attribute extension.
const ATTRIBUTES_OID: &str = "1.2.3.4.5.6.7.8.1";

/// The submitter of a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientIdentity {
    msp_id: String,
    id: String,
    certificate: Certificate,
    organizational_units: Vec<String>,
    attributes: BTreeMap<String, String>,
}

impl ClientIdentity {
    /// Parses a serialized `msp.SerializedIdentity` holding a PEM certificate.
    pub fn from_creator(creator: &[u8]) -> Result<Self> {
        let sid = SerializedIdentity::decode(creator).map_err(|e| IdentityError::Creator(e.to_string()))?;
        Self::from_msp_and_pem(&sid.mspid, &sid.id_bytes)
    }

    /// Builds an identity from an MSP id and a PEM certificate.
    pub fn from_msp_and_pem(msp_id: &str, pem: &[u8]) -> Result<Self> {
        Self::from_certificate(msp_id, Certificate::from_pem(pem)?)
    }

    /// Builds an identity from an MSP id and a certificate already read.
    pub fn from_certificate(msp_id: &str, certificate: Certificate) -> Result<Self> {
        let cert = certificate.x509()?;

        let id = format!("x509::{}::{}", go_dn(cert.subject()), go_dn(cert.issuer()));
        let organizational_units =
            cert.subject().iter_organizational_unit().filter_map(|ou| ou.as_str().ok().map(str::to_owned)).collect();
        let attributes = attributes_of(&cert)?;
        Ok(Self {
            msp_id: msp_id.to_owned(),
            id: base64::engine::general_purpose::STANDARD.encode(id),
            certificate,
            organizational_units,
            attributes,
        })
    }

    /// The identity's unique id within its MSP, as Fabric's `cid.GetID` computes it.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The MSP (organisation) that issued the identity.
    pub fn msp_id(&self) -> &str {
        &self.msp_id
    }

    /// A fabric-ca attribute, e.g. `role`.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.get(name).map(String::as_str)
    }

    /// All fabric-ca attributes, sorted by name.
    pub fn attributes(&self) -> &BTreeMap<String, String> {
        &self.attributes
    }

    /// Fails unless attribute `name` equals `value`, saying which it was.
    pub fn assert_attribute(&self, name: &str, value: &str) -> Result<()> {
        match self.attribute(name) {
            None => Err(IdentityError::Attribute(format!("attribute '{name}' was not found"))),
            Some(v) if v != value => {
                Err(IdentityError::Attribute(format!("attribute '{name}' equals '{v}', not '{value}'")))
            }
            Some(_) => Ok(()),
        }
    }

    /// Whether the certificate's subject has organisational unit `ou` (NodeOU roles
    /// such as `client`, `peer`, `admin`).
    pub fn has_ou(&self, ou: &str) -> bool {
        self.organizational_units.iter().any(|o| o == ou)
    }

    /// The certificate, for checks this type does not offer.
    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }
}

fn attributes_of(cert: &X509Certificate<'_>) -> Result<BTreeMap<String, String>> {
    let Some(ext) = cert.extensions().iter().find(|e| e.oid.to_id_string() == ATTRIBUTES_OID) else {
        return Ok(BTreeMap::new());
    };
    #[derive(serde::Deserialize)]
    struct Attrs {
        #[serde(default)]
        attrs: BTreeMap<String, String>,
    }
    let parsed: Attrs = serde_json::from_slice(ext.value)
        .map_err(|e| IdentityError::Attribute(format!("fabric-ca attribute extension is not valid JSON: {e}")))?;
    Ok(parsed.attrs)
}

/// Attribute types Go's `pkix.Name` keeps, in the order `ToRDNSequence` writes them.
const GO_NAME_ORDER: [(&str, &str); 9] = [
    ("2.5.4.6", "C"),
    ("2.5.4.8", "ST"),
    ("2.5.4.7", "L"),
    ("2.5.4.9", "STREET"),
    ("2.5.4.17", "POSTALCODE"),
    ("2.5.4.10", "O"),
    ("2.5.4.11", "OU"),
    ("2.5.4.3", "CN"),
    ("2.5.4.5", "SERIALNUMBER"),
];

/// Formats a name the way `cid` does: parse into Go's `pkix.Name` (which keeps
/// only the types above; CN and SERIALNUMBER keep their last value), rebuild
/// the RDN sequence in Go's fixed order, then print it most specific first,
/// comma-separated, multi-valued RDNs joined with `+`, values escaped as RFC 4514.
fn go_dn(name: &X509Name<'_>) -> String {
    let mut values: Vec<Vec<String>> = vec![Vec::new(); GO_NAME_ORDER.len()];
    for rdn in name.iter_rdn() {
        for atv in rdn.iter() {
            let oid = atv.attr_type().to_id_string();
            let Some(slot) = GO_NAME_ORDER.iter().position(|(o, _)| *o == oid) else { continue };
            let Ok(value) = atv.as_str() else { continue };
            let single = matches!(GO_NAME_ORDER[slot].1, "CN" | "SERIALNUMBER");
            if single {
                values[slot] = vec![value.to_owned()];
            } else {
                values[slot].push(value.to_owned());
            }
        }
    }
    let rdns: Vec<String> = GO_NAME_ORDER
        .iter()
        .zip(values.iter())
        .filter(|(_, vals)| !vals.is_empty())
        .map(|((_, short), vals)| vals.iter().map(|v| format!("{short}={}", escape(v))).collect::<Vec<_>>().join("+"))
        .collect();
    rdns.into_iter().rev().collect::<Vec<_>>().join(",")
}

fn escape(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    let mut out = String::with_capacity(value.len());
    for (i, c) in chars.iter().enumerate() {
        let edge = (i == 0 && (*c == ' ' || *c == '#')) || (i + 1 == chars.len() && *c == ' ');
        if edge || matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';') {
            out.push('\\');
        }
        out.push(*c);
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A fabric-ca style certificate with two OUs in separate RDNs (see
    /// tests/fixtures/make_multi_ou.sh): Go merges them into one RDN.
    #[test]
    fn id_and_attributes_match_fabric_cid() {
        let pem = include_bytes!("../tests/fixtures/multi_ou.pem");
        let id = ClientIdentity::from_msp_and_pem("Org1MSP", pem).unwrap();
        let decoded = base64::engine::general_purpose::STANDARD.decode(id.id()).unwrap();
        assert_eq!(
            String::from_utf8(decoded).unwrap(),
            "x509::CN=user1,OU=client+OU=org1,O=Hyperledger,ST=North Carolina,C=US::\
             CN=user1,OU=client+OU=org1,O=Hyperledger,ST=North Carolina,C=US"
        );
        assert_eq!(id.attribute("role"), Some("lab"));
        assert!(id.assert_attribute("role", "lab").is_ok());
        assert!(id.assert_attribute("role", "doctor").unwrap_err().to_string().contains("equals 'lab', not 'doctor'"));
        assert!(id.has_ou("org1") && id.has_ou("client") && !id.has_ou("peer"));
        assert_eq!(id.msp_id(), "Org1MSP");
        assert_eq!(id.certificate().common_name().unwrap(), "user1");
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(ClientIdentity::from_creator(b"\xff\xff").is_err());
        assert!(ClientIdentity::from_msp_and_pem("m", b"not a pem").is_err());
    }

    #[test]
    fn escapes_like_go() {
        assert_eq!(escape("a,b"), "a\\,b");
        assert_eq!(escape(" x "), "\\ x\\ ");
        assert_eq!(escape("#x"), "\\#x");
        assert_eq!(escape("plain"), "plain");
    }
}
