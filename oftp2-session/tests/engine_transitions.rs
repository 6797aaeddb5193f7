//! The engine against RFC 5024 §9's state tables, cell by cell: each state the engine
//! distinguishes is reached in both roles with scripted, valid exchange buffers and
//! application calls; then every one of the 18 commands is fed to it and the reaction
//! (next state, commands sent, events) is checked against §9.8-§9.12. Also the timer in
//! every state, application requests in states where they are not valid, and the
//! predicates of the tables (restart, credit, CD loop guard, negotiation failures).
//! Secure authentication (§9.8 I, J, K; states WF_SECD, WF_AUCH, WF_AURP) runs with a
//! deterministic fake authenticator (`engine_support`); the file security policy's SFNA
//! 15-20 and the EFNA 21-23 an application may answer at EFID are checked as well.
//!
//! Run with `--nocapture` to see the matrix (state x event -> outcome).
//!
//! IDLESP and IDLESPCD never rest: the engine is its own User Monitor (module docs of
//! `engine`), so as Speaker it at once sends a receipt, an SFID, CD or ESID 00. Entering
//! them is checked through what follows (`SP>CD` in the matrix: IDLESP, then CD, then
//! IDLELICD).
#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a panic is a failure

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
mod engine_support;
mod session_support;

use engine_support::FakeAuthenticator;
use oftp2_codec::command::{
    Auch, Aurp, Data, Eerp, Efid, Efna, Efpa, Esid, Nerp, Sfid, Sfna, Sfpa, Ssid, Ssrm,
};
use oftp2_codec::fields::*;
use oftp2_codec::reason::{EfnaReason, EsidReason, NerpReason, SfnaReason};
use oftp2_codec::record::{file_size, Counts, TextLines};
use oftp2_codec::{Command, CommandCode, ProtocolLevel};
use oftp2_session::config::{Config, Transport};
use oftp2_session::engine::{
    settings_for, ApiError, Event, Receipt, Role, Session, SessionEnd, Token,
};
use session_support::{partner, password_of, raw_sfid, raw_ssid, A, B};

const BUFFER: u64 = 128;

// ------------------------------------------------------------------ set-up

fn config(own: &str, peer: &str, level: ProtocolLevel, credit: u64) -> Config {
    let mut config = Config::new(own.parse().unwrap());
    config.level = level;
    config.buffer_size = BufferSize::new(BUFFER).unwrap();
    config.credit = Credit::new(credit).unwrap();
    config.restart = true;
    config.partners.push(partner(peer, own, Transport::default(), None));
    config
}

/// The SSID the scripted peer (`own`, talking to `peer`) sends.
fn peer_ssid(own: &str, level: ProtocolLevel, credit: u64) -> Ssid {
    Ssid { level, ..raw_ssid(own, &password_of(own), BUFFER, credit) }
}

fn sfid(from: &str, to: &str) -> Sfid {
    raw_sfid(from, to, "MATRIX.FILE", 3)
}

fn eerp(from: &str, to: &str) -> Eerp {
    let s = sfid(to, from);
    Eerp {
        dataset_name: s.dataset_name,
        date: s.date,
        time: s.time,
        user_data: s.user_data,
        destination: s.originator,
        originator: s.destination,
        hash: Bytes::new(),
        signature: Bytes::new(),
    }
}

fn nerp(from: &str, to: &str) -> Nerp {
    let s = sfid(to, from);
    Nerp {
        dataset_name: s.dataset_name,
        date: s.date,
        time: s.time,
        destination: s.originator,
        originator: s.destination,
        creator: s.destination,
        reason: NerpReason::NOT_DELIVERED_TO_RECIPIENT,
        text: Utf8Text::empty(),
        hash: Bytes::new(),
        signature: Bytes::new(),
    }
}

/// A valid instance of each command, as the scripted peer (`peer`, talking to `us`)
/// would send it.
fn instance(code: CommandCode, peer: &str, us: &str) -> Command {
    match code {
        CommandCode::Ssrm => Command::Ssrm(Ssrm),
        CommandCode::Ssid => Command::Ssid(peer_ssid(peer, ProtocolLevel::V2_0, WINDOW)),
        CommandCode::Sfid => Command::Sfid(sfid(peer, us)),
        CommandCode::Sfpa => Command::Sfpa(Sfpa { answer_count: RestartPosition::ZERO }),
        CommandCode::Sfna => Command::Sfna(Sfna {
            reason: SfnaReason::DUPLICATE_FILE,
            retry: false,
            text: Utf8Text::empty(),
        }),
        // One U subrecord of three octets (end-of-record flag, length 3).
        CommandCode::Data => Command::Data(Data { payload: Bytes::from_static(b"\x83abc") }),
        CommandCode::Cdt => Command::Cdt,
        // The counts of a file with nothing in it so far (the OPI this matrix reaches).
        CommandCode::Efid => Command::Efid(Efid {
            record_count: RecordCount::new(0).unwrap(),
            unit_count: UnitCount::new(0).unwrap(),
        }),
        CommandCode::Efpa => Command::Efpa(Efpa { change_direction: false }),
        CommandCode::Efna => {
            Command::Efna(Efna { reason: EfnaReason::INVALID_BYTE_COUNT, text: Utf8Text::empty() })
        }
        CommandCode::Esid => Command::Esid(Esid::normal()),
        CommandCode::Cd => Command::Cd,
        CommandCode::Eerp => Command::Eerp(eerp(peer, us)),
        CommandCode::Nerp => Command::Nerp(nerp(peer, us)),
        CommandCode::Rtr => Command::Rtr,
        CommandCode::Secd => Command::Secd,
        CommandCode::Auch => Command::Auch(Auch { challenge: Bytes::from_static(&[7; 20]) }),
        CommandCode::Aurp => Command::Aurp(Aurp { response: [7; 20] }),
    }
}

/// The credit window of the matrix sessions (the Listener sends CDT after this many
/// DATA buffers).
const WINDOW: u64 = 2;

/// One engine and the scripted peer around it.
struct Rig {
    s: Session,
    role: Role,
    us: &'static str,
    peer: &'static str,
    level: ProtocolLevel,
    now: Instant,
    sent: Vec<Command>,
    events: Vec<Event>,
}

impl Rig {
    fn initiator(config: Config) -> Self {
        let now = Instant::now();
        let partner = config.partners[0].clone();
        let level = config.level;
        let s = Session::initiator(Arc::new(config), partner, now);
        Rig { s, role: Role::Initiator, us: A, peer: B, level, now, sent: vec![], events: vec![] }
    }

    fn responder(config: Config) -> Self {
        let now = Instant::now();
        let level = config.level;
        let s = Session::responder(Arc::new(config), now);
        let mut rig = Rig {
            s,
            role: Role::Responder,
            us: B,
            peer: A,
            level,
            now,
            sent: vec![],
            events: vec![],
        };
        rig.drain();
        rig
    }

    /// Collects what the engine sent and reported since the last call.
    fn drain(&mut self) -> (Vec<Command>, Vec<Event>) {
        let mut sent = Vec::new();
        while let Some(b) = self.s.poll_transmit() {
            sent.push(Command::from_exchange_buffer(b, self.level).unwrap());
        }
        let events: Vec<Event> = std::iter::from_fn(|| self.s.poll_event()).collect();
        self.sent.extend(sent.iter().cloned());
        self.events.extend(events.iter().cloned());
        (sent, events)
    }

    fn feed(&mut self, command: &Command) -> (Vec<Command>, Vec<Event>) {
        self.feed_at(command, self.level)
    }

    /// Feeds `command` encoded at `level`.
    fn feed_at(&mut self, command: &Command, level: ProtocolLevel) -> (Vec<Command>, Vec<Event>) {
        self.now += Duration::from_millis(10);
        let octets = command.to_bytes(level).unwrap();
        self.s.handle_input(octets, self.now);
        self.drain()
    }

    fn feed_code(&mut self, code: CommandCode) -> (Vec<Command>, Vec<Event>) {
        let command = instance(code, self.peer, self.us);
        self.feed(&command)
    }

    fn queue_file(&mut self) {
        let file = sfid(self.us, self.peer);
        let settings = settings_for(&file, TextLines::KeepCrLf);
        self.s.queue_file(Token(1), file, settings);
        self.drain();
    }

    fn queue_receipt(&mut self) {
        self.s.queue_receipt(Token(2), Receipt::Eerp(eerp(self.us, self.peer)));
        self.drain();
    }

    /// The Start Session phase, with the peer's `ssid`.
    fn connect_with(&mut self, ssid: Ssid) -> (Vec<Command>, Vec<Event>) {
        if self.role == Role::Initiator {
            let (sent, _) = self.feed(&Command::Ssrm(Ssrm));
            assert_eq!(codes(&sent), [CommandCode::Ssid]);
        }
        let level = ssid.level;
        self.feed_at(&Command::Ssid(ssid), level)
    }
}

