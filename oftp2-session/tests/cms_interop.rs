//! CMS interop (RFC 5024 §6, RFC 5652, RFC 3274) with Bouncy Castle (Debian's
//! libbcprov-java/libbcpkix-java, through tests/interop/BcCms.java) and the `openssl cms`
//! command line: CompressedData with Bouncy Castle only (Debian's OpenSSL has no zlib),
//! SignedData and EnvelopedData with both.
//!
//! The harness checks itself first (openssl and Bouncy Castle against each other), so a
//! failure of our side is never a failure of the harness.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod interop_support;

use std::io::Write;

use interop_support::{bouncy_castle, edi_like, openssl_cms, Party, Pki, P12_PASSWORD};
use oftp2_codec::fields::CipherSuite;
use oftp2_session::security::identity::{Certificate, Identity};
use oftp2_session::security::pipeline::{self, FileServices};
use oftp2_session::security::suite::{DigestAlgorithm, Suite, ID_DATA};
use oftp2_session::security::{compressed, enveloped, signed, SecurityError};

const CIPHERS: [(&str, &str); 2] = [("aes256", "-aes256"), ("des3", "-des3")];
const DIGESTS: [(&str, &str); 4] =
    [("SHA1", "sha1"), ("SHA256", "sha256"), ("SHA384", "sha384"), ("SHA512", "sha512")];

#[test]
fn harness_openssl_and_bouncy_castle_enveloped_data_both_ways() {
    let Some(bc) = bouncy_castle() else { return };
    let pki = Pki::new();
    let ossl = openssl_cms(&pki);
    let data = edi_like(10_000);
    for (bc_cipher, ossl_cipher) in CIPHERS {
        for stream in [false, true] {
            let cms = ossl.encrypt(&data, &pki.b, ossl_cipher, stream);
            assert_eq!(bc.decrypt(&pki, &cms, &pki.b), data, "{ossl_cipher} stream={stream}");
        }
        let cms = bc.encrypt(&pki, &data, &pki.b, bc_cipher);
        assert_eq!(ossl.decrypt(&cms, &pki.b), data, "{bc_cipher}");
        // Addressed to B: A cannot open it.
        let wrong = pki.write("wrong-recipient.der", &cms);
        assert!(!bc.succeeds(&[
            "decrypt",
            wrong.to_str().unwrap(),
            pki.path("never").to_str().unwrap(),
            pki.a.cert.to_str().unwrap(),
            pki.a.key.to_str().unwrap(),
        ]));
    }
}

#[test]
fn harness_openssl_and_bouncy_castle_signed_data_both_ways() {
    let Some(bc) = bouncy_castle() else { return };
    let pki = Pki::new();
    let ossl = openssl_cms(&pki);
    let data = edi_like(5_000);
    for (bc_digest, ossl_md) in DIGESTS {
        for stream in [false, true] {
            let cms = ossl.sign(&data, &pki.a, ossl_md, stream);
            assert_eq!(bc.verify(&pki, &cms, &pki.a), data, "{ossl_md} stream={stream}");
        }
        let cms = bc.sign(&pki, &data, &pki.a, bc_digest);
        assert_eq!(ossl.verify(&cms, &pki.a), data, "{bc_digest}");
        // Verified against the wrong signer: refused.
        let wrong = pki.write("wrong-signer.der", &cms);
        assert!(!bc.succeeds(&[
            "verify",
            wrong.to_str().unwrap(),
            pki.path("never").to_str().unwrap(),
            pki.b.cert.to_str().unwrap(),
        ]));
    }
}

#[test]
fn harness_bouncy_castle_compressed_data_and_pipeline_round_trips() {
    let Some(bc) = bouncy_castle() else { return };
    let pki = Pki::new();
    let data = edi_like(200_000);
    let compressed = bc.compress(&pki, &data);
    assert!(compressed.len() < data.len() / 5, "zlib compresses EDI text well");
    assert_eq!(bc.decompress(&pki, &compressed), data);
    for nesting in ["contentinfo", "typed"] {
        let cms = bc.protect(&pki, &data, &pki.a, &pki.b, "SHA256", "aes256", nesting);
        assert_eq!(bc.unprotect(&pki, &cms, &pki.b, &pki.a), data, "{nesting}");
        // The outer layer is EnvelopedData that openssl opens too.
        let inner = openssl_cms(&pki).decrypt(&cms, &pki.b);
        assert!(!inner.is_empty());
    }
}

