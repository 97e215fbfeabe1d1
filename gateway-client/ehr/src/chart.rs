//! A patient's whole chart, read the way any reader reads it, and the same
//! chart as FHIR R4 for other hospitals' systems.

use ehr_api::model::{PatientId, Purpose};
use ehr_fhir::{Chart, Export};

use crate::{EhrClient, Result};

/// Records fetched per `ListRecords` page.
const PAGE: u32 = 100;

impl EhrClient {
    /// Everything the caller may read about patient `id`: it opens an access
    /// window for `purpose` first (logged, the patient notified; a refusal is
    /// [`EhrClientError::Refused`](crate::EhrClientError::Refused)), then
    /// reads the patient and every record, page by page. Deleted records come
    /// back as their metadata only.
    pub async fn chart(&self, id: &PatientId, purpose: Purpose) -> Result<Chart> {
        self.open_window(id, purpose).await?;
        let patient = self.read_patient(id).await?;
        let (mut records, mut deleted) = (Vec::new(), Vec::new());
        let mut bookmark = String::new();
        loop {
            let page = self.list_records(id, None, PAGE, &bookmark).await?;
            for meta in page.records {
                if meta.deleted.is_some() {
                    deleted.push(meta);
                } else {
                    records.push(self.read_record(id, &meta.id).await?);
                }
            }
            if page.bookmark.is_empty() {
                break;
            }
            bookmark = page.bookmark;
        }
        Ok(Chart { patient, records, deleted })
    }

    /// Patient `id`'s chart as a FHIR R4 Bundle ([`Chart`] says what is read,
    /// [`ehr_fhir::mapping`] how it maps).
    pub async fn export_fhir(&self, id: &PatientId, purpose: Purpose) -> Result<Export> {
        Ok(ehr_fhir::export(&self.chart(id, purpose).await?)?)
    }
}
