//! Version histories, record search by kind/date/code, and admins suspending identities.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use fabric_chaincode_shim::Timestamp;
mod common;

use common::{ok, person};
use fabric_chaincode_shim::testing::{Invocation, MockStub, TestIdentity, TxOutcome};
use serde_json::{Value, json};

const SALT: &str = "efefefefefefefefefefefefefefefefefefefefefefefefefefefefefefefef";
const DAY: i64 = 86_400;
const T0: i64 = 1_700_000_000;

struct W {
    mock: MockStub,
    router: fabric_chaincode_shim::Router,
    a1: TestIdentity,
    a2: TestIdentity,
    admin_a: TestIdentity,
    admin_b: TestIdentity,
    regulator: TestIdentity,
    patient: TestIdentity,
}

fn w() -> W {
    let orgs = common::Orgs::new();
    W {
        mock: common::ledger(),
        router: common::router(),
        a1: orgs.hospital_a("doctor1", &[("role", "doctor")]),
        a2: orgs.hospital_a("doctor2", &[("role", "doctor")]),
        admin_a: orgs.hospital_a("admin1", &[("role", "admin")]),
        admin_b: orgs.hospital_b("admin1", &[("role", "admin")]),
        regulator: orgs.regulator("regulator1", &[("role", "regulator")]),
        patient: orgs.hospital_a("patient1", &[("role", "patient"), ("patient_id", "P-0001")]),
    }
}

impl W {
    async fn at(&self, who: &TestIdentity, day: i64, args: &[&str], transient: Option<(&str, Value)>) -> TxOutcome {
        let mut call =
            Invocation::new(args.iter().copied()).caller(who).at(Timestamp { seconds: T0 + day * DAY, nanos: 0 });
        if let Some((field, value)) = transient {
            call = call
                .transient(field, value.to_string().into_bytes())
                .transient("salt", SALT.as_bytes().to_vec())
                .transient("dispenseCode", common::DISPENSE_CODE.as_bytes().to_vec());
        }
        common::invoke(&self.mock, &self.router, call).await
    }
    /// `SearchRecords` on P-0001 with its query as transient data, on day 30.
    async fn search(&self, who: &TestIdentity, query: &str, page: u32, bookmark: &str) -> TxOutcome {
        let call = Invocation::new(["SearchRecords", "P-0001", &page.to_string(), bookmark])
            .caller(who)
            .at(Timestamp { seconds: T0 + 30 * DAY, nanos: 0 })
            .transient("query", query.as_bytes().to_vec());
        common::invoke(&self.mock, &self.router, call).await
    }
}

fn details(name: &str) -> Value {
    json!({"name": name, "birthDate": "1984-03-17", "sex": "female"})
}

#[tokio::test]
async fn history_says_who_changed_what_when_and_how_it_looked() {
    let w = w();
    ok(&w.at(&w.a1, 0, &["RegisterPatient", "P-0001"], Some(("patient", details("Jane Doe")))).await);
    let a2 = person(&w.a2).to_string();
    ok(&w.at(&w.a1, 1, &["AddAttendingDoctor", "P-0001", &a2], None).await);
    ok(&w.at(&w.a2, 2, &["UpdatePatient", "P-0001"], Some(("patient", details("Jane Q. Doe")))).await);

    // Without an open window: who and when, no content.
    let h = ok(&w.at(&w.regulator, 3, &["PatientHistory", "P-0001"], None).await);
    let h = h.as_array().unwrap();
    assert_eq!(h.len(), 3, "{h:?}");
    assert_eq!(h[0]["meta"]["updated"]["actor"], person(&w.a2), "newest first");
    assert_eq!(h[0]["at"], T0 + 2 * DAY);
    assert_eq!(h[2]["meta"]["created"]["actor"], person(&w.a1));
    assert!(h.iter().all(|v| v["content"].is_null()), "no content without an open window");

    // With one: what each version looked like.
    ok(&w.at(&w.a1, 3, &["OpenAccess", "P-0001", "treatment"], None).await);
    let h = ok(&w.at(&w.a1, 3, &["PatientHistory", "P-0001"], None).await);
    assert_eq!(h[0]["content"]["name"], "Jane Q. Doe");
    assert_eq!(h[2]["content"]["name"], "Jane Doe");

    // Record history keeps the tombstone.
    let note = json!({"body": {"kind": "clinicalNote", "text": "v1"}});
    let rid =
        ok(&w.at(&w.a1, 4, &["AddRecord", "P-0001"], Some(("record", note))).await)["id"].as_str().unwrap().to_owned();
    ok(&w.at(&w.a1, 5, &["DeleteRecord", "P-0001", &rid, "duplicate"], None).await);
    let rh = ok(&w.at(&w.a1, 5, &["RecordHistory", "P-0001", &rid], None).await);
    assert!(rh[1]["content"].is_null(), "the day-3 window has closed (15 minutes)");
    ok(&w.at(&w.a1, 5, &["OpenAccess", "P-0001", "audit"], None).await);
    let rh = ok(&w.at(&w.a1, 5, &["RecordHistory", "P-0001", &rid], None).await);
    assert_eq!(rh[0]["meta"]["deleted"]["reason"], "duplicate");
    assert_eq!(rh[1]["content"]["text"], "v1");
    let out = w.at(&w.patient, 6, &["RecordHistory", "P-0001", "R-none"], None).await;
    assert_eq!(out.response.status, 404);
    let stranger = w.at(&w.admin_a, 6, &["PatientHistory", "P-0001"], None).await;
    assert_eq!(stranger.response.status, 403);
}

