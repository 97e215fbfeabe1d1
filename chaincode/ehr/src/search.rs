//! Search with incomplete information, over data only the hospitals hold.
//!
//! Each patient has one *search document* in the private collection, under an
//! opaque key and with its own salt: normalised name words, birth year,
//! lower-case id and the ICD-10 codes of their live diagnoses. Index keys
//! made of name words would be unsafe, because Fabric publishes the hash of
//! every private key: a guessed name could be confirmed. On LevelDB (our local
//! network) search scans the documents; on CouchDB the same query also runs as
//! a Mango selector built only from typed values, so user input can never add
//! operators or fields to it.

use ehr_api::transient::TRANSIENT_QUERY;
use ehr_api::views::{PatientHit, PatientHits, PatientQuery};
use fabric_chaincode_shim::Stub;
use serde_json::{Value, json};
use unicode_normalization::UnicodeNormalization;

use crate::access::{Caller, grounds};
use crate::error::{EhrError, Result};
use crate::model::{DOC_TYPE, DiagnosisRef, SearchDoc};
use crate::model::{PatientId, PatientRecord, Role, Scope};
use crate::seal::SealTo;
use crate::store;
use ehr_api::functions::SealedOf;

/// Lower-case words with accents removed: `"Zoë  O'Brien"` → `["zoe", "o", "brien"]`.
pub(crate) fn words(text: &str) -> Vec<String> {
    let folded: String = text.nfd().filter(|c| !unicode_normalization::char::is_combining_mark(*c)).collect();
    folded.to_lowercase().split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_owned).collect()
}

/// The criteria, checked and normalised once for both search paths.
struct Criteria {
    name: Vec<String>,
    id: Option<String>,
    birth_year: Option<u32>,
    icd10_prefix: Option<String>,
}

impl Criteria {
    fn from(q: &PatientQuery) -> Result<Self> {
        let name = match &q.name {
            Some(n) => {
                let w = words(n);
                if w.is_empty() || n.len() > 200 {
                    return Err(EhrError::bad("query.name", "must hold 1-200 characters with letters or digits"));
                }
                w
            }
            None => Vec::new(),
        };
        let id = match &q.id {
            Some(i) if i.is_empty() || i.len() > 64 => {
                return Err(EhrError::bad("query.id", "must be 1-64 characters"));
            }
            Some(i) => Some(i.to_lowercase()),
            None => None,
        };
        if q.birth_year.is_some_and(|y| !(1850..=2200).contains(&y)) {
            return Err(EhrError::bad("query.birthYear", "must be a year between 1850 and 2200"));
        }
        let icd10_prefix = match &q.icd10_prefix {
            Some(p) if p.is_empty() || p.len() > 8 || !p.chars().all(|c| c.is_ascii_alphanumeric() || c == '.') => {
                return Err(EhrError::bad("query.icd10Prefix", "must be the beginning of an ICD-10 code, e.g. K35"));
            }
            Some(p) => Some(p.to_ascii_uppercase()),
            None => None,
        };
        if name.is_empty() && id.is_none() && q.birth_year.is_none() && icd10_prefix.is_none() {
            return Err(EhrError::bad("query", "give at least one of name, id, birthYear, icd10Prefix"));
        }
        Ok(Self { name, id, birth_year: q.birth_year, icd10_prefix })
    }

    /// Whether the query looks at patient data (name, birth year, diagnoses)
    /// rather than only at the public id.
    fn looks_at_patient_data(&self) -> bool {
        !self.name.is_empty() || self.birth_year.is_some() || self.icd10_prefix.is_some()
    }

    /// Everything but the diagnosis code, which needs the ledger (see [`live_diagnosis`]).
    fn matches(&self, doc: &SearchDoc) -> bool {
        self.name.iter().all(|q| doc.name_words.iter().any(|w| w.starts_with(q.as_str())))
            && self.id.as_ref().is_none_or(|i| doc.id_lower.contains(i.as_str()))
            && self.birth_year.is_none_or(|y| doc.birth_year == y)
    }
}

