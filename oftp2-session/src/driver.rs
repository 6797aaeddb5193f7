//! The tokio driver: runs a [`Session`] over a connection, with a [`FileStore`] behind it.
//!
//! The driver only moves octets and arms the timer; every protocol decision is the
//! engine's. It answers the engine's events from the store: an SFID is accepted or refused
//! as the store decides (resuming from what an interrupted transfer left), incoming data
//! is written and checkpointed, EFPA goes out only after the store has made the file
//! durable, RTR only after a receipt is recorded; outgoing files and owed receipts are
//! queued from the store when the session starts.
//!
//! Incoming data is written by a thread of the file's own (see `Incoming`), so the
//! connection is read while the disk works; the driver waits for that thread at the end
//! of the file (before commit and EFPA) and when the transfer is given up (before the
//! restart point is saved). Queueing to it, and that wait, block the session's task, as
//! the writes themselves did before.

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::time::Instant;

use bytes::Bytes;
use futures_util::StreamExt;
use oftp2_codec::command::{Sfid, Sfna};
use oftp2_codec::fields::{CipherSuite, DatasetName, OdetteId, RecordFormat};
use oftp2_codec::reason::EsidReason;
use oftp2_codec::record::Counts;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::time::timeout;
use tokio_util::codec::FramedRead;
use tracing::{debug, info, info_span, warn, Instrument};

use crate::config::Partner;
use crate::engine::{self, Event, Negotiated, Session, SessionEnd, Token};
use crate::protection::ReceiptCheck;
use crate::store::{
    DeliveredFile, FileStore, IncomingDecision, IncomingFile, OutgoingId, OutgoingReader,
    ReceiptId, Refusal, RefusalReason,
};
use crate::transport::{FramingError, Outbound, StbCodec};

/// How often (in octets received) an incoming file is made durable as a restart point:
/// a transfer broken off resumes with at most this much to send again. Each checkpoint
/// is an `fsync` (and a flush of the device's cache); every 8 MiB they took 4% of the
/// receiver's CPU time at 1 GB/s.
pub const CHECKPOINT_INTERVAL: u64 = 32 * 1024 * 1024;

/// The least read from the file being sent at a time (more when the buffer is larger):
/// fewer reads at small buffer sizes, still only this much of the file in memory.
const READ_CHUNK: usize = 64 * 1024;

/// While more of the file follows at once, buffers are written out when this many octets
/// have gathered, not after each buffer: small exchange buffers then travel in full TLS
/// records and fewer writes. Before waiting for the peer, all is written and flushed.
const WRITE_BATCH: usize = 128 * 1024;

/// Which way a file goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From the partner to us.
    Inbound,
    /// From us to the partner.
    Outbound,
}

/// Progress of a file transfer, for progress bars.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// Which way.
    pub direction: Direction,
    /// SFIDDSN.
    pub dataset_name: DatasetName,
    /// Octets of the file transferred so far (from its start, a restart included).
    pub octets: u64,
    /// The expected total, from SFIDFSIZ (1 KiB blocks) or the local file's size.
    pub total_estimate: u64,
}

/// A progress callback.
pub type ProgressFn = Box<dyn FnMut(&Progress) + Send>;

/// The application's say on an incoming file before data flows: `Err` refuses it with
/// SFNA (reason, retry flag, text). It is asked before the store is.
pub type InboundPolicy =
    std::sync::Arc<dyn Fn(&OdetteId, &Sfid) -> Result<(), Refusal> + Send + Sync>;

/// What the application adds to a session run.
#[derive(Default)]
pub struct RunOptions {
    /// Called as files go out and come in.
    pub progress: Option<ProgressFn>,
    /// Consulted for every incoming file before the store.
    pub inbound: Option<InboundPolicy>,
}

/// What became of an outgoing file in a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutgoingOutcome {
    /// The partner has it (EFPA); its EERP or NERP may follow.
    Sent {
        /// The outbox entry.
        id: OutgoingId,
        /// What was sent.
        counts: Counts,
    },
    /// The partner refused it (SFNA, EFNA) or it could not be sent.
    Refused {
        /// The outbox entry.
        id: OutgoingId,
        /// Why.
        why: String,
    },
}

