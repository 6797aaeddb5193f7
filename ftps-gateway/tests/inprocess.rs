//! Hermetic end-to-end tests against the in-process FTPS test server
//! (client certificate required, session reuse required, gateway simulator).
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod support;

use std::time::Duration;

use ftps_gateway::{
    ClientConfig, ClientIdentity, Error, FtpsClient, Gateway, Journal, TlsVersion, TlsVersions,
    TransferMode, UploadOptions, UploadState,
};
use support::server::{self, Options, TestServer};
use support::{config, good_config, Pki};

const SERVICE: &str = "FTPSGW.Heartbeat";

#[tokio::test]
async fn upload_download_list_delete_with_session_reuse() {
    let pki = Pki::new();
    let srv = TestServer::start(&pki, Options::default()).await;
    let mut c = FtpsClient::connect(good_config(&pki, srv.addr)).await.unwrap();
    assert_eq!(c.tls_version(), Some(TlsVersion::Tls12));

    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let mut seen = 0;
    let n =
        c.upload("out/blob.bin", &data[..], TransferMode::Binary, &mut |b| seen = b).await.unwrap();
    assert_eq!(n, data.len() as u64);
    assert_eq!(seen, data.len() as u64);
    assert_eq!(srv.file("out/blob.bin").unwrap(), data);

    let back = c.download_to_vec("/out/blob.bin", 1 << 20).await.unwrap();
    assert_eq!(back, data);
    assert!(matches!(c.download_to_vec("/out/blob.bin", 1000).await, Err(Error::TooLarge { .. })));

    let names = c.list("/out").await.unwrap();
    assert_eq!(names, vec!["blob.bin".to_string()]);
    c.delete("/out/blob.bin").await.unwrap();
    assert!(c.list("/out").await.unwrap().is_empty());
    let e = c.delete("/out/blob.bin").await.unwrap_err();
    assert_eq!(e.reply_code(), Some(550), "{e}");

    // Every data connection resumed the control connection's session.
    let (full, resumed) = {
        let st = srv.state.lock().unwrap();
        (st.data_full, st.data_resumed)
    };
    assert_eq!(full, 0);
    assert!(resumed >= 5);
    assert_eq!(c.stats().opened, c.stats().resumed);
    c.quit().await.unwrap();
}

#[tokio::test]
async fn ascii_upload_sends_crlf() {
    let pki = Pki::new();
    let srv = TestServer::start(&pki, Options::default()).await;
    let mut c = FtpsClient::connect(good_config(&pki, srv.addr)).await.unwrap();
    let text = b"AKFA record one\nrecord two\r\nlast\n";
    c.upload("out/a.txt", &text[..], TransferMode::Ascii, &mut |_| {}).await.unwrap();
    let raw = srv.state.lock().unwrap().last_raw.clone();
    assert_eq!(raw, b"AKFA record one\r\nrecord two\r\nlast\r\n");
    // The server stores ASCII uploads with its own line ends (LF).
    assert_eq!(srv.file("out/a.txt").unwrap(), b"AKFA record one\nrecord two\nlast\n");
    assert!(srv.commands().iter().any(|(_, c)| c == "TYPE A"));
}

#[tokio::test]
async fn pasv_fallback_ignores_the_announced_address() {
    let pki = Pki::new();
    let srv = TestServer::start(
        &pki,
        Options { epsv: false, pasv_announce: [10, 255, 255, 1], ..Options::default() },
    )
    .await;
    let mut c = FtpsClient::connect(good_config(&pki, srv.addr)).await.unwrap();
    c.upload("out/x", &b"hello"[..], TransferMode::Binary, &mut |_| {}).await.unwrap();
    assert_eq!(c.list("out").await.unwrap(), vec!["x".to_string()]);
    let cmds: Vec<String> = srv.commands().into_iter().map(|(_, c)| c).collect();
    // EPSV tried once, then PASV only.
    assert_eq!(cmds.iter().filter(|c| *c == "EPSV").count(), 1);
    assert_eq!(cmds.iter().filter(|c| *c == "PASV").count(), 2);
}

#[tokio::test]
async fn reuse_off_gives_a_clear_error() {
    let pki = Pki::new();
    let srv = TestServer::start(&pki, Options::default()).await;
    let mut c =
        FtpsClient::connect(good_config(&pki, srv.addr).with_session_reuse(false)).await.unwrap();
    let e = c.list("/out").await.unwrap_err();
    assert!(matches!(e, Error::DataConnectionWithoutReuse { .. }), "{e:?}");
    assert!(
        e.to_string().contains("server refused data connection without TLS session reuse"),
        "{e}"
    );
    assert_eq!(e.reply_code(), Some(522));
}

