//! Certificates, private keys and trust anchors: ours (to sign and to decrypt) and our
//! partners' (to encrypt to and to verify).
//!
//! Read from PEM (`CERTIFICATE`, PKCS#8 `PRIVATE KEY`, PKCS#1 `RSA PRIVATE KEY`; bundles
//! with text around the blocks), DER, or PKCS#12 (modern PBES2/AES files and legacy
//! 3DES/RC2 ones, as Danish OCES3 issuers deliver them, via `p12-keystore`). Encrypted PEM
//! keys (`ENCRYPTED PRIVATE KEY`, `Proc-Type: 4,ENCRYPTED`) are refused with an error that
//! says so: use a PKCS#12 file for a key that must be stored encrypted.
//!
//! A node configuration names its files with [`IdentitySource`] and [`CertificateSource`];
//! [`TrustAnchors::validate`] checks a partner's certificate (validity period, key usage,
//! RSA key size, chain with signatures up to a trust anchor, or the certificate pinned
//! directly, as partners that exchange self-signed certificates bilaterally need).
//! [`Certificate::issuer_and_serial`] and [`Certificate::subject_key_identifier`] give the
//! CMS identifiers (`IssuerAndSerialNumber`, `SubjectKeyIdentifier`) of RFC 5652 §5.3 and
//! §6.2.1 that name a signer or a recipient.

mod pem;
mod rsa_key;
mod source;
mod validation;

use std::path::Path;

use der::{Decode, Encode};
use zeroize::Zeroizing;

use super::SecurityError;

pub(crate) use rsa_key::pkcs1_of_pkcs8;
pub use source::{CertificateSource, IdentitySource};
pub use validation::{KeyPurpose, TrustAnchors, ValidationPolicy};

/// An X.509 certificate (RFC 5280), kept both parsed and as the DER it came in.
#[derive(Clone)]
pub struct Certificate {
    der: Vec<u8>,
    parsed: x509_cert::Certificate,
}

impl PartialEq for Certificate {
    fn eq(&self, other: &Self) -> bool {
        self.der == other.der
    }
}

impl Eq for Certificate {}

impl Certificate {
    /// Reads a DER-encoded certificate.
    pub fn from_der(der: &[u8]) -> Result<Self, SecurityError> {
        if der.len() > pem::MAX_FILE_SIZE {
            return Err(SecurityError::TooLarge {
                structure: "Certificate",
                limit: pem::MAX_FILE_SIZE,
            });
        }
        let parsed =
            x509_cert::Certificate::from_der(der).map_err(|e| SecurityError::Malformed {
                structure: "Certificate",
                offset: e.position().map(|p| u64::from(u32::from(p))).unwrap_or(0),
                what: e.to_string(),
            })?;
        Ok(Self { der: der.to_vec(), parsed })
    }

    /// Reads the first `CERTIFICATE` block of PEM text (other blocks and text are
    /// ignored; see [`Certificate::all_from_pem`] for bundles).
    pub fn from_pem(pem: &[u8]) -> Result<Self, SecurityError> {
        Self::all_from_pem(pem)?.into_iter().next().ok_or_else(|| SecurityError::Malformed {
            structure: "Certificate",
            offset: 0,
            what: "no -----BEGIN CERTIFICATE----- block in the PEM text".into(),
        })
    }

    /// Reads every `CERTIFICATE` block of PEM text (a bundle), in order. Other blocks
    /// (keys, parameters) are skipped; an empty result is not an error.
    pub fn all_from_pem(pem: &[u8]) -> Result<Vec<Self>, SecurityError> {
        pem::blocks(pem, "Certificate")?
            .into_iter()
            .filter(|b| matches!(b.label.as_str(), "CERTIFICATE" | "X509 CERTIFICATE"))
            .map(|b| {
                Self::from_der(&b.der).map_err(|e| match e {
                    SecurityError::Malformed { structure, offset, what } => {
                        SecurityError::Malformed {
                            structure,
                            offset,
                            what: format!("in the PEM block at offset {}: {what}", b.offset),
                        }
                    }
                    other => other,
                })
            })
            .collect()
    }

    /// Reads a certificate in PEM (the first `CERTIFICATE` block) or DER, whichever the
    /// input is.
    pub fn from_pem_or_der(bytes: &[u8]) -> Result<Self, SecurityError> {
        if pem::is_pem(bytes) {
            Self::from_pem(bytes)
        } else {
            Self::from_der(bytes)
        }
    }

