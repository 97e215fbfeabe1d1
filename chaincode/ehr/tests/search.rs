//! Searching for patients with incomplete information, on the mock stub (LevelDB semantics).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use fabric_chaincode_shim::testing::{Invocation, MockStub, TestIdentity, TxOutcome};
use serde_json::{Value, json};

const SALT: &str = "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd";

struct W {
    mock: MockStub,
    router: fabric_chaincode_shim::Router,
    a1: TestIdentity,
    b1: TestIdentity,
    patient: TestIdentity,
    regulator: TestIdentity,
}

fn w() -> W {
    let orgs = common::Orgs::new();
    W {
        mock: common::ledger(),
        router: common::router(),
        a1: orgs.hospital_a("doctor1", &[("role", "doctor")]),
        b1: orgs.hospital_b("doctor1", &[("role", "doctor")]),
        patient: orgs.hospital_a("patient1", &[("role", "patient"), ("patient_id", "P-0001")]),
        regulator: orgs.regulator("regulator1", &[("role", "regulator")]),
    }
}

impl W {
    async fn call(&self, who: &TestIdentity, args: &[&str]) -> TxOutcome {
        common::invoke(&self.mock, &self.router, Invocation::new(args.iter().copied()).caller(who)).await
    }
    async fn register(&self, id: &str, name: &str, birth: &str) {
        let details = json!({"name": name, "birthDate": birth, "sex": "unknown"}).to_string();
        let call = Invocation::new(["RegisterPatient", id])
            .caller(&self.a1)
            .transient("patient", details.into_bytes())
            .transient("salt", SALT.as_bytes().to_vec());
        assert_eq!(common::invoke(&self.mock, &self.router, call).await.response.status, 200);
    }
    async fn diagnose(&self, id: &str, code: &str) -> String {
        let record = json!({"body": {"kind": "diagnosis", "icd10": code}}).to_string();
        let call = Invocation::new(["AddRecord", id])
            .caller(&self.a1)
            .transient("record", record.into_bytes())
            .transient("salt", SALT.as_bytes().to_vec());
        let out = common::invoke(&self.mock, &self.router, call).await;
        let v: Value = serde_json::from_slice(&out.response.payload).unwrap();
        v["id"].as_str().unwrap().to_owned()
    }
    /// A search with its query as transient data, as clients send it.
    async fn search_raw(&self, who: &TestIdentity, function: &str, query: &str, args: &[&str]) -> TxOutcome {
        let mut all = vec![function];
        all.extend(args);
        let call = Invocation::new(all).caller(who).transient("query", query.as_bytes().to_vec());
        common::invoke(&self.mock, &self.router, call).await
    }
    async fn search(&self, who: &TestIdentity, query: Value, page: u32, bookmark: &str) -> (Vec<String>, String) {
        let out = self.search_raw(who, "SearchPatients", &query.to_string(), &[&page.to_string(), bookmark]).await;
        assert_eq!(out.response.status, 200, "{}", out.response.message);
        let v: Value = serde_json::from_slice(&out.response.payload).unwrap();
        let ids =
            v["patients"].as_array().unwrap().iter().map(|p| p["patientId"].as_str().unwrap().to_owned()).collect();
        (ids, v["bookmark"].as_str().unwrap().to_owned())
    }

    /// `who` opens an access window on `id` (a submitted, logged look).
    async fn open(&self, who: &TestIdentity, id: &str) {
        let out = self.call(who, &["OpenAccess", id, "treatment"]).await;
        assert_eq!(out.response.status, 200, "{}", out.response.message);
    }
}

const PATIENTS: [&str; 4] = ["P-0001", "P-0002", "P-0003", "X-0777"];

