//! The cipher suites of RFC 5024 §10.2 (SFIDCIPH 01, 02) and Odette OP09 (03-06), and the
//! object identifiers CMS uses for their algorithms (RFC 3370, RFC 3565, RFC 4055, RFC 8017).
//!
//! | Suite | Content encryption | Key transport | Digest |
//! |---|---|---|---|
//! | 01 | 3DES_EDE_CBC_3KEY | RSA PKCS#1 v1.5 | SHA-1 |
//! | 02 | AES_256_CBC | RSA PKCS#1 v1.5 | SHA-1 |
//! | 03 | 3DES_EDE_CBC_3KEY | RSA PKCS#1 v1.5 | SHA-256 |
//! | 04 | AES_256_CBC | RSA PKCS#1 v1.5 | SHA-256 |
//! | 05 | 3DES_EDE_CBC_3KEY | RSA PKCS#1 v1.5 | SHA-512 |
//! | 06 | AES_256_CBC | RSA PKCS#1 v1.5 | SHA-512 |

use const_oid::ObjectIdentifier;
use oftp2_codec::fields::CipherSuite;

use super::SecurityError;

/// rsaEncryption (PKCS#1, 1.2.840.113549.1.1.1): the KeyTransRecipientInfo
/// `keyEncryptionAlgorithm` and, as OpenSSL and Bouncy Castle write it, the SignerInfo
/// `signatureAlgorithm` of RSA PKCS#1 v1.5.
pub const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
/// id-data (RFC 5652 §4).
pub const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
/// id-signedData (RFC 5652 §5).
pub const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
/// id-envelopedData (RFC 5652 §6).
pub const ID_ENVELOPED_DATA: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.3");
/// id-ct-compressedData (RFC 3274 §1.1).
pub const ID_CT_COMPRESSED_DATA: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.9");
/// id-alg-zlibCompress (RFC 3274 §2).
pub const ID_ALG_ZLIB_COMPRESS: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.3.8");

/// A content-encryption algorithm (EncryptedContentInfo `contentEncryptionAlgorithm`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ContentEncryption {
    /// des-ede3-cbc (RFC 3370 §5.1, 1.2.840.113549.3.7): three-key Triple-DES EDE in CBC
    /// mode; parameters: the 8-octet IV as an OCTET STRING.
    TripleDesEdeCbc,
    /// id-aes256-CBC (RFC 3565 §4.1, 2.16.840.1.101.3.4.1.42); parameters: the 16-octet
    /// IV as an OCTET STRING.
    Aes256Cbc,
}

impl ContentEncryption {
    const DES_EDE3_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.3.7");
    const AES_256_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.42");

    /// The algorithm's object identifier.
    pub fn oid(self) -> ObjectIdentifier {
        match self {
            Self::TripleDesEdeCbc => Self::DES_EDE3_CBC,
            Self::Aes256Cbc => Self::AES_256_CBC,
        }
    }

    /// The algorithm with this object identifier.
    pub fn from_oid(oid: &ObjectIdentifier) -> Result<Self, SecurityError> {
        match *oid {
            Self::DES_EDE3_CBC => Ok(Self::TripleDesEdeCbc),
            Self::AES_256_CBC => Ok(Self::Aes256Cbc),
            _ => Err(unsupported("content-encryption algorithm", oid)),
        }
    }

    /// The key length in octets (24 and 32).
    pub fn key_len(self) -> usize {
        match self {
            Self::TripleDesEdeCbc => 24,
            Self::Aes256Cbc => 32,
        }
    }

    /// The block and IV length in octets (8 and 16).
    pub fn iv_len(self) -> usize {
        match self {
            Self::TripleDesEdeCbc => 8,
            Self::Aes256Cbc => 16,
        }
    }
}

/// A digest algorithm (SignerInfo `digestAlgorithm`, EERP/NERP hashes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DigestAlgorithm {
    /// id-sha1 (1.3.14.3.2.26), 20 octets.
    Sha1,
    /// id-sha256 (2.16.840.1.101.3.4.2.1), 32 octets.
    Sha256,
    /// id-sha512 (2.16.840.1.101.3.4.2.3), 64 octets.
    Sha512,
}

impl DigestAlgorithm {
    const SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
    const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
    const SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");
    const SHA1_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.5");
    const SHA256_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
    const SHA512_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");

    /// The algorithm's object identifier.
    pub fn oid(self) -> ObjectIdentifier {
        match self {
            Self::Sha1 => Self::SHA1,
            Self::Sha256 => Self::SHA256,
            Self::Sha512 => Self::SHA512,
        }
    }

