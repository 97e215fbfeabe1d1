//! Notifications: what a patient's client, and a regulator's, is told of each
//! transaction, and how it travels (sealed once per recipient in the event).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::model::{PatientId, Person};
use crate::seal::Sealed;

/// The name of every EHR event; listeners open its notices with their key.
pub const EVENT_NAME: &str = "ehr";

/// What a notification reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum Action {
    /// A doctor registered the patient.
    Registered,
    /// The patient's details or attending doctors changed.
    Updated,
    /// Someone opened access to the patient's data.
    Accessed,
    /// Someone tried to, and was refused.
    AccessDenied,
    /// The patient granted a consent.
    ConsentGranted,
    /// The patient revoked a consent.
    ConsentRevoked,
    /// A record was added.
    RecordAdded,
    /// A record was changed.
    RecordUpdated,
    /// A record was deleted (a tombstone stays).
    RecordDeleted,
    /// The patient's data was erased on their request.
    Erased,
}

impl Action {
    /// The action as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Registered => "registered",
            Self::Updated => "updated",
            Self::Accessed => "accessed",
            Self::AccessDenied => "accessDenied",
            Self::ConsentGranted => "consentGranted",
            Self::ConsentRevoked => "consentRevoked",
            Self::RecordAdded => "recordAdded",
            Self::RecordUpdated => "recordUpdated",
            Self::RecordDeleted => "recordDeleted",
            Self::Erased => "erased",
        }
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a patient's client, and a regulator's, is told.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    /// The patient concerned.
    pub patient_id: PatientId,
    /// What happened.
    pub action: Action,
    /// Who did it.
    pub actor: Person,
    /// The record concerned, if any.
    pub record_id: Option<String>,
    /// The transaction.
    pub tx_id: String,
}

/// An event's payload: the notification sealed once per recipient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SealedNotices {
    /// One sealed copy per recipient, in no telling order (the patient's first,
    /// then the regulators' by MSP id); open each with [`crate::seal::OpeningKey::open`] and
    /// the event's transaction id.
    pub notices: Vec<Sealed>,
}

/// The seed of a notification key, as `NotificationKey` answers it (sealed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NotificationKeySeed {
    /// Whose notices it opens: `patient:<id>` or `org:<msp>`.
    pub recipient: String,
    /// 32 bytes as hex: derive the key with [`crate::seal::OpeningKey::from_random_bytes`].
    pub seed: String,
}
