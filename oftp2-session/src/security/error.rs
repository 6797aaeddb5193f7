//! Errors of the security layer, each with what was wrong, where, and the reason code the
//! peer is told (EFNAREAS for a file that arrived, NERPREAS for a receipt sent back).

use oftp2_codec::reason::{EfnaReason, NerpReason};

/// What went wrong while securing or unwrapping a file, a challenge or a receipt.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecurityError {
    /// A CMS (or X.509, or key) structure is not well-formed BER/DER, or not the structure
    /// RFC 5652 defines there.
    #[error("malformed {structure} at offset {offset}: {what}")]
    Malformed {
        /// The ASN.1 structure being read, in RFC 5652/5280 names (`EnvelopedData`, ...).
        structure: &'static str,
        /// The offset of the offending octet from the start of the input.
        offset: u64,
        /// What was expected and what was found.
        what: String,
    },
    /// A structure held in memory (everything but streamed file content) exceeds its limit.
    #[error("{structure} is larger than the limit of {limit} octets")]
    TooLarge {
        /// The ASN.1 structure being read.
        structure: &'static str,
        /// The limit, in octets.
        limit: usize,
    },
    /// The input uses an algorithm, version or option this implementation does not support.
    #[error("unsupported {what}: {found}")]
    Unsupported {
        /// What is unsupported (`content-encryption algorithm`, `CMS version`, ...).
        what: &'static str,
        /// What was found (an OID, a number).
        found: String,
    },
    /// The file could not be decrypted (no RecipientInfo for our certificate, wrong key,
    /// bad padding). Deliberately says no more: the peer must not learn why.
    #[error("file decryption failed")]
    Decryption,
    /// The signature does not verify, or the signer is not the expected partner.
    #[error("invalid signature: {0}")]
    Signature(String),
    /// The compressed content does not inflate.
    #[error("decompression failed: {0}")]
    Decompression(String),
    /// A certificate cannot be used: expired, not yet valid, wrong key usage, no chain to a
    /// trust anchor, unsupported key.
    #[error("certificate {subject}: {problem}")]
    Certificate {
        /// The certificate's subject, as a readable distinguished name.
        subject: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A private key cannot be read or used.
    #[error("private key: {0}")]
    Key(String),
    /// A cryptographic primitive failed for a reason that is not the input's fault.
    #[error("cryptographic operation failed: {0}")]
    Crypto(&'static str),
    /// Reading the input or writing the output failed.
    #[error("I/O: {0}")]
    Io(#[source] std::io::Error),
}

/// Gets back a `SecurityError` that travelled inside an `io::Error` (through a streaming
/// reader's or writer's `Read`/`Write`); any other I/O error becomes [`SecurityError::Io`].
impl From<std::io::Error> for SecurityError {
    fn from(e: std::io::Error) -> Self {
        if e.get_ref().is_some_and(|inner| inner.is::<SecurityError>()) {
            let kind = e.kind();
            return match e.into_inner().map(|inner| inner.downcast::<SecurityError>()) {
                Some(Ok(inner)) => *inner,
                _ => SecurityError::Io(std::io::Error::from(kind)),
            };
        }
        SecurityError::Io(e)
    }
}

/// Carries a `SecurityError` through `Read`/`Write` (kind `InvalidData`; an
/// [`SecurityError::Io`] gives back its own `io::Error`).
impl From<SecurityError> for std::io::Error {
    fn from(e: SecurityError) -> Self {
        match e {
            SecurityError::Io(io) => io,
            other => std::io::Error::new(std::io::ErrorKind::InvalidData, other),
        }
    }
}

impl SecurityError {
    /// The EFNAREAS (§5.3.10) a Listener answers when unwrapping a received file fails so.
    pub fn efna_reason(&self) -> EfnaReason {
        match self {
            Self::Signature(_) => EfnaReason::INVALID_FILE_SIGNATURE,
            Self::Decryption => EfnaReason::FILE_DECRYPTION_FAILURE,
            Self::Decompression(_) => EfnaReason::FILE_DECOMPRESSION_FAILURE,
            Self::Unsupported { what: "cipher suite", .. } => {
                EfnaReason::CIPHER_SUITE_NOT_SUPPORTED
            }
            _ => EfnaReason::UNSPECIFIED,
        }
    }

    /// The NERPREAS (§5.3.14) sent back to the originator of a file that failed so.
    pub fn nerp_reason(&self) -> NerpReason {
        match self {
            Self::Signature(_) => NerpReason::FILE_SIGNATURE_NOT_VALID,
            Self::Decryption => NerpReason::FILE_DECRYPTION_FAILED,
            Self::Decompression(_) => NerpReason::FILE_DECOMPRESSION_FAILED,
            _ => NerpReason::FILE_PROCESSING_FAILED,
        }
    }
}
