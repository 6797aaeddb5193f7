//! [`FsStore`]: the file store on a directory.

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use oftp2_codec::command::Sfid;
use oftp2_codec::fields::{
    CipherSuite, FileCompression, FileEnveloping, OdetteId, RecordFormat, RestartPosition,
    SecurityLevel,
};
use oftp2_codec::record::{file_size, Counts, FileSettings};
use serde::{Deserialize, Serialize};

use super::error::StoreError;
use super::incoming::{
    self, roll_forward, DeliveryRecord, PendingReceipt, RestartState, JSON_SUFFIX, ORIGINAL_SUFFIX,
    PART_SUFFIX, STATE_SUFFIX,
};
use super::names::{partner_dir, partner_of_dir, receipt_name};
use super::stamp::{seq, Stamp};
use super::sync::{
    list, read_json, remove_if_exists, remove_releasing_later, sync_dir, write_json, TMP_SUFFIX,
};
use super::types::{
    counts_serde, Failure, OutgoingEntry, OutgoingFile, OutgoingId, OutgoingSource, OutgoingState,
    PeerRefusal, Receipt, ReceiptFields, ReceiptId, RefusalReason,
};
use super::{FileStore, IncomingDecision, OutgoingReader};
use crate::protection::{FileSecurity, FileServices};

const DATA_SUFFIX: &str = ".data";
const COPY_BUFFER: usize = 64 * 1024;

/// Settings of an [`FsStore`].
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// This node's Odette ID: SFIDORIG of files queued without an originator.
    pub local_id: OdetteId,
    /// The largest file accepted, in octets (SFNA 06 without retry above it, also when
    /// the peer announced less and sends more). `None`: no limit but the disk.
    pub max_file_size: Option<u64>,
    /// Octets to keep free on the disk: a file is refused (SFNA 06, retry) if its
    /// announced size would eat into them.
    pub reserved_space: u64,
    /// The clock for SFIDDATE / SFIDTIME stamps and record times.
    pub clock: fn() -> SystemTime,
    /// OFTP2 file security (§6): secures queued files that ask for it, unwraps and
    /// verifies received secured files before they are delivered, signs EERPs and NERPs
    /// that SFIDSIGN asks for. `None`: files that need it are refused.
    pub security: Option<Arc<dyn FileSecurity>>,
    /// Write received files with `O_DIRECT` where the file system takes it (Linux; not
    /// tmpfs): the device reads the store's aligned buffer itself, instead of the kernel
    /// copying every octet into the page cache and writing it back later, which costs more
    /// CPU than TLS decryption. Durability is the same (`fsync` at every checkpoint and
    /// before EFPA). `false` writes through the page cache. Default `true`.
    pub direct_io: bool,
}

impl StoreOptions {
    /// No size limit, nothing reserved, the system clock.
    pub fn new(local_id: OdetteId) -> Self {
        Self {
            local_id,
            max_file_size: None,
            reserved_space: 0,
            clock: SystemTime::now,
            security: None,
            direct_io: true,
        }
    }
}

/// The folders of one partner.
#[derive(Debug, Clone)]
pub(crate) struct PartnerDirs {
    pub(crate) inbox: PathBuf,
    pub(crate) incoming: PathBuf,
    pub(crate) delivered: PathBuf,
    pub(crate) outbox: PathBuf,
    pub(crate) receipts: PathBuf,
}

impl PartnerDirs {
    fn new(partner_root: &Path) -> Self {
        Self {
            inbox: partner_root.join("inbox"),
            incoming: partner_root.join("incoming"),
            delivered: partner_root.join("delivered"),
            outbox: partner_root.join("outbox"),
            receipts: partner_root.join("receipts"),
        }
    }

    fn all(&self) -> [&Path; 5] {
        [&self.inbox, &self.incoming, &self.delivered, &self.outbox, &self.receipts]
    }
}

/// What the store and its writers share.
pub(crate) struct Shared {
    root: PathBuf,
    pub(crate) options: StoreOptions,
    /// Serialises changes to records, receipts and outbox entries.
    pub(crate) meta: Mutex<()>,
    /// Restart state paths of the files being received.
    pub(crate) active: Mutex<HashSet<PathBuf>>,
    stamp: Mutex<Option<Stamp>>,
    created: Mutex<HashSet<OdetteId>>,
}

impl Shared {
    fn partners(&self) -> PathBuf {
        self.root.join("partners")
    }

