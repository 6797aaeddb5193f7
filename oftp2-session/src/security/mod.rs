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