    /// Reads every certificate of PEM (a bundle) or DER (one certificate) input.
    pub fn all_from_pem_or_der(bytes: &[u8]) -> Result<Vec<Self>, SecurityError> {
        if pem::is_pem(bytes) {
            Self::all_from_pem(bytes)
        } else {
            Ok(vec![Self::from_der(bytes)?])
        }
    }

    /// Reads a certificate file in PEM or DER.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, SecurityError> {
        let path = path.as_ref();
        Self::from_pem_or_der(&read_file(path)?).map_err(|e| in_file(path, e))
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

    /// The issuer, as a readable distinguished name.
    pub fn issuer(&self) -> String {
        self.parsed.tbs_certificate.issuer.to_string()
    }

    /// The serial number's octets (big-endian two's complement, as encoded).
    pub fn serial_number(&self) -> &[u8] {
        self.parsed.tbs_certificate.serial_number.as_bytes()
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

    /// The CMS `IssuerAndSerialNumber` (RFC 5652 §10.2.4) naming this certificate, as a
    /// SignerIdentifier or a KeyTransRecipientInfo's `rid` carries it.
    pub fn issuer_and_serial(&self) -> cms::cert::IssuerAndSerialNumber {
        cms::cert::IssuerAndSerialNumber {
            issuer: self.parsed.tbs_certificate.issuer.clone(),
            serial_number: self.parsed.tbs_certificate.serial_number.clone(),
        }
    }

    /// The value of the subjectKeyIdentifier extension (RFC 5280 §4.2.1.2), if present and
    /// well-formed.
    pub fn subject_key_identifier(&self) -> Option<x509_cert::ext::pkix::SubjectKeyIdentifier> {
        self.extension::<x509_cert::ext::pkix::SubjectKeyIdentifier>(
            const_oid::db::rfc5912::ID_CE_SUBJECT_KEY_IDENTIFIER,
        )
        .ok()
        .flatten()
    }

    /// Whether a CMS `IssuerAndSerialNumber` names this certificate.
    pub fn matches_issuer_and_serial(&self, id: &cms::cert::IssuerAndSerialNumber) -> bool {
        id.serial_number == self.parsed.tbs_certificate.serial_number
            && der_eq(&id.issuer, &self.parsed.tbs_certificate.issuer)
    }

    /// Whether a KeyTransRecipientInfo's `rid` (RFC 5652 §6.2.1) names this certificate.
    pub fn matches_recipient(&self, rid: &cms::enveloped_data::RecipientIdentifier) -> bool {
        use cms::enveloped_data::RecipientIdentifier as Rid;
        match rid {
            Rid::IssuerAndSerialNumber(id) => self.matches_issuer_and_serial(id),
            Rid::SubjectKeyIdentifier(ski) => {
                self.subject_key_identifier().is_some_and(|own| own == *ski)
            }
        }
    }

    /// Whether a SignerInfo's `sid` (RFC 5652 §5.3) names this certificate.
    pub fn matches_signer(&self, sid: &cms::signed_data::SignerIdentifier) -> bool {
        use cms::signed_data::SignerIdentifier as Sid;
        match sid {
            Sid::IssuerAndSerialNumber(id) => self.matches_issuer_and_serial(id),
            Sid::SubjectKeyIdentifier(ski) => {
                self.subject_key_identifier().is_some_and(|own| own == *ski)
            }
        }
    }

    /// The size of the RSA modulus in bits, or an error if the key is not RSA.
    pub fn rsa_modulus_bits(&self) -> Result<usize, SecurityError> {
        Ok(self.rsa_public()?.bits())
    }

    pub(crate) fn rsa_public(&self) -> Result<rsa_key::RsaPublic, SecurityError> {
        let spki = &self.parsed.tbs_certificate.subject_public_key_info;
        if spki.algorithm.oid != const_oid::db::rfc5912::RSA_ENCRYPTION {
            return Err(self.problem(format!(
                "the public key is not RSA (algorithm {}); OFTP2 uses RSA only",
                spki.algorithm.oid
            )));
        }
        rsa_key::parse_public(self.public_key_octets())
    }

    /// The decoded extension with this OID: `Ok(None)` when absent.
    pub(crate) fn extension<'a, T: Decode<'a>>(
        &'a self,
        oid: const_oid::ObjectIdentifier,
    ) -> Result<Option<T>, SecurityError> {
        let Some(ext) =
            self.parsed.tbs_certificate.extensions.iter().flatten().find(|e| e.extn_id == oid)
        else {
            return Ok(None);
        };
        T::from_der(ext.extn_value.as_bytes())
            .map(Some)
            .map_err(|e| self.problem(format!("extension {oid} is malformed: {e}")))
    }

    /// A [`SecurityError::Certificate`] about this certificate.
    pub(crate) fn problem(&self, problem: impl Into<String>) -> SecurityError {
        SecurityError::Certificate { subject: self.subject(), problem: problem.into() }
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
    /// Takes a PKCS#8 PrivateKeyInfo (RFC 5208) in DER; the key must be RSA of 2048 to
    /// 8192 bits with consistent components (checked here, so that a key that could not
    /// sign or decrypt is refused when it is loaded, not in a session).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, SecurityError> {
        rsa_key::public_of_pkcs8(der)?;
        aws_lc_rs::rsa::PrivateDecryptingKey::from_pkcs8(der).map_err(|e| {
            SecurityError::Key(format!(
                "not a usable RSA private key (2048 to 8192 bits, consistent components): {e}"
            ))
        })?;
        Ok(Self { pkcs8_der: Zeroizing::new(der.to_vec()) })
    }

    /// Takes a PKCS#1 RSAPrivateKey (RFC 8017 Appendix A.1.2) in DER (the same checks as
    /// [`PrivateKey::from_pkcs8_der`]).
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self, SecurityError> {
        rsa_key::public_of_pkcs1(der)?;
        Self::from_pkcs8_der(&rsa_key::pkcs1_to_pkcs8(der)?)
    }

    /// Reads the first private key of PEM text: `PRIVATE KEY` (PKCS#8) or
    /// `RSA PRIVATE KEY` (PKCS#1). Encrypted keys are refused.
    pub fn from_pem(pem: &[u8]) -> Result<Self, SecurityError> {
        for block in pem::blocks(pem, "PrivateKey")? {
            match block.label.as_str() {
                "PRIVATE KEY" => return Self::from_pkcs8_der(&block.der),
                "RSA PRIVATE KEY" => return Self::from_pkcs1_der(&block.der),
                "ENCRYPTED PRIVATE KEY" => {
                    return Err(SecurityError::Key(
                        "the PEM key is encrypted (PKCS#8 EncryptedPrivateKeyInfo), which is not \
                         supported: use a PKCS#12 file, or decrypt it with `openssl pkey`"
                            .into(),
                    ));
                }
                "EC PRIVATE KEY" | "DSA PRIVATE KEY" | "OPENSSH PRIVATE KEY" => {
                    return Err(SecurityError::Key(format!(
                        "a {} is not an RSA key in PKCS#8 or PKCS#1; OFTP2 uses RSA only",
                        block.label
                    )));
                }
                _ => {}
            }
        }
        Err(SecurityError::Key(
            "no -----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY----- block in the PEM text"
                .into(),
        ))
    }

    /// Reads a private key in PEM, or in DER (PKCS#8, else PKCS#1).
    pub fn from_pem_or_der(bytes: &[u8]) -> Result<Self, SecurityError> {
        if pem::is_pem(bytes) {
            Self::from_pem(bytes)
        } else {
            Self::from_pkcs8_der(bytes)
                .or_else(|pkcs8_error| Self::from_pkcs1_der(bytes).map_err(|_| pkcs8_error))
        }
    }

    /// Reads a private key file (PEM or DER; see [`PrivateKey::from_pem_or_der`]).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, SecurityError> {
        let path = path.as_ref();
        Self::from_pem_or_der(&read_file(path)?).map_err(|e| in_file(path, e))
    }