    fn dirs_of(&self, partner: &OdetteId) -> PartnerDirs {
        PartnerDirs::new(&self.partners().join(partner_dir(partner)))
    }

    /// The partner's folders, created (durably) on first use.
    pub(crate) fn partner_dirs(&self, partner: &OdetteId) -> Result<PartnerDirs, StoreError> {
        let dirs = self.dirs_of(partner);
        let mut created = self.created.lock().unwrap_or_else(|e| e.into_inner());
        if created.contains(partner) {
            return Ok(dirs);
        }
        let partner_root = self.partners().join(partner_dir(partner));
        let fresh = !partner_root.exists();
        for dir in dirs.all() {
            fs::create_dir_all(dir).map_err(|e| StoreError::io("create directory", dir, e))?;
        }
        if fresh {
            sync_dir(&partner_root)?;
            sync_dir(&self.partners())?;
            sync_dir(&self.root)?;
        }
        created.insert(*partner);
        Ok(dirs)
    }

    pub(crate) fn now(&self) -> SystemTime {
        (self.options.clock)()
    }
}

/// Nanoseconds since the Unix epoch (zero before it).
pub(crate) fn unix_nanos(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// An outbox entry as stored in `outbox/<seq>.json`.
#[derive(Debug, Serialize, Deserialize)]
struct OutgoingRecord {
    sfid: Sfid,
    size: u64,
    state: OutgoingState,
    #[serde(with = "counts_serde")]
    progress: Counts,
    attempts: u32,
    last_refusal: Option<PeerRefusal>,
    queued_at: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    transmitted_hash: Option<Vec<u8>>,
}

/// The file store on a directory. See the [module documentation](super) for the
/// durability protocol.
///
/// Layout:
///
/// ```text
/// <root>/stamp.json                        the last SFIDDATE/SFIDTIME stamp given out
/// <root>/partners/<partner>/inbox/         delivered files: <DSN>+<date>+<time>[+n]
///                          incoming/       partial files <key>.part, restart state <key>.state
///                          delivered/      delivery records <key>.json (duplicate detection)
///                          outbox/         files to send <seq>.data and their entry <seq>.json
///                          receipts/       receipts owed to the partner, <kind>+<key>.json
/// ```
///
/// `<partner>` and `<key>` (originator, destination, dataset name, date, time) are
/// escaped: only `0-9 A-Z a-z - _ +` appear (`.` becomes `_d`, `/` `_s`, `&` `_a`, `(`
/// `_o`, `)` `_c`, space `_w`, a leading `-` `_m`), so no path traversal is possible and
/// distinct Virtual Files never share a name, even on case-insensitive file systems.
/// `<seq>` is the file's `CCYYMMDDHHMMSScccc`, unique in the store, so the outbox lists
/// in queue order. Stamps are UTC.
///
/// One `FsStore` (cloned freely, it is an `Arc` inside) per directory at a time: it
/// serialises its own threads, not other processes.
///
/// ```
/// use oftp2_session::store::{FileStore, FsStore, OutgoingFile, OutgoingSource};
/// let dir = tempfile::tempdir()?;
/// let store = FsStore::open(dir.path(), "O0013000000000000001".parse()?)?;
/// let partner = "O0013000000000000002".parse()?;
/// let id = store.queue_outgoing(
///     &partner,
///     OutgoingFile::unstructured("INVOICES".parse()?, partner, OutgoingSource::Bytes(b"hello".to_vec())),
/// )?;
/// let queued = store.outgoing(&partner)?;
/// assert_eq!(queued[0].id, id);
/// assert_eq!(queued[0].size, 5);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct FsStore {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for FsStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FsStore").field("root", &self.shared.root).finish_non_exhaustive()
    }
}

impl FsStore {
    /// Opens (or creates) the store in `root` for the node `local_id`, with default
    /// [`StoreOptions`], and recovers from an earlier crash (see [`FsStore::with_options`]).
    pub fn open(root: impl AsRef<Path>, local_id: OdetteId) -> Result<Self, StoreError> {
        Self::with_options(root, StoreOptions::new(local_id))
    }

