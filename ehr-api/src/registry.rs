//! Which organisation may assert which role: the roles registry's shape and rules.

use std::collections::BTreeSet;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{Invalid, Result};
use crate::model::Role;

/// The NodeOU that organisation admins' certificates carry (cryptogen's `Admin@org`).
pub const ADMIN_OU: &str = "admin";
/// The NodeOU of client identities, the only ones that act in the contract.
pub const CLIENT_OU: &str = "client";

/// What an organisation is on this channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OrgKind {
    /// Keeps patients and their records in the private collection.
    Hospital,
    /// Audits; holds no patient data.
    Regulator,
}

/// One organisation's entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrgRoles {
    /// The organisation's MSP id.
    pub msp: String,
    /// Hospital or regulator.
    pub kind: OrgKind,
    /// The roles its CA may put into certificates.
    pub roles: BTreeSet<Role>,
}

/// Which organisation may assert which role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoleRegistry {
    /// One entry per organisation, sorted by MSP id.
    pub organisations: Vec<OrgRoles>,
}

/// Roles that only make sense in a hospital (they act on patients and records).
const HOSPITAL_ONLY: [Role; 5] = [Role::Doctor, Role::Patient, Role::Radiologist, Role::Lab, Role::Pharmacist];

impl RoleRegistry {
    /// Checks the registry and puts it in its one canonical order (by MSP id).
    pub fn validated(mut self) -> Result<Self> {
        self.organisations.sort_by(|a, b| a.msp.cmp(&b.msp));
        if self.organisations.is_empty() {
            return Err(Invalid::bad("registry.organisations", "must name at least one organisation"));
        }
        for pair in self.organisations.windows(2) {
            if pair[0].msp == pair[1].msp {
                return Err(Invalid::bad("registry.organisations", format!("{} is listed twice", pair[0].msp)));
            }
        }
        if !self.organisations.iter().any(|o| o.kind == OrgKind::Hospital) {
            return Err(Invalid::bad("registry.organisations", "must name at least one hospital"));
        }
        for org in &self.organisations {
            let msp_ok = (1..=64).contains(&org.msp.len())
                && org.msp.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
            if !msp_ok {
                return Err(Invalid::bad("registry.msp", format!("{:?} is not an MSP id", org.msp)));
            }
            if org.roles.is_empty() {
                return Err(Invalid::bad("registry.roles", format!("{} must have at least one role", org.msp)));
            }
            let misplaced: Vec<Role> = match org.kind {
                OrgKind::Hospital => org.roles.iter().copied().filter(|r| *r == Role::Regulator).collect(),
                OrgKind::Regulator => org.roles.iter().copied().filter(|r| HOSPITAL_ONLY.contains(r)).collect(),
            };
            if let Some(role) = misplaced.first() {
                return Err(Invalid::bad(
                    "registry.roles",
                    format!("a {:?} organisation ({}) cannot assert the role {}", org.kind, org.msp, role.as_str()),
                ));
            }
        }
        Ok(self)
    }

    /// The entry of `msp`, if it is a member.
    pub fn org(&self, msp: &str) -> Option<&OrgRoles> {
        self.organisations.iter().find(|o| o.msp == msp)
    }

    /// Whether `msp` is a hospital.
    pub fn is_hospital(&self, msp: &str) -> bool {
        self.org(msp).is_some_and(|o| o.kind == OrgKind::Hospital)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn org(msp: &str, kind: OrgKind, roles: &[Role]) -> OrgRoles {
        OrgRoles { msp: msp.into(), kind, roles: roles.iter().copied().collect() }
    }

    #[test]
    fn refuses_malformed_registries() {
        let twice = RoleRegistry {
            organisations: vec![
                org("HospitalAMSP", OrgKind::Hospital, &[Role::Doctor]),
                org("HospitalAMSP", OrgKind::Hospital, &[Role::Patient]),
            ],
        };
        assert!(twice.validated().unwrap_err().to_string().contains("listed twice"));
        let regulator_patient = RoleRegistry { organisations: vec![org("R", OrgKind::Regulator, &[Role::Patient])] };
        assert!(regulator_patient.validated().is_err());
        let hospital_regulator = RoleRegistry { organisations: vec![org("H", OrgKind::Hospital, &[Role::Regulator])] };
        assert!(hospital_regulator.validated().unwrap_err().to_string().contains("cannot assert the role regulator"));
        assert!(RoleRegistry { organisations: vec![] }.validated().is_err());
        let no_roles = RoleRegistry { organisations: vec![org("H", OrgKind::Hospital, &[])] };
        assert!(no_roles.validated().is_err());
    }
}
