//! Certificates, private keys and trust anchors: ours (to sign and to decrypt) and our
//! partners' (to encrypt to and to verify).

use der::{Decode, Encode};
use zeroize::Zeroizing;

use super::SecurityError;

/// An X.509 certificate (RFC 5280), kept both parsed and as the DER it came in.
#[derive(Clone)]
pub struct Certificate {
    der: Vec<u8>,
    parsed: x509_cert::Certificate,
}

impl Certificate {
    /// Reads a DER-encoded certificate.
    pub fn from_der(der: &[u8]) -> Result<Self, SecurityError> {
        let parsed =
            x509_cert::Certificate::from_der(der).map_err(|e| SecurityError::Malformed {
                structure: "Certificate",
                offset: e.position().map(|p| u64::from(u32::from(p))).unwrap_or(0),
                what: e.to_string(),
            })?;
        Ok(Self { der: der.to_vec(), parsed })
    }

    /// The DER encoding.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The parsed certificate.
    pub fn x509(&self) -> &x509_cert::Certificate {
        &self.parsed
    }

    /// The subject, as a readable distinguished name.
    pub fn subject(&self) -> String {
        self.parsed.tbs_certificate.subject.to_string()
    }

    /// The DER of the SubjectPublicKeyInfo.
    pub fn subject_public_key_info_der(&self) -> Result<Vec<u8>, SecurityError> {
        self.parsed.tbs_certificate.subject_public_key_info.to_der().map_err(|e| {
            SecurityError::Malformed {
                structure: "SubjectPublicKeyInfo",
                offset: 0,
                what: e.to_string(),
            }
        })
    }

    /// The subjectPublicKey BIT STRING's octets (for RSA: the PKCS#1 RSAPublicKey DER).
    pub fn public_key_octets(&self) -> &[u8] {
        self.parsed.tbs_certificate.subject_public_key_info.subject_public_key.raw_bytes()
    }
}

impl std::fmt::Debug for Certificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Certificate").field("subject", &self.subject()).finish_non_exhaustive()
    }
}

/// An RSA private key, held as PKCS#8 DER and wiped from memory when dropped.
#[derive(Clone)]
pub struct PrivateKey {
    pkcs8_der: Zeroizing<Vec<u8>>,
}

impl PrivateKey {
    /// Takes a PKCS#8 PrivateKeyInfo in DER.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, SecurityError> {
        Ok(Self { pkcs8_der: Zeroizing::new(der.to_vec()) })
    }

    /// The PKCS#8 PrivateKeyInfo DER.
    pub fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8_der
    }
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PrivateKey(..)")
    }
}

/// Our own identity: the certificate partners encrypt to and verify, and its private key.
#[derive(Clone, Debug)]
pub struct Identity {
    /// Our certificate.
    pub certificate: Certificate,
    /// Certificates of the chain above ours, issuer first (may be empty).
    pub chain: Vec<Certificate>,
    /// The private key of `certificate`.
    pub key: PrivateKey,
}
