//! Hostile peers, written by hand over a raw TcpStream with framed exchange buffers,
//! against a `Node::serve` responder and a `Node::connect` initiator: unknown and
//! malformed commands, oversize and invalid stream buffers, commands in the wrong state,
//! a peer that never sends SSID, one that stops reading mid-transfer, garbage after
//! SSID. Each session must end with the right ESID (read from the wire) or a timeout,
//! never hang or panic, and the responder must go on serving.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a panic is a failure

mod session_support;

use std::time::{Duration, Instant};

use oftp2_codec::command::{Efid, Sfpa, Ssrm};
use oftp2_codec::fields::{RecordCount, RecordFormat, RestartPosition, UnitCount};
use oftp2_codec::reason::EsidReason;
use oftp2_codec::Command;
use oftp2_session::config::Transport;
use oftp2_session::driver::SessionReport;
use oftp2_session::engine::SessionEnd;
use oftp2_session::node::NodeError;
use oftp2_session::store::{FileStore, OutgoingState};
use oftp2_session::transport::ServerSecurity;
use session_support::*;
use tokio::net::TcpListener;

const C: &str = "O0013000000000000003";
const IDLE: Duration = Duration::from_millis(400);
const WAIT: Duration = Duration::from_secs(5);

fn params() -> Params {
    Params { buffer_size: 4096, credit: 8, idle: IDLE }
}

/// A raw peer that has opened a session as A with the responder: SSRM read, SSID sent
/// (offering `buffer` octets), the responder's SSID read.
async fn logged_in(address: &str, code: &str, buffer: u64, credit: u64) -> RawPeer {
    login(RawPeer::connect(address).await, code, buffer, credit).await
}

async fn login(mut raw: RawPeer, code: &str, buffer: u64, credit: u64) -> RawPeer {
    assert!(matches!(raw.recv_command(WAIT).await, Some(Command::Ssrm(_))));
    raw.send_command(&Command::Ssid(raw_ssid(code, &password_of(code), buffer, credit))).await;
    match raw.recv_command(WAIT).await {
        Some(Command::Ssid(ssid)) => assert!(u64::from(ssid.buffer_size.get()) <= buffer),
        other => panic!("expected the responder's SSID, got {other:?}"),
    }
    raw
}

/// The responder answers with ESID `reason` and closes the connection.
async fn expect_end(raw: &mut RawPeer, reason: EsidReason, what: &str) {
    let esid = raw.expect_esid(WAIT).await;
    assert_eq!(esid.reason, reason, "{what}: ESID {} {}", esid.reason, esid.text.as_str());
    assert!(raw.closed_within(WAIT).await, "{what}: the connection is closed after the ESID");
}

