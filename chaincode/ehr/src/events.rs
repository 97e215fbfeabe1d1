//! Notifications: one chaincode event per transaction, readable only by the
//! patient concerned and the regulators.
//!
//! An event is in the block for every channel member to read, so its payload
//! carries only [`SealedNotices`]: the [`Notification`] sealed (as answers are,
//! see `seal`) once to the patient's notification key and once to each
//! regulator organisation's. A notification key is an X25519 key pair derived
//! from a seed that only members' peers can compute (`store::notification_seed`);
//! `NotificationKey` hands the seed, sealed, to the patient (their own) or to a
//! regulator (their organisation's). A listener tries each notice with its key
//! and skips events that hold none for it: which patient an event concerns,
//! and who acted, stay unreadable to everyone else.

use fabric_chaincode_shim::Stub;

use ehr_api::events::{Action, EVENT_NAME, Notification, NotificationKeySeed, SealedNotices};

use crate::access::{Caller, forbidden};
use crate::error::Result;
use crate::model::{PatientId, PatientRecord, Role};
use crate::seal::SealTo;
use crate::store;
use ehr_api::functions::SealedOf;
use ehr_api::registry::OrgKind;
use ehr_api::seal::OpeningKey;

fn patient_recipient(id: &PatientId) -> String {
    format!("patient:{id}")
}

fn org_recipient(msp: &str) -> String {
    format!("org:{msp}")
}

async fn recipient_key(stub: &Stub, recipient: &str) -> Result<SealTo> {
    let key = OpeningKey::from_random_bytes(store::notification_seed(stub, recipient).await?);
    SealTo::from_bytes(&key.public_bytes())
}

/// Sets this transaction's event: `action` on `patient` by `actor`.
pub(crate) async fn notify(
    stub: &Stub,
    patient: &PatientRecord,
    action: Action,
    actor: &Caller,
    record_id: Option<&str>,
) -> Result<()> {
    let n = Notification {
        patient_id: patient.id.clone(),
        action,
        actor: actor.person.clone(),
        record_id: record_id.map(str::to_owned),
        tx_id: stub.tx_id().to_owned(),
    };
    let mut recipients = vec![patient_recipient(&patient.id)];
    recipients.extend(
        actor.registry.organisations.iter().filter(|o| o.kind == OrgKind::Regulator).map(|o| org_recipient(&o.msp)),
    );
    let secret = store::seal_secret(stub).await?;
    let mut notices = Vec::with_capacity(recipients.len());
    for r in &recipients {
        notices.push(recipient_key(stub, r).await?.seal_with(stub, &secret, &n)?.sealed);
    }
    Ok(stub.set_event(EVENT_NAME, serde_json::to_vec(&SealedNotices { notices })?)?)
}

/// The caller's notification key seed, sealed: a patient gets their own, a
/// regulator their organisation's; nobody else has one.
pub(crate) async fn notification_key(stub: Stub, (): ()) -> Result<SealedOf<NotificationKeySeed>> {
    let caller = Caller::load(&stub).await?;
    let seal_to = SealTo::from_transient(&stub)?;
    let recipient = match caller.role {
        Role::Patient => {
            let id = caller.patient_id.as_deref().unwrap_or_default();
            let id = PatientId::parse(id)?;
            let record = store::patient(&stub, &id).await?.filter(|r| caller.is_patient(r));
            if record.is_none() {
                return Err(forbidden("reading the notification key of", &id));
            }
            patient_recipient(&id)
        }
        Role::Regulator => org_recipient(&caller.person.msp),
        _ => {
            return Err(crate::EhrError::Forbidden(
                "only patients and regulators receive notifications; others read what they are allowed to through the contract's functions".into(),
            ));
        }
    };
    let seed = store::notification_seed(&stub, &recipient).await?;
    seal_to.seal(&stub, &NotificationKeySeed { recipient, seed: hex::encode(seed) }).await
}
