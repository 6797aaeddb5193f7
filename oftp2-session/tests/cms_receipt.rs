//! Signed EERP and NERP (§5.3.13, §5.3.14): round trips through the codec for every
//! suite, `openssl cms -verify` giving back exactly the signed fields, and rejection of
//! altered fields, hashes, suites and signers.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod cms_support;
mod interop_support;

use bytes::{Bytes, BytesMut};
use oftp2_codec::command::{Eerp, Nerp};
use oftp2_codec::fields::{UserData, Utf8Text, VirtualFileDate, VirtualFileTime};
use oftp2_codec::reason::NerpReason;
use oftp2_codec::{Command, ProtocolLevel};
use oftp2_session::security::digest::digest;
use oftp2_session::security::receipt::{sign_eerp, sign_nerp, verify_eerp, verify_nerp};
use oftp2_session::security::suite::Suite;
use oftp2_session::security::SecurityError;

fn eerp() -> Eerp {
    Eerp {
        dataset_name: "INVOICES.2026".parse().unwrap(),
        date: VirtualFileDate::new(2026, 11, 23).unwrap(),
        time: VirtualFileTime::new(14, 30, 5, 17).unwrap(),
        user_data: UserData::EMPTY,
        destination: "O0013000000000000001".parse().unwrap(),
        originator: "O0013000000000000002".parse().unwrap(),
        hash: Bytes::new(),
        signature: Bytes::new(),
    }
}

fn nerp() -> Nerp {
    Nerp {
        dataset_name: "INVOICES.2026".parse().unwrap(),
        date: VirtualFileDate::new(2026, 11, 23).unwrap(),
        time: VirtualFileTime::new(14, 30, 5, 17).unwrap(),
        destination: "O0013000000000000001".parse().unwrap(),
        originator: "O0013000000000000002".parse().unwrap(),
        creator: "O0013000000000000003".parse().unwrap(),
        reason: NerpReason::FILE_SIGNATURE_NOT_VALID,
        text: Utf8Text::new("signature check failed").unwrap(),
        hash: Bytes::new(),
        signature: Bytes::new(),
    }
}

fn through_codec(command: Command) -> Command {
    let mut buf = BytesMut::new();
    command.encode(ProtocolLevel::V2_0, &mut buf).unwrap();
    let (decoded, used) = Command::decode(&buf, ProtocolLevel::V2_0).unwrap();
    assert_eq!(used, buf.len());
    decoded
}

#[test]
fn signed_eerp_and_nerp_round_trip_for_every_suite() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = cms_support::party(dir.path(), "receiver", 7);
    for suite in Suite::all() {
        let file_hash = digest(suite.digest, b"the transmitted (secured) file");

        let mut e = eerp();
        sign_eerp(&mut e, &file_hash, &receiver.identity, suite).unwrap();
        assert_eq!(&e.hash[..], &file_hash[..]);
        let Command::Eerp(e) = through_codec(Command::Eerp(e)) else { panic!("not an EERP") };
        let v = verify_eerp(&e, &receiver.certificate, suite, Some(&file_hash)).unwrap();
        assert!(v.hash_checked);
        assert_eq!(v.signature.digest_algorithm, suite.digest);
        assert!(!verify_eerp(&e, &receiver.certificate, suite, None).unwrap().hash_checked);

        let mut n = nerp();
        sign_nerp(&mut n, &file_hash, &receiver.identity, suite).unwrap();
        let Command::Nerp(n) = through_codec(Command::Nerp(n)) else { panic!("not a NERP") };
        verify_nerp(&n, &receiver.certificate, suite, Some(&file_hash)).unwrap();
    }
}

#[test]
fn openssl_verifies_eerpsig_and_nerpsig_giving_exactly_the_signed_fields() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = cms_support::party(dir.path(), "receiver", 7);
    for suite in Suite::all() {
        let file_hash = digest(suite.digest, b"file");
        let mut e = eerp();
        sign_eerp(&mut e, &file_hash, &receiver.identity, suite).unwrap();
        let mut n = nerp();
        sign_nerp(&mut n, &file_hash, &receiver.identity, suite).unwrap();
        for (name, signature, fields) in [
            ("eerp", e.signature.clone(), e.signed_content()),
            ("nerp", n.signature.clone(), n.signed_content()),
        ] {
            let input = dir.path().join(format!("{name}.sig"));
            std::fs::write(&input, &signature).unwrap();
            let out = cms_support::openssl_verify(&input, &receiver.cert_pem).unwrap();
            assert_eq!(out, fields, "{name} suite {:?}", suite.code);
        }
    }
}

