//! RSA PKCS#1 v1.5 signatures (RSASSA-PKCS1-v1_5, RFC 8017 §8.2) with the hashing
//! algorithm of the cipher suite (§10.2): SHA-1 for suites 01/02, SHA-256 for 03/04,
//! SHA-512 for 05/06. No PSS: RFC 5024 and Odette OP09 only know PKCS#1 v1.5.
//!
//! Signing takes our PKCS#8 private key ([`PrivateKey`]); aws-lc-rs signs SHA-256 and
//! SHA-512. aws-lc-rs will not sign with SHA-1, so SHA-1 signatures are made with the `rsa`
//! crate, over a DigestInfo built here from an aws-lc-rs SHA-1 digest; its key is built from
//! the components of the PKCS#8 / PKCS#1 DER read with `der`. Verifying takes the partner's
//! [`Certificate`] and is done by aws-lc-rs for all three hashes.

use aws_lc_rs::signature as aws;
use der::asn1::{AnyRef, UintRef};
use der::{Decode, Reader, SliceReader};

use super::digest::digest;
use super::identity::{Certificate, PrivateKey};
use super::suite::{DigestAlgorithm, RSA_ENCRYPTION};
use super::SecurityError;

/// The DER of DigestInfo { AlgorithmIdentifier { id-sha1, NULL }, OCTET STRING (20) } up to
/// the digest itself (RFC 8017 §9.2, note 1).
const SHA1_DIGEST_INFO_PREFIX: [u8; 15] =
    [0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14];

/// Signs `message` with `key`: hashes it with `algorithm` and returns the RSASSA-PKCS1-v1_5
/// signature (as long as the key's modulus).
pub fn sign(
    key: &PrivateKey,
    algorithm: DigestAlgorithm,
    message: &[u8],
) -> Result<Vec<u8>, SecurityError> {
    match algorithm {
        DigestAlgorithm::Sha256 => sign_aws(key, &aws::RSA_PKCS1_SHA256, message),
        DigestAlgorithm::Sha512 => sign_aws(key, &aws::RSA_PKCS1_SHA512, message),
        DigestAlgorithm::Sha1 => sign_sha1(key, message),
    }
}

fn sign_aws(
    key: &PrivateKey,
    encoding: &'static dyn aws::RsaEncoding,
    message: &[u8],
) -> Result<Vec<u8>, SecurityError> {
    let pair = aws::RsaKeyPair::from_pkcs8(key.pkcs8_der())
        .map_err(|e| SecurityError::Key(format!("not a usable RSA PKCS#8 key: {e}")))?;
    let mut signature = vec![0; pair.public_modulus_len()];
    pair.sign(encoding, &aws_lc_rs::rand::SystemRandom::new(), message, &mut signature)
        .map_err(|_| SecurityError::Crypto("RSA PKCS#1 v1.5 signing"))?;
    Ok(signature)
}

fn sign_sha1(key: &PrivateKey, message: &[u8]) -> Result<Vec<u8>, SecurityError> {
    let rsa_key = legacy_key(key.pkcs8_der())?;
    let mut digest_info = SHA1_DIGEST_INFO_PREFIX.to_vec();
    digest_info.extend_from_slice(&digest(DigestAlgorithm::Sha1, message));
    rsa_key
        .sign_with_rng(&mut AwsRng, rsa::Pkcs1v15Sign::new_unprefixed(), &digest_info)
        .map_err(|_| SecurityError::Crypto("RSA PKCS#1 v1.5 signing with SHA-1"))
}

/// Verifies that `signature` is `certificate`'s RSASSA-PKCS1-v1_5 signature of `message`
/// hashed with `algorithm`.
pub fn verify(
    certificate: &Certificate,
    algorithm: DigestAlgorithm,
    message: &[u8],
    signature: &[u8],
) -> Result<(), SecurityError> {
    public_key(certificate, algorithm)?
        .verify(message, signature)
        .map_err(|_| not_verified(certificate, algorithm))
}

/// Verifies that `signature` is `certificate`'s RSASSA-PKCS1-v1_5 signature over a message
/// whose digest is `digest` (a SignerInfo without signed attributes, RFC 5652 §5.4).
pub(crate) fn verify_digest(
    certificate: &Certificate,
    algorithm: DigestAlgorithm,
    digest: &aws_lc_rs::digest::Digest,
    signature: &[u8],
) -> Result<(), SecurityError> {
    public_key(certificate, algorithm)?
        .verify_digest(digest, signature)
        .map_err(|_| not_verified(certificate, algorithm))
}

fn public_key(
    certificate: &Certificate,
    algorithm: DigestAlgorithm,
) -> Result<aws::UnparsedPublicKey<&[u8]>, SecurityError> {
    let spki = &certificate.x509().tbs_certificate.subject_public_key_info;
    if spki.algorithm.oid != RSA_ENCRYPTION {
        return Err(SecurityError::Certificate {
            subject: certificate.subject(),
            problem: format!("public key algorithm {} is not rsaEncryption", spki.algorithm.oid),
        });
    }
    let parameters: &'static aws::RsaParameters = match algorithm {
        DigestAlgorithm::Sha1 => &aws::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY,
        DigestAlgorithm::Sha256 => &aws::RSA_PKCS1_2048_8192_SHA256,
        DigestAlgorithm::Sha512 => &aws::RSA_PKCS1_2048_8192_SHA512,
    };
    Ok(aws::UnparsedPublicKey::new(parameters, certificate.public_key_octets()))
}

fn not_verified(certificate: &Certificate, algorithm: DigestAlgorithm) -> SecurityError {
    SecurityError::Signature(format!(
        "the RSA PKCS#1 v1.5 signature with {algorithm:?} does not verify with the public key \
         of {}",
        certificate.subject()
    ))
}

