//! Two engines talking to each other in memory, with a simulated clock: whole sessions,
//! negotiation at each level, restart, credit, refusals and the end of sessions; secure
//! authentication (with a deterministic fake authenticator) and secured files, which
//! travel as U.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a panic is a failure

mod engine_support;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use oftp2_codec::command::{Eerp, Sfid};
use oftp2_codec::fields::*;
use oftp2_codec::reason::{EsidReason, SfnaReason};
use oftp2_codec::record::{file_size, Counts, TextLines};
use oftp2_codec::{Command, ProtocolLevel};
use oftp2_session::config::{Config, Partner, TextLineHandling};
use oftp2_session::engine::{settings_for, Event, Receipt, Session, SessionEnd, Token};

use engine_support::FakeAuthenticator;

const A: &str = "O0013000000000000001";
const B: &str = "O0013000000000000002";

fn config(own: &str, peer: &str, level: ProtocolLevel, buffer: u32, credit: u64) -> Arc<Config> {
    let mut config = Config::new(own.parse().unwrap());
    config.level = level;
    config.buffer_size = BufferSize::new(u64::from(buffer)).unwrap();
    config.credit = Credit::new(credit).unwrap();
    config.compression = true;
    config.partners.push(partner(peer, own));
    Arc::new(config)
}

fn partner(peer: &str, own: &str) -> Partner {
    Partner {
        odette_id: peer.parse().unwrap(),
        password: format!("PW{}", &peer[19..]).parse().unwrap(),
        our_password: format!("PW{}", &own[19..]).parse().unwrap(),
        directions: SendReceive::Both,
        buffer_size: None,
        credit: None,
        text_lines: TextLineHandling::KeepCrLf,
        address: None,
        transport: Default::default(),
        secure_authentication: false,
        file_security: Default::default(),
    }
}

fn sfid(
    name: &str,
    from: &str,
    to: &str,
    format: RecordFormat,
    lrecl: u64,
    len: usize,
    counter: u16,
) -> Sfid {
    Sfid {
        dataset_name: name.parse().unwrap(),
        date: VirtualFileDate::new(2026, 11, 23).unwrap(),
        time: VirtualFileTime::new(15, 0, 0, counter).unwrap(),
        user_data: UserData::EMPTY,
        destination: to.parse().unwrap(),
        originator: from.parse().unwrap(),
        format,
        max_record_length: RecordLength::new(lrecl).unwrap(),
        file_size: file_size(len as u64),
        original_file_size: file_size(len as u64),
        restart_position: RestartPosition::ZERO,
        security_level: SecurityLevel::None,
        cipher_suite: CipherSuite::NONE,
        compression: FileCompression::None,
        enveloping: FileEnveloping::None,
        signed_eerp_request: false,
        description: Utf8Text::new("test file").unwrap(),
    }
}

/// A User Monitor: feeds files, keeps what arrives, answers receipts.
#[derive(Default)]
struct App {
    to_send: HashMap<Token, Vec<u8>>,
    feeding: Option<(Token, usize)>,
    chunk: usize,
    refuse: bool,
    incoming: Option<(Sfid, Vec<u8>)>,
    /// What an interrupted transfer left: kept across sessions for restart tests.
    partial: HashMap<String, Vec<u8>>,
    received: Vec<(Sfid, Vec<u8>)>,
    receipts: Vec<Receipt>,
    delivered: Vec<Token>,
    sent: Vec<Token>,
    refused: Vec<(Token, SfnaReason)>,
    failures: Vec<String>,
    end: Option<SessionEnd>,
    next_receipt: u64,
}

impl App {
    fn sender(files: Vec<(Token, Vec<u8>)>) -> Self {
        App { to_send: files.into_iter().collect(), chunk: 4096, ..App::default() }
    }

