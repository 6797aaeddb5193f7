//! Faults between two nodes over real sockets on 127.0.0.1: a proxy forwarding stream
//! transmission buffers cuts the connection after every Nth buffer of a session (both
//! ways), during EFID/EFPA and during EERP/RTR; the initiator reconnects until both
//! outboxes are settled, and every file must arrive byte-identical exactly once, every
//! outbox entry end Delivered, and interrupted large files resume (SFIDREST, SFPAACNT).
//! Storage faults on a tiny tmpfs become SFNA 06 or EFNA and leave nothing in the inbox.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a panic is a failure

mod session_support;
#[cfg(feature = "tls")]
mod transport_support;

use std::time::{Duration, Instant};

use oftp2_codec::command::Efid;
use oftp2_codec::fields::{BufferSize, RecordFormat};
use oftp2_codec::reason::{EfnaReason, EsidReason, SfnaReason};
use oftp2_codec::record::{FileEncoder, FileSettings};
use oftp2_codec::Command;
use oftp2_session::config::Transport;
use oftp2_session::driver::{OutgoingOutcome, SessionReport};
use oftp2_session::engine::SessionEnd;
use oftp2_session::store::{FileStore, OutgoingState, RefusalReason};
use oftp2_session::transport::ServerSecurity;
use session_support::*;

const U: RecordFormat = RecordFormat::Unstructured;
const F: RecordFormat = RecordFormat::Fixed;
const T: RecordFormat = RecordFormat::Text;

/// Two sites talking through a cutting proxy: A initiates, B serves.
struct Pair {
    a: Site,
    b: Site,
    serving: Serving,
    proxy: Proxy,
    to_b: Vec<TestFile>,
    to_a: Vec<TestFile>,
}

async fn pair(params: Params, to_b: Vec<TestFile>, to_a: Vec<TestFile>, plans: Vec<Cut>) -> Pair {
    let b = site(B, vec![partner(A, B, Transport::PlainTcp, None)], params);
    let serving = serve(&b.node, ServerSecurity::PlainTcp).await;
    let proxy = Proxy::start(&serving.address, plans).await;
    let a = site(A, vec![partner(B, A, Transport::PlainTcp, Some(proxy.address.clone()))], params);
    for file in &to_b {
        queue(&a, B, file);
    }
    for file in &to_a {
        queue(&b, A, file);
    }
    Pair { a, b, serving, proxy, to_b, to_a }
}

/// What one run of sessions did.
struct Run {
    initiator: Vec<Result<SessionReport, String>>,
    responder: Vec<Result<SessionReport, String>>,
}

impl Pair {
    /// Opens sessions (through the proxy, which applies its plans) until both sides are
    /// settled, at most `max` of them.
    async fn run_until_settled(&self, max: usize) -> Run {
        let mut initiator = Vec::new();
        // Sessions the responder surely ran and reports: those that got past SSID. (One
        // cut in the TLS handshake or before SSID may leave it without a session.)
        let mut started = 0;
        for _ in 0..max {
            let report =
                tokio::time::timeout(Duration::from_secs(20), self.a.node.connect(&id(B), None))
                    .await
                    .expect("a session must end by itself")
                    .map_err(|e| e.to_string());
            started += usize::from(report.as_ref().is_ok_and(|r| r.negotiated.is_some()));
            initiator.push(report);
            self.serving.wait_reports(started, Duration::from_secs(10)).await;
            if self.a.settled_with(B) && self.b.settled_with(A) {
                break;
            }
        }
        let responder = self.serving.reports.lock().unwrap().clone();
        assert!(
            self.a.settled_with(B) && self.b.settled_with(A),
            "not settled after {max} sessions: A's outbox {:?}, B's outbox {:?}",
            states(&self.a, B),
            states(&self.b, A)
        );
        Run { initiator, responder }
    }

    /// Every file arrived exactly once, byte-identical, and nothing else did.
    fn assert_delivered_once(&self, context: &str) {
        check_inbox(&self.b, A, &self.to_b, context);
        check_inbox(&self.a, B, &self.to_a, context);
    }
}

fn states(site: &Site, to: &str) -> Vec<(String, OutgoingState)> {
    site.store()
        .outgoing_all(&id(to))
        .unwrap()
        .into_iter()
        .map(|e| (e.sfid.dataset_name.to_string(), e.state))
        .collect()
}

