//! Polling `/out` for status and response files, politely.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use skat_status::{StatusCode, StatusFile, StatusFileName};

use crate::error::{Error, Result};
use crate::gateway::Gateway;
use crate::journal::{now_ms, UploadState};

/// How often `/out` may be listed: at least once a minute, as the gateway
/// asks. Longer intervals are fine; shorter ones only through
/// [`PollInterval::unchecked_for_tests`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollInterval(Duration);

impl PollInterval {
    /// The gateway's minimum: one minute.
    pub const MINIMUM: Duration = Duration::from_secs(60);

    /// An interval of at least [`PollInterval::MINIMUM`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use ftps_gateway::PollInterval;
    /// assert!(PollInterval::new(Duration::from_secs(300)).is_ok());
    /// assert!(PollInterval::new(Duration::from_secs(10)).is_err());
    /// ```
    pub fn new(interval: Duration) -> Result<Self> {
        if interval < Self::MINIMUM {
            return Err(Error::PollIntervalTooShort(interval));
        }
        Ok(Self(interval))
    }

    /// Any interval, for tests against a local server only: never point a
    /// poller with a short interval at SKAT.
    pub fn unchecked_for_tests(interval: Duration) -> Self {
        Self(interval)
    }

    /// The interval.
    pub fn get(self) -> Duration {
        self.0
    }
}

impl Default for PollInterval {
    fn default() -> Self {
        Self(Self::MINIMUM)
    }
}

/// Poller settings.
#[derive(Debug, Clone)]
pub struct PollerConfig {
    /// How often `/out` may be listed.
    pub interval: PollInterval,
    /// Where status and response files are saved.
    pub download_dir: PathBuf,
    /// Delete status and response files from `/out` once saved (default no).
    pub delete_after_download: bool,
    /// The folder to poll (default `out`).
    pub out_dir: String,
    /// Largest file downloaded (default 256 MiB).
    pub max_file_size: u64,
}

impl PollerConfig {
    /// Defaults: once a minute, `out`, nothing deleted, 256 MiB limit.
    pub fn new(download_dir: impl Into<PathBuf>) -> Self {
        Self {
            interval: PollInterval::default(),
            download_dir: download_dir.into(),
            delete_after_download: false,
            out_dir: "out".into(),
            max_file_size: 256 * 1024 * 1024,
        }
    }
}

/// What a status file said about a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransactionEvent {
    /// Status 1: delivered to the backend system.
    Delivered,
    /// Status 2: accepted by the backend system.
    Accepted,
    /// Status 3: a response (or an unrelated outbound file) was exposed.
    Exposed {
        /// The response file's name on the server.
        response_file: Option<String>,
        /// Where it was saved.
        saved_as: Option<PathBuf>,
    },
    /// Status 0: an error.
    Error {
        /// `error.code`.
        code: String,
        /// `error.message`.
        message: String,
        /// `error.resolution`.
        resolution: String,
        /// What to do next.
        next_step: String,
    },
}

/// One status file, read and applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionReport {
    /// The transaction (the uploaded file's name, or the gateway's sequence
    /// for unrelated outbound files).
    pub transaction_id: String,
    /// The service folder.
    pub service: String,
    /// The status file's name.
    pub status_file: String,
    /// Where the status file was saved.
    pub saved_as: PathBuf,
    /// What happened.
    pub event: TransactionEvent,
    /// The SKAT transaction id, if the file carries one.
    pub skat_transaction_id: Option<String>,
    /// A file the backend sent on its own, not a response to an upload.
    pub unrelated_outbound: bool,
    /// The journal's state for the transaction after this file, if the
    /// transaction is one of this client's uploads.
    pub journal_state: Option<UploadState>,
}

