//! [`IdentityError`]: why a certificate, key or MSP folder cannot be used.

use std::path::PathBuf;

/// Why an identity could not be read or used. Each message names what was
/// wrong and, where there is one, what to do about it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// The bytes are not a PEM X.509 certificate, or lack a field Fabric needs.
    #[error("{0}")]
    Certificate(String),
    /// The creator of a transaction is not a serialized identity.
    #[error("the creator is not a serialized identity: {0}")]
    Creator(String),
    /// The MSP id is empty.
    #[error("the MSP id is empty; give the organisation's MSP id, e.g. HospitalAMSP")]
    EmptyMspId,
    /// The private key cannot be read, encoded or used.
    #[error("{0}")]
    Key(String),
    /// The private key is not the certificate's.
    #[error(
        "the private key does not belong to the certificate; use the key written with this certificate \
         (keystore/ next to signcerts/), or enrol again"
    )]
    KeyMismatch,
    /// The certificate is past its end of validity.
    #[error("the certificate of {subject} expired on {expired_on}; enrol again for a new one")]
    Expired {
        /// Whose certificate (a label or common name).
        subject: String,
        /// The `not_after` date, `YYYY-MM-DD HH:MM:SS UTC`.
        expired_on: String,
    },
    /// A fabric-ca attribute is missing or has another value.
    #[error("{0}")]
    Attribute(String),
    /// An MSP folder lacks a file or holds one that cannot be used.
    #[error("{path}: {detail}")]
    MspFolder {
        /// The file or folder at fault.
        path: PathBuf,
        /// What is wrong with it.
        detail: String,
    },
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },
}

/// Result alias for identity reading.
pub type Result<T, E = IdentityError> = std::result::Result<T, E>;

impl IdentityError {
    pub(crate) fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Self + '_ {
        move |source| Self::Io { path: path.to_path_buf(), source }
    }
}
