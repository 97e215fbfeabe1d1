//! The shim conformance chaincode, written against our Rust shim.
//!
//! It implements exactly the function set of the reference chaincodes in
//! `tests/conformance/` (Node on fabric-shim 2.5.8, Go on fabric-chaincode-go
//! v2): same names, same arguments, same error texts, byte-identical success
//! payloads. `tests/conformance/README.md` is the specification; read it with
//! `tests/conformance/node/chaincode.js` next to it.
//!
//! Notes on mirroring the references:
//! - Every argument is decoded as lossy UTF-8, the way Node's `Buffer` does it
//!   (each maximal invalid subsequence becomes one U+FFFD; Rust's
//!   `String::from_utf8_lossy` follows the same rule). `put`'s value and
//!   `event`'s payload keep their raw bytes.
//! - Payloads are compact JSON built from `#[derive(Serialize)]` structs, whose
//!   field order is the declaration order. `serde_json` escapes strings
//!   exactly as `JSON.stringify` does for valid UTF-8 text: `"`, `\`, and C0
//!   controls only (`\b \t \n \f \r`, others as `\u00xx` in lower-case hex);
//!   `<`, `>`, `&`, U+2028 and U+2029 stay literal.
//! - A failed shim call is answered with that error's message. For a peer
//!   `ERROR`, that is the peer's text as is (as in Go and Node), not our
//!   shim's wrapped `Display` form.

use async_trait::async_trait;
use fabric_chaincode_shim::{Chaincode, Error as ShimError, KeyValue, Response, StateIterator, Stub, status};
use fabric_protos::msp::SerializedIdentity;
use prost::Message as _;
use serde::Serialize;

/// The package id the conformance servers register with, unless told otherwise.
pub const DEFAULT_CCID: &str = "conf:0000";

/// What the `bench` function writes (1 KiB of `x`).
const BENCH_WRITE: [u8; 1024] = [b'x'; 1024];
/// What the `bench` function returns (1 KiB of `y`).
const BENCH_RESULT: [u8; 1024] = [b'y'; 1024];

/// The Rust twin of the reference conformance chaincodes.
#[derive(Debug, Clone, Copy, Default)]
pub struct ConformanceChaincode;

/// Why a function failed; the message is what the reference chaincodes return.
enum Failure {
    /// Detected by the chaincode itself; text shared with Node and Go.
    Usage(String),
    /// A shim call failed.
    Shim(ShimError),
}

impl Failure {
    fn message(self) -> String {
        match self {
            Failure::Usage(m) => m,
            // Node and Go surface a peer ERROR's payload text unchanged.
            Failure::Shim(ShimError::Peer { message, .. }) => message,
            Failure::Shim(e) => e.to_string(),
        }
    }
}

impl From<ShimError> for Failure {
    fn from(e: ShimError) -> Self {
        Failure::Shim(e)
    }
}

type Outcome = Result<Vec<u8>, Failure>;

// ---- response shapes (field order mirrors the Node objects) ----

#[derive(Serialize)]
struct OkResult {
    ok: bool,
}

#[derive(Serialize)]
struct ValueResult {
    value: Option<String>,
}

#[derive(Serialize)]
struct ValuesResult {
    values: Vec<Option<String>>,
}

#[derive(Serialize)]
struct KvEntry {
    key: String,
    value: String,
}