fn codes(sent: &[Command]) -> Vec<CommandCode> {
    sent.iter().map(Command::code).collect()
}

fn event_name(event: &Event) -> &'static str {
    match event {
        Event::Connected { .. } => "Connected",
        Event::StartFileRequest { .. } => "StartFileRequest",
        Event::FileData { .. } => "FileData",
        Event::EndOfFile { .. } => "EndOfFile",
        Event::IncomingFileFailed { .. } => "IncomingFileFailed",
        Event::IncomingFileRefused { .. } => "IncomingFileRefused",
        Event::FileAccepted { .. } => "FileAccepted",
        Event::FileRefused { .. } => "FileRefused",
        Event::FileSent { .. } => "FileSent",
        Event::FileFailed { .. } => "FileFailed",
        Event::FileRejected { .. } => "FileRejected",
        Event::ReceiptReceived { .. } => "ReceiptReceived",
        Event::ReceiptDelivered { .. } => "ReceiptDelivered",
        Event::Closed { .. } => "Closed",
        _ => "other",
    }
}

fn names(events: &[Event]) -> Vec<&'static str> {
    events.iter().map(event_name).collect()
}

// ------------------------------------------------------------------ states

/// The §9.3 states the engine distinguishes as resting states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum St {
    IWfRm,
    IWfSsid,
    ANcOnly,
    WfSecd,
    WfAuch,
    WfAurp,
    IdleLi,
    IdleLiCd,
    Opop,
    Opo,
    Opowfc,
    Clop,
    WfRtr,
    Opip,
    Opi,
    Clip,
    Rtrp,
    WfCd,
    Closed,
}

impl St {
    const ALL: [St; 19] = [
        St::IWfRm,
        St::IWfSsid,
        St::ANcOnly,
        St::WfSecd,
        St::WfAuch,
        St::WfAurp,
        St::IdleLi,
        St::IdleLiCd,
        St::Opop,
        St::Opo,
        St::Opowfc,
        St::Clop,
        St::WfRtr,
        St::Opip,
        St::Opi,
        St::Clip,
        St::Rtrp,
        St::WfCd,
        St::Closed,
    ];

    fn rfc(self) -> &'static str {
        match self {
            St::IWfRm => "I_WF_RM",
            St::IWfSsid => "I_WF_SSID",
            St::ANcOnly => "A_NC_ONLY",
            St::WfSecd => "WF_SECD",
            St::WfAuch => "WF_AUCH",
            St::WfAurp => "WF_AURP",
            St::IdleLi => "IDLELI",
            St::IdleLiCd => "IDLELICD",
            St::Opop => "OPOP",
            St::Opo => "OPO",
            St::Opowfc => "OPOWFC",
            St::Clop => "CLOP",
            St::WfRtr => "WF_RTR",
            St::Opip => "OPIP",
            St::Opi => "OPI",
            St::Clip => "CLIP",
            St::Rtrp => "RTRP",
            St::WfCd => "WF_CD",
            St::Closed => "closed",
        }
    }

    /// The engine's `state_name()` for the state.
    fn engine_name(self) -> &'static str {
        match self {
            St::IWfRm => "waiting for SSRM",
            St::IWfSsid => "waiting for the Responder's SSID",
            St::ANcOnly => "waiting for the Initiator's SSID",
            St::WfSecd => "waiting for SECD",
            St::WfAuch => "waiting for AUCH",
            St::WfAurp => "waiting for AURP",
            St::IdleLi | St::IdleLiCd => "Listener",
            St::Opop => "waiting for SFPA",
            St::Opo | St::Opowfc => "sending a file",
            St::Clop => "waiting for EFPA",
            St::WfRtr => "waiting for RTR",
            St::Opip => "waiting for the answer to an SFID",
            St::Opi => "receiving a file",
            St::Clip => "waiting for a received file to be stored",
            St::Rtrp => "waiting for a received receipt to be recorded",
            St::WfCd => "waiting for CD",
            St::Closed => "closed",
        }
    }

    fn exists_for(self, role: Role) -> bool {
        match self {
            St::IWfRm | St::IWfSsid => role == Role::Initiator,
            St::ANcOnly => role == Role::Responder,
            _ => true,
        }
    }

    /// Secure authentication needs 2.0 (SSIDAUTH, SECD, AUCH and AURP).
    fn exists_at(self, level: ProtocolLevel) -> bool {
        level >= ProtocolLevel::V2_0 || !matches!(self, St::WfSecd | St::WfAuch | St::WfAurp)
    }
}

/// The secret of the fake authenticator's challenges, and so the AURP the matrix's
/// AURP instance must hold.
const SECRET: [u8; 20] = [7; 20];

/// A rig whose partner is configured with secure authentication, with an authenticator.
fn auth_rig(role: Role, level: ProtocolLevel, credit: u64) -> (Rig, FakeAuthenticator) {
    let (own, peer) = if role == Role::Initiator { (A, B) } else { (B, A) };
    let mut config = config(own, peer, level, credit);
    config.partners[0].secure_authentication = true;
    let mut rig = match role {
        Role::Initiator => Rig::initiator(config),
        Role::Responder => Rig::responder(config),
    };
    let authenticator = FakeAuthenticator::new(SECRET);
    rig.s.set_authenticator(authenticator.boxed());
    (rig, authenticator)
}

/// The peer's SSID asking for secure authentication.
fn auth_ssid(peer: &str) -> Ssid {
    Ssid { secure_authentication: true, ..peer_ssid(peer, ProtocolLevel::V2_0, WINDOW) }
}

/// Checks that the engine is in `st`, as far as it can be seen from outside.
fn assert_in(rig: &Rig, st: St, context: &str) {
    assert_eq!(rig.s.state_name(), st.engine_name(), "{context}");
    match st {
        // OPO: credit left and no buffer waiting, so the engine wants octets; OPOWFC not.
        St::Opo => assert!(rig.s.wants_data(), "{context}: OPO wants data"),
        St::Opowfc => assert!(!rig.s.wants_data(), "{context}: OPOWFC waits for credit"),
        _ => {}
    }
    assert_eq!(rig.s.is_closed(), st == St::Closed, "{context}");
}

/// Brings an engine of `role` into `st` with valid buffers and requests.
fn reach(role: Role, st: St) -> Rig {
    reach_at(role, st, ProtocolLevel::V2_0)
}

