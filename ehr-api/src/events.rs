//! Notifications: what a patient's client, and a regulator's, is told of each
//! transaction, and how it travels (sealed once per recipient in the event).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::model::{PatientId, Person};
use crate::seal::Sealed;

/// The name of every EHR event; listeners open its notices with their key.
pub const EVENT_NAME: &str = "ehr";

/// What a patient's client, and a regulator's, is told.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    /// The patient concerned.
    pub patient_id: PatientId,
    /// What happened: `registered`, `updated`, `accessed`, `accessDenied`,
    /// `consentGranted`, `consentRevoked`, `recordAdded`, `recordUpdated`,
    /// `recordDeleted`, `erased`.
    pub action: String,
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