/// A receipt that arrived, and the outbox entry it settles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedReceipt {
    /// The EERP or NERP.
    pub receipt: engine::Receipt,
    /// Our file it answers, if the store knows it.
    pub file: Option<OutgoingId>,
    /// What its signature says (§5.3.13, §5.3.14): checked against the partner's
    /// certificate and the hash of the file as we sent it.
    pub check: ReceiptCheck,
}

/// The outcome of a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionReport {
    /// The partner, once identified.
    pub partner: Option<OdetteId>,
    /// What was negotiated, once the session started.
    pub negotiated: Option<Negotiated>,
    /// Files received and made durable.
    pub received: Vec<DeliveredFile>,
    /// Files offered again by the partner that had been delivered already (their data
    /// was discarded, EFPA answered).
    pub duplicates: Vec<Sfid>,
    /// Files the partner offered that we refused (SFNA): by the application's
    /// [`InboundPolicy`], the store (no room, too big, busy), the partner's file security
    /// policy, or its direction.
    pub refused: Vec<RefusedIncoming>,
    /// Our files' outcomes.
    pub sent: Vec<OutgoingOutcome>,
    /// Receipts that arrived.
    pub receipts: Vec<ReceivedReceipt>,
    /// Receipts we sent that the partner acknowledged.
    pub receipts_sent: usize,
    /// How the session ended.
    pub end: SessionEnd,
}

/// A file the partner offered and we refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedIncoming {
    /// The partner's SFID.
    pub sfid: Sfid,
    /// Our SFNA: its reason, retry flag and text.
    pub sfna: Sfna,
}

/// Why the driver stopped before the session ended by the protocol.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DriverError {
    /// Reading or writing the connection failed.
    #[error("connection error: {0}")]
    Io(#[from] std::io::Error),
    /// A connection a [`Node`](crate::node::Node) accepted never became a session: its
    /// TLS handshake failed or timed out (a partner with an expired or unknown
    /// certificate, say). The error says which.
    #[error("no session: {0}")]
    Handshake(Box<crate::transport::TransportError>),
}

/// Runs `session` over `io` until it ends, answering it from `store`.
///
/// For an Initiator, queue nothing on the session yourself: the partner's outbox and the
/// receipts owed to it are queued from the store before the first command goes out.
pub async fn run<T, S>(
    session: Session,
    io: T,
    store: &S,
    progress: Option<ProgressFn>,
) -> Result<SessionReport, DriverError>
where
    T: AsyncRead + AsyncWrite + Unpin,
    S: FileStore + ?Sized,
{
    run_with(session, io, store, RunOptions { progress, inbound: None }).await
}

/// [`run`] with all the application's hooks.
///
/// When the store has a [`FileSecurity`](crate::protection::FileSecurity) that offers
/// secure authentication, the session is given it (replacing one set before).
pub async fn run_with<T, S>(
    session: Session,
    io: T,
    store: &S,
    options: RunOptions,
) -> Result<SessionReport, DriverError>
where
    T: AsyncRead + AsyncWrite + Unpin,
    S: FileStore + ?Sized,
{
    let mut session = session;
    // Secure authentication (§4.2.3) with the store's file security, when it offers one.
    if let Some(authenticator) = store.security().and_then(|s| s.authenticator()) {
        session.set_authenticator(authenticator);
    }
    let span = info_span!("oftp_session", role = ?session.role());
    Driver::new(session, store, options).run(io).instrument(span).await
}

/// At most this many octets of `FileData` wait for the writer thread (at least a few
/// buffers): the session reads on while the disk catches up, in bounded memory.
const WRITE_QUEUE_OCTETS: usize = 4 * 1024 * 1024;

/// What the writer thread has made of an incoming file; it hands it back when its queue
/// closes.
struct Written {
    file: Box<dyn IncomingFile>,
    last_checkpoint: u64,
    /// The counts of everything written so far.
    written: Counts,
    /// A storage error while writing: answered with EFNA at EFID.
    failed: Option<crate::store::StoreError>,
}