    fn handle(&mut self, session: &mut Session) {
        while let Some(event) = session.poll_event() {
            match event {
                Event::StartFileRequest { sfid } => {
                    if self.refuse {
                        session
                            .refuse_file(SfnaReason::DUPLICATE_FILE, false, "no thanks")
                            .unwrap();
                        continue;
                    }
                    let have = self.partial.remove(sfid.dataset_name.as_str()).unwrap_or_default();
                    let settings = settings_for(&sfid, TextLines::KeepCrLf);
                    let counts = counts_of(&settings, &have, sfid.format);
                    let start = session.accept_file(counts).unwrap();
                    let mut data = have;
                    data.truncate(start.octets as usize);
                    self.incoming = Some((*sfid, data));
                }
                Event::FileData { data, .. } => {
                    self.incoming.as_mut().unwrap().1.extend_from_slice(&data)
                }
                Event::EndOfFile { .. } => {
                    let (sfid, data) = self.incoming.take().unwrap();
                    self.next_receipt += 1;
                    let eerp = Eerp {
                        dataset_name: sfid.dataset_name,
                        date: sfid.date,
                        time: sfid.time,
                        user_data: sfid.user_data,
                        destination: sfid.originator,
                        originator: sfid.destination,
                        hash: Bytes::new(),
                        signature: Bytes::new(),
                    };
                    session.queue_receipt(Token(self.next_receipt), Receipt::Eerp(eerp));
                    self.received.push((sfid, data));
                    session.file_closed(Ok(())).unwrap();
                }
                Event::IncomingFileFailed { why, .. } => {
                    if let Some((sfid, data)) = self.incoming.take() {
                        self.partial.insert(sfid.dataset_name.as_str().to_owned(), data);
                    }
                    self.failures.push(why);
                }
                Event::ReceiptReceived { receipt } => {
                    self.receipts.push(*receipt);
                    session.receipt_processed().unwrap();
                }
                Event::FileAccepted { token, feed_from, .. } => {
                    self.feeding = Some((token, feed_from as usize))
                }
                Event::FileSent { token, .. } => self.sent.push(token),
                Event::FileRefused { token, sfna } => self.refused.push((token, sfna.reason)),
                Event::ReceiptDelivered { token } => self.delivered.push(token),
                Event::FileFailed { why, .. } => self.failures.push(why),
                Event::FileRejected { efna, .. } => {
                    self.failures.push(format!("EFNA {}: {}", efna.reason, efna.text))
                }
                Event::Closed { end } => self.end = Some(end),
                _ => {}
            }
        }
        while session.wants_data() {
            let (token, offset) = self.feeding.unwrap();
            let data = &self.to_send[&token];
            let end = (offset + self.chunk).min(data.len());
            session.push_data(&data[offset..end]).unwrap();
            self.feeding = Some((token, end));
            if end == data.len() {
                session.finish_data().unwrap();
                self.feeding = None;
            }
        }
    }
}

fn counts_of(
    settings: &oftp2_codec::record::FileSettings,
    have: &[u8],
    format: RecordFormat,
) -> Counts {
    match format {
        RecordFormat::Fixed => {
            let lrecl = settings.max_record_length.get().max(1);
            let records = have.len() as u64 / lrecl;
            Counts { records, octets: records * lrecl }
        }
        _ => Counts { records: 0, octets: have.len() as u64 },
    }
}

struct Pair {
    initiator: Session,
    responder: Session,
    init_app: App,
    resp_app: App,
    now: Instant,
    /// Stop delivering after this many buffers (a cut connection).
    cut_after: Option<usize>,
    /// Deliver nothing after this many buffers, with the connection open (a silent peer).
    silent_after: Option<usize>,
    delivered: usize,
    trace: Vec<(char, Command)>,
}

impl Pair {
    fn new(init_cfg: Arc<Config>, resp_cfg: Arc<Config>, init_app: App, resp_app: App) -> Self {
        let now = Instant::now();
        let partner = init_cfg.partners[0].clone();
        Pair {
            initiator: Session::initiator(init_cfg, partner, now),
            responder: Session::responder(resp_cfg, now),
            init_app,
            resp_app,
            now,
            cut_after: None,
            silent_after: None,
            delivered: 0,
            trace: Vec::new(),
        }
    }

    fn queue(&mut self, files: &[(Token, Sfid)]) {
        for (token, sfid) in files {
            self.initiator.queue_file(
                *token,
                sfid.clone(),
                settings_for(sfid, TextLines::KeepCrLf),
            );
        }
    }

    /// Both sides configured for secure authentication with these authenticators.
    fn authenticated(
        init_cfg: &Arc<Config>,
        resp_cfg: &Arc<Config>,
        init_auth: &FakeAuthenticator,
        resp_auth: &FakeAuthenticator,
        init_app: App,
        resp_app: App,
    ) -> Self {
        let with_auth = |cfg: &Arc<Config>| {
            let mut cfg = (**cfg).clone();
            cfg.partners[0].secure_authentication = true;
            Arc::new(cfg)
        };
        let mut pair = Pair::new(with_auth(init_cfg), with_auth(resp_cfg), init_app, resp_app);
        pair.initiator.set_authenticator(init_auth.boxed());
        pair.responder.set_authenticator(resp_auth.boxed());
        pair
    }

    /// Runs until both sides are closed and quiet; returns false if the step limit hit.
    fn run(&mut self) -> bool {
        self.run_steps(100_000)
    }

    fn run_steps(&mut self, steps: usize) -> bool {
        for _ in 0..steps {
            self.now += Duration::from_millis(1);
            self.init_app.handle(&mut self.initiator);
            self.resp_app.handle(&mut self.responder);
            let mut moved = false;
            while let Some(buffer) = self.initiator.poll_transmit() {
                moved = true;
                if !self.deliver('I', buffer, true) {
                    return true;
                }
            }
            while let Some(buffer) = self.responder.poll_transmit() {
                moved = true;
                if !self.deliver('R', buffer, false) {
                    return true;
                }
            }
            if !moved && self.initiator.is_closed() && self.responder.is_closed() {
                self.init_app.handle(&mut self.initiator);
                self.resp_app.handle(&mut self.responder);
                return true;
            }
        }
        false
    }

