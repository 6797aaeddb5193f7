//! CMS interop (RFC 5024 §6, RFC 5652, RFC 3274) with Bouncy Castle (Debian's
//! libbcprov-java/libbcpkix-java, through tests/interop/BcCms.java) and the `openssl cms`
//! command line: CompressedData with Bouncy Castle only (Debian's OpenSSL has no zlib),
//! SignedData and EnvelopedData with both.
//!
//! The harness checks itself first (openssl and Bouncy Castle against each other), so a
//! failure of our side is never a failure of the harness.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod interop_support;

use interop_support::{bouncy_castle, edi_like, openssl_cms, Pki};

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
