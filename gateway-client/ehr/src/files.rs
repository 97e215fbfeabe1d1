//! Off-chain storage of medical files (CT/MRI reports, lab images), content-addressed by SHA-256.
//!
//! The ledger records a file's hash, size and media type, never its bytes: scans are far too
//! large for world state and must stay erasable. The bytes live in an object store — a local
//! folder, S3 or an S3-compatible store such as MinIO — under the name of their own hash, so
//! whoever holds a ledger record can fetch the file and prove it is the one that was recorded.
//!
//! # Layout of a store
//!
//! - `<prefix>/sha256/<first two hex digits>/<64 hex digits>`: the content address. An object
//!   only ever appears here once its whole content has been hashed, so a name always matches
//!   its bytes unless someone alters the store behind our back (which [`FileStore::download`]
//!   detects).
//! - `<prefix>/enc/<key id>/<first two hex digits>/<64 hex digits>`: the same for a store
//!   opened with a patient's file key ([`FileStore::encrypted_with`]). The name is still the
//!   SHA-256 of the *plaintext* (what the ledger records); the object is a 32-byte header
//!   (`EHRX1` and a random 24-byte nonce) and the content under XChaCha20 with that key.
//!   Integrity comes from the ledger's hash, checked after decryption; confidentiality
//!   from the key, which lives only in the ledger's private data: erasing the patient purges
//!   it, and every stored copy becomes unreadable (crypto-shredding).
//! - `<prefix>/tmp/<unique name>`: uploads in progress. They are renamed into their content
//!   address, or deleted, before [`FileStore::upload`] returns; an interrupted process may leave
//!   one behind, which is safe to delete.
//!
//! # Invariants
//!
//! - Memory stays bounded: files are read, hashed and sent in [`CHUNK_SIZE`] chunks with a few
//!   parts in flight, whatever the file size.
//! - Nothing is published unverified: an upload whose source changed while it was read is
//!   discarded, and a download whose hash differs from the ledger's never reaches its
//!   destination path.

use std::error::Error as StdError;
use std::fmt;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use chacha20::XChaCha20;
use chacha20::cipher::{KeyIvInit, StreamCipher};
use futures::TryStreamExt;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::path::Path as ObjectPath;
use object_store::{GetResultPayload, MultipartUpload, ObjectStore};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use url::Url;

/// Size of the chunks files are read, hashed, uploaded and written in (8 MiB).
///
/// Also the multipart part size, which S3 requires to be at least 5 MiB.
pub const CHUNK_SIZE: usize = 8 * 1024 * 1024;

/// Parts uploaded concurrently; with [`CHUNK_SIZE`] this bounds an upload's buffers to ~40 MiB.
const PARTS_IN_FLIGHT: usize = 4;

/// Errors of the file store; each message says what happened and what to do about it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FilesError {
    /// The file to upload does not exist.
    #[error("input file {} does not exist", path.display())]
    MissingInput {
        /// The path that was given.
        path: PathBuf,
    },
    /// The path to upload is a directory or another non-regular file.
    #[error("{} is not a regular file", path.display())]
    NotAFile {
        /// The path that was given.
        path: PathBuf,
    },
    /// The file was written to while it was being uploaded, so its hash would describe no
    /// version of it that ever existed; the partial upload was deleted.
    #[error(
        "{} changed while it was being uploaded; nothing was stored or recorded; \
         upload it again when it is no longer being written",
        path.display()
    )]
    Changed {
        /// The file that changed.
        path: PathBuf,
    },
    /// The stored bytes do not hash to what the ledger records; nothing was written.
    #[error(
        "downloaded content has sha256 {actual} but the ledger records {expected}; \
         the stored file was altered or corrupted — do not use it"
    )]
    HashMismatch {
        /// Hash of the bytes found in the store.
        actual: String,
        /// Hash the caller expected (the ledger's).
        expected: String,
    },
    /// The stored object is not a file encrypted with a patient's file key: it
    /// was altered, or stored without the key; nothing was written.
    #[error(
        "{location} is not an encrypted EHR file ({reason}): the stored file was altered, or stored without the patient's file key — do not use it"
    )]
    NotEncrypted {
        /// Where it was read.
        location: String,
        /// What was wrong.
        reason: String,
    },
    /// No object exists at the location.
    #[error("no file is stored at {location}")]
    NotFound {
        /// The location that was looked up.
        location: String,
    },
    /// The store ran out of space during an upload; the partial upload was deleted.
    #[error("the file store at {store} is full; free space or choose another --store")]
    StoreFull {
        /// The store's folder or URL.
        store: String,
    },
    /// The destination's file system ran out of space during a download; nothing was written.
    #[error("the destination {} is full; free space or choose another destination", path.display())]
    DestinationFull {
        /// The destination path that was given.
        path: PathBuf,
    },
    /// The operating system or the store refused access.
    #[error("permission denied on {what}; check its permissions or the store credentials")]
    PermissionDenied {
        /// What could not be accessed.
        what: String,
    },
    /// The store location is a URL whose scheme is not supported.
    #[error(
        "unknown store URL scheme `{scheme}` in {location}; use a folder path or a file://, s3:// or memory:// URL"
    )]
    UnknownScheme {
        /// The scheme found.
        scheme: String,
        /// The whole location.
        location: String,
    },
    /// A store or file location that cannot be parsed or used.
    #[error("invalid file location {location}: {reason}")]
    InvalidLocation {
        /// The location that was given.
        location: String,
        /// Why it is invalid.
        reason: String,
    },
    /// A value that should be a SHA-256 hash is not one.
    #[error("`{value}` is not a sha256 hash (64 hexadecimal characters)")]
    InvalidHash {
        /// The value that was given.
        value: String,
    },
    /// Another local I/O failure.
    #[error("{action}: {source}")]
    Io {
        /// What was being done.
        action: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// Another object store failure (network, credentials, server error).
    #[error("{action}: {source}")]
    Store {
        /// What was being done.
        action: String,
        /// The underlying error.
        #[source]
        source: object_store::Error,
    },
    /// A background I/O task stopped before finishing (the runtime is shutting down).
    #[error("a background file task stopped unexpectedly: {source}")]
    Task {
        /// The underlying error.
        #[source]
        source: tokio::task::JoinError,
    },
}

