//! The hooks by which OFTP2 file security (RFC 5024 §6) and signed receipts (§5.3.13,
//! §5.3.14) plug into the [store](crate::store) and the [driver](crate::driver).
//!
//! The store and the driver know *when* a file is secured, unwrapped, hashed or a receipt
//! signed; a [`FileSecurity`] knows *how*. With the `cms` feature,
//! `security::CmsSecurity` implements it with CMS and the cipher suites 01–06; a product
//! with its own cryptography can implement it instead.
//!
//! [`FileServices`] is what a file asks for, in the SFID's own fields.

use std::io::{Read, Write};

use oftp2_codec::command::Sfid;
use oftp2_codec::fields::{CipherSuite, FileCompression, FileEnveloping, OdetteId, SecurityLevel};
use oftp2_codec::reason::{EfnaReason, NerpReason};

use crate::store::Receipt;

/// The §6 services a Virtual File travels with: SFIDSEC, SFIDCIPH, SFIDCOMP, SFIDENV and
/// SFIDSIGN of its SFID.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
pub struct FileServices {
    /// Signed (CMS SignedData): SFIDSEC `02` or `03`.
    pub signed: bool,
    /// Compressed (CMS CompressedData, zlib): SFIDCOMP `1`.
    pub compressed: bool,
    /// Encrypted (CMS EnvelopedData): SFIDSEC `01` or `03`.
    pub encrypted: bool,
    /// SFIDCIPH: the cipher suite for the services and for a signed EERP (`00` without).
    pub cipher_suite: CipherSuite,
    /// SFIDSIGN: the EERP for the file must be signed.
    pub signed_receipt: bool,
}

impl FileServices {
    /// No services: the file travels as it is, with an unsigned EERP.
    pub const NONE: Self = Self {
        signed: false,
        compressed: false,
        encrypted: false,
        cipher_suite: CipherSuite::NONE,
        signed_receipt: false,
    };

    /// Signed, compressed and encrypted with `suite`, with a signed EERP: everything §6
    /// offers.
    pub fn all(suite: CipherSuite) -> Self {
        Self {
            signed: true,
            compressed: true,
            encrypted: true,
            cipher_suite: suite,
            signed_receipt: true,
        }
    }

    /// The services an SFID announces.
    pub fn of(sfid: &Sfid) -> Self {
        let (encrypted, signed) = match sfid.security_level {
            SecurityLevel::None => (false, false),
            SecurityLevel::Encrypted => (true, false),
            SecurityLevel::Signed => (false, true),
            SecurityLevel::EncryptedAndSigned => (true, true),
        };
        Self {
            signed,
            compressed: sfid.compression == FileCompression::Zlib,
            encrypted,
            cipher_suite: sfid.cipher_suite,
            signed_receipt: sfid.signed_eerp_request,
        }
    }

    /// Writes the services into an SFID's SFIDSEC, SFIDCIPH, SFIDCOMP, SFIDENV and
    /// SFIDSIGN. SFIDENV is `1` (CMS) whenever the file is signed, compressed or encrypted.
    pub fn write_to(&self, sfid: &mut Sfid) {
        sfid.security_level = match (self.encrypted, self.signed) {
            (false, false) => SecurityLevel::None,
            (true, false) => SecurityLevel::Encrypted,
            (false, true) => SecurityLevel::Signed,
            (true, true) => SecurityLevel::EncryptedAndSigned,
        };
        sfid.cipher_suite = self.cipher_suite;
        sfid.compression =
            if self.compressed { FileCompression::Zlib } else { FileCompression::None };
        sfid.enveloping =
            if self.transforms() { FileEnveloping::Cms } else { FileEnveloping::None };
        sfid.signed_eerp_request = self.signed_receipt;
    }

    /// Whether the transmitted file differs from the original (signed, compressed or
    /// encrypted): it then travels as U format, restarting in 1 KiB blocks (§6.1).
    pub fn transforms(&self) -> bool {
        self.signed || self.compressed || self.encrypted
    }