/// The RSAPrivateKey (RFC 8017 appendix A.1.2) inside a PKCS#8 PrivateKeyInfo (RFC 5208),
/// or given directly, as an `rsa` crate key.
fn legacy_key(der: &[u8]) -> Result<rsa::PrivateKey, SecurityError> {
    let malformed = |structure: &'static str| {
        move |e: der::Error| SecurityError::Malformed {
            structure,
            offset: e.position().map(|p| u64::from(u32::from(p))).unwrap_or(0),
            what: e.to_string(),
        }
    };
    let rsa_private_key = match super::identity::pkcs1_of_pkcs8(der) {
        Ok(inner) => inner,
        // Not PKCS#8: perhaps a bare PKCS#1 RSAPrivateKey.
        Err(_) => der,
    };
    let mut reader = SliceReader::new(rsa_private_key).map_err(malformed("RSAPrivateKey"))?;
    let components = reader
        .sequence(|r| {
            let version = u8::decode(r)?;
            if version != 0 {
                return Err(der::Tag::Integer.value_error());
            }
            let mut next = || UintRef::decode(r).map(|u| u.as_bytes().to_vec());
            let (n, e, d, p, q) = (next()?, next()?, next()?, next()?, next()?);
            // exponent1, exponent2, coefficient: recomputed by the `rsa` crate.
            while !r.is_finished() {
                AnyRef::decode(r)?;
            }
            Ok([n, e, d, p, q].map(zeroize::Zeroizing::new))
        })
        .map_err(malformed("RSAPrivateKey"))?;
    let [n, e, d, p, q] = components;
    let bits =
        u32::try_from(n.len() * 8).map_err(|_| SecurityError::Key("modulus too large".into()))?;
    let e_bits =
        u32::try_from(e.len() * 8).map_err(|_| SecurityError::Key("exponent too large".into()))?;
    let uint = |bytes: &[u8], bits: u32| {
        rsa::BoxedUint::from_be_slice(bytes, bits).map_err(|_| {
            SecurityError::Key("RSAPrivateKey component wider than the modulus".into())
        })
    };
    rsa::PrivateKey::from_components(
        uint(&n, bits)?,
        uint(&e, e_bits)?,
        uint(&d, bits)?,
        vec![uint(&p, bits)?, uint(&q, bits)?],
    )
    .map_err(|e| SecurityError::Key(format!("inconsistent RSA private key: {e}")))
}

/// aws-lc-rs randomness for the `rsa` crate's blinding.
struct AwsRng;

/// aws-lc-rs could not produce random octets.
#[derive(Debug)]
struct RandomnessFailed;

impl std::fmt::Display for RandomnessFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the system random generator failed")
    }
}

impl std::error::Error for RandomnessFailed {}

impl rsa::rand_core::TryRng for AwsRng {
    type Error = RandomnessFailed;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        let mut octets = [0; 4];
        self.try_fill_bytes(&mut octets)?;
        Ok(u32::from_le_bytes(octets))
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut octets = [0; 8];
        self.try_fill_bytes(&mut octets)?;
        Ok(u64::from_le_bytes(octets))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        aws_lc_rs::rand::fill(dst).map_err(|_| RandomnessFailed)
    }
}

impl rsa::rand_core::TryCryptoRng for AwsRng {}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    fn identity() -> (PrivateKey, Certificate) {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
        let cert = rcgen::CertificateParams::new(vec!["signer.test".into()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        (
            PrivateKey::from_pkcs8_der(&key.serialize_der()).unwrap(),
            Certificate::from_der(cert.der()).unwrap(),
        )
    }

    #[test]
    fn every_hash_signs_and_verifies_and_rejects_tampering() {
        let (key, cert) = identity();
        assert!(key.matches(&cert));
        for algorithm in [DigestAlgorithm::Sha1, DigestAlgorithm::Sha256, DigestAlgorithm::Sha512] {
            let signature = sign(&key, algorithm, b"EERP content").unwrap();
            verify(&cert, algorithm, b"EERP content", &signature).unwrap();
            let err = verify(&cert, algorithm, b"EERP contenT", &signature).unwrap_err();
            assert!(matches!(err, SecurityError::Signature(_)), "{err}");
            let other = if algorithm == DigestAlgorithm::Sha1 {
                DigestAlgorithm::Sha256
            } else {
                DigestAlgorithm::Sha1
            };
            assert!(verify(&cert, other, b"EERP content", &signature).is_err());
        }
    }

    #[test]
    fn sha1_signature_matches_aws_lc_verification_of_a_known_key() {
        // The SHA-1 path goes through the `rsa` crate; PKCS#1 v1.5 is deterministic, so the
        // same key and message must give the same signature twice.
        let (key, cert) = identity();
        let a = sign(&key, DigestAlgorithm::Sha1, b"x").unwrap();
        let b = sign(&key, DigestAlgorithm::Sha1, b"x").unwrap();
        assert_eq!(a, b);
        verify(&cert, DigestAlgorithm::Sha1, b"x", &a).unwrap();
    }

    #[test]
    fn garbage_keys_are_errors() {
        // The modulus of a well-formed PKCS#8 key altered: the key is inconsistent.
        let (key, _) = identity();
        let mut der = key.pkcs8_der().to_vec();
        der[60] ^= 0x55;
        if let Ok(key) = PrivateKey::from_pkcs8_der(&der) {
            for algorithm in
                [DigestAlgorithm::Sha1, DigestAlgorithm::Sha256, DigestAlgorithm::Sha512]
            {
                assert!(sign(&key, algorithm, b"m").is_err(), "{algorithm:?}");
            }
        }
        assert!(legacy_key(b"").is_err());
        assert!(legacy_key(b"\x30\x03\x02\x01\x00").is_err());
    }
}
