//! The chart the export and import tests share: a record of every kind, a
//! file, and a deleted diagnosis.

#![allow(dead_code, clippy::unwrap_used)]

use base64::Engine as _;
use ehr_api::model::{
    AccessEntry, Attachment, Basis, Consent, Grantee, PatientDetails, PatientId, PatientRecord, Person,
    PrescriptionState, PrescriptionStatus, Purpose, RecordBody, RecordMeta, Role, Scope, Stamp, Tombstone,
};
use ehr_api::views::{PatientView, RecordView};
use ehr_fhir::Chart;

pub(crate) fn person(cn: &str, msp: &str) -> Person {
    let id = base64::engine::general_purpose::STANDARD.encode(format!("x509::CN={cn},OU=client::CN=ca.{msp}"));
    Person { id, msp: msp.into() }
}

pub(crate) fn stamp(who: &Person, role: Role, tx: &str, at: i64) -> Stamp {
    Stamp { actor: who.clone(), role, tx_id: tx.repeat(64 / tx.len()), at }
}

pub(crate) fn record(id: &str, body: RecordBody, who: &Person, at: i64) -> RecordView {
    let written = stamp(who, Role::Doctor, &id[2..4].to_lowercase(), at);
    RecordView {
        meta: RecordMeta {
            id: id.into(),
            patient_id: PatientId::parse("P-0001").unwrap(),
            kind: body.kind(),
            version: 1,
            hashes: vec!["ab".repeat(32)],
            created: written.clone(),
            updated: written,
            deleted: None,
            erased: None,
        },
        body,
        attachments: Vec::new(),
        origin: None,
        verified: true,
    }
}

/// A CT report with its PDF attached.
pub(crate) fn imaging(who: &Person) -> RecordView {
    let mut ct = record(
        "R-6F00000000000006",
        RecordBody::ImagingReport { modality: "CT".into(), text: "appendix enlarged".into() },
        who,
        1_795_306_200,
    );
    ct.attachments = vec![Attachment {
        sha256: "9f".repeat(32),
        size: 81,
        media_type: "application/pdf".into(),
        location: "s3://ehr-files/enc/k1/9f/9f9f".into(),
    }];
    ct
}

/// A diagnosis deleted as written in error.
pub(crate) fn deleted(who: &Person) -> RecordView {
    let mut gone = record(
        "R-8B00000000000008",
        RecordBody::Diagnosis { icd10: "J45".into(), text: "wrong patient".into() },
        who,
        1_795_306_400,
    );
    let tombstone = stamp(who, Role::Doctor, "8b", 1_795_306_500);
    gone.meta.deleted = Some(Tombstone { stamp: tombstone, reason: "entered for the wrong patient".into() });
    gone
}

/// A chart with a record of every kind, a file, and a deleted diagnosis.
pub(crate) fn chart() -> Chart {
    let doctor = person("doctor1", "HospitalAMSP");
    let lab = person("lab1", "HospitalBMSP");
    let registered = stamp(&doctor, Role::Doctor, "0a", 1_795_305_600);
    let patient = PatientView {
        record: PatientRecord {
            id: PatientId::parse("P-0001").unwrap(),
            home_msp: "HospitalAMSP".into(),
            attending: vec![doctor.clone()],
            version: 1,
            hashes: vec!["cd".repeat(32)],
            created: registered.clone(),
            updated: registered,
            erased: None,
        },
        details: PatientDetails {
            name: "Jane Demo".into(),
            birth_date: "1984-02-29".into(),
            sex: "female".into(),
            contact: "+44 20 7946 0000".into(),
            description: "demo patient".into(),
        },
        verified: true,
    };
    let records = vec![
        record(
            "R-1A00000000000001",
            RecordBody::Diagnosis { icd10: "K35.80".into(), text: "acute appendicitis".into() },
            &doctor,
            1_795_305_700,
        ),
        record(
            "R-2B00000000000002",
            RecordBody::Prescription {
                medication: "amoxicillin".into(),
                dose: "500 mg".into(),
                frequency: "3x daily".into(),
                text: "with food".into(),
            },
            &doctor,
            1_795_305_800,
        ),
        record(
            "R-3C00000000000003",
            RecordBody::Allergy { substance: "penicillin".into(), text: "hives".into() },
            &doctor,
            1_795_305_900,
        ),
        record(
            "R-4D00000000000004",
            RecordBody::LabReport { test: "CBC".into(), text: "normal".into() },
            &lab,
            1_795_306_000,
        ),
        record(
            "R-5E00000000000005",
            RecordBody::SideEffect { medication: "amoxicillin".into(), text: "rash".into() },
            &doctor,
            1_795_306_100,
        ),
        imaging(&doctor),
        record(
            "R-7A00000000000007",
            RecordBody::ClinicalNote { text: "recovering well".into() },
            &doctor,
            1_795_306_300,
        ),
    ];
    let pharmacist = person("pharmacist1", "HospitalBMSP");
    let prescribed = records[1].meta.created.clone();
    let prescriptions = vec![PrescriptionStatus {
        record_id: records[1].meta.id.clone(),
        home_msp: "HospitalAMSP".into(),
        prescribed,
        hash: "ab".repeat(32),
        code_hash: "cd".repeat(32),
        status: PrescriptionState::Dispensed,
        dispensed: Some(stamp(&pharmacist, Role::Pharmacist, "d1", 1_795_307_000)),
    }];
    let me = person("P-0001", "HospitalAMSP");
    let second_opinion = person("doctor2", "HospitalBMSP");
    let consents = vec![
        Consent {
            patient_id: PatientId::parse("P-0001").unwrap(),
            grantee: Grantee::Doctor { person: second_opinion.clone() },
            scope: Scope::Read,
            expires_at: Some(1_795_910_400),
            granted: stamp(&me, Role::Patient, "c1", 1_795_306_600),
            revoked: None,
        },
        Consent {
            patient_id: PatientId::parse("P-0001").unwrap(),
            grantee: Grantee::Organisation { msp: "HospitalBMSP".into() },
            scope: Scope::ReadWrite,
            expires_at: None,
            granted: stamp(&me, Role::Patient, "c2", 1_795_306_700),
            revoked: Some(stamp(&me, Role::Patient, "c3", 1_795_306_800)),
        },
    ];
    let access = |who: &Person, role, tx, at, granted| AccessEntry {
        patient_id: PatientId::parse("P-0001").unwrap(),
        stamp: stamp(who, role, tx, at),
        purpose: if granted { Purpose::SecondOpinion } else { Purpose::Treatment },
        granted,
        basis: if granted { Basis::Consent } else { Basis::NotPermitted },
        until: granted.then_some(at + 900),
    };
    let access_log = vec![
        access(&second_opinion, Role::Doctor, "e1", 1_795_306_900, true),
        access(&pharmacist, Role::Pharmacist, "e2", 1_795_306_950, false),
    ];
    Chart {
        patient,
        records,
        deleted: vec![deleted(&doctor).meta],
        prescriptions,
        consents: Some(consents),
        access_log: Some(access_log),
    }
}