    /// Whether anything needs the cryptography of a [`FileSecurity`]: a transformation or
    /// a signed receipt (whose EERPHSH is a hash of the transmitted file).
    pub fn needs_security(&self) -> bool {
        self.transforms() || self.signed_receipt
    }
}

/// Why securing or unwrapping a file, or signing a receipt, failed: the message, and the
/// reasons the partner is told (EFNA when the file is refused at its end, NERP to the
/// originator).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ProtectionError {
    /// EFNAREAS: 21 invalid file signature, 22 decryption failure, 23 decompression
    /// failure, 99 otherwise.
    pub efna: EfnaReason,
    /// NERPREAS: 31 signature not valid, 32 decompression failed, 33 decryption failed,
    /// 34 processing failed.
    pub nerp: NerpReason,
    /// What went wrong.
    pub message: String,
}

impl ProtectionError {
    /// A failure that is not the file's fault (no certificate configured, a key that
    /// cannot sign): EFNA 99, NERP 34.
    pub fn local(message: impl Into<String>) -> Self {
        Self {
            efna: EfnaReason::UNSPECIFIED,
            nerp: NerpReason::FILE_PROCESSING_FAILED,
            message: message.into(),
        }
    }
}

/// What checking a received EERP or NERP found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ReceiptCheck {
    /// The receipt carries no signature.
    Unsigned,
    /// The signature verifies against the partner's certificate, covers the receipt's own
    /// fields, and its hash is the one of the file we sent (when we know it).
    Verified,
    /// The receipt is signed, but the signature or its hash does not hold: why.
    Invalid(String),
}

/// OFTP2 file security as the store and the driver use it.
///
/// Implementations stream: `protect` and `unprotect` see files of any size through
/// `Read`/`Write`, with bounded memory.
pub trait FileSecurity: Send + Sync + std::fmt::Debug {
    /// Secures `original` for `partner` as `services` say (§6.1: sign, compress, encrypt),
    /// writing the transmitted Virtual File to `transmitted`. Returns the hash of the
    /// transmitted file with the suite's digest (kept to check the EERP's EERPHSH).
    fn protect(
        &self,
        partner: &OdetteId,
        services: &FileServices,
        original: &mut dyn Read,
        transmitted: &mut dyn Write,
    ) -> Result<Vec<u8>, ProtectionError>;

    /// Unwraps a received Virtual File that `sfid` declares secured, verifying its
    /// signature against `partner`'s certificate, and writes the original to `original`
    /// (which the caller delivers only on `Ok`). Returns the hash of the transmitted file.
    fn unprotect(
        &self,
        partner: &OdetteId,
        sfid: &Sfid,
        transmitted: &mut dyn Read,
        original: &mut dyn Write,
    ) -> Result<Vec<u8>, ProtectionError>;

    /// The hash of a transmitted file with `suite`'s digest (for the EERPHSH of a file
    /// that was sent as it is but asked for a signed EERP).
    fn digest(
        &self,
        suite: CipherSuite,
        transmitted: &mut dyn Read,
    ) -> Result<Vec<u8>, ProtectionError>;

    /// Signs a receipt for `partner` with `suite`: sets its hash field to
    /// `transmitted_hash` and its signature to a CMS SignedData over the fields §5.3.13 /
    /// §5.3.14 list.
    fn sign_receipt(
        &self,
        partner: &OdetteId,
        suite: CipherSuite,
        receipt: &mut Receipt,
        transmitted_hash: &[u8],
    ) -> Result<(), ProtectionError>;

    /// Checks a receipt `partner` sent: its signature, if any, and (when given) that its
    /// hash is `expected_hash`, the hash of the file as we transmitted it.
    fn check_receipt(
        &self,
        partner: &OdetteId,
        suite: CipherSuite,
        receipt: &Receipt,
        expected_hash: Option<&[u8]>,
    ) -> ReceiptCheck;

    /// The cryptography of secure authentication (§4.2.3, AUCH/AURP) for one session with
    /// a partner that has `secure_authentication` set. `None` (the default): sessions
    /// that need it end with ESID 12.
    fn authenticator(&self) -> Option<Box<dyn crate::engine::SecureAuthentication>> {
        None
    }
}
