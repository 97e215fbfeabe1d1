//! Notifications: one chaincode event per transaction, never patient data.

use fabric_shim::Stub;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::model::{PatientId, Person};

/// The name of every EHR event; listeners filter on the payload's `action`.
pub const EVENT_NAME: &str = "ehr";

/// What a patient's client is told.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    /// The patient concerned.
    pub patient_id: PatientId,
    /// What happened: `registered`, `updated`, `accessed`, `accessDenied`, `consentGranted`, `consentRevoked`.
    pub action: String,
    /// Who did it.
    pub actor: Person,
    /// The record concerned, if any.
    pub record_id: Option<String>,
    /// The transaction.
    pub tx_id: String,
}

/// Sets this transaction's event.
pub fn notify(stub: &Stub, patient_id: &PatientId, action: &str, actor: &Person) -> Result<()> {
    let n = Notification {
        patient_id: patient_id.clone(),
        action: action.to_owned(),
        actor: actor.clone(),
        record_id: None,
        tx_id: stub.tx_id().to_owned(),
    };
    Ok(stub.set_event(EVENT_NAME, serde_json::to_vec(&n)?)?)
}

/// Sets this transaction's event for a change to one record.
pub fn notify_record(stub: &Stub, patient_id: &PatientId, action: &str, actor: &Person, record_id: &str) -> Result<()> {
    let n = Notification {
        patient_id: patient_id.clone(),
        action: action.to_owned(),
        actor: actor.clone(),
        record_id: Some(record_id.to_owned()),
        tx_id: stub.tx_id().to_owned(),
    };
    Ok(stub.set_event(EVENT_NAME, serde_json::to_vec(&n)?)?)
}
