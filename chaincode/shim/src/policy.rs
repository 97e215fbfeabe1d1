//! Key-level endorsement policies ("state-based endorsement").
//!
//! A key can carry its own endorsement policy, stored as the key's
//! validation parameter; updates to that key then need endorsements from the
//! listed organisations regardless of the chaincode's policy. This builds the
//! policy Fabric expects: every listed org must endorse, in a given role.
//!
//! ```
//! use fabric_chaincode_shim::policy::{KeyEndorsementPolicy, MspRole};
//! let mut policy = KeyEndorsementPolicy::new();
//! policy.add_orgs(MspRole::Peer, &["HospitalAMSP", "HospitalBMSP"]);
//! let bytes = policy.to_bytes();
//! let back = KeyEndorsementPolicy::from_bytes(&bytes).unwrap();
//! assert_eq!(back.orgs(), vec!["HospitalAMSP", "HospitalBMSP"]);
//! ```

use std::collections::BTreeMap;

use fabric_protos::common::msp_principal::Classification;
use fabric_protos::common::msp_role::MspRoleType;
use fabric_protos::common::signature_policy::{NOutOf, Type as RuleType};
use fabric_protos::common::{MspPrincipal, MspRole as MspRoleProto};
use fabric_protos::common::{SignaturePolicy, SignaturePolicyEnvelope};
use prost::Message;

use crate::error::{Error, Result};

/// The role an org's endorser must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MspRole {
    /// Any member of the org.
    Member,
    /// An admin of the org.
    Admin,
    /// A client identity of the org.
    Client,
    /// A peer of the org (the usual choice for endorsements).
    Peer,
}

impl MspRole {
    fn to_proto(self) -> MspRoleType {
        match self {
            Self::Member => MspRoleType::Member,
            Self::Admin => MspRoleType::Admin,
            Self::Client => MspRoleType::Client,
            Self::Peer => MspRoleType::Peer,
        }
    }

    fn from_proto(v: i32) -> Result<Self> {
        match MspRoleType::try_from(v) {
            Ok(MspRoleType::Member) => Ok(Self::Member),
            Ok(MspRoleType::Admin) => Ok(Self::Admin),
            Ok(MspRoleType::Client) => Ok(Self::Client),
            Ok(MspRoleType::Peer) => Ok(Self::Peer),
            _ => Err(Error::InvalidArgument(format!("unsupported MSP role {v} in endorsement policy"))),
        }
    }
}

/// A policy requiring one endorsement from each listed org.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyEndorsementPolicy {
    orgs: BTreeMap<String, MspRole>,
}

impl KeyEndorsementPolicy {
    /// A policy with no orgs yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads a policy previously written by this type or by Fabric's Go `statebased` package.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let env = SignaturePolicyEnvelope::decode(bytes)
            .map_err(|e| Error::InvalidArgument(format!("not a SignaturePolicyEnvelope: {e}")))?;
        let mut orgs = BTreeMap::new();
        for p in env.identities {
            if p.principal_classification != Classification::Role as i32 {
                return Err(Error::InvalidArgument("policy has a principal that is not an MSP role".into()));
            }
            let role = MspRoleProto::decode(p.principal.as_slice())
                .map_err(|e| Error::InvalidArgument(format!("bad MSP role principal: {e}")))?;
            orgs.insert(role.msp_identifier, MspRole::from_proto(role.role)?);
        }
        Ok(Self { orgs })
    }

    /// Requires endorsements from `msp_ids` in `role` (replacing their previous role).
    pub fn add_orgs(&mut self, role: MspRole, msp_ids: &[&str]) {
        for id in msp_ids {
            self.orgs.insert((*id).to_owned(), role);
        }
    }

    /// Removes orgs from the policy.
    pub fn del_orgs(&mut self, msp_ids: &[&str]) {
        for id in msp_ids {
            self.orgs.remove(*id);
        }
    }

    /// The orgs whose endorsement is required, sorted.
    pub fn orgs(&self) -> Vec<&str> {
        self.orgs.keys().map(String::as_str).collect()
    }

    /// The policy as the bytes [`crate::Stub::set_state_validation_parameter`] takes;
    /// orgs appear sorted, so the same policy always encodes the same way.
    pub fn to_bytes(&self) -> Vec<u8> {
        let identities: Vec<MspPrincipal> = self
            .orgs
            .iter()
            .map(|(msp, role)| MspPrincipal {
                principal_classification: Classification::Role as i32,
                principal: MspRoleProto { msp_identifier: msp.clone(), role: role.to_proto() as i32 }.encode_to_vec(),
            })
            .collect();
        let rules =
            (0..identities.len()).map(|i| SignaturePolicy { r#type: Some(RuleType::SignedBy(i as i32)) }).collect();
        SignaturePolicyEnvelope {
            version: 0,
            rule: Some(SignaturePolicy {
                r#type: Some(RuleType::NOutOf(NOutOf { n: identities.len() as i32, rules })),
            }),
            identities,
        }
        .encode_to_vec()
    }
}