fn ended_local(report: &SessionReport, reason: EsidReason) -> bool {
    matches!(&report.end, SessionEnd::Local { reason: r, .. } if *r == reason)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_responder_ends_hostile_sessions_with_the_right_esid_and_keeps_serving() {
    let b = site(
        B,
        vec![partner(A, B, Transport::PlainTcp, None), partner(C, B, Transport::PlainTcp, None)],
        params(),
    );
    let serving = serve(&b.node, ServerSecurity::PlainTcp).await;
    let address = serving.address.clone();
    let mut sessions = 0;
    let mut expected_ends: Vec<(usize, EsidReason)> = Vec::new();

    // An unknown command instead of SSID: 01.
    let mut raw = RawPeer::connect(&address).await;
    assert!(matches!(raw.recv_command(WAIT).await, Some(Command::Ssrm(_))));
    raw.send(b"Zwhat is this").await;
    expect_end(&mut raw, EsidReason::COMMAND_NOT_RECOGNISED, "unknown command").await;
    expected_ends.push((sessions, EsidReason::COMMAND_NOT_RECOGNISED));
    sessions += 1;

    // A malformed SSID (letters in SSIDSDEB): 06.
    let mut raw = RawPeer::connect(&address).await;
    raw.recv_command(WAIT).await.unwrap();
    let mut ssid = Command::Ssid(raw_ssid(A, &password_of(A), 4096, 8))
        .to_bytes(oftp2_codec::ProtocolLevel::V2_0)
        .unwrap()
        .to_vec();
    ssid[35..40].copy_from_slice(b"4O96A");
    raw.send(&ssid).await;
    expect_end(&mut raw, EsidReason::COMMAND_CONTAINED_INVALID_DATA, "malformed SSID").await;
    expected_ends.push((sessions, EsidReason::COMMAND_CONTAINED_INVALID_DATA));
    sessions += 1;

    // A truncated SSID (the buffer is shorter than the command): 07.
    let mut raw = RawPeer::connect(&address).await;
    raw.recv_command(WAIT).await.unwrap();
    raw.send(&ssid[..30]).await;
    expect_end(&mut raw, EsidReason::EXCHANGE_BUFFER_SIZE_ERROR, "truncated SSID").await;
    expected_ends.push((sessions, EsidReason::EXCHANGE_BUFFER_SIZE_ERROR));
    sessions += 1;

    // CD before SSID: a valid command in the wrong state, 02.
    let mut raw = RawPeer::connect(&address).await;
    raw.recv_command(WAIT).await.unwrap();
    raw.send(b"R").await;
    expect_end(&mut raw, EsidReason::PROTOCOL_VIOLATION, "CD before SSID").await;
    expected_ends.push((sessions, EsidReason::PROTOCOL_VIOLATION));
    sessions += 1;

    // Stream buffers that cannot be: a header announcing 16 MiB, a wrong version, an
    // empty exchange buffer. Each is 07 as soon as the four header octets are in (the
    // rest never comes): nothing is allocated for the announced length.
    for (header, what) in [
        ([0x10, 0xFF, 0xFF, 0xFF], "STH announcing 16 MiB"),
        ([0x20, 0x00, 0x00, 0x06], "STH version 2"),
        ([0x10, 0x00, 0x00, 0x04], "STH of an empty buffer"),
    ] {
        let mut raw = RawPeer::connect(&address).await;
        raw.recv_command(WAIT).await.unwrap();
        raw.send_raw(&header).await;
        expect_end(&mut raw, EsidReason::EXCHANGE_BUFFER_SIZE_ERROR, what).await;
        expected_ends.push((sessions, EsidReason::EXCHANGE_BUFFER_SIZE_ERROR));
        sessions += 1;
    }

    // A peer that trickles an SSID one octet at a time, each within the idle timeout:
    // only complete buffers count as activity, so 09 all the same.
    let started = Instant::now();
    let mut raw = RawPeer::connect(&address).await;
    raw.recv_command(WAIT).await.unwrap();
    let mut framed = bytes::BytesMut::new();
    oftp2_codec::sth::frame(&ssid, &mut framed).unwrap();
    for octet in framed.iter().take(12) {
        raw.send_raw(&[*octet]).await;
        tokio::time::sleep(IDLE / 4).await;
    }
    expect_end(&mut raw, EsidReason::TIME_OUT, "trickling peer").await;
    let waited = started.elapsed();
    assert!(waited < IDLE * 4 + Duration::from_secs(3), "ESID 09 after {waited:?}");
    expected_ends.push((sessions, EsidReason::TIME_OUT));
    sessions += 1;

    // A peer that connects and never sends SSID: 09 after the idle timeout.
    let started = Instant::now();
    let mut raw = RawPeer::connect(&address).await;
    raw.recv_command(WAIT).await.unwrap();
    expect_end(&mut raw, EsidReason::TIME_OUT, "silent peer").await;
    let waited = started.elapsed();
    assert!(waited >= IDLE && waited < IDLE + Duration::from_secs(3), "ESID 09 after {waited:?}");
    expected_ends.push((sessions, EsidReason::TIME_OUT));
    sessions += 1;

    // After a correct SSID (buffer 128 negotiated): a buffer longer than SSIDSDEB, 07,
    // answered on its header alone.
    let mut raw = logged_in(&address, A, 128, 8).await;
    raw.send_raw(&[0x10, 0x00, 0x01, 0x00]).await; // 252 octets announced
    expect_end(&mut raw, EsidReason::EXCHANGE_BUFFER_SIZE_ERROR, "buffer over SSIDSDEB").await;
    expected_ends.push((sessions, EsidReason::EXCHANGE_BUFFER_SIZE_ERROR));
    sessions += 1;

    // A full 200-octet buffer over a negotiated 128: 07 too.
    let mut raw = logged_in(&address, A, 128, 8).await;
    raw.send(&[b'D'; 200]).await;
    expect_end(&mut raw, EsidReason::EXCHANGE_BUFFER_SIZE_ERROR, "200 octets over 128").await;
    expected_ends.push((sessions, EsidReason::EXCHANGE_BUFFER_SIZE_ERROR));
    sessions += 1;

    // Commands in the wrong state after SSID (the responder is Listener): 02.
    for (command, what) in [
        (Command::Cdt, "CDT to a Listener"),
        (
            Command::Efid(Efid { record_count: RecordCount::ZERO, unit_count: UnitCount::ZERO }),
            "EFID without SFID",
        ),
        (Command::Sfpa(Sfpa { answer_count: RestartPosition::ZERO }), "SFPA to a Listener"),
        (Command::Rtr, "RTR without a receipt"),
        (Command::Ssrm(Ssrm), "SSRM again"),
    ] {
        let mut raw = logged_in(&address, A, 4096, 8).await;
        raw.send_command(&command).await;
        expect_end(&mut raw, EsidReason::PROTOCOL_VIOLATION, what).await;
        expected_ends.push((sessions, EsidReason::PROTOCOL_VIOLATION));
        sessions += 1;
    }

    // DATA straight after SSID (no SFID): 02.
    let mut raw = logged_in(&address, A, 4096, 8).await;
    raw.send(b"D\x80\x05hello").await;
    expect_end(&mut raw, EsidReason::PROTOCOL_VIOLATION, "DATA without SFID").await;
    expected_ends.push((sessions, EsidReason::PROTOCOL_VIOLATION));
    sessions += 1;

    // A malformed SFID (a date that does not exist): 06, and no file is begun.
    let mut raw = logged_in(&address, A, 4096, 8).await;
    let mut sfid = Command::Sfid(raw_sfid(A, B, "BADDATE", 10))
        .to_bytes(oftp2_codec::ProtocolLevel::V2_0)
        .unwrap()
        .to_vec();
    let date = sfid.windows(8).position(|w| w == b"20261123").unwrap();
    sfid[date..date + 8].copy_from_slice(b"20261341");
    raw.send(&sfid).await;
    expect_end(&mut raw, EsidReason::COMMAND_CONTAINED_INVALID_DATA, "malformed SFID").await;
    expected_ends.push((sessions, EsidReason::COMMAND_CONTAINED_INVALID_DATA));
    sessions += 1;

    // Garbage octets after SSID (no stream transmission header): 07.
    let mut raw = logged_in(&address, A, 4096, 8).await;
    raw.send_raw(&binary(300, 99)).await;
    expect_end(&mut raw, EsidReason::EXCHANGE_BUFFER_SIZE_ERROR, "garbage after SSID").await;
    expected_ends.push((sessions, EsidReason::EXCHANGE_BUFFER_SIZE_ERROR));
    sessions += 1;

    // Framed garbage after SSID: an unknown command, 01.
    let mut raw = logged_in(&address, A, 4096, 8).await;
    raw.send(&binary(300, 98)[1..]).await;
    let esid = raw.expect_esid(WAIT).await;
    assert!(
        [
            EsidReason::COMMAND_NOT_RECOGNISED,
            EsidReason::COMMAND_CONTAINED_INVALID_DATA,
            EsidReason::EXCHANGE_BUFFER_SIZE_ERROR
        ]
        .contains(&esid.reason),
        "framed garbage: ESID {}",
        esid.reason
    );
    sessions += 1;

    // A peer that goes silent mid-file (SFID accepted, no DATA): 09, partial kept.
    let mut raw = logged_in(&address, A, 4096, 8).await;
    raw.send_command(&Command::Sfid(raw_sfid(A, B, "SILENT.U", 100_000))).await;
    assert!(matches!(raw.recv_command(WAIT).await, Some(Command::Sfpa(_))));
    expect_end(&mut raw, EsidReason::TIME_OUT, "silent mid-file").await;
    expected_ends.push((sessions, EsidReason::TIME_OUT));
    sessions += 1;

    // The responder reported every session, each ended as its peer deserved. Sessions
    // run in tasks of their own, so their reports come in the order they finish: match
    // each expected end to a report of its own.
    let reports = serving.wait_reports(sessions, WAIT).await;
    let mut unmatched: Vec<_> = reports.iter().map(|r| r.as_ref().unwrap()).collect();
    for (index, reason) in &expected_ends {
        let found = unmatched.iter().position(|report| ended_local(report, *reason));
        let found = found.unwrap_or_else(|| {
            let ends: Vec<_> = unmatched.iter().map(|r| &r.end).collect();
            panic!("session {index} should have ended with {reason}; the unmatched ends: {ends:?}")
        });
        unmatched.swap_remove(found);
    }
    assert!(b.inbox(A).is_empty(), "nothing was delivered");

    // It still serves a well-behaved partner.
    let a = site(A, vec![partner(B, A, Transport::PlainTcp, Some(address.clone()))], params());
    let file = TestFile::new("AFTER.U", RecordFormat::Unstructured, 0, binary(50_000, 1));
    queue(&a, B, &file);
    let report = a.node.connect(&id(B), None).await.unwrap();
    assert!(report.end.is_normal(), "{:?}", report.end);
    assert_eq!(b.inbox(A).len(), 1);
    assert_eq!(b.inbox(A)[0].1, file.data);
    serving.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_responder_whose_peer_stops_reading_ends_by_timeout() {
    let big = Params { buffer_size: 99_999, credit: 999, idle: IDLE };
    let b = site(B, vec![partner(C, B, Transport::PlainTcp, None)], big);
    // More than the socket buffers hold: its 999 credits allow 100 MB unanswered.
    queue(&b, C, &TestFile::new("FLOOD.U", RecordFormat::Unstructured, 0, binary(16 << 20, 5)));
    let serving = serve(&b.node, ServerSecurity::PlainTcp).await;

    let raw = RawPeer::connect_small_window(&serving.address).await;
    let mut raw = login(raw, C, 99_999, 999).await;
    // Give the responder the turn: it offers its file, we accept and read no more.
    raw.send(b"R").await;
    match raw.recv_command(WAIT).await {
        Some(Command::Sfid(sfid)) => assert_eq!(sfid.dataset_name.as_str(), "FLOOD.U"),
        other => panic!("expected SFID, got {other:?}"),
    }
    raw.send_command(&Command::Sfpa(Sfpa { answer_count: RestartPosition::ZERO })).await;
    let started = Instant::now();
    let reports = serving.wait_reports(1, Duration::from_secs(20)).await;
    let report = reports[0].as_ref().unwrap();
    eprintln!("ended after {:?}: {:?}", started.elapsed(), report.end);
    assert!(ended_local(report, EsidReason::TIME_OUT), "{:?}", report.end);
    assert!(
        format!("{:?}", report.end).contains("read nothing"),
        "a write timed out: {:?}",
        report.end
    );
    // The responder dropped the connection.
    assert!(raw.closed_within(Duration::from_secs(10)).await);
    // The file stays queued, with what went out recorded for a restart.
    let entries = b.store().outgoing_all(&id(C)).unwrap();
    assert_eq!(entries[0].state, OutgoingState::Queued);
    assert!(entries[0].progress.octets > 0, "{:?}", entries[0].progress);
    serving.stop().await;
}

/// An initiator A whose partner B is the raw responder listening here.
async fn initiator_against_raw() -> (Site, TcpListener) {
    initiator_with(params()).await
}

async fn initiator_with(params: Params) -> (Site, TcpListener) {
    let listener = listen_small_window();
    let address = listener.local_addr().unwrap().to_string();
    let a = site(A, vec![partner(B, A, Transport::PlainTcp, Some(address))], params);
    (a, listener)
}

/// Runs `a.connect(B)` against the raw responder `script`, both bounded in time.
async fn run_against<F, Fut>(a: &Site, listener: TcpListener, script: F) -> SessionReport
where
    F: FnOnce(RawPeer) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let b = id(B);
    let connect = a.node.connect(&b, None);
    let respond = async {
        let (stream, _) = listener.accept().await.unwrap();
        script(RawPeer::new(stream)).await;
    };
    let (report, ()) =
        tokio::time::timeout(Duration::from_secs(20), async { tokio::join!(connect, respond) })
            .await
            .expect("the initiator's session must end by itself");
    report.unwrap_or_else(|e: NodeError| panic!("connect failed: {e}"))
}

/// What a raw responder sends after the SSID exchange.
enum Junk {
    /// One exchange buffer, framed.
    Framed(Vec<u8>),
    /// Octets without a stream transmission header.
    Raw(Vec<u8>),
    /// One framed buffer, once A has sent CD.
    AfterCd(Vec<u8>),
}

/// The raw responder's SSID for A.
fn b_ssid(buffer: u64, credit: u64) -> Command {
    Command::Ssid(raw_ssid(B, &password_of(B), buffer, credit))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_initiator_ends_hostile_sessions_with_the_right_esid() {
    // An unknown command instead of SSRM: 01.
    let (a, listener) = initiator_against_raw().await;
    let report = run_against(&a, listener, |mut raw| async move {
        raw.send(b"Qhello").await;
        let esid = raw.expect_esid(WAIT).await;
        assert_esid(&esid, EsidReason::COMMAND_NOT_RECOGNISED);
    })
    .await;
    assert!(ended_local(&report, EsidReason::COMMAND_NOT_RECOGNISED), "{:?}", report.end);

    // SSID before SSRM: 02.
    let (a, listener) = initiator_against_raw().await;
    let report = run_against(&a, listener, |mut raw| async move {
        raw.send_command(&b_ssid(4096, 8)).await;
        assert_esid(&raw.expect_esid(WAIT).await, EsidReason::PROTOCOL_VIOLATION);
    })
    .await;
    assert!(ended_local(&report, EsidReason::PROTOCOL_VIOLATION), "{:?}", report.end);

    // SSRM, then silence: 09 after the idle timeout.
    let (a, listener) = initiator_against_raw().await;
    let started = Instant::now();
    let report = run_against(&a, listener, |mut raw| async move {
        raw.send_command(&Command::Ssrm(Ssrm)).await;
        assert!(matches!(raw.recv_command(WAIT).await, Some(Command::Ssid(_))));
        assert_esid(&raw.expect_esid(WAIT).await, EsidReason::TIME_OUT);
    })
    .await;
    assert!(ended_local(&report, EsidReason::TIME_OUT), "{:?}", report.end);
    assert!(started.elapsed() < IDLE + Duration::from_secs(3));

    // SSID answers A must refuse: another code (03), a wrong password (04), a buffer
    // above what A offered (10).
    let stranger = raw_ssid(C, &password_of(B), 4096, 8);
    let wrong_password = raw_ssid(B, "WRONG", 4096, 8);
    let too_big = raw_ssid(B, &password_of(B), 8192, 8);
    let answers = [
        (stranger, EsidReason::USER_CODE_NOT_KNOWN),
        (wrong_password, EsidReason::INVALID_PASSWORD),
        (too_big, EsidReason::MODE_OR_CAPABILITIES_INCOMPATIBLE),
    ];
    for (answer, reason) in answers {
        let (a, listener) = initiator_against_raw().await;
        let report = run_against(&a, listener, |mut raw| async move {
            raw.send_command(&Command::Ssrm(Ssrm)).await;
            assert!(matches!(raw.recv_command(WAIT).await, Some(Command::Ssid(_))));
            raw.send_command(&Command::Ssid(answer)).await;
            assert_esid(&raw.expect_esid(WAIT).await, reason);
        })
        .await;
        assert!(ended_local(&report, reason), "{:?}", report.end);
        assert!(report.negotiated.is_none());
    }

    // After the SSID exchange: a buffer over the negotiated SSIDSDEB (128), 07; octets
    // without a stream transmission header, 07; a malformed SFID once A has given us the
    // turn (it has nothing to send), 06.
    let mut bad_sfid = Command::Sfid(raw_sfid(B, A, "BAD", 1))
        .to_bytes(oftp2_codec::ProtocolLevel::V2_0)
        .unwrap()
        .to_vec();
    let at = bad_sfid.windows(8).position(|w| w == b"20261123").unwrap();
    bad_sfid[at..at + 8].copy_from_slice(b"2026AB23");
    let cases = [
        (128, Junk::Framed(vec![b'E'; 500]), EsidReason::EXCHANGE_BUFFER_SIZE_ERROR),
        (4096, Junk::Raw(binary(100, 3)), EsidReason::EXCHANGE_BUFFER_SIZE_ERROR),
        (4096, Junk::AfterCd(bad_sfid), EsidReason::COMMAND_CONTAINED_INVALID_DATA),
    ];
    for (buffer, junk, reason) in cases {
        let (a, listener) = initiator_against_raw().await;
        let report = run_against(&a, listener, |mut raw| async move {
            raw.send_command(&Command::Ssrm(Ssrm)).await;
            assert!(matches!(raw.recv_command(WAIT).await, Some(Command::Ssid(_))));
            raw.send_command(&b_ssid(buffer, 8)).await;
            match junk {
                Junk::Framed(octets) => raw.send(&octets).await,
                Junk::Raw(octets) => raw.send_raw(&octets).await,
                Junk::AfterCd(octets) => {
                    assert!(matches!(raw.recv_command(WAIT).await, Some(Command::Cd)));
                    raw.send(&octets).await;
                }
            }
            assert_esid(&raw.expect_esid(WAIT).await, reason);
        })
        .await;
        assert!(ended_local(&report, reason), "{:?}", report.end);
        assert!(a.inbox(B).is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_initiator_whose_peer_stops_reading_ends_by_timeout() {
    let (a, listener) =
        initiator_with(Params { buffer_size: 99_999, credit: 999, idle: IDLE }).await;
    queue(&a, B, &TestFile::new("FLOOD.U", RecordFormat::Unstructured, 0, binary(16 << 20, 6)));
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let started = Instant::now();
    let report = run_against(&a, listener, |mut raw| async move {
        raw.send_command(&Command::Ssrm(Ssrm)).await;
        assert!(matches!(raw.recv_command(WAIT).await, Some(Command::Ssid(_))));
        raw.send_command(&b_ssid(99_999, 999)).await;
        assert!(matches!(raw.recv_command(WAIT).await, Some(Command::Sfid(_))));
        raw.send_command(&Command::Sfpa(Sfpa { answer_count: RestartPosition::ZERO })).await;
        // Read no more, but keep the connection open until the initiator gave up.
        tokio::spawn(async move {
            let _ = stop_rx.await;
            drop(raw);
        });
    })
    .await;
    let _ = stop_tx.send(());
    eprintln!("ended after {:?}: {:?}", started.elapsed(), report.end);
    assert!(ended_local(&report, EsidReason::TIME_OUT), "{:?}", report.end);
    assert!(
        format!("{:?}", report.end).contains("read nothing"),
        "a write timed out: {:?}",
        report.end
    );
    let entries = a.store().outgoing_all(&id(B)).unwrap();
    assert_eq!(entries[0].state, OutgoingState::Queued);
}
