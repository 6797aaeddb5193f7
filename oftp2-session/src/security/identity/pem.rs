//! PEM blocks (RFC 7468 textual encoding) in files that may hold other text around them,
//! as certificate bundles and `openssl x509 -text` output do.

use zeroize::Zeroizing;

use crate::security::SecurityError;

/// The largest certificate, key or PKCS#12 file read into memory (a bundle of a few hundred
/// certificates fits easily).
pub(crate) const MAX_FILE_SIZE: usize = 4 * 1024 * 1024;

/// One `-----BEGIN <label>-----` ... `-----END <label>-----` block, decoded.
pub(crate) struct PemBlock {
    /// The label (`CERTIFICATE`, `PRIVATE KEY`, `RSA PRIVATE KEY`, ...).
    pub(crate) label: String,
    /// The decoded DER; wiped when dropped, as it may be a private key.
    pub(crate) der: Zeroizing<Vec<u8>>,
    /// The offset of the block's `-----BEGIN` in the input.
    pub(crate) offset: u64,
}

const BEGIN: &[u8] = b"-----BEGIN ";
const DASHES: &[u8] = b"-----";

/// Whether the input looks like PEM text (holds a `-----BEGIN ` boundary).
pub(crate) fn is_pem(input: &[u8]) -> bool {
    find(input, BEGIN).is_some()
}

/// Every PEM block in `input`, in order. Text outside the blocks is ignored. `structure`
/// names what is being read, for errors.
pub(crate) fn blocks(
    input: &[u8],
    structure: &'static str,
) -> Result<Vec<PemBlock>, SecurityError> {
    if input.len() > MAX_FILE_SIZE {
        return Err(SecurityError::TooLarge { structure, limit: MAX_FILE_SIZE });
    }
    let mut out = Vec::new();
    let mut pos = 0usize;
    while let Some(start) = input.get(pos..).and_then(|rest| find(rest, BEGIN)).map(|i| i + pos) {
        let malformed = |what: String| SecurityError::Malformed {
            structure,
            offset: u64::try_from(start).unwrap_or(u64::MAX),
            what,
        };
        let label_start = start + BEGIN.len();
        let after_label = input.get(label_start..).unwrap_or_default();
        let label_len = find(after_label, DASHES)
            .ok_or_else(|| malformed("a -----BEGIN line without its closing -----".into()))?;
        let label = after_label.get(..label_len).unwrap_or_default();
        if label.contains(&b'\n') || !label.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
            return Err(malformed("a -----BEGIN line without its closing -----".into()));
        }
        let label = String::from_utf8_lossy(label).into_owned();
        let body_start = label_start + label_len + DASHES.len();
        let end_marker = format!("-----END {label}-----");
        let body_rest = input.get(body_start..).unwrap_or_default();
        let body_len = find(body_rest, end_marker.as_bytes())
            .ok_or_else(|| malformed(format!("no {end_marker} line")))?;
        let body = body_rest.get(..body_len).unwrap_or_default();
        let der = decode_body(body, &label).map_err(malformed)?;
        out.push(PemBlock { label, der, offset: u64::try_from(start).unwrap_or(u64::MAX) });
        pos = body_start + body_len + end_marker.len();
    }
    Ok(out)
}

/// Decodes the Base64 body of one block. Line widths other than 64 and CR LF line ends are
/// accepted; RFC 1421 headers (`Proc-Type`, `DEK-Info`) mean an encrypted key, refused.
fn decode_body(body: &[u8], label: &str) -> Result<Zeroizing<Vec<u8>>, String> {
    let mut base64 = Zeroizing::new(Vec::with_capacity(body.len()));
    for line in body.split(|b| *b == b'\n') {
        let line = line.trim_ascii();
        if line.contains(&b':') {
            if line.starts_with(b"Proc-Type:") && find(line, b"ENCRYPTED").is_some() {
                return Err(format!(
                    "the {label} is encrypted (OpenSSL's legacy PEM encryption, Proc-Type: 4,ENCRYPTED), \
                     which is not supported: convert it with `openssl pkcs12 -export` or store it unencrypted \
                     with restricted file permissions"
                ));
            }
            // Other RFC 1421 headers (DEK-Info, Comment) carry nothing we need.
            continue;
        }
        base64.extend(line.iter().copied().filter(|b| !b.is_ascii_whitespace()));
    }
    let der = Zeroizing::new(
        decode_base64(&base64).ok_or_else(|| format!("the {label} block is not valid Base64"))?,
    );
    if der.is_empty() {
        return Err(format!("the {label} block is empty"));
    }
    Ok(der)
}

/// Standard Base64 with `=` padding (RFC 4648 §4), the alphabet PEM uses.
fn decode_base64(text: &[u8]) -> Option<Vec<u8>> {
    let unpadded = text.strip_suffix(b"==").or_else(|| text.strip_suffix(b"=")).unwrap_or(text);
    if !text.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let mut acc = 0u32;
    let mut bits = 0u32;
    for &c in unpadded {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
    }
    // Leftover bits must be zero padding.
    if acc & ((1 << bits) - 1) != 0 {
        return None;
    }
    Some(out)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn base64_known_answers() {
        assert_eq!(decode_base64(b"").unwrap(), b"");
        assert_eq!(decode_base64(b"Zg==").unwrap(), b"f");
        assert_eq!(decode_base64(b"Zm8=").unwrap(), b"fo");
        assert_eq!(decode_base64(b"Zm9v").unwrap(), b"foo");
        assert_eq!(decode_base64(b"Zm9vYmFy").unwrap(), b"foobar");
        assert!(decode_base64(b"Zm9").is_none());
        assert!(decode_base64(b"Zh==").is_none(), "non-zero padding bits");
        assert!(decode_base64(b"Zm9*").is_none());
    }

    #[test]
    fn blocks_among_text_with_odd_line_widths() {
        let text = b"Bag Attributes\r\n-----BEGIN CERTIFICATE-----\r\nZm9v\r\nYmFy\r\n-----END CERTIFICATE-----\r\nnoise\n-----BEGIN X-----\nAQID\n-----END X-----\n";
        let blocks = blocks(text, "test").unwrap();
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0].label, "CERTIFICATE");
        assert_eq!(&blocks[0].der[..], b"foobar");
        assert_eq!(blocks[0].offset, 16);
        assert_eq!(blocks[1].label, "X");
        assert_eq!(&blocks[1].der[..], &[1, 2, 3]);
    }

    proptest::proptest! {
        #[test]
        fn any_input_is_read_without_panic(
            prefix in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64),
            body in "[A-Za-z0-9+/=: \r\n-]{0,200}",
        ) {
            let mut input = prefix;
            input.extend_from_slice(b"-----BEGIN CERTIFICATE-----\n");
            input.extend_from_slice(body.as_bytes());
            let _ = blocks(&input, "test");
            input.extend_from_slice(b"\n-----END CERTIFICATE-----\n");
            let _ = blocks(&input, "test");
        }
    }

    #[test]
    fn unterminated_and_encrypted_blocks_are_refused() {
        assert!(blocks(b"-----BEGIN CERTIFICATE-----\nZm9v\n", "test").is_err());
        assert!(blocks(b"-----BEGIN CERTIFICATE\nZm9v\n", "test").is_err());
        let enc = b"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00\n\nZm9v\n-----END RSA PRIVATE KEY-----\n";
        let err = blocks(enc, "test").err().unwrap().to_string();
        assert!(err.contains("encrypted"), "{err}");
    }
}