/// What the ledger needs to know about a stored file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredFile {
    /// SHA-256 of the content, 64 lowercase hex digits.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// Media (MIME) type, e.g. `application/pdf`.
    pub media_type: String,
    /// Where the content is stored: the store's URL followed by the object path, e.g.
    /// `s3://bucket/prefix/sha256/ab/ab…`. Enough, with the hash, to download it later.
    pub location: String,
}

impl From<StoredFile> for ehr_api::model::Attachment {
    /// The file as a record names it.
    fn from(f: StoredFile) -> Self {
        Self { sha256: f.sha256, size: f.size, media_type: f.media_type, location: f.location }
    }
}

/// Reports the progress of long work to the caller, who draws it as it likes
/// (a terminal bar in the `ehr` tool, log lines, a web page): this library
/// draws nothing. Transfers count bytes; a FHIR import counts records.
///
/// Uploads and downloads report after every chunk, so a user waiting on a
/// 2 GiB scan can be shown that it moves. The callbacks run on the
/// transferring task between chunks, so they must return quickly.
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use std::sync::Arc;
/// let seen = Arc::new(AtomicU64::new(0));
/// let progress = ehr_client::files::Progress::hidden()
///     .on_total(|total| println!("{total} bytes to go"))
///     .observe({ let seen = seen.clone(); move |done| seen.store(done, Ordering::Relaxed) });
/// # let _ = progress;
/// ```
#[derive(Clone, Default)]
pub struct Progress {
    total: Option<Arc<dyn Fn(u64) + Send + Sync>>,
    observer: Option<Arc<dyn Fn(u64) + Send + Sync>>,
    finished: Option<Arc<dyn Fn(bool) + Send + Sync>>,
}

impl fmt::Debug for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Progress")
            .field("total", &self.total.is_some())
            .field("observer", &self.observer.is_some())
            .field("finished", &self.finished.is_some())
            .finish()
    }
}

impl Progress {
    /// Reports nothing; for scripts, tests and callers that do not show progress.
    pub fn hidden() -> Self {
        Self::default()
    }

    /// Calls `total` once the transfer knows its size in bytes.
    pub fn on_total(mut self, total: impl Fn(u64) + Send + Sync + 'static) -> Self {
        self.total = Some(Arc::new(total));
        self
    }

    /// Calls `observer` after each chunk with the number of bytes transferred so far.
    pub fn observe(mut self, observer: impl Fn(u64) + Send + Sync + 'static) -> Self {
        self.observer = Some(Arc::new(observer));
        self
    }

    /// Calls `finished` when the transfer ends, with whether it succeeded.
    pub fn on_finish(mut self, finished: impl Fn(bool) + Send + Sync + 'static) -> Self {
        self.finished = Some(Arc::new(finished));
        self
    }

    pub(crate) fn start(&self, total: u64) {
        if let Some(report) = &self.total {
            report(total);
        }
    }

    pub(crate) fn advance(&self, done: u64) {
        if let Some(observer) = &self.observer {
            observer(done);
        }
    }

    pub(crate) fn finish(&self, ok: bool) {
        if let Some(report) = &self.finished {
            report(ok);
        }
    }
}

/// S3 settings given by the caller (keys such as `aws_access_key_id`,
/// `aws_endpoint`); the library never reads the environment itself.
#[derive(Clone, Default)]
struct S3Settings(Vec<(String, String)>);

impl S3Settings {
    fn builder(&self, location: &str) -> Result<AmazonS3Builder, FilesError> {
        let mut builder = AmazonS3Builder::new();
        for (key, value) in &self.0 {
            let key: AmazonS3ConfigKey = key.parse().map_err(|err| FilesError::InvalidLocation {
                location: location.to_owned(),
                reason: format!("unknown S3 option `{key}`: {err}"),
            })?;
            builder = builder.with_config(key, value);
        }
        Ok(builder.with_url(location))
    }
}