    fn deliver(&mut self, from: char, buffer: Bytes, to_responder: bool) -> bool {
        if self.cut_after.is_some_and(|n| self.delivered >= n) {
            self.initiator.handle_transport_closed();
            self.responder.handle_transport_closed();
            self.init_app.handle(&mut self.initiator);
            self.resp_app.handle(&mut self.responder);
            return false;
        }
        if self.silent_after.is_some_and(|n| self.delivered >= n) {
            return true;
        }
        self.delivered += 1;
        self.trace.push((
            from,
            Command::from_exchange_buffer(buffer.clone(), ProtocolLevel::V2_0)
                .unwrap_or(Command::Cd),
        ));
        let target = if to_responder { &mut self.responder } else { &mut self.initiator };
        target.handle_input(buffer, self.now);
        true
    }

    fn codes(&self) -> String {
        self.trace
            .iter()
            .map(|(who, c)| format!("{who}:{}", c.code()))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn data(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) % 7 + b'A').collect()
}

#[test]
fn files_both_ways_with_receipts_and_a_normal_end() {
    let u = data(100_000, 1);
    let f80: Vec<u8> = data(80 * 50, 2);
    let text = b"line one\r\nline two\r\n".repeat(300);
    let back = data(5_000, 3);
    let init =
        App::sender(vec![(Token(1), u.clone()), (Token(2), f80.clone()), (Token(3), text.clone())]);
    let resp = App::sender(vec![(Token(9), back.clone())]);
    let mut pair = Pair::new(
        config(A, B, ProtocolLevel::V2_0, 4096, 7),
        config(B, A, ProtocolLevel::V2_0, 2048, 5),
        init,
        resp,
    );
    pair.queue(&[
        (Token(1), sfid("U.FILE", A, B, RecordFormat::Unstructured, 0, u.len(), 1)),
        (Token(2), sfid("F.FILE", A, B, RecordFormat::Fixed, 80, f80.len(), 2)),
        (Token(3), sfid("T.FILE", A, B, RecordFormat::Text, 0, text.len(), 3)),
    ]);
    let back_sfid = sfid("BACK", B, A, RecordFormat::Unstructured, 0, back.len(), 4);
    pair.responder.queue_file(
        Token(9),
        back_sfid.clone(),
        settings_for(&back_sfid, TextLines::KeepCrLf),
    );
    assert!(pair.run(), "the session ends");

    let neg = pair.initiator.negotiated().unwrap();
    assert_eq!(
        (neg.buffer_size.get(), neg.credit.get(), neg.level),
        (2048, 5, ProtocolLevel::V2_0)
    );
    let got: Vec<_> =
        pair.resp_app.received.iter().map(|(s, d)| (s.dataset_name.as_str(), d.clone())).collect();
    assert_eq!(got, vec![("U.FILE", u), ("F.FILE", f80), ("T.FILE", text)]);
    assert_eq!(pair.init_app.received.len(), 1);
    assert_eq!(pair.init_app.received[0].1, back);
    assert_eq!(pair.init_app.sent, vec![Token(1), Token(2), Token(3)]);
    // EERPs travel back to the originators, answered by RTR.
    assert_eq!(pair.init_app.receipts.len(), 3);
    assert_eq!(pair.resp_app.receipts.len(), 1);
    assert_eq!(pair.resp_app.delivered.len(), 3);
    assert_eq!(pair.init_app.delivered.len(), 1);
    assert!(
        pair.init_app.end.as_ref().unwrap().is_normal(),
        "{:?} {}",
        pair.init_app.end,
        pair.codes()
    );
    assert!(pair.resp_app.end.as_ref().unwrap().is_normal(), "{:?}", pair.resp_app.end);
    let codes = pair.codes();
    assert!(codes.starts_with("R:SSRM I:SSID R:SSID I:SFID R:SFPA I:DATA"), "{codes}");
    assert!(codes.contains("R:CDT"), "credit is renewed: {codes}");
    assert!(codes.ends_with("ESID"), "{codes}");
}

#[test]
fn downgrade_to_each_older_level() {
    for level in [ProtocolLevel::V1_4, ProtocolLevel::V1_3, ProtocolLevel::V1_2] {
        let body = b"old partner\r\n".repeat(100);
        let mut pair = Pair::new(
            config(A, B, ProtocolLevel::V2_0, 99_999, 999),
            config(B, A, level, 1024, 10),
            App::sender(vec![(Token(1), body.clone())]),
            App::default(),
        );
        let mut file = sfid("OLD", A, B, RecordFormat::Text, 0, body.len(), 0);
        file.description = Utf8Text::empty();
        pair.queue(&[(Token(1), file)]);
        assert!(pair.run());
        assert_eq!(pair.initiator.negotiated().unwrap().level, level, "{level}");
        assert_eq!(pair.resp_app.received[0].1, body, "{level}");
        assert_eq!(pair.init_app.receipts.len(), 1, "{level}");
        assert!(
            pair.init_app.end.as_ref().unwrap().is_normal(),
            "{level}: {:?}",
            pair.init_app.end
        );
    }
}

