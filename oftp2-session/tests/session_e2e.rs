//! End to end: two nodes with file stores, over real sockets on 127.0.0.1, plain TCP and
//! mutual TLS; files both ways, EERPs both ways, durable delivery checked on disk.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a panic is a failure

mod transport_support;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use oftp2_codec::fields::{OdetteId, RecordFormat, RecordLength, SendReceive, UserData, Utf8Text};
use oftp2_codec::reason::EsidReason;
use oftp2_session::config::{Config, Partner, TextLineHandling, TlsFiles, Transport};
use oftp2_session::driver::{DriverError, OutgoingOutcome, SessionReport};
use oftp2_session::engine::SessionEnd;
use oftp2_session::node::Node;
use oftp2_session::protection::FileServices;
use oftp2_session::store::{FileStore, FsStore, OutgoingFile, OutgoingSource, OutgoingState};
use oftp2_session::transport::tls::server_config_for;
use oftp2_session::transport::{Listener, ServerSecurity};
use tempfile::TempDir;
use transport_support::{Pki, Usage};

const A: &str = "O0013000000000000001";
const B: &str = "O0013000000000000002";

fn id(code: &str) -> OdetteId {
    code.parse().unwrap()
}

fn partner(peer: &str, own: &str, transport: Transport, address: Option<String>) -> Partner {
    Partner {
        odette_id: id(peer),
        password: format!("PW{}", &peer[19..]).parse().unwrap(),
        our_password: format!("PW{}", &own[19..]).parse().unwrap(),
        directions: SendReceive::Both,
        buffer_size: None,
        credit: None,
        text_lines: TextLineHandling::KeepCrLf,
        address,
        transport,
        secure_authentication: false,
        file_security: Default::default(),
    }
}

struct Site {
    node: Node<FsStore>,
    _dir: TempDir,
}

fn site(own: &str, partners: Vec<Partner>, tls: Option<TlsFiles>) -> Site {
    let dir = TempDir::new().unwrap();
    let mut config = Config::new(id(own));
    config.partners = partners;
    config.tls = tls;
    config.limits.idle_timeout = Duration::from_secs(10);
    let store = FsStore::open(dir.path(), id(own)).unwrap();
    Site { node: Node::new(Arc::new(config), Arc::new(store)), _dir: dir }
}

fn queue(site: &Site, to: &str, name: &str, format: RecordFormat, lrecl: u64, data: Vec<u8>) {
    let file = OutgoingFile {
        dataset_name: name.parse().unwrap(),
        format,
        max_record_length: RecordLength::new(lrecl).unwrap(),
        description: Utf8Text::new("end to end").unwrap(),
        destination: id(to),
        originator: None,
        user_data: UserData::EMPTY,
        source: OutgoingSource::Bytes(data),
        services: FileServices::NONE,
    };
    site.node.store().queue_outgoing(&id(to), file).unwrap();
}

fn content(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| {
            b"UNH+1+ORDERS:D:96A:UN'BGM+220+4711'DTM+137:20261123:102'\r\n"
                [(i + seed as usize) % 58]
        })
        .collect()
}

/// What a failed TLS handshake was reported as, in words.
type Failures = Arc<Mutex<Vec<String>>>;

/// Starts `responder` serving on 127.0.0.1; returns its address, the sessions' reports,
/// the connections that failed their TLS handshake, and the stop switch.
async fn serve(
    responder: &Site,
    security: ServerSecurity,
) -> (String, Arc<Mutex<Vec<SessionReport>>>, Failures, tokio::sync::oneshot::Sender<()>) {
    let listener = Listener::bind("127.0.0.1:0", security).await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let reports = Arc::new(Mutex::new(Vec::new()));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let node = responder.node.clone();
    let sink = reports.clone();
    let failures = Failures::default();
    let failed = failures.clone();
    tokio::spawn(async move {
        node.serve(listener, async { stopped.await.unwrap_or(()) }, move |report| match report {
            Ok(report) => sink.lock().unwrap().push(report),
            Err(DriverError::Handshake(error)) => failed.lock().unwrap().push(error.to_string()),
            Err(error) => panic!("{error}"),
        })
        .await;
    });
    (address, reports, failures, stop)
}

