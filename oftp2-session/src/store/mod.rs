//! The durable file store: where received Virtual Files are written, where files to send
//! wait, and where end-to-end receipts are kept until they have travelled.
//!
//! [`FileStore`] is the trait the session driver calls; [`FsStore`] implements it on a
//! directory. The trait is synchronous: every operation is short (small state files, one
//! buffer of data), and the costly `fsync`s happen where durability is promised
//! ([`IncomingFile::checkpoint`], [`IncomingFile::commit`], [`FileStore::queue_outgoing`]
//! and the receipt and state updates).
//!
//! # The invariant
//!
//! **A file is durable before it is acknowledged, and never delivered twice.** The engine
//! may send EFPA only after [`IncomingFile::commit`] returned `Ok`, SFPA with a restart
//! position only for data [`IncomingFile::checkpoint`] made durable, and RTR-answered
//! receipts are removed only after [`FileStore::receipt_sent`].
//!
//! # Receiving a file
//!
//! 1. [`FileStore::begin_incoming`] looks the Virtual File up by its identity (SFIDORIG,
//!    SFIDDEST, SFIDDSN, SFIDDATE, SFIDTIME, §1.5.2). Already delivered (our EFPA was lost)
//!    gives [`IncomingDecision::Duplicate`] with a writer that discards; a size the store
//!    cannot hold gives [`IncomingDecision::Refuse`] (SFNA 06); otherwise
//!    [`IncomingDecision::Accept`] with the restart point the store can honour: the
//!    [`Counts`] of the last checkpoint of an earlier attempt at the same file, lowered to
//!    what the peer's SFIDREST and the restart unit (records for F and V, 1 KiB blocks for
//!    U, T and secured files) allow. The temporary file is truncated to that point.
//! 2. [`IncomingFile::write`] appends the file's octets to the temporary file.
//! 3. [`IncomingFile::checkpoint`]: `fsync` the temporary file, then write the restart
//!    state (SFID, counts, length of the temporary file) to a new state file, `fsync` it,
//!    rename it over the old one, `fsync` the directory. Only then is the restart point
//!    durable.
//! 4. [`IncomingFile::commit`]: `fsync` the temporary file; write the *delivery record*
//!    (identity, counts, the inbox name chosen, the EERP owed, signed if SFIDSIGN asked)
//!    atomically as in 3 — from this point the file counts as delivered; write the EERP
//!    we owe atomically; rename the temporary
//!    file into the inbox and `fsync` the inbox; remove the restart state. A crash
//!    between the delivery record and the rename is rolled forward when the store is
//!    opened again (the data was already durable), so the file appears in the inbox once
//!    and the peer's retry is answered as a duplicate. A failure in the same window
//!    while running is rolled back (record and receipt removed) and reported as an
//!    error, so the engine answers EFNA and the peer retries.
//!
//! A transfer that breaks (network fault, dropped writer, crash) leaves the temporary
//! file and the last restart state; [`FsStore::open`] deletes temporary files that have no
//! state, and state whose file is gone or already delivered.
//!
//! # Sending a file
//!
//! [`FileStore::queue_outgoing`] copies the file into the partner's outbox (`fsync`),
//! assigns SFIDDATE and SFIDTIME (the counter `cccc` makes the stamp unique in the store,
//! and the stamp is persisted before use so it never repeats, also after a restart), then
//! writes the entry's metadata atomically: the entry exists once its metadata does. The
//! entry then moves through [`OutgoingState`]: queued, sent (EFPA received), and
//! delivered or failed when the EERP or NERP comes back ([`FileStore::receipt_received`]).
//!
//! # Receipts
//!
//! The EERP for a received file is recorded during [`IncomingFile::commit`] (EERPDEST is
//! the file's originator, EERPORIG its destination, §5.3.13); [`FileStore::pending_receipts`]
//! lists what is owed to a partner and survives restarts, so a session that ends before
//! the EERP goes out sends it in the next one.

mod error;
mod fs;
mod incoming;
mod names;
mod part;
mod stamp;
mod sync;
mod types;

use std::io::{Read, Seek};

pub use error::StoreError;
pub use fs::{FsStore, StoreOptions};
use oftp2_codec::command::Sfid;
use oftp2_codec::fields::OdetteId;
use oftp2_codec::record::Counts;
pub use types::{
    DeliveredFile, Failure, OutgoingEntry, OutgoingFile, OutgoingId, OutgoingSource, OutgoingState,
    PeerRefusal, Receipt, ReceiptId, Refusal, RefusalReason,
};

/// What the store says to an SFID.
pub enum IncomingDecision {
    /// Receive the file: answer SFPA with
    /// `restart_position(format, secured, restart_from)` and write the data to `file`.
    Accept {
        /// Where the data goes.
        file: Box<dyn IncomingFile>,
        /// What is already durably held of this file from an earlier, interrupted
        /// transfer, already lowered to the peer's SFIDREST and to a whole restart unit;
        /// zero to start from the beginning.
        restart_from: Counts,
    },
    /// Refuse the file: answer SFNA with this reason and retry flag.
    Refuse(Refusal),
    /// The Virtual File was already received and delivered (the peer did not get our
    /// EFPA). Accept it (SFPA from zero), let the data run into `file`, which discards
    /// it, and answer EFPA: [`IncomingFile::commit`] on it delivers nothing again.
    Duplicate {
        /// A writer that counts and discards.
        file: Box<dyn IncomingFile>,
        /// The earlier delivery.
        original: Box<DeliveredFile>,
    },
}