    /// The PKCS#8 PrivateKeyInfo DER.
    pub fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8_der
    }

    /// The size of the RSA modulus in bits.
    pub fn modulus_bits(&self) -> usize {
        rsa_key::public_of_pkcs8(&self.pkcs8_der).map(|p| p.bits()).unwrap_or(0)
    }

    /// Whether this is the private key of `certificate` (same RSA modulus and exponent).
    pub fn matches(&self, certificate: &Certificate) -> bool {
        match (rsa_key::public_of_pkcs8(&self.pkcs8_der), certificate.rsa_public()) {
            (Ok(ours), Ok(theirs)) => ours == theirs,
            _ => false,
        }
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

impl Identity {
    /// Puts an identity together, checking that the key belongs to the certificate.
    pub fn new(
        certificate: Certificate,
        chain: Vec<Certificate>,
        key: PrivateKey,
    ) -> Result<Self, SecurityError> {
        if !key.matches(&certificate) {
            return Err(certificate.problem(
                "the private key does not belong to this certificate (RSA modulus or exponent differ)",
            ));
        }
        Ok(Self { certificate, chain, key })
    }

    /// Reads a PKCS#12 (RFC 7292) file's contents with its password: the first private key
    /// and the certificate chain the file holds for it (leaf, then issuers). Modern
    /// (PBES2, AES) and legacy (PBE-SHA1-3DES, RC2) encryption are both read. A wrong
    /// password gives [`SecurityError::Key`] saying so.
    pub fn from_pkcs12(bytes: &[u8], password: &str) -> Result<Self, SecurityError> {
        if bytes.len() > pem::MAX_FILE_SIZE {
            return Err(SecurityError::TooLarge { structure: "PFX", limit: pem::MAX_FILE_SIZE });
        }
        let store = p12_keystore::KeyStore::from_pkcs12(bytes, password).map_err(|e| match e {
            p12_keystore::error::Error::MacError(_) | p12_keystore::error::Error::UnpadError => {
                SecurityError::Key(
                    "PKCS#12: wrong password (the MAC or the decryption failed)".into(),
                )
            }
            other => SecurityError::Key(format!("PKCS#12: {other}")),
        })?;
        let (_alias, key_chain) = store.private_key_chain().ok_or_else(|| {
            SecurityError::Key("PKCS#12: the file holds no private key with its certificate".into())
        })?;
        let mut certs = key_chain.chain().iter().map(|c| Certificate::from_der(c.as_der()));
        let certificate = certs.next().ok_or_else(|| {
            SecurityError::Key("PKCS#12: the file holds a key without a certificate".into())
        })??;
        let chain = certs.collect::<Result<Vec<_>, _>>()?;
        let key = PrivateKey::from_pkcs8_der(key_chain.key())?;
        Self::new(certificate, chain, key)
    }

    /// Reads a PKCS#12 file from disk (see [`Identity::from_pkcs12`]).
    pub fn from_pkcs12_file(path: impl AsRef<Path>, password: &str) -> Result<Self, SecurityError> {
        let path = path.as_ref();
        Self::from_pkcs12(&read_file(path)?, password).map_err(|e| in_file(path, e))
    }

    /// Reads PEM text: the certificate followed by its chain (leaf first, as
    /// `cat cert.pem ca.pem` gives it), and the private key (PKCS#8 or PKCS#1).
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> Result<Self, SecurityError> {
        let mut certs = Certificate::all_from_pem(cert_pem)?.into_iter();
        let certificate = certs.next().ok_or_else(|| SecurityError::Malformed {
            structure: "Certificate",
            offset: 0,
            what: "no -----BEGIN CERTIFICATE----- block in the PEM text".into(),
        })?;
        Self::new(certificate, certs.collect(), PrivateKey::from_pem(key_pem)?)
    }

    /// Reads a certificate file (PEM with its chain, or DER) and a key file (PEM or DER).
    pub fn from_files(
        certificate: impl AsRef<Path>,
        key: impl AsRef<Path>,
    ) -> Result<Self, SecurityError> {
        let cert_path = certificate.as_ref();
        let mut certs = Certificate::all_from_pem_or_der(&read_file(cert_path)?)
            .map_err(|e| in_file(cert_path, e))?
            .into_iter();
        let leaf = certs.next().ok_or_else(|| {
            in_file(
                cert_path,
                SecurityError::Malformed {
                    structure: "Certificate",
                    offset: 0,
                    what: "no certificate in the file".into(),
                },
            )
        })?;
        Self::new(leaf, certs.collect(), PrivateKey::from_file(key)?)
    }
}

/// Reads a whole file of at most [`pem::MAX_FILE_SIZE`] octets.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, SecurityError> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| io_in(path, e))?;
    let limit = u64::try_from(pem::MAX_FILE_SIZE).unwrap_or(u64::MAX);
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes).map_err(|e| io_in(path, e))?;
    if bytes.len() > pem::MAX_FILE_SIZE {
        return Err(SecurityError::TooLarge {
            structure: "certificate or key file",
            limit: pem::MAX_FILE_SIZE,
        });
    }
    Ok(bytes)
}

fn io_in(path: &Path, e: std::io::Error) -> SecurityError {
    SecurityError::Io(std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))
}

/// Adds the file name to an error about its contents.
fn in_file(path: &Path, e: SecurityError) -> SecurityError {
    match e {
        SecurityError::Malformed { structure, offset, what } => SecurityError::Malformed {
            structure,
            offset,
            what: format!("{what} (in {})", path.display()),
        },
        SecurityError::Key(what) => SecurityError::Key(format!("{what} (in {})", path.display())),
        other => other,
    }
}

fn der_eq<T: Encode>(a: &T, b: &T) -> bool {
    matches!((a.to_der(), b.to_der()), (Ok(a), Ok(b)) if a == b)
}