impl Written {
    /// Writes `data` and checkpoints every [`CHECKPOINT_INTERVAL`]; after an error it
    /// writes nothing more.
    fn write(&mut self, data: &[u8], counts: Counts) {
        if self.failed.is_some() {
            return;
        }
        if let Err(error) = self.file.write(data) {
            self.failed = Some(error);
            return;
        }
        self.written = counts;
        if counts.octets - self.last_checkpoint >= CHECKPOINT_INTERVAL {
            match self.file.checkpoint(counts) {
                Ok(()) => self.last_checkpoint = counts.octets,
                Err(error) => self.failed = Some(error),
            }
        }
    }
}

/// An incoming file being received. Its octets are written (and checkpointed) by a
/// thread of its own, fed through a bounded queue, so that the session goes on reading
/// the connection meanwhile. Nothing is acknowledged from the queue: [`finish`]
/// waits for every queued write, and only then may the file be committed (EFPA) or kept
/// as a restart point.
///
/// [`finish`]: Incoming::finish
struct Incoming {
    sfid: Sfid,
    duplicate: bool,
    queue: std::sync::mpsc::SyncSender<(Bytes, Counts)>,
    writer: std::thread::JoinHandle<Written>,
}

impl Incoming {
    /// Starts the writer thread for `file`, whose octets so far are counted by `start`.
    fn start(
        sfid: Sfid,
        file: Box<dyn IncomingFile>,
        start: Counts,
        duplicate: bool,
        buffer_size: usize,
    ) -> std::io::Result<Self> {
        let capacity = (WRITE_QUEUE_OCTETS / buffer_size.max(1)).max(4);
        let (queue, received) = std::sync::mpsc::sync_channel::<(Bytes, Counts)>(capacity);
        let mut written =
            Written { file, last_checkpoint: start.octets, written: start, failed: None };
        let writer = std::thread::Builder::new().name("oftp-writer".into()).spawn(move || {
            for (data, counts) in received {
                written.write(&data, counts);
            }
            written
        })?;
        Ok(Incoming { sfid, duplicate, queue, writer })
    }

    /// Queues octets for the writer; waits while the queue is full.
    fn write(&self, data: Bytes, counts: Counts) {
        // The writer only stops when the queue closes (`finish`), or by a panic that
        // `finish` passes on.
        let _ = self.queue.send((data, counts));
    }

    /// Closes the queue and waits for the writer to have written (or failed) all of it.
    fn finish(self) -> (Sfid, bool, Written) {
        let Incoming { sfid, duplicate, queue, writer } = self;
        drop(queue);
        match writer.join() {
            Ok(written) => (sfid, duplicate, written),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}

/// Ends an incoming transfer that will not complete in this session. With `resumable`
/// (the session ended mid-file), what arrived is made durable as a restart point first,
/// so that the next attempt resumes from there rather than from the last periodic
/// checkpoint; without it (we answered EFNA) the partial file is deleted: it would only
/// hold disk space.
fn give_up(incoming: Incoming, resumable: bool) {
    let (_, duplicate, Written { mut file, last_checkpoint, written, failed }) = incoming.finish();
    let keep = resumable && !duplicate;
    if keep && failed.is_none() && written.octets > last_checkpoint {
        if let Err(error) = file.checkpoint(written) {
            warn!(%error, "cannot checkpoint the partial file");
        }
    }
    if let Err(error) = file.abort(keep) {
        warn!(%error, "cannot keep or remove the partial file");
    }
}

struct Feeding {
    token: Token,
    reader: Box<dyn OutgoingReader>,
    /// Read into this, reused for every chunk.
    chunk: Vec<u8>,
    octets: u64,
}

struct Driver<'s, S: FileStore + ?Sized> {
    session: Session,
    store: &'s S,
    progress: Option<ProgressFn>,
    inbound: Option<InboundPolicy>,
    files: HashMap<Token, (OutgoingId, Sfid, u64)>,
    receipts: HashMap<Token, ReceiptId>,
    queued_receipts: Vec<ReceiptId>,
    next_token: u64,
    incoming: Option<Incoming>,
    feeding: Option<Feeding>,
    report: SessionReport,
}

impl<'s, S: FileStore + ?Sized> Driver<'s, S> {
    fn new(session: Session, store: &'s S, options: RunOptions) -> Self {
        let partner = session.partner().map(|p| p.odette_id);
        let mut driver = Driver {
            session,
            store,
            progress: options.progress,
            inbound: options.inbound,
            files: HashMap::new(),
            receipts: HashMap::new(),
            queued_receipts: Vec::new(),
            next_token: 0,
            incoming: None,
            feeding: None,
            report: SessionReport {
                partner,
                negotiated: None,
                received: Vec::new(),
                duplicates: Vec::new(),
                refused: Vec::new(),
                sent: Vec::new(),
                receipts: Vec::new(),
                receipts_sent: 0,
                end: SessionEnd::TransportLost,
            },
        };
        if let Some(partner) = driver.session.partner().cloned() {
            driver.queue_from_store(&partner);
        }
        driver
    }

