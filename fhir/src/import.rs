//! A FHIR R4 Bundle from another system, read into what our contract writes.
//!
//! Reading is pure and all-or-nothing: [`read_bundle`] either refuses the
//! bundle ([`FhirError::Refused`], every problem named by resource and
//! element) or returns the patient's details and one [`RecordInput`] per
//! resource it maps, each carrying its [`Origin`] (the resource's identity at
//! the source and the hash of its content there), plus what it could not
//! keep. Writing is the client's job, through the same contract functions and
//! permission checks as any other write.
//!
//! Each resource is first read into the `fhir` crate's typed R4 model, which
//! refuses what breaks the resource's structure (a `Condition` without
//! `subject`, a string where an object belongs); the mapping then reads the
//! few elements it keeps from the JSON by their FHIR names.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use base64::Engine as _;
use ehr_api::model::{Origin, PatientDetails, PatientId, RecordBody};
use ehr_api::views::RecordInput;
use fhir::r4::resources as r4;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::{Issue, IssueKind};
use crate::ids::systems;
use crate::{FhirError, Result, canonical};

/// The largest bundle read: a chart with thousands of records is a few
/// megabytes; anything larger is refused before it is parsed.
pub const MAX_BUNDLE_BYTES: usize = 16 * 1024 * 1024;

/// A bundle read and checked, not yet written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    /// The bundle's one patient.
    pub patient: ImportedPatient,
    /// One record per resource mapped, in bundle order, each with its origin.
    pub records: Vec<RecordInput>,
    /// What the bundle holds that is not written, and why.
    pub unmapped: Vec<Unmapped>,
}

/// The bundle's patient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedPatient {
    /// Their details as our contract keeps them.
    pub details: PatientDetails,
    /// Our patient id, when the bundle was exported by a ledger like ours
    /// (identifier system [`systems::PATIENT_ID`]).
    pub patient_id: Option<PatientId>,
    /// The Patient resource's identity and hash at the source.
    pub origin: Origin,
}

/// A resource, or part of one, that is not written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmapped {
    /// The resource: its `Type/id`, or its `fullUrl`.
    pub resource: String,
    /// Why, and what was left out.
    pub reason: String,
}

/// Why attached files stay behind: they are encrypted with the source
/// patient's key, which the importing side does not hold.
const FILES_NOT_COPIED: &str = "files are not copied between ledgers (encrypted with the source patient's key); attach them here with `ehr record add --attach`";

/// The most a record's text holds (our contract's limit).
const MAX_TEXT: usize = 20_000;

/// Bundle types whose entries are resources to read.
const READABLE_TYPES: [&str; 5] = ["collection", "document", "transaction", "batch", "searchset"];

/// Code systems we recognise in a `Condition`: a Condition coded only in one
/// of these is reported (we keep ICD-10 diagnoses); one coded in a system
/// outside this list is refused as an unknown code system.
const KNOWN_SYSTEMS: [(&str, &str); 6] = [
    ("http://snomed.info/sct", "SNOMED CT"),
    ("http://loinc.org", "LOINC"),
    ("http://www.nlm.nih.gov/research/umls/rxnorm", "RxNorm"),
    ("http://hl7.org/fhir/sid/icd-9-cm", "ICD-9-CM"),
    ("http://hl7.org/fhir/sid/icd-10-cm", "ICD-10-CM"),
    ("http://terminology.hl7.org/CodeSystem/data-absent-reason", "data absent"),
];

/// Systems whose codes we keep as our ICD-10 diagnoses.
const ICD10_SYSTEMS: [&str; 2] = [systems::ICD10, "http://hl7.org/fhir/sid/icd-10-cm"];

/// Reads `bytes` as a FHIR R4 Bundle holding one patient's data. Refuses the
/// whole bundle when it is too large, not JSON, not a Bundle, structurally
/// invalid, holds no patient or several, refers to resources it does not
/// hold, is about another patient, or codes a Condition in an unknown system.
pub fn read_bundle(bytes: &[u8]) -> Result<Import> {
    if bytes.len() > MAX_BUNDLE_BYTES {
        return Err(refuse(
            IssueKind::TooLong,
            "Bundle",
            format!(
                "is {} bytes; at most {MAX_BUNDLE_BYTES} bytes are read: split the chart into several bundles",
                bytes.len()
            ),
        ));
    }
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| refuse(IssueKind::Structure, "Bundle", format!("is not JSON: {e}")))?;
    let kind = value.get("resourceType").and_then(Value::as_str).unwrap_or("");
    if kind != "Bundle" {
        return Err(refuse(
            IssueKind::Structure,
            "resourceType",
            format!("is {kind:?}; a Bundle (resourceType \"Bundle\") is expected"),
        ));
    }
    typed::<r4::Bundle>("Bundle", &value).map_err(|i| FhirError::Refused { issues: vec![i] })?;
    let bundle_type = value.get("type").and_then(Value::as_str).unwrap_or("");
    if !READABLE_TYPES.contains(&bundle_type) {
        return Err(refuse(
            IssueKind::Value,
            "Bundle.type",
            format!("is {bundle_type:?}; one of {} is read", READABLE_TYPES.join(", ")),
        ));
    }
    let entries = Entries::of(&value)?;
    Reader::new(&entries).read()
}

