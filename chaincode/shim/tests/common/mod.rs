//! A chaincode that exercises the whole stub API, and one scenario that both
//! harnesses (mock stub and peer simulator over gRPC) must pass identically.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs, unreachable_pub)]

use std::time::Duration;

use async_trait::async_trait;
use fabric_chaincode_shim::policy::{KeyEndorsementPolicy, MspRole};
use fabric_chaincode_shim::testing::{
    Invocation, MemoryLedger, MockStub, PeerSimulator, TestCa, TestIdentity, TxOutcome,
};
use fabric_chaincode_shim::{Contract, ContractError, Router, Stub};
use serde::Serialize;
use serde_json::{Value, json};

fn text(v: Vec<u8>) -> String {
    String::from_utf8_lossy(&v).into_owned()
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct Page {
    results: Vec<(String, String)>,
    count: i32,
    bookmark: String,
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct Change {
    tx: String,
    value: String,
    delete: bool,
    seconds: i64,
}

async fn put(stub: Stub, (k, v): (String, String)) -> Result<(), ContractError> {
    Ok(stub.put_state(&k, v.into_bytes()).await?)
}
async fn get(stub: Stub, (k,): (String,)) -> Result<Option<String>, ContractError> {
    Ok(stub.get_state(&k).await?.map(text))
}
async fn del(stub: Stub, (k,): (String,)) -> Result<(), ContractError> {
    Ok(stub.del_state(&k).await?)
}
async fn get_many(stub: Stub, (keys,): (Vec<String>,)) -> Result<Vec<Option<String>>, ContractError> {
    let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    Ok(stub.get_multiple_states(&refs).await?.into_iter().map(|v| v.map(text)).collect())
}
async fn range(stub: Stub, (s, e): (String, String)) -> Result<Vec<(String, String)>, ContractError> {
    let it = stub.get_state_by_range(&s, &e).await?;
    Ok(it.collect_all().await?.into_iter().map(|kv| (kv.key, text(kv.value))).collect())
}
async fn range_page(stub: Stub, (s, e, size, bm): (String, String, i32, String)) -> Result<Page, ContractError> {
    let (it, md) = stub.get_state_by_range_with_pagination(&s, &e, size, &bm).await?;
    let results = it.collect_all().await?.into_iter().map(|kv| (kv.key, text(kv.value))).collect();
    Ok(Page { results, count: md.fetched_records_count, bookmark: md.bookmark })
}
async fn composite(stub: Stub, (t, attrs): (String, Vec<String>)) -> Result<String, ContractError> {
    let refs: Vec<&str> = attrs.iter().map(String::as_str).collect();
    let key = stub.create_composite_key(&t, &refs)?;
    stub.put_state(&key, b"c".to_vec()).await?;
    Ok(key)
}
async fn partial(stub: Stub, (t, attrs): (String, Vec<String>)) -> Result<Vec<(String, Vec<String>)>, ContractError> {
    let refs: Vec<&str> = attrs.iter().map(String::as_str).collect();
    let it = stub.get_state_by_partial_composite_key(&t, &refs).await?;
    let mut out = Vec::new();
    for kv in it.collect_all().await? {
        out.push(stub.split_composite_key(&kv.key)?);
    }
    Ok(out)
}
async fn partial_page(stub: Stub, (t, size, bm): (String, i32, String)) -> Result<Page, ContractError> {
    let (it, md) = stub.get_state_by_partial_composite_key_with_pagination(&t, &[], size, &bm).await?;
    let results = it.collect_all().await?.into_iter().map(|kv| (kv.key, text(kv.value))).collect();
    Ok(Page { results, count: md.fetched_records_count, bookmark: md.bookmark })
}
async fn all_composite(stub: Stub, (size, bm): (i32, String)) -> Result<Page, ContractError> {
    let (it, md) = stub.get_all_states_composite_key_with_pagination(size, &bm).await?;
    let results = it.collect_all().await?.into_iter().map(|kv| (kv.key, text(kv.value))).collect();
    Ok(Page { results, count: md.fetched_records_count, bookmark: md.bookmark })
}
async fn history(stub: Stub, (k,): (String,)) -> Result<Vec<Change>, ContractError> {
    let it = stub.get_history_for_key(&k).await?;
    Ok(it
        .collect_all()
        .await?
        .into_iter()
        .map(|m| Change {
            tx: m.tx_id,
            value: text(m.value),
            delete: m.is_delete,
            seconds: m.timestamp.map(|t| t.seconds).unwrap_or(-1),
        })
        .collect())
}
async fn rich(stub: Stub, (q,): (String,)) -> Result<Vec<String>, ContractError> {
    let it = stub.get_query_result(&q).await?;
    Ok(it.collect_all().await?.into_iter().map(|kv| kv.key).collect())
}
fn transient_value(stub: &Stub) -> Result<Vec<u8>, ContractError> {
    stub.transient()
        .get("value")
        .cloned()
        .ok_or_else(|| ContractError::bad_request("transient field \"value\" is required"))
}
async fn put_private(stub: Stub, (c, k): (String, String)) -> Result<(), ContractError> {
    let v = transient_value(&stub)?;
    Ok(stub.put_private_data(&c, &k, v).await?)
}
async fn get_private(stub: Stub, (c, k): (String, String)) -> Result<Option<String>, ContractError> {
    Ok(stub.get_private_data(&c, &k).await?.map(text))
}
async fn private_hash(stub: Stub, (c, k): (String, String)) -> Result<Option<String>, ContractError> {
    Ok(stub.get_private_data_hash(&c, &k).await?.map(hex::encode))
}
async fn get_many_private(stub: Stub, (c, keys): (String, Vec<String>)) -> Result<Vec<Option<String>>, ContractError> {
    let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    Ok(stub.get_multiple_private_data(&c, &refs).await?.into_iter().map(|v| v.map(text)).collect())
}
async fn del_private(stub: Stub, (c, k): (String, String)) -> Result<(), ContractError> {
    Ok(stub.del_private_data(&c, &k).await?)
}
async fn purge_private(stub: Stub, (c, k): (String, String)) -> Result<(), ContractError> {
    Ok(stub.purge_private_data(&c, &k).await?)
}
async fn private_range(
    stub: Stub,
    (c, s, e): (String, String, String),
) -> Result<Vec<(String, String)>, ContractError> {
    let it = stub.get_private_data_by_range(&c, &s, &e).await?;
    Ok(it.collect_all().await?.into_iter().map(|kv| (kv.key, text(kv.value))).collect())
}
async fn private_partial(stub: Stub, (c, t): (String, String)) -> Result<Vec<String>, ContractError> {
    let it = stub.get_private_data_by_partial_composite_key(&c, &t, &[]).await?;
    Ok(it.collect_all().await?.into_iter().map(|kv| text(kv.value)).collect())
}
async fn put_private_composite(stub: Stub, (c, t, a): (String, String, String)) -> Result<(), ContractError> {
    let key = stub.create_composite_key(&t, &[&a])?;
    let v = transient_value(&stub)?;
    Ok(stub.put_private_data(&c, &key, v).await?)
}
async fn set_ep(stub: Stub, (k, orgs): (String, Vec<String>)) -> Result<(), ContractError> {
    let mut p = KeyEndorsementPolicy::new();
    let refs: Vec<&str> = orgs.iter().map(String::as_str).collect();
    p.add_orgs(MspRole::Peer, &refs);
    Ok(stub.set_state_validation_parameter(&k, &p.to_bytes()).await?)
}
async fn get_ep(stub: Stub, (k,): (String,)) -> Result<Option<Vec<String>>, ContractError> {
    match stub.get_state_validation_parameter(&k).await? {
        None => Ok(None),
        Some(b) => Ok(Some(KeyEndorsementPolicy::from_bytes(&b)?.orgs().into_iter().map(str::to_owned).collect())),
    }
}
async fn set_private_ep(stub: Stub, (c, k, orgs): (String, String, Vec<String>)) -> Result<(), ContractError> {
    let mut p = KeyEndorsementPolicy::new();
    let refs: Vec<&str> = orgs.iter().map(String::as_str).collect();
    p.add_orgs(MspRole::Member, &refs);
    Ok(stub.set_private_data_validation_parameter(&c, &k, &p.to_bytes()).await?)
}
async fn get_private_ep(stub: Stub, (c, k): (String, String)) -> Result<Option<Vec<String>>, ContractError> {
    match stub.get_private_data_validation_parameter(&c, &k).await? {
        None => Ok(None),
        Some(b) => Ok(Some(KeyEndorsementPolicy::from_bytes(&b)?.orgs().into_iter().map(str::to_owned).collect())),
    }
}
async fn event(stub: Stub, (name, payload): (String, String)) -> Result<(), ContractError> {
    stub.set_event("ignored-first", b"x".to_vec())?;
    Ok(stub.set_event(&name, payload.into_bytes())?)
}
async fn whoami(stub: Stub, _: ()) -> Result<Value, ContractError> {
    let id = stub.client_identity()?;
    Ok(json!({
        "id": id.id(),
        "msp": id.msp_id(),
        "role": id.attribute("role"),
        "client_ou": id.has_ou("client"),
        "is_doctor": id.assert_attribute("role", "doctor").is_ok(),
    }))
}
async fn tx_info(stub: Stub, _: ()) -> Result<Value, ContractError> {
    let ts = stub.tx_timestamp()?;
    Ok(json!({
        "tx": stub.tx_id(),
        "channel": stub.channel_id(),
        "seconds": ts.seconds,
        "binding": hex::encode(stub.binding()),
        "has_proposal": stub.signed_proposal().is_some(),
        "args": stub.args().len(),
    }))
}
async fn transient(stub: Stub, (k,): (String,)) -> Result<Option<String>, ContractError> {
    Ok(stub.transient().get(&k).cloned().map(text))
}
async fn boom(_: Stub, _: ()) -> Result<(), ContractError> {
    panic!("deliberate panic in chaincode code")
}
async fn fail_after_write(stub: Stub, (k,): (String,)) -> Result<(), ContractError> {
    stub.put_state(&k, b"should-not-commit".to_vec()).await?;
    Err(ContractError::conflict(format!("refusing {k} after writing it")))
}
async fn sneaky_write(stub: Stub, (k,): (String,)) -> Result<(), ContractError> {
    Ok(stub.put_state(&k, b"x".to_vec()).await?)
}
async fn slow(stub: Stub, (ms,): (u64,)) -> Result<String, ContractError> {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    stub.put_state("slow", b"done".to_vec()).await?;
    Ok("done".into())
}
async fn call_other(stub: Stub, (name, arg): (String, String)) -> Result<Value, ContractError> {
    let r = stub.invoke_chaincode(&name, vec![b"Get".to_vec(), arg.into_bytes()], None).await?;
    Ok(json!({"status": r.status, "message": r.message, "payload": text(r.payload)}))
}

/// The chaincode under test.
pub fn api_router() -> Router {
    Router::builder("api", "1.0")
        .contract(
            Contract::new("Api")
                .submit("Put", &["key", "value"], put)
                .evaluate("Get", &["key"], get)
                .submit("Del", &["key"], del)
                .evaluate("GetMany", &["keys"], get_many)
                .evaluate("Range", &["start", "end"], range)
                .evaluate("RangePage", &["start", "end", "pageSize", "bookmark"], range_page)
                .submit("Composite", &["objectType", "attributes"], composite)
                .evaluate("Partial", &["objectType", "attributes"], partial)
                .evaluate("PartialPage", &["objectType", "pageSize", "bookmark"], partial_page)
                .evaluate("AllComposite", &["pageSize", "bookmark"], all_composite)
                .evaluate("History", &["key"], history)
                .evaluate("Rich", &["query"], rich)
                .submit("PutPrivate", &["collection", "key"], put_private)
                .evaluate("GetPrivate", &["collection", "key"], get_private)
                .evaluate("GetManyPrivate", &["collection", "keys"], get_many_private)
                .evaluate("PrivateHash", &["collection", "key"], private_hash)
                .submit("DelPrivate", &["collection", "key"], del_private)
                .submit("PurgePrivate", &["collection", "key"], purge_private)
                .evaluate("PrivateRange", &["collection", "start", "end"], private_range)
                .evaluate("PrivatePartial", &["collection", "objectType"], private_partial)
                .submit("PutPrivateComposite", &["collection", "objectType", "attr"], put_private_composite)
                .submit("SetEp", &["key", "orgs"], set_ep)
                .evaluate("GetEp", &["key"], get_ep)
                .submit("SetPrivateEp", &["collection", "key", "orgs"], set_private_ep)
                .evaluate("GetPrivateEp", &["collection", "key"], get_private_ep)
                .submit("Event", &["name", "payload"], event)
                .evaluate("Whoami", &[], whoami)
                .evaluate("TxInfo", &[], tx_info)
                .evaluate("Transient", &["key"], transient)
                .submit("Boom", &[], boom)
                .submit("FailAfterWrite", &["key"], fail_after_write)
                .evaluate("SneakyWrite", &["key"], sneaky_write)
                .submit("Slow", &["millis"], slow)
                .submit("CallOther", &["chaincode", "key"], call_other),
        )
        .build()
        .expect("api router is well formed")
}

/// Runs one transaction somewhere.
#[async_trait]
pub trait Harness: Sync {
    async fn run(&self, call: Invocation) -> TxOutcome;
    fn ledger(&self) -> &MemoryLedger;
    /// Whether this harness goes over the wire (writes batched etc.).
    fn name(&self) -> &'static str;
}

pub struct Mock {
    pub mock: MockStub,
    pub router: Router,
}

#[async_trait]
impl Harness for Mock {
    async fn run(&self, call: Invocation) -> TxOutcome {
        self.mock.invoke(&self.router, call).await
    }
    fn ledger(&self) -> &MemoryLedger {
        self.mock.ledger()
    }
    fn name(&self) -> &'static str {
        "mock"
    }
}

#[async_trait]
impl Harness for PeerSimulator {
    async fn run(&self, call: Invocation) -> TxOutcome {
        self.invoke(call).await.expect("transaction completes over the wire")
    }
    fn ledger(&self) -> &MemoryLedger {
        PeerSimulator::ledger(self)
    }
    fn name(&self) -> &'static str {
        "simulator"
    }
}