    /// The algorithm with this object identifier.
    pub fn from_oid(oid: &ObjectIdentifier) -> Result<Self, SecurityError> {
        match *oid {
            Self::SHA1 => Ok(Self::Sha1),
            Self::SHA256 => Ok(Self::Sha256),
            Self::SHA512 => Ok(Self::Sha512),
            _ => Err(unsupported("digest algorithm", oid)),
        }
    }

    /// The digest length in octets.
    pub fn output_len(self) -> usize {
        match self {
            Self::Sha1 => 20,
            Self::Sha256 => 32,
            Self::Sha512 => 64,
        }
    }

    /// The aws-lc-rs implementation.
    pub fn aws_lc(self) -> &'static aws_lc_rs::digest::Algorithm {
        match self {
            Self::Sha1 => &aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY,
            Self::Sha256 => &aws_lc_rs::digest::SHA256,
            Self::Sha512 => &aws_lc_rs::digest::SHA512,
        }
    }

    /// sha1WithRSAEncryption (1.2.840.113549.1.1.5), sha256WithRSAEncryption (…1.11) or
    /// sha512WithRSAEncryption (…1.13): RSA PKCS#1 v1.5 with this digest (RFC 4055 §5).
    pub fn with_rsa_oid(self) -> ObjectIdentifier {
        match self {
            Self::Sha1 => Self::SHA1_RSA,
            Self::Sha256 => Self::SHA256_RSA,
            Self::Sha512 => Self::SHA512_RSA,
        }
    }
}

/// A SignerInfo `signatureAlgorithm` as read: RSA PKCS#1 v1.5, either as rsaEncryption
/// (what OpenSSL and Bouncy Castle write; the digest is the SignerInfo's
/// `digestAlgorithm`) or as sha*WithRSAEncryption naming its digest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SignatureAlgorithm {
    /// rsaEncryption: PKCS#1 v1.5 with the digest of `digestAlgorithm`.
    RsaPkcs1,
    /// sha*WithRSAEncryption: PKCS#1 v1.5 with this digest.
    RsaPkcs1With(DigestAlgorithm),
}

impl SignatureAlgorithm {
    /// The algorithm with this object identifier.
    pub fn from_oid(oid: &ObjectIdentifier) -> Result<Self, SecurityError> {
        match *oid {
            RSA_ENCRYPTION => Ok(Self::RsaPkcs1),
            DigestAlgorithm::SHA1_RSA => Ok(Self::RsaPkcs1With(DigestAlgorithm::Sha1)),
            DigestAlgorithm::SHA256_RSA => Ok(Self::RsaPkcs1With(DigestAlgorithm::Sha256)),
            DigestAlgorithm::SHA512_RSA => Ok(Self::RsaPkcs1With(DigestAlgorithm::Sha512)),
            _ => Err(unsupported("signature algorithm", oid)),
        }
    }

    /// The object identifier.
    pub fn oid(self) -> ObjectIdentifier {
        match self {
            Self::RsaPkcs1 => RSA_ENCRYPTION,
            Self::RsaPkcs1With(digest) => digest.with_rsa_oid(),
        }
    }

    /// The digest the signature uses, given the SignerInfo's `digestAlgorithm`; a
    /// sha*WithRSAEncryption that names another digest is unsupported.
    pub fn digest(
        self,
        digest_algorithm: DigestAlgorithm,
    ) -> Result<DigestAlgorithm, SecurityError> {
        match self {
            Self::RsaPkcs1 => Ok(digest_algorithm),
            Self::RsaPkcs1With(d) if d == digest_algorithm => Ok(d),
            Self::RsaPkcs1With(d) => Err(SecurityError::Unsupported {
                what: "signature algorithm",
                found: format!(
                    "{} with digestAlgorithm {}",
                    d.with_rsa_oid(),
                    digest_algorithm.oid()
                ),
            }),
        }
    }
}

/// A known cipher suite (01 to 06): its content encryption and digest. Key transport and
/// signatures are RSA PKCS#1 v1.5 in every suite.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Suite {
    /// The SFIDCIPH code.
    pub code: CipherSuite,
    /// The symmetric algorithm.
    pub content_encryption: ContentEncryption,
    /// The hashing algorithm.
    pub digest: DigestAlgorithm,
}