    /// Opens (or creates) the store in `root` and recovers: interrupted commits are
    /// completed, partial files without restart state and state without partial file
    /// (or of a file already delivered) are deleted, as are unfinished state writes and
    /// outbox copies without an entry.
    pub fn with_options(root: impl AsRef<Path>, options: StoreOptions) -> Result<Self, StoreError> {
        let root = root.as_ref().to_owned();
        let partners = root.join("partners");
        fs::create_dir_all(&partners)
            .map_err(|e| StoreError::io("create directory", &partners, e))?;
        let stamp = read_json::<Stamp>(&root.join("stamp.json"))?;
        let shared = Arc::new(Shared {
            root,
            options,
            meta: Mutex::new(()),
            active: Mutex::new(HashSet::new()),
            stamp: Mutex::new(stamp),
            created: Mutex::new(HashSet::new()),
        });
        let store = Self { shared };
        store.recover()?;
        Ok(store)
    }

    /// The directory the store lives in.
    pub fn root(&self) -> &Path {
        &self.shared.root
    }

    /// The folder delivered files from `partner` appear in.
    pub fn inbox(&self, partner: &OdetteId) -> PathBuf {
        self.shared.dirs_of(partner).inbox
    }

    /// The folder of partial files and restart state of `partner`.
    pub fn incoming_dir(&self, partner: &OdetteId) -> PathBuf {
        self.shared.dirs_of(partner).incoming
    }

    /// Removes an outbox entry (typically after the application was told of its EERP or
    /// NERP).
    pub fn remove_outgoing(&self, id: &OutgoingId) -> Result<(), StoreError> {
        let dirs = self.shared.dirs_of(&id.partner);
        let _meta = self.lock();
        if !remove_if_exists(&entry_path(&dirs, id.seq))? {
            return Err(StoreError::UnknownOutgoing(*id));
        }
        remove_if_exists(&data_path(&dirs, id.seq))?;
        sync_dir(&dirs.outbox)
    }

