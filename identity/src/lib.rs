//! Hyperledger Fabric identities, in one place for chaincode and clients:
//! what Go splits between `fabric-gateway/pkg/identity` (an identity, a
//! signer, reading an MSP folder) and `fabric-chaincode-go/pkg/cid` (the id,
//! MSP, organisational units and fabric-ca attributes of a submitter).
//!
//! X.509 is parsed only here ([`Certificate`]), so the shim, the gateway
//! client and the CA client agree on what a certificate says, including when
//! it expires.
//!
//! A client signs as itself:
//!
//! ```
//! use fabric_identity::{Identity, Signer};
//! # let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
//! # let cert = rcgen::CertificateParams::new(vec!["doctor1".into()]).unwrap().self_signed(&key).unwrap();
//! # let (certificate_pem, key_pem) = (cert.pem(), key.serialize_pem());
//! let identity = Identity::new("HospitalAMSP", certificate_pem)?;
//! let signer = Signer::from_pem(&key_pem)?;
//! identity.check_signer(&signer)?;
//! let signature = signer.sign(b"proposal bytes")?;
//! # assert!(!signature.is_empty());
//! # Ok::<(), fabric_identity::IdentityError>(())
//! ```
//!
//! and chaincode reads who submitted a transaction the way Go's `cid` does:
//!
//! ```
//! let pem = include_bytes!("../tests/fixtures/multi_ou.pem");
//! let id = fabric_identity::ClientIdentity::from_msp_and_pem("Org1MSP", pem)?;
//! assert_eq!(id.msp_id(), "Org1MSP");
//! assert_eq!(id.attribute("role"), Some("lab"));
//! assert!(id.has_ou("client"));
//! # Ok::<(), fabric_identity::IdentityError>(())
//! ```

mod certificate;
mod cid;
mod error;
mod msp;
mod signing;

pub use certificate::Certificate;
pub use cid::ClientIdentity;
pub use error::{IdentityError, Result};
pub use msp::read_msp_folder;
pub use signing::{Identity, Signer, digest};