    async fn run<T: AsyncRead + AsyncWrite + Unpin>(
        mut self,
        io: T,
    ) -> Result<SessionReport, DriverError> {
        let mut framed = FramedRead::new(io, StbCodec::new());
        let mut outbound = Outbound::default();
        // Whether octets were written since the connection was last flushed.
        let mut unflushed = false;
        // Every write must make progress within the idle timeout: a peer that stops
        // reading would otherwise hold the session (and its connection) forever, as the
        // timer is only armed while the driver waits to read.
        let idle = self.session.idle_timeout();
        loop {
            self.service();
            while let Some(buffer) = self.session.poll_transmit() {
                if let Err(error) = outbound.push(buffer) {
                    return self.transport_failed(error.into());
                }
            }
            // While the file goes on, buffers go out in batches of `WRITE_BATCH`; before
            // anything else (waiting for the peer, closing) all is written and flushed.
            let more = self.session.wants_data() && self.feeding.is_some();
            let write = outbound.len() >= WRITE_BATCH || (!more && outbound.len() > 0);
            let flush = !more && (unflushed || write);
            if write || flush {
                let io = framed.get_mut();
                let written = timeout(idle, async {
                    outbound.write_to(io).await?;
                    if flush {
                        io.flush().await?;
                    }
                    Ok::<(), std::io::Error>(())
                })
                .await;
                match written {
                    Ok(Ok(())) => unflushed = !flush,
                    Ok(Err(error)) => return self.transport_failed(error.into()),
                    Err(_) => return Ok(self.write_timed_out(idle)),
                }
            }
            if self.session.is_closed() {
                self.service();
                let mut io = framed.into_inner();
                // Best effort: the peer may already have closed its side (or, over TLS,
                // stopped reading our close_notify).
                let _ = timeout(idle, io.shutdown()).await;
                return Ok(self.report);
            }
            if self.session.wants_data() && self.feeding.is_some() {
                continue;
            }
            let deadline = self.session.poll_timeout();
            tokio::select! {
                frame = framed.next() => match frame {
                    Some(Ok(buffer)) => self.session.handle_input(buffer, Instant::now()),
                    Some(Err(FramingError::Malformed(malformed))) => {
                        self.session.abort(malformed.reason, &malformed.to_string());
                    }
                    Some(Err(error)) => {
                        debug!(%error, "connection failed");
                        self.session.handle_transport_closed();
                    }
                    None => self.session.handle_transport_closed(),
                },
                () = sleep_until(deadline) => self.session.handle_timeout(Instant::now()),
            }
            if let Some(negotiated) = self.session.negotiated() {
                framed.decoder_mut().set_max_exchange_buffer(negotiated.buffer_size);
            }
        }
    }

    /// The peer read nothing for the idle timeout: the session ends with ESID 09, which
    /// cannot reach it; the connection is dropped without further writes.
    fn write_timed_out(mut self, idle: std::time::Duration) -> SessionReport {
        warn!(?idle, "the peer stopped reading: ending the session");
        let why = format!("the peer read nothing for {idle:?}");
        self.session.abort(EsidReason::TIME_OUT, &why);
        self.service();
        self.report
    }

    fn transport_failed(mut self, error: FramingError) -> Result<SessionReport, DriverError> {
        debug!(%error, "writing failed");
        self.session.handle_transport_closed();
        self.service();
        match error {
            FramingError::Io(error) if self.report.negotiated.is_none() => Err(error.into()),
            _ => Ok(self.report),
        }
    }

