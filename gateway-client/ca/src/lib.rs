//! A client for Hyperledger fabric-ca: enrol, re-enrol and register users,
//! and a wallet that keeps their keys private.
//!
//! # Layout
//!
//! - `client`: [`CaClient`], one HTTPS request per call to fabric-ca's REST
//!   API v1.5 (`/api/v1/enroll`, `reenroll`, `register`).
//! - `csr`: the certificate signing request for a key generated here; private
//!   keys never leave the process.
//! - `token`: fabric-ca's token authentication (certificate + signature over
//!   method, path, body).
//! - `wallet`: [`Wallet`], identities on disk with 0600 keys.
//!
//! Certificates, keys and MSP folders are read by `fabric-identity`, the one
//! X.509 parser of the workspace; its `Certificate` says when one expires.
//! - `error`: [`CaError`], whose messages say what to do next.
//!
//! The library reads no environment variables and no default paths: the
//! command line passes the CA URL, CA name, TLS root and wallet folder in.
//!
//! ```no_run
//! # async fn login() -> fabric_ca_client::Result<()> {
//! use fabric_ca_client::{CaClient, EnrollOptions, IdentityMeta, Wallet};
//!
//! let ca = CaClient::from_tls_root_file(
//!     "https://localhost:7054",
//!     "ca-hospitala",
//!     std::path::Path::new("tlsca.hospitala.example.com-cert.pem"),
//! )?;
//! let enrollment = ca.enroll("doctor1", "doctor1pw", &EnrollOptions::default()).await?;
//! let meta = IdentityMeta {
//!     msp_id: "HospitalAMSP".into(),
//!     label: "doctor1@hospitala".into(),
//!     enrollment_id: "doctor1".into(),
//!     ca_url: Some(ca.url().into()),
//! };
//! Wallet::new("wallet").put(&meta, enrollment.certificate_pem.as_bytes(), &enrollment.signer)?;
//! # Ok(())
//! # }
//! ```

mod client;
mod csr;
mod error;
mod token;
mod wallet;

pub use client::{Attribute, AttributeRequest, CaClient, EnrollOptions, Enrollment, RegistrationRequest};
pub use error::{CaError, Result};
pub use wallet::{IdentityMeta, Wallet, WalletEntry, validate_label};
