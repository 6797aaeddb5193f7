//! OFTP2 security end to end: two nodes over real sockets on 127.0.0.1, with
//! [`CmsSecurity`] in their stores and certificates made by the real `openssl`: secure
//! authentication (SECD/AUCH/AURP), then signed + compressed + encrypted files with signed
//! EERPs both ways under every cipher suite; a tampered file ends in EFNA 21 and a NERP; a
//! wrong certificate in ESID 11; a policy that refuses unencrypted files in SFNA 17.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a panic is a failure

mod interop_support;
mod session_support;

use std::sync::Arc;
use std::time::Duration;

use interop_support::{Party, Pki};
use oftp2_codec::fields::{CipherSuite, RecordFormat, RecordLength, UserData, Utf8Text};
use oftp2_codec::reason::{EsidReason, NerpReason};
use oftp2_session::config::{Partner, ServicePolicy, Transport};
use oftp2_session::driver::{OutgoingOutcome, SessionReport};
use oftp2_session::engine::{Receipt, SessionEnd};
use oftp2_session::node::Node;
use oftp2_session::protection::{FileServices, ReceiptCheck};
use oftp2_session::security::identity::{Certificate, Identity};
use oftp2_session::security::CmsSecurity;
use oftp2_session::store::{FileStore, FsStore, OutgoingFile, OutgoingSource, StoreOptions};
use oftp2_session::transport::{connect, ClientSecurity, ServerSecurity};
use session_support::{config, id, partner, scratch, serve, text_lines, Params, Site};

const A: &str = "O0013000000000000001";
const B: &str = "O0013000000000000002";

fn identity(party: &Party) -> Identity {
    Identity::from_files(&party.cert, &party.key).unwrap()
}

fn certificate(party: &Party) -> Certificate {
    Certificate::from_file(&party.cert).unwrap()
}

/// A node `own` (with `own_party`'s identity) that knows `peer` by `peer_cert`.
fn secure_site(own: &str, own_party: &Party, peer: Partner, peer_cert: Certificate) -> Site {
    let security = CmsSecurity::builder(identity(own_party))
        .partner(peer.odette_id, peer_cert)
        .build()
        .unwrap();
    let config = config(own, vec![peer], Params::default());
    let dir = scratch();
    let options = StoreOptions { security: Some(Arc::new(security)), ..StoreOptions::new(id(own)) };
    let store = FsStore::with_options(dir.path(), options).unwrap();
    Site { node: Node::new(Arc::new(config), Arc::new(store)), dir }
}

fn secure_partner(peer: &str, own: &str, address: Option<String>) -> Partner {
    let mut partner = partner(peer, own, Transport::PlainTcp, address);
    partner.secure_authentication = true;
    partner
}

fn queue(
    site: &Site,
    to: &str,
    name: &str,
    format: RecordFormat,
    lrecl: u64,
    data: &[u8],
    services: FileServices,
) {
    let file = OutgoingFile {
        dataset_name: name.parse().unwrap(),
        format,
        max_record_length: RecordLength::new(lrecl).unwrap(),
        description: Utf8Text::new("secured").unwrap(),
        destination: id(to),
        originator: None,
        user_data: UserData::EMPTY,
        source: OutgoingSource::Bytes(data.to_vec()),
        services,
    };
    site.store().queue_outgoing(&id(to), file).unwrap();
}

/// Runs one session from A to B; both reports.
async fn session(a: &Site, b: &Site) -> (SessionReport, SessionReport) {
    let serving = serve(&b.node, ServerSecurity::PlainTcp).await;
    let run = async {
        let connection =
            connect(&serving.address, &ClientSecurity::PlainTcp, Duration::from_secs(10)).await?;
        a.node.run_initiator(connection, &id(B), None).await
    };
    let ours = tokio::time::timeout(Duration::from_secs(30), run)
        .await
        .expect("the session ends by itself")
        .unwrap();
    let theirs = serving.wait_reports(1, Duration::from_secs(10)).await.remove(0).unwrap();
    serving.stop().await;
    (ours, theirs)
}