    /// Handles every pending event and feeds the engine one chunk of the outgoing file if
    /// it wants one. One chunk only: `run` sends the buffers made of it before it feeds the
    /// next, so about one chunk of the file is in memory whatever the credit window.
    fn service(&mut self) {
        while let Some(event) = self.session.poll_event() {
            self.handle(event);
        }
        if self.feed() {
            while let Some(event) = self.session.poll_event() {
                self.handle(event);
            }
        }
    }

    fn token(&mut self) -> Token {
        self.next_token += 1;
        Token(self.next_token)
    }

    fn queue_from_store(&mut self, partner: &Partner) {
        match self.store.pending_receipts(&partner.odette_id) {
            Ok(receipts) => {
                for (id, receipt) in receipts {
                    self.queue_receipt(id, receipt);
                }
            }
            Err(error) => warn!(%error, "cannot read the receipts owed"),
        }
        match self.store.outgoing(&partner.odette_id) {
            Ok(entries) => {
                for entry in entries {
                    let token = self.token();
                    let mut sfid = entry.sfid.clone();
                    sfid.restart_position = entry.restart_position();
                    let settings = engine::settings_for(&sfid, partner.text_lines.into());
                    self.files.insert(token, (entry.id, sfid.clone(), entry.size));
                    self.session.queue_file(token, sfid, settings);
                }
            }
            Err(error) => warn!(%error, "cannot read the outbox"),
        }
    }

    fn queue_receipt(&mut self, id: ReceiptId, receipt: crate::store::Receipt) {
        if self.queued_receipts.contains(&id) {
            return;
        }
        let token = self.token();
        self.queued_receipts.push(id.clone());
        self.receipts.insert(token, id);
        self.session.queue_receipt(token, receipt);
    }

    fn partner_id(&self) -> Option<OdetteId> {
        self.session.partner().map(|p| p.odette_id)
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::Connected { peer, negotiated } => {
                info!(peer = %peer.code, level = %negotiated.level, buffer = %negotiated.buffer_size,
                      credit = %negotiated.credit, "session started");
                self.report.negotiated = Some(negotiated);
                self.report.partner = Some(peer.code);
                if self.session.role() == engine::Role::Responder {
                    if let Some(partner) = self.session.partner().cloned() {
                        self.queue_from_store(&partner);
                    }
                }
            }
            Event::StartFileRequest { sfid } => self.start_file(*sfid),
            Event::IncomingFileRefused { sfid, sfna } => {
                info!(file = %sfid.dataset_name, reason = %sfna.reason, retry = sfna.retry,
                      text = %sfna.text, "incoming file refused");
                self.report.refused.push(RefusedIncoming { sfid: *sfid, sfna });
            }
            Event::FileData { data, counts } => self.file_data(data, counts),
            Event::EndOfFile { counts, .. } => self.end_of_file(counts),
            Event::IncomingFileFailed { efna, why } => {
                if let Some(incoming) = self.incoming.take() {
                    info!(file = %incoming.sfid.dataset_name, why, "incoming file failed");
                    // After our EFNA the peer starts the file over, if it retries at all;
                    // a session that ended mid-file resumes from what arrived.
                    give_up(incoming, efna.is_none());
                }
            }
            Event::FileAccepted { token, feed_from, .. } => self.file_accepted(token, feed_from),
            Event::FileRefused { token, sfna } => {
                self.outgoing_refused(
                    token,
                    RefusalReason::Sfna(sfna.reason),
                    sfna.retry,
                    sfna.text.as_str(),
                );
            }
            Event::FileRejected { token, efna } => {
                self.outgoing_refused(
                    token,
                    RefusalReason::Efna(efna.reason),
                    false,
                    efna.text.as_str(),
                );
            }
            Event::FileFailed { token, why } => {
                self.feeding = None;
                if let Some((id, ..)) = self.files.get(&token) {
                    warn!(%id, why, "cannot send the file");
                    self.report.sent.push(OutgoingOutcome::Refused { id: *id, why });
                }
            }
            Event::FileSent { token, counts } => {
                self.feeding = None;
                if let Some((id, ..)) = self.files.get(&token) {
                    if let Err(error) = self.store.outgoing_sent(id, counts) {
                        warn!(%error, "cannot record a file as sent");
                    }
                    info!(%id, octets = counts.octets, "file sent");
                    self.report.sent.push(OutgoingOutcome::Sent { id: *id, counts });
                }
            }
            Event::ReceiptReceived { receipt } => self.receipt_received(*receipt),
            Event::ReceiptDelivered { token } => {
                if let Some(id) = self.receipts.get(&token) {
                    if let Err(error) = self.store.receipt_sent(id) {
                        warn!(%error, "cannot record a receipt as sent");
                    }
                    self.report.receipts_sent += 1;
                }
            }
            Event::Closed { end } => {
                info!(?end, "session ended");
                if let Some(feeding) = self.feeding.take() {
                    self.record_progress(&feeding);
                }
                self.report.end = end;
            }
        }
    }