/// A content-addressed file store: an object store plus the prefix under which files live.
///
/// Cheap to clone. Open one with [`FileStore::open`] from the `--store` location.
#[derive(Clone)]
pub struct FileStore {
    store: Arc<dyn ObjectStore>,
    /// Object path prefix inside `store` (empty for a local folder, whose store is rooted there).
    prefix: ObjectPath,
    /// URL of `store`'s root without a trailing slash; `root_url/object_path` is a location.
    root_url: String,
    /// How to name the store in messages: the folder path or the URL.
    display: String,
    s3: S3Settings,
    /// A patient's file key: what is stored is encrypted with it.
    encryption: Option<Encryption>,
}

/// The magic that opens every encrypted object (version 1 of the layout).
const ENCRYPTED_MAGIC: &[u8; 8] = b"EHRX1\0\0\0";
/// Magic and nonce.
const ENCRYPTED_HEADER: usize = 32;

#[derive(Clone)]
struct Encryption {
    key: [u8; 32],
    /// Names the key in object paths without revealing it.
    id: String,
}

impl Encryption {
    fn new(key: [u8; 32]) -> Self {
        let mut h = Sha256::new();
        h.update(b"ehr file key id v1");
        h.update(key);
        Self { key, id: hex::encode(&h.finalize()[..8]) }
    }

    fn cipher(&self, nonce: [u8; 24]) -> XChaCha20 {
        XChaCha20::new(&self.key.into(), &nonce.into())
    }
}

/// Decrypts a stored object piece by piece: the header first, then the stream.
struct Decryptor<'a> {
    encryption: &'a Encryption,
    header: Vec<u8>,
    cipher: Option<XChaCha20>,
}

impl<'a> Decryptor<'a> {
    fn new(encryption: &'a Encryption) -> Self {
        Self { encryption, header: Vec::with_capacity(ENCRYPTED_HEADER), cipher: None }
    }

    /// The plaintext of `pieces`, which continue the object where the last call stopped.
    fn feed(&mut self, pieces: Vec<Bytes>, location: &str) -> Result<Vec<Bytes>, FilesError> {
        let mut out = Vec::with_capacity(pieces.len());
        for piece in pieces {
            let mut rest = &piece[..];
            if self.cipher.is_none() {
                let take = (ENCRYPTED_HEADER - self.header.len()).min(rest.len());
                self.header.extend_from_slice(&rest[..take]);
                rest = &rest[take..];
                if self.header.len() < ENCRYPTED_HEADER {
                    continue;
                }
                if &self.header[..8] != ENCRYPTED_MAGIC {
                    return Err(FilesError::NotEncrypted {
                        location: location.to_owned(),
                        reason: "it does not start with the EHRX1 header".to_owned(),
                    });
                }
                let mut nonce = [0u8; 24];
                nonce.copy_from_slice(&self.header[8..]);
                self.cipher = Some(self.encryption.cipher(nonce));
            }
            if let Some(cipher) = self.cipher.as_mut()
                && !rest.is_empty()
            {
                let mut plain = rest.to_vec();
                cipher.apply_keystream(&mut plain);
                out.push(Bytes::from(plain));
            }
        }
        Ok(out)
    }

    fn finish(&self, location: &str) -> Result<(), FilesError> {
        match self.cipher {
            Some(_) => Ok(()),
            None => Err(FilesError::NotEncrypted {
                location: location.to_owned(),
                reason: format!("it is shorter than the {ENCRYPTED_HEADER}-byte header"),
            }),
        }
    }
}

impl fmt::Debug for FileStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Options may hold credentials: show only where the store is.
        f.debug_struct("FileStore").field("url", &self.url()).finish()
    }
}

impl FileStore {
    /// Opens the store at `location`: a folder path (created if missing), or a `file://`,
    /// `s3://bucket/prefix` or `memory://` URL.
    ///
    /// An S3 store opened this way has no settings beyond its URL; use
    /// [`FileStore::open_with_options`] for credentials and endpoints. `memory://` keeps files
    /// in this process only, for tests.
    pub fn open(location: &str) -> Result<Self, FilesError> {
        Self::open_inner(location, S3Settings::default())
    }