/// Whether the patient has a diagnosis, not deleted, whose code starts with `prefix`.
async fn live_diagnosis(stub: &Stub, doc: &SearchDoc, prefix: Option<&str>) -> Result<bool> {
    let Some(prefix) = prefix else { return Ok(true) };
    for d in doc.diagnoses.iter().filter(|d| d.icd10.starts_with(prefix)) {
        if store::record(stub, &doc.patient_id, &d.record_id).await?.is_some_and(|m| m.deleted.is_none()) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Escapes a literal for use inside a CouchDB (Erlang/PCRE) regular expression.
fn regex_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for c in s.chars() {
        if "\\^$.|?*+()[]{}/".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The Mango query for `query`. Every user value lands as a JSON string or
/// number in a fixed place, escaped for the regex engine: input can never add
/// operators or fields, so it can never widen the result.
pub(crate) fn mango_query(query: &PatientQuery, limit: usize) -> Result<Value> {
    let c = Criteria::from(query)?;
    let mut and = vec![json!({"docType": DOC_TYPE})];
    for w in &c.name {
        and.push(json!({"nameWords": {"$elemMatch": {"$regex": format!("^{}", regex_literal(w))}}}));
    }
    if let Some(i) = &c.id {
        and.push(json!({"idLower": {"$regex": regex_literal(i)}}));
    }
    if let Some(y) = c.birth_year {
        and.push(json!({"birthYear": y}));
    }
    if let Some(p) = &c.icd10_prefix {
        and.push(json!({"diagnoses": {"$elemMatch": {"icd10": {"$regex": format!("^{}", regex_literal(p))}}}}));
    }
    Ok(json!({"selector": {"$and": and}, "limit": limit, "use_index": ["_design/searchDoc", "searchDoc"]}))
}

/// Builds the search document for a patient's current details and diagnoses.
pub(crate) fn document(
    id: &PatientId,
    name: &str,
    birth_date: &str,
    diagnoses: Vec<DiagnosisRef>,
    salt: &str,
) -> SearchDoc {
    SearchDoc {
        doc_type: DOC_TYPE.into(),
        patient_id: id.clone(),
        id_lower: id.as_str().to_lowercase(),
        name_words: words(name),
        birth_year: birth_date.get(0..4).and_then(|y| y.parse().ok()).unwrap_or(0),
        diagnoses,
        salt: salt.to_owned(),
    }
}

fn check_caller(caller: &Caller) -> Result<()> {
    if !matches!(caller.role, Role::Doctor | Role::Patient) {
        return Err(EhrError::Forbidden("only doctors and patients search for patients".into()));
    }
    Ok(())
}

fn query_from_transient(stub: &Stub) -> Result<PatientQuery> {
    crate::input::json(stub, TRANSIENT_QUERY, "send the search query as transient data, never as an argument")
}

/// Whether `record` may appear in the caller's hits. A search over patient
/// data only finds patients whose data the caller could read right now and
/// whose look is already on the ledger: the patient themselves, or a reader
/// with grounds and an access window opened by a submitted `OpenAccess`. So no
/// name or diagnosis can be probed by evaluations that leave no trace.
async fn may_find(stub: &Stub, record: &PatientRecord, caller: &Caller, criteria: &Criteria, now: i64) -> Result<bool> {
    if record.erased.is_some() || grounds(stub, record, caller, Scope::Read, now).await?.is_none() {
        return Ok(false);
    }
    if !criteria.looks_at_patient_data() || caller.is_patient(record) {
        return Ok(true);
    }
    store::window_open(stub, &record.id, &caller.person, now).await
}

/// Finds patients by any combination of name parts, id part, birth year and
/// diagnosis code prefix (transient `query`); hits sealed to the caller's
/// one-time key. See [`may_find`] for whom it can find.
pub(crate) async fn search_patients(stub: Stub, (page_size, bookmark): (u32, String)) -> Result<SealedOf<PatientHits>> {
    let caller = Caller::load(&stub).await?;
    check_caller(&caller)?;
    let seal_to = SealTo::from_transient(&stub)?;
    let criteria = Criteria::from(&query_from_transient(&stub)?)?;
    if !(1..=100).contains(&page_size) {
        return Err(EhrError::bad("pageSize", "must be 1-100"));
    }
    let now = stub.tx_timestamp()?.seconds;
    let mut patients = Vec::new();
    let mut next = String::new();
    // Keys are pseudonyms, so the collection's order is no order: page by patient id.
    let mut docs = store::search_docs(&stub).await?;
    docs.sort_by(|a, b| a.patient_id.as_str().cmp(b.patient_id.as_str()));
    for doc in docs {
        if !bookmark.is_empty() && doc.patient_id.as_str() <= bookmark.as_str() {
            continue;
        }
        if !criteria.matches(&doc) || !live_diagnosis(&stub, &doc, criteria.icd10_prefix.as_deref()).await? {
            continue;
        }
        let Some(record) = store::patient(&stub, &doc.patient_id).await? else { continue };
        if !may_find(&stub, &record, &caller, &criteria, now).await? {
            continue;
        }
        if patients.len() == page_size as usize {
            next = patients.last().map(|h: &PatientHit| h.patient_id.to_string()).unwrap_or_default();
            break;
        }
        patients.push(PatientHit { patient_id: doc.patient_id, home_msp: record.home_msp });
    }
    seal_to.seal(&stub, &PatientHits { patients, bookmark: next }).await
}

/// The same search as a CouchDB Mango query over the private collection (peers
/// with CouchDB only; a LevelDB peer refuses rich queries).
pub(crate) async fn search_patients_rich(stub: Stub, (limit,): (u32,)) -> Result<SealedOf<PatientHits>> {
    let caller = Caller::load(&stub).await?;
    check_caller(&caller)?;
    let seal_to = SealTo::from_transient(&stub)?;
    let query = query_from_transient(&stub)?;
    let criteria = Criteria::from(&query)?;
    if !(1..=100).contains(&limit) {
        return Err(EhrError::bad("limit", "must be 1-100"));
    }
    let mango = mango_query(&query, 10 * limit as usize)?;
    let now = stub.tx_timestamp()?.seconds;
    let it = stub
        .get_private_data_query_result(store::COLLECTION, &mango.to_string())
        .await
        .map_err(|e| EhrError::bad("rich search", format!("needs peers with CouchDB: {e}")))?;
    let mut patients = Vec::new();
    for kv in it.collect_all().await? {
        let doc: SearchDoc = serde_json::from_slice(&kv.value)?;
        if !live_diagnosis(&stub, &doc, criteria.icd10_prefix.as_deref()).await? {
            continue;
        }
        let Some(record) = store::patient(&stub, &doc.patient_id).await? else { continue };
        if may_find(&stub, &record, &caller, &criteria, now).await? {
            patients.push(PatientHit { patient_id: doc.patient_id, home_msp: record.home_msp });
        }
        if patients.len() == limit as usize {
            break;
        }
    }
    seal_to.seal(&stub, &PatientHits { patients, bookmark: String::new() }).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_fold_case_and_accents() {
        assert_eq!(words("Zoë  O'Brien-Ñúñez"), vec!["zoe", "o", "brien", "nunez"]);
        assert!(words(".*").is_empty());
    }

    #[test]
    fn user_input_never_changes_the_selector_shape() {
        let plain = mango_query(&PatientQuery { name: Some("jane".into()), ..Default::default() }, 10).unwrap();
        for hostile in [r#"{"$gt": null}"#, ".*", "jane|.*", r#"jane"}, "$or": [{"#, "^(a+)+$"] {
            let q = mango_query(&PatientQuery { name: Some(hostile.into()), ..Default::default() }, 10);
            match q {
                // Input without letters or digits is refused outright.
                Err(e) => assert!(e.to_string().contains("query.name"), "{e}"),
                Ok(q) => {
                    let and = q["selector"]["$and"].as_array().unwrap();
                    assert_eq!(and[0], json!({"docType": DOC_TYPE}));
                    for clause in &and[1..] {
                        let keys: Vec<&String> = clause.as_object().unwrap().keys().collect();
                        assert_eq!(keys, vec!["nameWords"], "{hostile}: {clause}");
                        let regex = clause["nameWords"]["$elemMatch"]["$regex"].as_str().unwrap();
                        assert!(regex.starts_with('^') && regex[1..].chars().all(char::is_alphanumeric), "{regex}");
                    }
                    assert_eq!(
                        q.as_object().unwrap().keys().collect::<Vec<_>>(),
                        plain.as_object().unwrap().keys().collect::<Vec<_>>()
                    );
                }
            }
        }
        let q = mango_query(&PatientQuery { id: Some("p.1*".into()), ..Default::default() }, 10).unwrap();
        assert_eq!(q["selector"]["$and"][1]["idLower"]["$regex"], "p\\.1\\*");
        assert!(mango_query(&PatientQuery::default(), 10).is_err());
        assert!(mango_query(&PatientQuery { icd10_prefix: Some("K3$".into()), ..Default::default() }, 10).is_err());
    }
}
