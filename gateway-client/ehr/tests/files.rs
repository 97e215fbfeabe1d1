//! Behaviour of the content-addressed file store against real folders.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use ehr_client::files::{CHUNK_SIZE, FileStore, FilesError, Progress, guess_media_type};
use sha2::{Digest, Sha256};

const MIB: usize = 1024 * 1024;

/// Deterministic pseudo-random bytes (xorshift64), so failures reproduce.
fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    let mut bytes = Vec::with_capacity(len + 8);
    while bytes.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        bytes.extend_from_slice(&state.to_le_bytes());
    }
    bytes.truncate(len);
    bytes
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Every regular file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return found };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[tokio::test]
async fn upload_streams_a_multi_chunk_file_to_its_content_address_once() {
    let work = tempfile::tempdir().unwrap();
    let folder = work.path().join("store");
    let store = FileStore::open(folder.to_str().unwrap()).unwrap();
    let folder = folder.canonicalize().unwrap();
    let content = pseudo_random(20 * MIB + 123, 7);
    assert!(content.len() > 2 * CHUNK_SIZE, "the file must span several chunks");
    let scan = write_file(work.path(), "ct-scan.pdf", &content);

    let stored = store.upload(&scan, None, Progress::hidden()).await.unwrap();

    let expected = sha256_hex(&content);
    assert_eq!(stored.sha256, expected);
    assert_eq!(stored.size, content.len() as u64);
    assert_eq!(stored.media_type, "application/pdf");
    let object = folder.join("sha256").join(&expected[..2]).join(&expected);
    assert_eq!(stored.location, format!("file://{}/sha256/{}/{expected}", folder.display(), &expected[..2]));
    assert_eq!(std::fs::read(&object).unwrap(), content);
    assert_eq!(files_under(&folder), vec![object.clone()], "temporary objects must be gone");

    // The same content again, under another name: stored once, same location.
    let copy = write_file(work.path(), "copy.bin", &content);
    let again = store.upload(&copy, Some("application/dicom"), Progress::hidden()).await.unwrap();
    assert_eq!(again.location, stored.location);
    assert_eq!(again.media_type, "application/dicom");
    assert_eq!(files_under(&folder), vec![object]);
}

#[tokio::test]
async fn encrypted_with_a_patient_key_only_that_key_reads_it_back() {
    let work = tempfile::tempdir().unwrap();
    let folder = work.path().join("store");
    let plain_store = FileStore::open(folder.to_str().unwrap()).unwrap();
    let folder = folder.canonicalize().unwrap();
    let store = plain_store.encrypted_with([0x42; 32]);
    let marker = b"CT abdomen for P-0001: appendix enlarged";
    let mut content = marker.to_vec();
    content.extend(pseudo_random(2 * CHUNK_SIZE + 77, 11));
    let scan = write_file(work.path(), "ct.pdf", &content);

    let stored = store.upload(&scan, None, Progress::hidden()).await.unwrap();
    let expected = sha256_hex(&content);
    assert_eq!((stored.sha256.as_str(), stored.size), (expected.as_str(), content.len() as u64));
    assert!(stored.location.contains("/enc/"), "{}", stored.location);
    let objects = files_under(&folder);
    assert_eq!(objects.len(), 1, "{objects:?}");
    let at_rest = std::fs::read(&objects[0]).unwrap();
    assert_eq!(at_rest.len(), content.len() + 32, "a 32-byte header, then the content encrypted");
    assert!(at_rest.starts_with(b"EHRX1"));
    assert!(!at_rest.windows(marker.len()).any(|w| w == marker), "plaintext at rest");
    assert_ne!(sha256_hex(&at_rest), expected);

    // The patient's key reads it back, verified against the ledger's hash ...
    let dest = work.path().join("out.pdf");
    let got = store.download(&stored.location, &expected, &dest, Progress::hidden()).await.unwrap();
    assert_eq!(got.size, content.len() as u64);
    assert_eq!(std::fs::read(&dest).unwrap(), content);
    // ... another key (or no key: the erased patient's) yields bytes that fail the hash, and nothing is written.
    let elsewhere = work.path().join("shredded.pdf");
    for wrong in [plain_store.encrypted_with([0x43; 32]), plain_store.clone()] {
        let err = wrong.download(&stored.location, &expected, &elsewhere, Progress::hidden()).await.unwrap_err();
        assert!(matches!(err, FilesError::HashMismatch { .. }), "{err}");
        assert!(!elsewhere.exists());
    }
    // An unencrypted object read as encrypted is named as such.
    let plain = plain_store.upload(&scan, None, Progress::hidden()).await.unwrap();
    let err = store.download(&plain.location, &expected, &elsewhere, Progress::hidden()).await.unwrap_err();
    assert!(matches!(err, FilesError::NotEncrypted { .. }), "{err}");
    // The same content again for the same patient is stored once.
    let again = store.upload(&scan, None, Progress::hidden()).await.unwrap();
    assert_eq!(again.location, stored.location);
    assert_eq!(files_under(&folder).len(), 2, "the encrypted copy and the plain one");
}

