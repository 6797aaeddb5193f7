//! CMS EnvelopedData (RFC 5652 §6; RFC 5024 §6.3 "encrypt"): content encrypted with a fresh
//! AES-256-CBC or 3DES-EDE-CBC key, the key transported to the recipient with RSA PKCS#1
//! v1.5 in a KeyTransRecipientInfo naming the recipient certificate's
//! issuerAndSerialNumber.
//!
//! ```text
//! ContentInfo ::= SEQUENCE { contentType id-envelopedData, content [0] EXPLICIT EnvelopedData }
//! EnvelopedData ::= SEQUENCE {
//!   version CMSVersion,                       -- 0 here
//!   originatorInfo [0] IMPLICIT OriginatorInfo OPTIONAL,
//!   recipientInfos RecipientInfos,            -- SET OF RecipientInfo
//!   encryptedContentInfo EncryptedContentInfo,
//!   unprotectedAttrs [1] IMPLICIT UnprotectedAttributes OPTIONAL }
//! EncryptedContentInfo ::= SEQUENCE {
//!   contentType ContentType,
//!   contentEncryptionAlgorithm ContentEncryptionAlgorithmIdentifier,  -- OID, IV
//!   encryptedContent [0] IMPLICIT EncryptedContent OPTIONAL }
//! ```
//!
//! [`EnvelopedWriter`] streams: it writes BER with indefinite lengths and the
//! `encryptedContent` as a constructed OCTET STRING of chunks, as `openssl cms -encrypt
//! -stream` does. [`EnvelopedReader`] reads DER or BER (definite or indefinite lengths,
//! primitive or constructed `encryptedContent`), with or without the ContentInfo around
//! the EnvelopedData, and yields the plaintext with bounded memory. [`envelop`] and [`open`]
//! do the same in memory for small messages (DER out).
//!
//! Decryption failures say nothing more than [`SecurityError::Decryption`]: no
//! RecipientInfo for our certificate, a wrong key (the RSA step never fails visibly, see
//! [`key_transport`](super::key_transport)), bad padding.

use std::io::{self, Read, Write};

use der::asn1::{ObjectIdentifier, OctetString};
use der::Encode;
use oftp2_codec::fields::CipherSuite;
use spki::AlgorithmIdentifierOwned;

use super::asn1::{encode_tlv, OctetStringReader, OctetStringWriter, Reader, Tag, Writer};
use super::cipher::{generate_iv, generate_key, Decryptor, Encryptor};
use super::identity::{Certificate, Identity};
use super::key_transport::{encrypt_key, KeyDecryptor};
use super::suite::{ContentEncryption, Suite, ID_ENVELOPED_DATA, RSA_ENCRYPTION};
use super::SecurityError;

/// The size of the chunks of `encryptedContent` written.
const CHUNK: usize = 16 * 1024;
/// The largest RecipientInfo read (an RSA-16384 encryptedKey and a long issuer name fit).
const MAX_RECIPIENT_INFO: usize = 16 * 1024;
/// The largest ContentEncryptionAlgorithmIdentifier read.
const MAX_ALGORITHM_IDENTIFIER: usize = 1024;
/// The most RecipientInfos looked at.
const MAX_RECIPIENT_INFOS: usize = 1024;

/// The parts of an EnvelopedData header that do not depend on the content.
struct Header {
    recipient_infos: Vec<u8>,
    algorithm: Vec<u8>,
    encryptor: Encryptor,
}

fn header(recipient: &Certificate, suite: CipherSuite) -> Result<Header, SecurityError> {
    let alg = Suite::from_code(suite)?.content_encryption;
    let key = generate_key(alg)?;
    let iv = generate_iv(alg)?;
    let encrypted_key = encrypt_key(recipient, &key)?;
    let issuer_and_serial =
        recipient.issuer_and_serial().to_der().map_err(|e| SecurityError::Malformed {
            structure: "IssuerAndSerialNumber",
            offset: 0,
            what: e.to_string(),
        })?;
    // KeyTransRecipientInfo ::= SEQUENCE { version 0, rid IssuerAndSerialNumber,
    //   keyEncryptionAlgorithm { rsaEncryption, NULL }, encryptedKey OCTET STRING }
    let mut ktri = encode_tlv(Tag::INTEGER, &[0]);
    ktri.extend_from_slice(&issuer_and_serial);
    let mut key_alg = encode_tlv(Tag::OID, RSA_ENCRYPTION.as_bytes());
    key_alg.extend_from_slice(&encode_tlv(Tag::NULL, &[]));
    ktri.extend_from_slice(&encode_tlv(Tag::SEQUENCE, &key_alg));
    ktri.extend_from_slice(&encode_tlv(Tag::OCTET_STRING, &encrypted_key));
    let recipient_infos = encode_tlv(Tag::SET, &encode_tlv(Tag::SEQUENCE, &ktri));
    let mut algorithm = encode_tlv(Tag::OID, alg.oid().as_bytes());
    algorithm.extend_from_slice(&encode_tlv(Tag::OCTET_STRING, &iv));
    let algorithm = encode_tlv(Tag::SEQUENCE, &algorithm);
    Ok(Header { recipient_infos, algorithm, encryptor: Encryptor::new(alg, &key, &iv)? })
}