    /// Forgets the delivery records of files from `partner` committed before `before`,
    /// so that duplicate detection stops recognising them; returns how many.
    pub fn forget_delivered(
        &self,
        partner: &OdetteId,
        before: SystemTime,
    ) -> Result<usize, StoreError> {
        let dirs = self.shared.dirs_of(partner);
        let limit = unix_nanos(before);
        let _meta = self.lock();
        let mut forgotten = 0;
        for name in list(&dirs.delivered)? {
            if !name.ends_with(JSON_SUFFIX) {
                continue;
            }
            let path = dirs.delivered.join(&name);
            let record: Option<DeliveryRecord> = read_json(&path)?;
            if record.is_some_and(|r| r.committed_at < limit) {
                remove_if_exists(&path)?;
                forgotten += 1;
            }
        }
        if forgotten > 0 {
            sync_dir(&dirs.delivered)?;
        }
        Ok(forgotten)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ()> {
        self.shared.meta.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn recover(&self) -> Result<(), StoreError> {
        for name in list(&self.shared.partners())? {
            let partner_root = self.shared.partners().join(&name);
            if partner_root.is_dir() {
                recover_partner(&PartnerDirs::new(&partner_root))?;
            }
        }
        Ok(())
    }

    fn next_stamp(&self) -> Result<Stamp, StoreError> {
        let mut last = self.shared.stamp.lock().unwrap_or_else(|e| e.into_inner());
        let next = Stamp::next(*last, self.shared.now());
        write_json(&self.shared.root.join("stamp.json"), &next)?;
        *last = Some(next);
        Ok(next)
    }

    fn load_entry(&self, id: &OutgoingId) -> Result<(PartnerDirs, OutgoingRecord), StoreError> {
        let dirs = self.shared.dirs_of(&id.partner);
        match read_json::<OutgoingRecord>(&entry_path(&dirs, id.seq))? {
            Some(record) => Ok((dirs, record)),
            None => Err(StoreError::UnknownOutgoing(*id)),
        }
    }

    fn update_entry(
        &self,
        id: &OutgoingId,
        change: impl FnOnce(&mut OutgoingRecord),
    ) -> Result<OutgoingRecord, StoreError> {
        let _meta = self.lock();
        let (dirs, mut record) = self.load_entry(id)?;
        change(&mut record);
        write_json(&entry_path(&dirs, id.seq), &record)?;
        Ok(record)
    }

    fn entries(&self, partner: &OdetteId) -> Result<Vec<OutgoingEntry>, StoreError> {
        let dirs = self.shared.dirs_of(partner);
        let mut entries = Vec::new();
        for name in list(&dirs.outbox)? {
            let Some(seq) = name.strip_suffix(JSON_SUFFIX).and_then(|s| s.parse::<u64>().ok())
            else {
                continue;
            };
            if let Some(record) = read_json::<OutgoingRecord>(&dirs.outbox.join(&name))? {
                entries.push(entry(OutgoingId { partner: *partner, seq }, record));
            }
        }
        entries.sort_by_key(|e| e.id.seq);
        Ok(entries)
    }

    /// Writes the transmitted form of `source` into `path` durably: secured as `services`
    /// ask (§6.1), or copied and hashed when only a signed EERP is asked for.
    fn secure_in(
        &self,
        partner: &OdetteId,
        path: &Path,
        source: OutgoingSource,
        services: &FileServices,
    ) -> Result<Queued, StoreError> {
        let security = self.shared.options.security.as_ref().ok_or_else(|| {
            StoreError::InvalidOutgoing(
                "the file asks for OFTP2 security, but the store has no FileSecurity".into(),
            )
        })?;
        if !services.transforms() {
            let size = Self::copy_in(path, source)?;
            let mut data = File::open(path).map_err(|e| StoreError::io("open", path, e))?;
            let hash = security.digest(services.cipher_suite, &mut data)?;
            return Ok(Queued { original: size, size, hash: Some(hash) });
        }
        let mut out = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| StoreError::io("create", path, e))?;
        let input: Box<dyn Read> = match source {
            OutgoingSource::Bytes(bytes) => Box::new(std::io::Cursor::new(bytes)),
            OutgoingSource::Path(from) => {
                let file = File::open(&from).map_err(|e| StoreError::io("open", &from, e))?;
                Box::new(BufReader::with_capacity(COPY_BUFFER, file))
            }
            OutgoingSource::Reader(reader) => reader,
        };
        let mut counted = CountingReader { inner: input, octets: 0 };
        let hash = {
            let mut writer = std::io::BufWriter::with_capacity(COPY_BUFFER, &mut out);
            let hash = security.protect(partner, services, &mut counted, &mut writer)?;
            writer.flush().map_err(|e| StoreError::io("write", path, e))?;
            hash
        };
        out.sync_all().map_err(|e| StoreError::io("fsync", path, e))?;
        let size = out.metadata().map_err(|e| StoreError::io("stat", path, e))?.len();
        Ok(Queued { original: counted.octets, size, hash: Some(hash) })
    }

    /// Copies `source` into `path` durably; returns the octets copied.
    fn copy_in(path: &Path, source: OutgoingSource) -> Result<u64, StoreError> {
        let mut out = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| StoreError::io("create", path, e))?;
        let copied = match source {
            OutgoingSource::Bytes(bytes) => {
                out.write_all(&bytes).map_err(|e| StoreError::io("write", path, e))?;
                bytes.len() as u64
            }
            OutgoingSource::Path(from) => {
                let input = File::open(&from).map_err(|e| StoreError::io("open", &from, e))?;
                copy(BufReader::with_capacity(COPY_BUFFER, input), &from, &mut out, path)?
            }
            OutgoingSource::Reader(reader) => copy(reader, Path::new("<reader>"), &mut out, path)?,
        };
        out.sync_all().map_err(|e| StoreError::io("fsync", path, e))?;
        Ok(copied)
    }
}

/// What queueing wrote into the outbox.
struct Queued {
    /// Octets of the original file.
    original: u64,
    /// Octets of the transmitted form.
    size: u64,
    /// The transmitted form's hash, when its EERP is to be signed.
    hash: Option<Vec<u8>>,
}

/// Counts what passes through a reader.
struct CountingReader<R> {
    inner: R,
    octets: u64,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.octets += n as u64;
        Ok(n)
    }
}

/// Streams `input` into `out` through a fixed buffer.
fn copy(mut input: impl Read, from: &Path, out: &mut File, to: &Path) -> Result<u64, StoreError> {
    let mut buffer = vec![0; COPY_BUFFER];
    let mut total = 0u64;
    loop {
        let n = match input.read(&mut buffer) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(StoreError::io("read", from, e)),
        };
        let chunk = buffer.get(..n).unwrap_or_default();
        out.write_all(chunk).map_err(|e| StoreError::io("write", to, e))?;
        total += n as u64;
    }
}

fn entry_path(dirs: &PartnerDirs, seq: u64) -> PathBuf {
    dirs.outbox.join(format!("{seq:018}{JSON_SUFFIX}"))
}

