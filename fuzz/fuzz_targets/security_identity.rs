//! Certificates and keys as a configuration hands them over (PEM, DER) from arbitrary
//! input: never a panic, and every certificate read back is one the input held. (PKCS#12
//! is left out: its key derivation runs as many iterations as the file asks, which a
//! fuzzer turns into timeouts; PKCS#12 files come from the local configuration only.)
#![no_main]

use libfuzzer_sys::fuzz_target;
use oftp2_session::security::identity::{Certificate, PrivateKey};

fuzz_target!(|input: &[u8]| {
    if let Ok(certificates) = Certificate::all_from_pem_or_der(input) {
        for certificate in certificates {
            // A certificate read again from its own DER is the same certificate.
            let again = Certificate::from_der(certificate.der()).expect("its own DER parses");
            assert_eq!(again, certificate);
            let _ = certificate.subject();
            let _ = certificate.rsa_modulus_bits();
            let _ = certificate.key_usage();
            let _ = certificate.subject_key_identifier();
        }
    }
    if let Ok(key) = PrivateKey::from_pem_or_der(input) {
        assert!(key.modulus_bits() > 0);
    }
});