#[tokio::test]
async fn download_verifies_and_writes_identical_bytes() {
    let work = tempfile::tempdir().unwrap();
    let store = FileStore::open(work.path().join("store").to_str().unwrap()).unwrap();
    let content = pseudo_random(9 * MIB, 11);
    let scan = write_file(work.path(), "mri.dcm", &content);
    let stored = store.upload(&scan, None, Progress::hidden()).await.unwrap();
    assert_eq!(stored.media_type, "application/dicom");

    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("mri-copy.dcm");
    let fetched = store.download(&stored.location, &stored.sha256, &dest, Progress::hidden()).await.unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), content);
    assert_eq!(fetched.sha256, stored.sha256);
    assert_eq!(fetched.size, stored.size);
    assert_eq!(fetched.media_type, "application/dicom");

    // By bare hash (uppercase accepted), replacing an existing destination.
    let fetched = store.download(&stored.sha256.to_uppercase(), &stored.sha256, &dest, Progress::hidden()).await;
    assert_eq!(fetched.unwrap().location, stored.location);
    assert_eq!(std::fs::read(&dest).unwrap(), content);

    // Through a store opened on another folder: the file:// location still resolves.
    let other = FileStore::open(work.path().join("elsewhere").to_str().unwrap()).unwrap();
    let dest2 = out.path().join("via-other-store.dcm");
    other.download(&stored.location, &stored.sha256, &dest2, Progress::hidden()).await.unwrap();
    assert_eq!(std::fs::read(&dest2).unwrap(), content);

    let mut names: Vec<_> = std::fs::read_dir(out.path()).unwrap().map(|entry| entry.unwrap().file_name()).collect();
    names.sort();
    assert_eq!(names, ["mri-copy.dcm", "via-other-store.dcm"], "no temporary file may remain");
}

