//! The RSA key structures of PKCS#1 (RFC 8017 Appendix A.1: `RSAPublicKey`,
//! `RSAPrivateKey`) and PKCS#8 (RFC 5208 `PrivateKeyInfo`), read just far enough to size a
//! key, to tell whether a private key belongs to a certificate, and to wrap a PKCS#1 key
//! in PKCS#8.

use const_oid::db::rfc5912::RSA_ENCRYPTION;
use der::asn1::{OctetStringRef, UintRef};
use der::{Decode, Encode, Header, Length, Reader, SliceReader, Tag};
use spki::AlgorithmIdentifierRef;
use zeroize::Zeroizing;

use crate::security::SecurityError;

/// The public half of an RSA key: modulus and public exponent, big-endian without leading
/// zeros.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct RsaPublic {
    pub(crate) modulus: Vec<u8>,
    pub(crate) exponent: Vec<u8>,
}

impl RsaPublic {
    /// The modulus size in bits.
    pub(crate) fn bits(&self) -> usize {
        match self.modulus.first() {
            Some(&top) => self.modulus.len() * 8 - top.leading_zeros() as usize,
            None => 0,
        }
    }
}

fn malformed(structure: &'static str, e: der::Error) -> SecurityError {
    SecurityError::Malformed {
        structure,
        offset: e.position().map(|p| u64::from(u32::from(p))).unwrap_or(0),
        what: e.to_string(),
    }
}

/// Reads a PKCS#1 `RSAPublicKey` (the subjectPublicKey BIT STRING of an RSA certificate).
pub(crate) fn parse_public(der: &[u8]) -> Result<RsaPublic, SecurityError> {
    let parse = || -> der::Result<RsaPublic> {
        let mut r = SliceReader::new(der)?;
        let key = r.sequence(|r| {
            let n = UintRef::decode(r)?;
            let e = UintRef::decode(r)?;
            Ok(RsaPublic { modulus: n.as_bytes().to_vec(), exponent: e.as_bytes().to_vec() })
        })?;
        r.finish(key)
    };
    parse().map_err(|e| malformed("RSAPublicKey", e))
}

/// Reads the modulus and public exponent out of a PKCS#1 `RSAPrivateKey`.
pub(crate) fn public_of_pkcs1(der: &[u8]) -> Result<RsaPublic, SecurityError> {
    let parse = || -> der::Result<RsaPublic> {
        let mut r = SliceReader::new(der)?;
        let key = r.sequence(|r| {
            let _version = UintRef::decode(r)?;
            let n = UintRef::decode(r)?;
            let e = UintRef::decode(r)?;
            // privateExponent, primes, exponents, coefficient, otherPrimeInfos: not needed.
            let rest = r.remaining_len();
            r.read_slice(rest)?;
            Ok(RsaPublic { modulus: n.as_bytes().to_vec(), exponent: e.as_bytes().to_vec() })
        })?;
        r.finish(key)
    };
    parse().map_err(|e| malformed("RSAPrivateKey", e))
}

/// Reads a PKCS#8 `PrivateKeyInfo`, checks that it holds an RSA key (`rsaEncryption`) and
/// returns the public half.
pub(crate) fn public_of_pkcs8(der: &[u8]) -> Result<RsaPublic, SecurityError> {
    public_of_pkcs1(pkcs1_of_pkcs8(der)?)
}

/// The PKCS#1 `RSAPrivateKey` inside a PKCS#8 `PrivateKeyInfo`, whose algorithm must be
/// rsaEncryption.
pub(crate) fn pkcs1_of_pkcs8(der: &[u8]) -> Result<&[u8], SecurityError> {
    let parse = || -> der::Result<(spki::ObjectIdentifier, &[u8])> {
        let mut r = SliceReader::new(der)?;
        let out = r.sequence(|r| {
            let _version = UintRef::decode(r)?;
            let algorithm = AlgorithmIdentifierRef::decode(r)?;
            let key = OctetStringRef::decode(r)?;
            // [0] attributes, [1] publicKey (PKCS#8 v2): not needed.
            let rest = r.remaining_len();
            r.read_slice(rest)?;
            Ok((algorithm.oid, key.as_bytes()))
        })?;
        r.finish(out)
    };
    let (oid, pkcs1) = parse().map_err(|e| malformed("PrivateKeyInfo", e))?;
    if oid != RSA_ENCRYPTION {
        return Err(SecurityError::Key(format!(
            "the private key is not an RSA key (algorithm {oid}); OFTP2 uses RSA only"
        )));
    }
    Ok(pkcs1)
}

/// Wraps a PKCS#1 `RSAPrivateKey` in a PKCS#8 `PrivateKeyInfo` (version 0, `rsaEncryption`
/// with NULL parameters).
pub(crate) fn pkcs1_to_pkcs8(pkcs1: &[u8]) -> Result<Zeroizing<Vec<u8>>, SecurityError> {
    let encode = || -> der::Result<Zeroizing<Vec<u8>>> {
        let algorithm = AlgorithmIdentifierRef {
            oid: RSA_ENCRYPTION,
            parameters: Some(der::asn1::AnyRef::NULL),
        };
        let mut body = Zeroizing::new(Vec::with_capacity(pkcs1.len() + 32));
        0u8.encode_to_vec(&mut body)?;
        algorithm.encode_to_vec(&mut body)?;
        OctetStringRef::new(pkcs1)?.encode_to_vec(&mut body)?;
        // The SEQUENCE header, then the body: no intermediate copy of the key outside
        // zeroizing buffers.
        let mut out = Zeroizing::new(Vec::with_capacity(body.len() + 8));
        Header::new(Tag::Sequence, Length::try_from(body.len())?)?.encode_to_vec(&mut out)?;
        out.extend_from_slice(&body);
        Ok(out)
    };
    encode().map_err(|e| malformed("PrivateKeyInfo", e))
}