fn refuse(kind: IssueKind, location: &str, message: String) -> FhirError {
    FhirError::Refused { issues: vec![Issue { kind, location: location.into(), message }] }
}

/// Reads `value` as the `fhir` crate's type `T`; a failure names the element.
fn typed<T: DeserializeOwned>(location: &str, value: &Value) -> std::result::Result<T, Issue> {
    serde_path_to_error::deserialize::<_, T>(value).map_err(|e| {
        let path = e.path().to_string();
        let message = e.inner().to_string();
        let mut location =
            if path == "." || path.is_empty() { location.to_owned() } else { format!("{location}.{path}") };
        // serde names a missing field in its message and stops the path at its parent.
        let missing = message.strip_prefix("missing field `").and_then(|m| m.split('`').next());
        if let Some(field) = missing {
            location = format!("{location}.{field}");
        }
        let kind = if missing.is_some() { IssueKind::Required } else { IssueKind::Structure };
        Issue { kind, location, message }
    })
}

/// One entry of the bundle.
struct Entry<'a> {
    /// Where it is: `Bundle.entry[3].resource(Condition/c1)`.
    location: String,
    /// `Condition/c1`, or the `fullUrl` when the resource has no id.
    label: String,
    full_url: Option<&'a str>,
    kind: &'a str,
    id: Option<&'a str>,
    resource: &'a Map<String, Value>,
}

/// The bundle's entries, with the lookups references need (maps, so that
/// a bundle of many entries and references costs linear time).
struct Entries<'a> {
    all: Vec<Entry<'a>>,
    by_url: HashMap<&'a str, usize>,
    by_type_id: HashMap<(&'a str, &'a str), usize>,
    /// The bundle's identifier (`system|value`), which names entries that
    /// have no `fullUrl` (with their type and id).
    namespace: Option<String>,
}

impl<'a> Entries<'a> {
    fn of(bundle: &'a Value) -> Result<Entries<'a>> {
        let mut issues = Vec::new();
        let mut all = Vec::new();
        let list = bundle.get("entry").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]);
        for (i, entry) in list.iter().enumerate() {
            let Some(resource) = entry.get("resource").and_then(Value::as_object) else {
                issues.push(Issue {
                    kind: IssueKind::Required,
                    location: format!("Bundle.entry[{i}]"),
                    message: "has no resource; every entry of a bundle to import must hold one".into(),
                });
                continue;
            };
            let kind = resource.get("resourceType").and_then(Value::as_str).unwrap_or("");
            let id = resource.get("id").and_then(Value::as_str);
            let full_url = entry.get("fullUrl").and_then(Value::as_str);
            let label = match (id, full_url) {
                (Some(id), _) => format!("{kind}/{id}"),
                (None, Some(url)) => url.to_owned(),
                (None, None) => format!("{kind} #{i}"),
            };
            all.push(Entry {
                location: format!("Bundle.entry[{i}].resource({label})"),
                label,
                full_url,
                kind,
                id,
                resource,
            });
        }
        let mut by_url = HashMap::new();
        let mut by_type_id = HashMap::new();
        for (i, e) in all.iter().enumerate() {
            if let Some(url) = e.full_url
                && let Some(first) = by_url.insert(url, i)
            {
                issues.push(Issue {
                    kind: IssueKind::Value,
                    location: format!("{}.fullUrl", e.location.trim_end_matches(&format!(".resource({})", e.label))),
                    message: format!("{url:?} is also the fullUrl of entry {first}; every entry needs its own (bdl-7)"),
                });
            }
            if let Some(id) = e.id {
                by_type_id.entry((e.kind, id)).or_insert(i);
            }
        }
        if !issues.is_empty() {
            return Err(FhirError::Refused { issues });
        }
        let namespace = bundle.get("identifier").and_then(|i| {
            let system = i.get("system").and_then(Value::as_str)?;
            let value = i.get("value").and_then(Value::as_str)?;
            Some(format!("{system}|{value}"))
        });
        Ok(Entries { all, by_url, by_type_id, namespace })
    }

    /// The entry `reference` (written in entry `from`) points at, by FHIR's
    /// rules for bundles: an absolute URL or `urn:` matches a `fullUrl`; a
    /// relative `Type/id` is resolved against the referring entry's base URL,
    /// or else matches the entry of that type and id.
    fn resolve(&self, from: &Entry<'_>, reference: &str) -> Option<usize> {
        let plain = reference.split("/_history/").next().unwrap_or(reference);
        if let Some(i) = self.by_url.get(plain) {
            return Some(*i);
        }
        let relative = !plain.contains(':');
        if !relative {
            return None;
        }
        if let (Some(url), Some(id)) = (from.full_url, from.id) {
            let own = format!("{}/{}", from.kind, id);
            if let Some(base) = url.strip_suffix(&own) {
                let absolute = format!("{base}{plain}");
                if let Some(i) = self.by_url.get(absolute.as_str()) {
                    return Some(*i);
                }
            }
        }
        let (kind, id) = plain.split_once('/')?;
        self.by_type_id.get(&(kind, id)).copied()
    }
}