#[tokio::test]
async fn download_of_a_tampered_object_fails_and_writes_nothing() {
    let work = tempfile::tempdir().unwrap();
    let folder = work.path().join("store");
    let store = FileStore::open(folder.to_str().unwrap()).unwrap();
    let content = pseudo_random(3 * MIB, 3);
    let stored = store.upload(&write_file(work.path(), "lab.png", &content), None, Progress::hidden()).await.unwrap();

    let mut tampered = content.clone();
    tampered[MIB] ^= 0x01;
    let object = folder.join("sha256").join(&stored.sha256[..2]).join(&stored.sha256);
    std::fs::write(&object, &tampered).unwrap();

    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("lab.png");
    let err = store.download(&stored.location, &stored.sha256, &dest, Progress::hidden()).await.unwrap_err();

    let actual = sha256_hex(&tampered);
    assert!(matches!(&err, FilesError::HashMismatch { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "downloaded content has sha256 {actual} but the ledger records {}; \
             the stored file was altered or corrupted — do not use it",
            stored.sha256
        )
    );
    assert!(!dest.exists());
    assert_eq!(files_under(out.path()), Vec::<PathBuf>::new(), "no temporary file may remain");
}

#[tokio::test]
async fn a_file_growing_during_upload_is_refused_and_nothing_is_stored() {
    let work = tempfile::tempdir().unwrap();
    let folder = work.path().join("store");
    let store = FileStore::open(folder.to_str().unwrap()).unwrap();
    let scan = write_file(work.path(), "growing.pdf", &pseudo_random(2 * CHUNK_SIZE + 5, 5));

    // After the first chunk has been read, another writer appends to the file.
    let appended = scan.clone();
    let progress = Progress::hidden().observe(move |done| {
        if done == CHUNK_SIZE as u64 {
            let mut file = std::fs::OpenOptions::new().append(true).open(&appended).unwrap();
            file.write_all(b"more lines of the report").unwrap();
        }
    });
    let err = store.upload(&scan, None, progress).await.unwrap_err();

    assert!(matches!(&err, FilesError::Changed { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "{} changed while it was being uploaded; nothing was stored or recorded; \
             upload it again when it is no longer being written",
            scan.display()
        )
    );
    assert_eq!(files_under(&folder), Vec::<PathBuf>::new());
}

#[tokio::test]
async fn a_file_rewritten_in_place_during_upload_is_refused() {
    let work = tempfile::tempdir().unwrap();
    let folder = work.path().join("store");
    let store = FileStore::open(folder.to_str().unwrap()).unwrap();
    let scan = write_file(work.path(), "rewritten.pdf", &pseudo_random(2 * CHUNK_SIZE, 9));

    // Same size, different bytes in the part already hashed: only the metadata can tell.
    let rewritten = scan.clone();
    let progress = Progress::hidden().observe(move |done| {
        if done == CHUNK_SIZE as u64 {
            let mut file = std::fs::OpenOptions::new().write(true).open(&rewritten).unwrap();
            file.write_all(b"corrected").unwrap();
        }
    });
    let err = store.upload(&scan, None, progress).await.unwrap_err();

    assert!(matches!(&err, FilesError::Changed { .. }), "{err:?}");
    assert_eq!(files_under(&folder), Vec::<PathBuf>::new());
}

#[tokio::test]
async fn errors_name_what_went_wrong() {
    let work = tempfile::tempdir().unwrap();
    let store = FileStore::open(work.path().join("store").to_str().unwrap()).unwrap();

    let missing = work.path().join("no-such-scan.pdf");
    let err = store.upload(&missing, None, Progress::hidden()).await.unwrap_err();
    assert!(matches!(&err, FilesError::MissingInput { .. }), "{err:?}");
    assert_eq!(err.to_string(), format!("input file {} does not exist", missing.display()));

    let err = store.upload(work.path(), None, Progress::hidden()).await.unwrap_err();
    assert!(matches!(&err, FilesError::NotAFile { .. }), "{err:?}");

    let err = FileStore::open("ftp://files.example/ehr").unwrap_err();
    assert!(matches!(&err, FilesError::UnknownScheme { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "unknown store URL scheme `ftp` in ftp://files.example/ehr; \
         use a folder path or a file://, s3:// or memory:// URL"
    );

    let hash = "ab".repeat(32);
    let dest = work.path().join("out.pdf");
    let err = store.download("gopher://x/y", &hash, &dest, Progress::hidden()).await.unwrap_err();
    assert!(matches!(&err, FilesError::UnknownScheme { .. }), "{err:?}");

    let err = store.download(&hash, "not-a-hash", &dest, Progress::hidden()).await.unwrap_err();
    assert_eq!(err.to_string(), "`not-a-hash` is not a sha256 hash (64 hexadecimal characters)");

    let err = store.download(&hash, &hash, &dest, Progress::hidden()).await.unwrap_err();
    assert!(matches!(&err, FilesError::NotFound { .. }), "{err:?}");
    assert!(err.to_string().contains(&format!("/sha256/ab/{hash}")), "{err}");
    assert!(!dest.exists());
}

#[tokio::test]
async fn memory_store_round_trips() {
    let store = FileStore::open("memory:///ehr").unwrap();
    assert_eq!(store.url(), "memory:///ehr");
    let work = tempfile::tempdir().unwrap();
    let content = pseudo_random(CHUNK_SIZE + 17, 13);
    let stored = store.upload(&write_file(work.path(), "notes.txt", &content), None, Progress::hidden()).await.unwrap();
    assert_eq!(stored.media_type, "text/plain");
    assert_eq!(stored.location, format!("memory:///ehr/sha256/{}/{}", &stored.sha256[..2], stored.sha256));

    let dest = work.path().join("back.txt");
    store.download(&stored.location, &stored.sha256, &dest, Progress::hidden()).await.unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), content);
}

#[test]
fn s3_store_is_addressed_by_bucket_and_prefix() {
    // Opening does no I/O, so no server is needed to check the addressing.
    let options = [("aws_region", "eu-west-1"), ("aws_endpoint", "http://127.0.0.1:9000"), ("aws_allow_http", "true")];
    let store = FileStore::open_with_options("s3://ehr-files/hospital-a", options).unwrap();
    assert_eq!(store.url(), "s3://ehr-files/hospital-a");

    let err = FileStore::open_with_options("s3://ehr-files", [("no_such_option", "1")]).unwrap_err();
    assert!(err.to_string().contains("no_such_option"), "{err}");
}

#[test]
fn media_types_are_guessed_from_extensions() {
    let cases = [
        ("report.PDF", "application/pdf"),
        ("x.png", "image/png"),
        ("x.jpg", "image/jpeg"),
        ("x.jpeg", "image/jpeg"),
        ("x.gif", "image/gif"),
        ("x.tif", "image/tiff"),
        ("x.tiff", "image/tiff"),
        ("slice-001.dcm", "application/dicom"),
        ("x.txt", "text/plain"),
        ("x.csv", "text/csv"),
        ("x.json", "application/json"),
        ("x.xml", "application/xml"),
        ("x.bin", "application/octet-stream"),
        ("no-extension", "application/octet-stream"),
    ];
    for (name, media_type) in cases {
        assert_eq!(guess_media_type(Path::new(name)), media_type, "{name}");
    }
}

/// Runs one `#[ignore]`d test of this binary alone in a child process, optionally under a
/// wrapper command, so that it can measure or alter the whole process.
fn run_child(test: &str, wrapper: &[&str], envs: &[(&str, &Path)]) -> std::process::Output {
    let exe = std::env::current_exe().unwrap();
    let mut command = match wrapper.split_first() {
        Some((program, args)) => {
            let mut command = Command::new(program);
            command.args(args).arg(exe);
            command
        }
        None => Command::new(exe),
    };
    command.args([test, "--exact", "--ignored", "--nocapture", "--test-threads=1"]).env("EHR_FILES_CHILD", "1");
    for (key, value) in envs {
        command.env(key, value);
    }
    command.output().unwrap()
}

fn assert_child_passed(output: &std::process::Output) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "child failed ({}):\n{stdout}\n{stderr}", output.status);
    assert!(stdout.contains("1 passed"), "the child test did not run:\n{stdout}\n{stderr}");
    eprintln!("{stderr}");
}

