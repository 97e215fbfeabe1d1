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
//! a domain label, a secret that only collection members hold (the salts of the
//! private data being returned), the transaction id, the recipient key and the
//! plaintext. Someone who sees the ciphertext but not the salts cannot recompute
//! the seed, so cannot confirm a guessed plaintext.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20::ChaCha20Rng;
use chacha20::rand_core::SeedableRng;
use fabric_shim::Stub;
use hpke::aead::ChaCha20Poly1305;
use hpke::kdf::HkdfSha256;
use hpke::kem::X25519HkdfSha256;
use hpke::{Deserializable, Kem as _, OpModeR, OpModeS, Serializable};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{EhrError, Result};

/// Transient field holding the caller's one-time X25519 public key (32 raw bytes).
pub const TRANSIENT_SEAL_TO: &str = "sealTo";
/// The scheme named in every sealed answer.
pub const SCHEME: &str = "HPKE-X25519-HKDF-SHA256-ChaCha20Poly1305";
/// HPKE `info`: binds the key schedule to this protocol and version.
pub const INFO: &[u8] = b"ehr sealed response v1";

/// An answer only the holder of the one-time private key can read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Sealed {
    /// Always [`SCHEME`].
    pub scheme: String,
    /// The HPKE encapsulated key, base64.
    pub enc: String,
    /// Ciphertext and tag, base64.
    pub ciphertext: String,
}

/// The caller's one-time public key, read from transient data.
pub(crate) struct SealTo(<X25519HkdfSha256 as hpke::Kem>::PublicKey);

impl SealTo {
    /// Reads the key; 400 when it is missing or not 32 bytes, before anything is read.
    pub(crate) fn from_transient(stub: &Stub) -> Result<Self> {
        let raw = stub.transient().get(TRANSIENT_SEAL_TO).ok_or_else(|| {
            EhrError::bad(
                "transient.sealTo",
                "is required: patient data is only returned encrypted to a one-time X25519 public key (32 bytes) sent as transient data",
            )
        })?;
        Self::from_bytes(raw)
    }

    /// A key from its 32 raw bytes; 400 when they are not a usable X25519 public key.
    pub(crate) fn from_bytes(raw: &[u8]) -> Result<Self> {
        if raw.len() != 32 {
            return Err(EhrError::bad(
                "transient.sealTo",
                format!("must be a 32-byte X25519 public key, got {} bytes", raw.len()),
            ));
        }
        let key = <X25519HkdfSha256 as hpke::Kem>::PublicKey::from_bytes(raw)
            .map_err(|_| EhrError::bad("transient.sealTo", "is not a usable X25519 public key"))?;
        Ok(Self(key))
    }

    /// Seals the answer of a function that writes: it goes into the block, so
    /// it says who reached which patient; the seed is a secret only members'
    /// peers derive (`store::seal_secret`).
    pub(crate) async fn seal_answer<T: Serialize>(&self, stub: &Stub, value: &T) -> Result<Sealed> {
        let secret = crate::store::seal_secret(stub).await?;
        self.seal(stub, &secret, value)
    }

    /// Seals `value`'s JSON for this transaction. `secret` must be data only
    /// collection members hold (the salts of what is returned).
    pub(crate) fn seal<T: Serialize>(&self, stub: &Stub, secret: &[u8], value: &T) -> Result<Sealed> {
        let plaintext = serde_json::to_vec(value)?;
        let aad = stub.tx_id().as_bytes();
        let mut seed = Sha256::new();
        for part in [INFO, secret, aad, self.0.to_bytes().as_slice(), &plaintext] {
            seed.update((part.len() as u64).to_be_bytes());
            seed.update(part);
        }
        let mut rng = ChaCha20Rng::from_seed(seed.finalize().into());
        let (enc, ciphertext) = hpke::single_shot_seal_with_rng::<ChaCha20Poly1305, HkdfSha256, X25519HkdfSha256>(
            &OpModeS::Base,
            &self.0,
            INFO,
            &plaintext,
            aad,
            &mut rng,
        )
        .map_err(|e| EhrError::Internal(format!("sealing the answer failed: {e:?}")))?;
        Ok(Sealed { scheme: SCHEME.into(), enc: B64.encode(enc.to_bytes()), ciphertext: B64.encode(ciphertext) })
    }
}

/// Why a sealed answer could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The answer names another scheme or is not base64.
    #[error("the answer is not a sealed answer this client understands: {0}")]
    Malformed(String),
    /// Wrong key, wrong transaction, or tampered bytes.
    #[error(
        "the sealed answer does not decrypt with this call's key and transaction id (tampered, or meant for another call)"
    )]
    Decrypt,
    /// It decrypted but is not the expected JSON.
    #[error("the sealed answer decrypted to unexpected content: {0}")]
    Content(String),
}

/// A caller's one-time key pair: send [`OpeningKey::public_bytes`] as
/// [`TRANSIENT_SEAL_TO`], then [`OpeningKey::open`] the answer.
pub struct OpeningKey {
    secret: <X25519HkdfSha256 as hpke::Kem>::PrivateKey,
    public: <X25519HkdfSha256 as hpke::Kem>::PublicKey,
}

impl OpeningKey {
    /// A key pair from 32 bytes of fresh randomness (the caller supplies it, so
    /// that this crate, which also runs as chaincode, never draws random numbers).
    pub fn from_random_bytes(ikm: [u8; 32]) -> Self {
        let (secret, public) = X25519HkdfSha256::derive_keypair(&ikm);
        Self { secret, public }
    }

    /// The public key to send as transient data.
    pub fn public_bytes(&self) -> Vec<u8> {
        self.public.to_bytes().to_vec()
    }

    /// Opens a sealed answer of transaction `tx_id` and decodes its JSON.
    pub fn open<T: DeserializeOwned>(&self, tx_id: &str, sealed: &Sealed) -> std::result::Result<T, OpenError> {
        if sealed.scheme != SCHEME {
            return Err(OpenError::Malformed(format!("scheme {:?}", sealed.scheme)));
        }
        let enc = B64.decode(&sealed.enc).map_err(|e| OpenError::Malformed(format!("enc: {e}")))?;
        let ciphertext =
            B64.decode(&sealed.ciphertext).map_err(|e| OpenError::Malformed(format!("ciphertext: {e}")))?;
        let enc = <X25519HkdfSha256 as hpke::Kem>::EncappedKey::from_bytes(&enc)
            .map_err(|_| OpenError::Malformed("enc is not an X25519 key".into()))?;
        let plaintext = hpke::single_shot_open::<ChaCha20Poly1305, HkdfSha256, X25519HkdfSha256>(
            &OpModeR::Base,
            &self.secret,
            &enc,
            INFO,
            &ciphertext,
            tx_id.as_bytes(),
        )
        .map_err(|_| OpenError::Decrypt)?;
        serde_json::from_slice(&plaintext).map_err(|e| OpenError::Content(e.to_string()))
    }
}