impl fmt::Display for TransactionReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [{}]: ", self.transaction_id, self.service)?;
        match &self.event {
            TransactionEvent::Delivered => write!(f, "delivered to the backend system")?,
            TransactionEvent::Accepted => write!(f, "accepted by the backend system")?,
            TransactionEvent::Exposed { response_file, saved_as } => {
                write!(
                    f,
                    "{}",
                    if self.unrelated_outbound {
                        "outbound file exposed"
                    } else {
                        "response exposed"
                    }
                )?;
                if let Some(r) = response_file {
                    write!(f, ": {r}")?;
                }
                if let Some(p) = saved_as {
                    write!(f, " (saved as {})", p.display())?;
                }
            }
            TransactionEvent::Error { code, message, resolution, next_step } => {
                write!(f, "ERROR {code}: {message}. Resolution: {resolution}. Next: {next_step}")?
            }
        }
        if self.journal_state.is_none() && !self.unrelated_outbound {
            write!(f, " (not an upload of this client)")?;
        }
        Ok(())
    }
}

/// The result of one poll.
#[derive(Debug, Default)]
pub struct PollReport {
    /// One entry per new status file, in the order applied.
    pub transactions: Vec<TransactionReport>,
    /// Files that could not be read or saved (they are tried again next
    /// time).
    pub problems: Vec<(String, Error)>,
}

/// Lists `/out` at most once per interval, downloads new status files and
/// their response files, reads them with `skat_status`, and updates the
/// journal. Processed files are remembered in the journal, so a restart does
/// not report them again; the last poll time is kept there too, so a restart
/// does not poll early.
#[derive(Debug)]
pub struct Poller {
    config: PollerConfig,
    last_poll: Option<Instant>,
}

impl Poller {
    /// A poller with the given settings.
    pub fn new(config: PollerConfig) -> Self {
        Self { config, last_poll: None }
    }

    /// How long until the next poll is allowed.
    pub fn wait_time(&self, gateway: &Gateway) -> Result<Duration> {
        let interval = self.config.interval.get();
        let mut wait = Duration::ZERO;
        if let Some(t) = self.last_poll {
            wait = wait.max(interval.saturating_sub(t.elapsed()));
        }
        if let Some(ms) = gateway.journal().last_poll_ms()? {
            let since = Duration::from_millis(now_ms().saturating_sub(ms));
            wait = wait.max(interval.saturating_sub(since));
        }
        Ok(wait)
    }

    /// Polls once, or fails with [`Error::PollTooSoon`] if the interval has
    /// not passed.
    pub async fn poll(&mut self, gateway: &mut Gateway) -> Result<PollReport> {
        let wait = self.wait_time(gateway)?;
        if !wait.is_zero() {
            return Err(Error::PollTooSoon { wait });
        }
        self.last_poll = Some(Instant::now());
        gateway.journal().set_last_poll_ms(now_ms())?;
        let out = self.config.out_dir.clone();
        let names = gateway.client().list(&out).await?;
        let mut status_files: Vec<(StatusFileName, String)> = names
            .into_iter()
            .filter(|n| StatusFileName::is_status_file_name(n))
            .filter_map(|n| StatusFileName::parse(&n).ok().map(|p| (p, n)))
            .collect();
        // Apply 1 before 2 before 3 (and 0) within a poll.
        status_files.sort_by_key(|(p, n)| (p.status() as u8 == 0, p.status() as u8, n.clone()));
        let mut report = PollReport::default();
        for (_, name) in status_files {
            if gateway.journal().out_file_processed(&name)? {
                continue;
            }
            match self.process(gateway, &name).await {
                Ok(r) => {
                    tracing::info!(report = %r, "status");
                    report.transactions.push(r);
                }
                Err(e) => {
                    tracing::warn!(file = name, error = %e, "status file not processed");
                    let fatal = matches!(e, Error::Journal(_));
                    report.problems.push((name, e));
                    if fatal {
                        break;
                    }
                }
            }
        }
        Ok(report)
    }

    /// Polls every interval until `stop` returns true for a report (or a
    /// poll fails).
    pub async fn run_until(
        &mut self,
        gateway: &mut Gateway,
        mut stop: impl FnMut(&PollReport) -> bool,
    ) -> Result<()> {
        loop {
            let wait = self.wait_time(gateway)?;
            tokio::time::sleep(wait).await;
            let report = self.poll(gateway).await?;
            if stop(&report) {
                return Ok(());
            }
        }
    }

