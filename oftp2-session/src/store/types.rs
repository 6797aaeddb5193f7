//! The values the store hands out and takes in.

use std::fmt;
use std::path::PathBuf;

use oftp2_codec::command::{Eerp, Nerp, Sfid};
use oftp2_codec::fields::{
    DatasetName, OdetteId, RecordFormat, RecordLength, RestartPosition, UserData, Utf8Text,
    VirtualFileDate, VirtualFileTime,
};
use oftp2_codec::reason::{EfnaReason, SfnaReason};
use oftp2_codec::record::{restart_position, Counts};
use serde::{Deserialize, Serialize};

/// Why the store refuses an incoming file: what the engine puts in SFNA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// SFNAREAS.
    pub reason: SfnaReason,
    /// SFNARRTR: whether the peer may try again later.
    pub retry: bool,
    /// SFNAREAST: the reason in words.
    pub text: String,
}

/// A file the store received and delivered into a partner's inbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveredFile {
    /// The partner it came from.
    pub partner: OdetteId,
    /// The SFID it was announced with.
    pub sfid: Sfid,
    /// Where it was delivered (the application may have moved it away since).
    pub path: PathBuf,
    /// The record and octet counts the engine checked against EFID.
    #[serde(with = "counts_serde")]
    pub counts: Counts,
    /// Its length in the inbox.
    pub size: u64,
}

/// Serde for [`Counts`] (which has none): `{"records": n, "octets": n}`.
pub(crate) mod counts_serde {
    use oftp2_codec::record::Counts;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    struct Saved {
        records: u64,
        octets: u64,
    }

    pub(crate) fn serialize<S: Serializer>(c: &Counts, s: S) -> Result<S::Ok, S::Error> {
        Saved { records: c.records, octets: c.octets }.serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Counts, D::Error> {
        let saved = Saved::deserialize(d)?;
        Ok(Counts { records: saved.records, octets: saved.octets })
    }
}

/// Where the content of a file to send comes from.
pub enum OutgoingSource {
    /// A file, copied into the outbox.
    Path(PathBuf),
    /// Octets in memory, written into the outbox.
    Bytes(Vec<u8>),
    /// Anything readable, copied into the outbox.
    Reader(Box<dyn std::io::Read + Send>),
}

impl fmt::Debug for OutgoingSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Path(path) => f.debug_tuple("Path").field(path).finish(),
            Self::Bytes(bytes) => write!(f, "Bytes({} octets)", bytes.len()),
            Self::Reader(_) => f.write_str("Reader"),
        }
    }
}

/// A Virtual File to queue for a partner.
#[derive(Debug)]
pub struct OutgoingFile {
    /// SFIDDSN.
    pub dataset_name: DatasetName,
    /// SFIDFMT.
    pub format: RecordFormat,
    /// SFIDLRECL: the record length for F, the longest record for V, zero for U and T.
    pub max_record_length: RecordLength,
    /// SFIDDESC.
    pub description: Utf8Text,
    /// SFIDDEST: the final recipient.
    pub destination: OdetteId,
    /// SFIDORIG; `None` for this node ([`crate::store::StoreOptions::local_id`]).
    pub originator: Option<OdetteId>,
    /// SFIDUSER.
    pub user_data: UserData,
    /// The content.
    pub source: OutgoingSource,
    /// The §6 services to apply (signing, compression, encryption, a signed EERP):
    /// [`FileServices::NONE`](crate::protection::FileServices::NONE) to send the file as
    /// it is. Anything else needs a [`FileSecurity`](crate::protection::FileSecurity) in
    /// the store's options.
    pub services: crate::protection::FileServices,
}

impl OutgoingFile {
    /// An unstructured (U) file from this node to `destination`, without description.
    pub fn unstructured(
        dataset_name: DatasetName,
        destination: OdetteId,
        source: OutgoingSource,
    ) -> Self {
        Self {
            dataset_name,
            format: RecordFormat::Unstructured,
            max_record_length: RecordLength::ZERO,
            description: Utf8Text::empty(),
            destination,
            originator: None,
            user_data: UserData::EMPTY,
            source,
            services: crate::protection::FileServices::NONE,
        }
    }
}

/// Identifies an outbox entry: the partner and the entry's time stamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OutgoingId {
    pub(crate) partner: OdetteId,
    pub(crate) seq: u64,
}

impl OutgoingId {
    /// The partner the file goes to.
    pub fn partner(&self) -> &OdetteId {
        &self.partner
    }

    /// SFIDDATE and SFIDTIME of the file, which identify it in the store.
    pub fn stamp(&self) -> Option<(VirtualFileDate, VirtualFileTime)> {
        let date = VirtualFileDate::from_number(self.seq / 10_000_000_000).ok()?;
        let time = VirtualFileTime::from_number(self.seq % 10_000_000_000).ok()?;
        Some((date, time))
    }
}

impl fmt::Display for OutgoingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{:018}", self.partner, self.seq)
    }
}

