//! [`CaClient`]: fabric-ca's REST API (v1.5) for enrol, re-enrol and register.
//!
//! Every call is one HTTPS POST under `/api/v1/`. Enrolment authenticates with
//! the id and secret (HTTP basic auth); re-enrolment and registration with an
//! enrolment certificate and its key (fabric-ca token auth, see `token.rs`).
//! Keys are generated here and never sent: the CA only sees a signing request.

use std::path::Path;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use fabric_identity::{Certificate, Identity, Signer};
use reqwest::Url;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::csr::certificate_request;
use crate::error::{CaError, Result};
use crate::token::token;

/// How long to wait for a TCP connection before calling the CA unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one request may take in all.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A connection to one CA of a fabric-ca server.
///
/// Building one does no I/O; every method is one request. The client trusts
/// only the TLS root it is given (the organisation's TLS CA), never the
/// system's roots, so a CA certificate from elsewhere cannot impersonate the
/// network's CA.
#[derive(Debug, Clone)]
pub struct CaClient {
    http: reqwest::Client,
    url: String,
    ca_name: String,
    tls_root: String,
}

/// Choices for [`CaClient::enroll`] and [`CaClient::reenroll`] that most
/// callers leave at their defaults.
#[derive(Debug, Clone, Default)]
pub struct EnrollOptions {
    /// The CA's signing profile (`None`: its default profile).
    pub profile: Option<String>,
    /// Attributes to put in the certificate. Empty: the CA includes every
    /// attribute registered with `ecert: true`, which is what Fabric's
    /// attribute-based access control usually wants.
    pub attr_reqs: Vec<AttributeRequest>,
}

/// One attribute asked for in a certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttributeRequest {
    /// The attribute name, e.g. `role`.
    pub name: String,
    /// `false`: enrolment fails if the identity lacks the attribute.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
}

/// What enrolment hands back: the certificate, the key it certifies and the
/// CA's chain, ready to store in a [`crate::Wallet`].
#[derive(Debug, Clone)]
pub struct Enrollment {
    /// The enrolment certificate (PEM).
    pub certificate_pem: String,
    /// The freshly generated private key of that certificate.
    pub signer: Signer,
    /// The CA's certificate chain (PEM), to verify the certificate against.
    pub ca_chain_pem: String,
}

impl Enrollment {
    /// The enrolled certificate as a Fabric identity of `msp_id`, to connect
    /// to a gateway with it.
    pub fn identity(&self, msp_id: &str) -> Result<Identity> {
        Ok(Identity::new(msp_id, self.certificate_pem.as_bytes())?)
    }
}

/// A new identity for [`CaClient::register`].
///
/// Its `Debug` output hides the secret, so logging a request leaks nothing.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct RegistrationRequest {
    /// The enrolment id to create.
    #[serde(rename = "id")]
    pub name: String,
    /// The secret to enrol with; `None` lets the CA generate one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// The identity type (`client`, `peer`, `admin`...); Fabric's NodeOUs
    /// turn it into the certificate's OU.
    #[serde(rename = "type")]
    pub type_: String,
    /// The affiliation; empty means the registrar's own.
    pub affiliation: String,
    /// How many times the secret may be used (`None`: the CA's default; -1: unlimited).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_enrollments: Option<i32>,
    /// Attributes stored with the identity.
    #[serde(rename = "attrs", skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<Attribute>,
}

impl RegistrationRequest {
    /// A `client` named `name` in the registrar's affiliation, with a
    /// CA-generated secret and no attributes.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            secret: None,
            type_: "client".into(),
            affiliation: String::new(),
            max_enrollments: None,
            attributes: Vec::new(),
        }
    }
}

impl std::fmt::Debug for RegistrationRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistrationRequest")
            .field("name", &self.name)
            .field("secret", &self.secret.as_ref().map(|_| "(hidden)"))
            .field("type_", &self.type_)
            .field("affiliation", &self.affiliation)
            .field("max_enrollments", &self.max_enrollments)
            .field("attributes", &self.attributes)
            .finish()
    }
}

