//! Certificates made at run time for tests: a CA, identities with fabric-ca
//! style attributes, and TLS server/client pairs.

use std::net::{IpAddr, Ipv4Addr};

use fabric_protos::msp::SerializedIdentity;
use prost::Message;
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};

use crate::error::{Error, Result};

/// fabric-ca's attribute extension OID.
const ATTRIBUTES_OID: [u64; 9] = [1, 2, 3, 4, 5, 6, 7, 8, 1];

fn err(e: rcgen::Error) -> Error {
    Error::Identity(format!("test certificate: {e}"))
}

/// A certificate authority for one test organisation.
pub struct TestCa {
    org: String,
    issuer: Issuer<'static, KeyPair>,
    cert_pem: String,
}

/// A certificate and its private key, both PEM.
#[derive(Debug, Clone)]
pub struct CertifiedKey {
    /// PEM certificate.
    pub cert_pem: String,
    /// PEM PKCS#8 private key.
    pub key_pem: String,
}

/// A client identity of an MSP, as the peer would pass it to chaincode.
#[derive(Debug, Clone)]
pub struct TestIdentity {
    /// MSP id.
    pub msp_id: String,
    /// Certificate and key.
    pub cert: CertifiedKey,
}

impl TestIdentity {
    /// The serialized `msp.SerializedIdentity` the peer puts in the proposal's creator.
    pub fn creator(&self) -> Vec<u8> {
        SerializedIdentity { mspid: self.msp_id.clone(), id_bytes: self.cert.cert_pem.as_bytes().to_vec() }
            .encode_to_vec()
    }
}

impl TestCa {
    /// A fresh CA for organisation `org` (key generated now).
    pub fn new(org: &str) -> Result<Self> {
        let key = KeyPair::generate().map_err(err)?;
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
        params.distinguished_name.push(DnType::CountryName, "US");
        params.distinguished_name.push(DnType::StateOrProvinceName, "North Carolina");
        params.distinguished_name.push(DnType::OrganizationName, org);
        params.distinguished_name.push(DnType::CommonName, format!("ca.{org}"));
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages =
            vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::CrlSign];
        let cert = params.self_signed(&key).map_err(err)?;
        let cert_pem = cert.pem();
        Ok(Self { org: org.to_owned(), issuer: Issuer::new(params, key), cert_pem })
    }

    /// The CA certificate, PEM.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// An enrolment certificate for `name` in `msp_id`, with fabric-ca attributes
    /// (e.g. `[("role", "doctor")]`) and organisational units (e.g. `["client"]`).
    pub fn identity(
        &self,
        msp_id: &str,
        name: &str,
        attributes: &[(&str, &str)],
        ous: &[&str],
    ) -> Result<TestIdentity> {
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
        params.distinguished_name.push(DnType::CountryName, "US");
        params.distinguished_name.push(DnType::StateOrProvinceName, "North Carolina");
        params.distinguished_name.push(DnType::OrganizationName, self.org.clone());
        for ou in ous {
            params.distinguished_name.push(DnType::OrganizationalUnitName, *ou);
        }
        params.distinguished_name.push(DnType::CommonName, name);
        if !attributes.is_empty() {
            let attrs: serde_json::Map<String, serde_json::Value> =
                attributes.iter().map(|(k, v)| ((*k).to_owned(), serde_json::Value::String((*v).to_owned()))).collect();
            let json = serde_json::json!({ "attrs": attrs }).to_string();
            params.custom_extensions.push(CustomExtension::from_oid_content(&ATTRIBUTES_OID, json.into_bytes()));
        }
        let cert = self.sign(params)?;
        Ok(TestIdentity { msp_id: msp_id.to_owned(), cert })
    }

    /// A TLS server certificate for `localhost` and 127.0.0.1.
    pub fn tls_server(&self) -> Result<CertifiedKey> {
        let mut params = CertificateParams::new(vec!["localhost".to_owned()]).map_err(err)?;
        params.subject_alt_names.push(SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        params.distinguished_name.push(DnType::CommonName, "localhost");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        self.sign(params)
    }

    /// A TLS client certificate.
    pub fn tls_client(&self, name: &str) -> Result<CertifiedKey> {
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
        params.distinguished_name.push(DnType::CommonName, name);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        self.sign(params)
    }

    fn sign(&self, params: CertificateParams) -> Result<CertifiedKey> {
        let key = KeyPair::generate().map_err(err)?;
        let cert = params.signed_by(&key, &self.issuer).map_err(err)?;
        Ok(CertifiedKey { cert_pem: cert.pem(), key_pem: key.serialize_pem() })
    }
}