#[tokio::test]
async fn no_client_certificate_is_rejected() {
    let pki = Pki::new();
    let srv = TestServer::start(&pki, Options::default()).await;
    let e =
        FtpsClient::connect(config(&pki, srv.addr, server::USER, server::PASS)).await.unwrap_err();
    assert!(matches!(e, Error::ClientCertificateRejected { .. }), "{e:?}");
    assert!(e.to_string().contains("client certificate rejected"), "{e}");
}

#[tokio::test]
async fn certificate_from_another_ca_is_rejected() {
    let pki = Pki::new();
    let srv = TestServer::start(&pki, Options::default()).await;
    let id = ClientIdentity::from_pem_files(&pki.other_ca_client.cert, &pki.other_ca_client.key)
        .unwrap();
    let e =
        FtpsClient::connect(config(&pki, srv.addr, server::USER, server::PASS).with_identity(id))
            .await
            .unwrap_err();
    assert!(matches!(e, Error::ClientCertificateRejected { .. }), "{e:?}");
}

#[tokio::test]
async fn expired_certificate_is_rejected() {
    let pki = Pki::new();
    let srv = TestServer::start(&pki, Options::default()).await;
    let id = ClientIdentity::from_pem_files(&pki.expired.cert, &pki.expired.key).unwrap();
    let e =
        FtpsClient::connect(config(&pki, srv.addr, server::USER, server::PASS).with_identity(id))
            .await
            .unwrap_err();
    assert!(matches!(e, Error::ClientCertificateRejected { .. }), "{e:?}");
    assert!(e.to_string().contains("Expired"), "{e}");
}

#[tokio::test]
async fn wrong_password_is_a_login_error() {
    let pki = Pki::new();
    let srv = TestServer::start(&pki, Options::default()).await;
    let cfg = config(&pki, srv.addr, server::USER, "wrong").with_identity(support::identity(&pki));
    let e = FtpsClient::connect(cfg).await.unwrap_err();
    assert!(matches!(e, Error::LoginRejected { .. }), "{e:?}");
    assert_eq!(e.reply_code(), Some(530));
}

#[tokio::test]
async fn untrusted_server_certificate() {
    let pki = Pki::new();
    let srv = TestServer::start(&pki, Options::default()).await;
    let cfg = ClientConfig::new("127.0.0.1", srv.addr.port(), server::USER, server::PASS)
        .with_root_pem(&std::fs::read(&pki.other_ca).unwrap())
        .unwrap()
        .with_identity(support::identity(&pki))
        .with_timeouts(support::test_timeouts());
    let e = FtpsClient::connect(cfg).await.unwrap_err();
    assert!(matches!(e, Error::ServerCertificate { .. }), "{e:?}");
}

#[tokio::test]
async fn tls11_only_server() {
    let pki = Pki::new();
    let (addr, _task) = server::start_tls11_only().await;
    let e = FtpsClient::connect(good_config(&pki, addr)).await.unwrap_err();
    assert!(matches!(e, Error::TlsVersion { .. }), "{e:?}");
    assert!(e.to_string().contains("TLS 1.2 only"), "{e}");
}

#[tokio::test]
async fn tls13_range_is_configurable() {
    let pki = Pki::new();
    let tls = server::server_tls(&pki, &[&rustls::version::TLS12, &rustls::version::TLS13]);
    let srv = TestServer::start_with_tls(tls, Options::default()).await;
    // Default: 1.2 even when the server offers 1.3.
    let c = FtpsClient::connect(good_config(&pki, srv.addr)).await.unwrap();
    assert_eq!(c.tls_version(), Some(TlsVersion::Tls12));
    let c = FtpsClient::connect(
        good_config(&pki, srv.addr)
            .with_tls_versions(TlsVersions { min: TlsVersion::Tls12, max: TlsVersion::Tls13 }),
    )
    .await
    .unwrap();
    assert_eq!(c.tls_version(), Some(TlsVersion::Tls13));
}