fn delivered(site: &Site, from: &str) -> Vec<Vec<u8>> {
    let inbox = site.node.store().inbox(&id(from));
    let mut files: Vec<_> = std::fs::read_dir(&inbox).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

async fn wait_for_report(reports: &Arc<Mutex<Vec<SessionReport>>>, n: usize) -> SessionReport {
    for _ in 0..200 {
        if reports.lock().unwrap().len() >= n {
            return reports.lock().unwrap()[n - 1].clone();
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("no report from the responder");
}

fn assert_all_sent(report: &SessionReport, n: usize) {
    let sent = report.sent.iter().filter(|o| matches!(o, OutgoingOutcome::Sent { .. })).count();
    assert_eq!(sent, n, "{:?}", report.sent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_tcp_files_both_ways_with_receipts() {
    let responder = site(B, vec![partner(A, B, Transport::PlainTcp, None)], None);
    let (address, reports, _failures, stop) = serve(&responder, ServerSecurity::PlainTcp).await;
    let initiator = site(A, vec![partner(B, A, Transport::PlainTcp, Some(address))], None);

    let big = content(3 * 1024 * 1024 + 17, 1);
    let f80 = content(80 * 1000, 2);
    queue(&initiator, B, "BIG.U", RecordFormat::Unstructured, 0, big.clone());
    queue(&initiator, B, "FIXED.F80", RecordFormat::Fixed, 80, f80.clone());
    let back = content(20_000, 3);
    queue(&responder, A, "BACK.T", RecordFormat::Text, 0, back.clone());

    let report = initiator.node.connect(&id(B), None).await.unwrap();
    assert!(report.end.is_normal(), "{:?}", report.end);
    assert_all_sent(&report, 2);
    assert_eq!(report.received.len(), 1);
    assert_eq!(report.receipts.len(), 2, "EERPs for both files came back in the session");
    assert!(report.receipts.iter().all(|r| r.file.is_some()));

    let theirs = wait_for_report(&reports, 1).await;
    assert!(theirs.end.is_normal(), "{:?}", theirs.end);
    assert_eq!(theirs.received.len(), 2);
    assert_eq!(theirs.receipts.len(), 1);
    let mut got = delivered(&responder, A);
    got.sort_by_key(Vec::len);
    assert_eq!(got, vec![f80, big]);
    assert_eq!(delivered(&initiator, B), vec![back]);
    // Our outbox entries are settled by their EERPs.
    for entry in initiator.node.store().outgoing_all(&id(B)).unwrap() {
        assert!(matches!(entry.state, OutgoingState::Delivered { .. }), "{entry:?}");
    }
    stop.send(()).unwrap();
}

fn tls_files(dir: &Path, cert: Option<(&Path, &Path)>, roots: &Path, require: bool) -> TlsFiles {
    let _ = dir;
    TlsFiles {
        roots: vec![roots.to_owned()],
        certificate: cert.map(|c| c.0.to_owned()),
        private_key: cert.map(|c| c.1.to_owned()),
        require_client_certificate: require,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_session_and_refusals() {
    let pki = Pki::new();
    let ca = pki.ca("ca");
    let server = pki.leaf(&ca, "server", &["localhost", "127.0.0.1"], Usage::Server, false);
    let client = pki.leaf(&ca, "client", &["O0013000000000000001"], Usage::Client, false);
    let tls_partner = |require| Transport::Tls {
        server_name: Some("localhost".into()),
        roots: Vec::new(),
        require_client_certificate: require,
    };
    let responder = site(
        B,
        vec![partner(A, B, tls_partner(true), None)],
        Some(tls_files(
            pki.dir.path(),
            Some((&server.certificate_file, &server.key_file)),
            &ca.pem_file,
            false,
        )),
    );
    let server_config = server_config_for(responder.node.config()).unwrap();
    let (address, reports, failures, stop) =
        serve(&responder, ServerSecurity::Tls(server_config)).await;

    let initiator = site(
        A,
        vec![partner(B, A, tls_partner(false), Some(address.clone()))],
        Some(tls_files(
            pki.dir.path(),
            Some((&client.certificate_file, &client.key_file)),
            &ca.pem_file,
            false,
        )),
    );
    let body = content(1024 * 1024, 4);
    queue(&initiator, B, "OVER.TLS", RecordFormat::Unstructured, 0, body.clone());
    let report = initiator.node.connect(&id(B), None).await.unwrap();
    assert!(report.end.is_normal(), "{:?}", report.end);
    assert_all_sent(&report, 1);
    assert_eq!(report.receipts.len(), 1);
    assert_eq!(delivered(&responder, A), vec![body]);
    wait_for_report(&reports, 1).await;

    // Without a client certificate, a partner that must present one is refused after
    // its SSID identified it (ESID 04), and nothing is delivered.
    let anonymous = site(
        A,
        vec![partner(B, A, tls_partner(false), Some(address.clone()))],
        Some(tls_files(pki.dir.path(), None, &ca.pem_file, false)),
    );
    queue(&anonymous, B, "NO.CERT", RecordFormat::Unstructured, 0, content(100, 5));
    let report = anonymous.node.connect(&id(B), None).await.unwrap();
    assert!(
        matches!(report.end, SessionEnd::Remote { reason: EsidReason::INVALID_PASSWORD, .. }),
        "{:?}",
        report.end
    );
    assert_eq!(delivered(&responder, A).len(), 1);

    // A wrong password: ESID 04 too; the file stays queued for a later session.
    let mut wrong = partner(B, A, tls_partner(false), Some(address.clone()));
    wrong.our_password = "WRONG".parse().unwrap();
    let mistaken = site(
        A,
        vec![wrong],
        Some(tls_files(
            pki.dir.path(),
            Some((&client.certificate_file, &client.key_file)),
            &ca.pem_file,
            false,
        )),
    );
    queue(&mistaken, B, "WRONG.PW", RecordFormat::Unstructured, 0, content(100, 6));
    let report = mistaken.node.connect(&id(B), None).await.unwrap();
    assert!(matches!(report.end, SessionEnd::Remote { reason: EsidReason::INVALID_PASSWORD, .. }));
    assert_eq!(mistaken.node.store().outgoing(&id(B)).unwrap().len(), 1);

    // A server certificate from another CA: the TLS handshake fails with a clear error.
    let other = pki.ca("other");
    let stranger = site(
        A,
        vec![partner(B, A, tls_partner(false), Some(address))],
        Some(tls_files(
            pki.dir.path(),
            Some((&client.certificate_file, &client.key_file)),
            &other.pem_file,
            false,
        )),
    );
    let error = stranger.node.connect(&id(B), None).await.unwrap_err();
    assert!(error.to_string().to_lowercase().contains("certificate"), "{error}");
    // The responder reports the connection that never became a session.
    for _ in 0..200 {
        if !failures.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let failed = failures.lock().unwrap().clone();
    assert!(
        matches!(failed.as_slice(), [one] if one.contains("TLS")),
        "the failed handshake is reported: {failed:?}"
    );
    stop.send(()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_sessions_beyond_the_limit_get_esid_08() {
    let mut responder = site(B, vec![partner(A, B, Transport::PlainTcp, None)], None);
    {
        let mut config = responder.node.config().clone();
        config.limits.max_concurrent_sessions = 0;
        responder.node = Node::new(Arc::new(config), responder.node.store().clone());
    }
    let (address, _reports, _failures, stop) = serve(&responder, ServerSecurity::PlainTcp).await;
    let initiator = site(A, vec![partner(B, A, Transport::PlainTcp, Some(address))], None);
    let report = initiator.node.connect(&id(B), None).await.unwrap();
    assert!(
        matches!(
            report.end,
            SessionEnd::Remote { reason: EsidReason::RESOURCES_NOT_AVAILABLE, .. }
        ),
        "{:?}",
        report.end
    );
    stop.send(()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_application_refuses_a_file_before_data_flows() {
    use oftp2_codec::reason::SfnaReason;
    use oftp2_session::store::Refusal;
    let mut responder = site(B, vec![partner(A, B, Transport::PlainTcp, None)], None);
    responder.node = responder.node.clone().with_inbound_policy(Arc::new(|_partner, sfid| {
        if sfid.dataset_name.as_str().starts_with("PRIVATE") {
            Err(Refusal {
                reason: SfnaReason::INVALID_FILENAME,
                retry: false,
                text: "not for us".into(),
            })
        } else {
            Ok(())
        }
    }));
    let (address, reports, _failures, stop) = serve(&responder, ServerSecurity::PlainTcp).await;
    let initiator = site(A, vec![partner(B, A, Transport::PlainTcp, Some(address))], None);
    queue(&initiator, B, "PRIVATE.DATA", RecordFormat::Unstructured, 0, content(1000, 7));
    queue(&initiator, B, "PUBLIC.DATA", RecordFormat::Unstructured, 0, content(1000, 8));
    let report = initiator.node.connect(&id(B), None).await.unwrap();
    assert!(report.end.is_normal(), "{:?}", report.end);
    let refused: Vec<_> = report
        .sent
        .iter()
        .filter_map(|o| match o {
            OutgoingOutcome::Refused { why, .. } => Some(why.clone()),
            OutgoingOutcome::Sent { .. } => None,
        })
        .collect();
    assert_eq!(refused.len(), 1, "{:?}", report.sent);
    assert!(refused[0].starts_with("SFNA 01"), "{refused:?}");
    assert_all_sent(&report, 1);
    let theirs = wait_for_report(&reports, 1).await;
    assert_eq!(theirs.received.len(), 1);
    // The responder's report says which file it refused, and how.
    match theirs.refused.as_slice() {
        [refused] => {
            assert_eq!(refused.sfid.dataset_name.as_str(), "PRIVATE.DATA");
            assert_eq!(refused.sfna.reason, SfnaReason::INVALID_FILENAME);
            assert!(!refused.sfna.retry);
            assert_eq!(refused.sfna.text.as_str(), "not for us");
        }
        other => panic!("one refusal reported: {other:?}"),
    }
    assert_eq!(delivered(&responder, A).len(), 1);
    // Refused without retry: the file has failed and is not offered again.
    assert!(initiator.node.store().outgoing(&id(B)).unwrap().is_empty());
    stop.send(()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn variable_format_files_travel_with_their_record_boundaries() {
    let responder = site(B, vec![partner(A, B, Transport::PlainTcp, None)], None);
    let (address, reports, _failures, stop) = serve(&responder, ServerSecurity::PlainTcp).await;
    let initiator = site(A, vec![partner(B, A, Transport::PlainTcp, Some(address))], None);
    // Records of 0 to 299 octets, each with its §6.5 length prefix.
    let mut local = Vec::new();
    for n in 0..300u16 {
        local.extend_from_slice(&n.to_be_bytes());
        local.extend(std::iter::repeat_n(b'A' + (n % 26) as u8, usize::from(n)));
    }
    queue(&initiator, B, "VARIABLE", RecordFormat::Variable, 299, local.clone());
    let report = initiator.node.connect(&id(B), None).await.unwrap();
    assert!(report.end.is_normal(), "{:?}", report.end);
    assert_all_sent(&report, 1);
    let theirs = wait_for_report(&reports, 1).await;
    assert_eq!(theirs.received[0].counts.records, 300);
    assert_eq!(delivered(&responder, A), vec![local]);
    stop.send(()).unwrap();
}

/// `Node::queue` copies into the outbox on tokio's blocking threads: on a current-thread
/// runtime, other tasks (sessions, timers) go on while a slow source is read.
#[tokio::test(flavor = "current_thread")]
async fn queueing_through_the_node_leaves_the_runtime_running() {
    /// 1 MiB in 64 KiB pieces, 5 ms each.
    struct Slow {
        left: usize,
    }
    impl std::io::Read for Slow {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            std::thread::sleep(Duration::from_millis(5));
            let n = buf.len().min(self.left).min(64 * 1024);
            buf[..n].fill(b'x');
            self.left -= n;
            Ok(n)
        }
    }
    let site = site(A, vec![partner(B, A, Transport::PlainTcp, None)], None);
    let ticks = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counting = ticks.clone();
    let ticker = tokio::spawn(async move {
        loop {
            counting.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    });
    let file = OutgoingFile::unstructured(
        "SLOW.SOURCE".parse().unwrap(),
        id(B),
        OutgoingSource::Reader(Box::new(Slow { left: 1 << 20 })),
    );
    let queued = site.node.queue(&id(B), file).await.unwrap();
    let during = ticks.load(std::sync::atomic::Ordering::Relaxed);
    ticker.abort();
    assert!(during >= 10, "the runtime went on while the file was queued: {during} ticks");
    let outbox = site.node.store().outgoing(&id(B)).unwrap();
    assert!(matches!(outbox.as_slice(), [entry] if entry.id == queued && entry.size == 1 << 20));
}
