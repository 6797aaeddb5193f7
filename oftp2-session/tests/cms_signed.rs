//! CMS SignedData (RFC 5024 §6.2): round trips for every suite's digest, interop with the
//! `openssl cms` command line both ways (DER and streamed BER), and rejection of tampered
//! content, wrong signers and wrong digests.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod cms_support;
mod interop_support;

use std::io::{Read, Write};
use std::time::{Duration, SystemTime};

use cms_support::{openssl_sign, openssl_verify, party};
use oftp2_session::security::signed::{self, SignOptions, SignedReader, SignedWriter};
use oftp2_session::security::suite::{DigestAlgorithm, Suite, ID_DATA};
use oftp2_session::security::SecurityError;

const DIGESTS: [(DigestAlgorithm, &str); 3] = [
    (DigestAlgorithm::Sha1, "sha1"),
    (DigestAlgorithm::Sha256, "sha256"),
    (DigestAlgorithm::Sha512, "sha512"),
];

fn streamed(content: &[u8], signer: &cms_support::Party, digest: DigestAlgorithm) -> Vec<u8> {
    let mut writer = SignedWriter::new(Vec::new(), &signer.identity, digest).unwrap();
    // Odd write sizes, to cross chunk boundaries.
    for piece in content.chunks(7919) {
        writer.write_all(piece).unwrap();
    }
    writer.finish().unwrap()
}

fn read_streaming(
    cms: &[u8],
    partner: &oftp2_session::security::identity::Certificate,
) -> Result<(Vec<u8>, signed::Verified), SecurityError> {
    let mut reader = SignedReader::new(cms)?;
    let mut content = Vec::new();
    let mut buf = [0u8; 1000];
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        content.extend_from_slice(&buf[..n]);
    }
    let verified = reader.finish(partner)?;
    Ok((content, verified))
}

#[test]
fn every_suite_round_trips_streamed_and_in_memory() {
    let dir = tempfile::tempdir().unwrap();
    let alice = party(dir.path(), "alice", 1);
    let content = cms_support::edi_text(200_000);
    for suite in Suite::all() {
        let ber = streamed(&content, &alice, suite.digest);
        assert_eq!(&ber[..2], [0x30, 0x80], "streamed output is indefinite-length BER");
        let (out, verified) = read_streaming(&ber, &alice.certificate).unwrap();
        assert_eq!(out, content, "suite {:?}", suite.code);
        assert_eq!(verified.digest_algorithm, suite.digest);
        assert_eq!(verified.content_type, ID_DATA);
        assert_eq!(verified.content_octets, content.len() as u64);
        let age = SystemTime::now().duration_since(verified.signing_time.unwrap()).unwrap();
        assert!(age < Duration::from_secs(60));

        let der = signed::sign(&content, &alice.identity, suite.digest).unwrap();
        assert_eq!(der[0], 0x30);
        assert_ne!(der[1], 0x80, "in-memory output is DER");
        let (out, verified) = signed::verify(&der, &alice.certificate).unwrap();
        assert_eq!(out, content);
        assert_eq!(verified.digest_algorithm, suite.digest);
    }
}

#[test]
fn empty_content_and_options() {
    let dir = tempfile::tempdir().unwrap();
    let alice = party(dir.path(), "alice", 1);
    let when = SystemTime::UNIX_EPOCH + Duration::from_secs(4_000_000_000); // 2096: GeneralizedTime
    let options = SignOptions {
        include_certificates: false,
        signing_time: Some(when),
        ..SignOptions::default()
    };
    let der = signed::sign_with(b"", &alice.identity, DigestAlgorithm::Sha256, &options).unwrap();
    assert!(!der.windows(alice.certificate.der().len()).any(|w| w == alice.certificate.der()));
    let (out, verified) = signed::verify(&der, &alice.certificate).unwrap();
    assert!(out.is_empty());
    assert_eq!(verified.signing_time, Some(when));
    let ber = streamed(b"", &alice, DigestAlgorithm::Sha1);
    assert!(read_streaming(&ber, &alice.certificate).unwrap().0.is_empty());
}