/// Walks the entries once, collecting issues (which refuse the bundle),
/// records and what is not kept.
struct Reader<'a, 'b> {
    entries: &'b Entries<'a>,
    issues: Vec<Issue>,
    unmapped: Vec<Unmapped>,
    /// The entries the record being read was read from besides its own.
    consulted: Vec<usize>,
}

impl<'a, 'b> Reader<'a, 'b> {
    fn new(entries: &'b Entries<'a>) -> Self {
        Reader { entries, issues: Vec::new(), unmapped: Vec::new(), consulted: Vec::new() }
    }

    fn read(mut self) -> Result<Import> {
        for entry in &self.entries.all {
            self.check_references(entry, &Value::Object(entry.resource.clone()), String::new());
        }
        let patients: Vec<usize> =
            self.entries.all.iter().enumerate().filter(|(_, e)| e.kind == "Patient").map(|(i, _)| i).collect();
        let patient = match patients.as_slice() {
            [one] => Some(*one),
            [] => {
                self.issue(IssueKind::Required, "Bundle.entry", "holds no Patient; import one patient's chart".into());
                None
            }
            [_, more @ ..] => {
                self.issue(
                    IssueKind::Value,
                    "Bundle.entry",
                    format!("holds {} Patients; import one patient's chart at a time", more.len() + 1),
                );
                None
            }
        };
        let consumed = self.consumed_by_reports();
        let mut records = Vec::new();
        let mut details = None;
        let mut kept = BTreeSet::new();
        for (i, entry) in self.entries.all.iter().enumerate() {
            if Some(i) == patient {
                details = self.patient(entry);
                continue;
            }
            if consumed.contains_key(&i) {
                continue;
            }
            if let Some(record) = self.record(entry, patient) {
                records.push(record);
                kept.insert(i);
            }
        }
        for (observation, reports) in consumed {
            if !reports.iter().any(|r| kept.contains(r)) {
                let entry = &self.entries.all[observation];
                self.not_kept(entry, "a result of a DiagnosticReport that is not imported");
            }
        }
        if !self.issues.is_empty() {
            return Err(FhirError::Refused { issues: self.issues });
        }
        let patient = details.ok_or_else(|| FhirError::Refused {
            issues: vec![Issue {
                kind: IssueKind::Required,
                location: "Bundle.entry".into(),
                message: "holds no readable Patient".into(),
            }],
        })?;
        Ok(Import { patient, records, unmapped: self.unmapped })
    }

    fn issue(&mut self, kind: IssueKind, location: &str, message: String) {
        self.issues.push(Issue { kind, location: location.into(), message });
    }

    fn not_kept(&mut self, entry: &Entry<'_>, reason: impl Into<String>) {
        self.unmapped.push(Unmapped { resource: entry.label.clone(), reason: reason.into() });
    }

    /// Every `reference` in the resource must point at an entry of the
    /// bundle (or at a contained resource, `#id`).
    fn check_references(&mut self, entry: &Entry<'_>, value: &Value, path: String) {
        match value {
            Value::Object(map) => {
                for (key, v) in map {
                    if key == "reference"
                        && let Some(target) = v.as_str()
                        && !target.starts_with('#')
                        && self.entries.resolve(entry, target).is_none()
                    {
                        self.issue(
                            IssueKind::NotFound,
                            &format!("{}.{path}reference", entry.location),
                            format!("refers to {target:?}, which is not in the bundle; include it, or leave the reference out"),
                        );
                    } else if key != "contained" {
                        self.check_references(entry, v, format!("{path}{key}."));
                    }
                }
            }
            Value::Array(items) => {
                let parent = path.trim_end_matches('.');
                for (i, v) in items.iter().enumerate() {
                    self.check_references(entry, v, format!("{parent}[{i}]."));
                }
            }
            _ => {}
        }
    }

