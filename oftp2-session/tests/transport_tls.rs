//! TLS over real sockets on 127.0.0.1: round trips, mutual TLS, certificate failures with
//! their messages, TLS versions, timeouts, and the `openssl s_client` command line against
//! our listener.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod transport_support;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use oftp2_session::transport::tls::ClientCertificates;
use oftp2_session::transport::{
    connect, ClientSecurity, Connection, Listener, ServerSecurity, Side, StbCodec, TlsProblem,
    TransportError,
};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::codec::Framed;
use transport_support::{client, server, Pki, Usage};

const LIMIT: Duration = Duration::from_secs(20);

async fn listen(config: Arc<rustls::ServerConfig>) -> (Listener, String) {
    let listener = Listener::bind("127.0.0.1:0", ServerSecurity::Tls(config)).await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    (listener, address)
}

fn tls(config: Arc<rustls::ClientConfig>, name: Option<&str>) -> ClientSecurity {
    ClientSecurity::Tls {
        config,
        server_name: name.map(|n| ServerName::try_from(n.to_owned()).unwrap()),
    }
}

/// Accepts one connection and connects to it at the same time.
async fn handshake(
    listener: &Listener,
    address: &str,
    security: &ClientSecurity,
) -> (Result<Connection, TransportError>, Result<Connection, TransportError>) {
    let (server, client) = tokio::time::timeout(LIMIT, async {
        tokio::join!(
            async { listener.accept().await.map(|(c, _)| c) },
            connect(address, security, LIMIT)
        )
    })
    .await
    .unwrap();
    (server, client)
}

/// A CA, and a listener with a certificate for "localhost" from it, not asking for client
/// certificates.
async fn localhost_server(pki: &Pki) -> (transport_support::Ca, Listener, String) {
    let ca = pki.ca("ca");
    let leaf = pki.leaf(&ca, "server", &["localhost"], Usage::Server, false);
    let (listener, address) = listen(server(&leaf, ClientCertificates::NotRequested)).await;
    (ca, listener, address)
}

/// A client that offers TLS 1.2 only, trusting `ca`.
fn tls12_client(ca: &transport_support::Ca) -> Arc<rustls::ClientConfig> {
    Arc::new(
        rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_protocol_versions(&[&rustls::version::TLS12])
        .unwrap()
        .with_root_certificates(Arc::clone(ca.anchors().root_store()))
        .with_no_client_auth(),
    )
}

/// The TLS problem in a transport error, or in an I/O error holding one.
fn problem(error: &TransportError) -> &TlsProblem {
    eprintln!("{error}");
    error.tls_problem().unwrap_or_else(|| panic!("not a TLS failure: {error}"))
}

/// The first read on a connection the peer has refused: the TLS error it carries.
async fn refused_on_read(mut connection: Connection) -> TransportError {
    let mut buf = [0u8; 16];
    let error = tokio::time::timeout(LIMIT, connection.read(&mut buf)).await.unwrap().unwrap_err();
    let inner = error.into_inner().unwrap().downcast::<TransportError>().unwrap();
    *inner
}

#[tokio::test]
async fn round_trip_over_tls_with_close_notify() {
    let pki = Pki::new();
    let ca = pki.ca("ca");
    let leaf = pki.leaf(&ca, "server", &["localhost", "127.0.0.1"], Usage::Server, false);
    let (listener, address) = listen(server(&leaf, ClientCertificates::NotRequested)).await;
    // The server name defaults to the host of the address: 127.0.0.1.
    let (server_side, client_side) =
        handshake(&listener, &address, &ClientSecurity::tls(client(&ca, None))).await;
    let (server_side, client_side) = (server_side.unwrap(), client_side.unwrap());
    assert!(server_side.is_tls() && client_side.is_tls());
    assert_eq!(server_side.side(), Side::Server);
    assert_eq!(client_side.peer_certificates().unwrap()[0], leaf.der);
    assert_eq!(server_side.peer_certificates(), None);
    assert_eq!(client_side.tls_version(), Some(rustls::ProtocolVersion::TLSv1_3));

    let mut responder = Framed::new(server_side, StbCodec::new());
    let mut initiator = Framed::new(client_side, StbCodec::new());
    let ssrm = Bytes::from_static(b"IODETTE FTP READY \r");
    responder.send(ssrm.clone()).await.unwrap();
    assert_eq!(initiator.next().await.unwrap().unwrap(), ssrm);
    let big = Bytes::from(vec![0xA5; 99_999]);
    for _ in 0..3 {
        initiator.send(big.clone()).await.unwrap();
    }
    for _ in 0..3 {
        assert_eq!(responder.next().await.unwrap().unwrap(), big);
    }
    // Shutdown sends close_notify: the responder sees a clean end, not an error.
    initiator.get_mut().shutdown().await.unwrap();
    assert!(tokio::time::timeout(LIMIT, responder.next()).await.unwrap().is_none());
}

