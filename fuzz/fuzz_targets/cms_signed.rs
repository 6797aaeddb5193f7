//! CMS SignedData reading (RFC 5652 §5) over arbitrary input, in memory and streamed in
//! pieces of any size: never a panic, never more content than input, and both ways reach
//! the same verdict (the same content, digest and signing time when the fixture partner's
//! signature verifies; an error otherwise).
#![no_main]

use std::io::Read;

use libfuzzer_sys::fuzz_target;
use oftp2_session::security::identity::Certificate;
use oftp2_session::security::signed::{self, SignedReader};

/// A self-signed RSA 2048 test certificate (fixtures/cms, made with `openssl req -x509`).
const PARTNER_CERT: &[u8] = include_bytes!("../fixtures/cms/cert.der");

fuzz_target!(|input: (u16, &[u8])| {
    let (chunk, octets) = input;
    let partner = Certificate::from_der(PARTNER_CERT).expect("the fixture certificate parses");
    let in_memory = signed::verify(octets, &partner);

    let streamed = SignedReader::new(octets).and_then(|mut reader| {
        let mut buf = vec![0u8; usize::from(chunk % 4096) + 1];
        let mut content = Vec::new();
        loop {
            let n = reader.read(&mut buf)?;
            if n == 0 {
                break;
            }
            content.extend_from_slice(&buf[..n]);
            assert!(content.len() <= octets.len(), "more content than input");
        }
        Ok((content, reader.finish(&partner)?))
    });

    match (in_memory, streamed) {
        (Ok((a, va)), Ok((b, vb))) => {
            assert_eq!(a, b);
            assert_eq!(va.digest_algorithm, vb.digest_algorithm);
            assert_eq!(va.signing_time, vb.signing_time);
            assert_eq!(va.content_octets, a.len() as u64);
        }
        (Err(_), Err(_)) => {}
        (a, b) => {
            panic!("in memory {:?}, streamed {:?}", a.map(|r| r.0.len()), b.map(|r| r.0.len()))
        }
    }
});
