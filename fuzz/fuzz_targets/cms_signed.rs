//! CMS SignedData reading (RFC 5652 §5) over arbitrary input, streamed and in memory: never
//! a panic, and nothing verifies that the fixture partner did not sign (its key is not
//! used here, so any `Ok` would be a forgery).
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
    assert!(signed::verify(octets, &partner).is_err(), "verified without the partner's signature");

    if let Ok(mut reader) = SignedReader::new(octets) {
        let mut buf = vec![0u8; usize::from(chunk % 4096) + 1];
        let mut total = 0usize;
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            total += n;
            assert!(total <= octets.len(), "more content than input");
        }
        assert!(reader.finish(&partner).is_err());
    }
});
