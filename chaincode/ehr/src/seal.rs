//! Sealed responses: patient data leaves the chaincode only encrypted to a
//! one-time key that the caller sends in transient data.
//!
//! Fabric puts a transaction's response payload into the block when a client
//! submits it instead of evaluating it, and the chaincode cannot tell the two
//! apart. So every function that returns patient data, and every function that
//! writes about a patient (its answer says who reached whom), returns it sealed with
//! HPKE (RFC 9180, base mode: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
//! ChaCha20-Poly1305) to the public key in the transient field
//! [`TRANSIENT_SEAL_TO`]. The transaction id is the associated data, so a sealed
//! answer cannot be passed off as another transaction's. Whatever reaches a
//! block is ciphertext that only the holder of the one-time private key opens.
//!
//! Chaincode must be deterministic (every endorser must return the same bytes),
//! so the ephemeral key comes from a seed, not from a random source: SHA-256 of
//! a domain label, a secret that only members' peers derive (from the channel
//! secret and the transaction id, `store::seal_secret`), the transaction id,
//! the recipient key and the plaintext. Someone who sees the ciphertext cannot
//! recompute the seed, so cannot confirm a guessed plaintext, whatever the
//! answer holds (even an empty page).

use fabric_chaincode_shim::Stub;
use serde::Serialize;

use ehr_api::functions::SealedOf;
use ehr_api::seal::{Recipient, TRANSIENT_SEAL_TO};

use crate::error::{EhrError, Result};

/// The caller's one-time public key, read from transient data.
pub(crate) struct SealTo(Recipient);

impl SealTo {
    /// Reads the key; 400 when it is missing or not 32 bytes, before anything is read.
    pub(crate) fn from_transient(stub: &Stub) -> Result<Self> {
        Self::from_bytes(crate::input::required(
            stub,
            TRANSIENT_SEAL_TO,
            "patient data is only returned encrypted to a one-time X25519 public key (32 bytes) sent as transient data",
        )?)
    }

    /// A key from its 32 raw bytes; 400 when they are not a usable X25519 public key.
    pub(crate) fn from_bytes(raw: &[u8]) -> Result<Self> {
        Ok(Self(Recipient::from_bytes(raw)?))
    }

    /// Seals `value`'s JSON for this transaction, seeded with the secret only
    /// members' peers derive (`store::seal_secret`): the one way an answer
    /// leaves the chaincode sealed.
    pub(crate) async fn seal<T: Serialize>(&self, stub: &Stub, value: &T) -> Result<SealedOf<T>> {
        let secret = crate::store::seal_secret(stub).await?;
        self.seal_with(stub, &secret, value)
    }

    /// [`SealTo::seal`] with the transaction's `store::seal_secret` already
    /// derived, for sealing many notices of one transaction.
    pub(crate) fn seal_with<T: Serialize>(&self, stub: &Stub, secret: &[u8], value: &T) -> Result<SealedOf<T>> {
        let sealed = self.0.seal(secret, stub.tx_id(), value).map_err(|e| EhrError::Internal(e.to_string()))?;
        Ok(SealedOf::new(sealed))
    }
}

/// Runs a function whose answer names a patient or who reached them, and
/// seals that answer: a client may submit any evaluate function, and then the
/// answer is in every block. The caller's key is read first, so a call without
/// one is refused (400) before anything is read.
pub(crate) async fn sealed<P, T, Fut>(
    stub: Stub,
    params: P,
    handler: impl FnOnce(Stub, P) -> Fut,
) -> Result<SealedOf<T>>
where
    T: Serialize,
    Fut: std::future::Future<Output = Result<T>>,
{
    let to = SealTo::from_transient(&stub)?;
    let answer = handler(stub.clone(), params).await?;
    to.seal(&stub, &answer).await
}