#[test]
fn credit_window_of_one() {
    let body = data(64 * 1024, 5);
    let mut pair = Pair::new(
        config(A, B, ProtocolLevel::V2_0, 128, 1),
        config(B, A, ProtocolLevel::V2_0, 128, 1),
        App::sender(vec![(Token(1), body.clone())]),
        App::default(),
    );
    pair.queue(&[(Token(1), sfid("WINDOW1", A, B, RecordFormat::Unstructured, 0, body.len(), 1))]);
    assert!(pair.run());
    assert_eq!(pair.resp_app.received[0].1, body);
    let data_buffers = pair.trace.iter().filter(|(_, c)| matches!(c, Command::Data(_))).count();
    let cdts = pair.trace.iter().filter(|(_, c)| matches!(c, Command::Cdt)).count();
    assert_eq!(cdts, data_buffers, "a CDT after every DATA with window 1");
}

#[test]
fn wrong_password_and_unknown_code() {
    let mut bad = (*config(A, B, ProtocolLevel::V2_0, 2048, 7)).clone();
    bad.partners[0].our_password = "WRONG".parse().unwrap();
    let mut pair = Pair::new(
        Arc::new(bad),
        config(B, A, ProtocolLevel::V2_0, 2048, 7),
        App::default(),
        App::default(),
    );
    assert!(pair.run());
    assert!(matches!(
        pair.init_app.end,
        Some(SessionEnd::Remote { reason: EsidReason::INVALID_PASSWORD, .. })
    ));
    assert!(matches!(
        pair.resp_app.end,
        Some(SessionEnd::Local { reason: EsidReason::INVALID_PASSWORD, .. })
    ));

    let stranger = config("O0013000000000000777", B, ProtocolLevel::V2_0, 2048, 7);
    let mut pair = Pair::new(
        stranger,
        config(B, A, ProtocolLevel::V2_0, 2048, 7),
        App::default(),
        App::default(),
    );
    assert!(pair.run());
    assert!(matches!(
        pair.init_app.end,
        Some(SessionEnd::Remote { reason: EsidReason::USER_CODE_NOT_KNOWN, .. })
    ));
}

#[test]
fn refused_file_and_direction() {
    let body = data(1000, 1);
    let resp_app = App { refuse: true, ..App::default() };
    let mut pair = Pair::new(
        config(A, B, ProtocolLevel::V2_0, 2048, 7),
        config(B, A, ProtocolLevel::V2_0, 2048, 7),
        App::sender(vec![(Token(1), body.clone())]),
        resp_app,
    );
    pair.queue(&[(Token(1), sfid("DUP", A, B, RecordFormat::Unstructured, 0, body.len(), 1))]);
    assert!(pair.run());
    assert_eq!(pair.init_app.refused, vec![(Token(1), SfnaReason::DUPLICATE_FILE)]);
    assert!(pair.init_app.end.as_ref().unwrap().is_normal());

    // A partner that may only send to us gets SFNA 14 for a file from us.
    let mut resp_cfg = (*config(B, A, ProtocolLevel::V2_0, 2048, 7)).clone();
    resp_cfg.partners[0].directions = SendReceive::ReceiveOnly; // A may only receive
    let mut init_cfg = (*config(A, B, ProtocolLevel::V2_0, 2048, 7)).clone();
    init_cfg.send_receive = SendReceive::Both;
    let mut pair = Pair::new(
        Arc::new(init_cfg),
        Arc::new(resp_cfg),
        App::sender(vec![(Token(1), body.clone())]),
        App::default(),
    );
    pair.queue(&[(Token(1), sfid("NOPE", A, B, RecordFormat::Unstructured, 0, body.len(), 1))]);
    assert!(pair.run());
    assert!(pair.resp_app.received.is_empty());
    assert!(!pair.initiator.negotiated().unwrap().we_send);
}

#[test]
fn restart_after_a_cut_connection() {
    for (format, lrecl) in [(RecordFormat::Unstructured, 0), (RecordFormat::Fixed, 80)] {
        let body = data(80 * 1000, 7);
        let file = sfid("RESTART", A, B, format, lrecl, body.len(), 1);
        let mut pair = Pair::new(
            config(A, B, ProtocolLevel::V2_0, 1024, 3),
            config(B, A, ProtocolLevel::V2_0, 1024, 3),
            App::sender(vec![(Token(1), body.clone())]),
            App::default(),
        );
        pair.queue(&[(Token(1), file.clone())]);
        pair.cut_after = Some(40);
        pair.run();
        assert!(pair.resp_app.received.is_empty());
        assert_eq!(pair.resp_app.end, Some(SessionEnd::TransportLost));
        let partial = pair.resp_app.partial.clone();
        let kept = partial["RESTART"].len();
        assert!(kept > 0 && kept < body.len());

        // The next session: the sender asks to restart from what the receiver could keep.
        let resp_app = App { partial, ..App::default() };
        let mut pair = Pair::new(
            config(A, B, ProtocolLevel::V2_0, 1024, 3),
            config(B, A, ProtocolLevel::V2_0, 1024, 3),
            App::sender(vec![(Token(1), body.clone())]),
            resp_app,
        );
        let mut again = file.clone();
        again.restart_position = RestartPosition::new(1_000_000).unwrap();
        pair.queue(&[(Token(1), again)]);
        assert!(pair.run());
        assert_eq!(pair.resp_app.received[0].1, body, "{format:?}");
        let sfpa = pair.trace.iter().find_map(|(_, c)| match c {
            Command::Sfpa(s) => Some(s.answer_count.get()),
            _ => None,
        });
        assert!(sfpa.unwrap() > 0, "resumed, not restarted from zero");
        assert!(pair.init_app.end.as_ref().unwrap().is_normal());
    }
}

