//! Receiving: the decision on an SFID, the writer with checkpoints, and the commit into
//! the inbox (see the module documentation of [`crate::store`] for the protocol).

use std::fs::{self, File, OpenOptions};
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use oftp2_codec::command::{Eerp, Nerp, Sfid};
use oftp2_codec::fields::{OdetteId, RecordFormat, Utf8Text};
use oftp2_codec::reason::{NerpReason, SfnaReason};
use oftp2_codec::record::{restart_position, restarts_on_records, Counts, RESTART_BLOCK};
use serde::{Deserialize, Serialize};

use super::error::StoreError;
use super::fs::{unix_nanos, PartnerDirs, Shared};
use super::names::{inbox_name, receipt_name, sfid_key};
use super::part::PartFile;
use super::sync::{read_json, remove_if_exists, sync_dir, write_json};
use super::types::{counts_serde, receipt_serde, DeliveredFile, Receipt, Refusal};
use super::{IncomingDecision, IncomingFile};
use crate::engine::is_secured;
use crate::protection::{FileServices, ProtectionError};

/// The buffer for unwrapping and hashing.
const COPY_BUFFER: usize = 64 * 1024;

/// Suffix of a partial file in `incoming/`.
pub(crate) const PART_SUFFIX: &str = ".part";
/// Suffix of its restart state.
pub(crate) const STATE_SUFFIX: &str = ".state";
/// The original of a secured file, unwrapped beside its transmitted form before delivery.
pub(crate) const ORIGINAL_SUFFIX: &str = ".orig";
/// Suffix of delivery records and other JSON files.
pub(crate) const JSON_SUFFIX: &str = ".json";

/// What a checkpoint persists: enough to resume the same Virtual File.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct RestartState {
    /// The SFID of the interrupted transfer.
    pub(crate) sfid: Sfid,
    /// The decoder's counts at the checkpoint.
    #[serde(with = "counts_serde")]
    pub(crate) counts: Counts,
    /// The length of the partial file at the checkpoint.
    pub(crate) file_len: u64,
    /// The partial file's name in `incoming/`.
    pub(crate) temp: String,
}

/// The record that a Virtual File was delivered (also the commit's intent: see
/// [`roll_forward`]).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct DeliveryRecord {
    pub(crate) delivered: DeliveredFile,
    /// The partial file's name in `incoming/` (present only while the commit is
    /// unfinished).
    pub(crate) temp: String,
    /// The name of the EERP owed, in `receipts/`.
    pub(crate) receipt: String,
    /// When it was committed (Unix time, nanoseconds).
    pub(crate) committed_at: u64,
    /// The receipt owed, as it goes into `receipts/` (signed when SFIDSIGN asked): a
    /// crash before that write is rolled forward with this very receipt. Absent in
    /// records of earlier versions, which get a plain EERP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) owed: Option<PendingReceipt>,
}

/// A receipt owed, as stored in `receipts/`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PendingReceipt {
    #[serde(with = "receipt_serde")]
    pub(crate) receipt: Receipt,
    pub(crate) created: u64,
}

/// The EERP we owe for a received file: it travels back to the originator (§5.3.13).
pub(crate) fn eerp_for(sfid: &Sfid) -> Receipt {
    Receipt::Eerp(Eerp {
        dataset_name: sfid.dataset_name,
        date: sfid.date,
        time: sfid.time,
        user_data: sfid.user_data,
        destination: sfid.originator,
        originator: sfid.destination,
        hash: bytes::Bytes::new(),
        signature: bytes::Bytes::new(),
    })
}

/// The NERP we owe the originator of a file we could not deliver (§5.3.14).
pub(crate) fn nerp_for(sfid: &Sfid, creator: OdetteId, reason: NerpReason, text: &str) -> Receipt {
    let mut end = text.len().min(Utf8Text::MAX_OCTETS);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Receipt::Nerp(Nerp {
        dataset_name: sfid.dataset_name,
        date: sfid.date,
        time: sfid.time,
        destination: sfid.originator,
        originator: sfid.destination,
        creator,
        reason,
        text: text.get(..end).and_then(|t| Utf8Text::new(t).ok()).unwrap_or_else(Utf8Text::empty),
        hash: bytes::Bytes::new(),
        signature: bytes::Bytes::new(),
    })
}