#[tokio::test]
async fn records_by_kind_date_range_and_code_prefix() {
    let w = w();
    ok(&w.at(&w.a1, 0, &["RegisterPatient", "P-0001"], Some(("patient", details("Jane Doe")))).await);
    let dx = |code: &str| json!({"body": {"kind": "diagnosis", "icd10": code}});
    for (day, code) in [(1, "K35.80"), (10, "K21.9"), (20, "J45.909")] {
        ok(&w.at(&w.a1, day, &["AddRecord", "P-0001"], Some(("record", dx(code)))).await);
    }
    ok(&w
        .at(
            &w.a1,
            15,
            &["AddRecord", "P-0001"],
            Some(("record", json!({"body": {"kind": "allergy", "substance": "penicillin"}}))),
        )
        .await);
    let w = &w;
    let find = |q: Value, page: u32, bm: &str| {
        let (q, bm) = (q.to_string(), bm.to_owned());
        async move {
            let out = w.search(&w.a1, &q, page, &bm).await;
            let v = ok(&out);
            let kinds: Vec<String> =
                v["records"].as_array().unwrap().iter().map(|r| r["created"]["at"].to_string()).collect();
            (kinds, v["bookmark"].as_str().unwrap().to_owned())
        }
    };
    let at = |d: i64| (T0 + d * DAY).to_string();
    assert_eq!(find(json!({"kind": "diagnosis"}), 10, "").await.0, vec![at(1), at(10), at(20)]);
    assert_eq!(find(json!({"from": T0 + 5 * DAY, "to": T0 + 16 * DAY}), 10, "").await.0, vec![at(15), at(10)]);
    let unlogged = w.search(&w.a1, r#"{"icd10Prefix":"K"}"#, 10, "").await;
    assert_eq!(unlogged.response.status, 403, "a diagnosis search needs a look on the ledger first");
    assert!(unlogged.response.message.contains("OpenAccess"), "{}", unlogged.response.message);
    ok(&w.at(&w.a1, 30, &["OpenAccess", "P-0001", "diagnostics"], None).await);
    assert_eq!(find(json!({"icd10Prefix": "k"}), 10, "").await.0, vec![at(1), at(10)]);
    assert_eq!(find(json!({"kind": "diagnosis", "icd10Prefix": "J45"}), 10, "").await.0, vec![at(20)]);
    let (page1, bm) = find(json!({"kind": "diagnosis"}), 2, "").await;
    assert_eq!(page1, vec![at(1), at(10)]);
    let (page2, bm2) = find(json!({"kind": "diagnosis"}), 2, &bm).await;
    assert_eq!((page2, bm2), (vec![at(20)], String::new()));

    let regulator = w.search(&w.regulator, r#"{"kind":"diagnosis"}"#, 10, "").await;
    assert_eq!(ok(&regulator)["records"].as_array().unwrap().len(), 3, "regulators see record metadata");
    let regulator = w.search(&w.regulator, r#"{"icd10Prefix":"K"}"#, 10, "").await;
    assert_eq!(regulator.response.status, 403, "but not diagnosis codes");
    let bad = w.search(&w.a1, r#"{"from":5,"to":1}"#, 10, "").await;
    assert!(bad.response.message.contains("query.to"), "{}", bad.response.message);
    let bad = w.search(&w.a1, r#"{"kind":"horoscope"}"#, 10, "").await;
    assert_eq!(bad.response.status, 400);
}

#[tokio::test]
async fn admins_suspend_their_own_identities_only() {
    let w = w();
    ok(&w.at(&w.a1, 0, &["RegisterPatient", "P-0001"], Some(("patient", details("Jane Doe")))).await);
    let a1 = person(&w.a1).to_string();
    let out = w.at(&w.admin_b, 1, &["SetStanding", &a1, "true", "not ours"], None).await;
    assert_eq!(out.response.status, 403, "another organisation's admin");
    let out = w.at(&w.a2, 1, &["SetStanding", &a1, "true", "colleague"], None).await;
    assert_eq!(out.response.status, 403, "doctors are not admins");
    let s = ok(&w.at(&w.admin_a, 1, &["SetStanding", &a1, "true", "licence under review"], None).await);
    assert_eq!(s["stamp"]["actor"], person(&w.admin_a));

    let out = w.at(&w.a1, 2, &["OpenAccess", "P-0001", "treatment"], None).await;
    assert_eq!(out.response.status, 403);
    assert!(out.response.message.contains("suspended") && out.response.message.contains("licence under review"));
    ok(&w.at(&w.admin_a, 3, &["SetStanding", &a1, "false", "review closed"], None).await);
    ok(&w.at(&w.a1, 4, &["OpenAccess", "P-0001", "treatment"], None).await);

    // Admins read no patient data.
    let out = w.at(&w.admin_a, 4, &["OpenAccess", "P-0001", "treatment"], None).await;
    assert_eq!(ok(&out)["granted"], false);
    let me = person(&w.admin_a).to_string();
    let out = w.at(&w.admin_a, 4, &["SetStanding", &me, "true", "oops"], None).await;
    assert_eq!(out.response.status, 400);
}
