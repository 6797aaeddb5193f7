//! CMS CompressedData (RFC 3274): streaming round trips, hand-made DER and BER vectors
//! (definite and indefinite lengths, primitive and nested constructed eContent), corrupt,
//! truncated and oversized inputs, and `openssl cms -uncompress` where OpenSSL has zlib.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod cms_support;
mod interop_support;

use std::io::{Read, Write};
use std::process::Command;

use cms_support::edi_text;
use oftp2_session::security::compressed::{
    compress, decompress, CompressedReader, CompressedWriter,
};
use oftp2_session::security::suite::{ID_DATA, ID_SIGNED_DATA};
use oftp2_session::security::SecurityError;

const LIMIT: u64 = 1 << 30;

/// DER TLV with a definite length.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else if n < 0x100 {
        out.extend_from_slice(&[0x81, n as u8]);
    } else if n < 0x10000 {
        out.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]);
    } else {
        out.extend_from_slice(&[0x83, (n >> 16) as u8, (n >> 8) as u8, n as u8]);
    }
    out.extend_from_slice(content);
    out
}

/// BER TLV with an indefinite length.
fn indef(tag: u8, parts: &[Vec<u8>]) -> Vec<u8> {
    let mut out = vec![tag, 0x80];
    for p in parts {
        out.extend_from_slice(p);
    }
    out.extend_from_slice(&[0, 0]);
    out
}

const OID_COMPRESSED: [u8; 11] =
    [0x06, 0x09 + 2, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x09, 0x10];

fn oid_compressed_data() -> Vec<u8> {
    // 1.2.840.113549.1.9.16.1.9
    let mut v = OID_COMPRESSED.to_vec();
    v.extend_from_slice(&[0x01, 0x09]);
    v
}

fn zlib_alg(with_null: bool) -> Vec<u8> {
    // SEQUENCE { 1.2.840.113549.1.9.16.3.8 [NULL] }
    let mut oid = OID_COMPRESSED.to_vec();
    oid.extend_from_slice(&[0x03, 0x08]);
    if with_null {
        oid.extend_from_slice(&[0x05, 0x00]);
    }
    tlv(0x30, &oid)
}

fn id_data() -> Vec<u8> {
    tlv(0x06, &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x01])
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// A DER ContentInfo { id-ct-compressedData, [0] CompressedData } with `econtent` as the
/// [0] EXPLICIT eContent's OCTET STRING element.
fn der_compressed(econtent: Vec<u8>, with_null: bool) -> Vec<u8> {
    let mut eci = id_data();
    eci.extend_from_slice(&tlv(0xA0, &econtent));
    let mut cd = tlv(0x02, &[0]);
    cd.extend_from_slice(&zlib_alg(with_null));
    cd.extend_from_slice(&tlv(0x30, &eci));
    let mut ci = oid_compressed_data();
    ci.extend_from_slice(&tlv(0xA0, &tlv(0x30, &cd)));
    tlv(0x30, &ci)
}

fn round_trip(input: &[u8]) -> Result<Vec<u8>, SecurityError> {
    decompress(input, LIMIT).map(|(ty, content)| {
        assert_eq!(ty, ID_DATA);
        content
    })
}

#[test]
fn round_trips() {
    let text = edi_text(300_007);
    for len in [0, 1, 1000, text.len()] {
        for wrapped in [true, false] {
            let mut w = CompressedWriter::with_options(
                Vec::new(),
                ID_SIGNED_DATA,
                flate2::Compression::fast(),
                wrapped,
            )
            .unwrap();
            for piece in text[..len].chunks(3001) {
                w.write_all(piece).unwrap();
            }
            let ber = w.finish().unwrap();
            assert_eq!(&ber[..2], [0x30, 0x80]);
            if len == text.len() {
                assert!(ber.len() < len / 2, "EDI text compresses: {} of {len}", ber.len());
            }
            let mut r = CompressedReader::new(ber.as_slice()).unwrap();
            assert_eq!(r.content_type(), &ID_SIGNED_DATA);
            let mut out = Vec::new();
            let mut buf = [0u8; 999];
            loop {
                let n = r.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                out.extend_from_slice(&buf[..n]);
            }
            r.finish().unwrap();
            assert_eq!(out, &text[..len]);
        }
    }
    let ber = compress(b"hello", ID_DATA).unwrap();
    assert_eq!(round_trip(&ber).unwrap(), b"hello");
}

#[test]
fn hand_made_der_and_ber_vectors() {
    let data = edi_text(5000);
    let z = zlib(&data);
    // DER, primitive eContent; with and without NULL parameters.
    for with_null in [false, true] {
        let der = der_compressed(tlv(0x04, &z), with_null);
        assert_eq!(round_trip(&der).unwrap(), data);
    }
    // Constructed definite-length eContent with nested chunks, one empty.
    let (a, rest) = z.split_at(100);
    let (b, c) = rest.split_at(7);
    let nested = tlv(0x24, &[tlv(0x04, b), tlv(0x04, &[])].concat());
    let chunks = tlv(0x24, &[tlv(0x04, a), nested, tlv(0x04, c)].concat());
    assert_eq!(round_trip(&der_compressed(chunks, false)).unwrap(), data);
    // Everything indefinite, as Bouncy Castle's stream generator writes it.
    let ber = indef(
        0x30,
        &[
            oid_compressed_data(),
            indef(
                0xA0,
                &[indef(
                    0x30,
                    &[
                        tlv(0x02, &[0]),
                        zlib_alg(false),
                        indef(
                            0x30,
                            &[
                                id_data(),
                                indef(0xA0, &[indef(0x24, &[tlv(0x04, a), tlv(0x04, rest)])]),
                            ],
                        ),
                    ],
                )],
            ),
        ],
    );
    assert_eq!(round_trip(&ber).unwrap(), data);
    // Bare CompressedData (no ContentInfo).
    let mut cd = tlv(0x02, &[0]);
    cd.extend_from_slice(&zlib_alg(false));
    cd.extend_from_slice(&tlv(0x30, &[id_data(), tlv(0xA0, &tlv(0x04, &z))].concat()));
    assert_eq!(round_trip(&tlv(0x30, &cd)).unwrap(), data);
}