/// Whether two SFIDs announce the same file in the same form (so that a partial copy
/// of one is a prefix of the other).
fn same_file(a: &Sfid, b: &Sfid) -> bool {
    a.originator == b.originator
        && a.destination == b.destination
        && a.dataset_name == b.dataset_name
        && a.date == b.date
        && a.time == b.time
        && a.format == b.format
        && a.max_record_length == b.max_record_length
        && a.file_size == b.file_size
        && a.security_level == b.security_level
        && a.cipher_suite == b.cipher_suite
        && a.compression == b.compression
        && a.enveloping == b.enveloping
}

/// The restart point both sides can honour, as counts and the length of the partial
/// file there; `None` to start from zero.
///
/// Ours is the last checkpoint; the peer's is SFIDREST; the agreed position is the lower
/// of the two in the file's restart unit. When it is below our checkpoint the partial
/// file is cut there, which needs the local file to hold exactly the counted octets (U,
/// T and F files without transformation); V files then start over.
pub(crate) fn agree_restart(state: &RestartState, sfid: &Sfid) -> Option<(Counts, u64)> {
    if !same_file(&state.sfid, sfid) {
        return None;
    }
    let secured = is_secured(sfid);
    let ours = restart_position(sfid.format, secured, state.counts).get();
    let agreed = ours.min(sfid.restart_position.get());
    if agreed == 0 {
        return None;
    }
    let plain = state.file_len == state.counts.octets;
    if restarts_on_records(sfid.format, secured) {
        if agreed == state.counts.records {
            return Some((state.counts, state.file_len));
        }
        if sfid.format == RecordFormat::Fixed && plain {
            let octets = agreed.checked_mul(sfid.max_record_length.get())?;
            return Some((Counts { records: agreed, octets }, octets));
        }
        return None;
    }
    let octets = agreed.checked_mul(RESTART_BLOCK)?;
    if octets == state.counts.octets {
        Some((state.counts, state.file_len))
    } else if plain {
        Some((Counts { records: 0, octets }, octets))
    } else {
        None
    }
}

