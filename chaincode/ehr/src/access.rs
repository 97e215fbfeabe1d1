//! Who may do what to whom: the caller (read only from their certificate),
//! the grounds on which they reach a patient (self, attending, consent), and
//! every permission check the transaction functions use, in one place.

use fabric_chaincode_shim::Stub;

use crate::error::{EhrError, Result};
use crate::model::{
    Basis, Consent, Grantee, PatientId, PatientRecord, Person, RecordKind, RecordMeta, Role, Scope, Stamp,
};
use crate::store;
use ehr_api::registry::RoleRegistry;

/// The caller of a transaction, read only from their certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Caller {
    /// Who.
    pub(crate) person: Person,
    /// In which role.
    pub(crate) role: Role,
    /// For patients: the patient id their certificate is bound to (`patient_id` attribute).
    pub(crate) patient_id: Option<String>,
    /// The roles registry in force, read once per transaction with the caller.
    pub(crate) registry: RoleRegistry,
}

impl Caller {
    /// Reads the caller from the transaction. Only client identities (NodeOU
    /// `client`) with a known `role` attribute act; the role must be one the
    /// roles registry lets the caller's organisation assert.
    pub(crate) async fn of(stub: &Stub) -> Result<Self> {
        let id = stub.client_identity().map_err(|e| EhrError::Forbidden(format!("cannot identify the caller: {e}")))?;
        if !id.has_ou(ehr_api::registry::CLIENT_OU) {
            return Err(EhrError::Forbidden(format!(
                "the caller's certificate is not a client identity of {} (NodeOU client); only client identities act on patient data",
                id.msp_id()
            )));
        }
        let role = id.attribute("role").and_then(Role::from_attribute).ok_or_else(|| {
            EhrError::Forbidden("the caller's certificate has no known role attribute; nothing is permitted".into())
        })?;
        let registry = crate::store::role_registry(stub).await?.ok_or_else(|| {
            EhrError::Forbidden(
                "no roles registry is set on this channel, so no role can be trusted; an admin must run SetRoleRegistry (network.sh deploy does)"
                    .into(),
            )
        })?;
        crate::registry::check(&registry, id.msp_id(), role)?;
        Ok(Self {
            person: Person { id: id.id().to_owned(), msp: id.msp_id().to_owned() },
            role,
            patient_id: id.attribute("patient_id").map(str::to_owned),
            registry,
        })
    }

    /// Reads the caller and refuses one whose organisation's admin suspended them.
    pub(crate) async fn load(stub: &Stub) -> Result<Self> {
        let caller = Self::of(stub).await?;
        if let Some(standing) = crate::store::standing(stub, &caller.person).await?
            && standing.suspended
        {
            return Err(EhrError::Forbidden(format!(
                "the caller is suspended by an admin of {}: {}",
                caller.person.msp, standing.reason
            )));
        }
        Ok(caller)
    }

    /// Whether this caller is the patient of `record`: a patient certificate
    /// bound to that patient id, issued by the patient's home organisation (a
    /// `patient_id` attribute minted by another organisation's CA proves nothing).
    pub(crate) fn is_patient(&self, record: &PatientRecord) -> bool {
        self.role == Role::Patient
            && self.patient_id.as_deref() == Some(record.id.as_str())
            && self.person.msp == record.home_msp
    }
}

/// The stamp of the current transaction by `caller`.
pub(crate) fn stamp(stub: &Stub, caller: &Caller) -> Result<Stamp> {
    Ok(Stamp {
        actor: caller.person.clone(),
        role: caller.role,
        tx_id: stub.tx_id().to_owned(),
        at: stub.tx_timestamp()?.seconds,
    })
}

/// Whether it lets `caller` do `scope` at time `now`. Organisation-wide
/// consent covers the organisation's doctors, and for writing also its
/// radiologists and lab testers (who attach reports).
pub(crate) fn allows(consent: &Consent, caller: &Caller, wanted: Scope, now: i64) -> bool {
    let clinical = match wanted {
        Scope::Read => caller.role == Role::Doctor,
        Scope::ReadWrite => matches!(caller.role, Role::Doctor | Role::Radiologist | Role::Lab),
    };
    let who = match &consent.grantee {
        Grantee::Doctor { person } => caller.role == Role::Doctor && person == &caller.person,
        Grantee::Organisation { msp } => clinical && msp == &caller.person.msp,
    };
    let what = wanted == Scope::Read || consent.scope == Scope::ReadWrite;
    who && what && consent.is_live(now)
}

