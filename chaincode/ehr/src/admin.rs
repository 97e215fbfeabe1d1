//! Organisation admins manage their identities' standing; they read no patient data.

use fabric_chaincode_shim::Stub;

use crate::access::Caller;
use crate::error::{EhrError, Result};
use crate::model::{Person, Role, Standing};
use crate::store;

/// An admin suspends (or reinstates) an identity of their own organisation;
/// a suspended identity can do nothing until reinstated.
pub(crate) async fn set_standing(stub: Stub, (person, suspended, reason): (Person, bool, String)) -> Result<Standing> {
    let caller = Caller::load(&stub).await?;
    if caller.role != Role::Admin {
        return Err(EhrError::Forbidden("only admins change an identity's standing".into()));
    }
    if person.msp != caller.person.msp {
        return Err(EhrError::Forbidden(format!(
            "admins of {} manage only their own organisation's identities",
            caller.person.msp
        )));
    }
    if person == caller.person {
        return Err(EhrError::bad("person", "an admin cannot change their own standing"));
    }
    let reason = reason.trim().to_owned();
    if reason.is_empty() || reason.len() > 500 {
        return Err(EhrError::bad("reason", "must be 1-500 characters"));
    }
    let standing = Standing { person, suspended, reason, stamp: crate::access::stamp(&stub, &caller)? };
    store::put_standing(&stub, &standing).await?;
    Ok(standing)
}