/// [`FileStore::begin_incoming`](super::FileStore::begin_incoming) for [`super::FsStore`].
pub(crate) fn begin(
    shared: &Arc<Shared>,
    partner: &OdetteId,
    sfid: &Sfid,
    restart_offered: bool,
) -> Result<IncomingDecision, StoreError> {
    let dirs = shared.partner_dirs(partner)?;
    let key = sfid_key(sfid);

    let record_path = dirs.delivered.join(format!("{key}{JSON_SUFFIX}"));
    if let Some(record) = read_json::<DeliveryRecord>(&record_path)? {
        tracing::info!(%partner, dataset = %sfid.dataset_name, "duplicate of a delivered file");
        return Ok(IncomingDecision::Duplicate {
            file: Box::new(Discarding { original: record.delivered.clone(), written: 0 }),
            original: Box::new(record.delivered),
        });
    }

    if let Some(refusal) = unsupported_services(shared, sfid) {
        return Ok(IncomingDecision::Refuse(refusal));
    }

    let announced = sfid.file_size.get().max(sfid.original_file_size.get());
    let needed = announced.saturating_mul(1024);
    if let Some(limit) = shared.options.max_file_size {
        if needed > limit {
            return Ok(IncomingDecision::Refuse(Refusal {
                reason: oftp2_codec::reason::SfnaReason::FILE_TOO_BIG,
                retry: false,
                text: format!("{announced} KiB exceed the limit of {limit} octets"),
            }));
        }
    }

    let temp = dirs.incoming.join(format!("{key}{PART_SUFFIX}"));
    let state_path = dirs.incoming.join(format!("{key}{STATE_SUFFIX}"));
    let Some(active) = ActiveGuard::claim(shared, state_path.clone()) else {
        return Ok(IncomingDecision::Refuse(StoreError::Busy.sfna()));
    };

    let state = match read_json::<RestartState>(&state_path) {
        Ok(state) => state,
        Err(StoreError::Corrupt { path, why }) => {
            tracing::warn!(path = %path.display(), %why, "restart state unreadable, starting over");
            None
        }
        Err(err) => return Err(err),
    };
    let agreed = match (&state, restart_offered) {
        (Some(state), true) => agree_restart(state, sfid),
        _ => None,
    };

    let on_disk = match fs::metadata(&temp) {
        Ok(meta) => meta.len(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
        Err(e) => return Err(StoreError::io("stat", &temp, e)),
    };
    let agreed = agreed.filter(|&(_, len)| len <= on_disk);
    let (restart_from, keep) = agreed.unwrap_or_default();

    // What is still to come must fit (what a resumed transfer holds already counts).
    let to_come = needed.saturating_sub(keep);
    if let Some(free) = super::sync::available_space(&dirs.incoming) {
        if to_come.saturating_add(shared.options.reserved_space) > free {
            return Ok(IncomingDecision::Refuse(Refusal {
                reason: oftp2_codec::reason::SfnaReason::FILE_TOO_BIG,
                retry: true,
                text: format!("{} KiB do not fit in the {} KiB free", to_come / 1024, free / 1024),
            }));
        }
    }

    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&temp)
        .map_err(|e| StoreError::io("open", &temp, e))?;
    if agreed.is_none() && state.is_some() {
        // Nothing of the earlier attempt is used: its state must not outlive the data.
        remove_if_exists(&state_path)?;
    }
    file.set_len(keep).map_err(|e| StoreError::io("truncate", &temp, e))?;
    if let Some(state) = &state {
        if agreed.is_some() && keep < state.file_len {
            // Cut below the checkpoint: make the cut and the lower point durable.
            file.sync_all().map_err(|e| StoreError::io("fsync", &temp, e))?;
            let lower = RestartState {
                sfid: sfid.clone(),
                counts: restart_from,
                file_len: keep,
                temp: state.temp.clone(),
            };
            write_json(&state_path, &lower)?;
        }
    }
    let file = PartFile::new(file, &temp, keep, shared.options.direct_io)
        .map_err(|e| StoreError::io("open", &temp, e))?;
    tracing::debug!(%partner, dataset = %sfid.dataset_name, resume_octets = keep,
                    direct = file.is_direct(), "receiving");
    Ok(IncomingDecision::Accept {
        file: Box::new(FsIncoming {
            shared: Arc::clone(shared),
            partner: *partner,
            sfid: sfid.clone(),
            dirs,
            key,
            temp,
            state_path,
            file,
            resumed: restart_from,
            resumed_len: keep,
            _active: active,
        }),
        restart_from,
    })
}

/// Marks a Virtual File as being received, so that a second session announcing it at
/// the same time is refused instead of writing into the same partial file.
struct ActiveGuard {
    shared: Arc<Shared>,
    state_path: PathBuf,
}

impl ActiveGuard {
    fn claim(shared: &Arc<Shared>, state_path: PathBuf) -> Option<Self> {
        let mut active = shared.active.lock().unwrap_or_else(|e| e.into_inner());
        if !active.insert(state_path.clone()) {
            return None;
        }
        Some(Self { shared: Arc::clone(shared), state_path })
    }
}

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        let mut active = self.shared.active.lock().unwrap_or_else(|e| e.into_inner());
        active.remove(&self.state_path);
    }
}