fn peak_rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|line| line.starts_with("VmHWM:")).unwrap();
    let kib: u64 = line.trim_start_matches("VmHWM:").trim().trim_end_matches("kB").trim().parse().unwrap();
    kib * 1024
}

#[test]
fn memory_stays_bounded_for_large_files() {
    // In a child process: the other tests of this binary run in parallel threads and would
    // raise this process's peak memory.
    assert_child_passed(&run_child("memory_bound_child", &[], &[]));
}

#[tokio::test]
#[ignore = "run by memory_stays_bounded_for_large_files in a child process"]
async fn memory_bound_child() {
    if std::env::var_os("EHR_FILES_CHILD").is_none() {
        return;
    }
    const SIZE: u64 = 256 * MIB as u64;
    // sha256 of 256 MiB of zero bytes.
    const ZEROS_SHA256: &str = "a6d72ac7690f53be6ae46ba88506bd97302a093f7108472bd9efc3cefda06484";
    let work = tempfile::tempdir().unwrap();
    let store = FileStore::open(work.path().join("store").to_str().unwrap()).unwrap();
    let scan = work.path().join("sparse.dcm");
    std::fs::File::create(&scan).unwrap().set_len(SIZE).unwrap();
    let before = peak_rss_bytes();

    let stored = store.upload(&scan, None, Progress::hidden()).await.unwrap();
    let dest = work.path().join("back.dcm");
    store.download(&stored.location, &stored.sha256, &dest, Progress::hidden()).await.unwrap();

    let growth = peak_rss_bytes().saturating_sub(before);
    eprintln!("peak RSS grew by {} MiB moving a {} MiB file both ways", growth / MIB as u64, SIZE / MIB as u64);
    assert_eq!(stored.sha256, ZEROS_SHA256);
    assert_eq!(std::fs::metadata(&dest).unwrap().len(), SIZE);
    assert!(growth < 100 * MIB as u64, "peak RSS grew by {growth} bytes: the file was buffered");
}

