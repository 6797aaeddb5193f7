//! The session engine: RFC 5024's state machine (§9) for both roles, without I/O and
//! without a clock.
//!
//! A [`Session`] is driven from outside, in the manner of quinn-proto:
//!
//! * inputs: [`Session::handle_input`] (one received exchange buffer),
//!   [`Session::handle_timeout`] (the time has come), [`Session::handle_transport_closed`];
//! * application requests: [`Session::queue_file`], [`Session::queue_receipt`],
//!   [`Session::accept_file`], [`Session::refuse_file`], [`Session::push_data`],
//!   [`Session::finish_data`], [`Session::file_closed`], [`Session::receipt_processed`],
//!   [`Session::abort`];
//! * outputs, to poll after every input and request, in this order:
//!   [`Session::poll_transmit`] (exchange buffers to send, without their stream
//!   transmission header), [`Session::poll_event`] (what happened), and
//!   [`Session::poll_timeout`] (when to call `handle_timeout`).
//!
//! The engine plays the User Monitor's part of the protocol itself: as Speaker it sends
//! the receipts it owes, then the queued files, then gives the turn away (CD) or, after
//! the peer gave it the turn with nothing left on either side, ends the session normally
//! (ESID 00); as Listener it asks for the turn (EFPA with CD requested) whenever it has
//! something to send. What it cannot decide is left to the application through events:
//! whether to accept an incoming file, and when an incoming file or a receipt is durable
//! (EFPA and RTR are sent only then). Every SFNA it sends, on the application's word or
//! its own, is also an [`Event::IncomingFileRefused`].
//!
//! Deliberate departures from the §9 tables: an SFID from a partner we do not receive
//! from is answered with SFNA 14 (file direction refused) instead of ESID 02 (§9.12
//! predicate P1), so that the session goes on; a time-out sends ESID 09 before closing
//! (§9.9 has no ESID there); and every command that is not valid in the state, the X
//! and F cells of §9.8 included, is answered with ESID 02.
//!
//! # Secure authentication
//!
//! When a partner is configured with [`Partner::secure_authentication`] our SSIDAUTH is
//! `Y`, and both SSIDs must agree (§9.8 P8, P10), else ESID 12. Then, before the session
//! is reported [`Event::Connected`], the engine runs §4.2.4 in the RFC's order (states
//! WF_SECD, WF_AUCH, WF_AURP of §9.3): the Initiator sends SECD, the Responder AUCH, the
//! Initiator AURP; the Responder checks it and sends SECD, the Initiator AUCH, the
//! Responder AURP and becomes Listener (IDLELI, F_CONNECT_IND); the Initiator checks that
//! AURP and becomes the first Speaker (IDLESP, F_CONNECT_CF), as it is without
//! authentication. The difference: without it the Responder's SSID is the last word of
//! the Start Session phase; with it, the Responder's AURP is, and each side is reported
//! connected only once the other has proved its identity (the Responder, which answers
//! last, only once its own check passed and its answer left).
//!
//! The cryptography is the application's ([`SecureAuthentication`], given with
//! [`Session::set_authenticator`]). An AURP that does not match ends the session with
//! ESID 11; a challenge the authenticator cannot make with ESID 12; SECD, AUCH or AURP
//! anywhere else (a second AUCH included) with ESID 02. A partner configured for
//! secure authentication while the session has no authenticator, or at a level below
//! 2.0, is refused with ESID 12 before our SSID goes out (Initiator) or instead of it
//! (Responder). The idle timeout applies while waiting, as everywhere.
//!
//! # File security
//!
//! An incoming SFID whose SFIDSEC, SFIDCIPH, SFIDCOMP and SFIDSIGN do not fit the
//! partner's [`FileSecurityPolicy`](crate::config::FileSecurityPolicy) is answered with
//! SFNA 15-20 (retry `N`) by the engine itself ([`check_file_security`]); the application
//! sees only the SFIDs that fit. A signed, compressed or encrypted file (or one with
//! SFIDENV `1`) travels as U whatever SFIDFMT says ([`settings_for`], [`is_secured`]):
//! its octets are the protected form, restart counts 1 KiB blocks of it and EFID counts
//! it. At EFID the application may still refuse such a file with EFNA 21-23 (signature,
//! decryption, decompression) through [`Session::file_closed`].

mod authentication;
mod event;
mod file_security;
mod negotiate;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use oftp2_codec::command::{Auch, Aurp, Efid, Efna, Efpa, Esid, Sfna, Sfpa, Ssid, Ssrm};
use oftp2_codec::fields::{FileCompression, FileEnveloping};
use oftp2_codec::fields::{RecordFormat, RestartPosition, SecurityLevel, Utf8Text};
use oftp2_codec::reason::{EfnaReason, EsidReason, SfnaReason};
use oftp2_codec::record::{
    restart_position, Counts, FileDecoder, FileEncoder, FileSettings, RecordError,
};
use oftp2_codec::{Command, ProtocolLevel};
use tracing::{debug, trace};

pub use authentication::SecureAuthentication;
pub use event::{Event, Receipt, Role, SessionEnd, Token};
pub use file_security::{check_file_security, FileSecurityRefusal};
pub use negotiate::Negotiated;

use crate::config::{Config, Partner};
use oftp2_codec::command::Sfid;

/// An application request the engine cannot carry out in its current state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The request does not fit the session's state (a misuse of the API, not a peer
    /// error; the session goes on).
    #[error("{request} is not possible while the session is {state}")]
    WrongState {
        /// The request.
        request: &'static str,
        /// The state, in words.
        state: &'static str,
    },
    /// The session has ended.
    #[error("the session has ended")]
    Closed,
}

/// A file queued for sending.
#[derive(Debug, Clone)]
struct Outgoing {
    token: Token,
    sfid: Sfid,
    settings: FileSettings,
}