#[test]
fn a_key_that_is_not_the_certificates_cannot_sign() {
    let dir = tempfile::tempdir().unwrap();
    let alice = party(dir.path(), "alice", 1);
    let bob = party(dir.path(), "bob", 2);
    let mut mixed = alice.identity.clone();
    mixed.key = bob.identity.key.clone();
    let err = signed::sign(b"x", &mixed, DigestAlgorithm::Sha256).unwrap_err();
    assert!(matches!(err, SecurityError::Key(_)), "{err}");
    assert!(SignedWriter::new(Vec::new(), &mixed, DigestAlgorithm::Sha1).is_err());
}

#[test]
fn openssl_verifies_ours_der_and_ber() {
    let dir = tempfile::tempdir().unwrap();
    let alice = party(dir.path(), "alice", 1);
    let content = cms_support::edi_text(300_000);
    for (digest, name) in DIGESTS {
        for (form, cms) in [
            ("der", signed::sign(&content, &alice.identity, digest).unwrap()),
            ("ber", streamed(&content, &alice, digest)),
        ] {
            let input = dir.path().join(format!("{name}.{form}"));
            std::fs::write(&input, &cms).unwrap();
            let out = openssl_verify(&input, &alice.cert_pem).unwrap();
            assert_eq!(out, content, "{name} {form}");
            let printed = String::from_utf8(interop_support::openssl(
                dir.path(),
                &["cms", "-cmsout", "-print", "-inform", "DER", "-in", input.to_str().unwrap()],
            ))
            .unwrap();
            assert!(printed.contains(&format!("algorithm: {name}")), "{name}: {printed}");
        }
    }
}

#[test]
fn openssl_rejects_ours_when_tampered() {
    let dir = tempfile::tempdir().unwrap();
    let alice = party(dir.path(), "alice", 1);
    let mut der =
        signed::sign(b"ORIGINAL CONTENT", &alice.identity, DigestAlgorithm::Sha256).unwrap();
    let at = der.windows(8).position(|w| w == b"ORIGINAL").unwrap();
    der[at] = b'X';
    let input = dir.path().join("tampered.der");
    std::fs::write(&input, &der).unwrap();
    let verdict = openssl_verify(&input, &alice.cert_pem);
    assert!(verdict.is_err(), "openssl accepted tampered content");
}

#[test]
fn we_verify_openssl_der_and_streamed_ber() {
    let dir = tempfile::tempdir().unwrap();
    let bob = party(dir.path(), "bob", 2);
    let content = cms_support::edi_text(250_000);
    let content_path = dir.path().join("content");
    std::fs::write(&content_path, &content).unwrap();
    for (digest, name) in DIGESTS {
        for stream in [false, true] {
            let extra: &[&str] = if stream { &["-stream"] } else { &[] };
            let cms = openssl_sign(&bob, name, &content_path, extra);
            assert_eq!(cms[1] == 0x80, stream, "openssl -stream writes indefinite lengths");
            let (got, verified) = read_streaming(&cms, &bob.certificate).unwrap();
            assert_eq!(got, content, "{name} stream={stream}");
            assert_eq!(verified.digest_algorithm, digest);
            assert!(verified.signing_time.is_some());
            let (got, _) = signed::verify(&cms, &bob.certificate).unwrap();
            assert_eq!(got, content);
        }
    }
}

#[test]
fn we_verify_openssl_without_signed_attributes_and_by_key_identifier() {
    let dir = tempfile::tempdir().unwrap();
    let bob = party(dir.path(), "bob", 2);
    let content_path = dir.path().join("content");
    std::fs::write(&content_path, b"no attributes here").unwrap();
    for extra in [&["-noattr"][..], &["-keyid"][..]] {
        let cms = openssl_sign(&bob, "sha256", &content_path, extra);
        let (got, verified) = signed::verify(&cms, &bob.certificate).unwrap();
        assert_eq!(got, b"no attributes here", "{extra:?}");
        assert_eq!(verified.signing_time.is_none(), extra == ["-noattr"]);
    }
}