pub(crate) fn forbidden(what: &str, id: &PatientId) -> EhrError {
    EhrError::Forbidden(format!("not permitted: {what} patient {id}"))
}

pub(crate) fn is_attending(record: &PatientRecord, caller: &Caller) -> bool {
    caller.role == Role::Doctor && record.attending.contains(&caller.person)
}

/// The patient's record; a missing patient is refused exactly like a
/// forbidden one, so that callers cannot probe which ids exist.
pub(crate) async fn patient_for(stub: &Stub, id: &PatientId, what: &str) -> Result<PatientRecord> {
    store::patient(stub, id).await?.ok_or_else(|| forbidden(what, id))
}

/// Refuses any write to a patient whose data was erased: erasure is final.
pub(crate) fn not_erased(record: &PatientRecord) -> Result<()> {
    match &record.erased {
        Some(_) => Err(EhrError::Conflict(format!(
            "patient {}'s data was erased on their request; nothing more can be written for them",
            record.id
        ))),
        None => Ok(()),
    }
}

/// Refuses a grantee or attending doctor that is not of a hospital in the roles registry.
pub(crate) fn require_hospital(caller: &Caller, field: &str, msp: &str) -> Result<()> {
    if caller.registry.is_hospital(msp) {
        return Ok(());
    }
    Err(EhrError::bad(field, format!("{msp} is not a hospital in the roles registry")))
}

/// On what grounds `caller` may reach `record` for `scope` at `now`, if any.
pub(crate) async fn grounds(
    stub: &Stub,
    record: &PatientRecord,
    caller: &Caller,
    scope: Scope,
    now: i64,
) -> Result<Option<Basis>> {
    if caller.is_patient(record) && scope == Scope::Read {
        return Ok(Some(Basis::Patient));
    }
    if is_attending(record, caller) {
        return Ok(Some(Basis::Attending));
    }
    if !matches!(caller.role, Role::Doctor | Role::Radiologist | Role::Lab) {
        return Ok(None);
    }
    for grantee in
        [Grantee::Doctor { person: caller.person.clone() }, Grantee::Organisation { msp: caller.person.msp.clone() }]
    {
        if let Some(c) = store::consent(stub, &record.id, &grantee).await?
            && crate::access::allows(&c, caller, scope, now)
        {
            return Ok(Some(Basis::Consent));
        }
    }
    Ok(None)
}

/// Whether `caller` may write a record of `kind` for `patient` now: checked
/// on every write, so a revoked consent ends an author's rights too.
pub(crate) async fn may_write(
    stub: &Stub,
    patient: &PatientRecord,
    caller: &Caller,
    kind: RecordKind,
    now: i64,
) -> Result<bool> {
    let allowed_kind = match caller.role {
        Role::Doctor => true,
        Role::Radiologist => kind == RecordKind::ImagingReport,
        Role::Lab => kind == RecordKind::LabReport,
        _ => false,
    };
    if !allowed_kind {
        return Ok(false);
    }
    // Reporters of the patient's own hospital act on its orders.
    let home_reporter = matches!(caller.role, Role::Radiologist | Role::Lab) && caller.person.msp == patient.home_msp;
    Ok(home_reporter || grounds(stub, patient, caller, Scope::ReadWrite, now).await?.is_some())
}

/// Whether `caller` may change or delete `meta`: an attending doctor, or its
/// author while they still have write grounds for the patient.
pub(crate) async fn may_change(
    stub: &Stub,
    patient: &PatientRecord,
    meta: &RecordMeta,
    caller: &Caller,
    now: i64,
) -> Result<bool> {
    if is_attending(patient, caller) {
        return Ok(true);
    }
    Ok(meta.created.actor == caller.person && may_write(stub, patient, caller, meta.kind, now).await?)
}

pub(crate) async fn may_see_content(stub: &Stub, caller: &Caller, patient: &PatientRecord, now: i64) -> Result<bool> {
    let open = store::window_open(stub, &patient.id, &caller.person, now).await?;
    Ok(open && patient.erased.is_none() && grounds(stub, patient, caller, Scope::Read, now).await?.is_some())
}

pub(crate) async fn may_see_history(stub: &Stub, caller: &Caller, patient: &PatientRecord, now: i64) -> Result<()> {
    if caller.role == Role::Regulator || grounds(stub, patient, caller, Scope::Read, now).await?.is_some() {
        return Ok(());
    }
    Err(forbidden("reading the history of", &patient.id))
}