#[test]
fn a_full_disk_is_reported_as_such() {
    // A tiny tmpfs in a private mount namespace fills up for real; it needs the right to
    // create namespaces (root, as CI runs here); where that is refused the test fails and says so.
    let probe = Command::new("unshare").args(["--mount", "--propagation", "private", "true"]).output();
    assert!(
        probe.is_ok_and(|output| output.status.success()),
        "cannot create a mount namespace (`unshare --mount` refused): run this test as root or in a container"
    );
    let mount_point = tempfile::tempdir().unwrap();
    let sources = tempfile::tempdir().unwrap();
    let script = "mount -t tmpfs -o size=4m tmpfs \"$EHR_FILES_FULL_DIR\" || exit 77; exec \"$@\"";
    let wrapper = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh"];
    let output = run_child(
        "full_disk_child",
        &wrapper,
        &[("EHR_FILES_FULL_DIR", mount_point.path()), ("EHR_FILES_SOURCES", sources.path())],
    );
    assert_ne!(output.status.code(), Some(77), "cannot mount a tmpfs here: run this test as root or in a container");
    assert_child_passed(&output);
}

#[tokio::test]
#[ignore = "run by a_full_disk_is_reported_as_such in a child process, on a 4 MiB tmpfs"]
async fn full_disk_child() {
    let (Some(full), Some(sources)) = (std::env::var_os("EHR_FILES_FULL_DIR"), std::env::var_os("EHR_FILES_SOURCES"))
    else {
        return;
    };
    let (full, sources) = (PathBuf::from(full), PathBuf::from(sources));
    let content = pseudo_random(6 * MIB, 17);
    let scan = write_file(&sources, "big.pdf", &content);

    // A store on the full file system.
    let folder = full.join("store");
    let store = FileStore::open(folder.to_str().unwrap()).unwrap();
    let err = store.upload(&scan, None, Progress::hidden()).await.unwrap_err();
    assert!(matches!(&err, FilesError::StoreFull { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!("the file store at {} is full; free space or choose another --store", folder.display())
    );
    assert_eq!(files_under(&folder), Vec::<PathBuf>::new(), "the partial upload must be deleted");

    // A download onto the full file system.
    let roomy = FileStore::open(sources.join("store").to_str().unwrap()).unwrap();
    let stored = roomy.upload(&scan, None, Progress::hidden()).await.unwrap();
    let dest = full.join("big.pdf");
    let err = roomy.download(&stored.location, &stored.sha256, &dest, Progress::hidden()).await.unwrap_err();
    assert!(matches!(&err, FilesError::DestinationFull { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!("the destination {} is full; free space or choose another destination", dest.display())
    );
    assert_eq!(files_under(&full), Vec::<PathBuf>::new(), "the partial download must be deleted");
}