fn receipt_checks(report: &SessionReport) -> Vec<(&'static str, ReceiptCheck)> {
    report.receipts.iter().map(|r| (r.receipt.name(), r.check.clone())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_suite_signed_compressed_encrypted_both_ways_after_secure_authentication() {
    let pki = Pki::new();
    let u_data = text_lines(3_000, 7);
    // A V file: the store keeps V files with their §6.5 length prefixes, which travel
    // inside the secured file.
    let mut v_data = Vec::new();
    for (i, record) in [&b"FIRST RECORD"[..], b"", b"THIRD"].iter().enumerate() {
        v_data.extend_from_slice(&u16::try_from(record.len()).unwrap().to_be_bytes());
        v_data.extend_from_slice(record);
        let _ = i;
    }
    for code in 1..=6 {
        let suite = CipherSuite::new(code).unwrap();
        let a = secure_site(A, &pki.a, secure_partner(B, A, None), certificate(&pki.b));
        let b = secure_site(B, &pki.b, secure_partner(A, B, None), certificate(&pki.a));
        queue(&a, B, "TO.B.U", RecordFormat::Unstructured, 0, &u_data, FileServices::all(suite));
        queue(&a, B, "TO.B.V", RecordFormat::Variable, 20, &v_data, FileServices::all(suite));
        queue(&b, A, "TO.A.U", RecordFormat::Unstructured, 0, &u_data, FileServices::all(suite));

        let (ours, theirs) = session(&a, &b).await;
        let context = format!("suite {code:02}");
        assert!(ours.end.is_normal(), "{context}: {:?}", ours.end);
        assert!(theirs.end.is_normal(), "{context}: {:?}", theirs.end);
        assert!(ours.negotiated.as_ref().unwrap().secure_authentication, "{context}");

        let b_inbox = b.inbox(A);
        assert_eq!(b_inbox.len(), 2, "{context}: {b_inbox:?}");
        assert!(b_inbox.iter().any(|(_, data)| *data == u_data), "{context}: U file");
        assert!(b_inbox.iter().any(|(_, data)| *data == v_data), "{context}: V file");
        let a_inbox = a.inbox(B);
        assert_eq!(a_inbox.len(), 1, "{context}");
        assert_eq!(a_inbox[0].1, u_data, "{context}");

        // Signed EERPs came back both ways, verified against the sender's hash.
        let a_checks = receipt_checks(&ours);
        assert_eq!(a_checks.len(), 2, "{context}: {a_checks:?}");
        assert!(
            a_checks
                .iter()
                .all(|(kind, check)| *kind == "EERP" && *check == ReceiptCheck::Verified),
            "{context}: {a_checks:?}"
        );
        let b_checks = receipt_checks(&theirs);
        assert_eq!(b_checks, vec![("EERP", ReceiptCheck::Verified)], "{context}");
        for entry in a.store().outgoing_all(&id(B)).unwrap() {
            assert_eq!(entry.sfid.cipher_suite, suite, "{context}");
            assert!(entry.transmitted_hash.is_some(), "{context}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_file_ends_in_efna_21_and_a_nerp() {
    let pki = Pki::new();
    let a = secure_site(A, &pki.a, partner(B, A, Transport::PlainTcp, None), certificate(&pki.b));
    let b = secure_site(B, &pki.b, partner(A, B, Transport::PlainTcp, None), certificate(&pki.a));
    let data = text_lines(500, 3);
    let signed_only = FileServices {
        signed: true,
        signed_receipt: true,
        cipher_suite: CipherSuite::AES256_RSA_SHA256,
        ..FileServices::NONE
    };
    queue(&a, B, "TAMPERED", RecordFormat::Unstructured, 0, &data, signed_only);
    // Change one octet of the content inside the SignedData in A's outbox.
    let outbox: Vec<_> = session_support::files_under(a.dir.path())
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "data"))
        .collect();
    assert_eq!(outbox.len(), 1, "{outbox:?}");
    let mut secured = std::fs::read(&outbox[0]).unwrap();
    let at =
        secured.windows(data.len().min(64)).position(|w| w == &data[..data.len().min(64)]).unwrap();
    secured[at + 10] ^= 0x20;
    std::fs::write(&outbox[0], &secured).unwrap();

    let (ours, theirs) = session(&a, &b).await;
    assert!(ours.end.is_normal(), "{:?}", ours.end);
    assert!(b.inbox(A).is_empty(), "nothing delivered");
    match ours.sent.as_slice() {
        [OutgoingOutcome::Refused { why, .. }] => assert!(why.contains("EFNA 21"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert!(theirs.received.is_empty());
    // The NERP with reason 31, signed as SFIDSIGN asked, came back in the same session.
    let nerps: Vec<_> = ours
        .receipts
        .iter()
        .filter_map(|r| match &r.receipt {
            Receipt::Nerp(nerp) => Some((nerp.reason, r.check.clone())),
            Receipt::Eerp(_) => None,
        })
        .collect();
    assert_eq!(nerps, vec![(NerpReason::FILE_SIGNATURE_NOT_VALID, ReceiptCheck::Verified)]);
    assert!(b.store().pending_receipts(&id(A)).unwrap().is_empty(), "the NERP was sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_certificate_ends_the_authentication_with_esid_11() {
    let pki = Pki::new();
    // B believes A's certificate is B's own: A cannot decrypt B's challenge.
    let a = secure_site(A, &pki.a, secure_partner(B, A, None), certificate(&pki.b));
    let b = secure_site(B, &pki.b, secure_partner(A, B, None), certificate(&pki.b));
    queue(&a, B, "NEVER.SENT", RecordFormat::Unstructured, 0, b"x", FileServices::NONE);
    let (ours, theirs) = session(&a, &b).await;
    assert!(
        matches!(&ours.end, SessionEnd::Remote { reason, .. } if *reason == EsidReason::INVALID_CHALLENGE_RESPONSE),
        "{:?}",
        ours.end
    );
    assert!(
        matches!(&theirs.end, SessionEnd::Local { reason, .. } if *reason == EsidReason::INVALID_CHALLENGE_RESPONSE),
        "{:?}",
        theirs.end
    );
    assert!(b.inbox(A).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_that_must_encrypt_is_refused_an_unencrypted_file_with_sfna_17() {
    let pki = Pki::new();
    let a = secure_site(A, &pki.a, partner(B, A, Transport::PlainTcp, None), certificate(&pki.b));
    let mut strict = partner(A, B, Transport::PlainTcp, None);
    strict.file_security.encryption = ServicePolicy::Required;
    let b = secure_site(B, &pki.b, strict, certificate(&pki.a));
    let signed_only = FileServices {
        signed: true,
        cipher_suite: CipherSuite::AES256_RSA_SHA512,
        ..FileServices::NONE
    };
    queue(&a, B, "NOT.ENCRYPTED", RecordFormat::Unstructured, 0, b"hello", signed_only);
    let (ours, theirs) = session(&a, &b).await;
    assert!(ours.end.is_normal(), "{:?}", ours.end);
    match ours.sent.as_slice() {
        [OutgoingOutcome::Refused { why, .. }] => assert!(why.contains("SFNA 17"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert!(b.inbox(A).is_empty());
    // The refusing side's report shows it, though no application was asked.
    match theirs.refused.as_slice() {
        [refused] => {
            assert_eq!(refused.sfid.dataset_name.as_str(), "NOT.ENCRYPTED");
            assert_eq!(refused.sfna.reason.value(), 17);
        }
        other => panic!("one refusal reported: {other:?}"),
    }
}

#[test]
fn a_configuration_file_names_the_identity_and_the_partners_certificates() {
    let pki = Pki::new();
    let json = format!(
        r#"{{
            "odette_id": "{A}",
            "security": {{
                "identity": {{ "format": "pkcs12", "path": {p12:?}, "password_env": "OFTP_TEST_P12" }},
                "partners": {{ "{B}": {b:?} }},
                "trust_anchors": [{ca:?}],
                "min_rsa_bits": 2048
            }}
        }}"#,
        p12 = pki.a.p12,
        b = pki.b.cert,
        ca = pki.ca.cert,
    );
    let config: oftp2_session::config::Config = serde_json::from_str(&json).unwrap();
    let security_config = config.security.unwrap();
    // The password comes from the environment; without it, loading says which variable.
    std::env::remove_var("OFTP_TEST_P12");
    let missing = security_config.load().unwrap_err().to_string();
    assert!(missing.contains("OFTP_TEST_P12"), "{missing}");
    std::env::set_var("OFTP_TEST_P12", interop_support::P12_PASSWORD);
    let security = security_config.load().unwrap();
    assert_eq!(security.identity().certificate, certificate(&pki.a));
    assert_eq!(security.partner_certificate(&id(B)), Some(&certificate(&pki.b)));
    // A partner certificate that does not chain to the anchors is refused at load time.
    let mut wrong = security_config.clone();
    wrong.trust_anchors =
        vec![oftp2_session::security::identity::CertificateSource::new(&pki.a.cert)];
    let refused = wrong.load().unwrap_err().to_string();
    assert!(refused.contains("partner-b"), "{refused}");
}

/// A partner that unwraps files but ignores SFIDSIGN: its EERPs go out unsigned.
#[derive(Debug)]
struct IgnoresSfidsign(CmsSecurity);

impl oftp2_session::protection::FileSecurity for IgnoresSfidsign {
    fn protect(
        &self,
        partner: &oftp2_codec::fields::OdetteId,
        services: &FileServices,
        original: &mut dyn std::io::Read,
        transmitted: &mut dyn std::io::Write,
    ) -> Result<Vec<u8>, oftp2_session::protection::ProtectionError> {
        self.0.protect(partner, services, original, transmitted)
    }

    fn unprotect(
        &self,
        partner: &oftp2_codec::fields::OdetteId,
        sfid: &oftp2_codec::command::Sfid,
        transmitted: &mut dyn std::io::Read,
        original: &mut dyn std::io::Write,
    ) -> Result<Vec<u8>, oftp2_session::protection::ProtectionError> {
        self.0.unprotect(partner, sfid, transmitted, original)
    }

    fn digest(
        &self,
        suite: CipherSuite,
        transmitted: &mut dyn std::io::Read,
    ) -> Result<Vec<u8>, oftp2_session::protection::ProtectionError> {
        self.0.digest(suite, transmitted)
    }

    fn sign_receipt(
        &self,
        _: &oftp2_codec::fields::OdetteId,
        _: CipherSuite,
        _: &mut Receipt,
        _: &[u8],
    ) -> Result<(), oftp2_session::protection::ProtectionError> {
        Ok(())
    }

    fn check_receipt(
        &self,
        partner: &oftp2_codec::fields::OdetteId,
        suite: CipherSuite,
        receipt: &Receipt,
        expected_hash: Option<&[u8]>,
    ) -> ReceiptCheck {
        self.0.check_receipt(partner, suite, receipt, expected_hash)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unsigned_eerp_for_a_file_that_asked_for_a_signed_one_is_reported_invalid() {
    let pki = Pki::new();
    let a = secure_site(A, &pki.a, partner(B, A, Transport::PlainTcp, None), certificate(&pki.b));
    let careless =
        CmsSecurity::builder(identity(&pki.b)).partner(id(A), certificate(&pki.a)).build().unwrap();
    let dir = scratch();
    let options = StoreOptions {
        security: Some(Arc::new(IgnoresSfidsign(careless))),
        ..StoreOptions::new(id(B))
    };
    let b = Site {
        node: Node::new(
            Arc::new(config(B, vec![partner(A, B, Transport::PlainTcp, None)], Params::default())),
            Arc::new(FsStore::with_options(dir.path(), options).unwrap()),
        ),
        dir,
    };
    let data = text_lines(100, 1);
    queue(
        &a,
        B,
        "WANTS.SIGNED",
        RecordFormat::Unstructured,
        0,
        &data,
        FileServices::all(CipherSuite::AES256_RSA_SHA256),
    );
    let (ours, _) = session(&a, &b).await;
    assert_eq!(b.inbox(A).len(), 1, "delivered");
    let checks = receipt_checks(&ours);
    assert!(
        matches!(checks.as_slice(), [("EERP", ReceiptCheck::Invalid(why))] if why.contains("SFIDSIGN")),
        "{checks:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_only_compressed_needs_no_cipher_suite() {
    let pki = Pki::new();
    let a = secure_site(A, &pki.a, partner(B, A, Transport::PlainTcp, None), certificate(&pki.b));
    let b = secure_site(B, &pki.b, partner(A, B, Transport::PlainTcp, None), certificate(&pki.a));
    let data = text_lines(2_000, 9);
    let compressed = FileServices { compressed: true, ..FileServices::NONE };
    queue(&a, B, "ONLY.COMPRESSED", RecordFormat::Unstructured, 0, &data, compressed);
    let entry = a.store().outgoing(&id(B)).unwrap().remove(0);
    assert!(entry.size < data.len() as u64 / 2, "travels compressed: {} octets", entry.size);
    let (ours, _) = session(&a, &b).await;
    assert!(ours.end.is_normal(), "{:?}", ours.end);
    assert_eq!(b.inbox(A), vec![(b.inbox(A)[0].0.clone(), data)]);
    assert_eq!(receipt_checks(&ours), vec![("EERP", ReceiptCheck::Unsigned)]);
}

/// A crash between the delivery record and the EERP's own file: reopened, the store owes
/// the very EERP the commit signed, which the originator verifies against the hash of
/// what it sent, not a plain EERP in its place.
#[test]
fn a_signed_eerp_survives_a_crash_before_it_was_recorded() {
    use oftp2_codec::command::Sfid;
    use oftp2_codec::fields::{
        FileCompression, FileEnveloping, FileSize, RestartPosition, SecurityLevel, VirtualFileDate,
        VirtualFileTime,
    };
    use oftp2_codec::record::{file_size, Counts};
    use oftp2_session::protection::FileSecurity;
    use oftp2_session::store::IncomingDecision;

    let pki = Pki::new();
    let ours =
        CmsSecurity::builder(identity(&pki.b)).partner(id(A), certificate(&pki.a)).build().unwrap();
    let theirs =
        CmsSecurity::builder(identity(&pki.a)).partner(id(B), certificate(&pki.b)).build().unwrap();
    let ours: Arc<dyn FileSecurity> = Arc::new(ours);
    let options = || StoreOptions { security: Some(ours.clone()), ..StoreOptions::new(id(B)) };
    let suite = CipherSuite::new(4).unwrap();
    let data = text_lines(300, 9);
    let sfid = Sfid {
        dataset_name: "SIGNED.EERP".parse().unwrap(),
        date: VirtualFileDate::new(2026, 12, 3).unwrap(),
        time: VirtualFileTime::new(14, 30, 5, 1).unwrap(),
        user_data: UserData::EMPTY,
        destination: id(B),
        originator: id(A),
        format: RecordFormat::Unstructured,
        max_record_length: RecordLength::new(0).unwrap(),
        file_size: file_size(data.len() as u64),
        original_file_size: FileSize::new(0).unwrap(),
        restart_position: RestartPosition::new(0).unwrap(),
        security_level: SecurityLevel::None,
        cipher_suite: suite,
        compression: FileCompression::None,
        enveloping: FileEnveloping::None,
        signed_eerp_request: true,
        description: Utf8Text::empty(),
    };
    let dir = scratch();
    let (delivered, signed) = {
        let store = FsStore::with_options(dir.path(), options()).unwrap();
        let IncomingDecision::Accept { mut file, .. } =
            store.begin_incoming(&id(A), &sfid, true).unwrap()
        else {
            panic!("the file is accepted")
        };
        file.write(&data).unwrap();
        let delivered = file.commit(Counts { records: 0, octets: data.len() as u64 }).unwrap();
        let mut owed = store.pending_receipts(&id(A)).unwrap();
        assert_eq!(owed.len(), 1);
        (delivered, owed.remove(0).1)
    };
    let Receipt::Eerp(eerp) = &signed else { panic!("an EERP is owed, not {signed:?}") };
    assert!(!eerp.signature.is_empty(), "SFIDSIGN asked for a signed EERP");

    // Put the disk back into the state of a crash after the delivery record: the file
    // still in incoming/, no EERP recorded yet.
    let root = delivered.path.parent().unwrap().parent().unwrap();
    let record = std::fs::read_dir(root.join("delivered"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .find(|n| n.ends_with(".json"))
        .unwrap();
    let key = record.strip_suffix(".json").unwrap();
    std::fs::rename(&delivered.path, root.join("incoming").join(format!("{key}.part"))).unwrap();
    for entry in std::fs::read_dir(root.join("receipts")).unwrap() {
        std::fs::remove_file(entry.unwrap().path()).unwrap();
    }

    let store = FsStore::with_options(dir.path(), options()).unwrap();
    assert_eq!(std::fs::read(&delivered.path).unwrap(), data, "delivered by the roll forward");
    let mut owed = store.pending_receipts(&id(A)).unwrap();
    assert_eq!(owed.len(), 1);
    let recovered = owed.remove(0).1;
    assert_eq!(recovered, signed, "the same signed EERP");
    let hash = theirs.digest(suite, &mut &data[..]).unwrap();
    assert_eq!(
        theirs.check_receipt(&id(B), suite, &recovered, Some(&hash)),
        ReceiptCheck::Verified
    );
}
