//! Charts in and out as FHIR R4, for hospital back-ends: export what the
//! caller may read, import another system's bundle through the same contract
//! functions and permission checks as any other write.

use std::collections::BTreeMap;

use ehr_api::model::{PatientId, Purpose};
use ehr_fhir::{Export, Unmapped};

use crate::error::Refusal;
use crate::files::Progress;
use crate::{EhrClient, EhrClientError, Result};

/// What happened to the bundle's patient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatientOutcome {
    /// Not on the ledger before: registered with the bundle's details (the
    /// importing doctor becomes their attending doctor).
    Registered,
    /// On the ledger with the same details.
    Unchanged,
    /// On the ledger with other details, which the import leaves as they are:
    /// the ledger's copy may be newer. Update them by hand if the bundle is right.
    Differs,
}

/// One resource of the bundle and the record it is on the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedRecord {
    /// The resource's identity at the source.
    pub source: String,
    /// Our record id.
    pub record_id: String,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    /// The patient imported into.
    pub patient_id: PatientId,
    /// What happened to them.
    pub patient: PatientOutcome,
    /// Records written for resources new to this patient.
    pub added: Vec<ImportedRecord>,
    /// Records given a new version because their source resource changed.
    pub updated: Vec<ImportedRecord>,
    /// Resources already imported with the same content: nothing written.
    pub unchanged: Vec<ImportedRecord>,
    /// What the bundle holds that was not written, and why.
    pub unmapped: Vec<Unmapped>,
}

impl ImportReport {
    /// How many transactions the import submitted.
    pub fn writes(&self) -> usize {
        self.added.len() + self.updated.len() + usize::from(self.patient == PatientOutcome::Registered)
    }
}

impl EhrClient {
    /// Patient `id`'s chart as a FHIR R4 Bundle ([`EhrClient::chart`] says
    /// what is read, [`ehr_fhir::mapping`] how it maps).
    pub async fn export_fhir(&self, id: &PatientId, purpose: Purpose) -> Result<Export> {
        Ok(ehr_fhir::export(&self.chart(id, purpose).await?)?)
    }

    /// Imports a FHIR R4 Bundle holding one patient's chart as patient `into`
    /// (by default the patient id of ours the bundle names, when another
    /// ledger like ours exported it; then a patient of that id here whose
    /// details differ is refused, since the id may name someone else here).
    ///
    /// The whole bundle is read and checked before anything is written: a
    /// refused bundle ([`ehr_fhir::FhirError::Refused`]) writes nothing. Then
    /// the patient is registered if they are not on the ledger yet, and each
    /// mapped resource is added as a record carrying its origin; a resource
    /// imported before is written again only if its content changed (a new
    /// version), so importing the same bundle twice writes nothing new. Every
    /// write is an ordinary contract call under the caller's identity, with
    /// its permission checks; reading the existing chart opens an access
    /// window for `purpose`, logged like any read.
    ///
    /// `progress` hears the number of records to write once the bundle is
    /// read, then each record written or found unchanged: an import of a
    /// large chart writes one record per block.
    pub async fn import_fhir(
        &self,
        bundle: &[u8],
        into: Option<&PatientId>,
        purpose: Purpose,
        progress: Progress,
    ) -> Result<ImportReport> {
        let report = self.import_fhir_quietly(bundle, into, purpose, &progress).await;
        progress.finish(report.is_ok());
        report
    }

    async fn import_fhir_quietly(
        &self,
        bundle: &[u8],
        into: Option<&PatientId>,
        purpose: Purpose,
        progress: &Progress,
    ) -> Result<ImportReport> {
        let import = ehr_fhir::read_bundle(bundle)?;
        let id = match (into, &import.patient.patient_id) {
            (Some(id), _) | (None, Some(id)) => id.clone(),
            (None, None) => {
                return Err(EhrClientError::Usage(
                    "the bundle's Patient carries no patient id of ours; say which patient to import it as".into(),
                ));
            }
        };
        // The ledger refuses a window on an unknown patient as it refuses a
        // forbidden one (no oracle for who exists); registering tells them
        // apart: it fails with 409 for a patient who exists, writing nothing,
        // and then the refusal stands.
        let (patient, existing) = match self.open_window(&id, purpose).await {
            Ok(_) => {
                let (patient, records, _) = self.records_in_window(&id).await?;
                let outcome = if patient.details == import.patient.details {
                    PatientOutcome::Unchanged
                } else {
                    PatientOutcome::Differs
                };
                // The bundle's own patient id is another ledger's: here it
                // may name someone else. Only the caller may say it is them.
                if outcome == PatientOutcome::Differs && into.is_none() {
                    return Err(EhrClientError::Usage(format!(
                        "patient {id} here has other details than the bundle's patient; if they are the same \
                         person, name them explicitly (--as {id}), else import as a new patient id"
                    )));
                }
                let by_source: BTreeMap<String, (String, String)> =
                    records.into_iter().filter_map(|r| r.origin.map(|o| (o.resource, (r.meta.id, o.sha256)))).collect();
                (outcome, by_source)
            }
            Err(refused) if refused.refusal() == Some(Refusal::Forbidden) => {
                match self.register_patient(&id, &import.patient.details).await {
                    Ok(_) => tracing::info!(patient = %id, "registered the bundle's patient"),
                    Err(e) if e.refusal() == Some(Refusal::Conflict) => return Err(refused),
                    Err(e) => return Err(e),
                }
                (PatientOutcome::Registered, BTreeMap::new())
            }
            Err(e) => return Err(e),
        };
        let mut report = ImportReport {
            patient_id: id.clone(),
            patient,
            added: Vec::new(),
            updated: Vec::new(),
            unchanged: Vec::new(),
            unmapped: import.unmapped,
        };
        let total = import.records.len() as u64;
        progress.start(total);
        for (done, record) in import.records.into_iter().enumerate() {
            progress.advance(done as u64);
            let Some(origin) = record.origin.clone() else { continue };
            let source = origin.resource.clone();
            match existing.get(&source) {
                Some((record_id, sha256)) if *sha256 == origin.sha256 => {
                    report.unchanged.push(ImportedRecord { source, record_id: record_id.clone() });
                }
                Some((record_id, _)) => {
                    let written = self.update_record(&id, record_id, &record).await?;
                    tracing::info!(patient = %id, record = %written.meta.id, "imported a changed resource as a new version");
                    report.updated.push(ImportedRecord { source, record_id: written.meta.id });
                }
                None => {
                    let written = self.add_record(&id, &record).await?;
                    tracing::info!(patient = %id, record = %written.meta.id, "imported a resource");
                    report.added.push(ImportedRecord { source, record_id: written.meta.id });
                }
            }
        }
        progress.advance(total);
        Ok(report)
    }
}