/// Our identity for a party, read from its PKCS#12 file.
fn identity(party: &Party) -> Identity {
    Identity::from_pkcs12_file(&party.p12, P12_PASSWORD).unwrap()
}

fn certificate(party: &Party) -> Certificate {
    Certificate::from_file(&party.cert).unwrap()
}

/// Bouncy Castle's and OpenSSL's names of a digest.
fn digest_names(digest: DigestAlgorithm) -> (&'static str, &'static str) {
    match digest {
        DigestAlgorithm::Sha1 => ("SHA1", "sha1"),
        DigestAlgorithm::Sha256 => ("SHA256", "sha256"),
        DigestAlgorithm::Sha512 => ("SHA512", "sha512"),
    }
}

/// Bouncy Castle's and OpenSSL's names of a suite's content encryption.
fn cipher_names(suite: Suite) -> (&'static str, &'static str) {
    if suite.content_encryption.key_len() == 32 {
        ("aes256", "-aes256")
    } else {
        ("des3", "-des3")
    }
}

/// The sizes tried: empty, one octet, around a cipher block, a zlib/stream chunk, and a
/// MiB so that every stream spans many chunks.
const SIZES: [usize; 6] = [0, 1, 15, 16, 70_000, 1 << 20];

#[test]
fn compressed_data_both_ways_with_bouncy_castle() {
    let Some(bc) = bouncy_castle() else { return };
    let pki = Pki::new();
    for len in SIZES {
        let data = edi_like(len);
        // Ours, in memory and streamed, decompressed by Bouncy Castle byte for byte.
        let ours = compressed::compress(&data, ID_DATA).unwrap();
        assert_eq!(bc.decompress(&pki, &ours), data, "{len} octets");
        let mut writer = compressed::CompressedWriter::new(Vec::new(), ID_DATA).unwrap();
        for piece in data.chunks(7_777) {
            writer.write_all(piece).unwrap();
        }
        let streamed = writer.finish().unwrap();
        assert_eq!(bc.decompress(&pki, &streamed), data, "{len} octets, streamed");

        // Bouncy Castle's (BER, indefinite lengths, chunked OCTET STRING), inflated by us.
        let theirs = bc.compress(&pki, &data);
        let (content_type, content) = compressed::decompress(&theirs, u64::MAX).unwrap();
        assert_eq!(content_type, ID_DATA);
        assert!(content == data, "{len} octets from Bouncy Castle differ");
    }
}

#[test]
fn enveloped_data_both_ways_with_bouncy_castle_and_openssl() {
    let Some(bc) = bouncy_castle() else { return };
    let pki = Pki::new();
    let ossl = openssl_cms(&pki);
    let (a, b, b_cert) = (identity(&pki.a), identity(&pki.b), certificate(&pki.b));
    for suite in [CipherSuite::AES256_RSA_SHA256, CipherSuite::TDES_RSA_SHA256] {
        let (bc_cipher, ossl_cipher) = cipher_names(Suite::from_code(suite).unwrap());
        for len in SIZES {
            let data = edi_like(len);
            let what = format!("{bc_cipher}, {len} octets");
            // Ours, in memory and streamed, opened by both.
            let ours = enveloped::envelop(&data, &b_cert, suite, ID_DATA).unwrap();
            assert!(bc.decrypt(&pki, &ours, &pki.b) == data, "{what}");
            assert!(ossl.decrypt(&ours, &pki.b) == data, "{what}");
            let mut writer =
                enveloped::EnvelopedWriter::new(Vec::new(), &b_cert, suite, ID_DATA).unwrap();
            for piece in data.chunks(10_007) {
                writer.write_all(piece).unwrap();
            }
            let streamed = writer.finish().unwrap();
            assert!(bc.decrypt(&pki, &streamed, &pki.b) == data, "{what}, streamed");
            assert!(ossl.decrypt(&streamed, &pki.b) == data, "{what}, streamed");

            // Theirs, opened by us.
            for (who, theirs) in [
                ("Bouncy Castle", bc.encrypt(&pki, &data, &pki.b, bc_cipher)),
                ("openssl", ossl.encrypt(&data, &pki.b, ossl_cipher, false)),
                ("openssl -stream", ossl.encrypt(&data, &pki.b, ossl_cipher, true)),
            ] {
                let (content_type, content) =
                    enveloped::open(&theirs, &b).unwrap_or_else(|e| panic!("{who} {what}: {e}"));
                assert_eq!(content_type, ID_DATA, "{who} {what}");
                assert!(content == data, "{who} {what}: content differs");
                // Not for A.
                assert!(
                    matches!(enveloped::open(&theirs, &a), Err(SecurityError::Decryption)),
                    "{who} {what}: opened by the wrong recipient"
                );
            }
        }
    }
}