    /// Like [`FileStore::open`], with S3 settings (keys such as `aws_access_key_id`,
    /// `aws_region`, `aws_endpoint` for MinIO and other S3-compatible stores, `aws_allow_http`).
    /// The `ehr` tool passes its `AWS_*` environment variables here, the way AWS tools read them.
    pub fn open_with_options<I, K, V>(location: &str, options: I) -> Result<Self, FilesError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let options = options.into_iter().map(|(key, value)| (key.into(), value.into())).collect();
        Self::open_inner(location, S3Settings(options))
    }

    fn open_inner(location: &str, s3: S3Settings) -> Result<Self, FilesError> {
        if !location.contains("://") {
            return Self::open_folder(Path::new(location), s3);
        }
        let invalid = |reason: String| FilesError::InvalidLocation { location: location.to_owned(), reason };
        let url = Url::parse(location).map_err(|err| invalid(err.to_string()))?;
        match url.scheme() {
            "file" => {
                let folder = url.to_file_path().map_err(|()| invalid("not an absolute local path".to_owned()))?;
                Self::open_folder(&folder, s3)
            }
            "s3" | "s3a" => {
                let bucket = url.host_str().ok_or_else(|| invalid("no bucket name".to_owned()))?;
                let root_url = format!("{}://{bucket}", url.scheme());
                let prefix = ObjectPath::from_url_path(url.path()).map_err(|err| invalid(err.to_string()))?;
                let store = s3.builder(location)?.build().map_err(|source| FilesError::Store {
                    action: format!("opening the file store at {location}"),
                    source,
                })?;
                Ok(Self {
                    store: Arc::new(store),
                    prefix,
                    display: location.to_owned(),
                    root_url,
                    s3,
                    encryption: None,
                })
            }
            "memory" => {
                let prefix = ObjectPath::from_url_path(url.path()).map_err(|err| invalid(err.to_string()))?;
                Ok(Self {
                    store: Arc::new(InMemory::new()),
                    prefix,
                    root_url: "memory://".to_owned(),
                    display: location.to_owned(),
                    s3,
                    encryption: None,
                })
            }
            scheme => Err(FilesError::UnknownScheme { scheme: scheme.to_owned(), location: location.to_owned() }),
        }
    }

    fn open_folder(folder: &Path, s3: S3Settings) -> Result<Self, FilesError> {
        let shown = folder.display().to_string();
        std::fs::create_dir_all(folder).map_err(|err| io_error(err, &shown, "creating the file store folder"))?;
        let folder = std::fs::canonicalize(folder).map_err(|err| io_error(err, &shown, "opening the file store"))?;
        let display = folder.display().to_string();
        let url = Url::from_directory_path(&folder).map_err(|()| FilesError::InvalidLocation {
            location: display.clone(),
            reason: "not an absolute local path".to_owned(),
        })?;
        let store = LocalFileSystem::new_with_prefix(&folder)
            .map_err(|source| FilesError::Store { action: format!("opening the file store at {display}"), source })?;
        Ok(Self {
            store: Arc::new(store),
            prefix: ObjectPath::default(),
            root_url: url.as_str().trim_end_matches('/').to_owned(),
            display,
            s3,
            encryption: None,
        })
    }

    /// This store, encrypting what it uploads and decrypting what it downloads
    /// with `key`, a patient's file key (see the module's layout). One store per
    /// patient: the key is the patient's, and so are the objects it names.
    pub fn encrypted_with(&self, key: [u8; 32]) -> Self {
        Self { encryption: Some(Encryption::new(key)), ..self.clone() }
    }

    /// The store's URL including its prefix, e.g. `file:///srv/ehr-files` or `s3://bucket/ehr`.
    pub fn url(&self) -> String {
        if self.prefix.as_ref().is_empty() {
            self.root_url.clone()
        } else {
            format!("{}/{}", self.root_url, self.prefix)
        }
    }

    /// Stores the file at `path` under its SHA-256 and returns what the ledger should record.
    ///
    /// The file is streamed: read, hashed and uploaded in [`CHUNK_SIZE`] chunks to a temporary
    /// object, which is renamed to its content address once the whole file has been hashed
    /// (or deleted if that content is already stored). `media_type` defaults to a guess from
    /// the extension ([`guess_media_type`]).
    ///
    /// # Errors
    ///
    /// [`FilesError::MissingInput`], [`FilesError::NotAFile`], [`FilesError::Changed`] when the
    /// file is modified during the upload, [`FilesError::StoreFull`],
    /// [`FilesError::PermissionDenied`], and [`FilesError::Io`] / [`FilesError::Store`] for other
    /// failures. On error nothing is left under the content address.
    pub async fn upload(
        &self,
        path: &Path,
        media_type: Option<&str>,
        progress: Progress,
    ) -> Result<StoredFile, FilesError> {
        let result = self.upload_inner(path, media_type, &progress).await;
        progress.finish(result.is_ok());
        result
    }

    async fn upload_inner(
        &self,
        path: &Path,
        media_type: Option<&str>,
        progress: &Progress,
    ) -> Result<StoredFile, FilesError> {
        let media_type = media_type.map_or_else(|| guess_media_type(path).to_owned(), str::to_owned);
        let (file, before) = blocking({
            let path = path.to_path_buf();
            move || open_input(&path)
        })
        .await??;
        progress.start(before.size);

        let temp = self.temp_path();
        let upload =
            self.store.put_multipart(&temp).await.map_err(|err| self.store_error(err, "starting an upload"))?;
        let mut parts = Parts::new(upload);
        let sent = async {
            let (sha256, size) = self.send(&mut parts, file, path, before.size, progress).await?;
            let after = blocking({
                let path = path.to_path_buf();
                move || std::fs::metadata(path).ok().map(|meta| Fingerprint::of(&meta))
            })
            .await?;
            if size == before.size && after == Some(before) {
                Ok(sha256)
            } else {
                Err(FilesError::Changed { path: path.to_path_buf() })
            }
        };
        let sha256 = match sent.await {
            Ok(sha256) => sha256,
            Err(err) => {
                parts.abort(&temp).await;
                return Err(err);
            }
        };
        parts.complete(&temp).await.map_err(|err| self.store_error(err, "finishing an upload"))?;

        let content = self.content_path(&sha256);
        if let Err(err) = self.publish(&temp, &content).await {
            if let Err(delete) = self.store.delete(&temp).await {
                tracing::warn!(temp = %temp, error = %delete, "could not delete a temporary upload");
            }
            return Err(err);
        }
        Ok(StoredFile { sha256, size: before.size, media_type, location: self.location_of(&content) })
    }

    /// Reads, hashes and hands `file` to `parts` chunk by chunk; returns the hash and the
    /// number of bytes read, stopping early once more than `expected` bytes were read.
    async fn send(
        &self,
        parts: &mut Parts,
        file: std::fs::File,
        path: &Path,
        expected: u64,
        progress: &Progress,
    ) -> Result<(String, u64), FilesError> {
        let mut cipher = match &self.encryption {
            Some(encryption) => {
                let mut nonce = [0u8; 24];
                rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut nonce);
                let mut header = ENCRYPTED_MAGIC.to_vec();
                header.extend_from_slice(&nonce);
                parts.put(Bytes::from(header));
                Some(encryption.cipher(nonce))
            }
            None => None,
        };
        let mut state = (file, Sha256::new());
        let mut done: u64 = 0;
        loop {
            // Back pressure: never more than PARTS_IN_FLIGHT parts buffered.
            parts.settle(PARTS_IN_FLIGHT - 1).await.map_err(|err| self.store_error(err, "uploading"))?;
            let (next, chunk) = blocking(move || {
                let (mut file, mut hasher, mut cipher) = (state.0, state.1, cipher);
                let mut chunk = read_chunk(&mut file, CHUNK_SIZE)?;
                hasher.update(&chunk);
                if let Some(c) = cipher.as_mut() {
                    c.apply_keystream(&mut chunk);
                }
                Ok::<_, io::Error>(((file, hasher, cipher), chunk))
            })
            .await?
            .map_err(|err| io_error(err, &path.display().to_string(), "reading the input file"))?;
            state = (next.0, next.1);
            cipher = next.2;
            if chunk.is_empty() {
                break;
            }
            let len = chunk.len() as u64;
            done += len;
            if done > expected {
                // Growing: stop now rather than chase a file that is still being written.
                return Err(FilesError::Changed { path: path.to_path_buf() });
            }
            parts.put(Bytes::from(chunk));
            progress.advance(done);
        }
        Ok((hex::encode(state.1.finalize()), done))
    }

    /// Moves a fully uploaded temporary object to its content address, or drops it if that
    /// content is already stored.
    async fn publish(&self, temp: &ObjectPath, content: &ObjectPath) -> Result<(), FilesError> {
        match self.store.head(content).await {
            Ok(_) => {
                if let Err(err) = self.store.delete(temp).await {
                    // The content is stored; a leftover temporary object is only clutter.
                    tracing::warn!(temp = %temp, error = %err, "could not delete a temporary upload");
                }
                Ok(())
            }
            Err(object_store::Error::NotFound { .. }) => {
                self.store.rename(temp, content).await.map_err(|err| self.store_error(err, "storing an upload"))
            }
            Err(err) => Err(self.store_error(err, "checking for an existing copy")),
        }
    }

    /// Fetches a stored file into `dest` if, and only if, its SHA-256 is `expected_sha256`.
    ///
    /// `location_or_hash` is a location returned by [`FileStore::upload`] — from this store or
    /// another `file://` or `s3://` store — or a bare hash, looked up in this store. The content
    /// is streamed to a temporary file next to `dest`, hashed on the way, and renamed onto
    /// `dest` (replacing it) only once the hash matches. Stores keep no media type (the ledger
    /// does), so the returned one is guessed from `dest`'s extension.
    ///
    /// # Errors
    ///
    /// [`FilesError::HashMismatch`] when the stored bytes were altered,
    /// [`FilesError::NotFound`], [`FilesError::InvalidHash`], [`FilesError::InvalidLocation`],
    /// [`FilesError::UnknownScheme`], [`FilesError::DestinationFull`],
    /// [`FilesError::PermissionDenied`], [`FilesError::Io`] and [`FilesError::Store`]. On
    /// error neither `dest` nor a temporary file is written.
    pub async fn download(
        &self,
        location_or_hash: &str,
        expected_sha256: &str,
        dest: &Path,
        progress: Progress,
    ) -> Result<StoredFile, FilesError> {
        let result = self.download_inner(location_or_hash, expected_sha256, dest, &progress).await;
        progress.finish(result.is_ok());
        result
    }

    async fn download_inner(
        &self,
        location_or_hash: &str,
        expected_sha256: &str,
        dest: &Path,
        progress: &Progress,
    ) -> Result<StoredFile, FilesError> {
        let expected = normalize_sha256(expected_sha256)?;
        let (store, object, location) = self.resolve(location_or_hash)?;
        let got = store.get(&object).await.map_err(|err| match err {
            object_store::Error::NotFound { .. } => FilesError::NotFound { location: location.clone() },
            err => classify_store_error(err, &location, "reading"),
        })?;
        progress.start(got.meta.size);

        let (file, mut temp) = blocking({
            let dest = dest.to_path_buf();
            move || TempFile::create_next_to(&dest)
        })
        .await??;
        let mut writer = Download {
            sink: Some((file, Sha256::new())),
            done: 0,
            decryptor: self.encryption.as_ref().map(Decryptor::new),
            location: location.clone(),
            dest: dest.to_path_buf(),
            progress,
        };
        match got.payload {
            GetResultPayload::File(source, _) => writer.copy_file(source, got.range).await?,
            GetResultPayload::Stream(stream) => writer.copy_stream(stream).await?,
        }
        let size = match &writer.decryptor {
            Some(d) => {
                d.finish(&location)?;
                writer.done.saturating_sub(ENCRYPTED_HEADER as u64)
            }
            None => writer.done,
        };
        let (file, hasher) = writer.sink.take().ok_or_else(|| writer.dest_error(io::ErrorKind::Other.into()))?;
        blocking(move || file.sync_all()).await?.map_err(|e| writer.dest_error(e))?;
        let actual = hex::encode(hasher.finalize());
        if actual != expected {
            return Err(FilesError::HashMismatch { actual, expected });
        }
        temp.persist(dest).await.map_err(|e| writer.dest_error(e))?;
        Ok(StoredFile { sha256: actual, size, media_type: guess_media_type(dest).to_owned(), location })
    }

    /// Finds the store and object a location or bare hash refers to.
    fn resolve(&self, location_or_hash: &str) -> Result<(Arc<dyn ObjectStore>, ObjectPath, String), FilesError> {
        if let Ok(hash) = normalize_sha256(location_or_hash) {
            let object = self.content_path(&hash);
            let location = self.location_of(&object);
            return Ok((Arc::clone(&self.store), object, location));
        }
        let location = location_or_hash.to_owned();
        let invalid = |reason: String| FilesError::InvalidLocation { location: location.clone(), reason };
        if let Some(rest) = location.strip_prefix(&self.root_url).and_then(|rest| rest.strip_prefix('/')) {
            let object = ObjectPath::parse(rest).map_err(|err| invalid(err.to_string()))?;
            return Ok((Arc::clone(&self.store), object, location));
        }
        if !location.contains("://") {
            return Err(invalid("neither a sha256 hash nor a URL such as file://… or s3://…".to_owned()));
        }
        let url = Url::parse(&location).map_err(|err| invalid(err.to_string()))?;
        let object = ObjectPath::from_url_path(url.path()).map_err(|err| invalid(err.to_string()))?;
        let store: Arc<dyn ObjectStore> = match url.scheme() {
            "file" => Arc::new(LocalFileSystem::new()),
            "s3" | "s3a" => {
                let bucket = url.host_str().ok_or_else(|| invalid("no bucket name".to_owned()))?;
                let root = format!("{}://{bucket}", url.scheme());
                let store = self.s3.builder(&root)?.build().map_err(|source| FilesError::Store {
                    action: format!("opening the file store at {root}"),
                    source,
                })?;
                Arc::new(store)
            }
            "memory" => {
                return Err(invalid("a memory:// file can only be read through the store that wrote it".to_owned()));
            }
            scheme => return Err(FilesError::UnknownScheme { scheme: scheme.to_owned(), location }),
        };
        Ok((store, object, location))
    }

    fn content_path(&self, sha256: &str) -> ObjectPath {
        let fanout = sha256.get(..2).unwrap_or("00");
        match &self.encryption {
            Some(e) => self.prefix.child("enc").child(e.id.as_str()).child(fanout).child(sha256),
            None => self.prefix.child("sha256").child(fanout).child(sha256),
        }
    }

    fn temp_path(&self) -> ObjectPath {
        self.prefix.child("tmp").child(unique_name().as_str())
    }

    fn location_of(&self, object: &ObjectPath) -> String {
        format!("{}/{object}", self.root_url)
    }

    fn store_error(&self, err: object_store::Error, action: &str) -> FilesError {
        classify_store_error(err, &self.display, action)
    }
}

