//! The names of transient fields: what travels beside a proposal and never
//! reaches a block. One place for every name, shared by contract and clients.

/// The patient's details (JSON `PatientDetails`).
pub const TRANSIENT_PATIENT: &str = "patient";
/// The client's salt for a new version: 32 random bytes as 64 hex digits.
pub const TRANSIENT_SALT: &str = "salt";
/// A new patient's file key (64 hex digits, drawn by the client).
pub const TRANSIENT_FILE_KEY: &str = "fileKey";
/// A record's content (JSON `RecordInput`).
pub const TRANSIENT_RECORD: &str = "record";
/// A prescription's dispensing code (when prescribing and when dispensing).
pub const TRANSIENT_DISPENSE_CODE: &str = "dispenseCode";
/// A search's query (what a doctor looks for is patient data too).
pub const TRANSIENT_QUERY: &str = "query";
/// The caller's one-time X25519 public key (32 raw bytes) that answers are sealed to.
pub const TRANSIENT_SEAL_TO: &str = "sealTo";
/// The channel secret at deployment (32 random bytes as 64 hex digits).
pub const TRANSIENT_CHANNEL_SECRET: &str = "channelSecret";