#[tokio::test]
async fn explicit_server_name_is_verified() {
    let pki = Pki::new();
    let (ca, listener, address) = localhost_server(&pki).await;
    let (s, c) = handshake(&listener, &address, &tls(client(&ca, None), Some("localhost"))).await;
    s.unwrap();
    c.unwrap();
}

#[tokio::test]
async fn mutual_tls_required() {
    let pki = Pki::new();
    let ca = pki.ca("ca");
    let other_ca = pki.ca("other-ca");
    let leaf = pki.leaf(&ca, "server", &["localhost"], Usage::Server, false);
    let partner = pki.leaf(&ca, "partner", &["O0013000000000000002"], Usage::Client, false);
    let stranger = pki.leaf(&other_ca, "stranger", &["stranger"], Usage::Client, false);
    let (listener, address) =
        listen(server(&leaf, ClientCertificates::Required(ca.anchors()))).await;

    // With a certificate from the trusted CA: accepted, and the server sees the chain.
    let security = tls(client(&ca, Some(&partner)), Some("localhost"));
    let (s, c) = handshake(&listener, &address, &security).await;
    let (mut s, mut c) = (s.unwrap(), c.unwrap());
    assert_eq!(s.peer_certificates().unwrap()[0], partner.der);
    s.write_all(b"ok").await.unwrap();
    let mut two = [0u8; 2];
    c.read_exact(&mut two).await.unwrap();
    assert_eq!(&two, b"ok");

    // Without one: the server refuses; the client learns why (in the handshake with TLS
    // 1.2, on its first read with TLS 1.3).
    let security = tls(client(&ca, None), Some("localhost"));
    let (s, c) = handshake(&listener, &address, &security).await;
    let server_error = s.unwrap_err();
    assert_eq!(problem(&server_error), &TlsProblem::ClientCertificateMissing);
    assert!(server_error.to_string().contains("presented no certificate"), "{server_error}");
    let client_error = match c {
        Ok(connection) => refused_on_read(connection).await,
        Err(error) => error,
    };
    assert_eq!(problem(&client_error), &TlsProblem::ClientCertificateRequired);
    let message = client_error.to_string();
    assert!(message.contains("requires a client certificate"), "{message}");
    assert!(message.contains("tls.certificate"), "{message}");

    // With a certificate from another CA: rejected on both sides.
    let security = tls(client(&ca, Some(&stranger)), Some("localhost"));
    let (s, c) = handshake(&listener, &address, &security).await;
    let server_error = s.unwrap_err();
    assert_eq!(problem(&server_error), &TlsProblem::UntrustedCertificate);
    assert!(
        server_error.to_string().contains("client's certificate is not trusted"),
        "{server_error}"
    );
    let client_error = match c {
        Ok(connection) => refused_on_read(connection).await,
        Err(error) => error,
    };
    assert!(
        matches!(problem(&client_error), TlsProblem::CertificateRejectedByPeer { .. }),
        "{client_error}"
    );
    assert!(client_error.to_string().contains("rejected our client certificate"), "{client_error}");

    // The same over TLS 1.2, where the refusal comes inside the handshake.
    let tls12 = tls12_client(&ca);
    let (s, c) = handshake(&listener, &address, &tls(tls12, Some("localhost"))).await;
    assert_eq!(problem(&s.unwrap_err()), &TlsProblem::ClientCertificateMissing);
    let client_error = c.unwrap_err();
    assert_eq!(problem(&client_error), &TlsProblem::ClientCertificateRequired, "{client_error}");
}

