//! Streaming content encryption (RFC 5652 §6.3): AES-256-CBC (RFC 3565) and three-key
//! Triple-DES EDE CBC (RFC 3370 §5.1) with PKCS#7 padding, through aws-lc-rs, and fresh
//! random content-encryption keys and IVs.
//!
//! [`Encryptor`] and [`Decryptor`] take input in pieces of any size and append their output
//! to a `Vec`, so a file of any size passes through a bounded buffer. A padding error, a
//! ciphertext that is not a whole number of blocks, or a key aws-lc-rs refuses (a weak or
//! degenerate 3DES key, as a random substitute key may be) are all [`SecurityError::Decryption`].

#![allow(deprecated)] // 3DES is deprecated in aws-lc-rs; suites 01, 03 and 05 need it.

use aws_lc_rs::cipher::{
    DecryptionContext, EncryptionContext, StreamingDecryptingKey, StreamingEncryptingKey,
    UnboundCipherKey, AES_256, DES_EDE3_FOR_LEGACY_USE_ONLY,
};
use aws_lc_rs::iv::FixedLength;
use zeroize::Zeroizing;

use super::suite::ContentEncryption;
use super::SecurityError;

/// The largest piece handed to aws-lc-rs at once (its length must fit in an `i32`).
const PIECE: usize = 1 << 20;

fn algorithm(alg: ContentEncryption) -> &'static aws_lc_rs::cipher::Algorithm {
    match alg {
        ContentEncryption::TripleDesEdeCbc => &DES_EDE3_FOR_LEGACY_USE_ONLY,
        ContentEncryption::Aes256Cbc => &AES_256,
    }
}

fn random(len: usize) -> Result<Vec<u8>, SecurityError> {
    let mut out = vec![0u8; len];
    aws_lc_rs::rand::fill(&mut out)
        .map_err(|_| SecurityError::Crypto("random generator failed"))?;
    Ok(out)
}

/// Sets each octet's lowest bit so that it has odd parity, as DES keys conventionally do
/// (OpenSSL's `DES_set_odd_parity`).
fn set_odd_parity(key: &mut [u8]) {
    for b in key.iter_mut() {
        let high = *b & 0xFE;
        *b = high | u8::from(high.count_ones() % 2 == 0);
    }
}

/// A fresh random content-encryption key of the algorithm's length (3DES: odd parity, and
/// never weak or with equal parts, which aws-lc-rs refuses).
pub fn generate_key(alg: ContentEncryption) -> Result<Zeroizing<Vec<u8>>, SecurityError> {
    for _ in 0..16 {
        let mut key = Zeroizing::new(random(alg.key_len())?);
        if alg == ContentEncryption::TripleDesEdeCbc {
            set_odd_parity(&mut key);
        }
        let iv = random(alg.iv_len())?;
        if Encryptor::new(alg, &key, &iv).is_ok() {
            return Ok(key);
        }
    }
    Err(SecurityError::Crypto("no usable random content-encryption key"))
}

/// A fresh random IV of the algorithm's block length.
pub fn generate_iv(alg: ContentEncryption) -> Result<Vec<u8>, SecurityError> {
    random(alg.iv_len())
}

fn unbound(alg: ContentEncryption, key: &[u8]) -> Option<UnboundCipherKey> {
    if key.len() != alg.key_len() {
        return None;
    }
    UnboundCipherKey::new(algorithm(alg), key).ok()
}

fn iv_context(alg: ContentEncryption, iv: &[u8]) -> Option<DecryptionContext> {
    match alg {
        ContentEncryption::Aes256Cbc => {
            <[u8; 16]>::try_from(iv).ok().map(|iv| DecryptionContext::Iv128(FixedLength::from(iv)))
        }
        ContentEncryption::TripleDesEdeCbc => {
            <[u8; 8]>::try_from(iv).ok().map(|iv| DecryptionContext::Iv64(FixedLength::from(iv)))
        }
    }
}