/// Guesses a media type from a file name's extension, for uploads given none.
///
/// Covers what an EHR holds (reports, scans, DICOM images, lab exports); anything else is
/// `application/octet-stream`.
pub fn guess_media_type(path: &Path) -> &'static str {
    let extension = path.extension().and_then(|ext| ext.to_str()).unwrap_or_default().to_ascii_lowercase();
    match extension.as_str() {
        "pdf" => "application/pdf",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "tif" | "tiff" => "image/tiff",
        "dcm" | "dicom" => "application/dicom",
        "txt" => "text/plain",
        "csv" => "text/csv",
        "json" => "application/json",
        "xml" => "application/xml",
        _ => "application/octet-stream",
    }
}

/// Checks that `value` is a SHA-256 in hex and returns it in lowercase.
fn normalize_sha256(value: &str) -> Result<String, FilesError> {
    if value.len() == 64 && value.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        Ok(value.to_ascii_lowercase())
    } else {
        Err(FilesError::InvalidHash { value: value.to_owned() })
    }
}

/// What identifies one version of a file, to notice it being modified or replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fingerprint {
    size: u64,
    modified: Option<SystemTime>,
    #[cfg(unix)]
    identity: (u64, u64, i64, i64),
}

impl Fingerprint {
    fn of(meta: &std::fs::Metadata) -> Self {
        #[cfg(unix)]
        use std::os::unix::fs::MetadataExt;
        Self {
            size: meta.len(),
            modified: meta.modified().ok(),
            // Device, inode and status-change time: catch a replaced file, or a modification
            // whose modification time was put back.
            #[cfg(unix)]
            identity: (meta.dev(), meta.ino(), meta.ctime(), meta.ctime_nsec()),
        }
    }
}