#[derive(Debug)]
struct Sending {
    out: Outgoing,
    encoder: FileEncoder,
    /// Buffers the encoder produced that wait for credit.
    pending: VecDeque<Bytes>,
    credit: u16,
    input_finished: bool,
    counts: Option<Counts>,
}

#[derive(Debug)]
struct Receiving {
    decoder: FileDecoder,
    credit: u16,
    /// A record error found mid-file, answered with EFNA at EFID.
    failed: Option<RecordError>,
}

/// The Start Session phase's outcome, held while secure authentication runs.
#[derive(Debug)]
struct Handshake {
    negotiated: Negotiated,
    peer: Ssid,
}

/// The states of §9.3 this engine distinguishes.
#[derive(Debug)]
enum State {
    /// I_WF_RM: Initiator waiting for SSRM.
    InitiatorWaitSsrm,
    /// I_WF_SSID: Initiator waiting for the Responder's SSID.
    InitiatorWaitSsid(Box<Ssid>),
    /// A_NC_ONLY: Responder waiting for the Initiator's SSID.
    ResponderWaitSsid,
    /// WF_SECD: waiting for the peer's SECD (Responder after its SSID, Initiator after
    /// its AURP).
    AuthWaitSecd(Box<Handshake>),
    /// WF_AUCH: SECD sent (Initiator after the SSIDs, Responder after a good AURP),
    /// waiting for the peer's AUCH.
    AuthWaitAuch(Box<Handshake>),
    /// WF_AURP: AUCH sent, waiting for the AURP that must hold these 20 octets.
    AuthWaitAurp(Box<Handshake>, [u8; 20]),
    /// IDLESP (`peer_released` false) and IDLESPCD (true: the peer gave us the turn
    /// with an unsolicited CD, so we may end the session).
    Speaker { peer_released: bool },
    /// OPOP: SFID sent, waiting for SFPA or SFNA.
    WaitSfpa(Box<Outgoing>),
    /// OPO (credit left) and OPOWFC (credit 0).
    Sending(Box<Sending>),
    /// CLOP: EFID sent, waiting for EFPA or EFNA.
    WaitEfpa(Box<Outgoing>, Counts),
    /// WF_RTR: EERP or NERP sent, waiting for RTR.
    WaitRtr(Token),
    /// IDLELI (`released` false) and IDLELICD (true: we gave the turn away with CD, so
    /// a normal ESID may follow).
    Listener { released: bool },
    /// OPIP: SFID received, waiting for the application's answer.
    WaitStartAnswer(Box<Sfid>),
    /// OPI: receiving DATA.
    Receiving(Box<Receiving>),
    /// CLIP: EFID received, waiting for the application to make the file durable.
    WaitClose,
    /// RTRP: EERP or NERP received, waiting for the application to record it.
    WaitRtrAnswer,
    /// WF_CD: EFPA with CD requested sent, waiting for CD.
    WaitCd,
    /// WF_NDISC / IDLE: the session is over.
    Closed,
}

impl State {
    fn name(&self) -> &'static str {
        match self {
            State::InitiatorWaitSsrm => "waiting for SSRM",
            State::InitiatorWaitSsid(_) => "waiting for the Responder's SSID",
            State::ResponderWaitSsid => "waiting for the Initiator's SSID",
            State::AuthWaitSecd(_) => "waiting for SECD",
            State::AuthWaitAuch(_) => "waiting for AUCH",
            State::AuthWaitAurp(..) => "waiting for AURP",
            State::Speaker { .. } => "Speaker",
            State::WaitSfpa(_) => "waiting for SFPA",
            State::Sending(_) => "sending a file",
            State::WaitEfpa(..) => "waiting for EFPA",
            State::WaitRtr(_) => "waiting for RTR",
            State::Listener { .. } => "Listener",
            State::WaitStartAnswer(_) => "waiting for the answer to an SFID",
            State::Receiving(_) => "receiving a file",
            State::WaitClose => "waiting for a received file to be stored",
            State::WaitRtrAnswer => "waiting for a received receipt to be recorded",
            State::WaitCd => "waiting for CD",
            State::Closed => "closed",
        }
    }
}

/// One OFTP session, either role, as a deterministic state machine.
pub struct Session {
    config: Arc<Config>,
    role: Role,
    partner: Option<Partner>,
    state: State,
    negotiated: Option<Negotiated>,
    level: ProtocolLevel,
    transmit: VecDeque<Bytes>,
    events: VecDeque<Event>,
    deadline: Option<Instant>,
    outgoing: VecDeque<Outgoing>,
    receipts: VecDeque<(Token, Receipt)>,
    /// An extra admission check of the identified partner (its TLS certificate).
    admission: Option<Admission>,
    /// The cryptography of secure authentication, if this session may use it.
    authenticator: Option<Box<dyn SecureAuthentication>>,
}

