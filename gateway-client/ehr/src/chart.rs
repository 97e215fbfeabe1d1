//! A patient's whole chart, read the way any reader reads it.

use ehr_api::model::{PatientId, Purpose, RecordKind, RecordMeta};
use ehr_api::views::{AccessQuery, PatientView, PrescriptionCheck, RecordQuery, RecordView};
use ehr_fhir::Chart;
use futures::{StreamExt as _, stream};

use crate::error::Refusal;
use crate::{EhrClient, Result};

/// Record metadata fetched per `SearchRecords` page (the contract's largest:
/// each page costs a read of every record's metadata).
const PAGE: u32 = 1000;
/// Prescription checks in flight at once.
const CHECKS: usize = 16;

impl EhrClient {
    /// Everything the caller may read about patient `id`: it opens an access
    /// window for `purpose` first (logged, the patient notified; a refusal is
    /// [`EhrClientError::Refused`](crate::EhrClientError::Refused)), then
    /// reads the patient and every record, page by page. Deleted records come
    /// back as their metadata only. Prescription statuses (doctors and
    /// pharmacists may check them), consents (the patient and attending
    /// doctors) and the access log (the patient and regulators) come with it
    /// when the caller may read them, and are `None` or left out when not.
    pub async fn chart(&self, id: &PatientId, purpose: Purpose) -> Result<Chart> {
        self.open_window(id, purpose).await?;
        self.chart_in_window(id).await
    }

    /// [`EhrClient::chart`] for a caller whose access window on patient `id`
    /// is already open ([`EhrClient::open_window`]): several reads, one
    /// window, one access log entry.
    pub async fn chart_in_window(&self, id: &PatientId) -> Result<Chart> {
        let (patient, records, deleted) = self.records_in_window(id).await?;
        // One evaluate per prescription, CHECKS at a time: a large chart
        // holds dozens, and each is a round trip to the peer.
        let checks: Vec<Result<Option<PrescriptionCheck>>> = stream::iter(
            records
                .iter()
                .filter(|r| r.meta.kind == RecordKind::Prescription)
                .filter_map(|r| r.meta.hashes.last().map(|hash| (r.meta.id.as_str(), hash.as_str()))),
        )
        .map(|(record_id, hash)| async move { permitted(self.verify_prescription(record_id, hash).await) })
        .buffered(CHECKS)
        .collect()
        .await;
        let mut prescriptions = Vec::new();
        for check in checks {
            // `None`: the caller's role may not check prescriptions at all.
            if let Some(check) = check? {
                prescriptions.push(check.status);
            }
        }
        let consents = permitted(self.list_consents(id).await)?;
        let access_log = permitted(self.access_log_all(id, &AccessQuery::default()).await)?;
        Ok(Chart { patient, records, deleted, prescriptions, consents, access_log })
    }

    /// The patient and their records (live ones with content, deleted ones
    /// as metadata), in an open access window: `SearchRecords` pages of up to
    /// 1000 records' metadata, deleted ones included, and one `ReadRecords`
    /// per 100 live ones.
    pub(crate) async fn records_in_window(
        &self,
        id: &PatientId,
    ) -> Result<(PatientView, Vec<RecordView>, Vec<RecordMeta>)> {
        let patient = self.read_patient(id).await?;
        let (mut records, mut deleted) = (Vec::new(), Vec::new());
        let everything = RecordQuery { include_deleted: true, ..RecordQuery::default() };
        let mut bookmark = String::new();
        loop {
            let page = self.search_records(id, &everything, PAGE, &bookmark).await?;
            let mut live = Vec::new();
            for meta in page.records {
                if meta.deleted.is_some() {
                    deleted.push(meta);
                } else {
                    live.push(meta.id);
                }
            }
            records.extend(self.read_records(id, &live).await?);
            if page.bookmark.is_empty() {
                break;
            }
            bookmark = page.bookmark;
        }
        Ok((patient, records, deleted))
    }
}

/// `Ok(None)` when the contract answered that the caller may not (403).
fn permitted<T>(result: Result<T>) -> Result<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(e) if e.refusal() == Some(Refusal::Forbidden) => Ok(None),
        Err(e) => Err(e),
    }
}