    fn local_path(&self, name: &str) -> Result<PathBuf> {
        let base = name.rsplit('/').next().unwrap_or(name);
        if base.is_empty() || base == "." || base == ".." {
            return Err(Error::InvalidName { name: name.into(), reason: "not a file name" });
        }
        Ok(self.config.download_dir.join(base))
    }

    async fn fetch(&self, gateway: &mut Gateway, name: &str) -> Result<(Vec<u8>, PathBuf)> {
        let remote = format!("{}/{}", self.config.out_dir, name);
        let bytes = gateway.client().download_to_vec(&remote, self.config.max_file_size).await?;
        let local = self.local_path(name)?;
        save(&local, &bytes).await?;
        Ok((bytes, local))
    }

    async fn process(&self, gateway: &mut Gateway, name: &str) -> Result<TransactionReport> {
        let (bytes, saved_as) = self.fetch(gateway, name).await?;
        let file = StatusFile::parse(name, &bytes)
            .map_err(|e| Error::StatusFile { name: name.into(), detail: e.to_string() })?;
        let doc = file.document();
        let transaction_id = doc.ftp_transaction_id.as_str().to_owned();
        let unrelated = file.is_unrelated_outbound();
        let mut to_delete = vec![name.to_owned()];
        let (event, state) = match file.status() {
            StatusCode::Delivered => (TransactionEvent::Delivered, UploadState::Delivered),
            StatusCode::Accepted => (TransactionEvent::Accepted, UploadState::Accepted),
            StatusCode::Exposed => {
                let response = doc.response_filename.clone().filter(|r| !r.is_empty());
                let saved = match &response {
                    Some(r) => {
                        let base = r.rsplit('/').next().unwrap_or(r).to_owned();
                        let (_, local) = self.fetch(gateway, &base).await?;
                        to_delete.push(base);
                        Some(local)
                    }
                    None => None,
                };
                (
                    TransactionEvent::Exposed {
                        response_file: response.clone(),
                        saved_as: saved.clone(),
                    },
                    UploadState::Exposed { response_file: response, saved_as: saved },
                )
            }
            StatusCode::Error => {
                let (code, message, resolution, next_step) = match &doc.error {
                    Some(e) => (
                        e.code.as_str().to_owned(),
                        e.message.clone(),
                        e.resolution.clone(),
                        e.code.remedy().description().to_owned(),
                    ),
                    None => (
                        String::new(),
                        String::new(),
                        String::new(),
                        "The status file carries no error element: ask your SKAT contact point."
                            .to_owned(),
                    ),
                };
                (
                    TransactionEvent::Error {
                        code: code.clone(),
                        message: message.clone(),
                        resolution: resolution.clone(),
                        next_step,
                    },
                    UploadState::Rejected { code, message, resolution },
                )
            }
        };
        let record = if unrelated {
            None
        } else {
            gateway.journal().apply_status(&transaction_id, state)?
        };
        gateway.journal().mark_out_file_processed(name)?;
        if self.config.delete_after_download {
            for f in to_delete {
                let remote = format!("{}/{}", self.config.out_dir, f);
                if let Err(e) = gateway.client().delete(&remote).await {
                    tracing::warn!(file = remote, error = %e, "could not delete");
                }
            }
        }
        Ok(TransactionReport {
            transaction_id,
            service: doc.service.as_str().to_owned(),
            status_file: name.to_owned(),
            saved_as,
            event,
            skat_transaction_id: doc.skat_transaction_id.clone(),
            unrelated_outbound: unrelated,
            journal_state: record.map(|r| r.state),
        })
    }
}

async fn save(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
    }
    // Write to a temporary name and rename, so a crash leaves no half file.
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".part");
    let tmp = PathBuf::from(tmp);
    tokio::fs::write(&tmp, bytes)
        .await
        .map_err(|e| Error::io(format!("writing {}", tmp.display()), e))?;
    tokio::fs::rename(&tmp, path)
        .await
        .map_err(|e| Error::io(format!("renaming {}", tmp.display()), e))
}
