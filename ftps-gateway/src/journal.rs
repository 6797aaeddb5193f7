//! The durable local journal of uploads and their states (a `redb` file).
//!
//! Every upload is recorded, with a durable commit, *before* its `STOR`
//! command is sent. A record still "in progress" when the journal is opened
//! again belonged to a client that stopped mid-upload: it becomes
//! [`UploadState::Unknown`]. Unknown uploads are never resent by this crate:
//! the gateway asks that a file whose processing is in doubt is not sent
//! again under a new name, but cleared with SKAT. Record the answer with
//! [`Journal::resolve_unknown`].

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use redb::{Database, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use crate::client::TransferMode;
use crate::error::{Error, Result};

const UPLOADS: TableDefinition<'_, &str, &[u8]> = TableDefinition::new("uploads");
const OUT_FILES: TableDefinition<'_, &str, u64> = TableDefinition::new("out_files_processed");
const META: TableDefinition<'_, &str, u64> = TableDefinition::new("meta");
const LAST_POLL: &str = "last_poll_ms";

/// What is known about an upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
#[non_exhaustive]
pub enum UploadState {
    /// `STOR` is being (or about to be) sent. Only seen while an upload runs.
    InProgress,
    /// The connection broke (or the client stopped) during the upload: the
    /// gateway may or may not have the file. Not resent without a decision.
    Unknown {
        /// What happened.
        reason: String,
    },
    /// The upload failed before the server could have stored anything (the
    /// connection failed before `STOR`, or the server refused `STOR`).
    NotSent {
        /// What happened.
        reason: String,
    },
    /// The server confirmed the transfer (226); no status file yet.
    Uploaded,
    /// Status 1: delivered to the backend system.
    Delivered,
    /// Status 2: accepted by the backend system.
    Accepted,
    /// Status 3: a response file was exposed in `/out`.
    Exposed {
        /// The response file's name on the server.
        response_file: Option<String>,
        /// Where the poller saved it.
        saved_as: Option<PathBuf>,
    },
    /// Status 0: the gateway or the backend rejected the file.
    Rejected {
        /// `error.code`, e.g. `FILENAME_CANNOT_BE_REUSED_FOR_TRANSACTION`.
        code: String,
        /// `error.message`.
        message: String,
        /// `error.resolution`.
        resolution: String,
    },
}

impl UploadState {
    /// A short name of the state.
    pub fn label(&self) -> &'static str {
        match self {
            UploadState::InProgress => "in progress",
            UploadState::Unknown { .. } => "outcome unknown",
            UploadState::NotSent { .. } => "not sent",
            UploadState::Uploaded => "uploaded",
            UploadState::Delivered => "delivered",
            UploadState::Accepted => "accepted",
            UploadState::Exposed { .. } => "exposed",
            UploadState::Rejected { .. } => "rejected",
        }
    }

    /// How far along the gateway's lifecycle the state is; status files never
    /// move a record backwards.
    fn rank(&self) -> u8 {
        match self {
            UploadState::NotSent { .. } => 0,
            UploadState::InProgress | UploadState::Unknown { .. } => 1,
            UploadState::Uploaded => 2,
            UploadState::Delivered => 3,
            UploadState::Accepted => 4,
            UploadState::Exposed { .. } | UploadState::Rejected { .. } => 5,
        }
    }
}

/// One state change, for the record's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// When (milliseconds since the Unix epoch).
    pub at_ms: u64,
    /// The state's label.
    pub state: String,
}

/// One upload in the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadRecord {
    /// The file name (the gateway's FTPTransactionID).
    pub name: String,
    /// The service folder.
    pub service: String,
    /// Binary or ASCII.
    pub mode: TransferMode,
    /// The current state.
    pub state: UploadState,
    /// Bytes read from the source (so far, or in all).
    pub bytes: u64,
    /// SHA-256 of the content (hex), when it was known before the upload.
    pub sha256: Option<String>,
    /// When the record was made (ms since the Unix epoch).
    pub created_ms: u64,
    /// Every state the record went through.
    pub history: Vec<HistoryEntry>,
}

/// How SKAT answered about an upload whose outcome was unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UnknownResolution {
    /// SKAT has the file: the record becomes [`UploadState::Uploaded`].
    Received,
    /// SKAT does not have the file: the record becomes
    /// [`UploadState::NotSent`] and the content may be uploaded again under a
    /// new name.
    NotReceived,
}