    fn start_file(&mut self, sfid: Sfid) {
        let Some(partner) = self.partner_id() else { return };
        if let Some(Err(refusal)) = self.inbound.as_ref().map(|policy| policy(&partner, &sfid)) {
            info!(file = %sfid.dataset_name, reason = %refusal.reason, "refused by the application");
            if let Err(error) =
                self.session.refuse_file(refusal.reason, refusal.retry, &refusal.text)
            {
                warn!(%error, "engine refused the answer to SFID");
            }
            return;
        }
        let restart = self.session.negotiated().is_some_and(|n| n.restart);
        let decision = self.store.begin_incoming(&partner, &sfid, restart);
        let result = match decision {
            Ok(IncomingDecision::Accept { file, restart_from }) => {
                self.accept(sfid, file, restart_from, false)
            }
            Ok(IncomingDecision::Duplicate { file, .. }) => {
                info!(file = %sfid.dataset_name, "already delivered: receiving it again to discard");
                self.accept(sfid, file, Counts::default(), true)
            }
            Ok(IncomingDecision::Refuse(refusal)) => {
                self.session.refuse_file(refusal.reason, refusal.retry, &refusal.text)
            }
            Err(error) => {
                let refusal = error.sfna();
                warn!(%error, "cannot receive the file");
                self.session.refuse_file(refusal.reason, refusal.retry, &refusal.text)
            }
        };
        if let Err(error) = result {
            warn!(%error, "engine refused the answer to SFID");
        }
    }

    fn accept(
        &mut self,
        sfid: Sfid,
        mut file: Box<dyn IncomingFile>,
        have: Counts,
        duplicate: bool,
    ) -> Result<(), engine::ApiError> {
        let start = self.session.accept_file(have)?;
        if start != have {
            if let Err(error) = file.restart_at(start) {
                // The engine already answered SFPA from `start`; the store must follow.
                warn!(%error, "cannot cut the partial file back to the restart point");
                self.session.abort(EsidReason::RESOURCES_NOT_AVAILABLE, &error.to_string());
                return Ok(());
            }
        }
        let buffer = self.session.negotiated().map_or(4096, |n| n.buffer_size.octets());
        match Incoming::start(sfid, file, start, duplicate, buffer) {
            Ok(incoming) => self.incoming = Some(incoming),
            Err(error) => {
                warn!(%error, "cannot start writing the file");
                self.session.abort(EsidReason::RESOURCES_NOT_AVAILABLE, &error.to_string());
            }
        }
        Ok(())
    }

    fn file_data(&mut self, data: Bytes, counts: Counts) {
        let Some(incoming) = self.incoming.as_ref() else { return };
        incoming.write(data, counts);
        let total_estimate = incoming.sfid.file_size.get().saturating_mul(1024);
        let dataset_name = incoming.sfid.dataset_name;
        self.progress(Progress {
            direction: Direction::Inbound,
            dataset_name,
            octets: counts.octets,
            total_estimate,
        });
    }