#[test]
fn tampered_content_wrong_signer_and_wrong_digest_are_signature_errors() {
    let dir = tempfile::tempdir().unwrap();
    let alice = party(dir.path(), "alice", 1);
    let mallory = party(dir.path(), "mallory", 3);
    // Same issuer name and serial number as alice, another key.
    let impostor = party(dir.path(), "alice", 1);
    let content = b"UNH+1+ORDERS:D:96A:UN'BGM+220+4711'".to_vec();
    for (digest, _) in DIGESTS {
        for cms in [
            signed::sign(&content, &alice.identity, digest).unwrap(),
            streamed(&content, &alice, digest),
        ] {
            // Content altered.
            let mut altered = cms.clone();
            let at = altered.windows(7).position(|w| w == b"ORDERS:").unwrap();
            altered[at] = b'0';
            let err = signed::verify(&altered, &alice.certificate).unwrap_err();
            assert!(
                matches!(&err, SecurityError::Signature(m) if m.contains("messageDigest")),
                "{err}"
            );

            // Another partner's certificate: no SignerInfo by it.
            let err = signed::verify(&cms, &mallory.certificate).unwrap_err();
            assert!(
                matches!(&err, SecurityError::Signature(m) if m.contains("no SignerInfo")),
                "{err}"
            );

            // Same issuer and serial, another key: the signature does not verify.
            let err = signed::verify(&cms, &impostor.certificate).unwrap_err();
            assert!(matches!(err, SecurityError::Signature(_)), "{err}");

            // The signed messageDigest altered: the signature over the attributes fails.
            let digest_value = oftp2_session::security::digest::digest(digest, &content);
            let mut forged = cms.clone();
            let at = forged.windows(digest_value.len()).position(|w| w == digest_value).unwrap();
            forged[at] ^= 1;
            let err = signed::verify(&forged, &alice.certificate).unwrap_err();
            assert!(matches!(err, SecurityError::Signature(_)), "{err}");

            // The signature altered.
            let mut forged = cms.clone();
            let last_sig_octet = forged.len() - if forged[1] == 0x80 { 7 } else { 1 };
            forged[last_sig_octet] ^= 1;
            let err = signed::verify(&forged, &alice.certificate).unwrap_err();
            assert!(matches!(err, SecurityError::Signature(_)), "{err}");
        }
    }
}

#[test]
fn a_signer_info_naming_a_digest_not_listed_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let alice = party(dir.path(), "alice", 1);
    let mut cms = signed::sign(b"abc", &alice.identity, DigestAlgorithm::Sha256).unwrap();
    // The first SHA-256 OID is the digestAlgorithms entry: make it SHA-512.
    let sha256 = [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];
    let at = cms.windows(9).position(|w| w == sha256).unwrap();
    cms[at + 8] = 0x03;
    let err = signed::verify(&cms, &alice.certificate).unwrap_err();
    assert!(matches!(&err, SecurityError::Signature(m) if m.contains("digestAlgorithms")), "{err}");
}

#[test]
fn large_content_streams_through() {
    let dir = tempfile::tempdir().unwrap();
    let alice = party(dir.path(), "alice", 1);
    let content = cms_support::edi_text(12 << 20);
    let ber = streamed(&content, &alice, DigestAlgorithm::Sha512);
    let mut reader = SignedReader::new(&ber[..]).unwrap();
    let mut sink = oftp2_session::security::digest::DigestWriter::new(
        std::io::sink(),
        DigestAlgorithm::Sha256,
    );
    std::io::copy(&mut reader, &mut sink).unwrap();
    reader.finish(&alice.certificate).unwrap();
    let (_, hash, count) = sink.finish();
    assert_eq!(count, content.len() as u64);
    assert_eq!(hash, oftp2_session::security::digest::digest(DigestAlgorithm::Sha256, &content));
}

#[test]
fn truncated_and_corrupted_inputs_are_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let alice = party(dir.path(), "alice", 1);
    let content = cms_support::edi_text(3000);
    for cms in [
        signed::sign(&content, &alice.identity, DigestAlgorithm::Sha1).unwrap(),
        streamed(&content, &alice, DigestAlgorithm::Sha1),
    ] {
        for len in (0..cms.len()).step_by(7) {
            assert!(signed::verify(&cms[..len], &alice.certificate).is_err(), "prefix {len}");
        }
        let mut extended = cms.clone();
        extended.push(0);
        assert!(signed::verify(&extended, &alice.certificate).is_err(), "trailing octet");
        let mut seed = 0x2545_f491_u32;
        for _ in 0..2000 {
            let mut corrupted = cms.clone();
            for _ in 0..3 {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                let at = seed as usize % corrupted.len();
                corrupted[at] = (seed >> 8) as u8;
            }
            let _ = signed::verify(&corrupted, &alice.certificate);
        }
    }
}