#[derive(Serialize)]
struct RangeResult {
    results: Vec<KvEntry>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PageResult {
    results: Vec<KvEntry>,
    fetched_records_count: i32,
    bookmark: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CompositeEntry {
    object_type: String,
    attributes: Vec<String>,
    value: String,
}

#[derive(Serialize)]
struct PartialResult {
    results: Vec<CompositeEntry>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct HistoryEntry {
    tx_id: String,
    value: String,
    is_delete: bool,
    seconds: i64,
}

#[derive(Serialize)]
struct HistoryResult {
    history: Vec<HistoryEntry>,
}

#[derive(Serialize)]
struct HashResult {
    hash: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TxInfoResult {
    tx_id: String,
    channel_id: String,
    seconds: i64,
    nanos: i32,
}

#[derive(Serialize)]
struct CreatorResult {
    mspid: String,
    cert: String,
}

// ---- helpers ----

fn json<T: Serialize>(value: &T) -> Outcome {
    serde_json::to_vec(value).map_err(|e| Failure::Usage(format!("cannot encode the result: {e}")))
}

fn ok() -> Outcome {
    json(&OkResult { ok: true })
}

/// Bytes as text, the way Node's `Buffer#toString('utf8')` decodes them.
fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Absent or empty values render as `null`.
fn nullable(value: Option<&[u8]>) -> Option<String> {
    value.filter(|v| !v.is_empty()).map(text)
}

fn expect_args(function: &str, params: &[String], n: usize) -> Result<(), Failure> {
    if params.len() != n {
        return Err(Failure::Usage(format!(
            "incorrect number of arguments for {function}: expected {n}, got {}",
            params.len()
        )));
    }
    Ok(())
}

fn expect_at_least(function: &str, params: &[String], n: usize) -> Result<(), Failure> {
    if params.len() < n {
        return Err(Failure::Usage(format!(
            "incorrect number of arguments for {function}: expected at least {n}, got {}",
            params.len()
        )));
    }
    Ok(())
}

/// `-?[0-9]+` within int32, like the Node twin's `parsePageSize`.
fn parse_page_size(text: &str) -> Result<i32, Failure> {
    let bad = || Failure::Usage(format!("invalid pageSize {text}"));
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let n: i64 = text.parse().map_err(|_| bad())?;
    i32::try_from(n).map_err(|_| bad())
}

/// Next until exhausted, then one close: the same message sequence as
/// Node's `next()`/`close()` and Go's `HasNext`/`Next`/`Close`.
///
/// The iterator is closed even when `next` fails, as the references do.
async fn drain(mut iterator: StateIterator) -> Result<Vec<KeyValue>, Failure> {
    let mut out = Vec::new();
    let failed = loop {
        match iterator.next().await {
            Ok(Some(kv)) => out.push(kv),
            Ok(None) => break None,
            Err(e) => break Some(e),
        }
    };
    let closed = iterator.close().await;
    if let Some(e) = failed {
        return Err(e.into());
    }
    closed?;
    Ok(out)
}

fn kv_entries(kvs: Vec<KeyValue>) -> Vec<KvEntry> {
    kvs.into_iter().map(|kv| KvEntry { key: kv.key, value: text(&kv.value) }).collect()
}

fn require_proposal(stub: &Stub) -> Result<(), Failure> {
    if stub.signed_proposal().is_none() {
        return Err(Failure::Usage("signed proposal is required".into()));
    }
    Ok(())
}

fn strs(params: &[String]) -> Vec<&str> {
    params.iter().map(String::as_str).collect()
}

// ---- the functions ----

async fn put(stub: &Stub, p: &[String], raw: &[Vec<u8>]) -> Outcome {
    expect_args("put", p, 2)?;
    stub.put_state(&p[0], raw[1].clone()).await?;
    ok()
}

async fn get(stub: &Stub, p: &[String]) -> Outcome {
    expect_args("get", p, 1)?;
    let value = stub.get_state(&p[0]).await?;
    json(&ValueResult { value: nullable(value.as_deref()) })
}

async fn del(stub: &Stub, p: &[String]) -> Outcome {
    expect_args("del", p, 1)?;
    stub.del_state(&p[0]).await?;
    ok()
}

async fn get_multiple(stub: &Stub, p: &[String]) -> Outcome {
    let values = if p.is_empty() { Vec::new() } else { stub.get_multiple_states(&strs(p)).await? };
    json(&ValuesResult { values: values.iter().map(|v| nullable(v.as_deref())).collect() })
}

async fn range(stub: &Stub, p: &[String]) -> Outcome {
    expect_args("range", p, 2)?;
    let iterator = stub.get_state_by_range(&p[0], &p[1]).await?;
    json(&RangeResult { results: kv_entries(drain(iterator).await?) })
}

async fn range_page(stub: &Stub, p: &[String]) -> Outcome {
    expect_args("rangePage", p, 4)?;
    let page_size = parse_page_size(&p[2])?;
    let (iterator, metadata) = stub.get_state_by_range_with_pagination(&p[0], &p[1], page_size, &p[3]).await?;
    let results = kv_entries(drain(iterator).await?);
    json(&PageResult { results, fetched_records_count: metadata.fetched_records_count, bookmark: metadata.bookmark })
}

async fn composite(stub: &Stub, p: &[String]) -> Outcome {
    expect_at_least("composite", p, 1)?;
    let key = stub.create_composite_key(&p[0], &strs(&p[1..]))?;
    stub.put_state(&key, b"c".to_vec()).await?;
    ok()
}

async fn partial(stub: &Stub, p: &[String]) -> Outcome {
    expect_at_least("partial", p, 1)?;
    let iterator = stub.get_state_by_partial_composite_key(&p[0], &strs(&p[1..])).await?;
    let mut results = Vec::new();
    for kv in drain(iterator).await? {
        let (object_type, attributes) = stub.split_composite_key(&kv.key)?;
        results.push(CompositeEntry { object_type, attributes, value: text(&kv.value) });
    }
    json(&PartialResult { results })
}

async fn history(stub: &Stub, p: &[String]) -> Outcome {
    expect_args("history", p, 1)?;
    let mut iterator = stub.get_history_for_key(&p[0]).await?;
    let mut entries = Vec::new();
    let failed = loop {
        match iterator.next().await {
            Ok(Some(m)) => entries.push(HistoryEntry {
                tx_id: m.tx_id,
                value: text(&m.value),
                is_delete: m.is_delete,
                // Go reports 0 for a missing timestamp (Node would fail).
                seconds: m.timestamp.map_or(0, |t| t.seconds),
            }),
            Ok(None) => break None,
            Err(e) => break Some(e),
        }
    };
    let closed = iterator.close().await;
    if let Some(e) = failed {
        return Err(e.into());
    }
    closed?;
    json(&HistoryResult { history: entries })
}

async fn put_private(stub: &Stub, p: &[String]) -> Outcome {
    expect_args("putPrivate", p, 2)?;
    // Empty counts as missing, as in both references.
    let value = match stub.transient().get("value") {
        Some(v) if !v.is_empty() => v.clone(),
        _ => return Err(Failure::Usage("transient field \"value\" is required".into())),
    };
    stub.put_private_data(&p[0], &p[1], value).await?;
    ok()
}

async fn get_private(stub: &Stub, p: &[String]) -> Outcome {
    expect_args("getPrivate", p, 2)?;
    let value = stub.get_private_data(&p[0], &p[1]).await?;
    json(&ValueResult { value: nullable(value.as_deref()) })
}

async fn private_hash(stub: &Stub, p: &[String]) -> Outcome {
    expect_args("privateHash", p, 2)?;
    let hash = stub.get_private_data_hash(&p[0], &p[1]).await?;
    json(&HashResult { hash: hash.filter(|h| !h.is_empty()).map(hex::encode) })
}

async fn del_private(stub: &Stub, p: &[String]) -> Outcome {
    expect_args("delPrivate", p, 2)?;
    stub.del_private_data(&p[0], &p[1]).await?;
    ok()
}

async fn purge_private(stub: &Stub, p: &[String]) -> Outcome {
    expect_args("purgePrivate", p, 2)?;
    stub.purge_private_data(&p[0], &p[1]).await?;
    ok()
}

async fn private_range(stub: &Stub, p: &[String]) -> Outcome {
    expect_args("privateRange", p, 3)?;
    let iterator = stub.get_private_data_by_range(&p[0], &p[1], &p[2]).await?;
    json(&RangeResult { results: kv_entries(drain(iterator).await?) })
}

fn event(stub: &Stub, p: &[String], raw: &[Vec<u8>]) -> Outcome {
    expect_args("event", p, 2)?;
    stub.set_event(&p[0], raw[1].clone())?;
    ok()
}

fn txinfo(stub: &Stub, p: &[String]) -> Outcome {
    expect_args("txinfo", p, 0)?;
    require_proposal(stub)?;
    let ts = stub.tx_timestamp()?;
    json(&TxInfoResult {
        tx_id: stub.tx_id().to_owned(),
        channel_id: stub.channel_id().to_owned(),
        seconds: ts.seconds,
        nanos: ts.nanos,
    })
}

fn creator(stub: &Stub, p: &[String]) -> Outcome {
    expect_args("creator", p, 0)?;
    require_proposal(stub)?;
    let id = SerializedIdentity::decode(stub.creator())
        .map_err(|e| Failure::Usage(format!("decoding SerializedIdentity: {e}")))?;
    json(&CreatorResult { mspid: id.mspid, cert: text(&id.id_bytes) })
}

fn transient(stub: &Stub, p: &[String]) -> Outcome {
    expect_args("transient", p, 1)?;
    json(&ValueResult { value: nullable(stub.transient().get(&p[0]).map(Vec::as_slice)) })
}

async fn bench(stub: &Stub, p: &[String]) -> Outcome {
    expect_args("bench", p, 1)?;
    stub.get_state(&p[0]).await?;
    stub.put_state(&p[0], BENCH_WRITE.to_vec()).await?;
    Ok(BENCH_RESULT.to_vec())
}

#[async_trait]
impl Chaincode for ConformanceChaincode {
    async fn invoke(&self, stub: Stub) -> Response {
        let args = stub.args();
        let function = args.first().map(|a| text(a)).unwrap_or_default();
        // Raw bytes (index 0 = first parameter) for values stored or emitted verbatim.
        let raw: &[Vec<u8>] = args.get(1..).unwrap_or_default();
        let params: Vec<String> = raw.iter().map(|a| text(a)).collect();
        let p = params.as_slice();

        let outcome = match function.as_str() {
            "fail" => {
                let message = match p {
                    [message] => message.clone(),
                    _ => format!("incorrect number of arguments for fail: expected 1, got {}", p.len()),
                };
                return Response::error(status::INTERNAL, message);
            }
            "put" => put(&stub, p, raw).await,
            "get" => get(&stub, p).await,
            "del" => del(&stub, p).await,
            "getMultiple" => get_multiple(&stub, p).await,
            "range" => range(&stub, p).await,
            "rangePage" => range_page(&stub, p).await,
            "composite" => composite(&stub, p).await,
            "partial" => partial(&stub, p).await,
            "history" => history(&stub, p).await,
            "putPrivate" => put_private(&stub, p).await,
            "getPrivate" => get_private(&stub, p).await,
            "privateHash" => private_hash(&stub, p).await,
            "delPrivate" => del_private(&stub, p).await,
            "purgePrivate" => purge_private(&stub, p).await,
            "privateRange" => private_range(&stub, p).await,
            "event" => event(&stub, p, raw),
            "txinfo" => txinfo(&stub, p),
            "creator" => creator(&stub, p),
            "transient" => transient(&stub, p),
            "bench" => bench(&stub, p).await,
            _ => return Response::error(status::INTERNAL, format!("unknown function {function}")),
        };
        match outcome {
            Ok(payload) => Response::success(payload),
            Err(failure) => Response::error(status::INTERNAL, failure.message()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_size_parsing_matches_node() {
        assert_eq!(parse_page_size("3").ok(), Some(3));
        assert_eq!(parse_page_size("-0").ok(), Some(0));
        assert_eq!(parse_page_size("007").ok(), Some(7));
        assert_eq!(parse_page_size("-2147483648").ok(), Some(i32::MIN));
        for bad in ["", "-", "+3", " 3", "3 ", "3\n", "2147483648", "1e3", "99999999999999999999999"] {
            assert!(parse_page_size(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn json_escaping_matches_json_stringify() {
        // What JSON.stringify produces for the same text (checked with node -e).
        let s = "a\"b\\c\u{1}\u{8}\t\n\u{c}\r\u{1f}\u{7f}<>&\u{2028}\u{2029}é";
        let out = serde_json::to_string(&ValueResult { value: Some(s.into()) }).ok();
        assert_eq!(
            out.as_deref(),
            Some("{\"value\":\"a\\\"b\\\\c\\u0001\\b\\t\\n\\f\\r\\u001f\u{7f}<>&\u{2028}\u{2029}é\"}")
        );
    }

    #[test]
    fn lossy_decoding_replaces_maximal_subparts() {
        // WHATWG: F0 9F 98 (truncated 4-byte sequence) is ONE replacement; C0 and 80 are one each.
        assert_eq!(text(b"a\xf0\x9f\x98b\xc0\x80c\xed\xa0\x80"), "a\u{fffd}b\u{fffd}\u{fffd}c\u{fffd}\u{fffd}\u{fffd}");
    }
}