#[tokio::test]
async fn pkcs12_modern_and_legacy_files() {
    let pki = Pki::new();
    let srv = TestServer::start(&pki, Options::default()).await;
    for legacy in [false, true] {
        let p12 = pki.pkcs12(&pki.client, legacy);
        let info = pki.pkcs12_info(&p12);
        if legacy {
            assert!(
                info.contains("RC2") || info.contains("3DES") || info.contains("TripleDES"),
                "{info}"
            );
        } else {
            assert!(info.contains("PBES2") && info.contains("AES"), "{info}");
        }
        let id = ClientIdentity::from_pkcs12_file(&p12, support::pki::P12_PASS).unwrap();
        assert_eq!(id.chain().len(), 2, "leaf and CA");
        assert_eq!(
            id.gateway_username().unwrap(),
            format!("CVR_{}_UI_{}", support::pki::CVR, support::pki::UUID)
        );
        let user = id.gateway_username().unwrap();
        let mut c =
            FtpsClient::connect(config(&pki, srv.addr, &user, server::PASS).with_identity(id))
                .await
                .unwrap();
        c.noop().await.unwrap();
        let e = ClientIdentity::from_pkcs12_file(&p12, "wrong passphrase").unwrap_err();
        assert!(matches!(e, Error::Pkcs12Passphrase), "{e:?}");
    }
}

#[tokio::test]
async fn dropped_control_connection_is_reestablished() {
    let pki = Pki::new();
    let srv = TestServer::start(&pki, Options::default()).await;
    let mut c =
        FtpsClient::connect(good_config(&pki, srv.addr).with_idle_check(Duration::from_secs(3600)))
            .await
            .unwrap();
    c.list("out").await.unwrap();
    srv.kick_all();
    tokio::time::sleep(Duration::from_millis(100)).await;
    // The listing notices the dead connection, reconnects and retries.
    c.list("out").await.unwrap();
    assert_eq!(c.stats().control_connections, 2);
    // So does an upload, as long as STOR was not sent yet.
    srv.kick_all();
    tokio::time::sleep(Duration::from_millis(100)).await;
    c.upload("out/after-kick-1", &b"x"[..], TransferMode::Binary, &mut |_| {}).await.unwrap();
    assert_eq!(c.stats().control_connections, 3);
    assert_eq!(srv.file("out/after-kick-1").unwrap(), b"x");
    // An idle check with NOOP also reconnects.
    let mut c = FtpsClient::connect(good_config(&pki, srv.addr).with_idle_check(Duration::ZERO))
        .await
        .unwrap();
    srv.kick_all();
    tokio::time::sleep(Duration::from_millis(100)).await;
    c.upload("out/after-kick", &b"x"[..], TransferMode::Binary, &mut |_| {}).await.unwrap();
    assert_eq!(c.stats().control_connections, 2);
}

#[tokio::test]
async fn timeout_when_the_server_says_nothing() {
    let pki = Pki::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let _hold = tokio::spawn(async move {
        let (s, _) = listener.accept().await.unwrap();
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(s);
    });
    let mut t = support::test_timeouts();
    t.reply = Duration::from_millis(300);
    let started = std::time::Instant::now();
    let e = FtpsClient::connect(good_config(&pki, addr).with_timeouts(t)).await.unwrap_err();
    assert!(matches!(e, Error::Timeout { .. }), "{e:?}");
    assert!(e.to_string().contains("greeting"), "{e}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn gateway_refuses_a_used_name_before_sending() {
    let pki = Pki::new();
    let srv = TestServer::start(&pki, Options::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let client = FtpsClient::connect(good_config(&pki, srv.addr)).await.unwrap();
    let mut gw = Gateway::new(client, Journal::open(support::journal_path(&dir)).unwrap());
    let r = gw
        .upload_stream(SERVICE, "ping-1.xml", &b"<ping/>"[..], TransferMode::Binary)
        .await
        .unwrap();
    assert_eq!(r.remote_path, "FTPSGW.Heartbeat/ping-1.xml");
    assert_eq!(gw.journal().get("ping-1.xml").unwrap().unwrap().state, UploadState::Uploaded);
    let before = srv.state.lock().unwrap().stor_count;
    let e = gw
        .upload_stream(SERVICE, "ping-1.xml", &b"<ping/>"[..], TransferMode::Binary)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NameAlreadyUsed { .. }), "{e:?}");
    assert_eq!(srv.state.lock().unwrap().stor_count, before, "nothing sent");

    // Generated names are unique and valid.
    let file = dir.path().join("payload.xml");
    std::fs::write(&file, b"<ping>2</ping>").unwrap();
    let mut names = Vec::new();
    for _ in 0..3 {
        std::fs::write(&file, format!("<ping>{}</ping>", names.len())).unwrap();
        let r = gw
            .upload_file(
                SERVICE,
                &file,
                UploadOptions { name_prefix: Some("ping".into()), ..UploadOptions::default() },
            )
            .await
            .unwrap();
        assert!(r.name.starts_with("ping") && r.name.ends_with(".xml"), "{}", r.name);
        names.push(r.name);
    }
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 3);
    // The simulator answered every upload with status 1, 2 and 3.
    let out = srv.names_in("out");
    for n in &names {
        for code in 1..=3 {
            assert!(out.contains(&format!("status_{SERVICE}_{n}_{code}.xml")), "{out:?}");
        }
    }
}

