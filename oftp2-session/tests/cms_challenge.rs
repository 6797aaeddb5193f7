//! The AUCH challenge and AURP answer of RFC 5024 §4.2.3: round trips for every suite,
//! openssl reads the AUCHCHAL, and every failure answers random octets that do not verify.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod cms_support;
mod interop_support;

use std::collections::HashSet;

use std::path::Path;

use cms_support::party;
use oftp2_codec::fields::CipherSuite;
use oftp2_session::security::challenge::{answer, verify, Challenge, MAX_AUCHCHAL_LEN};
use oftp2_session::security::enveloped::envelop;
use oftp2_session::security::suite::{Suite, ID_DATA};

#[test]
fn partner_answers_every_suite() {
    let dir = tempfile::tempdir().unwrap();
    let initiator = party(dir.path(), "initiator", 1);
    for suite in Suite::all() {
        let (auchchal, expected) = Challenge::new(&initiator.certificate, suite.code).unwrap();
        assert!(auchchal.len() <= MAX_AUCHCHAL_LEN);
        assert_eq!(auchchal[1], 0x82, "DER, definite length");
        let aurp = answer(&initiator.identity, &auchchal);
        assert_eq!(aurp, expected);
        assert!(verify(&expected, &aurp));
        let mut wrong = aurp;
        wrong[19] ^= 1;
        assert!(!verify(&expected, &wrong));
        assert!(!verify(&expected, &aurp[..19]));
    }
    // Fresh each time.
    let a = Challenge::new(&initiator.certificate, CipherSuite::AES256_RSA_SHA1).unwrap();
    let b = Challenge::new(&initiator.certificate, CipherSuite::AES256_RSA_SHA1).unwrap();
    assert_ne!(a.1, b.1);
    assert_ne!(a.0, b.0);
}

#[test]
fn openssl_opens_the_auchchal() {
    let dir = tempfile::tempdir().unwrap();
    let initiator = party(dir.path(), "initiator", 2);
    let (auchchal, expected) =
        Challenge::new(&initiator.certificate, CipherSuite::TDES_RSA_SHA1).unwrap();
    let file = dir.path().join("auchchal.der");
    std::fs::write(&file, &auchchal).unwrap();
    let plain = interop_support::openssl(
        Path::new("."),
        &[
            "cms",
            "-decrypt",
            "-binary",
            "-inform",
            "DER",
            "-in",
            file.to_str().unwrap(),
            "-recip",
            initiator.cert_pem.to_str().unwrap(),
            "-inkey",
            initiator.key_pem.to_str().unwrap(),
        ],
    );
    assert_eq!(plain, expected);
}

#[test]
fn wrong_key_or_bad_input_answers_random_octets_that_do_not_verify() {
    let dir = tempfile::tempdir().unwrap();
    let initiator = party(dir.path(), "initiator", 3);
    let impostor = party(dir.path(), "impostor", 4);
    let (auchchal, expected) =
        Challenge::new(&initiator.certificate, CipherSuite::AES256_RSA_SHA256).unwrap();

    // The impostor's key is not the one the challenge was encrypted to: no error, just
    // octets that are random (different on every try) and do not verify.
    let mut answers = HashSet::new();
    for _ in 0..5 {
        let aurp = answer(&impostor.identity, &auchchal);
        assert!(!verify(&expected, &aurp));
        answers.insert(aurp);
    }
    assert_eq!(answers.len(), 5);

    // The challenge readdressed to the impostor's certificate (same issuer and serial) but
    // RSA-decrypted with the wrong key: the impostor's identity with the initiator's
    // certificate.
    let mut mixed = impostor.identity.clone();
    mixed.certificate = initiator.certificate.clone();
    let aurp = answer(&mixed, &auchchal);
    assert!(!verify(&expected, &aurp));
    assert_ne!(aurp, answer(&mixed, &auchchal));

    // Tampered, truncated, oversized, garbage.
    let mut tampered = auchchal.clone();
    let n = tampered.len();
    tampered[n - 20] ^= 0x55;
    for bad in [
        tampered,
        auchchal[..auchchal.len() - 1].to_vec(),
        vec![0u8; MAX_AUCHCHAL_LEN + 1],
        Vec::new(),
        b"not CMS at all".to_vec(),
    ] {
        let a = answer(&initiator.identity, &bad);
        assert!(!verify(&expected, &a));
        assert_ne!(a, answer(&initiator.identity, &bad), "random, not a fixed value");
    }

    // A well-formed EnvelopedData of the wrong length is answered randomly too.
    let long =
        envelop(&[7u8; 21], &initiator.certificate, CipherSuite::AES256_RSA_SHA1, ID_DATA).unwrap();
    let a = answer(&initiator.identity, &long);
    assert_ne!(&a[..], &[7u8; 20][..]);
}