    /// Observations that DiagnosticReports of the bundle hold as their
    /// results (each with the reports that hold it): read with their report,
    /// not as records of their own.
    fn consumed_by_reports(&self) -> BTreeMap<usize, Vec<usize>> {
        let mut out: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for (r, entry) in self.entries.all.iter().enumerate().filter(|(_, e)| e.kind == "DiagnosticReport") {
            for result in array(entry.resource, "result") {
                let target =
                    result.get("reference").and_then(Value::as_str).and_then(|t| self.entries.resolve(entry, t));
                if let Some(i) = target.filter(|i| self.entries.all[*i].kind == "Observation") {
                    out.entry(i).or_default().push(r);
                }
            }
        }
        out
    }

    /// Where `entry` came from: its `fullUrl` when absolute (a URL or a
    /// `urn:uuid:`, the same resource in every bundle that holds it), else the
    /// bundle's identifier with the resource's type and id; an entry with
    /// neither cannot be recognised when imported again, and is refused. The
    /// hash covers the resource and the entries its record was read from
    /// (`consulted`: a report's results, a prescription's Medication), so a
    /// changed result is a changed record.
    fn origin(&mut self, entry: &Entry<'_>, consulted: &[usize]) -> Option<Origin> {
        let resource = match (entry.full_url.filter(|u| u.contains(':')), &self.entries.namespace, entry.id) {
            (Some(url), _, _) => url.to_owned(),
            (None, Some(namespace), Some(id)) => format!("{namespace}#{}/{id}", entry.kind),
            _ => {
                self.issue(
                    IssueKind::Required,
                    &entry.location,
                    "has neither an absolute fullUrl nor an id in a bundle with an identifier, so importing it \
                     again could not be recognised; give the entry a fullUrl (e.g. urn:uuid:...)"
                        .into(),
                );
                return None;
            }
        };
        let mut content = vec![Value::Object(entry.resource.clone())];
        let unique: BTreeSet<usize> = consulted.iter().copied().collect();
        content.extend(unique.into_iter().map(|i| Value::Object(self.entries.all[i].resource.clone())));
        let content = if content.len() == 1 { content.remove(0) } else { Value::Array(content) };
        match canonical::sha256(&entry.label, &content) {
            Ok(sha256) => Some(Origin { resource, sha256 }),
            Err(e) => {
                self.issue(IssueKind::Structure, &entry.location, e.to_string());
                None
            }
        }
    }

    fn patient(&mut self, entry: &Entry<'_>) -> Option<ImportedPatient> {
        if !self.structure::<r4::Patient>(entry) {
            return None;
        }
        let r = entry.resource;
        let name = array(r, "name")
            .iter()
            .find_map(|n| {
                str_at(n, "text").map(str::to_owned).or_else(|| {
                    let words: Vec<&str> = strings(n, "given").chain(str_at(n, "family")).collect();
                    (!words.is_empty()).then(|| words.join(" "))
                })
            })
            .unwrap_or_default();
        let Some(birth_date) =
            r.get("birthDate").and_then(Value::as_str).filter(|d| !d.trim().is_empty()).map(str::to_owned)
        else {
            self.issue(
                IssueKind::Required,
                &format!("{}.birthDate", entry.location),
                "is missing; our patient records need a birth date (YYYY-MM-DD)".into(),
            );
            return None;
        };
        let sex = r.get("gender").and_then(Value::as_str).unwrap_or("unknown").to_owned();
        let contact = array(r, "telecom")
            .iter()
            .find_map(|t| str_at(t, "value").map(str::to_owned))
            .or_else(|| {
                array(r, "address").iter().find_map(|a| {
                    str_at(a, "text").map(str::to_owned).or_else(|| {
                        let lines: Vec<&str> = strings(a, "line").chain(str_at(a, "city")).collect();
                        (!lines.is_empty()).then(|| lines.join(", "))
                    })
                })
            })
            .unwrap_or_default();
        let details = PatientDetails { name, birth_date, sex, contact, description: String::new() };
        if let Err(e) = details.validate() {
            self.issue(IssueKind::Value, &entry.location, format!("cannot be kept as our patient details: {e}"));
            return None;
        }
        let patient_id = array(r, "identifier")
            .iter()
            .filter(|i| str_at(i, "system") == Some(systems::PATIENT_ID))
            .find_map(|i| str_at(i, "value"))
            .and_then(|v| PatientId::parse(v).ok());
        self.left_out(entry, &["name", "birthDate", "gender", "telecom", "address", "managingOrganization", "active"]);
        let origin = self.origin(entry, &[])?;
        Some(ImportedPatient { details, patient_id, origin })
    }

