//! CMS EnvelopedData: round trips for every cipher suite, DER and BER, interop with the
//! `openssl cms` command line both ways, and hostile inputs.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod cms_support;
mod interop_support;

use std::io::{Read, Write};
use std::path::Path;

use cms_support::{edi_text, party, Party};
use oftp2_codec::fields::CipherSuite;
use oftp2_session::security::enveloped::{envelop, open, EnvelopedReader, EnvelopedWriter};
use oftp2_session::security::suite::{ContentEncryption, Suite, ID_CT_COMPRESSED_DATA, ID_DATA};
use oftp2_session::security::SecurityError;

fn stream_envelop(
    party: &Party,
    suite: CipherSuite,
    data: &[u8],
    piece: usize,
    wrapped: bool,
) -> Vec<u8> {
    let mut w =
        EnvelopedWriter::with_wrapping(Vec::new(), &party.certificate, suite, ID_DATA, wrapped)
            .unwrap();
    for p in data.chunks(piece.max(1)) {
        w.write_all(p).unwrap();
    }
    w.finish().unwrap()
}

fn stream_open(party: &Party, input: &[u8], piece: usize) -> Result<Vec<u8>, SecurityError> {
    let mut r = EnvelopedReader::new(input, &party.identity)?;
    let mut out = Vec::new();
    let mut buf = vec![0u8; piece];
    loop {
        let n = r.read(&mut buf)?;
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    r.finish()?;
    Ok(out)
}

#[test]
fn round_trips_every_suite_der_and_ber() {
    let dir = tempfile::tempdir().unwrap();
    let alice = party(dir.path(), "alice", 1);
    let data = edi_text(100_003);
    for suite in Suite::all() {
        for len in [0, 1, 15, 16, 17, data.len()] {
            let content = &data[..len];
            // Streaming BER, with and without ContentInfo.
            for wrapped in [true, false] {
                let ber = stream_envelop(&alice, suite.code, content, 4099, wrapped);
                assert_eq!(ber[1], 0x80, "indefinite length");
                assert_eq!(stream_open(&alice, &ber, 777).unwrap(), content, "{suite:?} {len}");
            }
            // DER in memory.
            let der =
                envelop(content, &alice.certificate, suite.code, ID_CT_COMPRESSED_DATA).unwrap();
            let (ty, plain) = open(&der, &alice.identity).unwrap();
            assert_eq!(ty, ID_CT_COMPRESSED_DATA);
            assert_eq!(plain, content);
            let r = EnvelopedReader::new(der.as_slice(), &alice.identity).unwrap();
            assert_eq!(r.content_encryption(), suite.content_encryption);
        }
    }
}

#[test]
fn unknown_suites_are_unsupported() {
    let dir = tempfile::tempdir().unwrap();
    let alice = party(dir.path(), "alice", 1);
    for code in [0, 7] {
        let err = envelop(b"x", &alice.certificate, CipherSuite::new(code).unwrap(), ID_DATA)
            .unwrap_err();
        assert!(matches!(err, SecurityError::Unsupported { .. }), "{err:?}");
    }
}

/// `openssl <args>`: its stdout; panics when it fails.
fn openssl(args: &[&str]) -> Vec<u8> {
    interop_support::openssl(Path::new("."), args)
}

/// `openssl cms -decrypt` of the DER/BER file `file` with `recipient`'s key: the content.
fn openssl_decrypt(file: &Path, recipient: &Party) -> Vec<u8> {
    let (cert, key) = (path(&recipient.cert_pem), path(&recipient.key_pem));
    openssl(&[
        "cms",
        "-decrypt",
        "-binary",
        "-inform",
        "DER",
        "-in",
        path(file),
        "-recip",
        cert,
        "-inkey",
        key,
    ])
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn openssl_decrypts_ours() {
    let dir = tempfile::tempdir().unwrap();
    let alice = party(dir.path(), "alice", 7);
    let data = edi_text(50_000);
    for suite in [CipherSuite::TDES_RSA_SHA1, CipherSuite::AES256_RSA_SHA256] {
        for streamed in [true, false] {
            let msg = if streamed {
                stream_envelop(&alice, suite, &data, 1000, true)
            } else {
                envelop(&data, &alice.certificate, suite, ID_DATA).unwrap()
            };
            let env = dir.path().join("env.der");
            std::fs::write(&env, &msg).unwrap();
            assert_eq!(openssl_decrypt(&env, &alice), data, "{suite:?} streamed={streamed}");
            // openssl reads the structure as we meant it.
            let printed = String::from_utf8(openssl(&[
                "cms",
                "-cmsout",
                "-print",
                "-inform",
                "DER",
                "-in",
                path(&env),
            ]))
            .unwrap();
            let cipher =
                if suite == CipherSuite::TDES_RSA_SHA1 { "des-ede3-cbc" } else { "aes-256-cbc" };
            assert!(printed.contains(cipher), "{printed}");
            assert!(printed.contains("rsaEncryption"), "{printed}");
            assert!(printed.contains("CN=alice"), "{printed}");
        }
    }
}

#[test]
fn we_open_openssl_der_and_stream() {
    let dir = tempfile::tempdir().unwrap();
    let alice = party(dir.path(), "alice", 3);
    let bob = party(dir.path(), "bob", 4);
    let data = edi_text(70_001);
    let plain = dir.path().join("plain");
    std::fs::write(&plain, &data).unwrap();
    for (flag, alg) in
        [("-aes256", ContentEncryption::Aes256Cbc), ("-des3", ContentEncryption::TripleDesEdeCbc)]
    {
        for stream in [false, true] {
            for keyid in [false, true] {
                let env = dir.path().join("env.der");
                let mut args = vec!["cms", "-encrypt", "-binary", "-outform", "DER", flag];
                if stream {
                    args.push("-stream");
                }
                if keyid {
                    args.push("-keyid");
                }
                args.extend(["-in", path(&plain), "-out", path(&env)]);
                // Two recipients: we must find ours.
                args.extend([path(&bob.cert_pem), path(&alice.cert_pem)]);
                openssl(&args);
                let msg = std::fs::read(&env).unwrap();
                assert_eq!(msg[1] == 0x80, stream, "BER indefinite exactly when -stream");
                let r = EnvelopedReader::new(msg.as_slice(), &alice.identity).unwrap();
                assert_eq!(r.content_encryption(), alg);
                assert_eq!(r.content_type(), &ID_DATA);
                assert_eq!(
                    stream_open(&alice, &msg, 5000).unwrap(),
                    data,
                    "{flag} {stream} {keyid}"
                );
                assert_eq!(open(&msg, &bob.identity).unwrap().1, data);
            }
        }
    }
}

#[test]
fn not_for_us_tampered_truncated_and_garbage() {
    let dir = tempfile::tempdir().unwrap();
    let alice = party(dir.path(), "alice", 5);
    let eve = party(dir.path(), "eve", 6);
    // 64 octets: whole blocks for both ciphers, so the padding block is all 0x10 / 0x08.
    let data = [0x41u8; 64];
    for suite in [CipherSuite::TDES_RSA_SHA512, CipherSuite::AES256_RSA_SHA512] {
        let block = Suite::from_code(suite).unwrap().content_encryption.iv_len();
        let der = envelop(&data, &alice.certificate, suite, ID_DATA).unwrap();
        // Not addressed to eve.
        assert!(matches!(open(&der, &eve.identity), Err(SecurityError::Decryption)));
        // Flipping the last octet of the next-to-last ciphertext block makes the padding
        // octet 0x11 (or 0x09): invalid.
        let mut tampered = der.clone();
        let at = tampered.len() - block - 1;
        tampered[at] ^= 0x01;
        assert!(matches!(open(&tampered, &alice.identity), Err(SecurityError::Decryption)));
        // The wrong length of ciphertext.
        let mut short = der.clone();
        short.pop();
        assert!(open(&short, &alice.identity).is_err());
        // Every truncation is an error.
        for len in 0..der.len() {
            assert!(open(&der[..len], &alice.identity).is_err(), "prefix of {len}");
        }
        let ber = stream_envelop(&alice, suite, &data, 7, true);
        for len in 0..ber.len() {
            assert!(stream_open(&alice, &ber[..len], 3).is_err(), "BER prefix of {len}");
        }
        // Trailing data.
        let mut trailing = der.clone();
        trailing.extend_from_slice(&[0x05, 0x00]);
        match open(&trailing, &alice.identity) {
            Err(SecurityError::Malformed { offset, .. }) => assert_eq!(offset, der.len() as u64),
            other => panic!("{other:?}"),
        }
        // Every single-octet change of the header is an error or (in the ciphertext) at
        // worst different plaintext; never a panic.
        for i in 0..der.len() {
            let mut m = der.clone();
            m[i] ^= 0x80;
            let _ = open(&m, &alice.identity);
        }
    }
    // Garbage.
    let mut seed = 0x1234_5678_u32;
    for len in [0usize, 1, 2, 10, 100, 1000] {
        let junk: Vec<u8> = (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                seed as u8
            })
            .collect();
        assert!(open(&junk, &alice.identity).is_err());
    }
    // Another content type in the ContentInfo.
    let signed_ci =
        [0x30, 0x0D, 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x02, 0xA0, 0x00];
    assert!(matches!(
        open(&signed_ci, &alice.identity),
        Err(SecurityError::Malformed { offset: 2, .. })
    ));
}

/// Re-encodes a DER EnvelopedData with its encryptedContent as a constructed,
/// definite-length [0] of nested OCTET STRING chunks (BER that neither we nor OpenSSL write).
fn with_nested_definite_chunks(der: &[u8]) -> Vec<u8> {
    use oftp2_session::security::asn1::{encode_tlv, Reader, Tag};
    let mut r = Reader::new(der, "test");
    let ci = r.expect(Tag::SEQUENCE).unwrap();
    r.enter(&ci).unwrap();
    let ci_oid = r.read_element(100).unwrap();
    let explicit = r.expect(Tag::context(0, true)).unwrap();
    r.enter(&explicit).unwrap();
    let ed = r.expect(Tag::SEQUENCE).unwrap();
    r.enter(&ed).unwrap();
    let version = r.read_element(10).unwrap();
    let ris = r.read_element(10_000).unwrap();
    let eci = r.expect(Tag::SEQUENCE).unwrap();
    r.enter(&eci).unwrap();
    let ty = r.read_element(100).unwrap();
    let alg = r.read_element(100).unwrap();
    let h = r.read_header().unwrap();
    let mut content = Vec::new();
    r.into_octet_string(&h).unwrap().read_to_end(&mut content).unwrap();
    let (a, rest) = content.split_at(5);
    let (b, c) = rest.split_at(rest.len() / 2);
    let inner = encode_tlv(
        Tag::OCTET_STRING.constructed(),
        &[encode_tlv(Tag::OCTET_STRING, b), encode_tlv(Tag::OCTET_STRING, &[])].concat(),
    );
    let chunks =
        [encode_tlv(Tag::OCTET_STRING, a), inner, encode_tlv(Tag::OCTET_STRING, c)].concat();
    let eci =
        encode_tlv(Tag::SEQUENCE, &[ty, alg, encode_tlv(Tag::context(0, true), &chunks)].concat());
    let ed = encode_tlv(Tag::SEQUENCE, &[version, ris, eci].concat());
    encode_tlv(Tag::SEQUENCE, &[ci_oid, encode_tlv(Tag::context(0, true), &ed)].concat())
}

#[test]
fn opens_definite_length_constructed_encrypted_content() {
    let dir = tempfile::tempdir().unwrap();
    let alice = party(dir.path(), "alice", 8);
    let data = edi_text(3000);
    for suite in [CipherSuite::TDES_RSA_SHA256, CipherSuite::AES256_RSA_SHA1] {
        let der = envelop(&data, &alice.certificate, suite, ID_DATA).unwrap();
        let ber = with_nested_definite_chunks(&der);
        assert_ne!(ber, der);
        assert_eq!(open(&ber, &alice.identity).unwrap().1, data);
        assert_eq!(stream_open(&alice, &ber, 100).unwrap(), data);
        // OpenSSL reads it too: the vector is valid BER.
        let file = dir.path().join("nested.ber");
        std::fs::write(&file, &ber).unwrap();
        assert_eq!(openssl_decrypt(&file, &alice), data);
    }
}