pub struct People {
    pub doctor: TestIdentity,
    pub other: TestIdentity,
}

pub fn people() -> People {
    let ca = TestCa::new("HospitalA").expect("ca");
    let doctor = ca
        .identity("HospitalAMSP", "dr-alice", &[("role", "doctor"), ("hf.EnrollmentID", "dr-alice")], &["client"])
        .expect("doctor");
    let ca_b = TestCa::new("HospitalB").expect("ca b");
    let other = ca_b.identity("HospitalBMSP", "nurse, bob", &[], &["nursing"]).expect("other");
    People { doctor, other }
}

fn json_of(out: &TxOutcome) -> Value {
    assert_eq!(out.response.status, 200, "{}: {}", out.response.status, out.response.message);
    serde_json::from_slice(&out.response.payload)
        .unwrap_or_else(|e| panic!("payload {:?} is not JSON: {e}", out.payload_text()))
}

/// Calls a function with JSON-encoded arguments; strings are passed raw.
pub async fn call(h: &dyn Harness, who: &TestIdentity, args: &[&str]) -> TxOutcome {
    h.run(Invocation::new(args.iter().copied()).caller(who)).await
}

/// The scenario every harness must pass.
pub async fn scenario(h: &dyn Harness) {
    let p = people();
    let d = &p.doctor;

    // Put / Get / Del and commit only on success.
    let out = call(h, d, &["Put", "a", "1"]).await;
    assert_eq!(out.response.status, 200, "{}", out.response.message);
    assert!(out.committed);
    assert_eq!(h.ledger().state("a"), Some(b"1".to_vec()));
    assert_eq!(json_of(&call(h, d, &["Get", "a"]).await), json!("1"));
    assert_eq!(json_of(&call(h, d, &["Get", "missing"]).await), Value::Null);
    let out = call(h, d, &["FailAfterWrite", "a"]).await;
    assert_eq!(out.response.status, 409);
    assert!(!out.committed);
    assert_eq!(h.ledger().state("a"), Some(b"1".to_vec()), "a failed transaction's write must not commit");

    for (k, v) in [("b", "2"), ("c", "3"), ("d", "4"), ("e", "5"), ("f", "6")] {
        assert_eq!(call(h, d, &["Put", k, v]).await.response.status, 200);
    }
    assert_eq!(json_of(&call(h, d, &["GetMany", r#"["a","zz","c"]"#]).await), json!(["1", null, "3"]));
    // Ranges: empty start means "from the first key"; results pass through paging batches.
    assert_eq!(json_of(&call(h, d, &["Range", "", "d"]).await), json!([["a", "1"], ["b", "2"], ["c", "3"]]));
    assert_eq!(json_of(&call(h, d, &["Range", "b", ""]).await).as_array().map(Vec::len), Some(5));
    let page1 = json_of(&call(h, d, &["RangePage", "a", "z", "2", ""]).await);
    assert_eq!(page1["results"], json!([["a", "1"], ["b", "2"]]));
    assert_eq!(page1["count"], 2);
    let bm = page1["bookmark"].as_str().unwrap().to_owned();
    assert!(!bm.is_empty());
    let page2 = json_of(&call(h, d, &["RangePage", "a", "z", "2", &bm]).await);
    assert_eq!(page2["results"], json!([["c", "3"], ["d", "4"]]));

    // Composite keys.
    let key = json_of(&call(h, d, &["Composite", "visit", r#"["P-1","2024-01-02"]"#]).await);
    assert_eq!(key, json!("\u{0}visit\u{0}P-1\u{0}2024-01-02\u{0}"));
    call(h, d, &["Composite", "visit", r#"["P-1","2024-03-04"]"#]).await;
    call(h, d, &["Composite", "visit", r#"["P-2","2024-01-01"]"#]).await;
    call(h, d, &["Composite", "zone", r#"["x"]"#]).await;
    assert_eq!(
        json_of(&call(h, d, &["Partial", "visit", r#"["P-1"]"#]).await),
        json!([["visit", ["P-1", "2024-01-02"]], ["visit", ["P-1", "2024-03-04"]]])
    );
    let pp = json_of(&call(h, d, &["PartialPage", "visit", "2", ""]).await);
    assert_eq!(pp["count"], 2);
    assert_eq!(json_of(&call(h, d, &["AllComposite", "10", ""]).await)["count"], 4);
    assert_eq!(call(h, d, &["Composite", "bad\u{0}type", "[]"]).await.response.status, 400);
    // An open-ended simple-key range never reaches the composite keys, as on a peer.
    let all = json_of(&call(h, d, &["Range", "", ""]).await);
    assert!(all.as_array().unwrap().iter().all(|kv| !kv[0].as_str().unwrap().starts_with('\u{0}')), "{all}");
    // Simple-key ranges may not reach into the composite namespace.
    assert_eq!(call(h, d, &["Range", "\u{0}a", "b"]).await.response.status, 400);

    // History: newest first, with deletes and timestamps.
    call(h, d, &["Put", "h", "v1"]).await;
    call(h, d, &["Put", "h", "v2"]).await;
    let del = call(h, d, &["Del", "h"]).await;
    let hist = json_of(&call(h, d, &["History", "h"]).await);
    let hist = hist.as_array().unwrap();
    assert_eq!(hist.len(), 3);
    assert_eq!(hist[0]["delete"], true);
    assert_eq!(hist[0]["tx"], json!(del.tx_id));
    assert_eq!(hist[1]["value"], "v2");
    assert_eq!(hist[2]["value"], "v1");
    assert!(hist[2]["seconds"].as_i64().unwrap() > 1_600_000_000);

    // Rich queries need CouchDB; both harnesses behave like a LevelDB peer.
    let out = call(h, d, &["Rich", r#"{"selector":{}}"#]).await;
    assert!(out.response.status >= 400 && out.response.message.contains("leveldb"), "{}", out.response.message);

    // Private data, through transient data only.
    let out = h
        .run(Invocation::new(["PutPrivate", "patients", "p1"]).caller(d).transient("value", b"Jane Doe".to_vec()))
        .await;
    assert_eq!(out.response.status, 200, "{}", out.response.message);
    assert_eq!(h.ledger().private_data("patients", "p1"), Some(b"Jane Doe".to_vec()));
    assert_eq!(h.ledger().state("p1"), None, "private data must not reach public state");
    assert_eq!(call(h, d, &["PutPrivate", "patients", "p2"]).await.response.status, 400);
    assert_eq!(json_of(&call(h, d, &["GetPrivate", "patients", "p1"]).await), json!("Jane Doe"));
    assert_eq!(
        json_of(&call(h, d, &["GetManyPrivate", "patients", r#"["p1","p9"]"#]).await),
        json!(["Jane Doe", null])
    );
    {
        use sha2::Digest;
        let expected = hex::encode(sha2::Sha256::digest(b"Jane Doe"));
        assert_eq!(json_of(&call(h, d, &["PrivateHash", "patients", "p1"]).await), json!(expected));
    }
    h.run(Invocation::new(["PutPrivate", "patients", "p3"]).caller(d).transient("value", b"John Roe".to_vec())).await;
    assert_eq!(
        json_of(&call(h, d, &["PrivateRange", "patients", "", ""]).await),
        json!([["p1", "Jane Doe"], ["p3", "John Roe"]])
    );
    h.run(
        Invocation::new(["PutPrivateComposite", "patients", "name", "jane"])
            .caller(d)
            .transient("value", b"p1".to_vec()),
    )
    .await;
    assert_eq!(json_of(&call(h, d, &["PrivatePartial", "patients", "name"]).await), json!(["p1"]));
    call(h, d, &["DelPrivate", "patients", "p3"]).await;
    assert_eq!(h.ledger().private_data("patients", "p3"), None);
    let out = call(h, d, &["PurgePrivate", "patients", "p1"]).await;
    assert_eq!(out.response.status, 200, "{}", out.response.message);
    assert_eq!(json_of(&call(h, d, &["GetPrivate", "patients", "p1"]).await), Value::Null);
    assert_eq!(json_of(&call(h, d, &["PrivateHash", "patients", "p1"]).await), Value::Null);

    // Key-level endorsement.
    call(h, d, &["Put", "ep", "x"]).await;
    assert_eq!(call(h, d, &["SetEp", "ep", r#"["OrgB","OrgA"]"#]).await.response.status, 200);
    assert_eq!(json_of(&call(h, d, &["GetEp", "ep"]).await), json!(["OrgA", "OrgB"]));
    assert_eq!(json_of(&call(h, d, &["GetEp", "a"]).await), Value::Null);
    call(h, d, &["SetPrivateEp", "patients", "p3", r#"["OrgC"]"#]).await;
    assert_eq!(json_of(&call(h, d, &["GetPrivateEp", "patients", "p3"]).await), json!(["OrgC"]));

    // Events: one per transaction; the last one set wins.
    let out = call(h, d, &["Event", "PatientViewed", "{\"patient\":\"P-1\"}"]).await;
    let ev = out.event.expect("event");
    assert_eq!(ev.name, "PatientViewed");
    assert_eq!(ev.payload, b"{\"patient\":\"P-1\"}");
    assert_eq!(call(h, d, &["Event", "", "x"]).await.response.status, 400);

    // Identity from the certificate, as Fabric's cid computes it.
    let me = json_of(&call(h, d, &["Whoami"]).await);
    assert_eq!(me["msp"], "HospitalAMSP");
    assert_eq!(me["role"], "doctor");
    assert_eq!(me["client_ou"], true);
    assert_eq!(me["is_doctor"], true);
    use base64::Engine as _;
    let id = base64::engine::general_purpose::STANDARD.decode(me["id"].as_str().unwrap()).unwrap();
    assert_eq!(
        String::from_utf8(id).unwrap(),
        "x509::CN=dr-alice,OU=client,O=HospitalA,ST=North Carolina,C=US::CN=ca.HospitalA,O=HospitalA,ST=North Carolina,C=US"
    );
    let them = json_of(&call(h, &p.other, &["Whoami"]).await);
    assert_eq!(them["role"], Value::Null);
    assert_eq!(them["is_doctor"], false);
    let id = base64::engine::general_purpose::STANDARD.decode(them["id"].as_str().unwrap()).unwrap();
    let id = String::from_utf8(id).unwrap();
    assert!(id.starts_with("x509::CN=nurse\\, bob,OU=nursing,O=HospitalB"), "{id}");

    // Transaction data.
    let info = json_of(&call(h, d, &["TxInfo"]).await);
    assert_eq!(info["args"], 1);
    assert_eq!(info["binding"].as_str().map(str::len), Some(if h.name() == "mock" { 0 } else { 64 }));
    let out = h.run(Invocation::new(["Transient", "k"]).caller(d).transient("k", b"secret".to_vec())).await;
    assert_eq!(json_of(&out), json!("secret"));

    // Panics fail one transaction and nothing else.
    let out = call(h, d, &["Boom"]).await;
    assert!(out.response.status >= 500);
    assert!(!out.committed);
    assert_eq!(json_of(&call(h, d, &["Get", "a"]).await), json!("1"));

    // Read-only functions cannot write.
    let out = call(h, d, &["SneakyWrite", "ro"]).await;
    assert_eq!(out.response.status, 400, "{}", out.response.message);
    assert!(out.response.message.contains("read-only"));
    assert_eq!(h.ledger().state("ro"), None);

    // Bad input is the caller's mistake: 400 with a message naming it.
    let out = call(h, d, &["Nope"]).await;
    assert_eq!(out.response.status, 400);
    assert!(out.response.message.contains("unknown function \"Nope\""), "{}", out.response.message);
    let out = call(h, d, &["Get"]).await;
    assert_eq!(out.response.status, 400);
    assert!(out.response.message.contains("expected 1 argument(s) (key), got 0"), "{}", out.response.message);
    let out = call(h, d, &["GetMany", "not json"]).await;
    assert_eq!(out.response.status, 400);
    assert!(out.response.message.contains("\"keys\""), "{}", out.response.message);
    let out = h
        .run(Invocation { args: vec![b"Get".to_vec(), vec![0xff, 0xfe]], creator: d.creator(), ..Default::default() })
        .await;
    assert_eq!(out.response.status, 400);
    assert!(out.response.message.contains("not valid UTF-8"));
    let out = call(h, d, &["Other:Get", "a"]).await;
    assert_eq!(out.response.status, 400);
    assert_eq!(json_of(&call(h, d, &["Api:Get", "a"]).await), json!("1"));
    let md = json_of(&call(h, d, &["org.hyperledger.fabric:GetMetadata"]).await);
    assert!(md["contracts"]["Api"]["transactions"].as_array().unwrap().iter().any(|t| t["name"] == "RangePage"));
}
