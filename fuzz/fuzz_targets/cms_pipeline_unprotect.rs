//! The §6.1 pipeline's unwrapping (EnvelopedData → CompressedData → SignedData, as the
//! SFID declares) over arbitrary input, with the fixture identity as recipient and as the
//! expected signer: never a panic; when it passes, a file declared signed carries the
//! verified signature, the counts are right, and the hash is of the whole input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oftp2_codec::fields::CipherSuite;
use oftp2_session::security::digest::digest;
use oftp2_session::security::pipeline::{unprotect, FileServices};
use oftp2_session::security::suite::Suite;

#[path = "../fixtures/cms/identity.rs"]
mod fixture;
use fixture::identity;

fuzz_target!(|input: (u8, &[u8])| {
    let (services, octets) = input;
    let declared = FileServices {
        signed: services & 1 != 0,
        compressed: services & 2 != 0,
        encrypted: services & 4 != 0,
        cipher_suite: CipherSuite::new((services >> 3) % 8).expect("0..=7 is a suite code"),
        signed_receipt: false,
    };
    let own = identity();
    let mut output = Vec::new();
    let result = unprotect(octets, &mut output, declared, own, &own.certificate);
    if let Ok(unprotected) = &result {
        assert_eq!(unprotected.signature.is_some(), declared.signed);
        assert_eq!(unprotected.transmitted_octets, octets.len() as u64);
        assert_eq!(unprotected.original_octets, output.len() as u64);
        if let Ok(suite) = Suite::from_code(declared.cipher_suite) {
            assert_eq!(unprotected.transmitted_hash, digest(suite.digest, octets));
        }
    }
});