fn open_input(path: &Path) -> Result<(std::fs::File, Fingerprint), FilesError> {
    let shown = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|err| match err.kind() {
        io::ErrorKind::NotFound => FilesError::MissingInput { path: path.to_path_buf() },
        _ => io_error(err, &shown, "opening the input file"),
    })?;
    let meta = file.metadata().map_err(|err| io_error(err, &shown, "reading the input file's metadata"))?;
    if !meta.is_file() {
        return Err(FilesError::NotAFile { path: path.to_path_buf() });
    }
    Ok((file, Fingerprint::of(&meta)))
}

/// Reads up to `limit` bytes, fewer only at the end of the file.
fn read_chunk(file: &mut std::fs::File, limit: usize) -> io::Result<Vec<u8>> {
    let mut chunk = vec![0; limit];
    let mut filled = 0;
    while filled < limit {
        match file.read(chunk.get_mut(filled..).unwrap_or_default()) {
            Ok(0) => break,
            Ok(read) => filled += read,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
    chunk.truncate(filled);
    Ok(chunk)
}

/// A download being written: the destination's temporary file and its hash,
/// the decryptor when the store is encrypted, and the progress so far.
struct Download<'a> {
    /// `None` only while a write is in flight on the blocking pool.
    sink: Option<(std::fs::File, Sha256)>,
    done: u64,
    decryptor: Option<Decryptor<'a>>,
    location: String,
    dest: PathBuf,
    progress: &'a Progress,
}

impl Download<'_> {
    /// Decrypts (when encrypted), writes and hashes `pieces`, then reports progress.
    async fn write(&mut self, pieces: Vec<Bytes>) -> Result<(), FilesError> {
        let len: u64 = pieces.iter().map(|p| p.len() as u64).sum();
        let plain = match self.decryptor.as_mut() {
            Some(d) => d.feed(pieces, &self.location)?,
            None => pieces,
        };
        let sink = self.sink.take().ok_or_else(|| self.dest_error(io::ErrorKind::Other.into()))?;
        self.sink = Some(write_hashed(sink, plain).await?.map_err(|e| self.dest_error(e))?);
        self.done += len;
        self.progress.advance(self.done);
        Ok(())
    }

    /// Local stores hand over the open file: copy it in big chunks, off the runtime.
    async fn copy_file(&mut self, source: std::fs::File, range: std::ops::Range<u64>) -> Result<(), FilesError> {
        let location = self.location.clone();
        let read_error = move |err: io::Error| FilesError::Io { action: format!("reading {location}"), source: err };
        let mut remaining = range.end.saturating_sub(range.start);
        let mut source = blocking(move || {
            let mut source = source;
            source.seek(SeekFrom::Start(range.start)).map(|_| source)
        })
        .await?
        .map_err(&read_error)?;
        while remaining > 0 {
            let want = usize::try_from(remaining.min(CHUNK_SIZE as u64)).unwrap_or(CHUNK_SIZE);
            let (next, chunk) = blocking(move || {
                let mut source = source;
                read_chunk(&mut source, want).map(|chunk| (source, chunk))
            })
            .await?
            .map_err(&read_error)?;
            source = next;
            if chunk.is_empty() {
                break;
            }
            remaining = remaining.saturating_sub(chunk.len() as u64);
            self.write(vec![Bytes::from(chunk)]).await?;
        }
        Ok(())
    }

    /// Network stores send small pieces: gather up to a chunk, then write it at once.
    async fn copy_stream(
        &mut self,
        mut stream: futures::stream::BoxStream<'static, object_store::Result<Bytes>>,
    ) -> Result<(), FilesError> {
        let mut pending = Vec::new();
        let mut pending_len = 0usize;
        loop {
            let piece = stream.try_next().await.map_err(|err| classify_store_error(err, &self.location, "reading"))?;
            let end = piece.is_none();
            if let Some(piece) = piece {
                pending_len += piece.len();
                pending.push(piece);
            }
            if pending_len >= CHUNK_SIZE || (end && pending_len > 0) {
                self.write(std::mem::take(&mut pending)).await?;
                pending_len = 0;
            }
            if end {
                return Ok(());
            }
        }
    }

    fn dest_error(&self, err: io::Error) -> FilesError {
        let dest = &self.dest;
        match err.kind() {
            io::ErrorKind::StorageFull => FilesError::DestinationFull { path: dest.clone() },
            io::ErrorKind::PermissionDenied => FilesError::PermissionDenied { what: dest.display().to_string() },
            _ => FilesError::Io { action: format!("writing {}", dest.display()), source: err },
        }
    }
}