fn reach_at(role: Role, st: St, level: ProtocolLevel) -> Rig {
    // OPOWFC: one buffer's worth of credit, so one DATA exhausts it.
    let credit = if st == St::Opowfc { 1 } else { WINDOW };
    let mut rig = match role {
        Role::Initiator => Rig::initiator(config(A, B, level, credit)),
        Role::Responder => Rig::responder(config(B, A, level, credit)),
    };
    let connect = |rig: &mut Rig| {
        let (_, events) = rig.connect_with(peer_ssid(rig.peer, level, credit));
        assert!(matches!(events.first(), Some(Event::Connected { .. })), "{events:?}");
    };
    match st {
        St::IWfRm | St::ANcOnly => {}
        St::IWfSsid => {
            rig.feed(&Command::Ssrm(Ssrm));
        }
        // §9.8 D (P11) and G (P9), then I, J, K in the RFC's order.
        St::WfSecd | St::WfAuch | St::WfAurp => {
            rig = auth_rig(role, level, credit).0;
            let (sent, events) = rig.connect_with(auth_ssid(rig.peer));
            assert!(events.is_empty(), "connected only after authentication: {events:?}");
            if role == Role::Initiator {
                assert_eq!(codes(&sent), [C::Secd]);
                if st != St::WfAuch {
                    assert_eq!(codes(&rig.feed_code(C::Auch).0), [C::Aurp]);
                }
                if st == St::WfAurp {
                    assert_eq!(codes(&rig.feed_code(C::Secd).0), [C::Auch]);
                }
            } else {
                assert_eq!(codes(&sent), [C::Ssid]);
                if st != St::WfSecd {
                    assert_eq!(codes(&rig.feed_code(C::Secd).0), [C::Auch]);
                }
                if st == St::WfAuch {
                    assert_eq!(codes(&rig.feed_code(C::Aurp).0), [C::Secd]);
                }
            }
        }
        St::IdleLi if role == Role::Responder => connect(&mut rig),
        St::IdleLi => {
            // The Initiator becomes Listener after EFPA with CD requested.
            rig = reach_at(role, St::Clop, level);
            let (sent, _) = rig.feed(&Command::Efpa(Efpa { change_direction: true }));
            assert_eq!(codes(&sent), [CommandCode::Cd]);
        }
        St::IdleLiCd if role == Role::Initiator => {
            connect(&mut rig);
            assert_eq!(codes(&rig.sent).last(), Some(&CommandCode::Cd));
        }
        St::IdleLiCd => {
            rig = reach_at(role, St::WfRtr, level);
            let (sent, _) = rig.feed(&Command::Rtr);
            assert_eq!(codes(&sent), [CommandCode::Cd]);
        }
        St::Opop | St::Opo | St::Opowfc | St::Clop | St::WfRtr => {
            if st == St::WfRtr {
                rig.queue_receipt();
            } else {
                rig.queue_file();
            }
            connect(&mut rig);
            if role == Role::Responder {
                // The Initiator gives the turn away.
                rig.feed(&Command::Cd);
            }
            let first = if st == St::WfRtr { CommandCode::Eerp } else { CommandCode::Sfid };
            assert_eq!(codes(&rig.sent).last(), Some(&first));
            if matches!(st, St::Opo | St::Opowfc | St::Clop) {
                let (_, events) =
                    rig.feed(&Command::Sfpa(Sfpa { answer_count: RestartPosition::ZERO }));
                assert_eq!(names(&events), ["FileAccepted"], "{events:?}");
            }
            match st {
                St::Opowfc => {
                    rig.s.push_data(&[b'x'; 1000]).unwrap();
                    let (sent, _) = rig.drain();
                    assert_eq!(codes(&sent), [CommandCode::Data]);
                }
                St::Clop => {
                    rig.s.push_data(b"abc").unwrap();
                    rig.s.finish_data().unwrap();
                    let (sent, _) = rig.drain();
                    assert_eq!(codes(&sent), [CommandCode::Data, CommandCode::Efid]);
                }
                _ => {}
            }
        }
        St::Opip | St::Opi | St::Clip | St::WfCd | St::Rtrp => {
            let idle = if role == Role::Initiator { St::IdleLiCd } else { St::IdleLi };
            rig = reach_at(role, idle, level);
            if st == St::Rtrp {
                rig.feed_code(CommandCode::Eerp);
            } else {
                rig.feed_code(CommandCode::Sfid);
                if st != St::Opip {
                    rig.s.accept_file(Counts::default()).unwrap();
                    rig.drain();
                }
                if matches!(st, St::Clip | St::WfCd) {
                    rig.feed(&Command::Data(Data { payload: Bytes::from_static(b"\x83abc") }));
                    let efid = Efid {
                        record_count: RecordCount::new(0).unwrap(),
                        unit_count: UnitCount::new(3).unwrap(),
                    };
                    let (_, events) = rig.feed(&Command::Efid(efid));
                    assert_eq!(names(&events), ["EndOfFile"]);
                }
                if st == St::WfCd {
                    rig.queue_receipt();
                    rig.s.file_closed(Ok(())).unwrap();
                    let (sent, _) = rig.drain();
                    assert_eq!(sent, [Command::Efpa(Efpa { change_direction: true })]);
                }
            }
        }
        St::Closed => {
            rig.s.abort(EsidReason::RESOURCES_NOT_AVAILABLE, "closing");
            rig.drain();
        }
    }
    assert_in(&rig, st, &format!("{role:?} reaching {}", st.rfc()));
    rig.sent.clear();
    rig.events.clear();
    rig
}

// ------------------------------------------------------------------ expectations

