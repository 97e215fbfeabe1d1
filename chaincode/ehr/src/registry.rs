//! Which organisation may assert which role: the roles registry on the ledger.
//!
//! Every organisation runs its own fabric-ca, and a registrar can put any
//! `role` attribute into a certificate it signs. An attribute therefore proves
//! only what the issuing organisation claims. The registry says which roles
//! each organisation's CA may claim (a hospital's CA may not mint a regulator;
//! the regulator's CA may not mint a patient), and every call is checked
//! against it. It lives under one public key whose key-level endorsement
//! policy names every member organisation's peer, so changing it needs all of
//! them; `network.sh deploy` writes it from `chaincode/ehr/roles_registry.json`.
//!
//! Deployment also sets the channel secret (`SetChannelSecret`): the key of
//! the pseudonyms and salts that keep private-data hashes in blocks from being
//! confirmed by guessing (see `store`).

use fabric_chaincode_shim::Stub;

use crate::error::{EhrError, Result};
use crate::model::Role;

use ehr_api::registry::{ADMIN_OU, RoleRegistry};
use ehr_api::transient::TRANSIENT_CHANNEL_SECRET;

/// Refuses a role that `msp`'s CA may not assert, naming both.
pub(crate) fn check(registry: &RoleRegistry, msp: &str, role: Role) -> Result<()> {
    let Some(org) = registry.org(msp) else {
        return Err(EhrError::Forbidden(format!(
            "organisation {msp} is not in the roles registry; its identities may do nothing"
        )));
    };
    if org.roles.contains(&role) {
        return Ok(());
    }
    let allowed: Vec<&str> = org.roles.iter().map(|r| r.as_str()).collect();
    Err(EhrError::Forbidden(format!(
        "the role {} may not be asserted by {msp} (the roles registry lets {msp} assert: {})",
        role.as_str(),
        allowed.join(", ")
    )))
}

/// Writes the registry. The caller must be an admin (NodeOU `admin`) of an
/// organisation the new registry lists and, once a registry exists, of one the
/// current registry lists. Replacing it needs every current member's
/// endorsement (the key-level policy); the new registry's members guard it next.
pub(crate) async fn set_role_registry(stub: Stub, (registry,): (RoleRegistry,)) -> Result<RoleRegistry> {
    let registry = registry.validated()?;
    let id = stub.client_identity().map_err(|e| EhrError::Forbidden(format!("cannot identify the caller: {e}")))?;
    if !id.has_ou(ADMIN_OU) {
        return Err(EhrError::Forbidden("only an organisation admin (NodeOU admin) may set the roles registry".into()));
    }
    let msp = id.msp_id().to_owned();
    if let Some(current) = crate::store::role_registry(&stub).await?
        && current.org(&msp).is_none()
    {
        return Err(EhrError::Forbidden(format!("{msp} is not in the current roles registry and may not change it")));
    }
    if registry.org(&msp).is_none() {
        return Err(EhrError::bad("registry", format!("must list the caller's own organisation {msp}")));
    }
    crate::store::put_role_registry(&stub, &registry).await?;
    Ok(registry)
}

/// The registry in force; 404 until one is set.
pub(crate) async fn role_registry(stub: Stub, (): ()) -> Result<RoleRegistry> {
    crate::store::role_registry(&stub)
        .await?
        .ok_or_else(|| EhrError::NotFound("no roles registry is set yet; network.sh deploy writes it".into()))
}

/// Writes the channel secret, once: an admin of an organisation in the roles
/// registry sends 32 random bytes (as 64 hex digits) in the transient field
/// [`TRANSIENT_CHANNEL_SECRET`]. A second call is refused (409): changing the
/// secret would orphan every pseudonymous key written under the old one.
pub(crate) async fn set_channel_secret(stub: Stub, (): ()) -> Result<bool> {
    let id = stub.client_identity().map_err(|e| EhrError::Forbidden(format!("cannot identify the caller: {e}")))?;
    if !id.has_ou(ADMIN_OU) {
        return Err(EhrError::Forbidden("only an organisation admin (NodeOU admin) may set the channel secret".into()));
    }
    let registry = crate::store::role_registry(&stub)
        .await?
        .ok_or_else(|| EhrError::Conflict("set the roles registry before the channel secret".into()))?;
    if registry.org(id.msp_id()).is_none() {
        return Err(EhrError::Forbidden(format!("{} is not in the roles registry", id.msp_id())));
    }
    let raw = stub
        .transient()
        .get(TRANSIENT_CHANNEL_SECRET)
        .ok_or_else(|| EhrError::bad("transient.channelSecret", "is required: 32 random bytes as 64 hex digits"))?;
    let secret = std::str::from_utf8(raw)
        .ok()
        .filter(|t| t.len() == 64)
        .and_then(|t| hex::decode(t).ok())
        .ok_or_else(|| EhrError::bad("transient.channelSecret", "must be 32 random bytes as 64 hex digits"))?;
    if crate::store::has_channel_secret(&stub).await? {
        return Err(EhrError::Conflict("the channel secret is already set; it never changes".into()));
    }
    let members: Vec<&str> = registry.organisations.iter().map(|o| o.msp.as_str()).collect();
    crate::store::put_channel_secret(&stub, &secret, &members).await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ehr_api::registry::{OrgKind, OrgRoles};

    fn org(msp: &str, kind: OrgKind, roles: &[Role]) -> OrgRoles {
        OrgRoles { msp: msp.into(), kind, roles: roles.iter().copied().collect() }
    }

    #[test]
    fn refuses_roles_an_organisation_may_not_assert() {
        let r = RoleRegistry {
            organisations: vec![
                org("RegulatorMSP", OrgKind::Regulator, &[Role::Regulator]),
                org("HospitalAMSP", OrgKind::Hospital, &[Role::Doctor, Role::Patient]),
            ],
        }
        .validated()
        .unwrap();
        assert_eq!(r.organisations[0].msp, "HospitalAMSP", "sorted by MSP id");
        assert!(check(&r, "HospitalAMSP", Role::Doctor).is_ok());
        let e = check(&r, "HospitalAMSP", Role::Regulator).unwrap_err().to_string();
        assert!(e.contains("regulator may not be asserted by HospitalAMSP"), "{e}");
        let e = check(&r, "RegulatorMSP", Role::Patient).unwrap_err().to_string();
        assert!(e.contains("patient may not be asserted by RegulatorMSP"), "{e}");
        assert!(check(&r, "EvilMSP", Role::Doctor).unwrap_err().to_string().contains("not in the roles registry"));
    }
}