/// An attribute registered with an identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attribute {
    /// The name, e.g. `role`.
    pub name: String,
    /// The value, e.g. `doctor`.
    pub value: String,
    /// `true`: put it in enrolment certificates by default, where chaincode
    /// reads it (`cid` attributes, extension 1.2.3.4.5.6.7.8.1).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub ecert: bool,
}

impl Attribute {
    /// An attribute that goes into enrolment certificates.
    pub fn ecert(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self { name: name.into(), value: value.into(), ecert: true }
    }
}

/// How a request proves who sends it.
enum Auth<'a> {
    Basic { user: &'a str, secret: &'a str },
    Token { certificate_pem: &'a [u8], signer: &'a Signer },
}

/// What a request attempts, to word its errors.
enum Action<'a> {
    Enroll { enrollment_id: &'a str },
    Reenroll { subject: String },
    Register { subject: String, name: &'a str },
}

impl Action<'_> {
    fn describe(&self) -> String {
        match self {
            Action::Enroll { enrollment_id } => format!("enrolment of {enrollment_id}"),
            Action::Reenroll { .. } => "re-enrolment".into(),
            Action::Register { name, .. } => format!("registering {name}"),
        }
    }
}

/// fabric-ca's answer envelope (cfssl's `api.Response`).
#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    success: bool,
    #[serde(default)]
    result: Option<Value>,
    #[serde(default)]
    errors: Option<Vec<ServerMessage>>,
}

#[derive(Deserialize)]
struct ServerMessage {
    #[serde(default)]
    code: i64,
    #[serde(default)]
    message: String,
}

#[derive(Serialize)]
struct EnrollBody<'a> {
    certificate_request: &'a str,
    caname: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    profile: Option<&'a str>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    attr_reqs: &'a [AttributeRequest],
}

#[derive(Serialize)]
struct RegisterBody<'a> {
    #[serde(flatten)]
    request: &'a RegistrationRequest,
    caname: &'a str,
}

#[derive(Deserialize)]
struct EnrollResult {
    #[serde(rename = "Cert")]
    cert: String,
    #[serde(rename = "ServerInfo", default)]
    server_info: Option<ServerInfo>,
}

#[derive(Deserialize)]
struct ServerInfo {
    #[serde(rename = "CAChain", default)]
    ca_chain: String,
}

#[derive(Deserialize)]
struct RegisterResult {
    secret: String,
}

impl CaClient {
    /// A client for CA `ca_name` at `url` (`https://host:port`), trusting
    /// only the PEM root certificate(s) in `tls_root_pem`.
    ///
    /// Fails on a URL that is not `https` or carries credentials, an empty CA
    /// name, or a root that holds no certificate.
    pub fn new(url: &str, ca_name: &str, tls_root_pem: &[u8]) -> Result<Self> {
        Self::build(url, ca_name, tls_root_pem, "given to CaClient::new".into())
    }

    /// Like [`CaClient::new`], reading the TLS root from a PEM file, whose
    /// path then appears in TLS errors.
    pub fn from_tls_root_file(url: &str, ca_name: &str, tls_root: &Path) -> Result<Self> {
        let pem = std::fs::read(tls_root).map_err(CaError::io("read the TLS root certificate", tls_root))?;
        Self::build(url, ca_name, &pem, tls_root.display().to_string())
    }