fn expect_decompression(input: &[u8], what: &str) {
    match round_trip(input) {
        Err(SecurityError::Decompression(msg)) => assert!(msg.contains(what), "{msg}"),
        other => panic!("expected Decompression({what}), got {other:?}"),
    }
}

#[test]
fn corrupt_truncated_trailing_and_oversized() {
    let data = edi_text(20_000);
    let z = zlib(&data);
    // A flipped octet in the deflate data or the Adler-32.
    for at in [z.len() / 2, z.len() - 1] {
        let mut bad = z.clone();
        bad[at] ^= 0x10;
        let input = der_compressed(tlv(0x04, &bad), false);
        assert!(matches!(round_trip(&input), Err(SecurityError::Decompression(_))), "at {at}");
    }
    // The zlib stream cut short inside a well-formed structure.
    expect_decompression(&der_compressed(tlv(0x04, &z[..z.len() - 10]), false), "truncated");
    // Octets after the end of the zlib stream.
    let mut more = z.clone();
    more.extend_from_slice(b"junk");
    expect_decompression(&der_compressed(tlv(0x04, &more), false), "after the end");
    // Not zlib at all.
    expect_decompression(&der_compressed(tlv(0x04, b"plain text"), false), "corrupt");
    // The decompression-bomb guard.
    let bomb = zlib(&vec![0u8; 10_000_000]);
    assert!(bomb.len() < 20_000);
    let input = der_compressed(tlv(0x04, &bomb), false);
    match decompress(&input, 1_000_000) {
        Err(SecurityError::Decompression(msg)) => assert!(msg.contains("limit"), "{msg}"),
        other => panic!("{:?}", other.map(|(t, c)| (t, c.len()))),
    }
    assert_eq!(decompress(&input, 10_000_000).unwrap().1.len(), 10_000_000);
    // Every truncation of the structure is an error.
    let ber = compress(&data[..3000], ID_DATA).unwrap();
    for len in 0..ber.len() {
        assert!(round_trip(&ber[..len]).is_err(), "prefix of {len}");
    }
    // Data after the structure.
    let mut trailing = ber.clone();
    trailing.push(0);
    assert!(matches!(round_trip(&trailing), Err(SecurityError::Malformed { .. })));
    // Another compression algorithm (a made-up OID under the same arc).
    let mut other_alg = der_compressed(tlv(0x04, &z), false);
    let pos = other_alg.windows(2).position(|w| w == [0x03, 0x08]).unwrap();
    other_alg[pos + 1] = 0x09;
    assert!(matches!(round_trip(&other_alg), Err(SecurityError::Unsupported { .. })));
    // Single-octet changes anywhere never panic.
    for i in 0..ber.len() {
        let mut m = ber.clone();
        m[i] ^= 0xA5;
        let _ = decompress(&m, LIMIT);
    }
}

/// Runs `openssl <args>`: whether it succeeded, and its stderr.
fn try_run(args: &[&str]) -> (bool, String) {
    let out = interop_support::output(Command::new("openssl").args(args));
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn openssl_uncompresses_ours_when_it_has_zlib() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain");
    std::fs::write(&plain, b"probe").unwrap();
    let probe = dir.path().join("probe.der");
    let (ok, stderr) = try_run(&[
        "cms",
        "-compress",
        "-binary",
        "-outform",
        "DER",
        "-in",
        plain.to_str().unwrap(),
        "-out",
        probe.to_str().unwrap(),
    ]);
    if !ok {
        assert!(
            stderr.contains("unsupported compression algorithm"),
            "openssl cms -compress failed for another reason than zlib: {stderr}"
        );
        eprintln!("SKIPPED: this OpenSSL is built without zlib (openssl cms -compress: unsupported compression algorithm); CompressedData interop is tested against Bouncy Castle");
        return;
    }
    // OpenSSL's own CompressedData opens here.
    assert_eq!(round_trip(&std::fs::read(&probe).unwrap()).unwrap(), b"probe");
    let data = edi_text(100_000);
    let ours = dir.path().join("ours.ber");
    std::fs::write(&ours, compress(&data, ID_DATA).unwrap()).unwrap();
    let out = dir.path().join("out");
    let (ok, stderr) = try_run(&[
        "cms",
        "-uncompress",
        "-binary",
        "-inform",
        "DER",
        "-in",
        ours.to_str().unwrap(),
        "-out",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    assert_eq!(std::fs::read(&out).unwrap(), data);
}