#[tokio::test]
async fn optional_client_certificates_are_verified_if_presented() {
    let pki = Pki::new();
    let ca = pki.ca("ca");
    let other_ca = pki.ca("other-ca");
    let leaf = pki.leaf(&ca, "server", &["localhost"], Usage::Server, false);
    let partner = pki.leaf(&ca, "partner", &["partner"], Usage::Client, false);
    let stranger = pki.leaf(&other_ca, "stranger", &["stranger"], Usage::Client, false);
    let (listener, address) =
        listen(server(&leaf, ClientCertificates::Optional(ca.anchors()))).await;

    let (s, c) = handshake(&listener, &address, &tls(client(&ca, None), Some("localhost"))).await;
    assert_eq!(s.unwrap().peer_certificates(), None);
    c.unwrap();

    let security = tls(client(&ca, Some(&partner)), Some("localhost"));
    let (s, c) = handshake(&listener, &address, &security).await;
    assert_eq!(s.unwrap().peer_certificates().unwrap()[0], partner.der);
    c.unwrap();

    let security = tls(client(&ca, Some(&stranger)), Some("localhost"));
    let (s, _c) = handshake(&listener, &address, &security).await;
    assert_eq!(problem(&s.unwrap_err()), &TlsProblem::UntrustedCertificate);
}

#[tokio::test]
async fn wrong_server_name_fails_and_the_listener_survives() {
    let pki = Pki::new();
    let (ca, listener, address) = localhost_server(&pki).await;

    let security = tls(client(&ca, None), Some("oftp.partner.example"));
    let (s, c) = handshake(&listener, &address, &security).await;
    let error = c.unwrap_err();
    match problem(&error) {
        TlsProblem::NameMismatch { expected, presented } => {
            assert_eq!(expected, "oftp.partner.example");
            assert_eq!(presented, &["localhost".to_owned()]);
        }
        other => panic!("{other:?}"),
    }
    assert!(error.to_string().contains("not valid for the name"), "{error}");
    // The server hears the client's alert.
    let server_error = s.unwrap_err();
    assert!(
        matches!(problem(&server_error), TlsProblem::CertificateRejectedByPeer { .. }),
        "{server_error}"
    );
    assert!(server_error.to_string().contains("client rejected our server certificate"));

    // The default name, 127.0.0.1, is not in this certificate either.
    let (_s, c) = handshake(&listener, &address, &ClientSecurity::tls(client(&ca, None))).await;
    assert!(matches!(problem(&c.unwrap_err()), TlsProblem::NameMismatch { .. }));

    // The listener still accepts.
    let (s, c) = handshake(&listener, &address, &tls(client(&ca, None), Some("localhost"))).await;
    s.unwrap();
    c.unwrap();
}

#[tokio::test]
async fn untrusted_and_expired_server_certificates() {
    let pki = Pki::new();
    let ca = pki.ca("ca");
    let other_ca = pki.ca("other-ca");

    let leaf = pki.leaf(&ca, "server", &["localhost"], Usage::Server, false);
    let (listener, address) = listen(server(&leaf, ClientCertificates::NotRequested)).await;
    let security = tls(client(&other_ca, None), Some("localhost"));
    let (_s, c) = handshake(&listener, &address, &security).await;
    let error = c.unwrap_err();
    assert_eq!(problem(&error), &TlsProblem::UntrustedCertificate);
    assert!(error.to_string().contains("server's certificate is not trusted"), "{error}");

    let expired = pki.leaf(&ca, "expired", &["localhost"], Usage::Server, true);
    let (listener, address) = listen(server(&expired, ClientCertificates::NotRequested)).await;
    let (_s, c) = handshake(&listener, &address, &tls(client(&ca, None), Some("localhost"))).await;
    let error = c.unwrap_err();
    assert_eq!(problem(&error), &TlsProblem::Expired);
    assert!(error.to_string().contains("server's certificate has expired"), "{error}");
}

#[tokio::test]
async fn tls12_only_client_is_served_with_tls12() {
    let pki = Pki::new();
    let (ca, listener, address) = localhost_server(&pki).await;
    let tls12 = tls12_client(&ca);
    let (s, c) = handshake(&listener, &address, &tls(tls12, Some("localhost"))).await;
    let (s, c) = (s.unwrap(), c.unwrap());
    assert_eq!(s.tls_version(), Some(rustls::ProtocolVersion::TLSv1_2));
    assert_eq!(c.tls_version(), Some(rustls::ProtocolVersion::TLSv1_2));
}