    fn build(url: &str, ca_name: &str, tls_root_pem: &[u8], tls_root: String) -> Result<Self> {
        let parsed = Url::parse(url).map_err(|e| {
            CaError::Config(format!("the CA URL {url:?} is not a URL ({e}); write it like https://127.0.0.1:7054"))
        })?;
        if parsed.scheme() != "https" {
            return Err(CaError::Config(format!(
                "the CA URL {url} must start with https://: secrets and keys' certificates travel in these requests"
            )));
        }
        if parsed.host_str().is_none_or(str::is_empty) {
            return Err(CaError::Config(format!("the CA URL {url} names no host")));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(CaError::Config(format!(
                "the CA URL {url} carries a user name or password; pass the enrolment id and secret separately"
            )));
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(CaError::Config(format!("the CA URL {url} must not have a query or fragment")));
        }
        if ca_name.trim().is_empty() {
            return Err(CaError::Config("the CA name is empty; give the CA's name, e.g. ca-hospitala".into()));
        }
        if let Err(e) = Certificate::all_from_pem(tls_root_pem) {
            return Err(CaError::Config(format!("the TLS root certificate ({tls_root}) is unusable: {e}")));
        }
        let roots = reqwest::Certificate::from_pem_bundle(tls_root_pem).map_err(|e| {
            CaError::Config(format!("the TLS root certificate ({tls_root}) is unusable: {}", chain(&e)))
        })?;
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .tls_built_in_root_certs(false)
            .https_only(true)
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT);
        for root in roots {
            builder = builder.add_root_certificate(root);
        }
        let http = builder
            .build()
            .map_err(|e| CaError::Config(format!("cannot set up TLS with root {tls_root}: {}", chain(&e))))?;
        let url = parsed.as_str().trim_end_matches('/').to_string();
        Ok(Self { http, url, ca_name: ca_name.to_string(), tls_root })
    }

    /// The CA's base URL, without a trailing slash.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The CA name sent with every request (`caname`).
    pub fn ca_name(&self) -> &str {
        &self.ca_name
    }

    /// Enrols `enrollment_id` with its `secret`: generates a fresh P-256 key,
    /// has the CA certify it, and returns certificate, key and CA chain.
    ///
    /// Errors: [`CaError::EnrollmentRefused`] (wrong secret, unknown id or no
    /// enrolments left), [`CaError::TooManyAttempts`], [`CaError::UnknownCa`],
    /// and the transport errors ([`CaError::Unreachable`], [`CaError::Tls`],
    /// [`CaError::NotJson`]).
    pub async fn enroll(&self, enrollment_id: &str, secret: &str, options: &EnrollOptions) -> Result<Enrollment> {
        if enrollment_id.is_empty() || enrollment_id.contains(':') {
            return Err(CaError::Config(format!(
                "the enrolment id {enrollment_id:?} is not usable: it must be non-empty and have no ':'"
            )));
        }
        if secret.is_empty() {
            return Err(CaError::Config(format!("the secret for {enrollment_id} is empty")));
        }
        let action = Action::Enroll { enrollment_id };
        self.enroll_as(enrollment_id, Auth::Basic { user: enrollment_id, secret }, "enroll", options, action).await
    }

    /// Renews the certificate `certificate_pem` (whose key is `signer`) with a
    /// new key, without the secret; the old certificate stays valid until it
    /// expires.
    ///
    /// Errors: [`CaError::CallerRejected`] when the CA does not accept the
    /// current certificate, and the transport errors.
    pub async fn reenroll(
        &self,
        certificate_pem: &[u8],
        signer: &Signer,
        options: &EnrollOptions,
    ) -> Result<Enrollment> {
        let subject = subject_of(certificate_pem, signer)?;
        let action = Action::Reenroll { subject: subject.clone() };
        self.enroll_as(&subject, Auth::Token { certificate_pem, signer }, "reenroll", options, action).await
    }

    /// Registers a new identity, signed by the registrar's certificate and
    /// key, and returns its enrolment secret (the one given, or the CA's).
    ///
    /// Errors: [`CaError::NotRegistrar`], [`CaError::AlreadyRegistered`],
    /// [`CaError::CallerRejected`], and the transport errors.
    pub async fn register(
        &self,
        registrar_certificate_pem: &[u8],
        registrar: &Signer,
        request: &RegistrationRequest,
    ) -> Result<String> {
        if request.name.is_empty() || request.name.contains(':') {
            return Err(CaError::Config(format!(
                "the name {:?} cannot be registered: it must be non-empty and have no ':'",
                request.name
            )));
        }
        let subject = subject_of(registrar_certificate_pem, registrar)?;
        let body = serde_json::to_vec(&RegisterBody { request, caname: &self.ca_name })
            .map_err(|e| CaError::Config(format!("cannot encode the registration request: {e}")))?;
        let action = Action::Register { subject, name: &request.name };
        let auth = Auth::Token { certificate_pem: registrar_certificate_pem, signer: registrar };
        let result = self.post("register", body, auth, &action).await?;
        let result: RegisterResult = serde_json::from_value(result).map_err(|e| self.bad_answer(&action, e))?;
        Ok(result.secret)
    }

    async fn enroll_as(
        &self,
        common_name: &str,
        auth: Auth<'_>,
        endpoint: &str,
        options: &EnrollOptions,
        action: Action<'_>,
    ) -> Result<Enrollment> {
        let signer = Signer::generate();
        let csr = certificate_request(common_name, &signer)?;
        let body = EnrollBody {
            certificate_request: &csr,
            caname: &self.ca_name,
            profile: options.profile.as_deref(),
            attr_reqs: &options.attr_reqs,
        };
        let body = serde_json::to_vec(&body)
            .map_err(|e| CaError::Config(format!("cannot encode the enrolment request: {e}")))?;
        let result = self.post(endpoint, body, auth, &action).await?;
        let result: EnrollResult = serde_json::from_value(result).map_err(|e| self.bad_answer(&action, e))?;
        let certificate_pem = decode_pem(&result.cert).map_err(|e| self.bad_answer(&action, format!("Cert: {e}")))?;
        let chain = result.server_info.map(|info| info.ca_chain).unwrap_or_default();
        let ca_chain_pem = decode_pem(&chain).map_err(|e| self.bad_answer(&action, format!("CAChain: {e}")))?;
        Certificate::from_pem(certificate_pem.as_bytes())
            .and_then(|certificate| signer.check_certificate(&certificate))
            .map_err(|e| self.bad_answer(&action, format!("the certificate is not for the key sent: {e}")))?;
        Ok(Enrollment { certificate_pem, signer, ca_chain_pem })
    }

    /// Sends one POST and returns the `result` of a successful answer.
    async fn post(&self, endpoint: &str, body: Vec<u8>, auth: Auth<'_>, action: &Action<'_>) -> Result<Value> {
        let url = format!("{}/api/v1/{endpoint}", self.url);
        let parsed = Url::parse(&url).map_err(|e| CaError::Config(format!("cannot form the URL {url}: {e}")))?;
        let mut request = self.http.post(parsed.clone()).header(reqwest::header::CONTENT_TYPE, "application/json");
        request = match auth {
            Auth::Basic { user, secret } => request.basic_auth(user, Some(secret)),
            Auth::Token { certificate_pem, signer } => {
                let uri = match parsed.query() {
                    Some(query) => format!("{}?{query}", parsed.path()),
                    None => parsed.path().to_string(),
                };
                let token = token(certificate_pem, signer, "POST", &uri, &body)?;
                request.header(reqwest::header::AUTHORIZATION, token)
            }
        };
        tracing::debug!(%url, action = %action.describe(), "fabric-ca request");
        let response = request.body(body).send().await.map_err(|e| self.transport_error(&e))?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(|e| self.transport_error(&e))?;
        tracing::debug!(%url, status, "fabric-ca answer");
        self.answer(&url, status, &bytes, action)
    }

    /// The `result` of a successful fabric-ca answer, or the error it carries.
    fn answer(&self, url: &str, status: u16, bytes: &[u8], action: &Action<'_>) -> Result<Value> {
        let envelope: Envelope = serde_json::from_slice(bytes).map_err(|_| CaError::NotJson {
            url: url.to_string(),
            status,
            excerpt: String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned(),
        })?;
        let errors = envelope.errors.unwrap_or_default();
        if !errors.is_empty() || status >= 400 || !envelope.success {
            return Err(self.refusal(action, status, errors));
        }
        envelope.result.ok_or_else(|| self.bad_answer(action, "success without a result"))
    }

    /// Turns the CA's error codes (`lib/caerrors` in fabric-ca) into errors
    /// that say what to do. fabric-ca reports every authentication failure as
    /// code 20 and every authorisation failure as code 71, on purpose.
    fn refusal(&self, action: &Action<'_>, status: u16, errors: Vec<ServerMessage>) -> CaError {
        let (code, message) = match errors.first() {
            Some(first) => (first.code, first.message.clone()),
            None if status == 401 => (20, "HTTP 401".to_string()),
            None => (0, format!("HTTP {status} without details")),
        };
        match (action, code) {
            (_, 19) => CaError::UnknownCa { url: self.url.clone(), ca_name: self.ca_name.clone() },
            (Action::Enroll { enrollment_id }, 20..=24) => {
                CaError::EnrollmentRefused { enrollment_id: enrollment_id.to_string(), code, message }
            }
            (Action::Enroll { enrollment_id }, 73) => {
                CaError::TooManyAttempts { enrollment_id: enrollment_id.to_string(), message }
            }
            (Action::Reenroll { subject } | Action::Register { subject, .. }, 20 | 25..=28 | 70)
            | (Action::Reenroll { subject }, 71) => {
                CaError::CallerRejected { action: action.describe(), subject: subject.clone(), code, message }
            }
            (Action::Register { subject, name }, 42..=44 | 54 | 55 | 71 | 76) => {
                CaError::NotRegistrar { subject: subject.clone(), name: name.to_string(), code, message }
            }
            (Action::Register { name, .. }, 74) => CaError::AlreadyRegistered { name: name.to_string() },
            _ => {
                let messages = if errors.is_empty() {
                    format!("code {code}: {message}")
                } else {
                    errors.iter().map(|e| format!("code {}: {}", e.code, e.message)).collect::<Vec<_>>().join("; ")
                };
                CaError::Refused { url: self.url.clone(), action: action.describe(), status, messages }
            }
        }
    }

    fn bad_answer(&self, action: &Action<'_>, detail: impl ToString) -> CaError {
        CaError::BadAnswer { url: self.url.clone(), action: action.describe(), detail: detail.to_string() }
    }

    /// Sorts a failed request into unreachable, TLS, and everything else, by
    /// looking for the operating system's and rustls' errors in its causes.
    fn transport_error(&self, error: &reqwest::Error) -> CaError {
        let detail = chain(error);
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
        while let Some(current) = cause {
            if let Some(tls) = current.downcast_ref::<rustls::Error>() {
                return self.tls_error(tls);
            }
            // An I/O error hides what it wraps from `source()`; look inside.
            let io = current.downcast_ref::<std::io::Error>();
            if let Some(io) = io {
                use std::io::ErrorKind::*;
                if matches!(io.kind(), ConnectionRefused | HostUnreachable | NetworkUnreachable | AddrNotAvailable) {
                    return CaError::Unreachable { url: self.url.clone(), detail: io.to_string() };
                }
            }
            cause = match io.and_then(std::io::Error::get_ref) {
                Some(inner) => Some(inner),
                None => current.source(),
            };
        }
        if error.is_timeout() {
            return CaError::Transport {
                url: self.url.clone(),
                detail: format!("no answer in time ({detail}); is the CA running and reachable?"),
            };
        }
        if error.is_connect() {
            return CaError::Unreachable { url: self.url.clone(), detail };
        }
        CaError::Transport { url: self.url.clone(), detail }
    }

    fn tls_error(&self, error: &rustls::Error) -> CaError {
        use rustls::CertificateError as C;
        let host = Url::parse(&self.url).ok().and_then(|u| u.host_str().map(str::to_string)).unwrap_or_default();
        let hint = match error {
            rustls::Error::InvalidCertificate(C::NotValidForName | C::NotValidForNameContext { .. }) => format!(
                "the server's certificate does not name the host {host}; use in the URL a host name it names \
                 (often localhost or the CA's DNS name)"
            ),
            rustls::Error::InvalidCertificate(C::Expired | C::ExpiredContext { .. }) => {
                "the server's TLS certificate has expired (or this machine's clock is wrong)".into()
            }
            rustls::Error::InvalidCertificate(_) => "the server's certificate is not signed by the trusted TLS root; \
                                                     use the TLS CA certificate of the CA's organisation"
                .into(),
            _ => "check that the server speaks TLS at this address".into(),
        };
        CaError::Tls { url: self.url.clone(), root: self.tls_root.clone(), detail: error.to_string(), hint }
    }
}

