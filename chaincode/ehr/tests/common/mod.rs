//! Set-up shared by the EHR contract's tests: the three organisations' CAs,
//! identities with fabric-ca style attributes, and small helpers.
#![allow(dead_code, missing_docs, unreachable_pub, clippy::unwrap_used)]

use fabric_shim::testing::{TestCa, TestIdentity, TxOutcome};
use serde_json::{Value, json};

/// One CA per organisation, keys made now.
pub struct Orgs {
    a: TestCa,
    b: TestCa,
    r: TestCa,
}

impl Orgs {
    pub fn new() -> Self {
        Self {
            a: TestCa::new("HospitalA").unwrap(),
            b: TestCa::new("HospitalB").unwrap(),
            r: TestCa::new("Regulator").unwrap(),
        }
    }

    /// A client of HospitalA with these fabric-ca attributes (e.g. `[("role", "doctor")]`).
    pub fn hospital_a(&self, name: &str, attrs: &[(&str, &str)]) -> TestIdentity {
        self.a.identity("HospitalAMSP", name, attrs, &["client"]).unwrap()
    }

    /// A client of HospitalB.
    pub fn hospital_b(&self, name: &str, attrs: &[(&str, &str)]) -> TestIdentity {
        self.b.identity("HospitalBMSP", name, attrs, &["client"]).unwrap()
    }

    /// A client of the Regulator.
    pub fn regulator(&self, name: &str, attrs: &[(&str, &str)]) -> TestIdentity {
        self.r.identity("RegulatorMSP", name, attrs, &["client"]).unwrap()
    }
}

/// `{"id","msp"}` of an identity, as the contract names people.
pub fn person(who: &TestIdentity) -> Value {
    let id = fabric_shim::ClientIdentity::from_creator(&who.creator()).unwrap();
    json!({"id": id.id(), "msp": id.msp_id()})
}

/// The JSON result of a transaction that must have succeeded.
pub fn ok(out: &TxOutcome) -> Value {
    assert_eq!(out.response.status, 200, "{}", out.response.message);
    serde_json::from_slice(&out.response.payload).unwrap()
}