/// Writes `pieces` to the file and the hasher, off the async runtime.
async fn write_hashed(
    (file, hasher): (std::fs::File, Sha256),
    pieces: Vec<Bytes>,
) -> Result<io::Result<(std::fs::File, Sha256)>, FilesError> {
    blocking(move || {
        let (mut file, mut hasher) = (file, hasher);
        for piece in &pieces {
            file.write_all(piece)?;
            hasher.update(piece);
        }
        Ok((file, hasher))
    })
    .await
}

/// The parts of a multipart upload being sent concurrently.
///
/// Used instead of `object_store::WriteMultipart`, whose `finish` leaves the upload open when a
/// part fails: here every failure aborts the upload, so no staging file or unfinished S3
/// multipart upload outlives an error.
struct Parts {
    upload: Box<dyn MultipartUpload>,
    in_flight: tokio::task::JoinSet<object_store::Result<()>>,
}

impl Parts {
    fn new(upload: Box<dyn MultipartUpload>) -> Self {
        Self { upload, in_flight: tokio::task::JoinSet::new() }
    }

    /// Starts sending one part; every part but the last must be [`CHUNK_SIZE`] bytes.
    fn put(&mut self, chunk: Bytes) {
        self.in_flight.spawn(self.upload.put_part(chunk.into()));
    }