    /// The elements of `entry` that none of `kept` names, reported as left out
    /// (its type, id, meta, narrative and identifiers never are: the origin
    /// stands for them).
    fn left_out(&mut self, entry: &Entry<'_>, kept: &[&str]) {
        const ALWAYS: [&str; 5] = ["resourceType", "id", "meta", "text", "identifier"];
        let dropped: Vec<&str> =
            entry.resource.keys().map(String::as_str).filter(|k| !kept.contains(k) && !ALWAYS.contains(k)).collect();
        if !dropped.is_empty() {
            self.not_kept(entry, format!("imported without {}", dropped.join(", ")));
        }
    }

    /// The entry as a record, after checking it is about the bundle's patient.
    fn record(&mut self, entry: &Entry<'_>, patient: Option<usize>) -> Option<RecordInput> {
        let subject_element = match entry.kind {
            "AllergyIntolerance" => "patient",
            "Condition" | "MedicationRequest" | "AdverseEvent" | "DiagnosticReport" | "Observation"
            | "DocumentReference" => "subject",
            other => {
                let why = match other {
                    "Practitioner" | "PractitionerRole" | "Organization" => {
                        "people and organisations are Fabric identities here; each imported record is written by the importing user and keeps its source as its origin"
                    }
                    "Provenance" => {
                        "provenance is the ledger's own: each imported record keeps its source resource and hash as its origin"
                    }
                    "Consent" => {
                        "a consent is the patient's own act, signed with their identity; the patient grants it here"
                    }
                    "AuditEvent" => "the access log is written by the ledger as people read the chart, never imported",
                    "MedicationDispense" => "dispensing is recorded when a pharmacist dispenses a prescription here",
                    "ImagingStudy" => {
                        "an imaging study is kept as its report's modality; the images stay at the source"
                    }
                    _ => "not a kind of record this ledger keeps",
                };
                self.not_kept(entry, format!("{other}: {why}"));
                return None;
            }
        };
        let structured = match entry.kind {
            "Condition" => self.structure::<r4::Condition>(entry),
            "AllergyIntolerance" => self.structure::<r4::AllergyIntolerance>(entry),
            "MedicationRequest" => self.structure::<r4::MedicationRequest>(entry),
            "AdverseEvent" => self.structure::<r4::AdverseEvent>(entry),
            "DiagnosticReport" => self.structure::<r4::DiagnosticReport>(entry),
            "Observation" => self.structure::<r4::Observation>(entry),
            _ => self.structure::<r4::DocumentReference>(entry),
        };
        if !structured {
            return None;
        }
        let subject = entry.resource.get(subject_element).and_then(|s| s.get("reference")).and_then(Value::as_str);
        match subject.and_then(|s| self.entries.resolve(entry, s)) {
            Some(i) if Some(i) == patient => {}
            Some(_) => {
                self.issue(
                    IssueKind::Value,
                    &format!("{}.{subject_element}", entry.location),
                    "is not the bundle's patient; import one patient's chart at a time".into(),
                );
                return None;
            }
            None if subject.is_none() => {
                self.issue(
                    IssueKind::Required,
                    &format!("{}.{subject_element}", entry.location),
                    "is missing; every record must name its patient".into(),
                );
                return None;
            }
            None if subject.is_some_and(|s| s.starts_with('#')) => {
                self.issue(
                    IssueKind::Value,
                    &format!("{}.{subject_element}", entry.location),
                    "refers to a contained resource; a record's patient must be the bundle's Patient entry".into(),
                );
                return None;
            }
            None => return None, // already reported as a reference not in the bundle
        }
        self.consulted.clear();
        let body = match entry.kind {
            "Condition" => self.condition(entry),
            "AllergyIntolerance" => self.allergy(entry),
            "MedicationRequest" => self.medication_request(entry),
            "AdverseEvent" => self.adverse_event(entry),
            "DiagnosticReport" => self.diagnostic_report(entry),
            "Observation" => self.observation(entry),
            _ => self.document_reference(entry),
        }?;
        let consulted = std::mem::take(&mut self.consulted);
        let origin = self.origin(entry, &consulted)?;
        let record = RecordInput { body, attachments: Vec::new(), origin: Some(origin) };
        if let Err(e) = record.validate() {
            self.issue(IssueKind::Value, &entry.location, format!("cannot be kept as our record: {e}"));
            return None;
        }
        Some(record)
    }

    /// Checks `entry` against the typed model `T`; false (and an issue) if it breaks it.
    fn structure<T: DeserializeOwned>(&mut self, entry: &Entry<'_>) -> bool {
        match typed::<T>(&entry.location, &Value::Object(entry.resource.clone())) {
            Ok(_) => true,
            Err(issue) => {
                self.issues.push(issue);
                false
            }
        }
    }

    fn entered_in_error(&mut self, entry: &Entry<'_>, status: Option<&str>) -> bool {
        if status == Some("entered-in-error") {
            self.not_kept(entry, "entered in error at the source");
            return true;
        }
        false
    }