fn data_path(dirs: &PartnerDirs, seq: u64) -> PathBuf {
    dirs.outbox.join(format!("{seq:018}{DATA_SUFFIX}"))
}

fn entry(id: OutgoingId, record: OutgoingRecord) -> OutgoingEntry {
    OutgoingEntry {
        id,
        sfid: record.sfid,
        size: record.size,
        transmitted_hash: record.transmitted_hash,
        state: record.state,
        progress: record.progress,
        attempts: record.attempts,
        last_refusal: record.last_refusal,
    }
}

/// Recovery of one partner's folders after a crash (see [`FsStore::with_options`]).
fn recover_partner(dirs: &PartnerDirs) -> Result<(), StoreError> {
    for dir in dirs.all() {
        let mut removed = false;
        for name in list(dir)? {
            if name.ends_with(TMP_SUFFIX) {
                removed |= remove_if_exists(&dir.join(&name))?;
            }
        }
        if removed {
            sync_dir(dir)?;
        }
    }

    let mut delivered = HashSet::new();
    for name in list(&dirs.delivered)? {
        let Some(key) = name.strip_suffix(JSON_SUFFIX) else { continue };
        let path = dirs.delivered.join(&name);
        if let Some(record) = read_json::<DeliveryRecord>(&path)? {
            roll_forward(dirs, &path, record)?;
        }
        delivered.insert(key.to_owned());
    }

    let names = list(&dirs.incoming)?;
    let present: HashSet<&str> = names.iter().map(String::as_str).collect();
    let mut removed = false;
    for name in &names {
        if let Some(key) = name.strip_suffix(STATE_SUFFIX) {
            let temp = format!("{key}{PART_SUFFIX}");
            let state_path = dirs.incoming.join(name);
            let readable = matches!(read_json::<RestartState>(&state_path), Ok(Some(_)));
            if delivered.contains(key) || !present.contains(temp.as_str()) || !readable {
                tracing::info!(state = %state_path.display(), "stale restart state removed");
                removed |= remove_if_exists(&state_path)?;
                removed |= remove_if_exists(&dirs.incoming.join(&temp))?;
            }
        } else if let Some(key) = name.strip_suffix(ORIGINAL_SUFFIX) {
            // An unwrapping the crash interrupted, before its delivery record.
            if !delivered.contains(key) {
                tracing::info!(file = %name, "unwrapped file without delivery removed");
                removed |= remove_if_exists(&dirs.incoming.join(name))?;
            }
        } else if let Some(key) = name.strip_suffix(PART_SUFFIX) {
            let state = format!("{key}{STATE_SUFFIX}");
            if !present.contains(state.as_str()) || delivered.contains(key) {
                tracing::info!(file = %name, "partial file without restart state removed");
                removed |= remove_if_exists(&dirs.incoming.join(name))?;
            }
        }
    }
    if removed {
        sync_dir(&dirs.incoming)?;
    }

    let names = list(&dirs.outbox)?;
    let present: HashSet<&str> = names.iter().map(String::as_str).collect();
    let mut removed = false;
    for name in &names {
        if let Some(stem) = name.strip_suffix(DATA_SUFFIX) {
            let entry = format!("{stem}{JSON_SUFFIX}");
            if !present.contains(entry.as_str()) {
                removed |= remove_if_exists(&dirs.outbox.join(name))?;
            }
        }
    }
    if removed {
        sync_dir(&dirs.outbox)?;
    }
    Ok(())
}

impl FileStore for FsStore {
    fn begin_incoming(
        &self,
        partner: &OdetteId,
        sfid: &Sfid,
        restart_offered: bool,
    ) -> Result<IncomingDecision, StoreError> {
        incoming::begin(&self.shared, partner, sfid, restart_offered)
    }

