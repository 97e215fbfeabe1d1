//! Who is calling, read only from their certificate; the domain types are
//! the contract API's (`ehr_api::model`), re-exported here.

use fabric_shim::Stub;

pub use ehr_api::model::*;

use crate::error::{EhrError, Result};

/// The caller of a transaction, read only from their certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// Who.
    pub person: Person,
    /// In which role.
    pub role: Role,
    /// For patients: the patient id their certificate is bound to (`patient_id` attribute).
    pub patient_id: Option<String>,
}

impl Caller {
    /// Reads the caller from the transaction. Only client identities (NodeOU
    /// `client`) with a known `role` attribute act; the role must be one the
    /// roles registry lets the caller's organisation assert.
    pub async fn of(stub: &Stub) -> Result<Self> {
        let id = stub.client_identity().map_err(|e| EhrError::Forbidden(format!("cannot identify the caller: {e}")))?;
        if !id.has_ou(crate::registry::CLIENT_OU) {
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
        })
    }

    /// Reads the caller and refuses one whose organisation's admin suspended them.
    pub async fn load(stub: &Stub) -> Result<Self> {
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
    pub fn is_patient(&self, record: &PatientRecord) -> bool {
        self.role == Role::Patient
            && self.patient_id.as_deref() == Some(record.id.as_str())
            && self.person.msp == record.home_msp
    }
}

/// The stamp of the current transaction by `caller`.
pub fn stamp(stub: &Stub, caller: &Caller) -> Result<Stamp> {
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
pub fn allows(consent: &Consent, caller: &Caller, wanted: Scope, now: i64) -> bool {
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