    fn condition(&mut self, entry: &Entry<'_>) -> Option<RecordBody> {
        let r = entry.resource;
        if self.entered_in_error(entry, code_of(r.get("verificationStatus"))) {
            return None;
        }
        let Some(code) = r.get("code") else {
            self.not_kept(entry, "Condition without code: our diagnoses need an ICD-10 code");
            return None;
        };
        let codings = code.get("coding").and_then(Value::as_array).cloned().unwrap_or_default();
        let icd10 = codings.iter().find(|c| str_at(c, "system").is_some_and(|s| ICD10_SYSTEMS.contains(&s)));
        if let Some(coding) = icd10 {
            let text = str_at(code, "text").or_else(|| str_at(coding, "display")).unwrap_or("").to_owned();
            let icd10 = str_at(coding, "code").unwrap_or("").to_owned();
            self.left_out(
                entry,
                &["code", "subject", "clinicalStatus", "verificationStatus", "category", "recordedDate", "recorder"],
            );
            return Some(RecordBody::Diagnosis { icd10, text });
        }
        let mut known = Vec::new();
        for (k, coding) in codings.iter().enumerate() {
            let system = str_at(coding, "system");
            match system.and_then(|s| KNOWN_SYSTEMS.iter().find(|(url, _)| *url == s)) {
                Some((_, name)) => known.push(format!("{name} {}", str_at(coding, "code").unwrap_or("?"))),
                None => {
                    let what = system
                        .map(|s| format!("{s:?} is not a code system we know"))
                        .unwrap_or_else(|| "has no system".into());
                    self.issue(
                        IssueKind::CodeInvalid,
                        &format!("{}.code.coding[{k}].system", entry.location),
                        format!("{what}; a Condition needs an ICD-10 code (system {})", systems::ICD10),
                    );
                    return None;
                }
            }
        }
        let coded = if known.is_empty() { "only as text".to_owned() } else { format!("in {}", known.join(", ")) };
        self.not_kept(
            entry,
            format!("Condition coded {coded}, not ICD-10: our diagnoses need an ICD-10 code; add one and import again"),
        );
        None
    }

    fn allergy(&mut self, entry: &Entry<'_>) -> Option<RecordBody> {
        let r = entry.resource;
        if self.entered_in_error(entry, code_of(r.get("verificationStatus"))) {
            return None;
        }
        let Some(substance) = r.get("code").and_then(concept_text) else {
            self.not_kept(entry, "AllergyIntolerance without a substance (code): nothing to record");
            return None;
        };
        let mut reactions = Vec::new();
        for reaction in array(r, "reaction") {
            for m in reaction.get("manifestation").and_then(Value::as_array).into_iter().flatten() {
                reactions.extend(concept_text(m));
            }
            reactions.extend(str_at(reaction, "description").map(str::to_owned));
        }
        self.left_out(
            entry,
            &[
                "code",
                "patient",
                "clinicalStatus",
                "verificationStatus",
                "reaction",
                "recordedDate",
                "recorder",
                "type",
            ],
        );
        Some(RecordBody::Allergy { substance, text: reactions.join("; ") })
    }

    fn medication_request(&mut self, entry: &Entry<'_>) -> Option<RecordBody> {
        let r = entry.resource;
        let status = r.get("status").and_then(Value::as_str);
        if self.entered_in_error(entry, status) {
            return None;
        }
        let reference = r.get("medicationReference");
        let target = reference.and_then(|m| str_at(m, "reference")).and_then(|t| self.entries.resolve(entry, t));
        self.consulted.extend(target);
        let medication = r.get("medicationCodeableConcept").and_then(concept_text).or_else(|| {
            target
                .and_then(|i| self.entries.all[i].resource.get("code").and_then(concept_text))
                .or_else(|| reference.and_then(|m| str_at(m, "display")).map(str::to_owned))
        });
        let Some(medication) = medication else {
            self.not_kept(entry, "MedicationRequest without a medication we can name");
            return None;
        };
        let dosage = array(r, "dosageInstruction").first().cloned().unwrap_or(Value::Null);
        let frequency = dosage.get("timing").and_then(timing_text);
        let dose = dosage
            .get("doseAndRate")
            .and_then(Value::as_array)
            .and_then(|d| d.first())
            .and_then(|d| d.get("doseQuantity"))
            .and_then(quantity_text)
            .or_else(|| {
                let text = str_at(&dosage, "text")?;
                let suffix = frequency.as_ref().map(|f| format!(", {f}"));
                Some(suffix.and_then(|s| text.strip_suffix(&s).map(str::to_owned)).unwrap_or_else(|| text.to_owned()))
            });
        let (Some(dose), Some(frequency)) = (dose, frequency.or_else(|| str_at(&dosage, "text").map(str::to_owned)))
        else {
            self.not_kept(entry, "MedicationRequest without a dose and a frequency: our prescriptions need both");
            return None;
        };
        let mut text: Vec<String> =
            array(r, "note").iter().filter_map(|n| str_at(n, "text").map(str::to_owned)).collect();
        text.extend(array(r, "reasonCode").iter().filter_map(concept_text).map(|c| format!("reason: {c}")));
        if let Some(s) = status.filter(|s| *s != "active") {
            // Dispensing is the ledger's own state, not the prescription's
            // content: the import keeps no dispensing code, so nobody can
            // dispense an imported prescription here.
            self.not_kept(
                entry,
                format!("status {s} at the source; imported as a prescription that cannot be dispensed here"),
            );
        }
        self.left_out(
            entry,
            &[
                "status",
                "intent",
                "medicationCodeableConcept",
                "medicationReference",
                "subject",
                "authoredOn",
                "requester",
                "dosageInstruction",
                "note",
                "reasonCode",
            ],
        );
        Some(RecordBody::Prescription { medication, dose, frequency, text: text.join("\n") })
    }

