//! The one error type of this crate.
//!
//! Every message says what went wrong and what to do about it, because the
//! messages end up in front of a person typing `ehr login`: the CA's terse
//! error codes are turned into sentences here, once.

use std::path::PathBuf;

/// Everything that can go wrong enrolling, registering or keeping identities.
#[derive(Debug, thiserror::Error)]
pub enum CaError {
    /// The client was given something unusable: a bad URL, CA name or TLS root.
    #[error("{0}")]
    Config(String),

    /// Nothing answered at the CA's address (connection refused, unknown host).
    #[error(
        "cannot reach the CA at {url}: {detail}; is the network running? start it with `fabric-network/network.sh up`"
    )]
    Unreachable {
        /// The CA URL the client was configured with.
        url: String,
        /// What the operating system said.
        detail: String,
    },

    /// The TLS handshake failed, usually because the server's certificate is
    /// not signed by the configured root or does not name the URL's host.
    #[error("TLS with the CA at {url} failed: {detail}; {hint} (TLS root certificate: {root})")]
    Tls {
        /// The CA URL the client was configured with.
        url: String,
        /// Where the trusted root came from (a file path when read from a file).
        root: String,
        /// What rustls said.
        detail: String,
        /// What to check.
        hint: String,
    },

    /// The request failed on the way (time-out, connection reset, ...).
    #[error("request to the CA at {url} failed: {detail}")]
    Transport {
        /// The CA URL the client was configured with.
        url: String,
        /// What went wrong.
        detail: String,
    },

    /// The server answered, but not with fabric-ca's JSON envelope.
    #[error(
        "the answer of {url} (HTTP {status}) is not fabric-ca JSON: {excerpt:?}; is this the address of a fabric-ca server?"
    )]
    NotJson {
        /// The URL that answered.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The beginning of the answer.
        excerpt: String,
    },

    /// Enrolment with a secret was refused: wrong secret, unknown id, or the
    /// id has no enrolments left (fabric-ca reports all three alike).
    #[error(
        "the CA refused enrolment id {enrollment_id}: wrong secret or unknown id; check the secret your registrar \
         gave you. If it is right, the id may have used all its enrolments: ask your registrar to allow more \
         (CA said: code {code}: {message})"
    )]
    EnrollmentRefused {
        /// The enrolment id that was refused.
        enrollment_id: String,
        /// fabric-ca's error code.
        code: i64,
        /// fabric-ca's message.
        message: String,
    },

    /// Too many wrong secrets: the CA locked the id.
    #[error(
        "the CA locked enrolment id {enrollment_id} after too many wrong secrets; ask your registrar to reset \
         its secret (CA said: {message})"
    )]
    TooManyAttempts {
        /// The locked enrolment id.
        enrollment_id: String,
        /// fabric-ca's message.
        message: String,
    },

    /// The CA did not accept the certificate a re-enrolment or registration
    /// was signed with (expired, revoked, from another CA, or key mismatch).
    #[error(
        "the CA did not accept the certificate of {subject} for {action}: it may be expired, revoked or issued by \
         another CA; enrol again with the secret (`ehr login`) (CA said: code {code}: {message})"
    )]
    CallerRejected {
        /// What was attempted (`re-enrolment`, `registering X`).
        action: String,
        /// The common name of the caller's certificate.
        subject: String,
        /// fabric-ca's error code.
        code: i64,
        /// fabric-ca's message.
        message: String,
    },

    /// The caller is known but may not register this identity.
    #[error(
        "the CA refused to let {subject} register {name}: it is not a registrar, or may not register this type, \
         affiliation or these attributes; register with a registrar such as the CA admin (CA said: code {code}: \
         {message})"
    )]
    NotRegistrar {
        /// The caller's common name.
        subject: String,
        /// The identity that was to be registered.
        name: String,
        /// fabric-ca's error code.
        code: i64,
        /// fabric-ca's message.
        message: String,
    },

    /// The name is registered already.
    #[error("{name} is already registered at the CA; enrol it with its secret, or choose another name")]
    AlreadyRegistered {
        /// The name that is taken.
        name: String,
    },

    /// The server has no CA of the configured name.
    #[error("the server at {url} has no CA named {ca_name}; check the CA name (e.g. ca-hospitala)")]
    UnknownCa {
        /// The CA URL.
        url: String,
        /// The CA name that was asked for.
        ca_name: String,
    },

    /// Any other refusal by the CA, with its codes and messages.
    #[error("the CA at {url} refused {action} (HTTP {status}): {messages}")]
    Refused {
        /// The CA URL.
        url: String,
        /// What was attempted.
        action: String,
        /// The HTTP status.
        status: u16,
        /// fabric-ca's errors, as `code N: message`, joined.
        messages: String,
    },

    /// The CA said yes but the answer lacks what it should carry.
    #[error("the CA at {url} sent an unusable answer to {action}: {detail}")]
    BadAnswer {
        /// The CA URL.
        url: String,
        /// What was attempted.
        action: String,
        /// What is wrong with the answer.
        detail: String,
    },

    /// The certificate signing request could not be built.
    #[error("cannot build the certificate signing request: {0}")]
    Csr(String),

    /// A certificate, key or MSP folder is unusable, or a certificate has
    /// expired (from `fabric-identity`).
    #[error(transparent)]
    Identity(#[from] fabric_identity::IdentityError),

    /// A wallet label that cannot be a folder name.
    #[error("invalid wallet label {label:?}: {reason}")]
    InvalidLabel {
        /// The label as given.
        label: String,
        /// Why it is refused.
        reason: &'static str,
    },

    /// No identity of that label in the wallet.
    #[error(
        "no identity {label:?} in the wallet {wallet}; log in first (`ehr login`) or pick one listed by `ehr identities`"
    )]
    NotInWallet {
        /// The label asked for.
        label: String,
        /// The wallet folder.
        wallet: PathBuf,
    },

    /// A private key that others may read: refused until fixed.
    #[error("the private key {path} can be read by group or others (mode {mode:o}); run `chmod 600 {path}`")]
    KeyPermissions {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },

    /// The key stored under a label is not the key of its certificate.
    #[error(
        "the wallet entry {label:?} holds a key that does not belong to its certificate; log in again to replace it"
    )]
    KeyMismatch {
        /// The wallet label.
        label: String,
    },

    /// A wallet entry or MSP folder is incomplete or malformed.
    #[error("{path}: {detail}")]
    BadEntry {
        /// The file or folder at fault.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },

    /// A file operation failed.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// What was being done (`read`, `write`, `create folder`...).
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
}

/// Results of this crate.
pub type Result<T, E = CaError> = std::result::Result<T, E>;

impl CaError {
    /// An [`CaError::Io`] for `action` on `path`.
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { action, path, source }
    }
}