#[test]
fn we_verify_a_receipt_signed_by_openssl() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = cms_support::party(dir.path(), "receiver", 7);
    let suite = Suite::all()[3];
    let mut e = eerp();
    e.hash = Bytes::from(digest(suite.digest, b"file"));
    let fields = dir.path().join("fields");
    std::fs::write(&fields, e.signed_content()).unwrap();
    e.signature = Bytes::from(cms_support::openssl_sign(&receiver, "sha256", &fields, &[]));
    verify_eerp(&e, &receiver.certificate, suite, Some(&e.hash.clone())).unwrap();
}

#[test]
fn altered_receipts_wrong_hashes_suites_and_signers_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = cms_support::party(dir.path(), "receiver", 7);
    let other = cms_support::party(dir.path(), "other", 8);
    let suite = Suite::all()[5];
    let file_hash = digest(suite.digest, b"file");
    let mut e = eerp();
    sign_eerp(&mut e, &file_hash, &receiver.identity, suite).unwrap();

    let signature_error = |r: Result<_, SecurityError>, needle: &str| match r {
        Err(SecurityError::Signature(m)) => assert!(m.contains(needle), "{m} lacks {needle}"),
        Err(e) => panic!("expected a signature error, got {e}"),
        Ok(_) => panic!("accepted"),
    };

    let mut altered = e.clone();
    altered.originator = "O0013000000000000099".parse().unwrap();
    signature_error(verify_eerp(&altered, &receiver.certificate, suite, None), "EERPORIG");

    let mut altered = e.clone();
    altered.time = VirtualFileTime::new(14, 30, 5, 18).unwrap();
    signature_error(verify_eerp(&altered, &receiver.certificate, suite, None), "EERPTIME");

    // EERPUSER is not signed (§5.3.13).
    let mut user = e.clone();
    user.user_data = "X".parse().unwrap();
    verify_eerp(&user, &receiver.certificate, suite, None).unwrap();

    let mut altered = e.clone();
    let mut hash = file_hash.clone();
    hash[0] ^= 1;
    altered.hash = Bytes::from(hash.clone());
    signature_error(verify_eerp(&altered, &receiver.certificate, suite, None), "EERPHSH");

    signature_error(
        verify_eerp(&e, &receiver.certificate, suite, Some(&hash)),
        "not the hash of the file",
    );
    signature_error(verify_eerp(&e, &other.certificate, suite, None), "no SignerInfo");
    // Suite 05 has the same digest as 06: the receipt verifies under either.
    verify_eerp(&e, &receiver.certificate, Suite::all()[4], None).unwrap();
    signature_error(verify_eerp(&e, &receiver.certificate, Suite::all()[3], None), "EERPHSH is 64");
    signature_error(verify_eerp(&eerp(), &receiver.certificate, suite, None), "not signed");

    let mut n = nerp();
    sign_nerp(&mut n, &file_hash, &receiver.identity, suite).unwrap();
    let mut altered = n.clone();
    altered.creator = "O0013000000000000004".parse().unwrap();
    signature_error(verify_nerp(&altered, &receiver.certificate, suite, None), "NERPCREA");
    // NERPREAS and its text are not signed (§5.3.14).
    let mut reason = n.clone();
    reason.text = Utf8Text::new("other text").unwrap();
    verify_nerp(&reason, &receiver.certificate, suite, None).unwrap();

    assert!(sign_eerp(&mut eerp(), &file_hash[..20], &receiver.identity, suite).is_err());
    // A NERP for a file refused before its data has no hash; an EERP always has one.
    let mut no_hash = nerp();
    sign_nerp(&mut no_hash, &[], &receiver.identity, suite).unwrap();
    assert!(no_hash.hash.is_empty());
    verify_nerp(&no_hash, &receiver.certificate, suite, None).unwrap();
    signature_error(
        verify_nerp(&no_hash, &receiver.certificate, suite, Some(&file_hash)),
        "not the hash of the file",
    );
    assert!(sign_eerp(&mut eerp(), &[], &receiver.identity, suite).is_err());
}

#[test]
fn garbage_signatures_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = cms_support::party(dir.path(), "receiver", 7);
    let suite = Suite::all()[0];
    let mut e = eerp();
    sign_eerp(&mut e, &digest(suite.digest, b"f"), &receiver.identity, suite).unwrap();
    let good = e.signature.clone();
    for len in 0..good.len() {
        e.signature = good.slice(..len);
        assert!(verify_eerp(&e, &receiver.certificate, suite, None).is_err());
    }
}