#[test]
fn idle_peer_times_out_with_esid_09() {
    let cfg = config(B, A, ProtocolLevel::V2_0, 2048, 7);
    let start = Instant::now();
    let mut responder = Session::responder(cfg.clone(), start);
    assert!(responder.poll_transmit().is_some()); // SSRM
    let deadline = responder.poll_timeout().unwrap();
    assert_eq!(deadline, start + cfg.limits.idle_timeout);
    responder.handle_timeout(deadline - Duration::from_millis(1));
    assert!(!responder.is_closed());
    responder.handle_timeout(deadline);
    let esid =
        Command::from_exchange_buffer(responder.poll_transmit().unwrap(), ProtocolLevel::V2_0)
            .unwrap();
    assert!(matches!(esid, Command::Esid(e) if e.reason == EsidReason::TIME_OUT));
    assert!(matches!(
        responder.poll_event(),
        Some(Event::Closed { end: SessionEnd::Local { reason: EsidReason::TIME_OUT, .. } })
    ));
    assert_eq!(responder.poll_timeout(), None);
}

/// Drives a responder with scripted exchange buffers and returns what it answered.
fn script(buffers: &[&[u8]]) -> (Vec<Command>, Vec<Event>) {
    let cfg = config(B, A, ProtocolLevel::V2_0, 2048, 7);
    let now = Instant::now();
    let mut responder = Session::responder(cfg, now);
    let mut out = Vec::new();
    let mut events = Vec::new();
    let drain = |s: &mut Session, out: &mut Vec<Command>, events: &mut Vec<Event>| {
        while let Some(b) = s.poll_transmit() {
            out.push(Command::from_exchange_buffer(b, ProtocolLevel::V2_0).unwrap());
        }
        while let Some(e) = s.poll_event() {
            if let Event::StartFileRequest { .. } = e {
                s.accept_file(Counts::default()).unwrap();
            }
            events.push(e);
        }
        while let Some(b) = s.poll_transmit() {
            out.push(Command::from_exchange_buffer(b, ProtocolLevel::V2_0).unwrap());
        }
    };
    drain(&mut responder, &mut out, &mut events);
    for buffer in buffers {
        responder.handle_input(Bytes::copy_from_slice(buffer), now);
        drain(&mut responder, &mut out, &mut events);
    }
    (out, events)
}

const SSID_A: &[u8] = b"X5O0013000000000000001     PW1     02048BYYN007N            \r";

fn last_esid(out: &[Command]) -> Option<EsidReason> {
    out.iter().rev().find_map(|c| match c {
        Command::Esid(e) => Some(e.reason),
        _ => None,
    })
}

#[test]
fn hostile_peers_get_the_right_esid() {
    // A command that is not valid in the state: ESID 02.
    let (out, _) = script(&[SSID_A, b"C  "]);
    assert_eq!(last_esid(&out), Some(EsidReason::PROTOCOL_VIOLATION));
    // DATA before any SFID.
    let (out, _) = script(&[SSID_A, b"D\x83abc"]);
    assert_eq!(last_esid(&out), Some(EsidReason::PROTOCOL_VIOLATION));
    // An unknown command: ESID 01.
    let (out, _) = script(&[b"Z"]);
    assert_eq!(last_esid(&out), Some(EsidReason::COMMAND_NOT_RECOGNISED));
    // A malformed SSID: ESID 06.
    let (out, _) = script(&[b"X5O0013000000000000001     PW1     0204?BYYN007N            \r"]);
    assert_eq!(last_esid(&out), Some(EsidReason::COMMAND_CONTAINED_INVALID_DATA));
    // A buffer longer than its command: ESID 07.
    let (out, _) = script(&[SSID_A, b"RR"]);
    assert_eq!(last_esid(&out), Some(EsidReason::EXCHANGE_BUFFER_SIZE_ERROR));
    // Secure authentication asked for but not offered: ESID 12.
    let mut auth = SSID_A.to_vec();
    auth[47] = b'Y';
    let (out, _) = script(&[&auth]);
    assert_eq!(last_esid(&out), Some(EsidReason::SECURE_AUTHENTICATION_REQUIREMENTS_INCOMPATIBLE));
    // Incompatible modes: both send-only.
    let mut mode = SSID_A.to_vec();
    mode[40] = b'S';
    let cfg_only_send = {
        let mut c = (*config(B, A, ProtocolLevel::V2_0, 2048, 7)).clone();
        c.send_receive = SendReceive::SendOnly;
        Arc::new(c)
    };
    let mut responder = Session::responder(cfg_only_send, Instant::now());
    responder.poll_transmit();
    responder.handle_input(Bytes::from(mode), Instant::now());
    let esid =
        Command::from_exchange_buffer(responder.poll_transmit().unwrap(), ProtocolLevel::V2_0)
            .unwrap();
    assert!(
        matches!(esid, Command::Esid(e) if e.reason == EsidReason::MODE_OR_CAPABILITIES_INCOMPATIBLE)
    );
}