/// Writes an EnvelopedData, encrypting what is written to it. Call
/// [`EnvelopedWriter::finish`] at the end: it pads the last block and closes the
/// structure; dropping the writer leaves the output incomplete.
#[derive(Debug)]
pub struct EnvelopedWriter<W: Write> {
    content: OctetStringWriter<W>,
    encryptor: Encryptor,
    buf: Vec<u8>,
    wrapped: bool,
}

impl<W: Write> EnvelopedWriter<W> {
    /// Starts a ContentInfo holding an EnvelopedData for `recipient`, with the content
    /// encryption of `suite` (01-06) and `content_type` as the encrypted content's type
    /// (id-data, or id-ct-compressedData / id-signedData when nesting).
    pub fn new(
        out: W,
        recipient: &Certificate,
        suite: CipherSuite,
        content_type: ObjectIdentifier,
    ) -> Result<Self, SecurityError> {
        Self::with_wrapping(out, recipient, suite, content_type, true)
    }

    /// [`EnvelopedWriter::new`] without the ContentInfo around the EnvelopedData (when
    /// `wrapped` is false).
    pub fn with_wrapping(
        out: W,
        recipient: &Certificate,
        suite: CipherSuite,
        content_type: ObjectIdentifier,
        wrapped: bool,
    ) -> Result<Self, SecurityError> {
        let header = header(recipient, suite)?;
        let mut w = Writer::new(out);
        w.start_content_info(&ID_ENVELOPED_DATA, wrapped)?;
        w.tlv(Tag::INTEGER, &[0])?;
        w.raw(&header.recipient_infos)?;
        w.indefinite(Tag::SEQUENCE)?;
        w.tlv(Tag::OID, content_type.as_bytes())?;
        w.raw(&header.algorithm)?;
        let content = OctetStringWriter::new(w, Tag::context(0, true), CHUNK)?;
        Ok(EnvelopedWriter { content, encryptor: header.encryptor, buf: Vec::new(), wrapped })
    }

    /// Encrypts the last block and closes the EnvelopedData (and ContentInfo); gives back
    /// the output.
    pub fn finish(mut self) -> Result<W, SecurityError> {
        self.buf.clear();
        self.encryptor.finish(&mut self.buf)?;
        self.content.write_all(&self.buf)?;
        let mut w = self.content.finish()?;
        w.eoc()?; // EncryptedContentInfo
        w.end_content_info(self.wrapped)?;
        w.flush()?;
        Ok(w.into_inner())
    }
}

impl<W: Write> Write for EnvelopedWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        for piece in data.chunks(CHUNK) {
            self.buf.clear();
            self.encryptor.update(piece, &mut self.buf)?;
            self.content.write_all(&self.buf)?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.content.flush()
    }
}

/// Where the reader is.
#[derive(Debug)]
enum Source<R> {
    /// Reading `encryptedContent`.
    Content(OctetStringReader<R>),
    /// The whole structure has been read and checked.
    Done(Reader<R>),
    /// An error happened; nothing more can be read.
    Failed,
}

/// Reads an EnvelopedData addressed to us and yields the decrypted content. At the end of
/// the content it checks the rest of the structure and that nothing follows it.
#[derive(Debug)]
pub struct EnvelopedReader<R: Read> {
    source: Source<R>,
    decryptor: Option<Decryptor>,
    content_type: ObjectIdentifier,
    content_encryption: ContentEncryption,
    wrapped: bool,
    inbuf: Vec<u8>,
    out: Vec<u8>,
    out_pos: usize,
}

