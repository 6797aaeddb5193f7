//! Interop tests against real vsftpd and ProFTPD, started here on 127.0.0.1
//! and configured like the gateway (see `support/real.rs`). Install the
//! servers with `scripts/install-ftps-servers.sh`; without them these tests
//! fail, unless `FTPS_GATEWAY_SKIP_SERVERS=1`.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod support;

use ftps_gateway::{
    ClientConfig, ClientIdentity, Error, FtpsClient, TlsVersion, TlsVersions, TransferMode,
};
use support::real::{self, RealServer, SERVICE};
use support::Pki;

fn cfg(pki: &Pki, s: &RealServer) -> ClientConfig {
    support::config(pki, s.addr, s.user, s.pass)
}

fn with_id(pki: &Pki, s: &RealServer) -> ClientConfig {
    cfg(pki, s).with_identity(support::identity(pki))
}

async fn transfers(pki: &Pki, s: &RealServer) {
    let mut c = match FtpsClient::connect(with_id(pki, s)).await {
        Ok(c) => c,
        Err(e) => panic!("{}: connect: {e}\n{}", s.name, s.all_logs()),
    };
    assert_eq!(c.tls_version(), Some(TlsVersion::Tls12));

    // Binary, 3 MiB, through several buffers.
    let data: Vec<u8> = (0..3 * 1024 * 1024u32).map(|i| (i.wrapping_mul(31) % 256) as u8).collect();
    let remote = format!("{SERVICE}/blob.bin");
    let n = c
        .upload(&remote, &data[..], TransferMode::Binary, &mut |_| {})
        .await
        .unwrap_or_else(|e| panic!("{}: upload: {e}\n{}", s.name, s.all_logs()));
    assert_eq!(n, data.len() as u64);
    assert_eq!(std::fs::read(s.path(&remote)).unwrap(), data, "{}", s.name);

    let back = c.download_to_vec(&remote, 16 << 20).await.unwrap();
    assert_eq!(back, data, "{}", s.name);

    let mut names = c.list(SERVICE).await.unwrap();
    names.sort();
    assert_eq!(names, vec!["blob.bin".to_string()], "{}", s.name);
    assert!(c.list("out").await.unwrap().is_empty(), "{}", s.name);

    // ASCII: the server stores its own line ends (LF) only if the client
    // sent CR LF under TYPE A.
    let text = b"line one\nline two\r\nline three\n";
    c.upload(&format!("{SERVICE}/text.txt"), &text[..], TransferMode::Ascii, &mut |_| {})
        .await
        .unwrap();
    assert_eq!(
        std::fs::read(s.path(&format!("{SERVICE}/text.txt"))).unwrap(),
        b"line one\nline two\nline three\n",
        "{}",
        s.name
    );

    c.delete(&remote).await.unwrap();
    assert!(!s.path(&remote).exists());
    let e = c.delete(&remote).await.unwrap_err();
    assert_eq!(e.reply_code(), Some(550), "{}: {e}", s.name);

    let st = c.stats();
    assert!(st.opened >= 5);
    assert_eq!(st.opened, st.resumed, "{}: every data connection resumed", s.name);
    c.quit().await.unwrap();
}

async fn tls12_even_if_client_allows_13(pki: &Pki, s: &RealServer) {
    let c = FtpsClient::connect(
        with_id(pki, s)
            .with_tls_versions(TlsVersions { min: TlsVersion::Tls12, max: TlsVersion::Tls13 }),
    )
    .await
    .unwrap();
    assert_eq!(c.tls_version(), Some(TlsVersion::Tls12), "{}", s.name);
}