fn sfid_octets() -> Vec<u8> {
    Command::Sfid(sfid("U.FILE", A, B, RecordFormat::Unstructured, 0, 3, 1))
        .to_bytes(ProtocolLevel::V2_0)
        .unwrap()
        .to_vec()
}

#[test]
fn counts_that_do_not_match_get_efna() {
    let sfid = sfid_octets();
    let efid_wrong = b"T0000000000000000000000000000000004";
    let (out, events) = script(&[SSID_A, &sfid, b"D\x83abc", efid_wrong]);
    let efna = out.iter().find_map(|c| match c {
        Command::Efna(e) => Some(e.reason.value()),
        _ => None,
    });
    assert_eq!(efna, Some(11), "{out:?}");
    assert!(events.iter().any(|e| matches!(e, Event::IncomingFileFailed { efna: Some(_), .. })));
    // With the right counts, the application is asked to store the file.
    let efid_right = b"T0000000000000000000000000000000003";
    let (_, events) = script(&[SSID_A, &sfid, b"D\x83abc", efid_right]);
    assert!(events
        .iter()
        .any(|e| matches!(e, Event::EndOfFile { counts, .. } if counts.octets == 3)));
}

#[test]
fn listener_renews_credit_when_it_runs_out() {
    let sfid = sfid_octets();
    let mut buffers: Vec<&[u8]> = vec![SSID_A, &sfid];
    // Window 7: a CDT after the 7th and after the 14th DATA, never an ESID.
    buffers.extend(std::iter::repeat_n(b"D\x01x".as_slice(), 14));
    let (out, _) = script(&buffers);
    assert_eq!(out.iter().filter(|c| matches!(c, Command::Cdt)).count(), 2, "{out:?}");
    assert_eq!(last_esid(&out), None);
}

#[test]
fn speaker_refuses_an_sfpa_beyond_its_restart_position() {
    // As initiator: SFPAACNT above SFIDREST is a protocol violation (§9.10 predicate P2).
    let cfg = config(A, B, ProtocolLevel::V2_0, 2048, 7);
    let partner = cfg.partners[0].clone();
    let now = Instant::now();
    let mut initiator = Session::initiator(cfg, partner, now);
    let file = sfid("F", A, B, RecordFormat::Unstructured, 0, 10, 1);
    initiator.queue_file(Token(1), file.clone(), settings_for(&file, TextLines::KeepCrLf));
    initiator.handle_input(Bytes::from_static(b"IODETTE FTP READY \r"), now);
    initiator.handle_input(
        Bytes::from_static(b"X5O0013000000000000002     PW2     02048BYYN007N            \r"),
        now,
    );
    initiator.handle_input(Bytes::from_static(b"200000000000000005"), now);
    let sent: Vec<Command> = std::iter::from_fn(|| initiator.poll_transmit())
        .map(|b| Command::from_exchange_buffer(b, ProtocolLevel::V2_0).unwrap())
        .collect();
    assert!(
        matches!(sent.last(), Some(Command::Esid(e)) if e.reason == EsidReason::PROTOCOL_VIOLATION),
        "{sent:?}"
    );
}

// ------------------------------------------------------------------ secure authentication