    fn end_of_file(&mut self, counts: Counts) {
        let Some(incoming) = self.incoming.take() else { return };
        // Every queued octet is written (or has failed) before the file is committed: EFPA
        // follows only a successful commit.
        let (sfid, duplicate, Written { file, failed, .. }) = incoming.finish();
        let result = match failed {
            Some(error) => {
                // EFNA follows: the partial file is of no further use.
                if let Err(error) = file.abort(false) {
                    warn!(%error, "cannot remove the partial file");
                }
                Err(error)
            }
            None => blocking(|| file.commit(counts)),
        };
        let answer = match result {
            Ok(delivered) => {
                if duplicate {
                    self.report.duplicates.push(sfid);
                } else {
                    info!(file = %delivered.sfid.dataset_name, path = %delivered.path.display(), "file received");
                    self.report.received.push(delivered);
                }
                // The EERP the store now owes goes out in this session (EFPA asks for the turn).
                self.queue_pending_receipts();
                Ok(())
            }
            Err(error) => {
                warn!(%error, "cannot store the received file");
                // A file refused for its security is owed a NERP: it goes out in this
                // session too.
                self.queue_pending_receipts();
                Err((error.efna_reason(), error.to_string()))
            }
        };
        if let Err(error) = self.session.file_closed(answer) {
            warn!(%error, "engine refused the close");
        }
    }

    /// Queues the receipts the store owes the partner (the engine sends each once).
    fn queue_pending_receipts(&mut self) {
        if let Some(partner) = self.partner_id() {
            if let Ok(receipts) = self.store.pending_receipts(&partner) {
                for (id, receipt) in receipts {
                    self.queue_receipt(id, receipt);
                }
            }
        }
    }

    fn receipt_received(&mut self, receipt: engine::Receipt) {
        let Some(partner) = self.partner_id() else { return };
        match self.store.receipt_received(&partner, &receipt) {
            Ok(file) => {
                let check = self.check_receipt(&partner, &receipt, file.as_ref());
                info!(kind = receipt.name(), ?file, "receipt received");
                // A file the receipt settles is not offered again: its EFPA was lost in an
                // earlier session, and the partner has it (its content may be gone).
                if let Some(settled) = file {
                    let queued = self.files.iter().find(|(_, (id, ..))| *id == settled);
                    if let Some((&token, _)) = queued {
                        if self.session.withdraw_file(token) {
                            info!(id = %settled, "settled by its receipt: not offered again");
                        }
                    }
                }
                if let ReceiptCheck::Invalid(why) = &check {
                    warn!(kind = receipt.name(), ?file, why, "receipt signature does not hold");
                }
                self.report.receipts.push(ReceivedReceipt { receipt, file, check });
                if let Err(error) = self.session.receipt_processed() {
                    warn!(%error, "engine refused RTR");
                }
            }
            Err(error) => {
                warn!(%error, "cannot record a receipt: ending the session without RTR");
                self.session
                    .abort(EsidReason::RESOURCES_NOT_AVAILABLE, "cannot record the receipt");
            }
        }
    }

    /// Checks a received receipt's signature and hash with the store's file security,
    /// against the file it answers (its cipher suite and transmitted hash).
    fn check_receipt(
        &self,
        partner: &OdetteId,
        receipt: &engine::Receipt,
        file: Option<&OutgoingId>,
    ) -> ReceiptCheck {
        let signature = match receipt {
            engine::Receipt::Eerp(eerp) => &eerp.signature,
            engine::Receipt::Nerp(nerp) => &nerp.signature,
        };
        let entry = file.and_then(|id| self.store.outgoing_entry(id).ok());
        if signature.is_empty() {
            if entry.as_ref().is_some_and(|e| e.sfid.signed_eerp_request) {
                return ReceiptCheck::Invalid(format!(
                    "the file asked for a signed receipt (SFIDSIGN), but the {} is unsigned",
                    receipt.name()
                ));
            }
            return ReceiptCheck::Unsigned;
        }
        let Some(security) = self.store.security() else {
            return ReceiptCheck::Invalid("signed, but no file security is configured".into());
        };
        let suite = entry.as_ref().map_or(CipherSuite::NONE, |e| e.sfid.cipher_suite);
        let hash = entry.as_ref().and_then(|e| e.transmitted_hash.as_deref());
        security.check_receipt(partner, suite, receipt, hash)
    }