/// Runs `step` over `input` in pieces, appending to `out` (which grows by at most the
/// input length plus one block).
fn pieces(
    input: &[u8],
    out: &mut Vec<u8>,
    block: usize,
    mut step: impl FnMut(&[u8], &mut [u8]) -> Option<usize>,
) -> Option<()> {
    for piece in input.chunks(PIECE) {
        let start = out.len();
        out.resize(start + piece.len() + block, 0);
        let written = step(piece, out.get_mut(start..)?)?;
        out.truncate(start + written);
    }
    Some(())
}

/// Encrypts a stream: CBC with PKCS#7 padding.
pub struct Encryptor {
    key: StreamingEncryptingKey,
    block: usize,
}

impl Encryptor {
    /// An encryptor with this key and IV (of the algorithm's lengths).
    pub fn new(alg: ContentEncryption, key: &[u8], iv: &[u8]) -> Result<Self, SecurityError> {
        let refused = SecurityError::Crypto("content-encryption key or IV refused");
        let key =
            unbound(alg, key).ok_or(SecurityError::Crypto("content-encryption key refused"))?;
        let context = EncryptionContext::from(iv_context(alg, iv).ok_or(refused)?);
        let key = StreamingEncryptingKey::less_safe_cbc_pkcs7(key, context)
            .map_err(|_| SecurityError::Crypto("content-encryption key or IV refused"))?;
        Ok(Encryptor { key, block: alg.iv_len() })
    }

    /// Encrypts `input`, appending whole blocks of ciphertext to `out`.
    pub fn update(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), SecurityError> {
        let key = &mut self.key;
        pieces(input, out, self.block, |i, o| key.update(i, o).ok().map(|u| u.written().len()))
            .ok_or(SecurityError::Crypto("content encryption failed"))
    }

    /// Pads and encrypts the rest, appending the last block(s) to `out`.
    pub fn finish(self, out: &mut Vec<u8>) -> Result<(), SecurityError> {
        let mut last = vec![0u8; 2 * self.block];
        let (_, update) = self
            .key
            .finish(&mut last)
            .map_err(|_| SecurityError::Crypto("content encryption failed"))?;
        out.extend_from_slice(update.written());
        Ok(())
    }
}

impl std::fmt::Debug for Encryptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Encryptor(..)")
    }
}

/// Decrypts a stream: CBC, checking and removing PKCS#7 padding at the end.
pub struct Decryptor {
    key: StreamingDecryptingKey,
    block: usize,
}

impl Decryptor {
    /// A decryptor with this key and IV; a key of the wrong length or one aws-lc-rs
    /// refuses is [`SecurityError::Decryption`], an IV of the wrong length `Malformed`.
    pub fn new(alg: ContentEncryption, key: &[u8], iv: &[u8]) -> Result<Self, SecurityError> {
        let context = iv_context(alg, iv).ok_or_else(|| SecurityError::Malformed {
            structure: "ContentEncryptionAlgorithmIdentifier",
            offset: 0,
            what: format!("IV of {} octets, {} expected", iv.len(), alg.iv_len()),
        })?;
        let key = unbound(alg, key).ok_or(SecurityError::Decryption)?;
        let key = StreamingDecryptingKey::cbc_pkcs7(key, context)
            .map_err(|_| SecurityError::Decryption)?;
        Ok(Decryptor { key, block: alg.iv_len() })
    }

    /// Decrypts `input`, appending plaintext to `out` (the last block is held back until
    /// [`Decryptor::finish`], which checks its padding).
    pub fn update(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), SecurityError> {
        let key = &mut self.key;
        pieces(input, out, self.block, |i, o| key.update(i, o).ok().map(|u| u.written().len()))
            .ok_or(SecurityError::Decryption)
    }

    /// Decrypts the last block and removes its padding; bad padding, or a ciphertext that
    /// is not a whole number of blocks, is [`SecurityError::Decryption`].
    pub fn finish(self, out: &mut Vec<u8>) -> Result<(), SecurityError> {
        let mut last = vec![0u8; 2 * self.block];
        let update = self.key.finish(&mut last).map_err(|_| SecurityError::Decryption)?;
        out.extend_from_slice(update.written());
        Ok(())
    }
}