async fn negatives(pki: &Pki, s: &RealServer) {
    // No client certificate.
    let e = FtpsClient::connect(cfg(pki, s)).await.unwrap_err();
    assert!(matches!(e, Error::ClientCertificateRejected { .. }), "{}: {e:?}", s.name);

    // A certificate from another CA.
    let id = ClientIdentity::from_pem_files(&pki.other_ca_client.cert, &pki.other_ca_client.key)
        .unwrap();
    let e = FtpsClient::connect(cfg(pki, s).with_identity(id)).await.unwrap_err();
    assert!(matches!(e, Error::ClientCertificateRejected { .. }), "{}: {e:?}", s.name);

    // An expired certificate.
    let id = ClientIdentity::from_pem_files(&pki.expired.cert, &pki.expired.key).unwrap();
    let e = FtpsClient::connect(cfg(pki, s).with_identity(id)).await.unwrap_err();
    assert!(matches!(e, Error::ClientCertificateRejected { .. }), "{}: {e:?}", s.name);

    // A wrong password.
    let bad = support::config(pki, s.addr, s.user, "wrong-password")
        .with_identity(support::identity(pki));
    let e = FtpsClient::connect(bad).await.unwrap_err();
    assert!(matches!(e, Error::LoginRejected { .. }), "{}: {e:?}", s.name);
    assert_eq!(e.reply_code(), Some(530), "{}", s.name);

    // Session reuse turned off in the client: the server refuses the data connection.
    let mut c = FtpsClient::connect(with_id(pki, s).with_session_reuse(false)).await.unwrap();
    let e = c.list("out").await.unwrap_err();
    assert!(
        matches!(e, Error::DataConnectionWithoutReuse { .. }),
        "{}: {e:?}\n{}",
        s.name,
        s.all_logs()
    );
    assert!(e.to_string().contains("server refused data connection without TLS session reuse"));
    let mut c = FtpsClient::connect(with_id(pki, s).with_session_reuse(false)).await.unwrap();
    let e = c
        .upload(&format!("{SERVICE}/never.bin"), &b"x"[..], TransferMode::Binary, &mut |_| {})
        .await
        .unwrap_err();
    // STOR was sent, so the upload's fate is formally unknown; the cause is named.
    assert!(e.to_string().contains("without TLS session reuse"), "{}: {e}", s.name);
}

/// PKCS#12 files, modern and legacy, of the EC test client and of the
/// OCES3-like RSA 3072 / RSASSA-PSS client.
async fn pkcs12_login(pki: &Pki, s: &RealServer) {
    for legacy in [false, true] {
        for p12 in [pki.pkcs12(&pki.client, legacy), pki.oces_pkcs12(legacy)] {
            let id = ClientIdentity::from_pkcs12_file(&p12, support::pki::P12_PASS).unwrap();
            let mut c = FtpsClient::connect(cfg(pki, s).with_identity(id))
                .await
                .unwrap_or_else(|e| panic!("{}: {}: {e}\n{}", s.name, p12.display(), s.all_logs()));
            c.list("out").await.unwrap();
        }
    }
}

#[tokio::test]
async fn vsftpd_transfers() {
    let pki = Pki::new();
    let Some(s) = real::vsftpd(&pki) else { return };
    transfers(&pki, &s).await;
}

#[tokio::test]
async fn vsftpd_tls12_pinned() {
    let pki = Pki::new();
    let Some(s) = real::vsftpd(&pki) else { return };
    tls12_even_if_client_allows_13(&pki, &s).await;
}

#[tokio::test]
async fn vsftpd_negative_cases() {
    let pki = Pki::new();
    let Some(s) = real::vsftpd(&pki) else { return };
    negatives(&pki, &s).await;
}

#[tokio::test]
async fn vsftpd_pkcs12() {
    let pki = Pki::with_oces_rsa();
    let Some(s) = real::vsftpd(&pki) else { return };
    pkcs12_login(&pki, &s).await;
}

#[tokio::test]
async fn vsftpd_offering_only_tls11_is_refused() {
    let pki = Pki::new();
    let Some(s) = real::vsftpd_with_tls(&pki, "TLSv1.1") else { return };
    let e = FtpsClient::connect(with_id(&pki, &s)).await.unwrap_err();
    assert!(matches!(e, Error::TlsVersion { .. }), "{e:?}\n{}", s.all_logs());
    assert!(e.to_string().contains("TLS 1.2 only"), "{e}");
}

#[tokio::test]
async fn proftpd_transfers() {
    let pki = Pki::new();
    let Some(s) = real::proftpd(&pki) else { return };
    transfers(&pki, &s).await;
}

#[tokio::test]
async fn proftpd_tls12_pinned() {
    let pki = Pki::new();
    let Some(s) = real::proftpd(&pki) else { return };
    tls12_even_if_client_allows_13(&pki, &s).await;
}

#[tokio::test]
async fn proftpd_negative_cases() {
    let pki = Pki::new();
    let Some(s) = real::proftpd(&pki) else { return };
    negatives(&pki, &s).await;
}

#[tokio::test]
async fn proftpd_pkcs12() {
    let pki = Pki::with_oces_rsa();
    let Some(s) = real::proftpd(&pki) else { return };
    pkcs12_login(&pki, &s).await;
}