#[tokio::test]
async fn simulator_reports_reused_names_with_status_0() {
    // Two clients with separate journals: the second one cannot know the
    // name was used, and the gateway answers with status 0.
    let pki = Pki::new();
    let srv = TestServer::start(&pki, Options::default()).await;
    for _ in 0..2 {
        let dir = tempfile::tempdir().unwrap();
        let client = FtpsClient::connect(good_config(&pki, srv.addr)).await.unwrap();
        let mut gw = Gateway::new(client, Journal::open(support::journal_path(&dir)).unwrap());
        gw.upload_stream(SERVICE, "same.xml", &b"<x/>"[..], TransferMode::Binary).await.unwrap();
    }
    let status0 = srv.file(&format!("out/status_{SERVICE}_same.xml_0.xml")).unwrap();
    let text = String::from_utf8(status0).unwrap();
    assert!(text.contains("FILENAME_CANNOT_BE_REUSED_FOR_TRANSACTION"));
}

#[tokio::test]
async fn connection_lost_mid_upload_is_unknown_and_not_resent() {
    let pki = Pki::new();
    let srv = TestServer::start_slow(&pki).await;
    let dir = tempfile::tempdir().unwrap();
    let client = FtpsClient::connect(good_config(&pki, srv.addr)).await.unwrap();
    let mut gw = Gateway::new(client, Journal::open(support::journal_path(&dir)).unwrap());
    let data = vec![b'z'; 8 * 1024 * 1024];
    let stor_bytes = srv.stor_bytes.clone();
    let upload = gw.upload_stream(SERVICE, "lost.xml", &data[..], TransferMode::Binary);
    let kick = async {
        for _ in 0..1000 {
            if stor_bytes.load(std::sync::atomic::Ordering::SeqCst) > 128 * 1024 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        srv.kick_all();
    };
    let (result, ()) = tokio::join!(upload, kick);
    let e = result.unwrap_err();
    assert!(matches!(e, Error::UploadOutcomeUnknown { .. }), "{e:?}");
    assert!(e.to_string().contains("outcome unknown"), "{e}");
    let rec = gw.journal().get("lost.xml").unwrap().unwrap();
    assert!(matches!(rec.state, UploadState::Unknown { .. }), "{rec:?}");
    assert!(rec.bytes > 0);
    // Not resent: the same name is refused before anything is sent, and the
    // client reconnects for other work.
    let e =
        gw.upload_stream(SERVICE, "lost.xml", &data[..], TransferMode::Binary).await.unwrap_err();
    assert!(matches!(e, Error::UploadOutcomeUnknown { .. }), "{e:?}");
    assert_eq!(srv.state.lock().unwrap().stor_count, 1);
    gw.client().list("out").await.unwrap();
    assert_eq!(gw.client().stats().control_connections, 2);
}

#[tokio::test]
async fn oces3_like_rsa_pss_identity_from_pkcs12() {
    let pki = Pki::with_oces_rsa();
    let srv = TestServer::start(&pki, Options::default()).await;
    for legacy in [false, true] {
        let id = ClientIdentity::from_pkcs12_file(pki.oces_pkcs12(legacy), support::pki::P12_PASS)
            .unwrap();
        assert_eq!(
            id.gateway_username().unwrap(),
            format!("CVR_{}_UI_{}", support::pki::CVR, support::pki::UUID)
        );
        let mut c = FtpsClient::connect(
            config(&pki, srv.addr, server::USER, server::PASS).with_identity(id),
        )
        .await
        .unwrap();
        c.upload("out/oces.xml", &b"<x/>"[..], TransferMode::Binary, &mut |_| {}).await.unwrap();
    }
}