/// What RFC 5024 §9 (and the engine's documented choices) say a state does with a
/// command.
#[derive(Debug, PartialEq)]
enum Expect {
    /// A valid transition: the next state, what is sent, what is reported.
    Next(St, &'static [CommandCode], &'static [&'static str]),
    /// The session ends with our ESID of this reason.
    Abort(EsidReason),
    /// The peer's ESID ends the session; `normal` only where it is a release.
    PeerEnd { normal: bool },
    /// Unsolicited CD with nothing to send: our ESID 00 (§3.4.1 loop guard).
    NormalEnd,
}

use CommandCode as C;

fn expect(role: Role, st: St, code: CommandCode, level: ProtocolLevel) -> Expect {
    if st == St::Closed {
        // Nothing more is read once the session has ended.
        return Expect::Next(St::Closed, &[], &[]);
    }
    if level < ProtocolLevel::V2_0 && matches!(code, C::Secd | C::Auch | C::Aurp) {
        // §9.9 "Invalid Buffer" (I): ESID(R=01), the command does not exist at the level.
        return Expect::Abort(EsidReason::COMMAND_NOT_RECOGNISED);
    }
    match (st, code) {
        // §9.9/§9.8 ESID row: F or D, an abort, except ESID 00 in IDLELICD (§9.12 F,
        // F_RELEASE_IND, line 5188). In I_WF_RM and A_NC_ONLY the table says X (impossible); the
        // engine ends the session as in F.
        (_, C::Esid) => Expect::PeerEnd { normal: st == St::IdleLiCd },
        // §9.8 H.
        (St::IWfRm, C::Ssrm) => Expect::Next(St::IWfSsid, &[C::Ssid], &[]),
        // §9.8 D (P2 & P8 & !P11): IDLESP; with nothing to send, CD (§9.10 D).
        (St::IWfSsid, C::Ssid) => Expect::Next(St::IdleLiCd, &[C::Cd], &["Connected"]),
        // §9.8 E then G: the engine answers F_CONNECT_RS itself.
        (St::ANcOnly, C::Ssid) => Expect::Next(St::IdleLi, &[C::Ssid], &["Connected"]),
        // §9.8 I: P5 (Initiator) WF_SECD; !P5 (Responder) IDLELI, authenticated both ways.
        (St::WfAuch, C::Auch) if role == Role::Initiator => {
            Expect::Next(St::WfSecd, &[C::Aurp], &[])
        }
        (St::WfAuch, C::Auch) => Expect::Next(St::IdleLi, &[C::Aurp], &["Connected"]),
        // §9.8 J.
        (St::WfSecd, C::Secd) => Expect::Next(St::WfAurp, &[C::Auch], &[]),
        // §9.8 K (the matrix's AURP holds the challenge): P6 IDLESP, then CD (nothing to
        // send); P7 SECD, WF_AUCH.
        (St::WfAurp, C::Aurp) if role == Role::Initiator => {
            Expect::Next(St::IdleLiCd, &[C::Cd], &["Connected"])
        }
        (St::WfAurp, C::Aurp) => Expect::Next(St::WfAuch, &[C::Secd], &[]),
        // §9.12 A (!P1).
        (St::IdleLi | St::IdleLiCd, C::Sfid) => Expect::Next(St::Opip, &[], &["StartFileRequest"]),
        // §9.12 E, L.
        (St::IdleLi | St::IdleLiCd, C::Eerp | C::Nerp) => {
            Expect::Next(St::Rtrp, &[], &["ReceiptReceived"])
        }
        // §9.12 C: IDLESPCD, and with nothing to send F_RELEASE_RQ(Ok), §9.10 E: ESID 00.
        (St::IdleLi, C::Cd) => Expect::NormalEnd,
        // §9.12 I (!P6, !P7): one buffer of a window of 2, no CDT yet.
        (St::Opi, C::Data) => Expect::Next(St::Opi, &[], &["FileData"]),
        // §9.12 J.
        (St::Opi, C::Efid) => Expect::Next(St::Clip, &[], &["EndOfFile"]),
        // §9.10 R: CD in WF_CD with an EERP stored.
        (St::WfCd, C::Cd) => Expect::Next(St::WfRtr, &[C::Eerp], &[]),
        // §9.10 K (!P2).
        (St::Opop, C::Sfpa) => Expect::Next(St::Opo, &[], &["FileAccepted"]),
        // §9.10 L: IDLESP, then CD (nothing left to send).
        (St::Opop, C::Sfna) => Expect::Next(St::IdleLiCd, &[C::Cd], &["FileRefused"]),
        // §9.10 O: OPO; the buffers waiting for credit go out (§9.10 M, P3: OPOWFC again).
        (St::Opowfc, C::Cdt) => Expect::Next(St::Opowfc, &[C::Data], &[]),
        // §9.11 C (!P1): IDLESP, then CD.
        (St::Clop, C::Efpa) => Expect::Next(St::IdleLiCd, &[C::Cd], &["FileSent"]),
        // §9.11 D.
        (St::Clop, C::Efna) => Expect::Next(St::IdleLiCd, &[C::Cd], &["FileRejected"]),
        // §9.10 N.
        (St::WfRtr, C::Rtr) => Expect::Next(St::IdleLiCd, &[C::Cd], &["ReceiptDelivered"]),
        // Everything else: §9.10 C, §9.11 B, §9.12 B, §9.8 L: ESID(R=02). Where §9.8 has
        // X (SSRM after I_WF_RM, line 4572; SSID in I_WF_RM, line 4574) or F (SSID in
        // "Other States": abort without ESID, lines 4574, 4622), and U (AUCH/AURP/SECD
        // outside the authentication states), the engine deliberately answers ESID 02
        // too, as issue 3 requires for every command not valid in the state. In the
        // authentication states §9.8 says L (ESID 02) for SSRM, SSID and the wrong one
        // of SECD/AUCH/AURP; other commands do not belong to the Start Session phase.
        // CD in IDLELICD is B (line 5186): ESID 02, not a release.
        _ => Expect::Abort(EsidReason::PROTOCOL_VIOLATION),
    }
}

fn cell(expect: &Expect) -> String {
    match expect {
        Expect::Next(St::Closed, ..) => "-".into(),
        Expect::Next(next, sent, _) => {
            let short = match next {
                St::IdleLiCd if sent.contains(&C::Cd) => "SP>CD",
                other => other.rfc(),
            };
            short.to_owned()
        }
        Expect::Abort(reason) => format!("E{:02}", reason.value()),
        Expect::PeerEnd { normal: true } => "rel".into(),
        Expect::PeerEnd { normal: false } => "abrt".into(),
        Expect::NormalEnd => "E00".into(),
    }
}

/// Feeds `code` to `rig` and checks the reaction against `expect`.
fn check(rig: &mut Rig, st: St, code: CommandCode, expect: &Expect, level: ProtocolLevel) {
    let context = format!("{:?} in {} <- {code}", rig.role, st.rfc());
    let incoming = matches!(st, St::Opip | St::Opi);
    let command = instance(code, rig.peer, rig.us);
    // The commands of 2.0 only are encoded at 2.0 and fed to a 1.x engine as they are.
    let wire = if level < ProtocolLevel::V2_0 && !matches!(code, C::Secd | C::Auch | C::Aurp) {
        level
    } else {
        ProtocolLevel::V2_0
    };
    let command = match (code, command) {
        (C::Ssid, Command::Ssid(mut ssid)) => {
            ssid.level = level;
            Command::Ssid(ssid)
        }
        (_, command) => command,
    };
    let (sent, events) = rig.feed_at(&command, wire);
    match expect {
        Expect::Next(next, want_sent, want_events) => {
            assert_eq!(codes(&sent), *want_sent, "{context}: sent {sent:?}");
            assert_eq!(names(&events), *want_events, "{context}: events {events:?}");
            assert_in(rig, *next, &context);
            if matches!(next, St::IdleLi | St::IdleLiCd) {
                // The two Listener states look alike from outside; an ESID 00 tells them
                // apart (§9.12 D and F).
                let (_, events) = rig.feed(&Command::Esid(Esid::normal()));
                let normal =
                    matches!(events.last(), Some(Event::Closed { end: SessionEnd::Normal }));
                assert_eq!(normal, *next == St::IdleLiCd, "{context}: {events:?}");
            }
        }
        Expect::Abort(reason) => {
            let mut want = if incoming { vec!["IncomingFileFailed"] } else { vec![] };
            want.push("Closed");
            assert_eq!(names(&events), want, "{context}: events {events:?}");
            assert_ended(rig, &sent, &events, *reason, &context);
        }
        Expect::PeerEnd { normal } => {
            assert!(sent.is_empty(), "{context}: nothing is answered to ESID: {sent:?}");
            let mut want = if incoming { vec!["IncomingFileFailed"] } else { vec![] };
            want.push("Closed");
            assert_eq!(names(&events), want, "{context}: events {events:?}");
            let end = match events.last() {
                Some(Event::Closed { end }) => end.clone(),
                other => panic!("{context}: {other:?}"),
            };
            if *normal {
                assert_eq!(end, SessionEnd::Normal, "{context}");
            } else {
                let remote_normal = SessionEnd::Remote {
                    reason: EsidReason::NORMAL_TERMINATION,
                    text: String::new(),
                };
                assert_eq!(end, remote_normal, "{context}: ESID 00 outside IDLELICD aborts");
            }
            assert_in(rig, St::Closed, &context);
        }
        Expect::NormalEnd => {
            assert_eq!(sent, [Command::Esid(Esid::normal())], "{context}: never CD");
            assert_eq!(names(&events), ["Closed"], "{context}");
            assert!(
                matches!(events.last(), Some(Event::Closed { end: SessionEnd::Normal })),
                "{context}: {events:?}"
            );
            assert_in(rig, St::Closed, &context);
        }
    }
}

fn matrix(level: ProtocolLevel) -> String {
    let mut table = String::from(
        "cells: next state | SP>CD: IDLESP, CD sent, IDLELICD | Enn: we send ESID nn and \
         close | abrt/rel: the peer's ESID 00 aborts/releases | -: closed, ignored\n",
    );
    let _ = write!(table, "{:<14}", format!("{level}"));
    for code in CommandCode::ALL {
        let _ = write!(table, "{:>9}", code.to_string());
    }
    let _ = writeln!(table, "{:>9}{:>9}", "TIME-OUT", "abort");
    let mut checked = 0;
    for role in [Role::Initiator, Role::Responder] {
        for st in St::ALL {
            if !st.exists_for(role) || !st.exists_at(level) {
                continue;
            }
            let tag = if role == Role::Initiator { "I" } else { "R" };
            let _ = write!(table, "{:<14}", format!("{tag} {}", st.rfc()));
            for code in CommandCode::ALL {
                let mut rig = reach_at(role, st, level);
                let expect = expect(role, st, code, level);
                check(&mut rig, st, code, &expect, level);
                checked += 1;
                let _ = write!(table, "{:>9}", cell(&expect));
            }
            // §9.9 TIME-OUT (line 4732, transition B line 4773) only has F_ABORT_IND and
            // N_DISC_RQ; the engine deliberately sends ESID 09 first, as issue 3 asks.
            let mut rig = reach_at(role, st, level);
            let deadline = rig.s.poll_timeout();
            if st == St::Closed {
                assert_eq!(deadline, None);
                let _ = writeln!(table, "{:>9}{:>9}", "-", abort_cell(role, st, level));
                continue;
            }
            let deadline = deadline.unwrap();
            rig.s.handle_timeout(deadline - Duration::from_millis(1));
            let (sent, _) = rig.drain();
            assert!(sent.is_empty(), "{role:?} {}: not yet", st.rfc());
            assert_in(&rig, st, "before the deadline");
            rig.s.handle_timeout(deadline);
            let (sent, events) = rig.drain();
            assert!(
                matches!(&sent[..], [Command::Esid(e)] if e.reason == EsidReason::TIME_OUT),
                "{role:?} {}: {sent:?}",
                st.rfc()
            );
            assert!(matches!(
                events.last(),
                Some(Event::Closed { end: SessionEnd::Local { reason: EsidReason::TIME_OUT, .. } })
            ));
            assert_in(&rig, St::Closed, "after the timeout");
            let _ = writeln!(table, "{:>9}{:>9}", "E09", abort_cell(role, st, level));
        }
    }
    assert!(checked > 500, "{checked}");
    table
}

/// F_ABORT_RQ / F_RELEASE_RQ(Err) (§9.10 Q, §9.9 C): ESID with the application's
/// reason in every open state; nothing once closed.
fn abort_cell(role: Role, st: St, level: ProtocolLevel) -> &'static str {
    let mut rig = reach_at(role, st, level);
    rig.s.abort(EsidReason::RESOURCES_NOT_AVAILABLE, "no room");
    let (sent, events) = rig.drain();
    if st == St::Closed {
        assert!(sent.is_empty() && events.is_empty(), "{sent:?} {events:?}");
        return "-";
    }
    let mut want =
        if matches!(st, St::Opip | St::Opi) { vec!["IncomingFileFailed"] } else { vec![] };
    want.push("Closed");
    assert_eq!(names(&events), want, "abort in {role:?} {}", st.rfc());
    assert_ended(&rig, &sent, &events, EsidReason::RESOURCES_NOT_AVAILABLE, "abort");
    "E08"
}

#[test]
fn every_state_times_every_command_at_2_0() {
    println!("{}", matrix(ProtocolLevel::V2_0));
}

#[test]
fn every_state_times_every_command_at_1_4() {
    // SECD, AUCH and AURP do not exist before 2.0: ESID 01 in every state.
    println!("{}", matrix(ProtocolLevel::V1_4));
}

// ------------------------------------------------------------------ requests

/// The application requests that depend on the state, and the states where §9.10-§9.12
/// allow them (F_START_FILE_RS in OPIP, F_DATA_RQ and F_CLOSE_FILE_RQ in OPO, and in
/// OPOWFC where the engine keeps them until credit comes (§9.11 Note 1), F_CLOSE_FILE_RS
/// in CLIP, F_RTR_RS in RTRP).
const REQUESTS: [(&str, &[St]); 6] = [
    ("accept_file", &[St::Opip]),
    ("refuse_file", &[St::Opip]),
    ("push_data", &[St::Opo, St::Opowfc]),
    ("finish_data", &[St::Opo, St::Opowfc]),
    ("file_closed", &[St::Clip]),
    ("receipt_processed", &[St::Rtrp]),
];

fn request(rig: &mut Rig, name: &str) -> Result<(), ApiError> {
    match name {
        "accept_file" => rig.s.accept_file(Counts::default()).map(|_| ()),
        "refuse_file" => rig.s.refuse_file(SfnaReason::DUPLICATE_FILE, false, "no"),
        "push_data" => rig.s.push_data(b"abc"),
        "finish_data" => rig.s.finish_data(),
        "file_closed" => rig.s.file_closed(Ok(())),
        "receipt_processed" => rig.s.receipt_processed(),
        other => panic!("{other}"),
    }
}

#[test]
fn requests_in_the_wrong_state_change_nothing() {
    let mut table = String::from("request           valid in (every other state: WrongState)\n");
    for (name, valid) in REQUESTS {
        let _ = writeln!(
            table,
            "{name:<18}{}",
            valid.iter().map(|s| s.rfc()).collect::<Vec<_>>().join(", ")
        );
        for role in [Role::Initiator, Role::Responder] {
            for st in St::ALL.into_iter().filter(|s| s.exists_for(role)) {
                let context = format!("{name} in {role:?} {}", st.rfc());
                let mut rig = reach(role, st);
                let result = request(&mut rig, name);
                let (sent, events) = rig.drain();
                if valid.contains(&st) {
                    assert_eq!(result, Ok(()), "{context}");
                    continue;
                }
                match st {
                    St::Closed => assert_eq!(result, Err(ApiError::Closed), "{context}"),
                    _ => assert!(
                        matches!(&result, Err(ApiError::WrongState { request, state })
                            if *request == name && *state == st.engine_name()),
                        "{context}: {result:?}"
                    ),
                }
                assert!(sent.is_empty() && events.is_empty(), "{context}: {sent:?} {events:?}");
                assert_in(&rig, st, &context);
            }
        }
    }
    println!("{table}");
}

#[test]
fn valid_requests_move_the_state() {
    for role in [Role::Initiator, Role::Responder] {
        // §9.12 H (P2): SFPA, OPI.
        let mut rig = reach(role, St::Opip);
        rig.s.accept_file(Counts::default()).unwrap();
        assert_eq!(codes(&rig.drain().0), [C::Sfpa]);
        assert_in(&rig, St::Opi, "accepted");
        // §9.12 H (!P2): SFNA, IDLELI.
        let mut rig = reach(role, St::Opip);
        rig.s.refuse_file(SfnaReason::DUPLICATE_FILE, true, "later").unwrap();
        let (sent, _) = rig.drain();
        assert!(matches!(&sent[..], [Command::Sfna(s)] if s.retry), "{sent:?}");
        assert_in(&rig, St::IdleLi, "refused");
        // §9.12 K (P2 & !P3): EFPA without CD request, IDLELI; and (!P2): EFNA.
        let mut rig = reach(role, St::Clip);
        rig.s.file_closed(Ok(())).unwrap();
        assert_eq!(rig.drain().0, [Command::Efpa(Efpa { change_direction: false })]);
        assert_in(&rig, St::IdleLi, "stored");
        let mut rig = reach(role, St::Clip);
        rig.s.file_closed(Err((EfnaReason::ACCESS_METHOD_FAILURE, "disk".into()))).unwrap();
        assert_eq!(codes(&rig.drain().0), [C::Efna]);
        assert_in(&rig, St::IdleLi, "not stored");
        // §9.12 M: RTR, IDLELI.
        let mut rig = reach(role, St::Rtrp);
        rig.s.receipt_processed().unwrap();
        assert_eq!(rig.drain().0, [Command::Rtr]);
        assert_in(&rig, St::IdleLi, "recorded");
        // §9.10 M (!P3): DATA, OPO; §9.11 A: EFID, CLOP.
        let mut rig = reach(role, St::Opo);
        rig.s.push_data(b"abc").unwrap();
        rig.s.finish_data().unwrap();
        assert_eq!(codes(&rig.drain().0), [C::Data, C::Efid]);
        assert_in(&rig, St::Clop, "finished");
    }
}

#[test]
fn efid_is_never_sent_in_opowfc() {
    // §9.11 Note 1: F_CLOSE_FILE_RQ in OPOWFC must not produce EFID before credit comes.
    for role in [Role::Initiator, Role::Responder] {
        let mut rig = reach(role, St::Opowfc);
        rig.s.finish_data().unwrap();
        let (sent, _) = rig.drain();
        assert!(sent.is_empty(), "{sent:?}");
        assert_in(&rig, St::Opowfc, "finished without credit");
        let mut cdts = 0;
        loop {
            // Window 1: each CDT releases one DATA; EFID only when credit is left over.
            let (sent, _) = rig.feed(&Command::Cdt);
            cdts += 1;
            assert!(cdts < 20, "EFID never came");
            match codes(&sent)[..] {
                [C::Data] => assert_in(&rig, St::Opowfc, "window 1"),
                [] => {
                    // The last DATA went out: credit 1 left, but EFID needs F_CLOSE_FILE.
                    panic!("finish_data was called already: {sent:?}")
                }
                [C::Efid] => break assert_in(&rig, St::Clop, "EFID after CDT"),
                ref other => panic!("{other:?}"),
            }
        }
        assert!(cdts > 1, "1000 octets take several buffers of {BUFFER}");
    }
}

// ------------------------------------------------------------------ predicates

/// Asserts that the last input ended the session with our ESID `reason`.
fn assert_ended(rig: &Rig, sent: &[Command], events: &[Event], reason: EsidReason, what: &str) {
    assert!(
        matches!(sent, [Command::Esid(e)] if e.reason == reason),
        "{what}: want ESID {reason}, sent {sent:?}"
    );
    let end = match events.last() {
        Some(Event::Closed { end: SessionEnd::Local { reason, .. } }) => Some(*reason),
        _ => None,
    };
    assert_eq!(end, Some(reason), "{what}: {events:?}");
    assert_in(rig, St::Closed, what);
}

fn new_rig(role: Role, configure: impl FnOnce(&mut Config)) -> Rig {
    let (own, peer) = if role == Role::Initiator { (A, B) } else { (B, A) };
    let mut config = config(own, peer, ProtocolLevel::V2_0, WINDOW);
    configure(&mut config);
    match role {
        Role::Initiator => Rig::initiator(config),
        Role::Responder => Rig::responder(config),
    }
}

fn idle_listener(role: Role) -> St {
    if role == Role::Initiator {
        St::IdleLiCd
    } else {
        St::IdleLi
    }
}

#[test]
fn sfid_restart_needs_agreed_restart() {
    for role in [Role::Initiator, Role::Responder] {
        // §9.12 P1: SFIDREST > 0 while restart was not agreed: ESID(R=02).
        let mut rig = new_rig(role, |_| {});
        let ssid = Ssid { restart: false, ..peer_ssid(rig.peer, ProtocolLevel::V2_0, WINDOW) };
        rig.connect_with(ssid);
        assert_in(&rig, idle_listener(role), "connected without restart");
        let restarted = Sfid { restart_position: RestartPosition::new(5).unwrap(), ..sfid(B, A) };
        let (sent, events) = rig.feed(&Command::Sfid(restarted.clone()));
        assert_ended(&rig, &sent, &events, EsidReason::PROTOCOL_VIOLATION, "SFIDREST 5");

        // With restart agreed the same SFID is a request (§9.12 A, !P1).
        let mut rig = reach(role, idle_listener(role));
        let (sent, events) = rig.feed(&Command::Sfid(restarted));
        assert!(sent.is_empty(), "{sent:?}");
        assert_eq!(names(&events), ["StartFileRequest"]);
        assert_in(&rig, St::Opip, "restart agreed");
    }
}

#[test]
fn sfpa_beyond_the_requested_restart_position() {
    for role in [Role::Initiator, Role::Responder] {
        // §9.10 K, P2: SFPAACNT > SFIDREST (0 here).
        let mut rig = reach(role, St::Opop);
        let sfpa = Sfpa { answer_count: RestartPosition::new(1).unwrap() };
        let (sent, events) = rig.feed(&Command::Sfpa(sfpa));
        assert_ended(&rig, &sent, &events, EsidReason::PROTOCOL_VIOLATION, "SFPAACNT 1 > 0");

        // A file offered with SFIDREST 10 (1K blocks for a U file, §5.3.3): SFPAACNT 11
        // breaks P2, 10 resumes there.
        for (answer, ok) in [(11, false), (10, true)] {
            let mut rig = new_rig(role, |_| {});
            let file = Sfid { restart_position: RestartPosition::new(10).unwrap(), ..sfid(A, B) };
            let file = Sfid { file_size: file_size(20), ..file };
            rig.s.queue_file(Token(1), file.clone(), settings_for(&file, TextLines::KeepCrLf));
            rig.connect_with(peer_ssid(rig.peer, ProtocolLevel::V2_0, WINDOW));
            if role == Role::Responder {
                rig.feed(&Command::Cd);
            }
            let offered = rig.sent.iter().find_map(|c| match c {
                Command::Sfid(s) => Some(s.restart_position.get()),
                _ => None,
            });
            assert_eq!(offered, Some(10));
            let sfpa = Sfpa { answer_count: RestartPosition::new(answer).unwrap() };
            let (sent, events) = rig.feed(&Command::Sfpa(sfpa));
            if ok {
                assert!(sent.is_empty(), "{sent:?}");
                assert!(
                    matches!(&events[..], [Event::FileAccepted { position, feed_from: 10_240, .. }]
                        if position.get() == 10),
                    "{events:?}"
                );
                assert_in(&rig, St::Opo, "resumed at 10");
            } else {
                assert_ended(&rig, &sent, &events, EsidReason::PROTOCOL_VIOLATION, "11 > 10");
            }
        }
    }
}

#[test]
fn sfidrest_is_cleared_when_restart_was_not_agreed() {
    // §9.10 B, P1 (restart requested, not supported): the engine does not refuse the
    // request but offers the file from the start (documented on `Session::queue_file`).
    let mut rig = new_rig(Role::Initiator, |_| {});
    let file = Sfid { restart_position: RestartPosition::new(10).unwrap(), ..sfid(A, B) };
    rig.s.queue_file(Token(1), file.clone(), settings_for(&file, TextLines::KeepCrLf));
    let ssid = Ssid { restart: false, ..peer_ssid(B, ProtocolLevel::V2_0, WINDOW) };
    let (sent, _) = rig.connect_with(ssid);
    assert!(matches!(&sent[..], [Command::Sfid(s)] if s.restart_position.get() == 0), "{sent:?}");
}

#[test]
fn listener_credit() {
    // §9.12 I: P7 (credit exhausted) gives CDT with the DATA that exhausts it, so the
    // Speaker's next DATA is within the new credit. P6 (DATA beyond credit, ESID 02)
    // (line 5294) cannot be reached through this engine: it renews the credit at once (Note 1), and
    // a DATA after our CDT is within the window again.
    for role in [Role::Initiator, Role::Responder] {
        let mut rig = reach(role, St::Opi);
        let data = Command::Data(Data { payload: Bytes::from_static(b"\x83abc") });
        let mut cdts = Vec::new();
        for n in 1..=5 {
            let (sent, events) = rig.feed(&data);
            // Only credit is checked here: what the decoder makes of repeated
            // subrecords is the record tests' business; the session goes on.
            assert!(!names(&events).contains(&"Closed"), "DATA {n}: {sent:?} {events:?}");
            if !sent.is_empty() {
                assert_eq!(sent, [Command::Cdt]);
                cdts.push(n);
            }
        }
        assert_eq!(cdts, [2, 4], "a CDT after every {WINDOW} DATA");
        assert_in(&rig, St::Opi, "within credit");
    }
}

#[test]
fn cd_loop_guard() {
    for role in [Role::Initiator, Role::Responder] {
        // §3.4.1 / §9.12 C then §9.10 E: with nothing to send, an unsolicited CD is
        // answered with ESID 00 (never CD): matrix cell IDLELI x CD.
        let mut rig = reach(role, St::IdleLi);
        let (sent, _) = rig.feed(&Command::Cd);
        assert_eq!(sent, [Command::Esid(Esid::normal())]);

        // With something to send the new Speaker sends it (§9.10 I, R), and when done
        // gives the turn back (§9.10 D): that CD ends in IDLELICD, where a CD from the
        // peer would start a loop and is a protocol violation (§9.12 B).
        let mut rig = reach(role, St::IdleLi);
        rig.queue_receipt();
        let (sent, _) = rig.feed(&Command::Cd);
        assert_eq!(codes(&sent), [C::Eerp]);
        let (sent, _) = rig.feed(&Command::Rtr);
        assert_eq!(sent, [Command::Cd]);
        assert_in(&rig, St::IdleLiCd, "turn given back");
        let (sent, events) = rig.feed(&Command::Cd);
        assert_ended(&rig, &sent, &events, EsidReason::PROTOCOL_VIOLATION, "CD in IDLELICD");

        let mut rig = reach(role, St::IdleLi);
        rig.queue_file();
        let (sent, _) = rig.feed(&Command::Cd);
        assert_eq!(codes(&sent), [C::Sfid]);
        assert_in(&rig, St::Opop, "file offered after CD");
    }
}

#[test]
fn efpa_with_cd_requested() {
    for role in [Role::Initiator, Role::Responder] {
        // §9.11 C (P1): F_CLOSE_FILE_CF(+, SP=No), CD, IDLELI.
        let mut rig = reach(role, St::Clop);
        let (sent, events) = rig.feed(&Command::Efpa(Efpa { change_direction: true }));
        assert_eq!(sent, [Command::Cd]);
        assert_eq!(names(&events), ["FileSent"]);
        assert_in(&rig, St::IdleLi, "CD sent on request");
        // IDLELI, not IDLELICD: an ESID 00 here is an abort (§9.12 D).
        let (_, events) = rig.feed(&Command::Esid(Esid::normal()));
        assert!(
            matches!(events.last(), Some(Event::Closed { end: SessionEnd::Remote { .. } })),
            "{events:?}"
        );

        // The Listener asks for the turn when it owes a receipt (§9.12 K, P3) and sends
        // the receipt once CD comes (§9.10 R): reached in `reach(.., WfCd)`, and the
        // matrix cell WF_CD x CD.
        let mut rig = reach(role, St::WfCd);
        let (sent, _) = rig.feed(&Command::Cd);
        assert_eq!(codes(&sent), [C::Eerp]);
    }
}

#[test]
fn esid_with_an_error_reason_is_an_abort_even_after_our_cd() {
    // §9.12 D for "ESID R=Error" in IDLELICD.
    let mut rig = reach(Role::Initiator, St::IdleLiCd);
    let (sent, events) =
        rig.feed(&Command::Esid(Esid::new(EsidReason::RESOURCES_NOT_AVAILABLE, "busy")));
    assert!(sent.is_empty());
    assert!(
        matches!(events.last(), Some(Event::Closed { end: SessionEnd::Remote { reason, .. } })
            if *reason == EsidReason::RESOURCES_NOT_AVAILABLE),
        "{events:?}"
    );
    assert_in(&rig, St::Closed, "aborted by the peer");
}

#[test]
fn ssid_negotiation_failures() {
    const C3: &str = "O0013000000000000003";
    type Case = (&'static str, fn(&mut Config), fn(Ssid) -> Ssid, EsidReason);
    let cases: [Case; 9] = [
        // The Initiator checks the Responder's answer (§9.8 D, else: ESID 10; P8: 12).
        (
            "I: other code",
            |_| {},
            |s| Ssid { code: C3.parse().unwrap(), ..s },
            EsidReason::USER_CODE_NOT_KNOWN,
        ),
        (
            "I: wrong password",
            |_| {},
            |s| Ssid { password: "WRONG".parse().unwrap(), ..s },
            EsidReason::INVALID_PASSWORD,
        ),
        (
            "I: larger buffer",
            |_| {},
            |s| Ssid { buffer_size: BufferSize::new(BUFFER + 1).unwrap(), ..s },
            EsidReason::MODE_OR_CAPABILITIES_INCOMPATIBLE,
        ),
        (
            "I: larger credit",
            |_| {},
            |s| Ssid { credit: Credit::new(WINDOW + 1).unwrap(), ..s },
            EsidReason::MODE_OR_CAPABILITIES_INCOMPATIBLE,
        ),
        (
            "I: authentication",
            |_| {},
            |s| Ssid { secure_authentication: true, ..s },
            EsidReason::SECURE_AUTHENTICATION_REQUIREMENTS_INCOMPATIBLE,
        ),
        // The Responder checks the Initiator's SSID (§9.8 E, P4; G: 10, !P10: 12).
        (
            "R: unknown code",
            |_| {},
            |s| Ssid { code: C3.parse().unwrap(), ..s },
            EsidReason::USER_CODE_NOT_KNOWN,
        ),
        (
            "R: wrong password",
            |_| {},
            |s| Ssid { password: "WRONG".parse().unwrap(), ..s },
            EsidReason::INVALID_PASSWORD,
        ),
        (
            "R: authentication",
            |_| {},
            |s| Ssid { secure_authentication: true, ..s },
            EsidReason::SECURE_AUTHENTICATION_REQUIREMENTS_INCOMPATIBLE,
        ),
        (
            "R: both send only",
            |c| c.send_receive = SendReceive::SendOnly,
            |s| Ssid { send_receive: SendReceive::SendOnly, ..s },
            EsidReason::MODE_OR_CAPABILITIES_INCOMPATIBLE,
        ),
    ];
    for (what, configure, alter, reason) in cases {
        let role = if what.starts_with('I') { Role::Initiator } else { Role::Responder };
        let mut rig = new_rig(role, configure);
        let ssid = alter(peer_ssid(rig.peer, ProtocolLevel::V2_0, WINDOW));
        let (sent, events) = rig.connect_with(ssid);
        assert_ended(&rig, &sent, &events, reason, what);
        assert!(!events.iter().any(|e| matches!(e, Event::Connected { .. })), "{what}");
    }
    // The Initiator's mode check: both sides send only.
    let mut rig = new_rig(Role::Initiator, |c| c.send_receive = SendReceive::SendOnly);
    let ssid =
        Ssid { send_receive: SendReceive::SendOnly, ..peer_ssid(B, ProtocolLevel::V2_0, WINDOW) };
    let (sent, events) = rig.connect_with(ssid);
    assert_ended(&rig, &sent, &events, EsidReason::MODE_OR_CAPABILITIES_INCOMPATIBLE, "I: modes");
}

#[test]
fn sfid_from_a_partner_that_may_not_send_gets_sfna_14() {
    // §9.12 P1 (V.Mode = Sender-only) prescribes ESID(R=02) for an SFID in IDLELI
    // (RFC 5024 lines 5281-5282). The engine deliberately answers SFNA 14 (file direction
    // refused) and stays Listener, so one refused file does not end a session that may
    // still carry receipts (module docs of `engine`).
    for role in [Role::Initiator, Role::Responder] {
        // The partner may only receive from us: we do not receive from it.
        let mut rig = new_rig(role, |c| c.partners[0].directions = SendReceive::ReceiveOnly);
        rig.connect_with(peer_ssid(rig.peer, ProtocolLevel::V2_0, WINDOW));
        assert_in(&rig, idle_listener(role), "connected, receiving nothing");
        let (sent, events) = rig.feed_code(C::Sfid);
        let refused = SfnaReason::FILE_DIRECTION_REFUSED;
        assert!(matches!(&sent[..], [Command::Sfna(s)] if s.reason == refused), "{sent:?}");
        assert!(
            matches!(&events[..], [Event::IncomingFileRefused { sfna, .. }] if sfna.reason == refused),
            "reported to the application as refused, not offered: {events:?}"
        );
        assert_in(&rig, St::IdleLi, "still Listener");
    }
}

// ------------------------------------------------------------------ secure authentication

fn connected_with_authentication(events: &[Event]) -> bool {
    matches!(events, [Event::Connected { negotiated, .. }] if negotiated.secure_authentication)
}

#[test]
fn secure_authentication_in_the_rfc_order() {
    // §4.2.4 step by step, each side played by the engine against a scripted peer.
    let peer_secret = [0x42; 20];
    let peer_challenge: Vec<u8> =
        peer_secret.iter().map(|b| b ^ engine_support::GOOD_MASK).collect();
    let auch_from_peer = Command::Auch(Auch { challenge: Bytes::from(peer_challenge) });
    let our_answer = |sent: &[Command]| match sent {
        [Command::Aurp(aurp)] => aurp.response,
        other => panic!("want AURP: {other:?}"),
    };
    let our_challenge = |sent: &[Command]| match sent {
        [Command::Auch(auch)] => auch.challenge.clone(),
        other => panic!("want AUCH: {other:?}"),
    };
    let expected_auch: Vec<u8> = SECRET.iter().map(|b| b ^ engine_support::GOOD_MASK).collect();

    // Initiator: SSID exchange, SECD; AUCH in, AURP out; SECD in, AUCH out; AURP in:
    // connected and first Speaker (the queued file's SFID goes out at once).
    let (mut rig, auth) = auth_rig(Role::Initiator, ProtocolLevel::V2_0, WINDOW);
    rig.queue_file();
    let (sent, _) = rig.feed(&Command::Ssrm(Ssrm));
    assert!(matches!(&sent[..], [Command::Ssid(s)] if s.secure_authentication), "{sent:?}");
    let (sent, events) = rig.feed(&Command::Ssid(auth_ssid(B)));
    assert_eq!(sent, [Command::Secd]);
    assert!(events.is_empty() && rig.s.negotiated().is_none(), "{events:?}");
    let (sent, events) = rig.feed(&auch_from_peer);
    assert_eq!(our_answer(&sent), peer_secret, "the challenge decrypted");
    assert!(events.is_empty());
    assert_in(&rig, St::WfSecd, "answered");
    let (sent, _) = rig.feed(&Command::Secd);
    assert_eq!(our_challenge(&sent), expected_auch);
    assert_in(&rig, St::WfAurp, "challenged");
    let (sent, events) = rig.feed(&Command::Aurp(Aurp { response: SECRET }));
    assert!(connected_with_authentication(&events), "{events:?}");
    assert_eq!(codes(&sent), [C::Sfid], "the Initiator speaks first");
    assert_eq!(auth.calls.get(), (1, 1), "one challenge, one decryption");

    // Responder: SSID in, SSID out; SECD in, AUCH out; AURP in, SECD out; AUCH in: AURP
    // out, connected and Listener.
    let (mut rig, auth) = auth_rig(Role::Responder, ProtocolLevel::V2_0, WINDOW);
    rig.queue_file();
    let (sent, events) = rig.connect_with(auth_ssid(A));
    assert!(matches!(&sent[..], [Command::Ssid(s)] if s.secure_authentication), "{sent:?}");
    assert!(events.is_empty());
    assert_in(&rig, St::WfSecd, "SSIDs exchanged");
    let (sent, _) = rig.feed(&Command::Secd);
    assert_eq!(our_challenge(&sent), expected_auch);
    let (sent, events) = rig.feed(&Command::Aurp(Aurp { response: SECRET }));
    assert_eq!(sent, [Command::Secd]);
    assert!(events.is_empty());
    let (sent, events) = rig.feed(&auch_from_peer);
    assert_eq!(our_answer(&sent), peer_secret);
    assert!(connected_with_authentication(&events), "{events:?}");
    assert_in(&rig, St::IdleLi, "the Responder listens; its file waits for CD");
    assert_eq!(auth.calls.get(), (1, 1));
    let (sent, _) = rig.feed(&Command::Cd);
    assert_eq!(codes(&sent), [C::Sfid]);
}

#[test]
fn a_wrong_challenge_response_is_esid_11() {
    for role in [Role::Initiator, Role::Responder] {
        let mut rig = reach(role, St::WfAurp);
        let mut wrong = SECRET;
        wrong[19] ^= 1;
        let (sent, events) = rig.feed(&Command::Aurp(Aurp { response: wrong }));
        assert_ended(&rig, &sent, &events, EsidReason::INVALID_CHALLENGE_RESPONSE, "AURP");
        assert!(!events.iter().any(|e| matches!(e, Event::Connected { .. })));
    }
}

#[test]
fn ssidauth_must_match_both_ways() {
    // §9.8 D (P2 & !P8) and G (!P10): ESID 12. We require it, the peer does not (the
    // other way round is in `ssid_negotiation_failures`).
    for role in [Role::Initiator, Role::Responder] {
        let (mut rig, auth) = auth_rig(role, ProtocolLevel::V2_0, WINDOW);
        let (sent, events) = rig.connect_with(peer_ssid(rig.peer, ProtocolLevel::V2_0, WINDOW));
        let incompatible = EsidReason::SECURE_AUTHENTICATION_REQUIREMENTS_INCOMPATIBLE;
        assert_ended(&rig, &sent, &events, incompatible, "SSIDAUTH N against our Y");
        assert_eq!(auth.calls.get(), (0, 0));
    }
    // A peer at 1.4 has no SSIDAUTH: with authentication required, ESID 12 too.
    let (mut rig, _) = auth_rig(Role::Responder, ProtocolLevel::V2_0, WINDOW);
    let (sent, events) = rig.connect_with(peer_ssid(A, ProtocolLevel::V1_4, WINDOW));
    let ended = |r| matches!(&sent[..], [Command::Esid(e)] if e.reason == r);
    assert!(ended(EsidReason::SECURE_AUTHENTICATION_REQUIREMENTS_INCOMPATIBLE), "{sent:?}");
    assert!(matches!(events.last(), Some(Event::Closed { .. })));
}

#[test]
fn authentication_we_cannot_do_is_esid_12() {
    let incompatible = EsidReason::SECURE_AUTHENTICATION_REQUIREMENTS_INCOMPATIBLE;
    // Configured, but no authenticator: the Initiator ends before its SSID goes out...
    let mut rig = new_rig(Role::Initiator, |c| c.partners[0].secure_authentication = true);
    let (sent, events) = rig.feed(&Command::Ssrm(Ssrm));
    assert_ended(&rig, &sent, &events, incompatible, "I: no authenticator");
    let text = match &sent[..] {
        [Command::Esid(e)] => e.text.as_str().to_owned(),
        _ => unreachable!(),
    };
    assert!(text.contains("no authenticator"), "{text}");
    // ... the Responder instead of its SSID.
    let mut rig = new_rig(Role::Responder, |c| c.partners[0].secure_authentication = true);
    let (sent, events) = rig.connect_with(auth_ssid(A));
    assert_ended(&rig, &sent, &events, incompatible, "R: no authenticator");

    // Configured at a level without SSIDAUTH.
    let (mut rig, _) = auth_rig(Role::Initiator, ProtocolLevel::V1_4, WINDOW);
    let (sent, events) = rig.feed(&Command::Ssrm(Ssrm));
    assert_ended(&rig, &sent, &events, incompatible, "I: level 1.4");
    let (mut rig, _) = auth_rig(Role::Responder, ProtocolLevel::V1_4, WINDOW);
    let (sent, events) = rig.connect_with(auth_ssid(A));
    let ended = |r| matches!(&sent[..], [Command::Esid(e)] if e.reason == r);
    assert!(ended(incompatible), "R: level 1.4: {sent:?}");
    assert!(matches!(events.last(), Some(Event::Closed { .. })));

    // The authenticator cannot make a challenge (no certificate for the partner, say).
    for role in [Role::Initiator, Role::Responder] {
        let mut rig = reach(role, St::WfSecd);
        let failing = FakeAuthenticator {
            fail_challenge: Some("no certificate for the partner"),
            ..FakeAuthenticator::new(SECRET)
        };
        rig.s.set_authenticator(failing.boxed());
        let (sent, events) = rig.feed(&Command::Secd);
        assert_ended(&rig, &sent, &events, incompatible, "challenge failed");
        assert!(
            matches!(&sent[..], [Command::Esid(e)] if e.text.as_str().contains("no certificate")),
            "{sent:?}"
        );
    }
}

#[test]
fn one_challenge_per_direction_per_session() {
    // The only AUCH each side decrypts is the one in WF_AUCH; any later AUCH (or SECD,
    // AURP) is ESID 02 without touching the authenticator.
    for role in [Role::Initiator, Role::Responder] {
        for code in [C::Auch, C::Secd, C::Aurp] {
            let (mut rig, auth) = auth_rig(role, ProtocolLevel::V2_0, WINDOW);
            rig.connect_with(auth_ssid(rig.peer));
            if role == Role::Initiator {
                rig.feed_code(C::Auch);
                rig.feed_code(C::Secd);
                let (_, events) = rig.feed_code(C::Aurp);
                assert!(connected_with_authentication(&events), "{events:?}");
            } else {
                rig.feed_code(C::Secd);
                rig.feed_code(C::Aurp);
                let (_, events) = rig.feed_code(C::Auch);
                assert!(connected_with_authentication(&events), "{events:?}");
            }
            assert_eq!(auth.calls.get(), (1, 1));
            let (sent, events) = rig.feed_code(code);
            let what = format!("{role:?}: {code} after authentication");
            assert_ended(&rig, &sent, &events, EsidReason::PROTOCOL_VIOLATION, &what);
            assert_eq!(auth.calls.get(), (1, 1), "{what}");
        }
    }
    // A second AUCH while the first answer's SECD is awaited (Initiator), and an AUCH
    // before our own challenge was answered (Responder): ESID 02 as well.
    for (role, st) in [(Role::Initiator, St::WfSecd), (Role::Responder, St::WfAurp)] {
        let mut rig = reach(role, st);
        let (sent, events) = rig.feed_code(C::Auch);
        let what = format!("{role:?}: AUCH in {}", st.rfc());
        assert_ended(&rig, &sent, &events, EsidReason::PROTOCOL_VIOLATION, &what);
    }
}

#[test]
fn timeout_while_authenticating() {
    // §9.9 TIME-OUT in WF_SECD, WF_AUCH, WF_AURP (also a column of the matrix): ESID 09.
    for role in [Role::Initiator, Role::Responder] {
        for st in [St::WfSecd, St::WfAuch, St::WfAurp] {
            let mut rig = reach(role, st);
            let deadline = rig.s.poll_timeout().unwrap();
            assert_eq!(deadline, rig.now + rig.s.idle_timeout(), "{role:?} {}", st.rfc());
            rig.s.handle_timeout(deadline);
            let (sent, events) = rig.drain();
            assert_ended(&rig, &sent, &events, EsidReason::TIME_OUT, st.rfc());
        }
    }
}

// ------------------------------------------------------------------ file security

#[test]
fn sfid_security_fields_against_the_partner_policy() {
    use oftp2_session::config::{FileSecurityPolicy, ServicePolicy};
    type Case = (&'static str, fn(&mut FileSecurityPolicy), fn(&mut Sfid), Option<u8>);
    fn secured(s: &mut Sfid, level: SecurityLevel, suite: CipherSuite) {
        s.security_level = level;
        s.cipher_suite = suite;
        s.enveloping = FileEnveloping::Cms;
    }
    let cases: [Case; 9] = [
        (
            "suite 07",
            |_| {},
            |s| secured(s, SecurityLevel::Encrypted, CipherSuite::new(7).unwrap()),
            Some(15),
        ),
        (
            "encrypted, no suite",
            |_| {},
            |s| secured(s, SecurityLevel::Encrypted, CipherSuite::NONE),
            Some(15),
        ),
        (
            "suite, no service",
            |_| {},
            |s| s.cipher_suite = CipherSuite::AES256_RSA_SHA256,
            Some(15),
        ),
        (
            "encrypted refused",
            |p| p.encryption = ServicePolicy::Refused,
            |s| secured(s, SecurityLevel::Encrypted, CipherSuite::AES256_RSA_SHA256),
            Some(16),
        ),
        ("unencrypted refused", |p| p.encryption = ServicePolicy::Required, |_| {}, Some(17)),
        (
            "compressed refused",
            |p| p.compression = ServicePolicy::Refused,
            |s| {
                s.compression = FileCompression::Zlib;
                s.enveloping = FileEnveloping::Cms;
            },
            Some(18),
        ),
        (
            "signed refused",
            |p| p.signing = ServicePolicy::Refused,
            |s| secured(s, SecurityLevel::Signed, CipherSuite::AES256_RSA_SHA512),
            Some(19),
        ),
        ("unsigned refused", |p| p.signing = ServicePolicy::Required, |_| {}, Some(20)),
        (
            "all required, all there",
            |p| {
                p.encryption = ServicePolicy::Required;
                p.signing = ServicePolicy::Required;
                p.compression = ServicePolicy::Required;
            },
            |s| {
                secured(s, SecurityLevel::EncryptedAndSigned, CipherSuite::AES256_RSA_SHA256);
                s.compression = FileCompression::Zlib;
            },
            None,
        ),
    ];
    for role in [Role::Initiator, Role::Responder] {
        for (what, policy, alter, reason) in cases {
            let mut rig = new_rig(role, |c| policy(&mut c.partners[0].file_security));
            rig.connect_with(peer_ssid(rig.peer, ProtocolLevel::V2_0, WINDOW));
            let mut file = sfid(rig.peer, rig.us);
            alter(&mut file);
            let (sent, events) = rig.feed(&Command::Sfid(file.clone()));
            let context = format!("{role:?}: {what}");
            match reason {
                Some(reason) => {
                    assert!(
                        matches!(&sent[..], [Command::Sfna(s)]
                            if s.reason.value() == reason && !s.retry && !s.text.is_empty()),
                        "{context}: {sent:?}"
                    );
                    assert!(
                        matches!(&events[..], [Event::IncomingFileRefused { sfid, sfna }]
                            if **sfid == file && Some(&Command::Sfna(sfna.clone())) == sent.first()),
                        "{context}: reported as refused, not offered: {events:?}"
                    );
                    assert_in(&rig, St::IdleLi, &context);
                }
                None => {
                    assert!(sent.is_empty(), "{context}: {sent:?}");
                    assert_eq!(names(&events), ["StartFileRequest"], "{context}");
                    assert_in(&rig, St::Opip, &context);
                }
            }
        }
    }
}

#[test]
fn efna_21_22_23_at_efid_then_the_nerp() {
    // §5.3.10: a completed secured file the application cannot verify, decrypt or
    // decompress is refused at EFID; its NERP (§5.3.14, queued by the driver) goes out
    // when the peer next gives us the turn.
    for role in [Role::Initiator, Role::Responder] {
        for reason in [
            EfnaReason::INVALID_FILE_SIGNATURE,
            EfnaReason::FILE_DECRYPTION_FAILURE,
            EfnaReason::FILE_DECOMPRESSION_FAILURE,
        ] {
            let mut rig = reach(role, St::Clip);
            rig.s.queue_receipt(Token(5), Receipt::Nerp(nerp(rig.us, rig.peer)));
            rig.s.file_closed(Err((reason, "the signature does not verify".into()))).unwrap();
            let (sent, _) = rig.drain();
            assert!(
                matches!(&sent[..], [Command::Efna(e)] if e.reason == reason),
                "{role:?} {reason}: {sent:?}"
            );
            assert_in(&rig, St::IdleLi, "refused at EFID");
            let (sent, _) = rig.feed(&Command::Cd);
            assert_eq!(codes(&sent), [C::Nerp], "{role:?} {reason}");
        }
    }
}
