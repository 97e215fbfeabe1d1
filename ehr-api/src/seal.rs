//! Sealed answers: HPKE (RFC 9180, base mode: DHKEM(X25519, HKDF-SHA256),
//! HKDF-SHA256, ChaCha20-Poly1305) to a one-time X25519 key the caller sends
//! in transient data, with the transaction id as associated data.
//!
//! The contract seals with [`Recipient::seal`], deterministically: every
//! endorser must return the same bytes, so the ephemeral key comes from a seed
//! (SHA-256 of a domain label, a secret only members' peers hold, the
//! transaction id, the recipient key and the plaintext), never from a random
//! source. Clients open with [`OpeningKey::open`].

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20::ChaCha20Rng;
use chacha20::rand_core::SeedableRng;
use hpke::aead::ChaCha20Poly1305;
use hpke::kdf::HkdfSha256;
use hpke::kem::X25519HkdfSha256;
use hpke::{Deserializable, Kem as _, OpModeR, OpModeS, Serializable};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::Invalid;
pub use crate::transient::TRANSIENT_SEAL_TO;

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

/// Whom an answer is sealed to: a one-time X25519 public key.
pub struct Recipient(<X25519HkdfSha256 as hpke::Kem>::PublicKey);

impl Recipient {
    /// A key from its 32 raw bytes (as sent in [`TRANSIENT_SEAL_TO`]).
    pub fn from_bytes(raw: &[u8]) -> Result<Self, Invalid> {
        if raw.len() != 32 {
            return Err(Invalid::bad(
                "transient.sealTo",
                format!("must be a 32-byte X25519 public key, got {} bytes", raw.len()),
            ));
        }
        let key = <X25519HkdfSha256 as hpke::Kem>::PublicKey::from_bytes(raw)
            .map_err(|_| Invalid::bad("transient.sealTo", "is not a usable X25519 public key"))?;
        Ok(Self(key))
    }

    /// Seals `value`'s JSON for transaction `tx_id` (the associated data).
    /// `secret` must be data only members' peers hold, so that whoever sees
    /// the ciphertext cannot recompute the seed and confirm a guessed plaintext.
    pub fn seal<T: Serialize>(&self, secret: &[u8], tx_id: &str, value: &T) -> Result<Sealed, SealError> {
        let plaintext = serde_json::to_vec(value).map_err(|e| SealError(e.to_string()))?;
        let aad = tx_id.as_bytes();
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
        .map_err(|e| SealError(format!("{e:?}")))?;
        Ok(Sealed { scheme: SCHEME.into(), enc: B64.encode(enc.to_bytes()), ciphertext: B64.encode(ciphertext) })
    }
}

/// Sealing failed (the value does not encode, or HPKE refused).
#[derive(Debug, thiserror::Error)]
#[error("sealing the answer failed: {0}")]
pub struct SealError(String);

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
        // serde's message may quote the decrypted value: it is redacted.
        serde_json::from_slice(&plaintext).map_err(|e| OpenError::Content(crate::error::redacted(&e)))
    }
}