/// Where an outbox entry is in its life.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum OutgoingState {
    /// Waiting to be sent (again).
    Queued,
    /// The peer answered EFPA; waiting for the EERP or NERP.
    Sent {
        /// The counts sent.
        #[serde(with = "counts_serde")]
        counts: Counts,
    },
    /// The EERP came back: the final recipient has the file. The content was removed
    /// from the outbox.
    Delivered {
        /// The EERP.
        receipt: Eerp,
    },
    /// The file will not arrive.
    Failed(Failure),
}

/// Why an outgoing file failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Failure {
    /// The peer refused it (SFNA or EFNA) without a retry.
    Refused(PeerRefusal),
    /// A NERP came back.
    Nerp(Nerp),
}

/// The reason code of an SFNA or EFNA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RefusalReason {
    /// SFNAREAS.
    Sfna(SfnaReason),
    /// EFNAREAS.
    Efna(EfnaReason),
}

/// A refusal received from the peer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerRefusal {
    /// The reason code.
    pub reason: RefusalReason,
    /// Whether the peer allowed a retry.
    pub retry: bool,
    /// The peer's text.
    pub text: String,
}

/// An outbox entry as the driver and the application see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingEntry {
    /// Its id.
    pub id: OutgoingId,
    /// The SFID to send, SFIDREST zero (see [`OutgoingEntry::restart_position`]).
    pub sfid: Sfid,
    /// The length of the content in octets (of the transmitted form, for a secured file).
    pub size: u64,
    /// The hash of the file as transmitted, with the SFIDCIPH suite's digest, when its EERP
    /// is to be signed: checked against the EERPHSH that comes back.
    pub transmitted_hash: Option<Vec<u8>>,
    /// Where it is in its life.
    pub state: OutgoingState,
    /// What the peer acknowledged of it in an earlier, interrupted attempt.
    pub progress: Counts,
    /// How many times the peer refused it.
    pub attempts: u32,
    /// The last refusal.
    pub last_refusal: Option<PeerRefusal>,
}

impl OutgoingEntry {
    /// The SFIDREST to offer: the restart position of [`OutgoingEntry::progress`].
    pub fn restart_position(&self) -> RestartPosition {
        restart_position(self.sfid.format, crate::engine::is_secured(&self.sfid), self.progress)
    }
}

pub use crate::engine::Receipt;

/// The fields of a receipt that name the file it answers.
pub(crate) trait ReceiptFields {
    /// The dataset name of the file.
    fn dataset_name(&self) -> &DatasetName;
    /// The date stamp of the file.
    fn date(&self) -> VirtualFileDate;
    /// The time stamp of the file.
    fn time(&self) -> VirtualFileTime;
    /// The receipt's destination: the file's originator.
    fn destination(&self) -> &OdetteId;
    /// The receipt's originator: the file's final recipient.
    fn originator(&self) -> &OdetteId;
}

impl ReceiptFields for Receipt {
    fn dataset_name(&self) -> &DatasetName {
        match self {
            Self::Eerp(e) => &e.dataset_name,
            Self::Nerp(n) => &n.dataset_name,
        }
    }

    fn date(&self) -> VirtualFileDate {
        match self {
            Self::Eerp(e) => e.date,
            Self::Nerp(n) => n.date,
        }
    }

    fn time(&self) -> VirtualFileTime {
        match self {
            Self::Eerp(e) => e.time,
            Self::Nerp(n) => n.time,
        }
    }

    fn destination(&self) -> &OdetteId {
        match self {
            Self::Eerp(e) => &e.destination,
            Self::Nerp(n) => &n.destination,
        }
    }

    fn originator(&self) -> &OdetteId {
        match self {
            Self::Eerp(e) => &e.originator,
            Self::Nerp(n) => &n.originator,
        }
    }
}

/// Serde for [`Receipt`] (which has none): `{"Eerp": {...}}` or `{"Nerp": {...}}`.
pub(crate) mod receipt_serde {
    use oftp2_codec::command::{Eerp, Nerp};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::Receipt;

    #[derive(Serialize)]
    enum Saved<'a> {
        Eerp(&'a Eerp),
        Nerp(&'a Nerp),
    }

    #[derive(Deserialize)]
    enum Loaded {
        Eerp(Eerp),
        Nerp(Nerp),
    }

    pub(crate) fn serialize<S: Serializer>(r: &Receipt, s: S) -> Result<S::Ok, S::Error> {
        match r {
            Receipt::Eerp(e) => Saved::Eerp(e),
            Receipt::Nerp(n) => Saved::Nerp(n),
        }
        .serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Receipt, D::Error> {
        Ok(match Loaded::deserialize(d)? {
            Loaded::Eerp(e) => Receipt::Eerp(e),
            Loaded::Nerp(n) => Receipt::Nerp(n),
        })
    }
}

/// Identifies a receipt owed to a partner.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReceiptId {
    pub(crate) partner: OdetteId,
    pub(crate) name: String,
}

impl ReceiptId {
    /// The partner it goes to.
    pub fn partner(&self) -> &OdetteId {
        &self.partner
    }
}

impl fmt::Display for ReceiptId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.partner, self.name)
    }
}