/// The writer of [`super::FsStore`].
struct FsIncoming {
    shared: Arc<Shared>,
    partner: OdetteId,
    sfid: Sfid,
    dirs: PartnerDirs,
    key: String,
    temp: PathBuf,
    state_path: PathBuf,
    file: PartFile,
    /// The restart point offered, and the length of the partial file there.
    resumed: Counts,
    resumed_len: u64,
    _active: ActiveGuard,
}

impl FsIncoming {
    fn sync(&mut self) -> Result<(), StoreError> {
        self.file.sync().map_err(|e| StoreError::io("write and fsync", &self.temp, e))
    }

    fn temp_name(&self) -> String {
        format!("{}{PART_SUFFIX}", self.key)
    }
}

/// The refusal of a file whose §6 services this store cannot provide (no
/// [`FileSecurity`](crate::protection::FileSecurity) configured), before any data flows:
/// SFNA 16 for an encrypted file, 19 signed, 18 compressed, 15 for a signed EERP request
/// (its cipher suite cannot be honoured); no retry.
fn unsupported_services(shared: &Shared, sfid: &Sfid) -> Option<Refusal> {
    let services = FileServices::of(sfid);
    if !services.needs_security() || shared.options.security.is_some() {
        return None;
    }
    let reason = if services.encrypted {
        SfnaReason::ENCRYPTED_FILE_NOT_ALLOWED
    } else if services.signed {
        SfnaReason::SIGNED_FILE_NOT_ALLOWED
    } else if services.compressed {
        SfnaReason::COMPRESSION_NOT_ALLOWED
    } else {
        SfnaReason::CIPHER_SUITE_NOT_SUPPORTED
    };
    Some(Refusal {
        reason,
        retry: false,
        text: "this node has no OFTP2 file security configured".into(),
    })
}

/// A secured file unwrapped (§6) and its receipt made.
struct Secured {
    /// The original file, beside the transmitted one, durable.
    original: PathBuf,
    /// Its length.
    size: u64,
    /// The EERP, signed when SFIDSIGN asks for it.
    receipt: Receipt,
}

/// A writer that refuses to write beyond `left` octets (and remembers that it did).
struct Limited<W> {
    inner: W,
    left: u64,
    exceeded: bool,
}

impl<W: Write> Write for Limited<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if buf.len() as u64 > self.left {
            self.exceeded = true;
            return Err(std::io::Error::other("the file exceeds the store's size limit"));
        }
        let n = self.inner.write(buf)?;
        self.left -= n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The name of a file in the incoming folder.
fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

impl FsIncoming {
    /// For a file with §6 services: unwraps and verifies it into `<key>.orig` (durable) and
    /// makes its EERP, signed with the transmitted file's hash when SFIDSIGN asks. `None`
    /// for a plain file without a signed EERP.
    fn secure_receipt(&mut self) -> Result<Option<Secured>, StoreError> {
        let services = FileServices::of(&self.sfid);
        if !services.needs_security() {
            return Ok(None);
        }
        let security = self.shared.options.security.clone().ok_or_else(|| {
            ProtectionError::local(
                "the file uses OFTP2 security, but the store has no FileSecurity",
            )
        })?;
        let mut transmitted = BufReader::with_capacity(
            COPY_BUFFER,
            File::open(&self.temp).map_err(|e| StoreError::io("open", &self.temp, e))?,
        );
        let (original, size, hash) = if services.transforms() {
            let original = self.dirs.incoming.join(format!("{}{ORIGINAL_SUFFIX}", self.key));
            let unwrapped = (|| {
                let mut out =
                    File::create(&original).map_err(|e| StoreError::io("create", &original, e))?;
                let limit = self.shared.options.max_file_size;
                let hash = {
                    // The limit on received files holds for what a compressed file
                    // inflates to as well (no decompression bomb fills the disk).
                    let mut writer = Limited {
                        inner: BufWriter::with_capacity(COPY_BUFFER, &mut out),
                        left: limit.unwrap_or(u64::MAX),
                        exceeded: false,
                    };
                    let unwrapped = security.unprotect(
                        &self.partner,
                        &self.sfid,
                        &mut transmitted,
                        &mut writer,
                    );
                    if writer.exceeded {
                        return Err(StoreError::TooBig { limit: limit.unwrap_or(u64::MAX) });
                    }
                    let hash = unwrapped?;
                    writer.inner.flush().map_err(|e| StoreError::io("write", &original, e))?;
                    hash
                };
                out.sync_all().map_err(|e| StoreError::io("fsync", &original, e))?;
                let size = out.metadata().map_err(|e| StoreError::io("stat", &original, e))?.len();
                Ok::<_, StoreError>((hash, size))
            })();
            match unwrapped {
                Ok((hash, size)) => (original, size, hash),
                Err(error) => {
                    let _ = remove_if_exists(&original);
                    return Err(error);
                }
            }
        } else {
            let hash = security.digest(services.cipher_suite, &mut transmitted)?;
            (self.temp.clone(), self.file.len(), hash)
        };
        let mut receipt = eerp_for(&self.sfid);
        if services.signed_receipt {
            if let Err(error) =
                security.sign_receipt(&self.partner, services.cipher_suite, &mut receipt, &hash)
            {
                if original != self.temp {
                    let _ = remove_if_exists(&original);
                }
                return Err(error.into());
            }
        }
        Ok(Some(Secured { original, size, receipt }))
    }