/// An extra check a Responder makes of a partner that SSID identified (code and
/// password correct), such as its TLS client certificate: `Err` ends the session with
/// that ESID reason and text.
pub type Admission = Box<dyn Fn(&Partner) -> Result<(), (EsidReason, String)> + Send + Sync>;

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("role", &self.role)
            .field("state", &self.state.name())
            .field("partner", &self.partner.as_ref().map(|p| p.odette_id))
            .field("negotiated", &self.negotiated)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// A session we initiate with `partner`; the Responder speaks first (SSRM).
    pub fn initiator(config: Arc<Config>, partner: Partner, now: Instant) -> Self {
        let mut session = Self::new(config, Role::Initiator, Some(partner), now);
        session.state = State::InitiatorWaitSsrm;
        session
    }

    /// A session a partner initiated; SSRM is ready to be sent.
    pub fn responder(config: Arc<Config>, now: Instant) -> Self {
        let mut session = Self::new(config, Role::Responder, None, now);
        session.send(Command::Ssrm(Ssrm));
        session.state = State::ResponderWaitSsid;
        session
    }

    fn new(config: Arc<Config>, role: Role, partner: Option<Partner>, now: Instant) -> Self {
        let level = config.level;
        let deadline = Some(now + config.limits.idle_timeout);
        Session {
            config,
            role,
            partner,
            state: State::Closed,
            negotiated: None,
            level,
            transmit: VecDeque::new(),
            events: VecDeque::new(),
            deadline,
            outgoing: VecDeque::new(),
            receipts: VecDeque::new(),
            admission: None,
            authenticator: None,
        }
    }

    /// Sets the Responder's extra admission check of identified partners.
    pub fn set_admission(&mut self, admission: Admission) {
        self.admission = Some(admission);
    }

    /// Gives the session the cryptography of secure authentication (§4.2.3), needed with
    /// a partner configured with [`Partner::secure_authentication`] (without it such a
    /// session ends with ESID 12). Set it before the first input: an Initiator uses it
    /// for its SSID, a Responder once the Initiator's SSID names the partner.
    pub fn set_authenticator(&mut self, authenticator: Box<dyn SecureAuthentication>) {
        self.authenticator = Some(authenticator);
    }

    /// Our role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The partner, once known (from the start for an Initiator, after the SSID for a
    /// Responder).
    pub fn partner(&self) -> Option<&Partner> {
        self.partner.as_ref()
    }

    /// What was negotiated, once the Start Session phase is over.
    pub fn negotiated(&self) -> Option<&Negotiated> {
        self.negotiated.as_ref()
    }

    /// Whether the session has ended (the last buffers may still wait in
    /// [`poll_transmit`](Self::poll_transmit)).
    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed)
    }

    /// How long the peer may stay silent (the configured idle timeout); a driver also
    /// bounds each write with it, for a peer that stops reading.
    pub fn idle_timeout(&self) -> Duration {
        self.config.limits.idle_timeout
    }

    /// The state, in words (for logs).
    pub fn state_name(&self) -> &'static str {
        self.state.name()
    }

    // ---------------------------------------------------------------- outputs

    /// The next exchange buffer to send (without stream transmission header).
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.transmit.pop_front()
    }

    /// The next event for the application.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) must be called, if the session is
    /// still open.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.is_closed() {
            None
        } else {
            self.deadline
        }
    }

    // ---------------------------------------------------------------- inputs

    /// The time has come: if the peer stayed silent past the idle timeout, the session
    /// ends with ESID 09.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.is_closed() || self.deadline.is_some_and(|d| now < d) {
            return;
        }
        let idle = self.config.limits.idle_timeout;
        self.fail_incoming("the session timed out");
        self.end_local(EsidReason::TIME_OUT, &format!("no data from the peer for {idle:?}"));
    }

    /// The transport closed (or failed) under the session.
    pub fn handle_transport_closed(&mut self) {
        if self.is_closed() {
            return;
        }
        self.fail_incoming("the connection was lost");
        self.state = State::Closed;
        self.events.push_back(Event::Closed { end: SessionEnd::TransportLost });
    }

    /// One exchange buffer received from the peer.
    pub fn handle_input(&mut self, buffer: Bytes, now: Instant) {
        if self.is_closed() {
            return;
        }
        self.deadline = Some(now + self.config.limits.idle_timeout);
        let command = match Command::from_exchange_buffer(buffer, self.level) {
            Ok(command) => command,
            Err(malformed) => {
                debug!(%malformed, "malformed exchange buffer");
                self.fail_incoming("the peer sent a malformed buffer");
                return self.end_local(malformed.reason, &malformed.to_string());
            }
        };
        trace!(command = %command.code(), state = self.state.name(), "received");
        if let Command::Esid(esid) = command {
            return self.peer_ended(esid);
        }
        let state = std::mem::replace(&mut self.state, State::Closed);
        self.state = match (state, command) {
            (State::InitiatorWaitSsrm, Command::Ssrm(_)) => self.send_ssid(),
            (State::InitiatorWaitSsid(offered), Command::Ssid(theirs)) => {
                self.initiator_negotiated(&offered, theirs)
            }
            (State::ResponderWaitSsid, Command::Ssid(theirs)) => self.responder_negotiated(theirs),

            // Secure authentication (§9.8 I, J, K).
            (State::AuthWaitAuch(handshake), Command::Auch(auch)) => {
                self.answer_challenge(handshake, &auch)
            }
            (State::AuthWaitSecd(handshake), Command::Secd) => self.send_challenge(handshake),
            (State::AuthWaitAurp(handshake, expected), Command::Aurp(aurp)) => {
                self.check_response(handshake, &aurp, &expected)
            }

            // Speaker (§9.10, §9.11).
            (State::WaitSfpa(out), Command::Sfpa(sfpa)) => self.file_accepted(*out, sfpa),
            (State::WaitSfpa(out), Command::Sfna(sfna)) => {
                self.events.push_back(Event::FileRefused { token: out.token, sfna });
                State::Speaker { peer_released: false }
            }
            (State::Sending(mut sending), Command::Cdt) if sending.credit == 0 => {
                sending.credit = self.window();
                self.continue_sending(sending)
            }
            (State::WaitEfpa(out, counts), Command::Efpa(efpa)) => {
                self.events.push_back(Event::FileSent { token: out.token, counts });
                if efpa.change_direction {
                    self.send(Command::Cd);
                    State::Listener { released: false }
                } else {
                    State::Speaker { peer_released: false }
                }
            }
            (State::WaitEfpa(out, _), Command::Efna(efna)) => {
                self.events.push_back(Event::FileRejected { token: out.token, efna });
                State::Speaker { peer_released: false }
            }
            (State::WaitRtr(token), Command::Rtr) => {
                self.events.push_back(Event::ReceiptDelivered { token });
                State::Speaker { peer_released: false }
            }

            // Listener (§9.12).
            (State::Listener { .. }, Command::Sfid(sfid)) => self.start_file_request(sfid),
            // §9.12 C. In IDLELICD we gave the turn away ourselves: CD there is B
            // (ESID 02), and answering it with ESID 00 would hide a peer's loop.
            (State::Listener { released: false }, Command::Cd) => {
                State::Speaker { peer_released: true }
            }
            (State::Listener { .. }, Command::Eerp(eerp)) => {
                self.receipt_received(Receipt::Eerp(eerp))
            }
            (State::Listener { .. }, Command::Nerp(nerp)) => {
                self.receipt_received(Receipt::Nerp(nerp))
            }
            (State::Receiving(receiving), Command::Data(data)) => {
                self.data_received(receiving, &data.payload)
            }
            (State::Receiving(receiving), Command::Efid(efid)) => {
                self.end_of_file(*receiving, efid)
            }
            (State::WaitCd, Command::Cd) => State::Speaker { peer_released: false },

            (state, command) => {
                let text = format!("{} is not valid while {}", command.code(), state.name());
                self.state = state;
                self.fail_incoming("the peer broke the protocol");
                return self.end_local(EsidReason::PROTOCOL_VIOLATION, &text);
            }
        };
        self.drive();
    }

    // ---------------------------------------------------------------- requests

    /// Queues a file to send; it goes out when we are Speaker, after the receipts we
    /// owe and the files queued before it. SFIDREST is cleared if restart was not agreed.
    pub fn queue_file(&mut self, token: Token, sfid: Sfid, settings: FileSettings) {
        self.outgoing.push_back(Outgoing { token, sfid, settings });
        self.drive();
    }

    /// Takes back a queued file whose SFID has not gone out yet (its EERP arrived before
    /// we offered it again after a broken session, say). Returns whether it was queued;
    /// a file already offered or being sent cannot be taken back.
    pub fn withdraw_file(&mut self, token: Token) -> bool {
        let before = self.outgoing.len();
        self.outgoing.retain(|out| out.token != token);
        self.outgoing.len() != before
    }

    /// Queues an EERP or NERP to send when we are Speaker.
    pub fn queue_receipt(&mut self, token: Token, receipt: Receipt) {
        self.receipts.push_back((token, receipt));
        self.drive();
    }

    /// Accepts the file of the last [`Event::StartFileRequest`], resuming after `have`
    /// (what the application already holds of it from an interrupted transfer, zero for
    /// a new file). Returns what the transfer resumes after: `have`, or less when the
    /// peer's SFIDREST, the agreed restart or the file's format allow less; the
    /// application must drop what it holds beyond that.
    pub fn accept_file(&mut self, have: Counts) -> Result<Counts, ApiError> {
        let sfid = match std::mem::replace(&mut self.state, State::Closed) {
            State::WaitStartAnswer(sfid) => sfid,
            other => return Err(self.wrong_state(other, "accept_file")),
        };
        let settings = self.incoming_settings(&sfid);
        let secured = is_secured(&sfid);
        let restart = self.negotiated.is_some_and(|n| n.restart);
        let mut position = restart_position(sfid.format, secured, have);
        let start = if !restart || sfid.restart_position.get() == 0 || position.get() == 0 {
            position = RestartPosition::ZERO;
            Counts::default()
        } else if position <= sfid.restart_position && settings.counts_at(position) == Some(have)
            || (position <= sfid.restart_position
                && sfid.format == RecordFormat::Variable
                && !secured)
        {
            have
        } else {
            position = position.min(sfid.restart_position);
            match settings.counts_at(position) {
                Some(counts) => counts,
                None => {
                    position = RestartPosition::ZERO;
                    Counts::default()
                }
            }
        };
        let decoder = match FileDecoder::new(settings, self.compression()) {
            Ok(decoder) => decoder.resume_from(start),
            Err(error) => {
                let reason = error.efna_reason().unwrap_or(EfnaReason::UNSPECIFIED).value();
                let reason = SfnaReason::new(reason).unwrap_or(SfnaReason::UNSPECIFIED);
                let sfna = Sfna { reason, retry: false, text: text(&error.to_string()) };
                self.refuse_incoming(sfid, sfna);
                self.state = State::Listener { released: false };
                return Ok(Counts::default());
            }
        };
        self.send(Command::Sfpa(Sfpa { answer_count: position }));
        let credit = self.window();
        self.state = State::Receiving(Box::new(Receiving { decoder, credit, failed: None }));
        Ok(start)
    }

    /// Refuses the file of the last [`Event::StartFileRequest`] (SFNA).
    pub fn refuse_file(
        &mut self,
        reason: SfnaReason,
        retry: bool,
        why: &str,
    ) -> Result<(), ApiError> {
        let sfid = match std::mem::replace(&mut self.state, State::Closed) {
            State::WaitStartAnswer(sfid) => sfid,
            other => return Err(self.wrong_state(other, "refuse_file")),
        };
        self.refuse_incoming(sfid, Sfna { reason, retry, text: text(why) });
        self.state = State::Listener { released: false };
        self.drive();
        Ok(())
    }

    /// Whether the engine wants octets of the file being sent: it has credit and no
    /// buffers waiting. Feed at most one buffer's worth at a time to keep memory bounded.
    pub fn wants_data(&self) -> bool {
        match &self.state {
            State::Sending(sending) => {
                !sending.input_finished && sending.credit > 0 && sending.encoder_idle()
            }
            _ => false,
        }
    }

    /// Octets of the file being sent, in order from the offset of
    /// [`Event::FileAccepted`].
    pub fn push_data(&mut self, data: &[u8]) -> Result<(), ApiError> {
        let mut sending = match std::mem::replace(&mut self.state, State::Closed) {
            State::Sending(sending) if !sending.input_finished => sending,
            other => return Err(self.wrong_state(other, "push_data")),
        };
        if let Err(error) = sending.encoder.push(data) {
            self.local_file_error(&sending.out, &error);
            return Ok(());
        }
        self.state = self.continue_sending(sending);
        self.drive();
        Ok(())
    }

    /// The file being sent has no more octets: EFID follows once the buffers are out.
    pub fn finish_data(&mut self) -> Result<(), ApiError> {
        let mut sending = match std::mem::replace(&mut self.state, State::Closed) {
            State::Sending(sending) if !sending.input_finished => sending,
            other => return Err(self.wrong_state(other, "finish_data")),
        };
        match sending.encoder.finish() {
            Ok(counts) => {
                sending.input_finished = true;
                sending.counts = Some(counts);
            }
            Err(error) => {
                self.local_file_error(&sending.out, &error);
                return Ok(());
            }
        }
        self.state = self.continue_sending(sending);
        self.drive();
        Ok(())
    }

    /// The application has made the file of the last [`Event::EndOfFile`] durable
    /// (`Ok`, EFPA is sent) or could not or would not (`Err` with any EFNA reason and a
    /// text, §5.3.10): among them 21 (invalid file signature), 22 (file decryption
    /// failure) and 23 (file decompression failure) for a signed, encrypted or compressed
    /// file that does not verify, decrypt or decompress once complete.
    ///
    /// Queue the receipt for the file first ([`queue_receipt`](Self::queue_receipt)):
    /// EFPA then asks for the turn so that the EERP goes out in this session. After an
    /// EFNA the originator is owed a NERP (§5.3.14; 31, 33, 32 for EFNA 21, 22, 23): the
    /// application (the driver) queues it; EFNA cannot ask for the turn, so it goes out
    /// once the peer gives us the turn (CD) in this session, or in a later one.
    pub fn file_closed(
        &mut self,
        result: Result<(), (EfnaReason, String)>,
    ) -> Result<(), ApiError> {
        match std::mem::replace(&mut self.state, State::Closed) {
            State::WaitClose => {}
            other => return Err(self.wrong_state(other, "file_closed")),
        }
        self.state = match result {
            Ok(()) => {
                let change_direction = self.has_speaker_work();
                self.send(Command::Efpa(Efpa { change_direction }));
                if change_direction {
                    State::WaitCd
                } else {
                    State::Listener { released: false }
                }
            }
            Err((reason, why)) => {
                self.send(Command::Efna(Efna { reason, text: text(&why) }));
                State::Listener { released: false }
            }
        };
        self.drive();
        Ok(())
    }

    /// The application has recorded the receipt of the last [`Event::ReceiptReceived`]:
    /// RTR is sent.
    pub fn receipt_processed(&mut self) -> Result<(), ApiError> {
        match std::mem::replace(&mut self.state, State::Closed) {
            State::WaitRtrAnswer => {}
            other => return Err(self.wrong_state(other, "receipt_processed")),
        }
        self.send(Command::Rtr);
        self.state = State::Listener { released: false };
        self.drive();
        Ok(())
    }

    /// Ends the session now with ESID `reason` (05 emergency close down, 08 resources not
    /// available, 99 unspecified, ...).
    pub fn abort(&mut self, reason: EsidReason, why: &str) {
        if !self.is_closed() {
            self.fail_incoming("the session was aborted");
            self.end_local(reason, why);
        }
    }

    // ---------------------------------------------------------------- internals

    /// Queues `command` for sending if the session's level can carry it.
    fn try_send(&mut self, command: &Command) -> Result<(), oftp2_codec::EncodeError> {
        let octets = command.to_bytes(self.level)?;
        trace!(command = %command.code(), len = octets.len(), "sending");
        self.transmit.push_back(octets);
        Ok(())
    }

    /// Queues a command the engine built itself, which every level carries (SFIDs and
    /// receipts from the application go through `try_send` in `drive`).
    fn send(&mut self, command: Command) {
        if let Err(error) = self.try_send(&command) {
            debug!(%error, "could not encode {}", command.code());
        }
    }

    fn window(&self) -> u16 {
        self.negotiated.map_or(1, |n| n.credit.get())
    }

    fn compression(&self) -> bool {
        self.negotiated.is_some_and(|n| n.compression)
    }

    fn wrong_state(&mut self, state: State, request: &'static str) -> ApiError {
        let error = match state {
            State::Closed => ApiError::Closed,
            ref other => ApiError::WrongState { request, state: other.name() },
        };
        self.state = state;
        error
    }

    fn end_local(&mut self, reason: EsidReason, why: &str) {
        debug!(%reason, why, "ending the session");
        self.send(Command::Esid(Esid::new(reason, why)));
        self.state = State::Closed;
        self.events
            .push_back(Event::Closed { end: SessionEnd::Local { reason, text: why.to_owned() } });
    }

    fn peer_ended(&mut self, esid: Esid) {
        let normal = esid.reason == EsidReason::NORMAL_TERMINATION;
        let released = matches!(self.state, State::Listener { released: true });
        self.fail_incoming("the peer ended the session");
        self.state = State::Closed;
        let end = if normal && released {
            SessionEnd::Normal
        } else {
            SessionEnd::Remote { reason: esid.reason, text: esid.text.as_str().to_owned() }
        };
        self.events.push_back(Event::Closed { end });
    }

    /// Reports an incoming file that will not complete.
    fn fail_incoming(&mut self, why: &str) {
        if matches!(self.state, State::Receiving(_) | State::WaitStartAnswer(_)) {
            self.events.push_back(Event::IncomingFileFailed { efna: None, why: why.to_owned() });
        }
    }

    fn send_ssid(&mut self) -> State {
        let Some(partner) = self.partner.clone() else {
            return State::Closed;
        };
        if let Err(refusal) = self.can_authenticate(&partner, self.config.level) {
            self.end_local(refusal.reason, &refusal.text);
            return State::Closed;
        }
        let (buffer, credit) = negotiate::offer(&self.config, &partner);
        let ssid = negotiate::our_ssid(
            &self.config,
            &partner,
            self.config.level,
            buffer,
            credit,
            self.config.compression,
            self.config.restart,
        );
        self.send(Command::Ssid(ssid.clone()));
        State::InitiatorWaitSsid(Box::new(ssid))
    }

    fn initiator_negotiated(&mut self, offered: &Ssid, theirs: Ssid) -> State {
        let Some(partner) = self.partner.clone() else {
            return State::Closed;
        };
        match negotiate::as_initiator(&partner, offered, &theirs) {
            Ok(negotiated) if negotiated.secure_authentication => {
                // §9.8 D (P2 & P8 & P11): SECD, WF_AUCH.
                self.level = negotiated.level;
                self.send(Command::Secd);
                State::AuthWaitAuch(Box::new(Handshake { negotiated, peer: theirs }))
            }
            Ok(negotiated) => {
                self.connected(negotiated, theirs);
                State::Speaker { peer_released: false }
            }
            Err(refusal) => {
                self.end_local(refusal.reason, &refusal.text);
                State::Closed
            }
        }
    }

    fn responder_negotiated(&mut self, theirs: Ssid) -> State {
        let partner = match negotiate::identify(&self.config, &theirs.code, &theirs.password) {
            Ok(partner) => partner.clone(),
            Err(refusal) => {
                self.end_local(refusal.reason, &refusal.text);
                return State::Closed;
            }
        };
        if let Some(Err((reason, text))) = self.admission.as_ref().map(|check| check(&partner)) {
            self.end_local(reason, &text);
            return State::Closed;
        }
        let mut agreed = negotiate::as_responder(&self.config, &partner, &theirs);
        if let Ok((negotiated, _)) = &agreed {
            if let Err(refusal) = self.can_authenticate(&partner, negotiated.level) {
                agreed = Err(refusal);
            }
        }
        match agreed {
            Ok((negotiated, answer)) => {
                self.partner = Some(partner);
                // The answer goes out in the agreed level's layout.
                self.level = negotiated.level;
                self.send(Command::Ssid(answer));
                if negotiated.secure_authentication {
                    // §9.8 G (P2 & P9 & P10): SSID, WF_SECD.
                    return State::AuthWaitSecd(Box::new(Handshake { negotiated, peer: theirs }));
                }
                self.connected(negotiated, theirs);
                State::Listener { released: false }
            }
            Err(refusal) => {
                // A 1.x peer must be able to read our ESID.
                self.level = self.config.level.negotiate(theirs.level);
                self.end_local(refusal.reason, &refusal.text);
                State::Closed
            }
        }
    }

    /// Whether secure authentication with `partner`, if configured, can run at `level`
    /// in this session (§9.8 P8/P10 on our side): ESID 12 if not.
    fn can_authenticate(
        &self,
        partner: &Partner,
        level: ProtocolLevel,
    ) -> Result<(), negotiate::Refusal> {
        let refuse = |text: String| negotiate::Refusal {
            reason: EsidReason::SECURE_AUTHENTICATION_REQUIREMENTS_INCOMPATIBLE,
            text,
        };
        if !partner.secure_authentication {
            Ok(())
        } else if self.authenticator.is_none() {
            Err(refuse(format!(
                "secure authentication is configured for {} but this location cannot \
                 authenticate (no authenticator)",
                partner.odette_id
            )))
        } else if !level.has_security() {
            Err(refuse(format!(
                "secure authentication with {} needs protocol level 2.0, not {level}",
                partner.odette_id
            )))
        } else {
            Ok(())
        }
    }

    /// WF_SECD and SECD (§9.8 J): our challenge goes out in AUCH.
    fn send_challenge(&mut self, handshake: Box<Handshake>) -> State {
        let challenge = match (self.partner.as_ref(), self.authenticator.as_mut()) {
            (Some(partner), Some(authenticator)) => authenticator.challenge(partner),
            _ => Err("no authenticator".to_owned()),
        };
        let incompatible = EsidReason::SECURE_AUTHENTICATION_REQUIREMENTS_INCOMPATIBLE;
        let (challenge, expected) = match challenge {
            Ok(made) => made,
            Err(why) => {
                self.end_local(incompatible, &format!("cannot challenge the peer: {why}"));
                return State::Closed;
            }
        };
        let auch = Command::Auch(Auch { challenge: Bytes::from(challenge) });
        if let Err(error) = self.try_send(&auch) {
            self.end_local(incompatible, &format!("cannot send the challenge: {error}"));
            return State::Closed;
        }
        State::AuthWaitAurp(handshake, expected)
    }

    /// WF_AUCH and AUCH (§9.8 I): the answer goes out in AURP; the Initiator waits for
    /// the Responder's SECD (P5), the Responder is authenticated both ways and Listener.
    fn answer_challenge(&mut self, handshake: Box<Handshake>, auch: &Auch) -> State {
        let response = match (self.partner.as_ref(), self.authenticator.as_mut()) {
            (Some(partner), Some(authenticator)) => authenticator.answer(partner, &auch.challenge),
            _ => {
                let incompatible = EsidReason::SECURE_AUTHENTICATION_REQUIREMENTS_INCOMPATIBLE;
                self.end_local(incompatible, "no authenticator to answer the challenge");
                return State::Closed;
            }
        };
        self.send(Command::Aurp(Aurp { response }));
        match self.role {
            Role::Initiator => State::AuthWaitSecd(handshake),
            Role::Responder => {
                let Handshake { negotiated, peer } = *handshake;
                self.connected(negotiated, peer);
                State::Listener { released: false }
            }
        }
    }

    /// WF_AURP and AURP (§9.8 K): the Responder sends SECD (P7), the Initiator is
    /// authenticated both ways and the first Speaker (P6); a wrong answer is ESID 11.
    fn check_response(
        &mut self,
        handshake: Box<Handshake>,
        aurp: &Aurp,
        expected: &[u8; 20],
    ) -> State {
        if !authentication::response_matches(aurp, expected) {
            self.end_local(
                EsidReason::INVALID_CHALLENGE_RESPONSE,
                "the AURP does not hold the challenge we sent",
            );
            return State::Closed;
        }
        match self.role {
            Role::Responder => {
                self.send(Command::Secd);
                State::AuthWaitAuch(handshake)
            }
            Role::Initiator => {
                let Handshake { negotiated, peer } = *handshake;
                self.connected(negotiated, peer);
                State::Speaker { peer_released: false }
            }
        }
    }

    fn connected(&mut self, negotiated: Negotiated, peer: Ssid) {
        debug!(?negotiated, peer = %peer.code, "session started");
        self.level = negotiated.level;
        self.negotiated = Some(negotiated);
        self.events.push_back(Event::Connected { peer: Box::new(peer), negotiated });
    }

    /// The local file settings for an incoming file: what SFIDFMT says, or U for a file
    /// that was signed, compressed or encrypted (it travels as U, §5.3.3 SFIDFMT).
    fn incoming_settings(&self, sfid: &Sfid) -> FileSettings {
        let text_lines = self.partner.as_ref().map(|p| p.text_lines).unwrap_or_default();
        settings_for(sfid, text_lines.into())
    }

    fn start_file_request(&mut self, sfid: Sfid) -> State {
        let we_receive = self.negotiated.is_some_and(|n| n.we_receive);
        let restart = self.negotiated.is_some_and(|n| n.restart);
        if !we_receive {
            let sfna = Sfna {
                reason: SfnaReason::FILE_DIRECTION_REFUSED,
                retry: false,
                text: text("this location does not receive files from you"),
            };
            self.refuse_incoming(Box::new(sfid), sfna);
            return State::Listener { released: false };
        }
        if sfid.restart_position.get() > 0 && !restart {
            // §9.12 predicate P1: restart was not agreed.
            self.end_local(
                EsidReason::PROTOCOL_VIOLATION,
                "SFIDREST > 0 but restart was not agreed",
            );
            return State::Closed;
        }
        let policy = self.partner.as_ref().map(|p| check_file_security(&p.file_security, &sfid));
        if let Some(Err(refusal)) = policy {
            debug!(file = %sfid.dataset_name, reason = %refusal.reason, text = refusal.text,
                   "file refused by the partner's file security policy");
            let sfna = Sfna { reason: refusal.reason, retry: false, text: text(&refusal.text) };
            self.refuse_incoming(Box::new(sfid), sfna);
            return State::Listener { released: false };
        }
        self.events.push_back(Event::StartFileRequest { sfid: Box::new(sfid.clone()) });
        State::WaitStartAnswer(Box::new(sfid))
    }

    /// Answers the peer's SFID with `sfna`, and tells the application.
    fn refuse_incoming(&mut self, sfid: Box<Sfid>, sfna: Sfna) {
        self.events.push_back(Event::IncomingFileRefused { sfid, sfna: sfna.clone() });
        self.send(Command::Sfna(sfna));
    }

    fn receipt_received(&mut self, receipt: Receipt) -> State {
        self.events.push_back(Event::ReceiptReceived { receipt: Box::new(receipt) });
        State::WaitRtrAnswer
    }

    fn data_received(&mut self, mut receiving: Box<Receiving>, payload: &[u8]) -> State {
        if receiving.credit == 0 {
            self.fail_incoming("the peer exceeded its credit");
            self.end_local(EsidReason::PROTOCOL_VIOLATION, "DATA sent without credit");
            return State::Closed;
        }
        receiving.credit -= 1;
        if receiving.failed.is_none() {
            match receiving.decoder.push_payload(payload) {
                Ok(data) if data.is_empty() => {}
                Ok(data) => {
                    let counts = receiving.decoder.counts();
                    self.events.push_back(Event::FileData { data, counts });
                }
                Err(error) => match error.esid_reason() {
                    Some(reason) => {
                        self.fail_incoming("the peer sent a malformed DATA buffer");
                        self.end_local(reason, &error.to_string());
                        return State::Closed;
                    }
                    None => receiving.failed = Some(error),
                },
            }
        }
        if receiving.credit == 0 {
            self.send(Command::Cdt);
            receiving.credit = self.window();
        }
        State::Receiving(receiving)
    }

    fn end_of_file(&mut self, mut receiving: Receiving, efid: Efid) -> State {
        let result = match receiving.failed.take() {
            Some(error) => Err(error),
            None => receiving.decoder.finish(efid.record_count, efid.unit_count),
        };
        match result {
            Ok(counts) => {
                self.events.push_back(Event::EndOfFile { efid, counts });
                State::WaitClose
            }
            Err(error) => {
                let reason = error.efna_reason().unwrap_or(EfnaReason::UNSPECIFIED);
                let efna = Efna { reason, text: text(&error.to_string()) };
                self.send(Command::Efna(efna.clone()));
                self.events.push_back(Event::IncomingFileFailed {
                    efna: Some(efna),
                    why: error.to_string(),
                });
                State::Listener { released: false }
            }
        }
    }

    fn file_accepted(&mut self, out: Outgoing, sfpa: Sfpa) -> State {
        let requested = out.sfid.restart_position;
        if sfpa.answer_count > requested {
            let text = format!("SFPAACNT {} above SFIDREST {}", sfpa.answer_count, requested);
            self.end_local(EsidReason::PROTOCOL_VIOLATION, &text);
            return State::Closed;
        }
        let Some(negotiated) = self.negotiated else {
            // SFID is only sent once the Start Session phase is over.
            self.end_local(EsidReason::PROTOCOL_VIOLATION, "SFPA before the session started");
            return State::Closed;
        };
        let encoder =
            match FileEncoder::new(out.settings, negotiated.buffer_size, negotiated.compression) {
                Ok(encoder) => encoder,
                Err(error) => {
                    self.local_file_error(&out, &error);
                    return std::mem::replace(&mut self.state, State::Closed);
                }
            };
        let position = sfpa.answer_count;
        let (encoder, feed_from) = match out.settings.counts_at(position) {
            Some(start) if position.get() > 0 => (encoder.resume_from(start), start.octets),
            Some(_) => (encoder, 0),
            None => (encoder.skip_to(position), 0),
        };
        self.events.push_back(Event::FileAccepted { token: out.token, position, feed_from });
        State::Sending(Box::new(Sending {
            out,
            encoder,
            pending: VecDeque::new(),
            credit: negotiated.credit.get(),
            input_finished: false,
            counts: None,
        }))
    }

    /// Sends the buffers credit allows; EFID once all are out and credit remains (§9.11
    /// Note 1: never in OPOWFC).
    fn continue_sending(&mut self, mut sending: Box<Sending>) -> State {
        sending.pending.extend(sending.encoder.drain_buffers());
        while sending.credit > 0 {
            let Some(buffer) = sending.pending.pop_front() else { break };
            sending.credit -= 1;
            self.transmit.push_back(buffer);
        }
        match sending.counts {
            Some(counts) if sending.credit > 0 && sending.encoder_idle() => {
                let (record_count, unit_count) = counts.efid(sending.out.settings.format);
                self.send(Command::Efid(Efid { record_count, unit_count }));
                State::WaitEfpa(Box::new(sending.out), counts)
            }
            _ => State::Sending(sending),
        }
    }

    fn local_file_error(&mut self, out: &Outgoing, error: &RecordError) {
        self.events.push_back(Event::FileFailed { token: out.token, why: error.to_string() });
        // Half a file cannot be withdrawn: the session ends (§3.4.2, user-initiated).
        self.end_local(EsidReason::UNSPECIFIED_ABORT, &format!("local file error: {error}"));
    }

    fn has_speaker_work(&self) -> bool {
        let we_send = self.negotiated.is_some_and(|n| n.we_send);
        !self.receipts.is_empty() || (we_send && !self.outgoing.is_empty())
    }

    /// As idle Speaker: receipts first, then files, then CD or ESID.
    fn drive(&mut self) {
        let State::Speaker { peer_released } = self.state else { return };
        while let Some((token, receipt)) = self.receipts.pop_front() {
            let command = match &receipt {
                Receipt::Eerp(eerp) => Command::Eerp(eerp.clone()),
                Receipt::Nerp(nerp) => Command::Nerp(nerp.clone()),
            };
            match self.try_send(&command) {
                Ok(()) => {
                    self.state = State::WaitRtr(token);
                    return;
                }
                // NERP before 1.4: the owner (the store) keeps it for a later session.
                Err(error) => debug!(%error, "receipt left for a session at a later level"),
            }
        }
        if self.negotiated.is_some_and(|n| n.we_send) {
            while let Some(mut out) = self.outgoing.pop_front() {
                if !self.negotiated.is_some_and(|n| n.restart) {
                    out.sfid.restart_position = RestartPosition::ZERO;
                }
                match self.try_send(&Command::Sfid(out.sfid.clone())) {
                    Ok(()) => {
                        self.state = State::WaitSfpa(Box::new(out));
                        return;
                    }
                    Err(error) => self
                        .events
                        .push_back(Event::FileFailed { token: out.token, why: error.to_string() }),
                }
            }
        }
        if peer_released {
            self.send(Command::Esid(Esid::normal()));
            self.state = State::Closed;
            self.events.push_back(Event::Closed { end: SessionEnd::Normal });
        } else {
            self.send(Command::Cd);
            self.state = State::Listener { released: true };
        }
    }
}

