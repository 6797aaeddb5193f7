//! Signed end-to-end responses (§5.3.13 EERP, §5.3.14 NERP).
//!
//! EERPHSH / NERPHSH is the hash of the *transmitted* Virtual File (after signing,
//! compression and encryption), made with the digest of the file's cipher suite (SFIDCIPH);
//! it is present only when the receipt is signed. EERPSIG / NERPSIG is a CMS SignedData with
//! the content encapsulated (eContentType id-data) over exactly
//! EERPDSN‖EERPDATE‖EERPTIME‖EERPDEST‖EERPORIG‖EERPHSH, and for a NERP
//! NERPDSN‖NERPDATE‖NERPTIME‖NERPDEST‖NERPORIG‖NERPCREA‖NERPHSH, each field in its entirety,
//! padding included ([`Eerp::signed_content`], [`Nerp::signed_content`]).
//!
//! Verifying checks that the partner's certificate signed it, with the suite's digest, that
//! the signed octets are this receipt's own fields, and — given the hash computed when the
//! file was sent — that the receipt acknowledges exactly that file.

use bytes::Bytes;
use oftp2_codec::command::{Eerp, Nerp};

use super::identity::{Certificate, Identity};
use super::signed::{self, Verified};
use super::suite::Suite;
use super::SecurityError;

/// What a verified signed EERP or NERP proved.
#[derive(Clone, Debug)]
pub struct ReceiptVerification {
    /// The signer, digest and signing time of EERPSIG / NERPSIG.
    pub signature: Verified,
    /// Whether EERPHSH / NERPHSH was compared with the hash of the file as it was sent
    /// (`expected_hash` given) and matched.
    pub hash_checked: bool,
}

/// Fills in EERPHSH with `transmitted_hash` and EERPSIG with our SignedData over the
/// EERP's fields, signed with `suite`'s digest.
pub fn sign_eerp(
    eerp: &mut Eerp,
    transmitted_hash: &[u8],
    own: &Identity,
    suite: Suite,
) -> Result<(), SecurityError> {
    check_hash_len("EERPHSH", transmitted_hash, suite)?;
    eerp.hash = Bytes::copy_from_slice(transmitted_hash);
    eerp.signature = sign_content("EERPSIG", &eerp.signed_content(), own, suite)?;
    Ok(())
}

/// Verifies a signed EERP from the partner: EERPSIG is `partner`'s SignedData with
/// `suite`'s digest over exactly this EERP's fields, and EERPHSH, if `expected_hash` is
/// given, is the hash of the file we transmitted.
pub fn verify_eerp(
    eerp: &Eerp,
    partner: &Certificate,
    suite: Suite,
    expected_hash: Option<&[u8]>,
) -> Result<ReceiptVerification, SecurityError> {
    verify_receipt(
        Receipt::EERP,
        &eerp.signature,
        &eerp.hash,
        &eerp.signed_content(),
        partner,
        suite,
        expected_hash,
    )
}

/// Fills in NERPHSH with `transmitted_hash` (empty when no file data arrived) and NERPSIG
/// with our SignedData over the NERP's fields (NERPCREA included), signed with `suite`'s
/// digest.
pub fn sign_nerp(
    nerp: &mut Nerp,
    transmitted_hash: &[u8],
    own: &Identity,
    suite: Suite,
) -> Result<(), SecurityError> {
    check_hash_len("NERPHSH", transmitted_hash, suite)?;
    nerp.hash = Bytes::copy_from_slice(transmitted_hash);
    nerp.signature = sign_content("NERPSIG", &nerp.signed_content(), own, suite)?;
    Ok(())
}

/// Verifies a signed NERP from the partner, as [`verify_eerp`] does an EERP.
pub fn verify_nerp(
    nerp: &Nerp,
    partner: &Certificate,
    suite: Suite,
    expected_hash: Option<&[u8]>,
) -> Result<ReceiptVerification, SecurityError> {
    verify_receipt(
        Receipt::NERP,
        &nerp.signature,
        &nerp.hash,
        &nerp.signed_content(),
        partner,
        suite,
        expected_hash,
    )
}