    fn file_accepted(&mut self, token: Token, feed_from: u64) {
        let Some((id, sfid, _)) = self.files.get(&token) else { return };
        let opened = self.store.open_outgoing(id).and_then(|mut reader| {
            reader.seek(SeekFrom::Start(feed_from)).map_err(|source| {
                crate::store::StoreError::Io { op: "seek", path: id.to_string().into(), source }
            })?;
            Ok(reader)
        });
        match opened {
            Ok(reader) => {
                let buffer = self.session.negotiated().map_or(4096, |n| n.buffer_size.octets());
                let chunk = vec![0u8; buffer.max(READ_CHUNK)];
                info!(%id, file = %sfid.dataset_name, feed_from, "sending file");
                self.feeding = Some(Feeding { token, reader, chunk, octets: feed_from });
            }
            Err(error) => {
                warn!(%error, "cannot open the file to send");
                self.session
                    .abort(EsidReason::RESOURCES_NOT_AVAILABLE, "cannot read the file to send");
            }
        }
    }

    /// Feeds the engine one chunk if it wants one; returns whether it did.
    fn feed(&mut self) -> bool {
        if !self.session.wants_data() {
            return false;
        }
        let Some(feeding) = self.feeding.as_mut() else { return false };
        let read = loop {
            match feeding.reader.read(&mut feeding.chunk) {
                Ok(n) => break Ok(n),
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(error) => break Err(error),
            }
        };
        let result = match read {
            Ok(0) => self.session.finish_data(),
            Ok(n) => {
                feeding.octets += n as u64;
                let pushed = self.session.push_data(feeding.chunk.get(..n).unwrap_or_default());
                let token = feeding.token;
                let octets = feeding.octets;
                if let Some((_, sfid, size)) = self.files.get(&token) {
                    let progress = Progress {
                        direction: Direction::Outbound,
                        dataset_name: sfid.dataset_name,
                        octets,
                        total_estimate: *size,
                    };
                    self.progress(progress);
                }
                pushed
            }
            Err(error) => {
                warn!(%error, "cannot read the file to send");
                self.session
                    .abort(EsidReason::RESOURCES_NOT_AVAILABLE, "cannot read the file to send");
                return false;
            }
        };
        result.is_ok()
    }

    fn record_progress(&self, feeding: &Feeding) {
        let Some((id, sfid, _)) = self.files.get(&feeding.token) else { return };
        // What we pushed is an upper bound of what the peer has; its SFPA will lower it.
        let counts = match sfid.format {
            RecordFormat::Fixed if !engine::is_secured(sfid) => {
                let lrecl = sfid.max_record_length.get().max(1);
                Counts { records: feeding.octets / lrecl, octets: feeding.octets / lrecl * lrecl }
            }
            RecordFormat::Variable if !engine::is_secured(sfid) => return,
            _ => Counts { records: 0, octets: feeding.octets },
        };
        if let Err(error) = self.store.outgoing_progress(id, counts) {
            warn!(%error, "cannot record the progress of a file");
        }
    }

    fn outgoing_refused(&mut self, token: Token, reason: RefusalReason, retry: bool, text: &str) {
        self.feeding = None;
        let Some((id, ..)) = self.files.get(&token) else { return };
        if let Err(error) = self.store.outgoing_refused(id, reason, retry, text) {
            warn!(%error, "cannot record a refusal");
        }
        let code = match reason {
            RefusalReason::Sfna(code) => format!("SFNA {code}"),
            RefusalReason::Efna(code) => format!("EFNA {code}"),
        };
        info!(%id, code, text, "file refused");
        self.report.sent.push(OutgoingOutcome::Refused { id: *id, why: format!("{code}: {text}") });
    }

    fn progress(&mut self, progress: Progress) {
        if let Some(callback) = self.progress.as_mut() {
            callback(&progress);
        }
    }
}

/// Runs blocking store work (the final fsync, or unwrapping and verifying a secured file,
/// which reads it whole) so that, on a multi-thread runtime, the other sessions' tasks move
/// to another worker meanwhile.
fn blocking<T>(work: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(work)
        }
        _ => work(),
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline.into()).await,
        None => std::future::pending().await,
    }
}