fn check_inbox(site: &Site, from: &str, expected: &[TestFile], context: &str) {
    let mut got: Vec<Vec<u8>> = site.inbox(from).into_iter().map(|(_, data)| data).collect();
    let mut want: Vec<Vec<u8>> = expected.iter().map(|f| f.data.clone()).collect();
    got.sort();
    want.sort();
    if got != want {
        let names: Vec<String> = site
            .inbox(from)
            .into_iter()
            .map(|(n, d)| format!("{n} ({} octets)", d.len()))
            .collect();
        panic!(
            "{context}: {}'s inbox holds {names:?}, expected {:?}",
            site.node.config().odette_id,
            expected
                .iter()
                .map(|f| format!("{} ({} octets)", f.name, f.data.len()))
                .collect::<Vec<_>>()
        );
    }
}

/// Sessions after the cut one ran without a fault: they must end normally on both sides.
fn assert_later_sessions_normal(run: &Run, context: &str) {
    for (i, report) in run.initiator.iter().enumerate().skip(1) {
        let report =
            report.as_ref().unwrap_or_else(|e| panic!("{context}: session {i} failed: {e}"));
        assert!(report.end.is_normal(), "{context}: initiator session {i} ended {:?}", report.end);
    }
    // The responder reports in the order its sessions ended: all but the cut one normal.
    let abnormal: Vec<_> = run
        .responder
        .iter()
        .filter(|r| !r.as_ref().is_ok_and(|report| report.end.is_normal()))
        .collect();
    assert!(abnormal.len() <= 1, "{context}: responder sessions {abnormal:?}");
}

fn small_files() -> (Vec<TestFile>, Vec<TestFile>) {
    let to_b = vec![
        TestFile::new("EMPTY.U", U, 0, Vec::new()),
        TestFile::new("ONE.U", U, 0, vec![0x5A]),
        TestFile::new("FIXED.F80", F, 80, content(80 * 40, 1)),
        TestFile::new("LINES.T", T, 0, text_lines(90, 2)),
        TestFile::new("MEDIUM.U", U, 0, binary(20 * 1024 + 3, 3)),
    ];
    let to_a = vec![
        TestFile::new("BACK.U", U, 0, binary(5 * 1024 + 1, 4)),
        TestFile::new("BACK.F80", F, 80, content(80 * 12, 5)),
    ];
    (to_b, to_a)
}