impl Sending {
    /// No complete buffer waits in the encoder.
    fn encoder_idle(&self) -> bool {
        self.pending.is_empty()
    }
}

/// Whether the file was signed, compressed or encrypted (SFIDSEC not `00`, SFIDCOMP not
/// `0`), or is a CMS envelope (SFIDENV `1`, §10.4), and so travels as U (§5.3.3 SFIDFMT,
/// §6.1): restart positions count 1 KiB blocks of the transmitted file and EFID counts
/// its octets, whatever SFIDFMT says.
pub fn is_secured(sfid: &Sfid) -> bool {
    sfid.security_level != SecurityLevel::None
        || sfid.compression != FileCompression::None
        || sfid.enveloping != FileEnveloping::None
}

/// The record settings of a file announced by `sfid`, with `text_lines` for T files.
///
/// A V file's local form carries its record boundaries as RFC 5024 §6.5 two-octet
/// big-endian length prefixes (the form a V file also has before signing, compression or
/// encryption): files queued in V format must be written so, and V files received are
/// stored so. An unsecured V file travels as records; a secured file of any SFIDFMT
/// ([`is_secured`]) travels as U: its local form is the protected octets (the CMS
/// structure), sent and received as they are, and SFIDOSIZ gives the original size.
/// Both directions use these settings: the sender's encoder and restart offset
/// ([`Session::queue_file`]), the receiver's decoder and SFPAACNT
/// ([`Session::accept_file`]).
pub fn settings_for(sfid: &Sfid, text_lines: oftp2_codec::record::TextLines) -> FileSettings {
    if is_secured(sfid) {
        return FileSettings::unstructured();
    }
    match sfid.format {
        RecordFormat::Fixed => FileSettings::fixed(sfid.max_record_length),
        RecordFormat::Variable => {
            FileSettings::variable(sfid.max_record_length).with_length_prefixes(true)
        }
        RecordFormat::Unstructured => FileSettings::unstructured(),
        RecordFormat::Text => FileSettings::text(text_lines),
    }
}

fn text(why: &str) -> Utf8Text {
    let mut end = why.len().min(Utf8Text::MAX_OCTETS);
    while !why.is_char_boundary(end) {
        end -= 1;
    }
    Utf8Text::new(why.get(..end).unwrap_or_default()).unwrap_or_default()
}