#[test]
fn secure_authentication_then_files_both_ways() {
    let (init_auth, resp_auth) = (FakeAuthenticator::new([1; 20]), FakeAuthenticator::new([2; 20]));
    let there = data(3_000, 1);
    let back = data(2_000, 2);
    let mut pair = Pair::authenticated(
        &config(A, B, ProtocolLevel::V2_0, 2048, 7),
        &config(B, A, ProtocolLevel::V2_0, 2048, 7),
        &init_auth,
        &resp_auth,
        App::sender(vec![(Token(1), there.clone())]),
        App::sender(vec![(Token(9), back.clone())]),
    );
    pair.queue(&[(Token(1), sfid("THERE", A, B, RecordFormat::Unstructured, 0, there.len(), 1))]);
    let back_sfid = sfid("BACK", B, A, RecordFormat::Unstructured, 0, back.len(), 2);
    let settings = settings_for(&back_sfid, TextLines::KeepCrLf);
    pair.responder.queue_file(Token(9), back_sfid, settings);
    assert!(pair.run());

    // §4.2.4 in order; then the Initiator, first Speaker, sends its file.
    let codes = pair.codes();
    assert!(
        codes.starts_with(
            "R:SSRM I:SSID R:SSID I:SECD R:AUCH I:AURP R:SECD I:AUCH R:AURP I:SFID R:SFPA"
        ),
        "{codes}"
    );
    assert!(pair.initiator.negotiated().unwrap().secure_authentication);
    assert!(pair.responder.negotiated().unwrap().secure_authentication);
    assert_eq!(pair.resp_app.received[0].1, there);
    assert_eq!(pair.init_app.received[0].1, back);
    assert!(pair.init_app.end.as_ref().unwrap().is_normal(), "{:?}", pair.init_app.end);
    assert!(pair.resp_app.end.as_ref().unwrap().is_normal(), "{:?}", pair.resp_app.end);
    // Each side made one challenge and decrypted one.
    assert_eq!(init_auth.calls.get(), (1, 1));
    assert_eq!(resp_auth.calls.get(), (1, 1));
}

#[test]
fn a_wrong_key_fails_authentication_with_esid_11() {
    let wrong = EsidReason::INVALID_CHALLENGE_RESPONSE;
    // The Initiator cannot decrypt: the Responder refuses its AURP.
    let mut pair = Pair::authenticated(
        &config(A, B, ProtocolLevel::V2_0, 2048, 7),
        &config(B, A, ProtocolLevel::V2_0, 2048, 7),
        &FakeAuthenticator::wrong_key([1; 20]),
        &FakeAuthenticator::new([2; 20]),
        App::default(),
        App::default(),
    );
    assert!(pair.run());
    assert_eq!(pair.codes(), "R:SSRM I:SSID R:SSID I:SECD R:AUCH I:AURP R:ESID");
    assert!(matches!(pair.resp_app.end, Some(SessionEnd::Local { reason, .. }) if reason == wrong));
    assert!(
        matches!(pair.init_app.end, Some(SessionEnd::Remote { reason, .. }) if reason == wrong)
    );
    assert!(pair.initiator.negotiated().is_none() && pair.responder.negotiated().is_none());

    // The Responder cannot decrypt: the Initiator refuses the last AURP.
    let mut pair = Pair::authenticated(
        &config(A, B, ProtocolLevel::V2_0, 2048, 7),
        &config(B, A, ProtocolLevel::V2_0, 2048, 7),
        &FakeAuthenticator::new([1; 20]),
        &FakeAuthenticator::wrong_key([2; 20]),
        App::default(),
        App::default(),
    );
    assert!(pair.run());
    let codes = pair.codes();
    assert_eq!(codes, "R:SSRM I:SSID R:SSID I:SECD R:AUCH I:AURP R:SECD I:AUCH R:AURP I:ESID");
    assert!(matches!(pair.init_app.end, Some(SessionEnd::Local { reason, .. }) if reason == wrong));
    assert!(
        matches!(pair.resp_app.end, Some(SessionEnd::Remote { reason, .. }) if reason == wrong)
    );
}

#[test]
fn ssidauth_mismatch_ends_with_esid_12() {
    let incompatible = EsidReason::SECURE_AUTHENTICATION_REQUIREMENTS_INCOMPATIBLE;
    for initiator_wants_it in [true, false] {
        let mut init_cfg = (*config(A, B, ProtocolLevel::V2_0, 2048, 7)).clone();
        let mut resp_cfg = (*config(B, A, ProtocolLevel::V2_0, 2048, 7)).clone();
        init_cfg.partners[0].secure_authentication = initiator_wants_it;
        resp_cfg.partners[0].secure_authentication = !initiator_wants_it;
        let mut pair =
            Pair::new(Arc::new(init_cfg), Arc::new(resp_cfg), App::default(), App::default());
        pair.initiator.set_authenticator(FakeAuthenticator::new([1; 20]).boxed());
        pair.responder.set_authenticator(FakeAuthenticator::new([2; 20]).boxed());
        assert!(pair.run());
        assert_eq!(pair.codes(), "R:SSRM I:SSID R:ESID", "Initiator Y: {initiator_wants_it}");
        assert!(
            matches!(&pair.resp_app.end, Some(SessionEnd::Local { reason, .. }) if *reason == incompatible),
            "{:?}",
            pair.resp_app.end
        );
    }
}

#[test]
fn a_silent_peer_during_authentication_times_out() {
    let mut pair = Pair::authenticated(
        &config(A, B, ProtocolLevel::V2_0, 2048, 7),
        &config(B, A, ProtocolLevel::V2_0, 2048, 7),
        &FakeAuthenticator::new([1; 20]),
        &FakeAuthenticator::new([2; 20]),
        App::default(),
        App::default(),
    );
    // SSRM, SSID, SSID and SECD arrive; the Responder's AUCH is lost.
    pair.silent_after = Some(4);
    assert!(!pair.run_steps(50));
    assert_eq!(pair.initiator.state_name(), "waiting for AUCH");
    assert_eq!(pair.responder.state_name(), "waiting for AURP");
    for session in [&mut pair.initiator, &mut pair.responder] {
        let deadline = session.poll_timeout().unwrap();
        session.handle_timeout(deadline);
        let esid =
            Command::from_exchange_buffer(session.poll_transmit().unwrap(), ProtocolLevel::V2_0)
                .unwrap();
        assert!(matches!(esid, Command::Esid(e) if e.reason == EsidReason::TIME_OUT));
        assert!(session.is_closed());
    }
}