impl std::fmt::Debug for Decryptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Decryptor(..)")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    const ALGS: [ContentEncryption; 2] =
        [ContentEncryption::TripleDesEdeCbc, ContentEncryption::Aes256Cbc];

    fn encrypt(alg: ContentEncryption, key: &[u8], iv: &[u8], data: &[u8], step: usize) -> Vec<u8> {
        let mut e = Encryptor::new(alg, key, iv).unwrap();
        let mut out = Vec::new();
        for piece in data.chunks(step.max(1)) {
            e.update(piece, &mut out).unwrap();
        }
        e.finish(&mut out).unwrap();
        out
    }

    fn decrypt(
        alg: ContentEncryption,
        key: &[u8],
        iv: &[u8],
        data: &[u8],
        step: usize,
    ) -> Result<Vec<u8>, SecurityError> {
        let mut d = Decryptor::new(alg, key, iv)?;
        let mut out = Vec::new();
        for piece in data.chunks(step.max(1)) {
            d.update(piece, &mut out)?;
        }
        d.finish(&mut out)?;
        Ok(out)
    }

    #[test]
    fn round_trips_in_any_pieces() {
        for alg in ALGS {
            let key = generate_key(alg).unwrap();
            let iv = generate_iv(alg).unwrap();
            for len in [0, 1, 7, 8, 15, 16, 17, 1000] {
                let data: Vec<u8> = (0..len).map(|i| i as u8).collect();
                let ct = encrypt(alg, &key, &iv, &data, 3);
                assert_eq!(ct.len(), (len / alg.iv_len() + 1) * alg.iv_len());
                assert_eq!(ct, encrypt(alg, &key, &iv, &data, 1000));
                assert_eq!(decrypt(alg, &key, &iv, &ct, 5).unwrap(), data);
            }
        }
    }

    #[test]
    fn known_answer_aes256_cbc() {
        // NIST SP 800-38A F.2.5 (CBC-AES256.Encrypt), first block, then PKCS#7 padding.
        let key = hex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4");
        let iv = hex("000102030405060708090a0b0c0d0e0f");
        let pt = hex("6bc1bee22e409f96e93d7e117393172a");
        let ct = encrypt(ContentEncryption::Aes256Cbc, &key, &iv, &pt, 16);
        assert_eq!(ct[..16], hex("f58c4c04d6e5f1ba779eabfb5f7bfbd6")[..]);
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    #[test]
    fn bad_padding_truncation_and_keys_are_decryption_errors() {
        for alg in ALGS {
            let key = generate_key(alg).unwrap();
            let iv = generate_iv(alg).unwrap();
            let ct = encrypt(alg, &key, &iv, b"some content of a file", 4);
            // A wrong key almost never yields valid padding; try a few to make it certain
            // that at least one fails the padding check.
            let failures = (0..8)
                .filter(|_| {
                    let k = generate_key(alg).unwrap();
                    matches!(decrypt(alg, &k, &iv, &ct, 7), Err(SecurityError::Decryption))
                })
                .count();
            assert!(failures >= 1);
            assert!(matches!(
                decrypt(alg, &key, &iv, &ct[..ct.len() - 1], 7),
                Err(SecurityError::Decryption)
            ));
            assert!(matches!(decrypt(alg, &key[1..], &iv, &ct, 7), Err(SecurityError::Decryption)));
            assert!(matches!(
                decrypt(alg, &key, &iv[1..], &ct, 7),
                Err(SecurityError::Malformed { .. })
            ));
            let mut tampered = ct.clone();
            let n = tampered.len();
            tampered[n - 1] ^= 0x01;
            assert!(decrypt(alg, &key, &iv, &tampered, 7)
                .map(|p| p != b"some content of a file")
                .unwrap_or(true));
        }
    }

    #[test]
    fn des_keys_have_odd_parity() {
        let key = generate_key(ContentEncryption::TripleDesEdeCbc).unwrap();
        assert!(key.iter().all(|b| b.count_ones() % 2 == 1));
    }
}