    fn adverse_event(&mut self, entry: &Entry<'_>) -> Option<RecordBody> {
        let r = entry.resource;
        let mut medication = None;
        for instance in array(r, "suspectEntity").iter().filter_map(|s| s.get("instance")) {
            let target = str_at(instance, "reference").and_then(|t| self.entries.resolve(entry, t));
            self.consulted.extend(target);
            medication = target
                .and_then(|i| self.entries.all[i].resource.get("code").and_then(concept_text))
                .or_else(|| str_at(instance, "display").map(str::to_owned));
            if medication.is_some() {
                break;
            }
        }
        let Some(medication) = medication else {
            self.not_kept(entry, "AdverseEvent without a suspected medication: our side effects name one");
            return None;
        };
        let text = r.get("event").and_then(concept_text).unwrap_or_default();
        self.left_out(entry, &["actuality", "event", "subject", "recordedDate", "recorder", "suspectEntity"]);
        Some(RecordBody::SideEffect { medication, text })
    }

    fn diagnostic_report(&mut self, entry: &Entry<'_>) -> Option<RecordBody> {
        let r = entry.resource;
        if self.entered_in_error(entry, r.get("status").and_then(Value::as_str)) {
            return None;
        }
        let code = r.get("code").and_then(concept_text).unwrap_or_default();
        let results: BTreeSet<usize> = array(r, "result")
            .iter()
            .filter_map(|res| str_at(res, "reference").and_then(|t| self.entries.resolve(entry, t)))
            .filter(|i| self.entries.all[*i].kind == "Observation")
            .collect();
        self.consulted.extend(results.iter().copied());
        let conclusion = r.get("conclusion").and_then(Value::as_str).map(str::to_owned).unwrap_or_else(|| {
            // Each result once, and no more than a record's text may hold.
            let mut text = String::new();
            for i in &results {
                let Some(value) = observation_text(self.entries.all[*i].resource) else { continue };
                if text.len() + value.len() > MAX_TEXT {
                    break;
                }
                if !text.is_empty() {
                    text.push_str("; ");
                }
                text.push_str(&value);
            }
            text
        });
        let files = array(r, "presentedForm").len();
        if files > 0 {
            self.not_kept(entry, format!("{files} presented form(s): {FILES_NOT_COPIED}"));
        }
        let imaging = array(r, "category").iter().any(|c| code_of(Some(c)) == Some("RAD"));
        self.left_out(
            entry,
            &[
                "status",
                "category",
                "code",
                "subject",
                "issued",
                "effectiveDateTime",
                "performer",
                "result",
                "conclusion",
                "presentedForm",
            ],
        );
        if imaging {
            let modality = code.split_whitespace().next().unwrap_or("");
            if !["CT", "MRI", "XR", "US", "PET"].contains(&modality) {
                self.not_kept(
                    entry,
                    format!("imaging report of {code:?}: our imaging reports are CT, MRI, XR, US or PET"),
                );
                return None;
            }
            return Some(RecordBody::ImagingReport { modality: modality.into(), text: conclusion });
        }
        if code.is_empty() {
            self.not_kept(entry, "DiagnosticReport without a test name (code)");
            return None;
        }
        Some(RecordBody::LabReport { test: code, text: conclusion })
    }