    /// The file failed its §6 checks (or its receipt could not be signed): forgets it and
    /// owes the originator a NERP with the reason, signed when SFIDSIGN asks.
    fn refused(&self, error: &StoreError) {
        let (reason, text) = match error {
            StoreError::Protection(e) => (e.nerp, e.message.clone()),
            other => (NerpReason::FILE_PROCESSING_FAILED, other.to_string()),
        };
        let mut receipt = nerp_for(&self.sfid, self.shared.options.local_id, reason, &text);
        let services = FileServices::of(&self.sfid);
        if services.signed_receipt {
            if let Some(security) = self.shared.options.security.as_ref() {
                let hash = File::open(&self.temp)
                    .map_err(|e| ProtectionError::local(e.to_string()))
                    .and_then(|mut f| security.digest(services.cipher_suite, &mut f));
                let signed = hash.and_then(|hash| {
                    security.sign_receipt(&self.partner, services.cipher_suite, &mut receipt, &hash)
                });
                if let Err(error) = signed {
                    tracing::warn!(%error, "NERP sent unsigned");
                }
            }
        }
        let _meta = self.shared.meta.lock().unwrap_or_else(|e| e.into_inner());
        let receipt_path =
            self.dirs.receipts.join(format!("{}{JSON_SUFFIX}", receipt_name(&receipt)));
        let pending = PendingReceipt { receipt, created: unix_nanos(self.shared.now()) };
        if let Err(error) = write_json(&receipt_path, &pending) {
            tracing::warn!(%error, "cannot record the NERP for a refused file");
        }
        let _ = remove_if_exists(&self.state_path);
        let _ = remove_if_exists(&self.temp);
        let _ = sync_dir(&self.dirs.incoming);
    }
}

impl IncomingFile for FsIncoming {
    fn write(&mut self, data: &[u8]) -> Result<(), StoreError> {
        let len = data.len() as u64;
        if let Some(limit) = self.shared.options.max_file_size {
            if self.file.len().saturating_add(len) > limit {
                return Err(StoreError::TooBig { limit });
            }
        }
        self.file.append(data).map_err(|e| StoreError::io("write", &self.temp, e))
    }

    fn checkpoint(&mut self, counts: Counts) -> Result<(), StoreError> {
        self.sync()?;
        let state = RestartState {
            sfid: self.sfid.clone(),
            counts,
            file_len: self.file.len(),
            temp: self.temp_name(),
        };
        write_json(&self.state_path, &state)
    }