impl std::fmt::Debug for IncomingDecision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Accept { restart_from, .. } => {
                f.debug_struct("Accept").field("restart_from", restart_from).finish_non_exhaustive()
            }
            Self::Refuse(refusal) => f.debug_tuple("Refuse").field(refusal).finish(),
            Self::Duplicate { original, .. } => {
                f.debug_struct("Duplicate").field("original", original).finish_non_exhaustive()
            }
        }
    }
}

/// A file being received.
///
/// Dropping it without [`commit`](Self::commit) or [`abort`](Self::abort) is what a
/// broken connection does: the last checkpoint stays, and the next attempt at the same
/// Virtual File resumes from it.
pub trait IncomingFile: Send {
    /// Appends the file's octets (as the record decoder gives them).
    fn write(&mut self, data: &[u8]) -> Result<(), StoreError>;

    /// Makes everything written so far durable and records `counts` (the decoder's
    /// totals for that data) as the restart point.
    fn checkpoint(&mut self, counts: Counts) -> Result<(), StoreError>;

    /// Makes the file durable, moves it into the inbox and records it as delivered and
    /// the EERP as owed. Only after `Ok` may the engine send EFPA.
    fn commit(self: Box<Self>, counts: Counts) -> Result<DeliveredFile, StoreError>;

    /// Gives up on this transfer: with `keep_for_restart` the last checkpoint stays for
    /// a later attempt, without it the partial file and its state are deleted.
    fn abort(self: Box<Self>, keep_for_restart: bool) -> Result<(), StoreError>;

    /// The octets written so far in this attempt and before it (the length of the
    /// partial file).
    fn written(&self) -> u64;

    /// Cuts the partial file back to `start`, when the engine resumes lower than the
    /// `restart_from` the store offered (its `accept_file` may lower it further). Call
    /// it before the first [`write`](Self::write). `start` equal to the offered point (in
    /// octets) changes nothing, zero starts over; anything between needs a file whose
    /// local octets are the counted ones (U, T, F), else it is an error.
    fn restart_at(&mut self, start: Counts) -> Result<(), StoreError>;
}

/// A file in the outbox, for the record encoder: it can seek to the restart point.
pub trait OutgoingReader: Read + Seek + Send {}

impl<T: Read + Seek + Send> OutgoingReader for T {}

/// Durable storage for one OFTP node: received files, files to send, receipts.
///
/// Every method may be called from several sessions at once (the implementation
/// serialises what must be).
pub trait FileStore: Send + Sync {
    /// Decides about a file the partner announces with `sfid`. `restart_offered` says
    /// whether restart was agreed for the session (SSIDREST both Y); SFIDREST itself is
    /// read from `sfid`.
    fn begin_incoming(
        &self,
        partner: &OdetteId,
        sfid: &Sfid,
        restart_offered: bool,
    ) -> Result<IncomingDecision, StoreError>;

    /// Copies a file durably into the partner's outbox and assigns its SFIDDATE and
    /// SFIDTIME.
    fn queue_outgoing(
        &self,
        partner: &OdetteId,
        file: OutgoingFile,
    ) -> Result<OutgoingId, StoreError>;

    /// The files waiting to be sent to the partner ([`OutgoingState::Queued`]), in queue
    /// order.
    fn outgoing(&self, partner: &OdetteId) -> Result<Vec<OutgoingEntry>, StoreError>;

    /// Every outbox entry of the partner, whatever its state, in queue order.
    fn outgoing_all(&self, partner: &OdetteId) -> Result<Vec<OutgoingEntry>, StoreError>;

    /// One outbox entry.
    fn outgoing_entry(&self, id: &OutgoingId) -> Result<OutgoingEntry, StoreError>;

    /// The content of an outbox entry.
    fn open_outgoing(&self, id: &OutgoingId) -> Result<Box<dyn OutgoingReader>, StoreError>;

    /// Records how much of the file the peer has acknowledged so far (for SFIDREST of a
    /// later attempt).
    fn outgoing_progress(&self, id: &OutgoingId, counts: Counts) -> Result<(), StoreError>;

    /// EFPA received: the file now waits for its EERP or NERP.
    fn outgoing_sent(&self, id: &OutgoingId, counts: Counts) -> Result<(), StoreError>;

    /// SFNA or EFNA received: with `retry` the file stays queued for a later session,
    /// without it the file has failed.
    fn outgoing_refused(
        &self,
        id: &OutgoingId,
        reason: RefusalReason,
        retry: bool,
        text: &str,
    ) -> Result<(), StoreError>;

    /// An EERP or NERP arrived from `partner`: marks the sent file it answers (same
    /// dataset name, date and time, and the receipt's destination is the file's
    /// originator) delivered or failed and returns it. `None` when no file of ours
    /// matches, or the file was already settled by an earlier receipt.
    fn receipt_received(
        &self,
        partner: &OdetteId,
        receipt: &Receipt,
    ) -> Result<Option<OutgoingId>, StoreError>;

    /// Records a receipt to send to `partner` (a NERP the application decided on, or a
    /// receipt to forward). Queuing the same receipt again returns the same id.
    fn queue_receipt(&self, partner: &OdetteId, receipt: Receipt) -> Result<ReceiptId, StoreError>;

    /// The receipts owed to `partner`, oldest first.
    fn pending_receipts(&self, partner: &OdetteId)
        -> Result<Vec<(ReceiptId, Receipt)>, StoreError>;

    /// The partner answered the receipt with RTR: forget it.
    fn receipt_sent(&self, id: &ReceiptId) -> Result<(), StoreError>;

    /// The OFTP2 file security the store secures and unwraps files with, which the driver
    /// also checks received receipts with. `None` (the default): no file security.
    fn security(&self) -> Option<std::sync::Arc<dyn crate::protection::FileSecurity>> {
        None
    }
}