    fn observation(&mut self, entry: &Entry<'_>) -> Option<RecordBody> {
        let r = entry.resource;
        if self.entered_in_error(entry, r.get("status").and_then(Value::as_str)) {
            return None;
        }
        let code = r.get("code").and_then(concept_text).unwrap_or_default();
        let Some(value) = observation_text(r) else {
            self.not_kept(entry, "Observation without a value: nothing to record");
            return None;
        };
        let laboratory = array(r, "category").iter().any(|c| code_of(Some(c)) == Some("laboratory"));
        self.left_out(
            entry,
            &[
                "status",
                "category",
                "code",
                "subject",
                "effectiveDateTime",
                "issued",
                "performer",
                "valueString",
                "valueQuantity",
                "valueCodeableConcept",
                "valueBoolean",
                "valueInteger",
            ],
        );
        if laboratory && !code.is_empty() {
            return Some(RecordBody::LabReport { test: code, text: value });
        }
        // Not a lab result: kept as what it says, a note.
        let text = if code.is_empty() { value } else { format!("{code}: {value}") };
        Some(RecordBody::ClinicalNote { text })
    }

    fn document_reference(&mut self, entry: &Entry<'_>) -> Option<RecordBody> {
        let r = entry.resource;
        if self.entered_in_error(entry, r.get("status").and_then(Value::as_str)) {
            return None;
        }
        let mut note = None;
        let mut files = 0;
        for content in array(r, "content") {
            let attachment = content.get("attachment").cloned().unwrap_or(Value::Null);
            let plain = str_at(&attachment, "contentType").is_some_and(|t| t.starts_with("text/plain"));
            match (plain, str_at(&attachment, "data"), &note) {
                (true, Some(data), None) => match base64::engine::general_purpose::STANDARD.decode(data) {
                    Ok(bytes) => note = Some(String::from_utf8_lossy(&bytes).into_owned()),
                    Err(e) => {
                        self.issue(
                            IssueKind::Value,
                            &format!("{}.content.attachment.data", entry.location),
                            format!("is not base64: {e}"),
                        );
                        return None;
                    }
                },
                _ => files += 1,
            }
        }
        if files > 0 {
            self.not_kept(entry, format!("{files} attached file(s): {FILES_NOT_COPIED}"));
        }
        let Some(text) = note else {
            self.not_kept(entry, "DocumentReference without an inline text/plain note");
            return None;
        };
        self.left_out(entry, &["status", "subject", "date", "author", "content", "type", "category"]);
        Some(RecordBody::ClinicalNote { text })
    }
}

fn array<'v>(map: &'v Map<String, Value>, key: &str) -> &'v [Value] {
    map.get(key).and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[])
}

/// The strings of an array element (`given` names, address `line`s).
fn strings<'v>(value: &'v Value, key: &str) -> impl Iterator<Item = &'v str> {
    value.get(key).and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str)
}

fn str_at<'v>(value: &'v Value, key: &str) -> Option<&'v str> {
    value.get(key).and_then(Value::as_str).filter(|s| !s.trim().is_empty())
}

/// The first code of a CodeableConcept.
fn code_of(concept: Option<&Value>) -> Option<&str> {
    concept?.get("coding")?.as_array()?.iter().find_map(|c| str_at(c, "code"))
}

/// What a CodeableConcept says in words: its text, else a coding's display,
/// else a coding's code.
fn concept_text(concept: &Value) -> Option<String> {
    let codings = concept.get("coding").and_then(Value::as_array);
    str_at(concept, "text")
        .or_else(|| codings.and_then(|c| c.iter().find_map(|c| str_at(c, "display"))))
        .or_else(|| codings.and_then(|c| c.iter().find_map(|c| str_at(c, "code"))))
        .map(str::to_owned)
}

fn quantity_text(q: &Value) -> Option<String> {
    let value = q.get("value")?;
    let unit = str_at(q, "unit").or_else(|| str_at(q, "code")).unwrap_or("");
    Some(format!("{value} {unit}").trim().to_owned())
}

/// A dosage timing in words: its code's text, else `n per period unit`.
fn timing_text(timing: &Value) -> Option<String> {
    if let Some(words) = timing.get("code").and_then(concept_text) {
        return Some(words);
    }
    let repeat = timing.get("repeat")?;
    let frequency = repeat.get("frequency").map(Value::to_string).unwrap_or_else(|| "1".into());
    let period = repeat.get("period")?;
    let unit = str_at(repeat, "periodUnit").unwrap_or("");
    Some(format!("{frequency} per {period} {unit}").trim().to_owned())
}

/// An Observation's value in words.
fn observation_text(r: &Map<String, Value>) -> Option<String> {
    r.get("valueString")
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .map(str::to_owned)
        .or_else(|| r.get("valueQuantity").and_then(quantity_text))
        .or_else(|| r.get("valueCodeableConcept").and_then(concept_text))
        .or_else(|| r.get("valueBoolean").map(Value::to_string))
        .or_else(|| r.get("valueInteger").map(Value::to_string))
}