/// The certificate's common name (the enrolment id), once `signer` is shown
/// to hold its key, so that a mismatch is named here rather than as the CA's
/// anonymous code 20.
fn subject_of(certificate_pem: &[u8], signer: &Signer) -> Result<String> {
    let certificate = Certificate::from_pem(certificate_pem)?;
    signer.check_certificate(&certificate)?;
    Ok(certificate.common_name()?)
}

/// Decodes a base64 PEM text as fabric-ca sends certificates.
fn decode_pem(b64: &str) -> std::result::Result<String, String> {
    let bytes = STANDARD.decode(b64.trim()).map_err(|e| format!("not base64: {e}"))?;
    String::from_utf8(bytes).map_err(|_| "not PEM text".to_string())
}

/// An error and its causes, joined with ": ".
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(current) = cause {
        let next = current.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        cause = current.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> String {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        rcgen::CertificateParams::new(vec!["localhost".into()]).unwrap().self_signed(&key).unwrap().pem()
    }

    #[test]
    fn configuration_is_checked_once_at_construction() {
        let root = root();
        let ok = CaClient::new("https://127.0.0.1:7054/", "ca-hospitala", root.as_bytes()).unwrap();
        assert_eq!(ok.url(), "https://127.0.0.1:7054");
        assert_eq!(ok.ca_name(), "ca-hospitala");

        let err = |url: &str, name: &str, pem: &[u8]| CaClient::new(url, name, pem).unwrap_err().to_string();
        assert!(err("http://127.0.0.1:7054", "ca", root.as_bytes()).contains("https://"));
        assert!(err("127.0.0.1:7054", "ca", root.as_bytes()).contains("https://127.0.0.1:7054"));
        assert!(err("https://admin:pw@127.0.0.1:7054", "ca", root.as_bytes()).contains("password"));
        assert!(err("https://127.0.0.1:7054", " ", root.as_bytes()).contains("CA name"));
        assert!(err("https://127.0.0.1:7054", "ca", b"no pem here").contains("no PEM certificate"));

        let missing = Path::new("/nonexistent/tlsca.pem");
        let e = CaClient::from_tls_root_file("https://127.0.0.1:7054", "ca", missing).unwrap_err().to_string();
        assert!(e.contains("/nonexistent/tlsca.pem"), "{e}");
    }

    #[test]
    fn registration_request_defaults_and_wire_names() {
        let mut request = RegistrationRequest::new("doctor7");
        let json = serde_json::to_value(RegisterBody { request: &request, caname: "ca-x" }).unwrap();
        assert_eq!(json, serde_json::json!({"id": "doctor7", "type": "client", "affiliation": "", "caname": "ca-x"}));

        request.secret = Some("pw".into());
        assert!(!format!("{request:?}").contains("\"pw\""), "{request:?}");
        request.max_enrollments = Some(-1);
        request.attributes =
            vec![Attribute::ecert("role", "doctor"), Attribute { name: "x".into(), value: "1".into(), ecert: false }];
        let json = serde_json::to_value(RegisterBody { request: &request, caname: "ca-x" }).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"id": "doctor7", "type": "client", "affiliation": "", "caname": "ca-x", "secret": "pw",
                "max_enrollments": -1,
                "attrs": [{"name": "role", "value": "doctor", "ecert": true}, {"name": "x", "value": "1"}]})
        );
    }

    #[test]
    fn server_codes_become_advice() {
        let root = root();
        let client = CaClient::new("https://127.0.0.1:7054", "ca-a", root.as_bytes()).unwrap();
        let msg = |code: i64| vec![ServerMessage { code, message: "Authentication failure".into() }];
        let enroll = Action::Enroll { enrollment_id: "doctor1" };
        let e = client.refusal(&enroll, 401, msg(20)).to_string();
        assert!(e.contains("refused enrolment id doctor1: wrong secret or unknown id"), "{e}");
        assert!(e.contains("check the secret your registrar gave you"), "{e}");
        assert!(matches!(client.refusal(&enroll, 401, Vec::new()), CaError::EnrollmentRefused { .. }));
        assert!(matches!(client.refusal(&enroll, 401, msg(73)), CaError::TooManyAttempts { .. }));
        assert!(client.refusal(&enroll, 404, msg(19)).to_string().contains("no CA named ca-a"));

        let register = Action::Register { subject: "doctor1".into(), name: "p9" };
        let e = client.refusal(&register, 403, msg(71)).to_string();
        assert!(e.contains("refused to let doctor1 register p9") && e.contains("registrar"), "{e}");
        assert!(matches!(client.refusal(&register, 409, msg(74)), CaError::AlreadyRegistered { .. }));
        assert!(matches!(client.refusal(&register, 401, msg(20)), CaError::CallerRejected { .. }));
        let reenroll = Action::Reenroll { subject: "doctor1".into() };
        assert!(matches!(client.refusal(&reenroll, 401, msg(27)), CaError::CallerRejected { .. }));
        let e = client.refusal(&reenroll, 500, msg(99)).to_string();
        assert!(e.contains("code 99: Authentication failure") && e.contains("HTTP 500"), "{e}");
    }

    #[test]
    fn answers_are_read_from_the_envelope() {
        let root = root();
        let client = CaClient::new("https://127.0.0.1:7054", "ca-a", root.as_bytes()).unwrap();
        let action = Action::Enroll { enrollment_id: "u" };
        let url = "https://127.0.0.1:7054/api/v1/enroll";

        let ok = br#"{"success":true,"result":{"secret":"s"},"errors":[],"messages":[]}"#;
        assert_eq!(client.answer(url, 201, ok, &action).unwrap(), serde_json::json!({"secret": "s"}));
        let null_lists = br#"{"success":true,"result":{"x":1},"errors":null,"messages":null}"#;
        assert_eq!(client.answer(url, 200, null_lists, &action).unwrap(), serde_json::json!({"x": 1}));

        let html = b"<html><body>502 Bad Gateway</body></html>";
        let err = client.answer(url, 502, html, &action).unwrap_err();
        assert!(matches!(err, CaError::NotJson { status: 502, .. }), "{err:?}");
        let text = err.to_string();
        assert!(
            text.contains("502 Bad Gateway") && text.contains("is this the address of a fabric-ca server"),
            "{text}"
        );

        let refused = br#"{"success":false,"result":null,"errors":[{"code":20,"message":"Authentication failure"}]}"#;
        assert!(matches!(client.answer(url, 401, refused, &action), Err(CaError::EnrollmentRefused { code: 20, .. })));
        let empty = br#"{"success":true,"result":null,"errors":[]}"#;
        assert!(matches!(client.answer(url, 200, empty, &action), Err(CaError::BadAnswer { .. })));
        let failed = br#"{"success":false,"errors":[]}"#;
        assert!(matches!(client.answer(url, 200, failed, &action), Err(CaError::Refused { status: 200, .. })));
    }

    #[test]
    fn error_causes_are_joined_once() {
        #[derive(Debug)]
        struct Outer(std::io::Error, &'static str);
        impl std::fmt::Display for Outer {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.1)
            }
        }
        impl std::error::Error for Outer {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        assert_eq!(chain(&Outer(std::io::Error::other("refused"), "connect")), "connect: refused");
        assert_eq!(chain(&Outer(std::io::Error::other("refused"), "connect: refused")), "connect: refused");
    }
}
