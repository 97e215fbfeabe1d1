//! The contract's functions, once: name, how each is called, its parameters
//! and its answer. The chaincode's router registers its handlers through this
//! table and `ehr-client` calls through it, so a renamed function, a changed
//! parameter type or a different answer is a compile error on both sides,
//! not a failure at run time.
//!
//! ```
//! use ehr_api::functions::{Function, Kind, OpenAccess};
//!
//! assert_eq!(OpenAccess::NAME, "OpenAccess");
//! assert_eq!(OpenAccess::KIND, Kind::SubmitTransient);
//! assert_eq!(OpenAccess::PARAMS, ["patientId", "purpose"]);
//! ```

use std::marker::PhantomData;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::events::NotificationKeySeed;
use crate::model::{
    AccessEntry, Consent, Grantee, KindFilter, PatientId, PatientRecord, Person, PrescriptionStatus, RecordMeta, Scope,
    Standing,
};
use crate::seal::Sealed;
use crate::views::{
    AccessLogPage, AccessQuery, AuditLine, PatientHits, PatientView, PrescriptionCheck, RecordPage, RecordView,
    Verification,
};

/// How a function is called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Evaluated on one peer, never ordered; parameters are arguments.
    Evaluate,
    /// Submitted; parameters are arguments (they say nothing about patients).
    Submit,
    /// Submitted; parameters travel as transient data under their names,
    /// never as arguments, so that no block names the patient.
    SubmitTransient,
}

/// One function of the contract.
pub trait Function {
    /// Its name, as the first argument of a proposal.
    const NAME: &'static str;
    /// How it is called.
    const KIND: Kind;
    /// Its parameters' names, in order: argument positions, or transient field names.
    const PARAMS: &'static [&'static str];
    /// Its parameters, as a tuple.
    type Params: ParamValues;
    /// What it answers, as sent: a plain value, or [`SealedOf`] for an answer
    /// sealed to the caller's one-time key.
    type Answer: Serialize + DeserializeOwned;
}

/// An answer sealed to the caller's one-time key, holding a `T` once opened.
/// It travels exactly as [`Sealed`]; the type parameter only ties the
/// contract's handler and the client's caller to the same plaintext type.
pub struct SealedOf<T> {
    /// The sealed answer.
    pub sealed: Sealed,
    plain: PhantomData<fn() -> T>,
}

impl<T> SealedOf<T> {
    /// Wraps a sealed answer whose plaintext is a `T`.
    pub fn new(sealed: Sealed) -> Self {
        Self { sealed, plain: PhantomData }
    }
}

impl<T> std::fmt::Debug for SealedOf<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.sealed.fmt(f)
    }
}

impl<T> Serialize for SealedOf<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.sealed.serialize(serializer)
    }
}

impl<'de, T> Deserialize<'de> for SealedOf<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Sealed::deserialize(deserializer).map(Self::new)
    }
}

impl<T> JsonSchema for SealedOf<T> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        Sealed::schema_name()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        Sealed::json_schema(generator)
    }
}

/// A parameter tuple as the text a proposal carries: each value as JSON.
pub trait ParamValues {
    /// One JSON text per parameter, in order.
    fn values(&self) -> Result<Vec<String>, serde_json::Error>;
}

macro_rules! param_values {
    ($($t:ident $i:tt),*) => {
        impl<$($t: Serialize),*> ParamValues for ($($t,)*) {
            fn values(&self) -> Result<Vec<String>, serde_json::Error> {
                Ok(vec![$(serde_json::to_string(&self.$i)?),*])
            }
        }
    };
}

param_values!();
param_values!(A 0);
param_values!(A 0, B 1);
param_values!(A 0, B 1, C 2);
param_values!(A 0, B 1, C 2, D 3);