/// The journal. One process at a time may open a journal file.
#[derive(Debug)]
pub struct Journal {
    db: Database,
    path: PathBuf,
}

pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

fn jerr(e: impl std::fmt::Display) -> Error {
    Error::Journal(e.to_string())
}

fn decode(bytes: &[u8]) -> Result<UploadRecord> {
    serde_json::from_slice(bytes).map_err(|e| Error::Journal(format!("corrupt record: {e}")))
}

fn encode(rec: &UploadRecord) -> Result<Vec<u8>> {
    serde_json::to_vec(rec).map_err(jerr)
}

impl Journal {
    /// Opens (or creates) the journal file. Uploads left "in progress" by a
    /// client that stopped become [`UploadState::Unknown`].
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let db = Database::create(&path)
            .map_err(|e| Error::Journal(format!("cannot open {}: {e}", path.display())))?;
        let journal = Self { db, path };
        journal.init()?;
        Ok(journal)
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn init(&self) -> Result<()> {
        let tx = self.db.begin_write().map_err(jerr)?;
        {
            let mut uploads = tx.open_table(UPLOADS).map_err(jerr)?;
            let _ = tx.open_table(OUT_FILES).map_err(jerr)?;
            let _ = tx.open_table(META).map_err(jerr)?;
            let mut interrupted = Vec::new();
            for item in uploads.iter().map_err(jerr)? {
                let (k, v) = item.map_err(jerr)?;
                let rec = decode(v.value())?;
                if rec.state == UploadState::InProgress {
                    interrupted.push((k.value().to_owned(), rec));
                }
            }
            for (name, mut rec) in interrupted {
                tracing::warn!(
                    name,
                    "upload was interrupted by a stop of the client: outcome unknown"
                );
                set_state(
                    &mut rec,
                    UploadState::Unknown { reason: "the client stopped during the upload".into() },
                );
                uploads.insert(name.as_str(), encode(&rec)?.as_slice()).map_err(jerr)?;
            }
        }
        tx.commit().map_err(jerr)
    }

    /// The record for a name.
    pub fn get(&self, name: &str) -> Result<Option<UploadRecord>> {
        let tx = self.db.begin_read().map_err(jerr)?;
        let t = tx.open_table(UPLOADS).map_err(jerr)?;
        match t.get(name).map_err(jerr)? {
            Some(v) => Ok(Some(decode(v.value())?)),
            None => Ok(None),
        }
    }

    /// Whether this client ever used the name.
    pub fn contains(&self, name: &str) -> Result<bool> {
        Ok(self.get(name)?.is_some())
    }

    /// All records, by name.
    pub fn uploads(&self) -> Result<Vec<UploadRecord>> {
        let tx = self.db.begin_read().map_err(jerr)?;
        let t = tx.open_table(UPLOADS).map_err(jerr)?;
        let mut out = Vec::new();
        for item in t.iter().map_err(jerr)? {
            let (_, v) = item.map_err(jerr)?;
            out.push(decode(v.value())?);
        }
        Ok(out)
    }

    /// The uploads whose outcome is unknown: clear them with SKAT.
    pub fn unknown(&self) -> Result<Vec<UploadRecord>> {
        Ok(self
            .uploads()?
            .into_iter()
            .filter(|r| matches!(r.state, UploadState::Unknown { .. }))
            .collect())
    }

