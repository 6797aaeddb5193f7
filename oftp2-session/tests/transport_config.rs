//! TLS settings from a configuration: serde loading of `Transport` and `TlsFiles`, file
//! errors that name the file and the problem, and a responder and an initiator built from
//! configurations alone talking mutual TLS on 127.0.0.1, with per-partner certificate
//! checks after SSID.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod transport_support;

use std::path::PathBuf;
use std::time::Duration;

use oftp2_codec::reason::EsidReason;
use oftp2_session::config::{Config, Partner, TlsFiles, Transport};
use oftp2_session::transport::tls::{
    check_partner_certificate, client_config, client_config_for, server_config_for, Identity,
    PartnerCertificateError, TlsConfigError, TrustAnchors,
};
use oftp2_session::transport::{
    connect, ClientSecurity, Connection, Listener, ServerSecurity, TlsProblem, TransportError,
};
use transport_support::{Pki, Usage};

const LIMIT: Duration = Duration::from_secs(20);

fn partner(id: &str, transport: serde_json::Value) -> Partner {
    serde_json::from_value(serde_json::json!({
        "odette_id": id,
        "password": "SECRET",
        "our_password": "OURS",
        "address": "127.0.0.1:6619",
        "transport": transport,
    }))
    .unwrap()
}

fn config(id: &str, tls: Option<TlsFiles>, partners: Vec<Partner>) -> Config {
    let mut config = Config::new(id.parse().unwrap());
    config.tls = tls;
    config.partners = partners;
    config
}