macro_rules! functions {
    ($(
        $(#[$doc:meta])*
        $name:ident: $kind:ident($($param:literal: $ty:ty),*) -> $answer:ty;
    )*) => {
        $(
            $(#[$doc])*
            #[derive(Debug, Clone, Copy)]
            pub struct $name;

            impl Function for $name {
                const NAME: &'static str = stringify!($name);
                const KIND: Kind = Kind::$kind;
                const PARAMS: &'static [&'static str] = &[$($param),*];
                type Params = ($($ty,)*);
                type Answer = $answer;
            }
        )*

        /// Every function: name, kind, parameter names (for tools and tests).
        pub const ALL: &[(&str, Kind, &[&str])] = &[$((stringify!($name), Kind::$kind, &[$($param),*])),*];
    };
}

functions! {
    /// Writes the roles registry (an organisation admin; every member's peer endorses a change).
    SetRoleRegistry: Submit("registry": crate::registry::RoleRegistry) -> crate::registry::RoleRegistry;
    /// The roles registry in force.
    RoleRegistry: Evaluate() -> crate::registry::RoleRegistry;
    /// Sets the channel secret, once (transient `channelSecret`).
    SetChannelSecret: Submit() -> bool;
    /// The caller's notification key seed (patients, regulators).
    NotificationKey: Evaluate() -> SealedOf<NotificationKeySeed>;
    /// A doctor registers a patient (transient `patient`, `salt`, `fileKey`).
    RegisterPatient: SubmitTransient("patientId": PatientId) -> SealedOf<PatientRecord>;
    /// An attending doctor writes a new version of the patient's details.
    UpdatePatient: SubmitTransient("patientId": PatientId) -> SealedOf<PatientRecord>;
    /// An attending doctor adds a doctor (of another hospital: with consent).
    AddAttendingDoctor: SubmitTransient("patientId": PatientId, "doctor": Person) -> SealedOf<PatientRecord>;
    /// The patient or a home admin removes an attending doctor.
    RemoveAttendingDoctor: SubmitTransient("patientId": PatientId, "doctor": Person) -> SealedOf<PatientRecord>;
    /// Records who looks and why, and opens a read window.
    OpenAccess: SubmitTransient("patientId": PatientId, "purpose": String) -> SealedOf<AccessEntry>;
    /// The patient's current data (needs an open window).
    ReadPatient: Evaluate("patientId": PatientId) -> SealedOf<PatientView>;
    /// Whether the private copy of a version matches its kept hash.
    VerifyPatient: Evaluate("patientId": PatientId, "version": u32) -> SealedOf<Verification>;
    /// The patient grants a doctor or an organisation access.
    GrantConsent: SubmitTransient("patientId": PatientId, "grantee": Grantee, "scope": Scope, "expiresAt": Option<i64>)
        -> SealedOf<Consent>;
    /// The patient revokes a consent.
    RevokeConsent: SubmitTransient("patientId": PatientId, "grantee": Grantee) -> SealedOf<Consent>;
    /// The patient's consents.
    ListConsents: Evaluate("patientId": PatientId) -> SealedOf<Vec<Consent>>;
    /// Who tried to look at the patient's data: one filtered page.
    AccessLog: Evaluate("patientId": PatientId, "query": AccessQuery, "pageSize": u32, "bookmark": String)
        -> SealedOf<AccessLogPage>;
    /// Adds a record (transient `record`, `salt`, `dispenseCode` for prescriptions).
    AddRecord: SubmitTransient("patientId": PatientId) -> SealedOf<RecordMeta>;
    /// Writes a new version of a record.
    UpdateRecord: SubmitTransient("patientId": PatientId, "recordId": String) -> SealedOf<RecordMeta>;
    /// Deletes a record, leaving a tombstone with the reason.
    DeleteRecord: SubmitTransient("patientId": PatientId, "recordId": String, "reason": String) -> SealedOf<RecordMeta>;
    /// A record's content (needs an open window).
    ReadRecord: Evaluate("patientId": PatientId, "recordId": String) -> SealedOf<RecordView>;
    /// Up to [`MAX_RECORDS_PER_READ`](crate::model::MAX_RECORDS_PER_READ) records' contents in one
    /// call, in the order asked (needs an open window): a whole chart in a few calls, not one per record.
    ReadRecords: Evaluate("patientId": PatientId, "recordIds": Vec<String>) -> SealedOf<Vec<RecordView>>;
    /// The key the patient's files are encrypted with.
    FileKey: Evaluate("patientId": PatientId) -> SealedOf<crate::model::FileKey>;
    /// Whether the private copy of a record version matches its kept hash.
    VerifyRecord: Evaluate("patientId": PatientId, "recordId": String, "version": u32) -> SealedOf<Verification>;
    /// A page of a patient's record metadata, by kind (`all` for every kind).
    ListRecords: Evaluate("patientId": PatientId, "kind": KindFilter, "pageSize": u32, "bookmark": String)
        -> SealedOf<RecordPage>;
    /// A pharmacist checks a prescription against the hash of their copy.
    VerifyPrescription: Evaluate("recordId": String, "hash": String) -> SealedOf<PrescriptionCheck>;
    /// A pharmacist dispenses a prescription once (transient `dispenseCode`).
    DispensePrescription: SubmitTransient("recordId": String, "hash": String) -> SealedOf<PrescriptionStatus>;
    /// The patient has their private data purged.
    RequestErasure: SubmitTransient("patientId": PatientId) -> SealedOf<PatientRecord>;
    /// Who did what, when: for regulators and the patient.
    AuditTrail: Evaluate("patientId": PatientId) -> SealedOf<Vec<AuditLine>>;
    /// Finds patients (transient `query`).
    SearchPatients: Evaluate("pageSize": u32, "bookmark": String) -> SealedOf<PatientHits>;
    /// The same search as a CouchDB Mango query.
    SearchPatientsRich: Evaluate("limit": u32) -> SealedOf<PatientHits>;
    /// Finds a patient's records (transient `query`).
    SearchRecords: Evaluate("patientId": PatientId, "pageSize": u32, "bookmark": String) -> SealedOf<RecordPage>;
    /// Every version of a patient's record.
    PatientHistory: Evaluate("patientId": PatientId) -> SealedOf<crate::views::PatientHistory>;
    /// Every version of a record.
    RecordHistory: Evaluate("patientId": PatientId, "recordId": String) -> SealedOf<crate::views::RecordHistory>;
    /// An admin suspends or reinstates one of their organisation's identities.
    SetStanding: Submit("person": Person, "suspended": bool, "reason": String) -> Standing;
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn names_are_unique_and_transient_functions_are_the_writes_about_patients() {
        let mut names: Vec<&str> = ALL.iter().map(|(n, _, _)| *n).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL.len(), "a function is declared twice");
        let transient: Vec<&str> =
            ALL.iter().filter(|(_, k, _)| *k == Kind::SubmitTransient).map(|(n, _, _)| *n).collect();
        assert_eq!(transient.len(), 12, "{transient:?}");
    }

    #[test]
    fn parameters_travel_as_json() {
        let id = PatientId::parse("P-0001").unwrap();
        let values = (id, 7u32, None::<i64>).values().unwrap();
        assert_eq!(values, ["\"P-0001\"", "7", "null"]);
    }
}