    /// Records the start of an upload, durably, or refuses it: a name used
    /// before (unless it never reached the server), or content identical to
    /// an upload whose outcome is unknown.
    pub(crate) fn begin_upload(
        &self,
        name: &str,
        service: &str,
        mode: TransferMode,
        sha256: Option<String>,
    ) -> Result<()> {
        let tx = self.db.begin_write().map_err(jerr)?;
        {
            let mut t = tx.open_table(UPLOADS).map_err(jerr)?;
            if let Some(v) = t.get(name).map_err(jerr)? {
                let rec = decode(v.value())?;
                match rec.state {
                    UploadState::NotSent { .. } => {}
                    UploadState::Unknown { .. } => {
                        return Err(Error::UploadOutcomeUnknown {
                            name: name.into(),
                            bytes_sent: rec.bytes,
                            source: Box::new(Error::Journal(
                                "an earlier upload under this name has an unknown outcome; resolve it first".into(),
                            )),
                        })
                    }
                    other => {
                        return Err(Error::NameAlreadyUsed {
                            name: name.into(),
                            state: other.label().into(),
                        })
                    }
                }
            }
            if let Some(digest) = &sha256 {
                for item in t.iter().map_err(jerr)? {
                    let (_, v) = item.map_err(jerr)?;
                    let rec = decode(v.value())?;
                    if matches!(rec.state, UploadState::Unknown { .. })
                        && rec.sha256.as_ref() == Some(digest)
                    {
                        return Err(Error::ContentOutcomeUnknown { earlier: rec.name });
                    }
                }
            }
            let now = now_ms();
            let rec = UploadRecord {
                name: name.into(),
                service: service.into(),
                mode,
                state: UploadState::InProgress,
                bytes: 0,
                sha256,
                created_ms: now,
                history: vec![HistoryEntry {
                    at_ms: now,
                    state: UploadState::InProgress.label().into(),
                }],
            };
            t.insert(name, encode(&rec)?.as_slice()).map_err(jerr)?;
        }
        tx.commit().map_err(jerr)
    }

    /// Sets the state after the transfer (any state, backwards included).
    pub(crate) fn finish_upload(&self, name: &str, state: UploadState, bytes: u64) -> Result<()> {
        self.update(name, |rec| {
            rec.bytes = bytes;
            set_state(rec, state);
            true
        })
        .map(|_| ())
    }

    /// Applies a state from a status file; states only move forward. Returns
    /// the record if the name is in the journal.
    pub(crate) fn apply_status(
        &self,
        name: &str,
        state: UploadState,
    ) -> Result<Option<UploadRecord>> {
        self.update(name, |rec| {
            if state.rank() > rec.state.rank()
                || (state.rank() == rec.state.rank() && state != rec.state && rec.state.rank() < 5)
            {
                set_state(rec, state);
                true
            } else {
                false
            }
        })
    }

    /// Records SKAT's answer about an upload whose outcome was unknown.
    pub fn resolve_unknown(
        &self,
        name: &str,
        resolution: UnknownResolution,
    ) -> Result<UploadRecord> {
        let mut found_unknown = false;
        let rec = self.update(name, |rec| {
            if !matches!(rec.state, UploadState::Unknown { .. }) {
                return false;
            }
            found_unknown = true;
            let state = match resolution {
                UnknownResolution::Received => UploadState::Uploaded,
                UnknownResolution::NotReceived => UploadState::NotSent {
                    reason: "SKAT confirmed that the interrupted upload was not received".into(),
                },
            };
            set_state(rec, state);
            true
        })?;
        match rec {
            Some(r) if found_unknown => Ok(r),
            Some(r) => Err(Error::Journal(format!(
                "{name:?} is {}, not of unknown outcome",
                r.state.label()
            ))),
            None => Err(Error::Journal(format!("{name:?} is not in the journal"))),
        }
    }

    fn update(
        &self,
        name: &str,
        f: impl FnOnce(&mut UploadRecord) -> bool,
    ) -> Result<Option<UploadRecord>> {
        let tx = self.db.begin_write().map_err(jerr)?;
        let out = {
            let mut t = tx.open_table(UPLOADS).map_err(jerr)?;
            let rec = match t.get(name).map_err(jerr)? {
                Some(v) => Some(decode(v.value())?),
                None => None,
            };
            match rec {
                Some(mut rec) => {
                    if f(&mut rec) {
                        t.insert(name, encode(&rec)?.as_slice()).map_err(jerr)?;
                    }
                    Some(rec)
                }
                None => None,
            }
        };
        tx.commit().map_err(jerr)?;
        Ok(out)
    }

    /// Whether a file in `/out` was already processed by the poller.
    pub fn out_file_processed(&self, name: &str) -> Result<bool> {
        let tx = self.db.begin_read().map_err(jerr)?;
        let t = tx.open_table(OUT_FILES).map_err(jerr)?;
        Ok(t.get(name).map_err(jerr)?.is_some())
    }

