//! OFTP2 security (feature `cms`): secure authentication, CMS file services and signed
//! receipts, as RFC 5024 §4.2.3, §6 and §10 give them, with the Odette OP09 cipher suites.
//!
//! | RFC concept | Module |
//! |---|---|
//! | Cipher suites 01–06 (SFIDCIPH, §10.2) and their algorithms | [`suite`] |
//! | Certificates, private keys, trust anchors (PEM, DER, PKCS#12) | [`identity`] |
//! | Streaming BER/DER reading and writing of CMS structures | [`asn1`] |
//! | Content encryption (3DES-EDE-CBC, AES-256-CBC) and RSA key transport | [`cipher`], [`key_transport`] |
//! | Digests and RSA PKCS#1 v1.5 signatures | [`digest`], [`signature`] |
//! | CMS EnvelopedData (§6.3) | [`enveloped`] |
//! | CMS CompressedData, zlib (§6.4) | [`compressed`] |
//! | CMS SignedData (§6.2) | [`signed`] |
//! | The file pipeline of §6.1: sign, compress, encrypt, and the reverse | [`pipeline`] |
//! | The AUCH challenge and its AURP answer (§4.2.3) | [`challenge`] |
//! | EERP/NERP hashes and signatures (§5.3.13, §5.3.14) | [`receipt`] |
//! | Errors, with the EFNA/NERP reason the peer is told | [`error`] |
//! | All of it for the store, the driver and the engine: [`CmsSecurity`] | [`provider`] |
//! | Where a configuration file finds identity, certificates, anchors | [`config`] |
//!
//! Every parser here is total: it reads any input without panicking, with limits on the
//! size of every structure it holds in memory; file contents stream with bounded memory.
//!
//! # Example
//!
//! A file signed, compressed and encrypted for a partner with suite 04, and unwrapped by
//! that partner, who checks our signature (§6.1):
//!
//! ```
//! use oftp2_codec::fields::CipherSuite;
//! use oftp2_session::security::identity::Identity;
//! use oftp2_session::security::pipeline::{protect, unprotect, FileServices};
//! # use rcgen::{CertificateParams, KeyPair, KeyUsagePurpose, PKCS_RSA_SHA256};
//! # fn identity(name: &str) -> Result<Identity, Box<dyn std::error::Error>> {
//! #     let key = KeyPair::generate_for(&PKCS_RSA_SHA256)?;
//! #     let mut params = CertificateParams::new(vec![name.to_owned()])?;
//! #     params.key_usages =
//! #         vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
//! #     let certificate = params.self_signed(&key)?;
//! #     Ok(Identity::from_pem(certificate.pem().as_bytes(), key.serialize_pem().as_bytes())?)
//! # }
//!
//! let (ours, theirs) = (identity("trader")?, identity("customs")?);
//! let services = FileServices {
//!     signed: true,
//!     compressed: true,
//!     encrypted: true,
//!     cipher_suite: CipherSuite::AES256_RSA_SHA256,
//!     signed_receipt: false,
//! };
//! let original = b"UNH+1+ORDERS:D:96A:UN'BGM+220+4711'UNT+3+1'".repeat(100);
//!
//! let mut transmitted = Vec::new();
//! let sent = protect(&original[..], &mut transmitted, services, &ours, &theirs.certificate)?;
//! assert_eq!(sent.transmitted_octets, transmitted.len() as u64);
//!
//! let mut received = Vec::new();
//! let opened = unprotect(&transmitted[..], &mut received, services, &theirs, &ours.certificate)?;
//! assert_eq!(received, original);
//! assert_eq!(opened.transmitted_hash, sent.transmitted_hash); // EERPHSH
//! assert!(opened.signature.is_some());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod asn1;
pub mod challenge;
pub mod cipher;
pub mod compressed;
pub mod config;
pub mod digest;
pub mod enveloped;
pub mod error;
pub mod identity;
pub mod key_transport;
pub mod pipeline;
pub mod provider;
pub mod receipt;
pub mod signature;
pub mod signed;
pub mod suite;

pub use config::SecurityConfig;
pub use error::SecurityError;
pub use provider::{CmsAuthenticator, CmsSecurity, CmsSecurityBuilder};