// ------------------------------------------------------------------ secured files

/// A file announced as signed (SFIDSEC 02, suite 04, CMS envelope) in `format`.
fn signed(mut file: Sfid, original: usize) -> Sfid {
    file.security_level = SecurityLevel::Signed;
    file.cipher_suite = CipherSuite::AES256_RSA_SHA256;
    file.enveloping = FileEnveloping::Cms;
    file.original_file_size = file_size(original as u64);
    file
}

#[test]
fn a_secured_v_file_travels_as_u_and_restarts_in_blocks() {
    // The protected octets of a signed V file: not V records (as records, the first two
    // octets would announce a record far above SFIDLRECL).
    let body = data(80 * 1000, 9);
    let file = signed(sfid("SIGNED.V", A, B, RecordFormat::Variable, 1000, body.len(), 1), 70_000);
    let run = |pair: &mut Pair| {
        pair.queue(&[(Token(1), file.clone())]);
        pair.run()
    };
    let mut pair = Pair::new(
        config(A, B, ProtocolLevel::V2_0, 1024, 3),
        config(B, A, ProtocolLevel::V2_0, 1024, 3),
        App::sender(vec![(Token(1), body.clone())]),
        App::default(),
    );
    pair.cut_after = Some(40);
    run(&mut pair);
    let partial = pair.resp_app.partial.clone();
    let kept = partial["SIGNED.V"].len();
    assert!(kept > 2048 && kept < body.len(), "{kept}");

    // The next session resumes at the whole 1 KiB blocks the receiver kept (SFIDREST and
    // SFPAACNT count blocks, not records, §5.3.3).
    let resp_app = App { partial, ..App::default() };
    let mut pair = Pair::new(
        config(A, B, ProtocolLevel::V2_0, 1024, 3),
        config(B, A, ProtocolLevel::V2_0, 1024, 3),
        App::sender(vec![(Token(1), body.clone())]),
        resp_app,
    );
    pair.queue(&[(
        Token(1),
        Sfid { restart_position: RestartPosition::new(1_000).unwrap(), ..file.clone() },
    )]);
    assert!(pair.run());
    let (received_sfid, received) = &pair.resp_app.received[0];
    assert_eq!(received, &body, "the protected octets, as they were");
    assert_eq!(received_sfid.format, RecordFormat::Variable, "SFIDFMT keeps the original format");
    assert_eq!(received_sfid.original_file_size, file_size(70_000), "SFIDOSIZ");
    let sfpa = pair.trace.iter().find_map(|(_, c)| match c {
        Command::Sfpa(s) => Some(s.answer_count.get()),
        _ => None,
    });
    assert_eq!(sfpa, Some(kept as u64 / 1024), "blocks of the transmitted file");
    let efid = pair.trace.iter().find_map(|(_, c)| match c {
        Command::Efid(e) => Some((e.record_count.get(), e.unit_count.get())),
        _ => None,
    });
    assert_eq!(efid, Some((0, body.len() as u64)), "EFID counts octets of the transmitted file");
    assert!(pair.init_app.end.as_ref().unwrap().is_normal());
}

#[test]
fn an_unsecured_v_file_travels_as_records() {
    // The same V file unsecured: its local form has §6.5 length prefixes, and it travels
    // as records (EFIDRCNT counts them, SFPAACNT would too).
    let records: Vec<Vec<u8>> = (0..50).map(|n| data(10 + n * 7, n as u8)).collect();
    let local: Vec<u8> = records
        .iter()
        .flat_map(|r| (r.len() as u16).to_be_bytes().into_iter().chain(r.iter().copied()))
        .collect();
    let file = sfid("PLAIN.V", A, B, RecordFormat::Variable, 1000, local.len(), 1);
    let mut pair = Pair::new(
        config(A, B, ProtocolLevel::V2_0, 1024, 3),
        config(B, A, ProtocolLevel::V2_0, 1024, 3),
        App::sender(vec![(Token(1), local.clone())]),
        App::default(),
    );
    pair.queue(&[(Token(1), file)]);
    assert!(pair.run());
    assert_eq!(pair.resp_app.received[0].1, local, "stored with its prefixes again");
    let efid = pair.trace.iter().find_map(|(_, c)| match c {
        Command::Efid(e) => Some((e.record_count.get(), e.unit_count.get())),
        _ => None,
    });
    let octets: usize = records.iter().map(Vec::len).sum();
    assert_eq!(efid, Some((50, octets as u64)), "records and their octets, without prefixes");
}
