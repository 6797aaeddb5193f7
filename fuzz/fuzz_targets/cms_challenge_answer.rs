//! The AURP answer to arbitrary AUCHCHAL octets (RFC 5024 §4.2.3): never a panic, always 20
//! octets, and never the answer to a real challenge unless the input is that challenge.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oftp2_codec::fields::CipherSuite;
use oftp2_session::security::challenge::{answer, verify, Challenge};

#[path = "../fixtures/cms/identity.rs"]
mod fixture;

fuzz_target!(|auchchal: &[u8]| {
    let own = fixture::identity();
    let certificate = &own.certificate;
    let response = answer(own, auchchal);
    assert_eq!(response.len(), 20);
    // A fresh challenge's expected answer is not what arbitrary octets decrypt to.
    let (genuine, expected) =
        Challenge::new(certificate, CipherSuite::AES256_RSA_SHA256).expect("a challenge");
    if auchchal != genuine.as_slice() {
        assert!(!verify(&expected, &response), "answered a challenge it was not given");
    }
});