impl<R: Read> EnvelopedReader<R> {
    /// Reads the header of an EnvelopedData (in a ContentInfo or bare) up to its
    /// `encryptedContent`: picks the KeyTransRecipientInfo naming our certificate (by
    /// issuerAndSerialNumber or subjectKeyIdentifier) and recovers the content key.
    pub fn new(input: R, own: &Identity) -> Result<Self, SecurityError> {
        let mut r = Reader::new(input, "EnvelopedData");
        let wrapped = r.enter_content_info(&ID_ENVELOPED_DATA)?;
        let version: u8 = r.decode(16)?;
        if version > 4 {
            return Err(SecurityError::Unsupported {
                what: "EnvelopedData version",
                found: version.to_string(),
            });
        }
        if r.peek_header()?.map(|h| h.tag) == Some(Tag::context(0, true)) {
            r.skip_element()?; // originatorInfo
        }
        let encrypted_key = recipient_key(&mut r, &own.certificate)?;
        let eci = r.expect(Tag::SEQUENCE)?;
        r.enter(&eci)?;
        r.set_structure("EncryptedContentInfo");
        let content_type: ObjectIdentifier = r.decode(128)?;
        let alg_offset = r.offset();
        let alg: AlgorithmIdentifierOwned = r.decode(MAX_ALGORITHM_IDENTIFIER)?;
        let content_encryption = ContentEncryption::from_oid(&alg.oid)?;
        let iv =
            alg.parameters.as_ref().and_then(|p| p.decode_as::<OctetString>().ok()).ok_or_else(
                || r.malformed(alg_offset, "the IV parameter is not an OCTET STRING"),
            )?;
        let Some(encrypted_key) = encrypted_key else {
            tracing::debug!("EnvelopedData: no KeyTransRecipientInfo for our certificate");
            return Err(SecurityError::Decryption);
        };
        let key =
            KeyDecryptor::new(&own.key)?.decrypt(&encrypted_key, content_encryption.key_len())?;
        let decryptor =
            Decryptor::new(content_encryption, &key, iv.as_bytes()).map_err(|e| match e {
                SecurityError::Malformed { what, .. } => r.malformed(alg_offset, what),
                other => other,
            })?;
        if r.at_end()? {
            return Err(SecurityError::Unsupported {
                what: "EnvelopedData",
                found: "detached content (no encryptedContent)".to_owned(),
            });
        }
        let content = r.expect_type(Tag::context(0, false))?;
        let source = Source::Content(r.into_octet_string(&content)?);
        Ok(EnvelopedReader {
            source,
            decryptor: Some(decryptor),
            content_type,
            content_encryption,
            wrapped,
            inbuf: vec![0u8; CHUNK],
            out: Vec::with_capacity(CHUNK + 16),
            out_pos: 0,
        })
    }

    /// The encrypted content's type (EncryptedContentInfo `contentType`).
    pub fn content_type(&self) -> &ObjectIdentifier {
        &self.content_type
    }

    /// The content-encryption algorithm.
    pub fn content_encryption(&self) -> ContentEncryption {
        self.content_encryption
    }

    /// Decrypts the next piece of content into `self.out`; false at the end.
    fn refill(&mut self) -> Result<bool, SecurityError> {
        self.out.clear();
        self.out_pos = 0;
        let Source::Content(content) = &mut self.source else {
            return Ok(false);
        };
        let n = content.read_content(&mut self.inbuf)?;
        if n > 0 {
            let decryptor = self.decryptor.as_mut().ok_or(SecurityError::Decryption)?;
            decryptor.update(self.inbuf.get(..n).unwrap_or_default(), &mut self.out)?;
            return Ok(true);
        }
        self.decryptor.take().ok_or(SecurityError::Decryption)?.finish(&mut self.out)?;
        let Source::Content(content) = std::mem::replace(&mut self.source, Source::Failed) else {
            return Ok(false);
        };
        let mut r = content.into_reader()?;
        r.leave()?; // EncryptedContentInfo
        r.set_structure("EnvelopedData");
        while !r.at_end()? {
            let h = r.expect_type(Tag::context(1, true))?; // unprotectedAttrs
            r.skip_content(&h)?;
        }
        r.leave()?;
        r.leave_content_info(self.wrapped)?;
        r.expect_eof()?;
        self.source = Source::Done(r);
        Ok(true)
    }