    fn queue_outgoing(
        &self,
        partner: &OdetteId,
        file: OutgoingFile,
    ) -> Result<OutgoingId, StoreError> {
        let settings = match file.format {
            RecordFormat::Fixed => FileSettings::fixed(file.max_record_length),
            RecordFormat::Variable => FileSettings::variable(file.max_record_length),
            RecordFormat::Unstructured | RecordFormat::Text => {
                if file.max_record_length.get() != 0 {
                    return Err(StoreError::InvalidOutgoing(format!(
                        "SFIDLRECL must be 0 for format {}",
                        file.format
                    )));
                }
                FileSettings::unstructured()
            }
        };
        settings.validate().map_err(|e| StoreError::InvalidOutgoing(e.to_string()))?;
        let dirs = self.shared.partner_dirs(partner)?;
        let stamp = self.next_stamp()?;
        let (date, time) = stamp.fields().ok_or(StoreError::Clock("date beyond 0000..=9999"))?;
        let id = OutgoingId { partner: *partner, seq: seq(date, time) };
        let data = data_path(&dirs, id.seq);
        let services = file.services;
        let queued = if services.needs_security() {
            self.secure_in(partner, &data, file.source, &services)
        } else {
            Self::copy_in(&data, file.source).map(|size| Queued {
                original: size,
                size,
                hash: None,
            })
        };
        let Queued { original, size, hash } = match queued {
            Ok(queued) => queued,
            Err(err) => {
                let _ = remove_if_exists(&data);
                return Err(err);
            }
        };
        let record_length = file.max_record_length.get();
        if file.format == RecordFormat::Fixed && original % record_length != 0 {
            let _ = remove_if_exists(&data);
            return Err(StoreError::InvalidOutgoing(format!(
                "{original} octets are not a whole number of {record_length}-octet records"
            )));
        }
        let mut sfid = Sfid {
            dataset_name: file.dataset_name,
            date,
            time,
            user_data: file.user_data,
            destination: file.destination,
            originator: file.originator.unwrap_or(self.shared.options.local_id),
            format: file.format,
            max_record_length: file.max_record_length,
            file_size: file_size(size),
            original_file_size: file_size(original),
            restart_position: RestartPosition::saturating(0),
            security_level: SecurityLevel::None,
            cipher_suite: CipherSuite::NONE,
            compression: FileCompression::None,
            enveloping: FileEnveloping::None,
            signed_eerp_request: false,
            description: file.description,
        };
        services.write_to(&mut sfid);
        let record = OutgoingRecord {
            sfid,
            size,
            state: OutgoingState::Queued,
            progress: Counts::default(),
            attempts: 0,
            last_refusal: None,
            queued_at: unix_nanos(self.shared.now()),
            transmitted_hash: hash,
        };
        let _meta = self.lock();
        if let Err(err) = write_json(&entry_path(&dirs, id.seq), &record) {
            let _ = remove_if_exists(&data);
            return Err(err);
        }
        tracing::info!(%id, dataset = %record.sfid.dataset_name, size, "file queued");
        Ok(id)
    }

    fn security(&self) -> Option<Arc<dyn FileSecurity>> {
        self.shared.options.security.clone()
    }

    fn outgoing(&self, partner: &OdetteId) -> Result<Vec<OutgoingEntry>, StoreError> {
        let mut entries = self.entries(partner)?;
        entries.retain(|e| e.state == OutgoingState::Queued);
        Ok(entries)
    }

    fn outgoing_all(&self, partner: &OdetteId) -> Result<Vec<OutgoingEntry>, StoreError> {
        self.entries(partner)
    }

    fn outgoing_entry(&self, id: &OutgoingId) -> Result<OutgoingEntry, StoreError> {
        let (_, record) = self.load_entry(id)?;
        Ok(entry(*id, record))
    }

    fn open_outgoing(&self, id: &OutgoingId) -> Result<Box<dyn OutgoingReader>, StoreError> {
        let dirs = self.shared.dirs_of(&id.partner);
        let path = data_path(&dirs, id.seq);
        match File::open(&path) {
            Ok(file) => Ok(Box::new(BufReader::with_capacity(COPY_BUFFER, file))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(StoreError::UnknownOutgoing(*id))
            }
            Err(e) => Err(StoreError::io("open", path, e)),
        }
    }

    fn outgoing_progress(&self, id: &OutgoingId, counts: Counts) -> Result<(), StoreError> {
        self.update_entry(id, |record| {
            if record.state == OutgoingState::Queued {
                record.progress = counts;
            }
        })
        .map(drop)
    }

    fn outgoing_sent(&self, id: &OutgoingId, counts: Counts) -> Result<(), StoreError> {
        self.update_entry(id, |record| {
            if matches!(record.state, OutgoingState::Queued | OutgoingState::Sent { .. }) {
                record.state = OutgoingState::Sent { counts };
                record.progress = counts;
            }
        })
        .map(drop)
    }