    fn commit(mut self: Box<Self>, counts: Counts) -> Result<DeliveredFile, StoreError> {
        if let Err(error) = self.sync() {
            // EFNA follows (a full disk, say): the partial file is of no further use, and
            // must not hold the space the next file needs.
            let _ = self.abort(false);
            return Err(error);
        }
        let secured = match self.secure_receipt() {
            Ok(secured) => secured,
            Err(error) => {
                // The file is refused (EFNA); its originator hears why in a NERP.
                self.refused(&error);
                return Err(error);
            }
        };
        let (delivered_temp, size, receipt) = match secured {
            Some(Secured { original, size, receipt }) => (original, size, receipt),
            None => (self.temp.clone(), self.file.len(), eerp_for(&self.sfid)),
        };
        let shared = Arc::clone(&self.shared);
        let _meta = shared.meta.lock().unwrap_or_else(|e| e.into_inner());
        let path = free_inbox_path(&self.dirs.inbox, &self.sfid)?;
        let committed_at = unix_nanos(shared.now());
        let record = DeliveryRecord {
            delivered: DeliveredFile {
                partner: self.partner,
                sfid: self.sfid.clone(),
                path: path.clone(),
                counts,
                size,
            },
            temp: file_name(&delivered_temp),
            receipt: receipt_name(&receipt),
            committed_at,
            owed: Some(PendingReceipt { receipt, created: committed_at }),
        };
        let record_path = self.dirs.delivered.join(format!("{}{JSON_SUFFIX}", self.key));
        write_json(&record_path, &record)?;
        let receipt_path = self.dirs.receipts.join(format!("{}{JSON_SUFFIX}", record.receipt));
        let moved = (|| {
            if let Some(pending) = &record.owed {
                write_json(&receipt_path, pending)?;
            }
            fs::rename(&delivered_temp, &path).map_err(|e| StoreError::io("rename", &path, e))?;
            sync_dir(&self.dirs.inbox)?;
            sync_dir(&self.dirs.incoming)
        })();
        if let Err(err) = moved {
            // Undo, so that the peer's retry finds the partial file and no delivery.
            if !delivered_temp.exists() && path.exists() {
                let _ = fs::rename(&path, &delivered_temp);
            }
            let _ = remove_if_exists(&receipt_path);
            let _ = remove_if_exists(&record_path);
            let _ = sync_dir(&self.dirs.receipts);
            let _ = sync_dir(&self.dirs.delivered);
            return Err(err);
        }
        // Delivered. What follows is tidying that recovery also does (a secured file's
        // transmitted form included).
        if let Err(err) = remove_if_exists(&self.state_path)
            .and_then(|_| remove_if_exists(&self.temp))
            .and_then(|_| sync_dir(&self.dirs.incoming))
        {
            tracing::warn!(%err, "restart state of a delivered file left for recovery");
        }
        tracing::info!(partner = %self.partner, path = %path.display(), "file delivered");
        Ok(record.delivered)
    }

    fn abort(self: Box<Self>, keep_for_restart: bool) -> Result<(), StoreError> {
        if keep_for_restart {
            return Ok(());
        }
        let Self { file, temp, state_path, dirs, .. } = *self;
        drop(file);
        remove_if_exists(&state_path)?;
        remove_if_exists(&temp)?;
        sync_dir(&dirs.incoming)
    }

    fn written(&self) -> u64 {
        self.file.len()
    }

    fn restart_at(&mut self, start: Counts) -> Result<(), StoreError> {
        let asked = start.octets;
        if self.file.len() != self.resumed_len {
            return Err(StoreError::Restart { asked, why: "data was already written" });
        }
        if asked == self.resumed.octets {
            return Ok(());
        }
        if asked > self.resumed.octets {
            return Err(StoreError::Restart { asked, why: "beyond the point the store offered" });
        }
        let plain = self.resumed_len == self.resumed.octets;
        if asked != 0 && !plain {
            return Err(StoreError::Restart {
                asked,
                why: "the local file is not the counted octets",
            });
        }
        if asked == 0 {
            remove_if_exists(&self.state_path)?;
        }
        self.file.truncate(asked).map_err(|e| StoreError::io("truncate", &self.temp, e))?;
        self.resumed = start;
        self.resumed_len = asked;
        if asked != 0 {
            self.checkpoint(start)?;
        }
        Ok(())
    }
}