    fn read_plain(&mut self, buf: &mut [u8]) -> Result<usize, SecurityError> {
        loop {
            let pending = self.out.get(self.out_pos..).unwrap_or_default();
            if !pending.is_empty() || buf.is_empty() {
                let n = pending.len().min(buf.len());
                buf.get_mut(..n)
                    .unwrap_or_default()
                    .copy_from_slice(pending.get(..n).unwrap_or_default());
                self.out_pos += n;
                return Ok(n);
            }
            if let Source::Failed = self.source {
                return Err(SecurityError::Decryption);
            }
            match self.refill() {
                Ok(true) => {}
                Ok(false) => return Ok(0),
                Err(e) => {
                    self.source = Source::Failed;
                    return Err(e);
                }
            }
        }
    }

    /// Reads (and discards) any content not read yet, checks the end of the structure, and
    /// gives back the input.
    pub fn finish(mut self) -> Result<R, SecurityError> {
        let mut scratch = vec![0u8; CHUNK];
        while self.read_plain(&mut scratch)? > 0 {}
        match self.source {
            Source::Done(r) => Ok(r.into_inner()),
            _ => Err(SecurityError::Decryption),
        }
    }
}

impl<R: Read> Read for EnvelopedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.read_plain(buf).map_err(io::Error::from)
    }
}

/// Reads the RecipientInfos SET and returns the encryptedKey of the KeyTransRecipientInfo
/// that names `own` (the first one, if several do).
fn recipient_key<R: Read>(
    r: &mut Reader<R>,
    own: &Certificate,
) -> Result<Option<Vec<u8>>, SecurityError> {
    let set = r.expect(Tag::SET)?;
    r.enter(&set)?;
    r.set_structure("RecipientInfo");
    let mut found = None;
    let mut count = 0;
    while !r.at_end()? {
        count += 1;
        if count > MAX_RECIPIENT_INFOS {
            return Err(SecurityError::TooLarge {
                structure: "RecipientInfos",
                limit: MAX_RECIPIENT_INFOS,
            });
        }
        let h = r.read_header()?;
        if h.tag != Tag::SEQUENCE || found.is_some() {
            // kari [1], kekri [2], pwri [3], ori [4]: not for us.
            r.skip_content(&h)?;
            continue;
        }
        let der = r.read_element_from(&h, MAX_RECIPIENT_INFO)?;
        let ktri = <cms::enveloped_data::KeyTransRecipientInfo as der::Decode>::from_der(&der)
            .map_err(|e| r.malformed(h.offset, format!("KeyTransRecipientInfo: {e}")))?;
        if !own.matches_recipient(&ktri.rid) {
            continue;
        }
        if ktri.key_enc_alg.oid != RSA_ENCRYPTION {
            return Err(SecurityError::Unsupported {
                what: "key-encryption algorithm",
                found: ktri.key_enc_alg.oid.to_string(),
            });
        }
        found = Some(ktri.enc_key.into_bytes());
    }
    r.leave()?;
    r.set_structure("EnvelopedData");
    Ok(found)
}

/// Encrypts `content` to `recipient` in memory: a ContentInfo holding an EnvelopedData,
/// in DER.
pub fn envelop(
    content: &[u8],
    recipient: &Certificate,
    suite: CipherSuite,
    content_type: ObjectIdentifier,
) -> Result<Vec<u8>, SecurityError> {
    let mut header = header(recipient, suite)?;
    let mut ciphertext = Vec::with_capacity(content.len() + 16);
    header.encryptor.update(content, &mut ciphertext)?;
    header.encryptor.finish(&mut ciphertext)?;
    let mut eci = encode_tlv(Tag::OID, content_type.as_bytes());
    eci.extend_from_slice(&header.algorithm);
    eci.extend_from_slice(&encode_tlv(Tag::context(0, false), &ciphertext));
    let mut enveloped = encode_tlv(Tag::INTEGER, &[0]);
    enveloped.extend_from_slice(&header.recipient_infos);
    enveloped.extend_from_slice(&encode_tlv(Tag::SEQUENCE, &eci));
    let mut info = encode_tlv(Tag::OID, ID_ENVELOPED_DATA.as_bytes());
    info.extend_from_slice(&encode_tlv(
        Tag::context(0, true),
        &encode_tlv(Tag::SEQUENCE, &enveloped),
    ));
    Ok(encode_tlv(Tag::SEQUENCE, &info))
}

/// Decrypts an EnvelopedData held in memory: the content type and the content.
pub fn open(input: &[u8], own: &Identity) -> Result<(ObjectIdentifier, Vec<u8>), SecurityError> {
    let mut reader = EnvelopedReader::new(input, own)?;
    let mut content = Vec::with_capacity(input.len());
    reader.read_to_end(&mut content)?;
    let content_type = *reader.content_type();
    reader.finish()?;
    Ok((content_type, content))
}