    fn outgoing_refused(
        &self,
        id: &OutgoingId,
        reason: RefusalReason,
        retry: bool,
        text: &str,
    ) -> Result<(), StoreError> {
        let refusal = PeerRefusal { reason, retry, text: text.to_owned() };
        self.update_entry(id, |record| {
            record.attempts = record.attempts.saturating_add(1);
            record.last_refusal = Some(refusal.clone());
            if let RefusalReason::Efna(_) = reason {
                // The peer threw the transferred data away.
                record.progress = Counts::default();
            }
            record.state = if retry {
                OutgoingState::Queued
            } else {
                OutgoingState::Failed(Failure::Refused(refusal))
            };
        })
        .map(drop)
    }

    fn receipt_received(
        &self,
        partner: &OdetteId,
        receipt: &Receipt,
    ) -> Result<Option<OutgoingId>, StoreError> {
        let wanted = seq(receipt.date(), receipt.time());
        let mut candidates = vec![*partner];
        for name in list(&self.shared.partners())? {
            if let Some(other) = partner_of_dir(&name) {
                if other != *partner {
                    candidates.push(other);
                }
            }
        }
        let _meta = self.lock();
        for candidate in candidates {
            let id = OutgoingId { partner: candidate, seq: wanted };
            let dirs = self.shared.dirs_of(&candidate);
            let path = entry_path(&dirs, wanted);
            let Some(mut record) = read_json::<OutgoingRecord>(&path)? else { continue };
            if record.sfid.dataset_name != *receipt.dataset_name()
                || record.sfid.originator != *receipt.destination()
            {
                continue;
            }
            if matches!(record.state, OutgoingState::Delivered { .. } | OutgoingState::Failed(_)) {
                tracing::info!(%id, "receipt for a file already settled");
                return Ok(None);
            }
            record.state = match receipt {
                Receipt::Eerp(eerp) => OutgoingState::Delivered { receipt: eerp.clone() },
                Receipt::Nerp(nerp) => OutgoingState::Failed(Failure::Nerp(nerp.clone())),
            };
            write_json(&path, &record)?;
            if let Receipt::Eerp(_) = receipt {
                // Delivered end to end: the copy is no longer needed. The session does not
                // wait for a large file's pages to be freed.
                if remove_releasing_later(&data_path(&dirs, wanted))? {
                    sync_dir(&dirs.outbox)?;
                }
            }
            tracing::info!(%id, "end-to-end receipt matched");
            return Ok(Some(id));
        }
        tracing::warn!(%partner, dataset = %receipt.dataset_name(), "receipt for no file of ours");
        Ok(None)
    }

    fn queue_receipt(&self, partner: &OdetteId, receipt: Receipt) -> Result<ReceiptId, StoreError> {
        let dirs = self.shared.partner_dirs(partner)?;
        let name = receipt_name(&receipt);
        let path = dirs.receipts.join(format!("{name}{JSON_SUFFIX}"));
        let _meta = self.lock();
        if !path.exists() {
            let pending = PendingReceipt { receipt, created: unix_nanos(self.shared.now()) };
            write_json(&path, &pending)?;
        }
        Ok(ReceiptId { partner: *partner, name })
    }

    fn pending_receipts(
        &self,
        partner: &OdetteId,
    ) -> Result<Vec<(ReceiptId, Receipt)>, StoreError> {
        let dirs = self.shared.dirs_of(partner);
        let _meta = self.lock();
        let mut pending = Vec::new();
        for name in list(&dirs.receipts)? {
            let Some(stem) = name.strip_suffix(JSON_SUFFIX) else { continue };
            if let Some(receipt) = read_json::<PendingReceipt>(&dirs.receipts.join(&name))? {
                let id = ReceiptId { partner: *partner, name: stem.to_owned() };
                pending.push((receipt.created, id, receipt.receipt));
            }
        }
        pending.sort_by(|a, b| (a.0, &a.1.name).cmp(&(b.0, &b.1.name)));
        Ok(pending.into_iter().map(|(_, id, receipt)| (id, receipt)).collect())
    }

    fn receipt_sent(&self, id: &ReceiptId) -> Result<(), StoreError> {
        let dirs = self.shared.dirs_of(&id.partner);
        let _meta = self.lock();
        if !remove_if_exists(&dirs.receipts.join(format!("{}{JSON_SUFFIX}", id.name)))? {
            return Err(StoreError::UnknownReceipt(id.clone()));
        }
        sync_dir(&dirs.receipts)
    }
}