#[test]
fn signed_data_both_ways_with_bouncy_castle_and_openssl() {
    let Some(bc) = bouncy_castle() else { return };
    let pki = Pki::new();
    let ossl = openssl_cms(&pki);
    let (a, a_cert, b_cert) = (identity(&pki.a), certificate(&pki.a), certificate(&pki.b));
    for digest in [DigestAlgorithm::Sha1, DigestAlgorithm::Sha256, DigestAlgorithm::Sha512] {
        let (bc_name, ossl_name) = digest_names(digest);
        for len in [0, 1, 70_000] {
            let data = edi_like(len);
            let what = format!("{digest:?}, {len} octets");
            // Ours, in memory (DER) and streamed (BER), verified by both.
            let ours = signed::sign(&data, &a, digest).unwrap();
            assert_eq!(bc.verify(&pki, &ours, &pki.a), data, "{what}");
            assert_eq!(ossl.verify(&ours, &pki.a), data, "{what}");
            let mut writer = signed::SignedWriter::new(Vec::new(), &a, digest).unwrap();
            writer.write_all(&data).unwrap();
            let streamed = writer.finish().unwrap();
            assert_eq!(bc.verify(&pki, &streamed, &pki.a), data, "{what}, streamed");
            assert_eq!(ossl.verify(&streamed, &pki.a), data, "{what}, streamed");

            // Theirs, verified by us: Bouncy Castle's stream generator, openssl DER and
            // -stream.
            let mut theirs = vec![
                ("Bouncy Castle", bc.sign(&pki, &data, &pki.a, bc_name)),
                ("openssl", ossl.sign(&data, &pki.a, ossl_name, false)),
            ];
            // OpenSSL 3.0 cannot `cms -sign -stream` empty content ("Error writing CMS
            // output").
            if len > 0 {
                theirs.push(("openssl -stream", ossl.sign(&data, &pki.a, ossl_name, true)));
            }
            for (who, theirs) in theirs {
                let (content, verified) = signed::verify(&theirs, &a_cert)
                    .unwrap_or_else(|e| panic!("{who} {what}: {e}"));
                assert!(content == data, "{who} {what}: content differs");
                assert_eq!(verified.digest_algorithm, digest, "{who} {what}");
                assert_eq!(verified.signer, a_cert);
                // Not B's signature.
                assert!(
                    matches!(signed::verify(&theirs, &b_cert), Err(SecurityError::Signature(_))),
                    "{who} {what}: verified against the wrong partner"
                );
            }
        }
    }
    // A signature Bouncy Castle made, with one content octet changed, fails with us.
    let data = edi_like(1_000);
    let mut theirs = bc.sign(&pki, &data, &pki.a, "SHA256");
    let at = theirs.windows(8).position(|w| w == &data[100..108]).unwrap();
    theirs[at] ^= 0x20;
    assert!(matches!(signed::verify(&theirs, &a_cert), Err(SecurityError::Signature(_))));
}

/// All three services with `suite`.
fn all_services(suite: CipherSuite) -> FileServices {
    FileServices {
        signed: true,
        compressed: true,
        encrypted: true,
        cipher_suite: suite,
        signed_receipt: false,
    }
}