#[tokio::test]
async fn tls_client_against_a_plain_tcp_responder() {
    let pki = Pki::new();
    let ca = pki.ca("ca");
    let listener = Listener::bind("127.0.0.1:0", ServerSecurity::PlainTcp).await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let responder = async {
        let (connection, _) = listener.accept().await.unwrap();
        let mut framed = Framed::new(connection, StbCodec::new());
        // A plain responder speaks first: SSRM.
        framed.send(&b"IODETTE FTP READY \r"[..]).await.unwrap();
        framed
    };
    let security = tls(client(&ca, None), Some("localhost"));
    let initiator = connect(&address, &security, LIMIT);
    let (_framed, result) =
        tokio::time::timeout(LIMIT, async { tokio::join!(responder, initiator) }).await.unwrap();
    let error = result.unwrap_err();
    assert_eq!(problem(&error), &TlsProblem::NotTls, "{error}");
    assert!(error.to_string().contains("does not speak TLS"), "{error}");
}

#[tokio::test]
async fn handshake_timeouts() {
    let pki = Pki::new();
    let ca = pki.ca("ca");
    let leaf = pki.leaf(&ca, "server", &["localhost"], Usage::Server, false);

    // A client that connects and says nothing.
    let listener = Listener::bind(
        "127.0.0.1:0",
        ServerSecurity::Tls(server(&leaf, ClientCertificates::NotRequested)),
    )
    .await
    .unwrap()
    .with_handshake_timeout(Duration::from_millis(200));
    let address = listener.local_addr().unwrap();
    let _silent = tokio::net::TcpStream::connect(address).await.unwrap();
    let error = tokio::time::timeout(LIMIT, listener.accept()).await.unwrap().unwrap_err();
    assert!(matches!(error, TransportError::Timeout { step: "TLS handshake", .. }), "{error}");
    assert!(error.to_string().contains("TLS handshake for 127.0.0.1:"), "{error}");
    assert!(error.to_string().contains("timed out after 0.2 s"), "{error}");

    // A server that accepts TCP and never answers the client hello.
    let mute = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = mute.local_addr().unwrap().to_string();
    let hold = tokio::spawn(async move {
        let (stream, _) = mute.accept().await.unwrap();
        tokio::time::sleep(LIMIT).await;
        drop(stream);
    });
    let security = tls(client(&ca, None), Some("localhost"));
    let started = std::time::Instant::now();
    let error = connect(&address, &security, Duration::from_millis(300)).await.unwrap_err();
    assert!(matches!(error, TransportError::Timeout { step: "TLS handshake", .. }), "{error}");
    assert!(started.elapsed() < Duration::from_secs(5));
    hold.abort();
}

/// Runs the openssl command line with `args` against our listener, accepting meanwhile.
async fn openssl_s_client(
    listener: &Listener,
    args: Vec<String>,
) -> (std::process::Output, Result<Connection, TransportError>) {
    let client = tokio::task::spawn_blocking(move || {
        std::process::Command::new("openssl")
            .args(&args)
            .stdin(std::process::Stdio::null())
            .output()
            .expect("the openssl command line is installed")
    });
    let accepted = tokio::time::timeout(LIMIT, listener.accept()).await.unwrap();
    let output = tokio::time::timeout(LIMIT, client).await.unwrap().unwrap();
    (output, accepted.map(|(c, _)| c))
}

#[tokio::test]
async fn openssl_s_client_connects_with_tls12_and_sees_our_certificate() {
    let pki = Pki::new();
    let ca = pki.ca("ca");
    let leaf = pki.leaf(&ca, "server", &["localhost", "127.0.0.1"], Usage::Server, false);
    let (listener, address) = listen(server(&leaf, ClientCertificates::NotRequested)).await;
    let args = vec![
        "s_client".to_owned(),
        "-connect".to_owned(),
        address.clone(),
        "-CAfile".to_owned(),
        ca.pem_file.display().to_string(),
        "-tls1_2".to_owned(),
        "-verify_return_error".to_owned(),
        "-verify_hostname".to_owned(),
        "localhost".to_owned(),
    ];
    let (output, accepted) = openssl_s_client(&listener, args).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("Verify return code: 0 (ok)"), "{stdout}");
    assert!(stdout.contains("Protocol  : TLSv1.2"), "{stdout}");
    assert!(stdout.contains("CN = localhost"), "{stdout}");
    // The certificate openssl printed is ours.
    let begin = stdout.find("-----BEGIN CERTIFICATE-----").unwrap();
    let end = stdout.find("-----END CERTIFICATE-----").unwrap() + "-----END CERTIFICATE-----".len();
    assert_eq!(stdout[begin..end].trim(), leaf.certificate_pem.trim());
    assert_eq!(accepted.unwrap().tls_version(), Some(rustls::ProtocolVersion::TLSv1_2));
}

