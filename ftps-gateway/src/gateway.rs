//! Uploads to the gateway's service folders, journalled.

use std::path::Path;

use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::client::{FtpsClient, TransferMode};
use crate::error::{Error, Result};
use crate::journal::{Journal, UploadState};
use crate::names::{validate_name, validate_service, NameGenerator};

/// Options for one upload.
#[derive(Default)]
pub struct UploadOptions {
    /// The remote file name (the FTPTransactionID). `None`: a unique name is
    /// generated from `name_prefix`.
    pub name: Option<String>,
    /// Prefix for a generated name (default `"upload"`); the local file's
    /// extension is kept.
    pub name_prefix: Option<String>,
    /// Binary (default) or ASCII.
    pub mode: TransferMode,
    /// Called with the number of bytes sent so far.
    pub progress: Option<Box<dyn FnMut(u64) + Send>>,
}

impl std::fmt::Debug for UploadOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UploadOptions")
            .field("name", &self.name)
            .field("name_prefix", &self.name_prefix)
            .field("mode", &self.mode)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

/// What a successful upload produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadReceipt {
    /// The file name (the FTPTransactionID the status files will carry).
    pub name: String,
    /// The service folder.
    pub service: String,
    /// The path used with `STOR`.
    pub remote_path: String,
    /// Bytes read from the source.
    pub bytes: u64,
}

/// The gateway client: an [`FtpsClient`] with a [`Journal`], so that every
/// upload has a unique name, is recorded before a byte is sent, and is never
/// sent twice.
#[derive(Debug)]
pub struct Gateway {
    client: FtpsClient,
    journal: Journal,
}

impl Gateway {
    /// Joins a client and a journal.
    pub fn new(client: FtpsClient, journal: Journal) -> Self {
        Self { client, journal }
    }

    /// The journal.
    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// The FTPS client (for listing, downloading, deleting).
    pub fn client(&mut self) -> &mut FtpsClient {
        &mut self.client
    }

    /// Splits into client and journal.
    pub fn into_parts(self) -> (FtpsClient, Journal) {
        (self.client, self.journal)
    }

    /// A new name `<prefix><yyyyMMddHHmmssSSS>-<nn><extension>` that this
    /// client has not used.
    pub fn unique_name(&self, prefix: &str, extension: &str) -> Result<String> {
        NameGenerator::new(prefix, extension)?.next_name(&self.journal)
    }

    /// Uploads a local file to a service folder.
    ///
    /// Refused before anything is sent: an invalid or already used name, or
    /// content identical to an upload whose outcome is unknown (the file is
    /// read once for its SHA-256 before it is sent).
    pub async fn upload_file(
        &mut self,
        service: &str,
        local: impl AsRef<Path>,
        options: UploadOptions,
    ) -> Result<UploadReceipt> {
        let local = local.as_ref();
        let digest = file_sha256(local).await?;
        let name = match &options.name {
            Some(n) => n.clone(),
            None => {
                let ext = local
                    .extension()
                    .and_then(|e| e.to_str())
                    .map(|e| format!(".{e}"))
                    .unwrap_or_default();
                let prefix = options.name_prefix.as_deref().unwrap_or("upload");
                self.unique_name(prefix, &ext)?
            }
        };
        let file = tokio::fs::File::open(local)
            .await
            .map_err(|e| Error::io(format!("opening {}", local.display()), e))?;
        self.upload(service, &name, file, options.mode, Some(digest), options.progress).await
    }

    /// Uploads a stream under `name` to a service folder (see
    /// [`Gateway::upload_file`]; the content's digest is recorded afterwards,
    /// so identical content is only recognised for files).
    pub async fn upload_stream<R>(
        &mut self,
        service: &str,
        name: &str,
        reader: R,
        mode: TransferMode,
    ) -> Result<UploadReceipt>
    where
        R: AsyncRead + Unpin,
    {
        self.upload(service, name, reader, mode, None, None).await
    }

    async fn upload<R>(
        &mut self,
        service: &str,
        name: &str,
        reader: R,
        mode: TransferMode,
        digest: Option<String>,
        progress: Option<Box<dyn FnMut(u64) + Send>>,
    ) -> Result<UploadReceipt>
    where
        R: AsyncRead + Unpin,
    {
        validate_service(service)?;
        validate_name(name)?;
        self.journal.begin_upload(name, service, mode, digest)?;
        let remote_path = format!("{service}/{name}");
        let mut progress = progress;
        let mut noop = |_: u64| {};
        let cb: &mut (dyn FnMut(u64) + Send) = match progress.as_mut() {
            Some(p) => p.as_mut(),
            None => &mut noop,
        };
        let result = self.client.upload(&remote_path, reader, mode, cb).await;
        match result {
            Ok(bytes) => {
                self.journal.finish_upload(name, UploadState::Uploaded, bytes)?;
                tracing::info!(name, service, bytes, "uploaded");
                Ok(UploadReceipt { name: name.into(), service: service.into(), remote_path, bytes })
            }
            Err(e @ Error::UploadOutcomeUnknown { .. }) => {
                let bytes = match &e {
                    Error::UploadOutcomeUnknown { bytes_sent, .. } => *bytes_sent,
                    _ => 0,
                };
                self.journal.finish_upload(
                    name,
                    UploadState::Unknown { reason: e.to_string() },
                    bytes,
                )?;
                tracing::error!(name, service, error = %e, "upload outcome unknown");
                Err(e)
            }
            Err(e) => {
                self.journal.finish_upload(
                    name,
                    UploadState::NotSent { reason: e.to_string() },
                    0,
                )?;
                Err(e)
            }
        }
    }
}

async fn file_sha256(path: &Path) -> Result<String> {
    let mut f = tokio::fs::File::open(path)
        .await
        .map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = f
            .read(&mut buf)
            .await
            .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
        if n == 0 {
            break;
        }
        h.update(buf.get(..n).unwrap_or_default());
    }
    let digest = h.finalize();
    Ok(digest.iter().map(|b| format!("{b:02x}")).collect())
}