impl Suite {
    /// The algorithms of suite 01 to 06; 00 (no security) and unknown suites are
    /// [`SecurityError::Unsupported`].
    pub fn from_code(code: CipherSuite) -> Result<Self, SecurityError> {
        use ContentEncryption::{Aes256Cbc, TripleDesEdeCbc};
        use DigestAlgorithm::{Sha1, Sha256, Sha512};
        let (content_encryption, digest) = match code.value() {
            1 => (TripleDesEdeCbc, Sha1),
            2 => (Aes256Cbc, Sha1),
            3 => (TripleDesEdeCbc, Sha256),
            4 => (Aes256Cbc, Sha256),
            5 => (TripleDesEdeCbc, Sha512),
            6 => (Aes256Cbc, Sha512),
            other => {
                return Err(SecurityError::Unsupported {
                    what: "cipher suite",
                    found: format!("{other:02}"),
                })
            }
        };
        Ok(Suite { code, content_encryption, digest })
    }

    /// The suite with these algorithms.
    pub fn from_algorithms(content_encryption: ContentEncryption, digest: DigestAlgorithm) -> Self {
        use ContentEncryption::{Aes256Cbc, TripleDesEdeCbc};
        use DigestAlgorithm::{Sha1, Sha256, Sha512};
        let code = match (content_encryption, digest) {
            (TripleDesEdeCbc, Sha1) => CipherSuite::TDES_RSA_SHA1,
            (Aes256Cbc, Sha1) => CipherSuite::AES256_RSA_SHA1,
            (TripleDesEdeCbc, Sha256) => CipherSuite::TDES_RSA_SHA256,
            (Aes256Cbc, Sha256) => CipherSuite::AES256_RSA_SHA256,
            (TripleDesEdeCbc, Sha512) => CipherSuite::TDES_RSA_SHA512,
            (Aes256Cbc, Sha512) => CipherSuite::AES256_RSA_SHA512,
        };
        Suite { code, content_encryption, digest }
    }

    /// All six suites, 01 to 06.
    pub fn all() -> [Suite; 6] {
        use ContentEncryption::{Aes256Cbc, TripleDesEdeCbc};
        use DigestAlgorithm::{Sha1, Sha256, Sha512};
        [
            Self::from_algorithms(TripleDesEdeCbc, Sha1),
            Self::from_algorithms(Aes256Cbc, Sha1),
            Self::from_algorithms(TripleDesEdeCbc, Sha256),
            Self::from_algorithms(Aes256Cbc, Sha256),
            Self::from_algorithms(TripleDesEdeCbc, Sha512),
            Self::from_algorithms(Aes256Cbc, Sha512),
        ]
    }

    /// The SignerInfo `signatureAlgorithm` written: rsaEncryption, as OpenSSL and Bouncy
    /// Castle write it.
    pub fn signature_algorithm(self) -> SignatureAlgorithm {
        SignatureAlgorithm::RsaPkcs1
    }

    /// The KeyTransRecipientInfo `keyEncryptionAlgorithm`: rsaEncryption.
    pub fn key_transport_oid(self) -> ObjectIdentifier {
        RSA_ENCRYPTION
    }
}

fn unsupported(what: &'static str, oid: &ObjectIdentifier) -> SecurityError {
    SecurityError::Unsupported { what, found: oid.to_string() }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn codes_and_oids() {
        for (i, suite) in Suite::all().into_iter().enumerate() {
            assert_eq!(usize::from(suite.code.value()), i + 1);
            assert_eq!(Suite::from_code(suite.code).unwrap(), suite);
            let enc = suite.content_encryption;
            assert_eq!(ContentEncryption::from_oid(&enc.oid()).unwrap(), enc);
            let d = suite.digest;
            assert_eq!(DigestAlgorithm::from_oid(&d.oid()).unwrap(), d);
            assert_eq!(d.aws_lc().output_len(), d.output_len());
            assert_eq!(
                SignatureAlgorithm::from_oid(&d.with_rsa_oid()).unwrap(),
                SignatureAlgorithm::RsaPkcs1With(d)
            );
        }
        assert_eq!(ContentEncryption::Aes256Cbc.oid().to_string(), "2.16.840.1.101.3.4.1.42");
        assert_eq!(ContentEncryption::TripleDesEdeCbc.oid().to_string(), "1.2.840.113549.3.7");
        assert_eq!(DigestAlgorithm::Sha512.with_rsa_oid().to_string(), "1.2.840.113549.1.1.13");
        for code in [0, 7, 99] {
            let err = Suite::from_code(CipherSuite::new(code).unwrap()).unwrap_err();
            assert!(matches!(err, SecurityError::Unsupported { what: "cipher suite", .. }));
        }
        assert!(DigestAlgorithm::from_oid(&RSA_ENCRYPTION).is_err());
        assert!(SignatureAlgorithm::RsaPkcs1With(DigestAlgorithm::Sha1)
            .digest(DigestAlgorithm::Sha256)
            .is_err());
    }
}