#[test]
fn pipeline_from_bouncy_castle_opened_by_us() {
    let Some(bc) = bouncy_castle() else { return };
    let pki = Pki::new();
    let (b, a_cert) = (identity(&pki.b), certificate(&pki.a));
    let data = edi_like(300_000);
    for suite in Suite::all() {
        let (bc_digest, _) = digest_names(suite.digest);
        let (bc_cipher, _) = cipher_names(suite);
        for nesting in ["contentinfo", "typed"] {
            let what = format!("suite {:02}, {nesting}", suite.code.value());
            let theirs = bc.protect(&pki, &data, &pki.a, &pki.b, bc_digest, bc_cipher, nesting);
            let mut out = Vec::new();
            let result =
                pipeline::unprotect(&theirs[..], &mut out, all_services(suite.code), &b, &a_cert)
                    .unwrap_or_else(|e| panic!("{what}: {e}"));
            assert!(out == data, "{what}: content differs");
            assert_eq!(result.original_octets, data.len() as u64, "{what}");
            assert_eq!(result.transmitted_octets, theirs.len() as u64, "{what}");
            let signature = result.signature.unwrap();
            assert_eq!(signature.digest_algorithm, suite.digest, "{what}");
            assert_eq!(signature.signer, a_cert, "{what}");
            // EERPHSH: the suite's hash of the transmitted file.
            let hash = aws_lc_rs::digest::digest(suite.digest.aws_lc(), &theirs);
            assert_eq!(result.transmitted_hash, hash.as_ref(), "{what}");
        }
    }
    // Signed by A but expected from B: refused, and says it is the signature.
    let theirs = bc.protect(&pki, &data, &pki.a, &pki.b, "SHA256", "aes256", "contentinfo");
    let err = pipeline::unprotect(
        &theirs[..],
        std::io::sink(),
        all_services(CipherSuite::AES256_RSA_SHA256),
        &b,
        &certificate(&pki.b),
    )
    .unwrap_err();
    assert!(matches!(err, SecurityError::Signature(_)), "{err}");
}

#[test]
fn pipeline_from_us_opened_by_bouncy_castle_and_openssl() {
    let Some(bc) = bouncy_castle() else { return };
    let pki = Pki::new();
    let ossl = openssl_cms(&pki);
    let (a, b_cert) = (identity(&pki.a), certificate(&pki.b));
    let data = edi_like(300_000);
    for suite in Suite::all() {
        let what = format!("suite {:02}", suite.code.value());
        let mut ours = Vec::new();
        let protected =
            pipeline::protect(&data[..], &mut ours, all_services(suite.code), &a, &b_cert)
                .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(protected.transmitted_octets, ours.len() as u64);
        assert!(bc.unprotect(&pki, &ours, &pki.b, &pki.a) == data, "{what}");
    }

    // Each service alone, and signed + encrypted (which openssl can open too: no zlib).
    let suite = CipherSuite::AES256_RSA_SHA512;
    let only = |signed, compressed, encrypted| {
        let mut out = Vec::new();
        let services = FileServices {
            signed,
            compressed,
            encrypted,
            cipher_suite: suite,
            signed_receipt: false,
        };
        pipeline::protect(&data[..], &mut out, services, &a, &b_cert).unwrap();
        out
    };
    assert!(bc.verify(&pki, &only(true, false, false), &pki.a) == data);
    assert!(ossl.verify(&only(true, false, false), &pki.a) == data);
    assert!(bc.decompress(&pki, &only(false, true, false)) == data);
    assert!(bc.decrypt(&pki, &only(false, false, true), &pki.b) == data);
    assert!(ossl.decrypt(&only(false, false, true), &pki.b) == data);
    let signed_encrypted = only(true, false, true);
    let inner = ossl.decrypt(&signed_encrypted, &pki.b);
    assert!(ossl.verify(&inner, &pki.a) == data);
    assert!(bc.verify(&pki, &bc.decrypt(&pki, &signed_encrypted, &pki.b), &pki.a) == data);
}