/// The names of a receipt's fields in the order its signature covers them, with lengths.
struct Receipt {
    command: &'static str,
    hash: &'static str,
    signature: &'static str,
    fields: &'static [(&'static str, usize)],
}

impl Receipt {
    const EERP: Receipt = Receipt {
        command: "EERP",
        hash: "EERPHSH",
        signature: "EERPSIG",
        fields: &[
            ("EERPDSN", 26),
            ("EERPDATE", 8),
            ("EERPTIME", 10),
            ("EERPDEST", 25),
            ("EERPORIG", 25),
        ],
    };
    const NERP: Receipt = Receipt {
        command: "NERP",
        hash: "NERPHSH",
        signature: "NERPSIG",
        fields: &[
            ("NERPDSN", 26),
            ("NERPDATE", 8),
            ("NERPTIME", 10),
            ("NERPDEST", 25),
            ("NERPORIG", 25),
            ("NERPCREA", 25),
        ],
    };

    /// The field that holds octet `offset` of the signed content.
    fn field_at(&self, offset: usize) -> &'static str {
        let mut end = 0;
        for (name, len) in self.fields {
            end += len;
            if offset < end {
                return name;
            }
        }
        self.hash
    }
}

/// EERPHSH / NERPHSH must be a digest of the suite's length; a NERP may have none (a file
/// refused before any of it arrived has no transmitted hash).
fn check_hash_len(field: &str, hash: &[u8], suite: Suite) -> Result<(), SecurityError> {
    let none_allowed = field == Receipt::NERP.hash && hash.is_empty();
    if !none_allowed && hash.len() != suite.digest.output_len() {
        return Err(SecurityError::Signature(format!(
            "{field} is {} octets, but cipher suite {:02}'s {:?} gives {}",
            hash.len(),
            suite.code.value(),
            suite.digest,
            suite.digest.output_len()
        )));
    }
    Ok(())
}

fn sign_content(
    field: &'static str,
    content: &[u8],
    own: &Identity,
    suite: Suite,
) -> Result<Bytes, SecurityError> {
    let signature = signed::sign(content, own, suite.digest)?;
    // EERPSIGL / NERPSIGL is a 2-octet length.
    if signature.len() > usize::from(u16::MAX) {
        return Err(SecurityError::TooLarge { structure: field, limit: usize::from(u16::MAX) });
    }
    Ok(Bytes::from(signature))
}

fn verify_receipt(
    receipt: Receipt,
    signature: &[u8],
    hash: &[u8],
    own_fields: &[u8],
    partner: &Certificate,
    suite: Suite,
    expected_hash: Option<&[u8]>,
) -> Result<ReceiptVerification, SecurityError> {
    if signature.is_empty() {
        return Err(SecurityError::Signature(format!(
            "the {} is not signed ({}L is 0)",
            receipt.command, receipt.signature
        )));
    }
    check_hash_len(receipt.hash, hash, suite)?;
    let (content, verified) = signed::verify(signature, partner)?;
    if verified.digest_algorithm != suite.digest {
        return Err(SecurityError::Signature(format!(
            "{} is signed with {:?}, but cipher suite {:02} uses {:?}",
            receipt.signature,
            verified.digest_algorithm,
            suite.code.value(),
            suite.digest
        )));
    }
    if content != own_fields {
        let at = content.iter().zip(own_fields).position(|(a, b)| a != b);
        let what = match at {
            Some(at) => format!("differs in {} (octet {at})", receipt.field_at(at)),
            None => format!(
                "is {} octets, the {}'s fields are {}",
                content.len(),
                receipt.command,
                own_fields.len()
            ),
        };
        return Err(SecurityError::Signature(format!(
            "the content signed in {} is not this {}'s fields: it {what}",
            receipt.signature, receipt.command
        )));
    }
    let hash_checked = match expected_hash {
        Some(expected) if expected != hash => {
            return Err(SecurityError::Signature(format!(
                "{} is not the hash of the file as we transmitted it: the {} acknowledges \
                 another file",
                receipt.hash, receipt.command
            )))
        }
        Some(_) => true,
        None => false,
    };
    Ok(ReceiptVerification { signature: verified, hash_checked })
}
