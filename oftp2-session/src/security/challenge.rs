//! The secure authentication challenge of RFC 5024 §4.2.3-4.2.4 and §5.3.17-18: the
//! AUCHCHAL of an AUCH is a CMS EnvelopedData (in a ContentInfo, DER) of 20 fresh random
//! octets, encrypted to the partner's certificate; the partner answers the decrypted octets
//! in AURPRSP.
//!
//! Which cipher suite encrypts the challenge is a bilateral choice (§5.3.17 NOTE, §10.1),
//! so [`Challenge::new`] takes it as a parameter.
//!
//! Answering turns the responder into an RSA decryption service for whoever connects
//! (design decision 5), so [`answer`] never says why it failed: any failure (malformed
//! AUCHCHAL, too large, no RecipientInfo for us, bad PKCS#1 or CBC padding, content of
//! another length) gives 20 random octets, which fail [`verify`] like any wrong answer.
//! The RSA step itself uses implicit rejection ([`key_transport`](super::key_transport)).
//! Callers should still rate-limit sessions that fail authentication.

use oftp2_codec::fields::CipherSuite;

use super::enveloped::{envelop, open};
use super::identity::{Certificate, Identity};
use super::suite::ID_DATA;
use super::SecurityError;

/// The length of the challenge (AUCHCHAL's plaintext) and of AURPRSP.
pub const CHALLENGE_LEN: usize = 20;

/// The largest AUCHCHAL accepted: what AUCHCHLL (`U(2)`) can state.
pub const MAX_AUCHCHAL_LEN: usize = 0xFFFF;

/// A challenge we sent, and the answer we expect.
#[derive(Debug)]
pub struct Challenge;

impl Challenge {
    /// A fresh challenge for `partner`: the AUCHCHAL to send (ContentInfo with
    /// EnvelopedData, DER, content type id-data, content-encryption of `suite`) and the 20
    /// octets the AURP must carry back.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(
        partner: &Certificate,
        suite: CipherSuite,
    ) -> Result<(Vec<u8>, [u8; CHALLENGE_LEN]), SecurityError> {
        let mut expected = [0u8; CHALLENGE_LEN];
        aws_lc_rs::rand::fill(&mut expected)
            .map_err(|_| SecurityError::Crypto("random generator failed"))?;
        let auchchal = envelop(&expected, partner, suite, ID_DATA)?;
        if auchchal.len() > MAX_AUCHCHAL_LEN {
            return Err(SecurityError::TooLarge { structure: "AUCHCHAL", limit: MAX_AUCHCHAL_LEN });
        }
        Ok((auchchal, expected))
    }
}

/// The AURPRSP answering `auchchal` with our identity: the decrypted challenge, or, on any
/// failure whatsoever, 20 random octets (one uniform path, no error, no log of the cause).
pub fn answer(own: &Identity, auchchal: &[u8]) -> [u8; CHALLENGE_LEN] {
    let mut substitute = [0u8; CHALLENGE_LEN];
    // Should the generator fail, the all-zero substitute is still not the challenge.
    let _ = aws_lc_rs::rand::fill(&mut substitute);
    let opened = if auchchal.len() <= MAX_AUCHCHAL_LEN { open(auchchal, own).ok() } else { None };
    let plain = opened.map(|(_, content)| content).unwrap_or_default();
    let good = <[u8; CHALLENGE_LEN]>::try_from(plain.as_slice()).ok();
    // 0xFF when a 20-octet answer came out, else 0x00; then select without branching on it.
    let mask = std::hint::black_box(0u8.wrapping_sub(u8::from(good.is_some())));
    let decrypted = good.unwrap_or([0u8; CHALLENGE_LEN]);
    let mut out = [0u8; CHALLENGE_LEN];
    for ((o, d), s) in out.iter_mut().zip(decrypted.iter()).zip(substitute.iter()) {
        *o = (d & mask) | (s & !mask);
    }
    out
}

/// Whether an AURPRSP matches the challenge sent, compared in constant time; a response
/// of another length never matches.
pub fn verify(expected: &[u8; CHALLENGE_LEN], aurp: &[u8]) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(expected, aurp).is_ok()
}