/// Four patients, two diagnoses; doctor A1 (attending all) has opened access to each.
async fn seeded() -> W {
    let w = w();
    w.register("P-0001", "Zoë Ñúñez-O'Brien", "1984-03-17").await;
    w.register("P-0002", "Zoltan Brienne", "1990-01-01").await;
    w.register("P-0003", "Anna Müller", "1984-12-31").await;
    w.register("X-0777", "Bob Jones", "1971-07-07").await;
    w.diagnose("P-0001", "K35.80").await;
    w.diagnose("P-0003", "K21.9").await;
    for id in PATIENTS {
        w.open(&w.a1, id).await;
    }
    w
}

#[tokio::test]
async fn searches_over_patient_data_find_only_patients_looked_at_on_the_ledger() {
    let w = w();
    w.register("P-0001", "Zoë Ñúñez-O'Brien", "1984-03-17").await;
    w.diagnose("P-0001", "K35.80").await;
    // Attending, but no access window: a search over names or diagnoses finds nothing ...
    for q in [json!({"name": "zoe"}), json!({"birthYear": 1984}), json!({"icd10Prefix": "K35"})] {
        assert!(w.search(&w.a1, q.clone(), 10, "").await.0.is_empty(), "{q} found a patient without a logged look");
    }
    // ... the public id alone still does ...
    assert_eq!(w.search(&w.a1, json!({"id": "0001"}), 10, "").await.0, vec!["P-0001"]);
    // ... and once the look is on the ledger, the data criteria find the patient.
    w.open(&w.a1, "P-0001").await;
    assert_eq!(w.search(&w.a1, json!({"icd10Prefix": "K35"}), 10, "").await.0, vec!["P-0001"]);
    // The query never travels as an argument, and the hits come back sealed.
    let out = w.call(&w.a1, &["SearchPatients", r#"{"name":"zoe"}"#, "10", ""]).await;
    assert_eq!(out.response.status, 400, "{}", out.response.message);
    let key = common::opening_key();
    let call = Invocation::new(["SearchPatients", "10", ""])
        .caller(&w.a1)
        .transient("query", br#"{"name":"zoe"}"#.to_vec())
        .transient("sealTo", key.public_bytes());
    let raw = w.mock.invoke(&w.router, call).await;
    let sealed: ehr_api::seal::Sealed = serde_json::from_slice(&raw.response.payload).unwrap();
    assert!(!raw.payload_text().contains("P-0001"), "a hit in the clear: {}", raw.payload_text());
    let hits: Value = key.open(&raw.tx_id, &sealed).unwrap();
    assert_eq!(hits["patients"][0]["patientId"], "P-0001");
    let bare = w
        .mock
        .invoke(
            &w.router,
            Invocation::new(["SearchPatients", "10", ""])
                .caller(&w.a1)
                .transient("query", br#"{"name":"zoe"}"#.to_vec()),
        )
        .await;
    assert_eq!(bare.response.status, 400, "no sealTo key: {}", bare.response.message);
    assert!(bare.response.message.contains("transient.sealTo"), "{}", bare.response.message);
}

#[tokio::test]
async fn by_name_parts_id_part_birth_year_and_code_prefix() {
    let w = seeded().await;
    async fn w_search(w: &W, q: Value) -> Vec<String> {
        w.search(&w.a1, q, 10, "").await.0
    }
    assert_eq!(w_search(&w, json!({"name": "zo"})).await, vec!["P-0001", "P-0002"], "any word, any prefix");
    assert_eq!(w_search(&w, json!({"name": "NUNEZ"})).await, vec!["P-0001"], "case and accents ignored");
    assert_eq!(
        w_search(&w, json!({"name": "brien zo"})).await,
        vec!["P-0001", "P-0002"],
        "every word must match some name word"
    );
    assert_eq!(w_search(&w, json!({"name": "muller"})).await, vec!["P-0003"]);
    assert_eq!(w_search(&w, json!({"id": "777"})).await, vec!["X-0777"], "part of the id");
    assert_eq!(w_search(&w, json!({"id": "p-000"})).await, vec!["P-0001", "P-0002", "P-0003"]);
    assert_eq!(w_search(&w, json!({"birthYear": 1984})).await, vec!["P-0001", "P-0003"]);
    assert_eq!(w_search(&w, json!({"icd10Prefix": "k3"})).await, vec!["P-0001"]);
    assert_eq!(w_search(&w, json!({"icd10Prefix": "K"})).await, vec!["P-0001", "P-0003"]);
    assert_eq!(w_search(&w, json!({"name": "anna", "birthYear": 1990})).await, Vec::<String>::new());
}

#[tokio::test]
async fn only_what_the_caller_may_see_and_paginated() {
    let w = seeded().await;
    assert!(w.search(&w.b1, json!({"name": "zo"}), 10, "").await.0.is_empty(), "no grounds, no hits");
    assert_eq!(
        w.search(&w.patient, json!({"birthYear": 1984}), 10, "").await.0,
        vec!["P-0001"],
        "a patient finds only themself"
    );
    let out = w.search_raw(&w.regulator, "SearchPatients", r#"{"name":"zo"}"#, &["10", ""]).await;
    assert_eq!(out.response.status, 403);

    let (page1, bm) = w.search(&w.a1, json!({"id": "0"}), 2, "").await;
    assert_eq!(page1, vec!["P-0001", "P-0002"]);
    let (page2, bm2) = w.search(&w.a1, json!({"id": "0"}), 2, &bm).await;
    assert_eq!(page2, vec!["P-0003", "X-0777"]);
    assert_eq!(bm2, "", "an empty bookmark says there is no further page");
}

#[tokio::test]
async fn deleted_diagnoses_and_erased_patients_drop_out() {
    let w = w();
    w.register("P-0001", "Zoe", "1984-03-17").await;
    let dx = w.diagnose("P-0001", "K35.80").await;
    w.open(&w.a1, "P-0001").await;
    assert_eq!(w.search(&w.a1, json!({"icd10Prefix": "K35"}), 10, "").await.0, vec!["P-0001"]);
    let out = w.call(&w.a1, &["DeleteRecord", "P-0001", &dx, "wrong patient"]).await;
    assert_eq!(out.response.status, 200, "{}", out.response.message);
    assert!(w.search(&w.a1, json!({"icd10Prefix": "K35"}), 10, "").await.0.is_empty());
    assert_eq!(w.search(&w.a1, json!({"name": "zoe"}), 10, "").await.0, vec!["P-0001"]);
    assert_eq!(w.call(&w.patient, &["RequestErasure", "P-0001"]).await.response.status, 200);
    assert!(w.search(&w.a1, json!({"name": "zoe"}), 10, "").await.0.is_empty());
    let key = &format!("\u{0}ehr.search\u{0}{}\u{0}", common::pid("P-0001"));
    assert_eq!(w.mock.ledger().private_data("patientData", key), None, "the search document is purged too");
}

#[tokio::test]
async fn bad_queries_name_the_field_and_the_rich_path_needs_couchdb() {
    let w = seeded().await;
    for (query, field) in [
        ("{}", "at least one of"),
        (r#"{"name":".*"}"#, "query.name"),
        (r#"{"birthYear":12}"#, "query.birthYear"),
        (r#"{"icd10Prefix":"K3$"}"#, "query.icd10Prefix"),
        (r#"{"name":{"$gt":null}}"#, "query"),
        (r#"{"nmae":"zo"}"#, "query"),
    ] {
        let out = w.search_raw(&w.a1, "SearchPatients", query, &["10", ""]).await;
        assert_eq!(out.response.status, 400, "{query}: {}", out.response.message);
        assert!(out.response.message.contains(field), "{field} not in {}", out.response.message);
    }
    let out = w.search_raw(&w.a1, "SearchPatientsRich", r#"{"name":"zo"}"#, &["10"]).await;
    assert_eq!(out.response.status, 400);
    assert!(out.response.message.contains("CouchDB"), "{}", out.response.message);
}