/// The first inbox name for this SFID that is not taken.
pub(crate) fn free_inbox_path(inbox: &Path, sfid: &Sfid) -> Result<PathBuf, StoreError> {
    for attempt in 1..=10_000 {
        let path = inbox.join(inbox_name(sfid, attempt));
        match fs::symlink_metadata(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(path),
            Err(e) => return Err(StoreError::io("stat", &path, e)),
            Ok(_) => {}
        }
    }
    Err(StoreError::io(
        "name",
        inbox.join(inbox_name(sfid, 1)),
        std::io::Error::other("10,000 files of this name in the inbox"),
    ))
}

/// Completes a commit that a crash interrupted after its delivery record was written:
/// the receipt the record keeps (the EERP, signed if SFIDSIGN asked) is recorded as owed
/// if missing, the partial file (durable since before the record) moves into the inbox.
pub(crate) fn roll_forward(
    dirs: &PartnerDirs,
    record_path: &Path,
    mut record: DeliveryRecord,
) -> Result<(), StoreError> {
    let temp = dirs.incoming.join(&record.temp);
    if !temp.exists() {
        return Ok(());
    }
    let receipt_path = dirs.receipts.join(format!("{}{JSON_SUFFIX}", record.receipt));
    if !receipt_path.exists() {
        // The receipt the commit made (signed if asked); a plain EERP for records of
        // earlier versions, which did not keep it.
        let pending = record.owed.clone().unwrap_or_else(|| PendingReceipt {
            receipt: eerp_for(&record.delivered.sfid),
            created: record.committed_at,
        });
        write_json(&receipt_path, &pending)?;
    }
    if let Ok(there) = fs::symlink_metadata(&record.delivered.path) {
        if same_file_on_disk(&there, &temp) {
            // The rename happened but the old name came back (a file system that
            // persisted only the new directory entry): drop the old name.
            remove_if_exists(&temp)?;
            return sync_dir(&dirs.incoming);
        }
        record.delivered.path = free_inbox_path(&dirs.inbox, &record.delivered.sfid)?;
        write_json(record_path, &record)?;
    }
    fs::rename(&temp, &record.delivered.path)
        .map_err(|e| StoreError::io("rename", &record.delivered.path, e))?;
    sync_dir(&dirs.inbox)?;
    tracing::info!(path = %record.delivered.path.display(), "interrupted delivery completed");
    Ok(())
}

/// Whether `path` is the very file `there` describes (same device and inode).
#[cfg(unix)]
fn same_file_on_disk(there: &fs::Metadata, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    fs::symlink_metadata(path).is_ok_and(|m| m.dev() == there.dev() && m.ino() == there.ino())
}

/// Whether `path` is the very file `there` describes: not knowable through std here.
#[cfg(not(unix))]
fn same_file_on_disk(_there: &fs::Metadata, _path: &Path) -> bool {
    false
}

/// The writer for a duplicate: counts and discards.
struct Discarding {
    original: DeliveredFile,
    written: u64,
}

impl IncomingFile for Discarding {
    fn write(&mut self, data: &[u8]) -> Result<(), StoreError> {
        self.written += data.len() as u64;
        Ok(())
    }

    fn checkpoint(&mut self, _counts: Counts) -> Result<(), StoreError> {
        Ok(())
    }

    fn commit(self: Box<Self>, _counts: Counts) -> Result<DeliveredFile, StoreError> {
        Ok(self.original)
    }

    fn abort(self: Box<Self>, _keep_for_restart: bool) -> Result<(), StoreError> {
        Ok(())
    }

    fn written(&self) -> u64 {
        self.written
    }

    fn restart_at(&mut self, _start: Counts) -> Result<(), StoreError> {
        Ok(())
    }
}
