//! RSA PKCS#1 v1.5 key transport (RFC 5652 §6.2.1 KeyTransRecipientInfo, RFC 3370 §4.2.1):
//! the content-encryption key encrypted to the recipient certificate's RSA public key.
//!
//! Decryption is not an oracle (RFC 3218 §2.3.2, "implicit rejection"): whoever can send
//! us an EnvelopedData (an AUCH challenge, a file) learns nothing from whether the PKCS#1
//! padding was valid. [`KeyDecryptor::decrypt`] draws a random key of the expected length
//! before decrypting and returns it, selected in constant time, when the padding is bad or
//! the decrypted key has the wrong length; the content decryption that follows then fails
//! (or yields garbage) exactly as it would with a well-formed key that is not the sender's.

use aws_lc_rs::rsa::{
    Pkcs1PrivateDecryptingKey, Pkcs1PublicEncryptingKey, PrivateDecryptingKey, PublicEncryptingKey,
};
use zeroize::Zeroizing;

use super::identity::{Certificate, PrivateKey};
use super::suite::RSA_ENCRYPTION;
use super::SecurityError;

/// Encrypts `content_key` to the RSA public key of `recipient` (the KeyTransRecipientInfo
/// `encryptedKey`).
pub fn encrypt_key(recipient: &Certificate, content_key: &[u8]) -> Result<Vec<u8>, SecurityError> {
    let spki = &recipient.x509().tbs_certificate.subject_public_key_info;
    let problem = |problem: &str| SecurityError::Certificate {
        subject: recipient.subject(),
        problem: problem.to_owned(),
    };
    if spki.algorithm.oid != RSA_ENCRYPTION {
        return Err(problem(&format!("the public key is {}, not RSA", spki.algorithm.oid)));
    }
    let public = PublicEncryptingKey::from_der(&recipient.subject_public_key_info_der()?)
        .map_err(|e| problem(&format!("the RSA public key is not usable: {e}")))?;
    let key = Pkcs1PublicEncryptingKey::new(public)
        .map_err(|_| problem("the RSA public key is not usable"))?;
    let mut out = vec![0u8; key.ciphertext_size()];
    let written = key
        .encrypt(content_key, &mut out)
        .map_err(|_| SecurityError::Crypto("RSA PKCS#1 v1.5 encryption failed"))?
        .len();
    out.truncate(written);
    Ok(out)
}

/// Our RSA private key, ready to decrypt KeyTransRecipientInfo `encryptedKey`s.
pub struct KeyDecryptor {
    key: Pkcs1PrivateDecryptingKey,
}

impl KeyDecryptor {
    /// Reads our private key.
    pub fn new(key: &PrivateKey) -> Result<Self, SecurityError> {
        let private = PrivateDecryptingKey::from_pkcs8(key.pkcs8_der())
            .map_err(|e| SecurityError::Key(format!("not a usable RSA key: {e}")))?;
        let key = Pkcs1PrivateDecryptingKey::new(private)
            .map_err(|_| SecurityError::Key("not a usable RSA key".to_owned()))?;
        Ok(KeyDecryptor { key })
    }

    /// Decrypts an `encryptedKey` to a content-encryption key of `key_len` octets. Never
    /// says whether decryption worked: on any failure (bad padding, wrong ciphertext
    /// length, a key of another length) the answer is a random key of `key_len` octets.
    /// The only error is a failing random generator.
    pub fn decrypt(
        &self,
        encrypted_key: &[u8],
        key_len: usize,
    ) -> Result<Zeroizing<Vec<u8>>, SecurityError> {
        let mut substitute = Zeroizing::new(vec![0u8; key_len]);
        aws_lc_rs::rand::fill(&mut substitute)
            .map_err(|_| SecurityError::Crypto("random generator failed"))?;
        let mut buf = Zeroizing::new(vec![0u8; self.key.min_output_size().max(key_len)]);
        let decrypted_len = match self.key.decrypt(encrypted_key, &mut buf) {
            Ok(plain) => plain.len(),
            Err(_) => usize::MAX,
        };
        // 0xFF when the decryption gave exactly key_len octets, else 0x00, without a branch.
        let diff = (decrypted_len ^ key_len) as u64;
        let nonzero = ((diff | diff.wrapping_neg()) >> 63) as u8;
        let mask = std::hint::black_box(nonzero.wrapping_sub(1));
        let mut out = Zeroizing::new(vec![0u8; key_len]);
        for ((o, d), s) in out.iter_mut().zip(buf.iter()).zip(substitute.iter()) {
            *o = (d & mask) | (s & !mask);
        }
        Ok(out)
    }

    /// The RSA modulus length in octets (the length of every `encryptedKey` to this key).
    pub fn key_size_bytes(&self) -> usize {
        self.key.key_size_bytes()
    }
}

impl std::fmt::Debug for KeyDecryptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyDecryptor(..)")
    }
}

/// [`KeyDecryptor::decrypt`] with a key read for this one use.
pub fn decrypt_key(
    own: &PrivateKey,
    encrypted_key: &[u8],
    key_len: usize,
) -> Result<Zeroizing<Vec<u8>>, SecurityError> {
    KeyDecryptor::new(own)?.decrypt(encrypted_key, key_len)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use aws_lc_rs::encoding::AsDer;
    use aws_lc_rs::rsa::KeySize;

    use super::*;

    fn keys() -> (PrivateKey, Pkcs1PublicEncryptingKey) {
        let private = PrivateDecryptingKey::generate(KeySize::Rsa2048).unwrap();
        let public = Pkcs1PublicEncryptingKey::new(private.public_key()).unwrap();
        let pkcs8 = private.as_der().unwrap();
        (PrivateKey::from_pkcs8_der(pkcs8.as_ref()).unwrap(), public)
    }

    fn encrypt(public: &Pkcs1PublicEncryptingKey, plain: &[u8]) -> Vec<u8> {
        let mut out = vec![0u8; public.ciphertext_size()];
        public.encrypt(plain, &mut out).unwrap().to_vec()
    }

    #[test]
    fn recovers_the_key_or_answers_random_keys_of_the_right_length() {
        let (private, public) = keys();
        let decryptor = KeyDecryptor::new(&private).unwrap();
        assert_eq!(decryptor.key_size_bytes(), 256);
        let key = [0x5Au8; 32];
        let encrypted = encrypt(&public, &key);
        assert_eq!(&decryptor.decrypt(&encrypted, 32).unwrap()[..], &key[..]);
        assert_eq!(&decrypt_key(&private, &encrypted, 32).unwrap()[..], &key[..]);

        // A well-formed key of another length than the algorithm's: random substitutes.
        let a = decryptor.decrypt(&encrypted, 24).unwrap();
        let b = decryptor.decrypt(&encrypted, 24).unwrap();
        assert_eq!(a.len(), 24);
        assert_ne!(a, b);
        assert_ne!(&a[..], &key[..24]);

        // Bad padding (the ciphertext altered), a short ciphertext, nothing at all.
        let mut altered = encrypted.clone();
        altered[100] ^= 1;
        for bad in [altered, encrypted[1..].to_vec(), Vec::new(), vec![0xFF; 256]] {
            let a = decryptor.decrypt(&bad, 32).unwrap();
            let b = decryptor.decrypt(&bad, 32).unwrap();
            assert_eq!(a.len(), 32);
            assert_ne!(a, b, "a fresh substitute each time");
            assert_ne!(&a[..], &key[..]);
        }
    }
}