    pub(crate) fn mark_out_file_processed(&self, name: &str) -> Result<()> {
        let tx = self.db.begin_write().map_err(jerr)?;
        {
            let mut t = tx.open_table(OUT_FILES).map_err(jerr)?;
            t.insert(name, now_ms()).map_err(jerr)?;
        }
        tx.commit().map_err(jerr)
    }

    /// When `/out` was last listed by a poller (ms since the Unix epoch).
    pub fn last_poll_ms(&self) -> Result<Option<u64>> {
        let tx = self.db.begin_read().map_err(jerr)?;
        let t = tx.open_table(META).map_err(jerr)?;
        Ok(t.get(LAST_POLL).map_err(jerr)?.map(|v| v.value()))
    }

    pub(crate) fn set_last_poll_ms(&self, ms: u64) -> Result<()> {
        let tx = self.db.begin_write().map_err(jerr)?;
        {
            let mut t = tx.open_table(META).map_err(jerr)?;
            t.insert(LAST_POLL, ms).map_err(jerr)?;
        }
        tx.commit().map_err(jerr)
    }
}

fn set_state(rec: &mut UploadRecord, state: UploadState) {
    rec.history.push(HistoryEntry { at_ms: now_ms(), state: state.label().into() });
    rec.state = state;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_path(tag: &str) -> PathBuf {
        std::env::temp_dir().join(format!(
            "ftps-gateway-journal-{tag}-{}-{}.redb",
            std::process::id(),
            now_ms()
        ))
    }

    #[test]
    fn names_are_refused_once_used() -> Result<()> {
        let p = temp_path("names");
        let j = Journal::open(&p)?;
        j.begin_upload("a.xml", "FTPSGW.Heartbeat", TransferMode::Binary, None)?;
        j.finish_upload("a.xml", UploadState::Uploaded, 10)?;
        assert!(matches!(
            j.begin_upload("a.xml", "FTPSGW.Heartbeat", TransferMode::Binary, None),
            Err(Error::NameAlreadyUsed { .. })
        ));
        j.begin_upload("b.xml", "FTPSGW.Heartbeat", TransferMode::Binary, None)?;
        j.finish_upload("b.xml", UploadState::NotSent { reason: "refused".into() }, 0)?;
        // never reached the server: the name may be used again
        j.begin_upload("b.xml", "FTPSGW.Heartbeat", TransferMode::Binary, None)?;
        drop(j);
        let _ = std::fs::remove_file(p);
        Ok(())
    }

    #[test]
    fn in_progress_becomes_unknown_on_reopen_and_blocks_same_content() -> Result<()> {
        let p = temp_path("reopen");
        {
            let j = Journal::open(&p)?;
            j.begin_upload("c.xml", "S", TransferMode::Ascii, Some("abc".into()))?;
        }
        let j = Journal::open(&p)?;
        let rec = j.get("c.xml")?;
        assert!(matches!(rec.map(|r| r.state), Some(UploadState::Unknown { .. })));
        assert_eq!(j.unknown()?.len(), 1);
        assert!(matches!(
            j.begin_upload("c2.xml", "S", TransferMode::Ascii, Some("abc".into())),
            Err(Error::ContentOutcomeUnknown { .. })
        ));
        assert!(matches!(
            j.begin_upload("c.xml", "S", TransferMode::Ascii, None),
            Err(Error::UploadOutcomeUnknown { .. })
        ));
        let r = j.resolve_unknown("c.xml", UnknownResolution::NotReceived)?;
        assert!(matches!(r.state, UploadState::NotSent { .. }));
        j.begin_upload("c2.xml", "S", TransferMode::Ascii, Some("abc".into()))?;
        drop(j);
        let _ = std::fs::remove_file(p);
        Ok(())
    }

    #[test]
    fn status_only_moves_forward() -> Result<()> {
        let p = temp_path("forward");
        let j = Journal::open(&p)?;
        j.begin_upload("d.xml", "S", TransferMode::Binary, None)?;
        j.finish_upload("d.xml", UploadState::Uploaded, 1)?;
        j.apply_status("d.xml", UploadState::Accepted)?;
        j.apply_status("d.xml", UploadState::Delivered)?;
        assert_eq!(j.get("d.xml")?.map(|r| r.state), Some(UploadState::Accepted));
        assert_eq!(j.apply_status("nope.xml", UploadState::Delivered)?, None);
        drop(j);
        let _ = std::fs::remove_file(p);
        Ok(())
    }
}