    /// Waits until at most `max_in_flight` parts are still being sent.
    async fn settle(&mut self, max_in_flight: usize) -> object_store::Result<()> {
        while self.in_flight.len() > max_in_flight {
            match self.in_flight.join_next().await {
                Some(Ok(sent)) => sent?,
                Some(Err(source)) => return Err(object_store::Error::JoinError { source }),
                None => break,
            }
        }
        Ok(())
    }

    /// Waits for all parts and completes the upload, aborting it on failure.
    async fn complete(mut self, temp: &ObjectPath) -> object_store::Result<()> {
        let completed = match self.settle(0).await {
            Ok(()) => self.upload.complete().await.map(drop),
            Err(err) => Err(err),
        };
        if completed.is_err() {
            self.abort(temp).await;
        }
        completed
    }

    async fn abort(mut self, temp: &ObjectPath) {
        self.in_flight.shutdown().await;
        if let Err(err) = self.upload.abort().await {
            tracing::warn!(temp = %temp, error = %err, "could not abort an upload");
        }
    }
}

/// A temporary file next to a download's destination, deleted unless persisted — also when
/// the download is cancelled or fails.
struct TempFile {
    path: PathBuf,
    keep: bool,
}

impl TempFile {
    fn create_next_to(dest: &Path) -> Result<(std::fs::File, Self), FilesError> {
        let dest_error = |err: io::Error| match err.kind() {
            io::ErrorKind::StorageFull => FilesError::DestinationFull { path: dest.to_path_buf() },
            _ => io_error(err, &dest.display().to_string(), "creating a temporary file next to"),
        };
        let name = dest.file_name().ok_or_else(|| FilesError::InvalidLocation {
            location: dest.display().to_string(),
            reason: "the destination must name a file".to_owned(),
        })?;
        let parent = match dest.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let mut temp_name = std::ffi::OsString::from(".");
        temp_name.push(name);
        temp_name.push(format!(".{}.part", unique_name()));
        let path = parent.join(temp_name);
        let file = std::fs::OpenOptions::new().write(true).create_new(true).open(&path).map_err(dest_error)?;
        Ok((file, Self { path, keep: false }))
    }

    async fn persist(&mut self, dest: &Path) -> io::Result<()> {
        tokio::fs::rename(&self.path, dest).await?;
        self.keep = true;
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// A name no other upload or download of this or another process uses at the same time.
fn unique_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|elapsed| elapsed.as_nanos()).unwrap_or_default();
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{}-{nanos:x}-{count}", std::process::id())
}

/// Runs blocking file work on tokio's blocking pool, keeping the async runtime responsive.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, FilesError> {
    tokio::task::spawn_blocking(work).await.map_err(|source| FilesError::Task { source })
}

/// Maps a local I/O error about `what` to the error the user can act on.
fn io_error(err: io::Error, what: &str, action: &str) -> FilesError {
    match err.kind() {
        io::ErrorKind::PermissionDenied => FilesError::PermissionDenied { what: what.to_owned() },
        io::ErrorKind::StorageFull => FilesError::StoreFull { store: what.to_owned() },
        _ => FilesError::Io { action: format!("{action} {what}"), source: err },
    }
}

/// Maps an object store error to the error the user can act on, looking through its causes
/// for a full disk or refused access.
fn classify_store_error(err: object_store::Error, store: &str, action: &str) -> FilesError {
    let mut full = false;
    let mut denied =
        matches!(err, object_store::Error::PermissionDenied { .. } | object_store::Error::Unauthenticated { .. });
    let mut cause: Option<&(dyn StdError + 'static)> = Some(&err);
    while let Some(current) = cause {
        if let Some(io) = current.downcast_ref::<io::Error>() {
            full |= io.kind() == io::ErrorKind::StorageFull;
            denied |= io.kind() == io::ErrorKind::PermissionDenied;
        }
        let text = current.to_string();
        // S3-compatible servers report a full disk in text only (MinIO: XMinioStorageFull).
        full |= text.contains("No space left") || text.contains("StorageFull");
        cause = current.source();
    }
    if full {
        FilesError::StoreFull { store: store.to_owned() }
    } else if denied {
        FilesError::PermissionDenied { what: format!("the file store at {store}") }
    } else {
        FilesError::Store { action: format!("{action} in the file store at {store}"), source: err }
    }
}
