//! The connection checks against a local responder set up as Customs is: the check
//! passes and shows the chain; it tells a wrong CA, a wrong host name, a server that never
//! sends SSRM, one that sends something else, an expired certificate, a server demanding
//! a client certificate, and DNS and TCP failures apart; the session check ends normally
//! without moving the file waiting at Customs, and explains a refused password.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a panic is a failure

mod customs_support;

use std::time::Duration;

use bytes::BytesMut;
use futures_util::SinkExt;
use oftp2_codec::command::Esid;
use oftp2_codec::fields::RecordFormat;
use oftp2_codec::reason::EsidReason;
use oftp2_codec::Command;
use oftp2_session::engine::SessionEnd;
use oftp2_session::store::FsStore;
use oftp2_session::transport::tls::{ClientCertificates, TrustAnchors};
use oftp2_session::transport::{Listener, ServerSecurity, StbCodec, TlsProblem};
use tokio_util::codec::Framed;
use tullverket_profile::check::{check_connection, check_session, CheckError, ShowChain, Stage};
use tullverket_profile::{params, Profile};

use customs_support::{company, profile, Customs, CustomsPki, PASSWORD};

const WAIT: Duration = Duration::from_secs(5);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_check_passes_and_shows_the_chain() {
    let pki = CustomsPki::new();
    let customs = Customs::start(&pki).await;
    customs.queue("WAITING", RecordFormat::Fixed, 80, vec![b'A'; 160]);
    let profile = profile(&customs.address, &pki.root, &pki.intermediate);

    let report = check_connection(&profile, WAIT).await.unwrap();
    assert_eq!(report.chain.len(), 2, "leaf and intermediate");
    let (leaf, intermediate) = (&report.chain[0], &report.chain[1]);
    assert!(leaf.subject.contains("CN=tmf01.tullverket.se"), "{}", leaf.subject);
    assert_eq!(leaf.names, vec![params::HOST.to_owned()]);
    assert_eq!(leaf.issuer, intermediate.subject);
    assert!(intermediate.issuer.contains("Test GlobalSign Root CA"), "{}", intermediate.issuer);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    assert!(leaf.valid_at(now.as_secs() as i64));
    let shown = ShowChain(&report.chain).to_string();
    assert!(shown.starts_with("Certificate chain\n 0\n   s:"), "{shown}");
    assert!(shown.contains(" 1\n   s:"), "{shown}");
    assert!(report.tls_version.starts_with("TLSv1_"), "{}", report.tls_version);

    // Customs' first session is the connection check's, which hung up after SSRM; it
    // holds Customs' one channel until Customs has seen the close.
    assert_eq!(customs.report(1).await.end, SessionEnd::TransportLost);

    // The FAQ's second check: start and normal end, and no file moves.
    let dir = tempfile::tempdir().unwrap();
    let store = FsStore::open(dir.path(), company().odette_id()).unwrap();
    let session = check_session(&profile, &store, WAIT).await.unwrap();
    assert_eq!(session.negotiated.buffer_size, params::BUFFER_SIZE);
    assert_eq!(session.negotiated.credit, params::WINDOW_SIZE);
    assert_eq!(session.negotiated.level, params::PROTOCOL_LEVEL);
    assert_eq!(session.chain.len(), 2);
    let theirs = customs.report(2).await;
    assert!(theirs.end.is_normal(), "{:?}", theirs.end);
    assert!(theirs.received.is_empty() && theirs.sent.is_empty());
    assert_eq!(customs.waiting(), 1, "the check took no file");
    assert!(!store.inbox(&profile.customs()).exists() || dir_is_empty(&store, &profile));
}