fn sweep_params() -> Params {
    Params { buffer_size: 2048, credit: 3, idle: Duration::from_secs(5) }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_after_every_stream_buffer_of_a_session_loses_and_duplicates_nothing() {
    let started = Instant::now();
    let (to_b, to_a) = small_files();

    // One session without faults: how many stream buffers it takes.
    let clean = pair(sweep_params(), to_b.clone(), to_a.clone(), vec![]).await;
    let run = clean.run_until_settled(1).await;
    assert_eq!(run.initiator.len(), 1);
    clean.assert_delivered_once("without a cut");
    let total = clean.proxy.buffers(0).len();
    let downs = clean.proxy.buffers(0).iter().filter(|(w, _)| *w == Way::Down).count();
    eprintln!("a whole session is {total} stream buffers ({downs} from the responder)");
    assert!(total > 40, "the session should span many buffers: {total}");

    // Cut after every number of buffers, from before SSRM to before the last ESID.
    let mut resumes = 0;
    for n in 0..total {
        let context = format!("cut after {n} of {total} buffers");
        let pair =
            pair(sweep_params(), to_b.clone(), to_a.clone(), vec![Cut::AfterBuffers(n)]).await;
        let run = pair.run_until_settled(5).await;
        assert_eq!(pair.proxy.buffers(0).len(), n, "{context}: the cut came where planned");
        pair.assert_delivered_once(&context);
        assert_later_sessions_normal(&run, &context);
        let resumed = pair.proxy.commands().iter().any(|(c, w, command)| {
            matches!(command, Command::Sfpa(sfpa) if *c > 0 && *w == Way::Down && sfpa.answer_count.get() > 0)
        });
        resumes += usize::from(resumed);
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the sweep is too slow ({n} of {total})"
        );
    }
    // Cuts inside MEDIUM.U (20 KiB, 1 KiB restart blocks) resume where they broke.
    eprintln!("{resumes} of {total} cuts were followed by a restart of A's file");
    assert!(resumes >= 3, "restarts after cuts in MEDIUM.U: {resumes}");
    eprintln!("sweep of {total} cuts took {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cuts_during_efid_efpa_and_eerp_rtr_in_both_directions() {
    let (to_b, to_a) = small_files();
    // Drop the connection instead of forwarding the nth such command going that way.
    let points = [
        (b'T', Way::Up, 1, "A's first EFID"),
        (b'T', Way::Up, 5, "A's last EFID"),
        (b'4', Way::Down, 1, "B's first EFPA"),
        (b'4', Way::Down, 5, "B's last EFPA (with CD requested)"),
        (b'T', Way::Down, 2, "B's last EFID"),
        (b'4', Way::Up, 1, "A's first EFPA"),
        (b'4', Way::Up, 2, "A's last EFPA"),
        (b'E', Way::Down, 1, "B's first EERP"),
        (b'E', Way::Down, 5, "B's last EERP"),
        (b'P', Way::Up, 1, "A's first RTR"),
        (b'P', Way::Up, 5, "A's last RTR"),
        (b'E', Way::Up, 1, "A's first EERP"),
        (b'P', Way::Down, 2, "B's last RTR"),
        (b'R', Way::Up, 1, "A's CD"),
        (b'F', Way::Up, 1, "the closing ESID"),
        (b'F', Way::Down, 1, "the closing ESID"),
    ];
    let mut triggered = 0;
    for (code, way, nth, what) in points {
        let context = format!("cut at {what} ({}, {way:?}, #{nth})", code as char);
        let cut = Cut::AtCommand { code, way, nth };
        let pair = pair(sweep_params(), to_b.clone(), to_a.clone(), vec![cut]).await;
        let run = pair.run_until_settled(5).await;
        let first = pair.proxy.buffers(0);
        let seen = first.iter().filter(|(w, b)| *w == way && b[0] == code).count();
        if seen < nth && run.initiator.len() > 1 {
            triggered += 1;
        }
        pair.assert_delivered_once(&context);
        assert_later_sessions_normal(&run, &context);
    }
    assert!(triggered >= 13, "most planned cuts must hit: {triggered}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_stalls_ends_by_timeout_on_both_sides_and_resumes() {
    let (to_b, to_a) = small_files();
    let params = Params { idle: Duration::from_millis(400), ..sweep_params() };
    // Stall before SSID, mid-data up, at the first EFPA, mid-data down, before an RTR.
    for n in [1, 20, 30, 60, 70] {
        let context = format!("stalled after {n} buffers");
        let started = Instant::now();
        let pair = pair(params, to_b.clone(), to_a.clone(), vec![Cut::StallAfter(n)]).await;
        let run = pair.run_until_settled(4).await;
        pair.assert_delivered_once(&context);
        assert_later_sessions_normal(&run, &context);
        // The stalled session ended by the idle timeout on one side at least, and not
        // normally on either.
        let responder =
            pair.serving.wait_reports(run.initiator.len(), Duration::from_secs(5)).await;
        // Reports come in the order sessions finish: the stalled one may end after the
        // next has begun. It is the one that did not end normally.
        let stalled = responder
            .iter()
            .find(|r| !matches!(r, Ok(report) if report.end.is_normal()))
            .unwrap_or_else(|| panic!("{context}: every responder session ended normally"));
        let first = [&run.initiator[0], stalled];
        let timed_out = first.iter().any(|r| {
            matches!(r, Ok(report) if matches!(&report.end, SessionEnd::Local { reason, .. } if *reason == EsidReason::TIME_OUT))
        });
        assert!(timed_out, "{context}: {first:?}");
        assert!(first.iter().all(|r| !matches!(r, Ok(report) if report.end.is_normal())));
        assert!(started.elapsed() < Duration::from_secs(10), "{context}: {:?}", started.elapsed());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupted_large_files_resume_where_they_broke() {
    let params = Params { buffer_size: 16 * 1024, credit: 8, idle: Duration::from_secs(5) };
    let to_b = vec![
        TestFile::new("BIG.U", U, 0, binary(3 * 1024 * 1024 + 100, 7)),
        TestFile::new("AFTER.F80", F, 80, content(80 * 300, 8)),
    ];
    let to_a = vec![
        TestFile::new("BIGBACK.U", U, 0, binary(2 * 1024 * 1024 + 5, 9)),
        TestFile::new("SMALL.T", T, 0, text_lines(40, 10)),
    ];
    let plans = vec![
        // Two cuts in A's big file, then one in B's, then one right after B's restart.
        Cut::AtCommand { code: b'D', way: Way::Up, nth: 90 },
        Cut::AtCommand { code: b'D', way: Way::Up, nth: 40 },
        Cut::AtCommand { code: b'D', way: Way::Down, nth: 70 },
        Cut::AtCommand { code: b'D', way: Way::Down, nth: 10 },
    ];
    let pair = pair(params, to_b, to_a, plans).await;
    let run = pair.run_until_settled(8).await;
    pair.assert_delivered_once("large files");
    assert!(run.initiator.len() >= 5, "every planned cut hit: {} sessions", run.initiator.len());

    let commands = pair.proxy.commands();
    let restarts = |way: Way| -> Vec<(u64, u64)> {
        // (SFIDREST offered, SFPAACNT answered) for every SFID that went `way`.
        let mut out = Vec::new();
        let mut offered = None;
        for (_, w, command) in &commands {
            match command {
                Command::Sfid(sfid) if *w == way => offered = Some(sfid.restart_position.get()),
                Command::Sfpa(sfpa) if *w != way => {
                    out.push((offered.take().unwrap(), sfpa.answer_count.get()));
                }
                _ => {}
            }
        }
        out
    };
    let up = restarts(Way::Up);
    let down = restarts(Way::Down);
    eprintln!("A's SFIDREST/SFPAACNT: {up:?}; B's: {down:?}");
    assert!(
        up.iter().filter(|(rest, acnt)| *rest > 0 && *acnt > 0).count() >= 2,
        "A's big file resumed twice: {up:?}"
    );
    assert!(
        down.iter().any(|(rest, acnt)| *rest > 0 && *acnt > 0),
        "B's big file resumed: {down:?}"
    );
    for (rest, acnt) in up.iter().chain(&down) {
        assert!(acnt <= rest, "SFPAACNT {acnt} above SFIDREST {rest}");
    }
    // Each big file was sent in full less than twice over: the restarts saved the rest.
    let data_up: usize = commands
        .iter()
        .filter(|(_, w, c)| *w == Way::Up && matches!(c, Command::Data(_)))
        .map(|(_, _, c)| if let Command::Data(d) = c { d.payload.len() } else { 0 })
        .sum();
    assert!(
        data_up < 2 * 3 * 1024 * 1024,
        "{data_up} octets of DATA for a 3 MiB file and a small one"
    );
    for report in run.initiator.iter().flatten() {
        for outcome in &report.sent {
            assert!(matches!(outcome, OutgoingOutcome::Sent { .. }), "{outcome:?}");
        }
    }
}

// ------------------------------------------------------------------ storage faults

/// A tmpfs mounted for one test, unmounted on drop.
struct Tmpfs {
    path: std::path::PathBuf,
}

impl Tmpfs {
    fn mount(path: &std::path::Path, size: &str) -> Option<Self> {
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(path)
            .stderr(std::process::Stdio::null())
            .status();
        match status {
            Ok(status) if status.success() => Some(Tmpfs { path: path.to_owned() }),
            _ => {
                eprintln!("SKIPPED: cannot mount a tmpfs here (not root?): the full-disk part is not tested");
                None
            }
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_answers_sfna_06_or_efna_and_shows_no_partial_file() {
    let mount_dir = tempfile::tempdir().unwrap();
    let Some(_tmpfs) = Tmpfs::mount(mount_dir.path(), "256k") else { return };
    let params = Params { buffer_size: 4096, credit: 8, idle: Duration::from_secs(5) };
    let b_config = config(B, vec![partner(A, B, Transport::PlainTcp, None)], params);
    let b_store =
        oftp2_session::store::FsStore::open(mount_dir.path().join("store"), id(B)).unwrap();
    let b = Site {
        node: oftp2_session::node::Node::new(
            std::sync::Arc::new(b_config),
            std::sync::Arc::new(b_store),
        ),
        dir: scratch(),
    };
    let serving = serve(&b.node, ServerSecurity::PlainTcp).await;
    let a =
        site(A, vec![partner(B, A, Transport::PlainTcp, Some(serving.address.clone()))], params);

    // Announced larger than the disk: SFNA 06 with retry; the small file still arrives.
    let small = TestFile::new("SMALL.T", T, 0, text_lines(30, 1));
    queue(&a, B, &TestFile::new("TOOBIG.U", U, 0, binary(400 * 1024, 2)));
    queue(&a, B, &small);
    let report = a.node.connect(&id(B), None).await.unwrap();
    assert!(report.end.is_normal(), "{:?}", report.end);
    let refused: Vec<_> =
        report.sent.iter().filter(|o| matches!(o, OutgoingOutcome::Refused { .. })).collect();
    assert_eq!(refused.len(), 1, "{:?}", report.sent);
    let entry = a.store().outgoing(&id(B)).unwrap();
    assert_eq!(entry.len(), 1, "the big file stays queued for a retry");
    let refusal = entry[0].last_refusal.clone().unwrap();
    assert_eq!(refusal.reason, RefusalReason::Sfna(SfnaReason::FILE_TOO_BIG), "{refusal:?}");
    assert!(refusal.retry);
    let inbox = b.inbox(A);
    assert!(inbox.len() == 1 && inbox[0].1 == small.data, "only SMALL.T arrived");
    serving.wait_reports(1, Duration::from_secs(5)).await;

    // A sender that announces 1 KiB and sends 400 KiB: the disk fills while writing,
    // EFID is answered with EFNA, and nothing appears in the inbox.
    let mut raw = RawPeer::connect(&serving.address).await;
    assert!(matches!(raw.recv_command(Duration::from_secs(5)).await, Some(Command::Ssrm(_))));
    raw.send_command(&Command::Ssid(raw_ssid(A, &password_of(A), 4096, 8))).await;
    assert!(matches!(raw.recv_command(Duration::from_secs(5)).await, Some(Command::Ssid(_))));
    raw.send_command(&Command::Sfid(raw_sfid(A, B, "LIAR.U", 1024))).await;
    match raw.recv_command(Duration::from_secs(5)).await {
        Some(Command::Sfpa(sfpa)) => assert_eq!(sfpa.answer_count.get(), 0),
        other => panic!("expected SFPA, got {other:?}"),
    }
    let mut encoder =
        FileEncoder::new(FileSettings::unstructured(), BufferSize::new(4096).unwrap(), false)
            .unwrap();
    let lie = binary(400 * 1024, 3);
    let mut credit = 8;
    let mut sent = 0;
    let mut counts = None;
    for chunk in lie.chunks(4000) {
        encoder.push(chunk).unwrap();
        if sent + chunk.len() == lie.len() {
            counts = Some(encoder.finish().unwrap());
        }
        sent += chunk.len();
        while let Some(buffer) = encoder.pop_buffer() {
            if credit == 0 {
                match raw.recv_command(Duration::from_secs(5)).await {
                    Some(Command::Cdt) => credit = 8,
                    other => panic!("expected CDT, got {other:?}"),
                }
            }
            raw.send(&buffer).await;
            credit -= 1;
        }
    }
    let counts = counts.unwrap();
    let (record_count, unit_count) = counts.efid(U);
    raw.send_command(&Command::Efid(Efid { record_count, unit_count })).await;
    let answer = loop {
        match raw.recv_command(Duration::from_secs(5)).await {
            Some(Command::Cdt) => {}
            other => break other,
        }
    };
    match answer {
        Some(Command::Efna(efna)) => {
            eprintln!("EFNA {}: {}", efna.reason, efna.text.as_str());
            assert_eq!(efna.reason, EfnaReason::ACCESS_METHOD_FAILURE);
        }
        other => panic!("expected EFNA, got {other:?}"),
    }
    assert_eq!(b.inbox(A).len(), 1, "no partial file visible in the inbox");
    drop(raw);
    serving.wait_reports(2, Duration::from_secs(10)).await;

    // The failed file's space is given back: the big file, retried, still does not fit
    // (SFNA 06 again), but a small file that fits is received.
    let second = TestFile::new("SECOND.U", U, 0, binary(60 * 1024, 4));
    queue(&a, B, &second);
    let report = a.node.connect(&id(B), None).await.unwrap();
    assert!(report.end.is_normal(), "{:?}", report.end);
    let got: Vec<(String, usize)> = b.inbox(A).into_iter().map(|(n, d)| (n, d.len())).collect();
    assert!(
        b.inbox(A).iter().any(|(_, d)| *d == second.data),
        "after the failed file, a file that fits is received: inbox {got:?}, sent {:?}",
        report.sent
    );
    assert_eq!(got.len(), 2, "{got:?}");
    let entries = a.store().outgoing_all(&id(B)).unwrap();
    assert!(entries.iter().any(|e| e.state == OutgoingState::Queued), "TOOBIG still waits");
    serving.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixed_and_text_files_resume_too() {
    let params = Params { buffer_size: 16 * 1024, credit: 8, idle: Duration::from_secs(5) };
    for file in [
        TestFile::new("BIG.F80", F, 80, content(80 * 13_000, 11)),
        TestFile::new("BIG.T", T, 0, text_lines(20_000, 12)),
    ] {
        let context = format!("{} ({} octets)", file.name, file.data.len());
        let cut = Cut::AtCommand { code: b'D', way: Way::Up, nth: 30 };
        let pair = pair(params, vec![file], vec![], vec![cut]).await;
        let run = pair.run_until_settled(4).await;
        pair.assert_delivered_once(&context);
        assert_later_sessions_normal(&run, &context);
        let answers: Vec<u64> = pair
            .proxy
            .commands()
            .into_iter()
            .filter_map(|(c, _, command)| match command {
                Command::Sfpa(sfpa) if c == 1 => Some(sfpa.answer_count.get()),
                _ => None,
            })
            .collect();
        eprintln!("{context}: SFPAACNT after the cut {answers:?}");
        assert!(answers.first().is_some_and(|&n| n > 0), "{context}: resumed, {answers:?}");
    }
}

/// Cuts under TLS, by octets: during the handshake, in SSID, mid-data and near the end.
#[cfg(feature = "tls")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cuts_under_tls_lose_and_duplicate_nothing() {
    use oftp2_session::config::TlsFiles;
    use oftp2_session::transport::tls::server_config_for;
    use transport_support::{Pki, Usage};

    let pki = Pki::new();
    let ca = pki.ca("ca");
    let server = pki.leaf(&ca, "server", &["localhost"], Usage::Server, false);
    let tls = Transport::Tls {
        server_name: Some("localhost".into()),
        roots: Vec::new(),
        require_client_certificate: false,
    };
    let (to_b, to_a) = small_files();
    let total = usize::MAX;
    let mut measured = None;
    // The first run is clean and measures the octets of a whole session.
    let mut points = vec![total];
    let mut index = 0;
    let mut reconnected = 0;
    while index < points.len() {
        let limit = points[index];
        index += 1;
        let mut b_config = config(B, vec![partner(A, B, tls.clone(), None)], sweep_params());
        b_config.tls = Some(TlsFiles {
            roots: vec![ca.pem_file.clone()],
            certificate: Some(server.certificate_file.clone()),
            private_key: Some(server.key_file.clone()),
            require_client_certificate: false,
        });
        let security = ServerSecurity::Tls(server_config_for(&b_config).unwrap());
        let b = site_with(b_config);
        let serving = serve(&b.node, security).await;
        let plan = if limit == total { vec![] } else { vec![Cut::AfterOctets(limit)] };
        let proxy = Proxy::start_octets(&serving.address, plan).await;
        let mut a_config = config(
            A,
            vec![partner(B, A, tls.clone(), Some(proxy.address.clone()))],
            sweep_params(),
        );
        a_config.tls = Some(TlsFiles { roots: vec![ca.pem_file.clone()], ..TlsFiles::default() });
        let a = site_with(a_config);
        for file in &to_b {
            queue(&a, B, file);
        }
        for file in &to_a {
            queue(&b, A, file);
        }
        let pair = Pair { a, b, serving, proxy, to_b: to_b.clone(), to_a: to_a.clone() };
        let context = format!("TLS cut after {limit} octets");
        let run = pair.run_until_settled(5).await;
        pair.assert_delivered_once(&context);
        assert_later_sessions_normal(&run, &context);
        if limit != total {
            let first = run.initiator[0].as_ref().map(|r| &r.end);
            eprintln!("{context}: {} sessions, the first {first:?}", run.initiator.len());
            reconnected += usize::from(run.initiator.len() > 1);
        }
        if measured.is_none() {
            let octets: usize =
                pair.proxy.log.lock().unwrap().iter().map(|(_, _, b)| b.len()).sum();
            eprintln!("a whole TLS session is {octets} octets on the wire");
            assert_eq!(run.initiator.len(), 1);
            measured = Some(octets);
            // In the handshake, then spread over the session.
            points.extend([200, 1500, 3000]);
            points.extend((1..=12).map(|k| octets * k / 13));
        }
    }
    assert!(reconnected >= points.len() - 3, "most cuts forced a new session: {reconnected}");
}