#[tokio::test]
async fn openssl_s_client_with_tls11_is_refused() {
    let pki = Pki::new();
    let (_ca, listener, address) = localhost_server(&pki).await;
    let args = vec![
        "s_client".to_owned(),
        "-connect".to_owned(),
        address,
        "-tls1_1".to_owned(),
        "-cipher".to_owned(),
        "DEFAULT@SECLEVEL=0".to_owned(),
    ];
    let (output, accepted) = openssl_s_client(&listener, args).await;
    assert!(!output.status.success());
    let error = accepted.unwrap_err();
    assert!(matches!(problem(&error), TlsProblem::NoCommonProtocol { .. }), "{error}");
    assert!(error.to_string().contains("TLS 1.2 and 1.3 only"), "{error}");
}

#[tokio::test]
async fn openssl_s_client_presents_a_client_certificate_to_mutual_tls() {
    let pki = Pki::new();
    let ca = pki.ca("ca");
    let leaf = pki.leaf(&ca, "server", &["localhost"], Usage::Server, false);
    let partner = pki.leaf(&ca, "partner", &["partner"], Usage::Client, false);
    let (listener, address) =
        listen(server(&leaf, ClientCertificates::Required(ca.anchors()))).await;
    let mut args: Vec<String> =
        ["s_client", "-connect", &address, "-CAfile"].map(str::to_owned).to_vec();
    args.push(ca.pem_file.display().to_string());
    args.extend(["-cert".to_owned(), partner.certificate_file.display().to_string()]);
    args.extend(["-key".to_owned(), partner.key_file.display().to_string()]);
    let (output, accepted) = openssl_s_client(&listener, args).await;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(accepted.unwrap().peer_certificates().unwrap()[0], partner.der);
}

/// A port that was free a moment ago.
async fn free_port() -> u16 {
    let probe = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    probe.local_addr().unwrap().port()
}

/// Kills the child (an openssl server this test started) when dropped.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn our_client_against_openssl_s_server() {
    let pki = Pki::new();
    let ca = pki.ca("ca");
    let leaf = pki.leaf(&ca, "server", &["localhost"], Usage::Server, false);
    let partner = pki.leaf(&ca, "partner", &["partner"], Usage::Client, false);
    let port = free_port().await;
    let _server = Child(
        std::process::Command::new("openssl")
            .args(["s_server", "-accept", &format!("127.0.0.1:{port}"), "-tls1_2", "-quiet"])
            .arg("-cert")
            .arg(&leaf.certificate_file)
            .arg("-key")
            .arg(&leaf.key_file)
            .arg("-CAfile")
            .arg(&ca.pem_file)
            .arg("-Verify")
            .arg("1")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("the openssl command line is installed"),
    );
    let address = format!("127.0.0.1:{port}");
    // Wait (at most 10 s) until it listens.
    let mut listening = false;
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(&address).await.is_ok() {
            listening = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(listening, "openssl s_server did not start");

    // Without a client certificate: refused, in words.
    let error = match connect(&address, &tls(client(&ca, None), Some("localhost")), LIMIT).await {
        Err(error) => error,
        Ok(connection) => refused_on_read(connection).await,
    };
    assert_eq!(problem(&error), &TlsProblem::HandshakeRefused { have_certificate: false });
    assert!(error.to_string().contains("requires a client certificate"), "{error}");

    // With one: TLS 1.2, and the server's certificate is the one we expect.
    let security = tls(client(&ca, Some(&partner)), Some("localhost"));
    let connection = connect(&address, &security, LIMIT).await.unwrap();
    assert_eq!(connection.tls_version(), Some(rustls::ProtocolVersion::TLSv1_2));
    assert_eq!(connection.peer_certificates().unwrap()[0], leaf.der);
}