fn dir_is_empty(store: &FsStore, profile: &Profile) -> bool {
    std::fs::read_dir(store.inbox(&profile.customs())).unwrap().next().is_none()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_ca_is_an_untrusted_chain_and_the_chain_is_still_shown() {
    let pki = CustomsPki::new();
    let customs = Customs::start(&pki).await;
    let other_root = pki.pki.ca("other-root", "Some Other Root", None);
    let other_intermediate = pki.pki.ca("other-intermediate", "Some Other CA", Some(&other_root));
    let profile = profile(&customs.address, &other_root, &other_intermediate);

    let error = check_connection(&profile, WAIT).await.unwrap_err();
    assert_eq!(error.stage(), Stage::Tls, "{error}");
    assert!(
        matches!(&error, CheckError::Tls { problem: Some(TlsProblem::UntrustedCertificate), .. }),
        "{error:?}"
    );
    assert_eq!(error.chain().len(), 2, "the refused chain is shown");
    assert!(error.chain()[0].issuer.contains("Test GlobalSign Organization Validation"));
    let advice = error.advice();
    assert!(advice.contains(params::GLOBALSIGN_ROOT_URL), "{advice}");
    assert!(advice.contains(params::GLOBALSIGN_INTERMEDIATE_URL), "{advice}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_host_name_is_a_name_mismatch() {
    let pki = CustomsPki::new();
    let customs = Customs::start(&pki).await;
    // Connecting by IP address rather than by tmf01.tullverket.se.
    let profile = Profile::builder(company())
        .password(PASSWORD.parse().unwrap())
        .globalsign(&pki.root.pem_file, &pki.intermediate.pem_file)
        .address(&customs.address)
        .server_name("127.0.0.1")
        .build()
        .unwrap();

    let error = check_connection(&profile, WAIT).await.unwrap_err();
    assert_eq!(error.stage(), Stage::Tls, "{error}");
    let CheckError::Tls { problem: Some(TlsProblem::NameMismatch { presented, .. }), .. } = &error
    else {
        panic!("not a name mismatch: {error:?}");
    };
    assert_eq!(presented, &vec![params::HOST.to_owned()]);
    assert!(
        error.advice().contains("Connect by the name tmf01.tullverket.se"),
        "{}",
        error.advice()
    );
    assert_eq!(error.chain().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_server_is_a_protocol_failure() {
    let pki = CustomsPki::new();
    let listener =
        Listener::bind("127.0.0.1:0", ServerSecurity::Tls(pki.server_config())).await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    // Accepts, completes TLS, and says nothing, for two connections.
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        for _ in 0..2 {
            held.push(listener.accept().await.unwrap());
        }
        tokio::time::sleep(Duration::from_secs(10)).await;
        drop(held);
    });
    let profile = profile(&address, &pki.root, &pki.intermediate);

    let wait = Duration::from_millis(700);
    let error = check_connection(&profile, wait).await.unwrap_err();
    assert_eq!(error.stage(), Stage::Protocol, "{error}");
    assert!(matches!(error, CheckError::NoSsrm { waited, .. } if waited == wait), "{error:?}");
    assert!(error.to_string().contains("ODETTE FTP READY"), "{error}");
    assert_eq!(error.chain().len(), 2, "TLS worked: the chain is known");

    let dir = tempfile::tempdir().unwrap();
    let store = FsStore::open(dir.path(), company().odette_id()).unwrap();
    let error = check_session(&profile, &store, wait).await.unwrap_err();
    assert_eq!(error.stage(), Stage::Session, "{error}");
    assert!(
        matches!(
            &error,
            CheckError::Session {
                end: SessionEnd::Local { reason: EsidReason::TIME_OUT, .. },
                started: false,
                ..
            }
        ),
        "{error:?}"
    );
    silent.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_sends_something_else_than_ssrm() {
    let pki = CustomsPki::new();
    let listener =
        Listener::bind("127.0.0.1:0", ServerSecurity::Tls(pki.server_config())).await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let server = tokio::spawn(async move {
        let (connection, _) = listener.accept().await.unwrap();
        let mut framed = Framed::new(connection, StbCodec::new());
        let mut esid = BytesMut::new();
        Command::Esid(Esid::new(EsidReason::RESOURCES_NOT_AVAILABLE, "busy"))
            .encode(params::PROTOCOL_LEVEL, &mut esid)
            .unwrap();
        framed.send(esid.freeze()).await.unwrap();
        tokio::time::sleep(Duration::from_secs(2)).await;
    });
    let profile = profile(&address, &pki.root, &pki.intermediate);
    let error = check_connection(&profile, WAIT).await.unwrap_err();
    assert_eq!(error.stage(), Stage::Protocol, "{error}");
    assert!(
        matches!(&error, CheckError::NotSsrm { received, .. } if received.contains("ESID")),
        "{error:?}"
    );
    server.abort();
}

#[tokio::test]
async fn dns_and_tcp_failures_are_told_apart() {
    let pki = CustomsPki::new();
    let unresolvable = profile("no-such-host.invalid:6619", &pki.root, &pki.intermediate);
    let error = check_connection(&unresolvable, WAIT).await.unwrap_err();
    assert_eq!(error.stage(), Stage::Dns, "{error}");
    assert!(error.advice().contains("does not resolve"), "{}", error.advice());

    // A port nothing listens on: bound, then closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let refused = profile(&format!("127.0.0.1:{port}"), &pki.root, &pki.intermediate);
    let error = check_connection(&refused, WAIT).await.unwrap_err();
    assert_eq!(error.stage(), Stage::Tcp, "{error}");
    assert!(error.advice().contains("firewall"), "{}", error.advice());
    assert!(error.chain().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_server_certificate_is_told_with_its_dates() {
    let pki = CustomsPki::new().with_expired_server();
    let customs = Customs::start(&pki).await;
    let profile = profile(&customs.address, &pki.root, &pki.intermediate);
    let error = check_connection(&profile, WAIT).await.unwrap_err();
    assert_eq!(error.stage(), Stage::Tls, "{error}");
    assert!(
        matches!(&error, CheckError::Tls { problem: Some(TlsProblem::Expired), .. }),
        "{error:?}"
    );
    assert!(error.chain()[0].not_after.contains("2021"), "{:?}", error.chain()[0]);
    assert!(error.advice().contains("clock"), "{}", error.advice());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_demanding_a_client_certificate_is_a_tls_failure_seen_after_the_handshake() {
    let pki = CustomsPki::new();
    let clients = ClientCertificates::Required(
        TrustAnchors::from_files(std::slice::from_ref(&pki.root.pem_file), "test").unwrap(),
    );
    let listener =
        Listener::bind("127.0.0.1:0", ServerSecurity::Tls(pki.server_config_with(clients)))
            .await
            .unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let server = tokio::spawn(async move {
        // The handshake fails on the server's side; take the connection and let it go.
        let _ = listener.accept().await;
    });
    let profile = profile(&address, &pki.root, &pki.intermediate);
    let error = check_connection(&profile, WAIT).await.unwrap_err();
    assert_eq!(error.stage(), Stage::Tls, "{error}");
    assert!(
        matches!(
            &error,
            CheckError::Tls {
                problem: Some(
                    TlsProblem::ClientCertificateRequired | TlsProblem::HandshakeRefused { .. }
                ),
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.advice().contains("no client certificate"), "{}", error.advice());
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_fails_the_session_check_with_advice() {
    let pki = CustomsPki::new();
    let customs = Customs::start(&pki).await;
    let profile = Profile::builder(company())
        .password("WRONG".parse().unwrap())
        .globalsign(&pki.root.pem_file, &pki.intermediate.pem_file)
        .address(&customs.address)
        .build()
        .unwrap();
    // The connection check does not send the password: it passes.
    check_connection(&profile, WAIT).await.unwrap();
    customs.report(1).await;

    let dir = tempfile::tempdir().unwrap();
    let store = FsStore::open(dir.path(), company().odette_id()).unwrap();
    let error = check_session(&profile, &store, WAIT).await.unwrap_err();
    assert!(
        matches!(
            &error,
            CheckError::Session {
                end: SessionEnd::Remote { reason: EsidReason::INVALID_PASSWORD, .. },
                started: false,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("ESID 04"), "{error}");
    assert!(error.advice().contains("password"), "{}", error.advice());
}
