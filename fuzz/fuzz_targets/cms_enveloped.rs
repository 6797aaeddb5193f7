//! CMS EnvelopedData reading (RFC 5652 §6) and the AUCH answer over arbitrary input, with
//! the fixture identity as recipient: never a panic, never more plaintext than input, and
//! `challenge::answer` always gives 20 octets without an error.
#![no_main]

use std::io::Read;

use libfuzzer_sys::fuzz_target;
use oftp2_session::security::challenge;
use oftp2_session::security::enveloped::EnvelopedReader;

#[path = "../fixtures/cms/identity.rs"]
mod fixture;
use fixture::identity;

fuzz_target!(|input: (u16, &[u8])| {
    let (chunk, octets) = input;
    let own = identity();
    if let Ok(mut reader) = EnvelopedReader::new(octets, own) {
        let mut buf = vec![0u8; usize::from(chunk % 4096) + 1];
        let mut total = 0usize;
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            total += n;
            assert!(total <= octets.len(), "more plaintext than input");
        }
        let _ = reader.finish();
    }
    let _ = challenge::answer(own, octets);
});