#[test]
fn transport_settings_load_with_serde() {
    let config: Config = serde_json::from_value(serde_json::json!({
        "odette_id": "O0013000000000000001",
        "tls": {
            "certificate": "/etc/oftp/chain.pem",
            "private_key": "/etc/oftp/key.pem",
            "roots": ["/etc/oftp/ca.pem"],
        },
        "partners": [
            { "odette_id": "O0013000000000000002", "password": "A", "our_password": "B" },
            { "odette_id": "O0013000000000000003", "password": "A", "our_password": "B",
              "transport": { "mode": "plain-tcp" } },
            { "odette_id": "O0013000000000000004", "password": "A", "our_password": "B",
              "transport": { "mode": "tls", "server_name": "oftp.example", "roots": ["p.pem"],
                             "require_client_certificate": true } },
        ],
    }))
    .unwrap();
    let tls = config.tls.as_ref().unwrap();
    assert_eq!(tls.certificate.as_deref(), Some(std::path::Path::new("/etc/oftp/chain.pem")));
    assert_eq!(tls.roots, vec![PathBuf::from("/etc/oftp/ca.pem")]);
    assert!(!tls.require_client_certificate);
    // TLS is the default.
    assert_eq!(config.partners[0].transport, Transport::default());
    assert!(config.partners[0].transport.is_tls());
    assert_eq!(config.partners[1].transport, Transport::PlainTcp);
    assert_eq!(
        config.partners[2].transport,
        Transport::Tls {
            server_name: Some("oftp.example".into()),
            roots: vec![PathBuf::from("p.pem")],
            require_client_certificate: true,
        }
    );
    // And back.
    let again: Config = serde_json::from_str(&serde_json::to_string(&config).unwrap()).unwrap();
    assert_eq!(again, config);
    // No tls section: None.
    let bare: Config = serde_json::from_str(r#"{"odette_id":"O0013000000000000001"}"#).unwrap();
    assert_eq!(bare.tls, None);
}

#[test]
fn unknown_transport_fields_are_refused() {
    for bad in [
        serde_json::json!({ "mode": "tls", "server-name": "x" }),
        serde_json::json!({ "mode": "tls", "trust_everything": true }),
        serde_json::json!({ "mode": "ssl" }),
        serde_json::json!({ "mode": "plain-tcp", "server_name": "x" }),
        serde_json::json!({ "roots": [] }),
    ] {
        assert!(serde_json::from_value::<Transport>(bad.clone()).is_err(), "{bad}");
    }
    let error = serde_json::from_value::<Transport>(
        serde_json::json!({ "mode": "plain-tcp", "roots": ["ca.pem"] }),
    )
    .unwrap_err();
    assert!(error.to_string().contains("apply to mode \"tls\" only"), "{error}");
    assert_eq!(
        serde_json::to_value(Transport::PlainTcp).unwrap(),
        serde_json::json!({ "mode": "plain-tcp" })
    );
    let bad_files = serde_json::json!({ "roots": [], "ca_file": "x" });
    assert!(serde_json::from_value::<TlsFiles>(bad_files).is_err());
}

#[test]
fn file_errors_name_the_file_and_the_problem() {
    let pki = Pki::new();
    let ca = pki.ca("ca");
    let leaf = pki.leaf(&ca, "server", &["localhost"], Usage::Server, false);
    let other = pki.leaf(&ca, "other", &["other"], Usage::Server, false);

    let missing = pki.path("missing.pem");
    let error = Identity::from_files(&missing, &leaf.key_file).unwrap_err();
    assert!(matches!(&error, TlsConfigError::Read { source, .. }
        if source.kind() == std::io::ErrorKind::NotFound));
    assert!(error.to_string().contains("missing.pem"), "{error}");

    let text = pki.write("notes.txt", "no certificate here\n");
    let error = Identity::from_files(&text, &leaf.key_file).unwrap_err();
    assert!(matches!(error, TlsConfigError::NoCertificate { .. }), "{error}");
    assert!(error.to_string().contains("notes.txt contains no certificate"), "{error}");

    // A key file holding only a certificate.
    let error = Identity::from_files(&leaf.certificate_file, &leaf.certificate_file).unwrap_err();
    assert!(matches!(error, TlsConfigError::NoPrivateKey { .. }), "{error}");

    let error = Identity::from_files(&leaf.certificate_file, &other.key_file).unwrap_err();
    assert!(matches!(error, TlsConfigError::KeyMismatch { .. }), "{error}");
    let message = error.to_string();
    assert!(message.contains("other.key") && message.contains("server.pem"), "{message}");

    let error = TrustAnchors::from_files(&[], "TLS sessions to partner X").unwrap_err();
    assert!(matches!(error, TlsConfigError::NoTrustAnchors { .. }));
    assert!(error.to_string().contains("nothing is trusted by default"), "{error}");
    let error = TrustAnchors::from_files(&[text], "tests").unwrap_err();
    assert!(matches!(error, TlsConfigError::NoCertificate { .. }), "{error}");
}

#[test]
fn der_files_and_sec1_keys_are_read() {
    let pki = Pki::new();
    let ca = pki.ca("ca");
    let leaf = pki.leaf(&ca, "server", &["localhost"], Usage::Server, false);
    let der_root = pki.write("ca.der", ca.certificate.der());
    assert_eq!(TrustAnchors::from_files(&[der_root], "tests").unwrap().len(), 1);

    let der_certificate = pki.write("server.der", &leaf.der);
    let identity = Identity::from_files(&der_certificate, &leaf.key_file).unwrap();
    assert_eq!(identity.certificate_chain(), std::slice::from_ref(&leaf.der));

    // The same key as PEM SEC1 ("EC PRIVATE KEY"), DER SEC1 and DER PKCS#8, by openssl.
    let sec1 = pki.path("server-sec1.key");
    let der_sec1 = pki.path("server-sec1.der");
    let der_pkcs8 = pki.path("server-pkcs8.der");
    let conversions: [(&str, &[&str], &PathBuf); 3] = [
        ("pkey", &["-traditional"], &sec1),
        ("pkey", &["-outform", "DER"], &der_sec1),
        ("pkcs8", &["-topk8", "-nocrypt", "-outform", "DER"], &der_pkcs8),
    ];
    for (command, extra, out) in conversions {
        let status = std::process::Command::new("openssl")
            .arg(command)
            .arg("-in")
            .arg(&leaf.key_file)
            .args(extra)
            .arg("-out")
            .arg(out)
            .status()
            .expect("the openssl command line is installed");
        assert!(status.success());
    }
    assert!(std::fs::read_to_string(&sec1).unwrap().contains("BEGIN EC PRIVATE KEY"));
    Identity::from_files(&leaf.certificate_file, &sec1).unwrap();
    Identity::from_files(&leaf.certificate_file, &der_sec1).unwrap();
    Identity::from_files(&leaf.certificate_file, &der_pkcs8).unwrap();
    let encrypted = pki.path("encrypted.key");
    let status = std::process::Command::new("openssl")
        .args(["pkcs8", "-topk8", "-v2", "aes-256-cbc", "-passout", "pass:secret", "-in"])
        .arg(&leaf.key_file)
        .arg("-out")
        .arg(&encrypted)
        .status()
        .unwrap();
    assert!(status.success());
    let error = Identity::from_files(&leaf.certificate_file, &encrypted).unwrap_err();
    assert!(matches!(error, TlsConfigError::EncryptedPrivateKey { .. }), "{error}");
    assert!(error.to_string().contains("encrypted.key is encrypted"), "{error}");
    let garbage = pki.write("garbage.der", [0x30, 0x03, 0x02, 0x01, 0x00]);
    let error = Identity::from_files(&leaf.certificate_file, &garbage).unwrap_err();
    assert!(matches!(error, TlsConfigError::InvalidPrivateKey { .. }), "{error}");
    Identity::from_pem(leaf.certificate_pem.as_bytes(), leaf.key_pem.as_bytes()).unwrap();
}

#[test]
fn configurations_that_cannot_work_are_refused() {
    let pki = Pki::new();
    let ca = pki.ca("ca");
    let leaf = pki.leaf(&ca, "server", &["localhost"], Usage::Server, false);
    let tls_partner = partner("O0013000000000000002", serde_json::json!({ "mode": "tls" }));

    // A TLS client with no roots anywhere.
    let no_roots = config("O0013000000000000001", None, vec![tls_partner.clone()]);
    let error = client_config_for(&no_roots, &tls_partner).unwrap_err();
    assert!(matches!(error, TlsConfigError::NoTrustAnchors { .. }), "{error}");
    assert!(error.to_string().contains("O0013000000000000002"), "{error}");

    // A plain TCP partner needs no TLS settings.
    let plain = partner("O0013000000000000003", serde_json::json!({ "mode": "plain-tcp" }));
    assert!(client_config_for(&no_roots, &plain).unwrap().is_none());
    assert!(matches!(
        ClientSecurity::for_partner(&no_roots, &plain).unwrap(),
        ClientSecurity::PlainTcp
    ));

    // A bad server name.
    let named = partner(
        "O0013000000000000004",
        serde_json::json!({ "mode": "tls", "server_name": "not a name", "roots": [ca.pem_file] }),
    );
    let error = ClientSecurity::for_partner(&no_roots, &named).unwrap_err();
    assert!(matches!(error, TlsConfigError::InvalidServerName { .. }), "{error}");

    // A responder without a certificate.
    let error = server_config_for(&no_roots).unwrap_err();
    assert!(matches!(error, TlsConfigError::MissingIdentity { .. }), "{error}");
    assert!(error.to_string().contains("tls.certificate and tls.private_key"), "{error}");

    // A certificate without its key.
    let half = TlsFiles { certificate: Some(leaf.certificate_file.clone()), ..TlsFiles::default() };
    let error = server_config_for(&config("O0013000000000000001", Some(half), vec![])).unwrap_err();
    assert!(error.to_string().contains("tls.private_key"), "{error}");

    // Client certificates required, and nothing to verify them with.
    let required = TlsFiles {
        certificate: Some(leaf.certificate_file.clone()),
        private_key: Some(leaf.key_file.clone()),
        roots: vec![],
        require_client_certificate: true,
    };
    let error =
        server_config_for(&config("O0013000000000000001", Some(required), vec![])).unwrap_err();
    assert!(matches!(error, TlsConfigError::NoTrustAnchors { .. }), "{error}");
    let identity_only = TlsFiles {
        certificate: Some(leaf.certificate_file.clone()),
        private_key: Some(leaf.key_file.clone()),
        ..TlsFiles::default()
    };
    let strict = partner(
        "O0013000000000000005",
        serde_json::json!({ "mode": "tls", "require_client_certificate": true }),
    );
    let error = server_config_for(&config(
        "O0013000000000000001",
        Some(identity_only.clone()),
        vec![strict],
    ))
    .unwrap_err();
    assert!(error.to_string().contains("O0013000000000000005"), "{error}");
    // Without any roots and without requirements, client certificates are not requested.
    server_config_for(&config("O0013000000000000001", Some(identity_only), vec![])).unwrap();
    // A client configuration never trusts everything.
    assert!(TrustAnchors::from_certificates(Vec::new()).is_err());
    let anchors = TrustAnchors::from_certificates(vec![ca.certificate.der().clone()]).unwrap();
    client_config(&anchors, None).unwrap();
}

/// Two sites from configurations alone: the responder ("O...1") knows partners "O...2"
/// (roots: CA A, client certificate required) and "O...3" (roots: CA B); CA A issued the
/// responder's and O...2's certificates, CA B issued O...3's.
struct Sites {
    pki: Pki,
    responder: Config,
    initiator_2: Config,
    initiator_3: Config,
}

fn sites() -> Sites {
    let pki = Pki::new();
    let ca_a = pki.ca("ca-a");
    let ca_b = pki.ca("ca-b");
    let server = pki.leaf(&ca_a, "responder", &["localhost"], Usage::Server, false);
    let two = pki.leaf(&ca_a, "site-2", &["O0013000000000000002"], Usage::Client, false);
    let three = pki.leaf(&ca_b, "site-3", &["O0013000000000000003"], Usage::Client, false);
    let responder = config(
        "O0013000000000000001",
        Some(TlsFiles {
            certificate: Some(server.certificate_file.clone()),
            private_key: Some(server.key_file.clone()),
            roots: vec![ca_a.pem_file.clone()],
            require_client_certificate: false,
        }),
        vec![
            partner(
                "O0013000000000000002",
                serde_json::json!({ "mode": "tls", "require_client_certificate": true }),
            ),
            partner(
                "O0013000000000000003",
                serde_json::json!({ "mode": "tls", "roots": [ca_b.pem_file] }),
            ),
        ],
    );
    let initiator = |leaf: &transport_support::Leaf| {
        config(
            "O0013000000000000009",
            Some(TlsFiles {
                certificate: Some(leaf.certificate_file.clone()),
                private_key: Some(leaf.key_file.clone()),
                roots: vec![ca_a.pem_file.clone()],
                require_client_certificate: false,
            }),
            vec![partner(
                "O0013000000000000001",
                serde_json::json!({ "mode": "tls", "server_name": "localhost" }),
            )],
        )
    };
    let (initiator_2, initiator_3) = (initiator(&two), initiator(&three));
    Sites { pki, responder, initiator_2, initiator_3 }
}

async fn session(listener: &Listener, initiator: &Config) -> (Connection, Connection) {
    let address = listener.local_addr().unwrap().to_string();
    let security = ClientSecurity::for_partner(initiator, &initiator.partners[0]).unwrap();
    let (accepted, connected) = tokio::time::timeout(LIMIT, async {
        tokio::join!(listener.accept(), connect(&address, &security, LIMIT))
    })
    .await
    .unwrap();
    (accepted.unwrap().0, connected.unwrap())
}

#[tokio::test]
async fn per_partner_certificates_checked_after_ssid() {
    let sites = sites();
    let responder = &sites.responder;
    let server = server_config_for(responder).unwrap();
    let listener = Listener::bind("127.0.0.1:0", ServerSecurity::Tls(server)).await.unwrap();
    let two = &responder.partners[0];
    let three = &responder.partners[1];

    // O...2 presents its CA A certificate: accepted as O...2.
    let (accepted, _client) = session(&listener, &sites.initiator_2).await;
    let chain = accepted.peer_certificates();
    assert!(chain.is_some());
    check_partner_certificate(responder, two, accepted.is_tls(), chain).unwrap();
    // The same certificate claiming to be O...3 (roots: CA B only): refused.
    let error = check_partner_certificate(responder, three, true, chain).unwrap_err();
    assert!(matches!(error, PartnerCertificateError::CertificateRejected { .. }), "{error}");
    assert_eq!(error.esid_reason(), EsidReason::INVALID_PASSWORD);
    assert!(error.to_string().contains("O0013000000000000003"), "{error}");

    // O...3's CA B certificate: accepted in the handshake (CA B is among all roots), and
    // as O...3 after SSID, but not as O...2.
    let (accepted, _client) = session(&listener, &sites.initiator_3).await;
    let chain = accepted.peer_certificates();
    check_partner_certificate(responder, three, true, chain).unwrap();
    let error = check_partner_certificate(responder, two, true, chain).unwrap_err();
    assert!(matches!(error, PartnerCertificateError::CertificateRejected { .. }), "{error}");

    // No certificate: fine for O...3, not for O...2, which requires one.
    check_partner_certificate(responder, three, true, None).unwrap();
    let error = check_partner_certificate(responder, two, true, None).unwrap_err();
    assert!(matches!(error, PartnerCertificateError::CertificateMissing { .. }), "{error}");
    // A TLS partner over plain TCP.
    let error = check_partner_certificate(responder, three, false, None).unwrap_err();
    assert!(matches!(error, PartnerCertificateError::PlainTcp { .. }), "{error}");
    // A plain TCP partner is not held to certificates.
    let plain = partner("O0013000000000000007", serde_json::json!({ "mode": "plain-tcp" }));
    check_partner_certificate(responder, &plain, false, None).unwrap();
    drop(sites.pki);
}

#[tokio::test]
async fn responder_requiring_client_certificates_from_everyone() {
    let mut sites = sites();
    sites.responder.tls.as_mut().unwrap().require_client_certificate = true;
    let server = server_config_for(&sites.responder).unwrap();
    let listener = Listener::bind("127.0.0.1:0", ServerSecurity::Tls(server)).await.unwrap();
    let address = listener.local_addr().unwrap().to_string();

    // An initiator with no certificate at all.
    let mut anonymous = sites.initiator_2.clone();
    let tls = anonymous.tls.as_mut().unwrap();
    tls.certificate = None;
    tls.private_key = None;
    let security = ClientSecurity::for_partner(&anonymous, &anonymous.partners[0]).unwrap();
    let (accepted, connected) = tokio::time::timeout(LIMIT, async {
        tokio::join!(listener.accept(), connect(&address, &security, LIMIT))
    })
    .await
    .unwrap();
    let error = accepted.unwrap_err();
    assert_eq!(error.tls_problem(), Some(&TlsProblem::ClientCertificateMissing), "{error}");
    // TLS 1.3: the client learns it on its first read, as an I/O error that explains.
    let error = match connected {
        Err(error) => error.to_string(),
        Ok(mut connection) => {
            use tokio::io::AsyncReadExt;
            let mut buf = [0u8; 8];
            let io = connection.read(&mut buf).await.unwrap_err();
            let inner = TransportError::in_io(&io).unwrap();
            assert_eq!(inner.tls_problem(), Some(&TlsProblem::ClientCertificateRequired));
            io.to_string()
        }
    };
    assert!(error.contains("requires a client certificate"), "{error}");

    // With one from CA B (listed only for O...3): the handshake accepts it.
    let (accepted, _client) = session(&listener, &sites.initiator_3).await;
    assert!(accepted.peer_certificates().is_some());
}
