//! CMS SignedData (RFC 5652 §5), as RFC 5024 §6.2 signs a file and §5.3.13/§5.3.14 sign a
//! receipt: the content encapsulated (eContentType id-data, or the inner type when nested),
//! one SignerInfo identified by issuerAndSerialNumber, with the signed attributes
//! contentType, messageDigest and signingTime (DER, SET OF sorted), RSA PKCS#1 v1.5 with the
//! cipher suite's digest, and the signer's certificates included unless told otherwise.
//!
//! [`SignedWriter`] streams the content out while digesting it and writes the SignerInfo at
//! [`SignedWriter::finish`]; it writes BER with indefinite lengths and a chunked
//! (constructed) OCTET STRING, as `openssl cms -sign -stream -nodetach` and Bouncy Castle's
//! streaming generators do. [`SignedReader`] parses up to the eContent, streams it to the
//! caller while digesting it, and at [`SignedReader::finish`] reads the certificates and
//! SignerInfos and verifies the signature by the expected partner certificate — the signer
//! must be that certificate, not any certificate the message carries. It reads DER and BER
//! (`openssl cms -sign` with or without `-stream`, Bouncy Castle), a ContentInfo or a bare
//! SignedData (as nested inside CompressedData or EnvelopedData). [`sign`] and [`verify`]
//! do the same in memory for small content (EERPSIG, NERPSIG), [`sign`] writing DER.
//!
//! Memory: the content streams; what is held is bounded by [`MAX_SIGNER_INFO`] per
//! SignerInfo, [`MAX_SIGNERS`] SignerInfos and [`MAX_DIGEST_ALGORITHMS`] digests.
//! Certificates and CRLs in the message are skipped without being held.

use std::io::{self, Read, Write};
use std::time::SystemTime;

use der::asn1::{AnyRef, GeneralizedTime, ObjectIdentifier, OctetStringRef, UtcTime};
use der::{Decode, Encode, Reader as _, SliceReader, Tagged};

use cms::signed_data::SignerIdentifier;

use super::asn1::{encode_tlv, OctetStringReader, OctetStringWriter, Reader, Tag, Writer};
use super::digest::Digest;
use super::identity::{Certificate, Identity, PrivateKey};
use super::signature;
use super::suite::{DigestAlgorithm, SignatureAlgorithm, ID_DATA, ID_SIGNED_DATA};
use super::SecurityError;

/// The most SignerInfos read from one SignedData.
pub const MAX_SIGNERS: usize = 16;
/// The largest SignerInfo read, in octets.
pub const MAX_SIGNER_INFO: usize = 64 * 1024;
/// The most digestAlgorithms read from one SignedData.
pub const MAX_DIGEST_ALGORITHMS: usize = 8;

/// The size of the OCTET STRING chunks [`SignedWriter`] writes.
const CHUNK: usize = 32 * 1024;

/// id-contentType (RFC 5652 §11.1).
const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
/// id-messageDigest (RFC 5652 §11.2).
const ID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
/// id-signingTime (RFC 5652 §11.3).
const ID_SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");

/// How to sign, beyond the signer and the digest.
#[derive(Clone, Debug)]
pub struct SignOptions {
    /// The eContentType: id-data for a file or a receipt, the inner type when the signed
    /// content is itself a CMS structure.
    pub content_type: ObjectIdentifier,
    /// Whether to include the signer's certificate and chain (`certificates`). RFC 5024
    /// §6.2 recommends leaving them out for partners who already have them; OpenSSL's
    /// `cms -verify` needs them unless given `-certfile`.
    pub include_certificates: bool,
    /// The signingTime attribute; `None` is the time of signing.
    pub signing_time: Option<SystemTime>,
}

impl Default for SignOptions {
    fn default() -> Self {
        Self { content_type: ID_DATA, include_certificates: true, signing_time: None }
    }
}

/// What a verified SignedData proved.
#[derive(Clone, Debug)]
pub struct Verified {
    /// The certificate whose key made the signature (the expected partner's).
    pub signer: Certificate,
    /// The SignerInfo's digestAlgorithm.
    pub digest_algorithm: DigestAlgorithm,
    /// The signingTime signed attribute, if there was one.
    pub signing_time: Option<SystemTime>,
    /// The eContentType.
    pub content_type: ObjectIdentifier,
    /// How many content octets were signed.
    pub content_octets: u64,
}

/// What a signer puts around the content: computed once from the identity and options.
struct Signer {
    key: PrivateKey,
    digest: DigestAlgorithm,
    content_type: ObjectIdentifier,
    signing_time: SystemTime,
    /// The DER of IssuerAndSerialNumber of the signer's certificate.
    sid: Vec<u8>,
    /// The DER of each certificate to include.
    certificates: Vec<Vec<u8>>,
}

impl Signer {
    fn new(
        identity: &Identity,
        digest: DigestAlgorithm,
        options: &SignOptions,
    ) -> Result<Self, SecurityError> {
        if !identity.key.matches(&identity.certificate) {
            return Err(SecurityError::Key(format!(
                "the private key is not the key of the signer's certificate {}",
                identity.certificate.subject()
            )));
        }
        let tbs = &identity.certificate.x509().tbs_certificate;
        let mut sid_content = to_der(&tbs.issuer, "Name")?;
        sid_content.extend(to_der(&tbs.serial_number, "CertificateSerialNumber")?);
        let certificates = if options.include_certificates {
            let mut all = vec![identity.certificate.der().to_vec()];
            all.extend(identity.chain.iter().map(|c| c.der().to_vec()));
            // DER: SET OF in the order of the encodings (X.690 §11.6).
            all.sort();
            all
        } else {
            Vec::new()
        };
        Ok(Self {
            key: identity.key.clone(),
            digest,
            content_type: options.content_type,
            signing_time: options.signing_time.unwrap_or_else(SystemTime::now),
            sid: encode_tlv(Tag::SEQUENCE, &sid_content),
            certificates,
        })
    }

    /// SignedData's `version` (RFC 5652 §5.1): 3 when eContentType is not id-data, else 1.
    fn version(&self) -> u8 {
        if self.content_type == ID_DATA {
            1
        } else {
            3
        }
    }

    /// The DER of `digestAlgorithms`.
    fn digest_algorithms(&self) -> Vec<u8> {
        encode_tlv(Tag::SET, &self.digest_algorithm())
    }

    /// The DER of the digest's AlgorithmIdentifier (parameters absent, RFC 5754 §2).
    fn digest_algorithm(&self) -> Vec<u8> {
        encode_tlv(Tag::SEQUENCE, &oid_tlv(&self.digest.oid()))
    }

    /// The DER of `[0] IMPLICIT CertificateSet`, if certificates are included.
    fn certificate_set(&self) -> Option<Vec<u8>> {
        (!self.certificates.is_empty())
            .then(|| encode_tlv(Tag::context(0, true), &self.certificates.concat()))
    }

    /// The DER of `SignerInfos` (a SET of our one SignerInfo) for content with this digest.
    fn signer_infos(&self, content_digest: &[u8]) -> Result<Vec<u8>, SecurityError> {
        let attributes = self.signed_attributes(content_digest)?;
        // The signature covers the attributes' DER with the SET OF tag (RFC 5652 §5.4).
        let signature =
            signature::sign(&self.key, self.digest, &encode_tlv(Tag::SET, &attributes))?;
        let mut signature_algorithm = oid_tlv(&SignatureAlgorithm::RsaPkcs1.oid());
        signature_algorithm.extend_from_slice(&[0x05, 0x00]);
        let signer_info = [
            encode_tlv(Tag::INTEGER, &[1]),
            self.sid.clone(),
            self.digest_algorithm(),
            encode_tlv(Tag::context(0, true), &attributes),
            encode_tlv(Tag::SEQUENCE, &signature_algorithm),
            encode_tlv(Tag::OCTET_STRING, &signature),
        ]
        .concat();
        Ok(encode_tlv(Tag::SET, &encode_tlv(Tag::SEQUENCE, &signer_info)))
    }

    /// The contents of the signedAttrs SET: contentType, messageDigest, signingTime, each
    /// an Attribute's DER, sorted (DER SET OF).
    fn signed_attributes(&self, content_digest: &[u8]) -> Result<Vec<u8>, SecurityError> {
        let time = match UtcTime::from_system_time(self.signing_time) {
            // UTCTime for 1950 to 2049, GeneralizedTime otherwise (RFC 5652 §11.3).
            Ok(utc) => to_der(&utc, "signingTime")?,
            Err(_) => to_der(
                &GeneralizedTime::from_system_time(self.signing_time).map_err(|e| {
                    SecurityError::Malformed {
                        structure: "signingTime",
                        offset: 0,
                        what: e.to_string(),
                    }
                })?,
                "signingTime",
            )?,
        };
        let attribute = |oid: ObjectIdentifier, value: Vec<u8>| {
            encode_tlv(Tag::SEQUENCE, &[oid_tlv(&oid), encode_tlv(Tag::SET, &value)].concat())
        };
        let mut attributes = [
            attribute(ID_CONTENT_TYPE, oid_tlv(&self.content_type)),
            attribute(ID_MESSAGE_DIGEST, encode_tlv(Tag::OCTET_STRING, content_digest)),
            attribute(ID_SIGNING_TIME, time),
        ];
        attributes.sort();
        Ok(attributes.concat())
    }
}

fn oid_tlv(oid: &ObjectIdentifier) -> Vec<u8> {
    encode_tlv(Tag::OID, oid.as_bytes())
}

fn to_der(value: &impl Encode, structure: &'static str) -> Result<Vec<u8>, SecurityError> {
    value.to_der().map_err(|e| SecurityError::Malformed {
        structure,
        offset: 0,
        what: e.to_string(),
    })
}

/// Signs `content` in memory and returns the DER ContentInfo of a SignedData holding it
/// (eContentType id-data, certificates included, signingTime now).
pub fn sign(
    content: &[u8],
    signer: &Identity,
    digest: DigestAlgorithm,
) -> Result<Vec<u8>, SecurityError> {
    sign_with(content, signer, digest, &SignOptions::default())
}

/// [`sign`] with explicit [`SignOptions`].
pub fn sign_with(
    content: &[u8],
    signer: &Identity,
    digest: DigestAlgorithm,
    options: &SignOptions,
) -> Result<Vec<u8>, SecurityError> {
    let signer = Signer::new(signer, digest, options)?;
    let encapsulated = encode_tlv(
        Tag::SEQUENCE,
        &[
            oid_tlv(&signer.content_type),
            encode_tlv(Tag::context(0, true), &encode_tlv(Tag::OCTET_STRING, content)),
        ]
        .concat(),
    );
    let signed_data = [
        encode_tlv(Tag::INTEGER, &[signer.version()]),
        signer.digest_algorithms(),
        encapsulated,
        signer.certificate_set().unwrap_or_default(),
        signer.signer_infos(&super::digest::digest(digest, content))?,
    ]
    .concat();
    Ok(encode_tlv(
        Tag::SEQUENCE,
        &[
            oid_tlv(&ID_SIGNED_DATA),
            encode_tlv(Tag::context(0, true), &encode_tlv(Tag::SEQUENCE, &signed_data)),
        ]
        .concat(),
    ))
}

/// Verifies a SignedData held in memory (DER or BER) against the partner's certificate and
/// returns its content and what was verified.
pub fn verify(cms: &[u8], partner: &Certificate) -> Result<(Vec<u8>, Verified), SecurityError> {
    let mut reader = SignedReader::new(cms)?;
    let mut content = Vec::new();
    reader.read_to_end(&mut content)?;
    let verified = reader.finish(partner)?;
    Ok((content, verified))
}

/// Writes a SignedData around content streamed through it (BER, indefinite lengths).
///
/// Write the content, then call [`SignedWriter::finish`]: dropping the writer without it
/// leaves an incomplete structure.
pub struct SignedWriter<W: Write> {
    content: OctetStringWriter<W>,
    digest: Digest,
    signer: Signer,
}

impl<W: Write> SignedWriter<W> {
    /// Starts a SignedData on `output`, signed by `signer` with `digest`, eContentType
    /// id-data, certificates included, signingTime now.
    pub fn new(
        output: W,
        signer: &Identity,
        digest: DigestAlgorithm,
    ) -> Result<Self, SecurityError> {
        Self::with_options(output, signer, digest, &SignOptions::default())
    }

    /// [`SignedWriter::new`] with explicit [`SignOptions`].
    pub fn with_options(
        output: W,
        signer: &Identity,
        digest: DigestAlgorithm,
        options: &SignOptions,
    ) -> Result<Self, SecurityError> {
        let signer = Signer::new(signer, digest, options)?;
        let mut w = Writer::new(output);
        w.start_content_info(&ID_SIGNED_DATA, true)?;
        w.tlv(Tag::INTEGER, &[signer.version()])?;
        w.raw(&signer.digest_algorithms())?;
        w.indefinite(Tag::SEQUENCE)?; // EncapsulatedContentInfo
        w.raw(&oid_tlv(&signer.content_type))?;
        w.indefinite(Tag::context(0, true))?;
        let content = OctetStringWriter::new(w, Tag::OCTET_STRING.constructed(), CHUNK)?;
        Ok(Self { content, digest: Digest::new(digest), signer })
    }

    /// Closes the content, signs it, writes certificates and SignerInfos, and gives back
    /// the output.
    pub fn finish(self) -> Result<W, SecurityError> {
        let mut w = self.content.finish()?;
        w.eoc()?; // [0] eContent
        w.eoc()?; // EncapsulatedContentInfo
        if let Some(certificates) = self.signer.certificate_set() {
            w.raw(&certificates)?;
        }
        w.raw(&self.signer.signer_infos(&self.digest.finish())?)?;
        w.end_content_info(true)?;
        w.flush()?;
        Ok(w.into_inner())
    }
}

impl<W: Write> Write for SignedWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.content.write(buf)?;
        self.digest.update(buf.get(..n).unwrap_or(buf));
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.content.flush()
    }
}

impl<W: Write> std::fmt::Debug for SignedWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedWriter").field("digest", &self.signer.digest).finish_non_exhaustive()
    }
}

enum State<R> {
    /// Streaming the eContent.
    Content(OctetStringReader<R>),
    /// After the EncapsulatedContentInfo.
    After(Reader<R>),
    /// An error was returned; nothing more can be read.
    Failed,
}

/// Reads a SignedData, streaming its encapsulated content, and verifies it at
/// [`SignedReader::finish`]. The content read is unverified until `finish` returns `Ok`.
pub struct SignedReader<R: Read> {
    state: State<R>,
    /// Whether the input is a ContentInfo (else a bare SignedData).
    wrapped: bool,
    content_type: ObjectIdentifier,
    digests: Vec<Digest>,
    content_octets: u64,
}

impl<R: Read> SignedReader<R> {
    /// Reads a ContentInfo holding a SignedData, or a bare SignedData, up to the first
    /// octet of its encapsulated content.
    pub fn new(input: R) -> Result<Self, SecurityError> {
        let mut r = Reader::new(input, "SignedData");
        let wrapped = r.enter_content_info(&ID_SIGNED_DATA)?;
        let at = r.offset();
        let version: u8 = r.decode(16)?;
        if !matches!(version, 1 | 3 | 4 | 5) {
            return Err(
                r.malformed(at, format!("SignedData version {version} is not 1, 3, 4 or 5"))
            );
        }
        let digests = read_digest_algorithms(&mut r)?;
        let encapsulated = r.expect(Tag::SEQUENCE)?;
        r.enter(&encapsulated)?;
        let content_type: ObjectIdentifier = r.decode(256)?;
        if r.at_end()? {
            return Err(r.malformed(
                r.offset(),
                "the eContent is absent (a detached signature); RFC 5024 signs with the \
                 content encapsulated",
            ));
        }
        let explicit = r.expect(Tag::context(0, true))?;
        r.enter(&explicit)?;
        let string = r.expect_type(Tag::OCTET_STRING)?;
        let content = r.into_octet_string(&string)?;
        Ok(Self {
            state: State::Content(content),
            wrapped,
            content_type,
            digests,
            content_octets: 0,
        })
    }

    /// The eContentType (id-data, or the type of a nested structure).
    pub fn content_type(&self) -> ObjectIdentifier {
        self.content_type
    }

    /// The digest algorithms listed in digestAlgorithms that this implementation computes.
    pub fn digest_algorithms(&self) -> Vec<DigestAlgorithm> {
        self.digests.iter().map(Digest::algorithm).collect()
    }

    fn read_content(&mut self, buf: &mut [u8]) -> Result<usize, SecurityError> {
        match std::mem::replace(&mut self.state, State::Failed) {
            State::Content(mut content) => {
                let n = content.read_content(buf)?;
                if n == 0 && !buf.is_empty() {
                    let mut r = content.into_reader()?;
                    r.leave()?; // [0] eContent
                    r.leave()?; // EncapsulatedContentInfo
                    self.state = State::After(r);
                    return Ok(0);
                }
                let read = buf.get(..n).unwrap_or_default();
                for digest in &mut self.digests {
                    digest.update(read);
                }
                self.content_octets += n as u64;
                self.state = State::Content(content);
                Ok(n)
            }
            State::After(r) => {
                self.state = State::After(r);
                Ok(0)
            }
            State::Failed => Err(SecurityError::Malformed {
                structure: "SignedData",
                offset: 0,
                what: "read after an error".into(),
            }),
        }
    }

    /// Reads what content is left (digesting it), the certificates, CRLs and SignerInfos,
    /// and verifies that `partner` signed the content: its SignerInfo (by
    /// issuerAndSerialNumber or subjectKeyIdentifier), the contentType and messageDigest
    /// attributes, and the RSA signature with the partner's public key.
    pub fn finish(mut self, partner: &Certificate) -> Result<Verified, SecurityError> {
        let mut scratch = vec![0u8; 16 * 1024];
        while self.read_content(&mut scratch)? > 0 {}
        let State::After(mut r) = std::mem::replace(&mut self.state, State::Failed) else {
            return Err(SecurityError::Malformed {
                structure: "SignedData",
                offset: 0,
                what: "the content did not end".into(),
            });
        };
        // certificates [0] IMPLICIT, crls [1] IMPLICIT: not needed, the partner's
        // certificate is given. Skipped as they stream by.
        while let Some(h) = r.peek_header()? {
            if h.tag == Tag::context(0, true) || h.tag == Tag::context(1, true) {
                r.skip_element()?;
            } else {
                break;
            }
        }
        let set = r.expect(Tag::SET)?;
        r.enter(&set)?;
        let mut signer_infos = Vec::new();
        while !r.at_end()? {
            if signer_infos.len() >= MAX_SIGNERS {
                return Err(SecurityError::TooLarge {
                    structure: "SignerInfos",
                    limit: MAX_SIGNERS,
                });
            }
            let at = r.offset();
            signer_infos.push((at, r.read_element(MAX_SIGNER_INFO)?));
        }
        r.leave()?; // SignerInfos
        r.leave()?; // SignedData
        r.leave_content_info(self.wrapped)?;
        r.expect_eof()?;

        let digests: Vec<(DigestAlgorithm, aws_lc_rs::digest::Digest)> =
            self.digests.into_iter().map(|d| (d.algorithm(), d.finish_aws())).collect();
        let mut signers = Vec::new();
        let mut first_error = None;
        for (at, der) in &signer_infos {
            let info = SignerInfo::parse(der, *at)?;
            if !partner.matches_signer(&info.sid) {
                signers.push(describe(&info.sid));
                continue;
            }
            match info.verify(*at, partner, &digests, self.content_type) {
                Ok((digest_algorithm, signing_time)) => {
                    return Ok(Verified {
                        signer: partner.clone(),
                        digest_algorithm,
                        signing_time,
                        content_type: self.content_type,
                        content_octets: self.content_octets,
                    });
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        Err(first_error.unwrap_or_else(|| {
            SecurityError::Signature(format!(
                "no SignerInfo is by the partner's certificate {} (issuer {}, serial {}); \
                 the SignedData is signed by: {}",
                partner.subject(),
                partner.x509().tbs_certificate.issuer,
                partner.x509().tbs_certificate.serial_number,
                if signers.is_empty() { "nobody".into() } else { signers.join("; ") }
            ))
        }))
    }
}

impl<R: Read> Read for SignedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.read_content(buf).map_err(io::Error::from)
    }
}

impl<R: Read> std::fmt::Debug for SignedReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedReader")
            .field("content_type", &self.content_type)
            .field("content_octets", &self.content_octets)
            .finish_non_exhaustive()
    }
}

fn malformed_der(structure: &'static str, base: u64) -> impl Fn(der::Error) -> SecurityError {
    move |e| SecurityError::Malformed {
        structure,
        offset: base + e.position().map(|p| u64::from(u32::from(p))).unwrap_or(0),
        what: e.to_string(),
    }
}

/// Reads `digestAlgorithms` and starts a digest for each one this implementation knows
/// (others are ignored: a SignerInfo using one is reported when verifying).
fn read_digest_algorithms<R: Read>(r: &mut Reader<R>) -> Result<Vec<Digest>, SecurityError> {
    let set = r.expect(Tag::SET)?;
    r.enter(&set)?;
    let mut digests: Vec<Digest> = Vec::new();
    let mut count = 0;
    while !r.at_end()? {
        count += 1;
        if count > MAX_DIGEST_ALGORITHMS {
            return Err(SecurityError::TooLarge {
                structure: "digestAlgorithms",
                limit: MAX_DIGEST_ALGORITHMS,
            });
        }
        let identifier: spki::AlgorithmIdentifierOwned = r.decode(1024)?;
        if let Ok(algorithm) = DigestAlgorithm::from_oid(&identifier.oid) {
            if !digests.iter().any(|d| d.algorithm() == algorithm) {
                digests.push(Digest::new(algorithm));
            }
        }
    }
    r.leave()?;
    Ok(digests)
}

/// A readable form of a SignerInfo's `sid`, for error messages.
fn describe(sid: &SignerIdentifier) -> String {
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(ias) => {
            format!("issuer {}, serial {}", ias.issuer, ias.serial_number)
        }
        SignerIdentifier::SubjectKeyIdentifier(id) => format!(
            "subjectKeyIdentifier {}",
            id.0.as_bytes().iter().map(|b| format!("{b:02x}")).collect::<String>()
        ),
    }
}

/// A SignerInfo (RFC 5652 §5.3), read from its DER.
struct SignerInfo {
    sid: SignerIdentifier,
    digest_algorithm: ObjectIdentifier,
    /// The contents of `signedAttrs`, as they came (the signature covers them).
    signed_attributes: Option<Vec<u8>>,
    signature_algorithm: ObjectIdentifier,
    signature: Vec<u8>,
}

impl SignerInfo {
    fn parse(der: &[u8], at: u64) -> Result<Self, SecurityError> {
        let mut reader = SliceReader::new(der).map_err(malformed_der("SignerInfo", at))?;
        reader
            .sequence(|r| {
                let version = u8::decode(r)?;
                if version != 1 && version != 3 {
                    return Err(der::Tag::Integer.value_error());
                }
                let sid = SignerIdentifier::decode(r)?;
                let digest_algorithm = spki::AlgorithmIdentifierRef::decode(r)?.oid;
                let signed_tag =
                    der::Tag::ContextSpecific { constructed: true, number: der::TagNumber::N0 };
                let signed_attributes = if r.peek_tag()? == signed_tag {
                    Some(AnyRef::decode(r)?.value().to_vec())
                } else {
                    None
                };
                let signature_algorithm = spki::AlgorithmIdentifierRef::decode(r)?.oid;
                let signature = OctetStringRef::decode(r)?.as_bytes().to_vec();
                // unsignedAttrs [1]: not used.
                while !r.is_finished() {
                    AnyRef::decode(r)?;
                }
                Ok(SignerInfo {
                    sid,
                    digest_algorithm,
                    signed_attributes,
                    signature_algorithm,
                    signature,
                })
            })
            .map_err(malformed_der("SignerInfo", at))
    }

    /// Checks this SignerInfo against the content's digests with the partner's key;
    /// returns the digest algorithm and the signing time.
    fn verify(
        &self,
        at: u64,
        partner: &Certificate,
        digests: &[(DigestAlgorithm, aws_lc_rs::digest::Digest)],
        content_type: ObjectIdentifier,
    ) -> Result<(DigestAlgorithm, Option<SystemTime>), SecurityError> {
        let algorithm = DigestAlgorithm::from_oid(&self.digest_algorithm)?;
        let algorithm =
            SignatureAlgorithm::from_oid(&self.signature_algorithm)?.digest(algorithm)?;
        let Some((_, content_digest)) = digests.iter().find(|(a, _)| *a == algorithm) else {
            return Err(SecurityError::Signature(format!(
                "the SignerInfo's digestAlgorithm {} is not among the SignedData's \
                 digestAlgorithms",
                self.digest_algorithm
            )));
        };
        let Some(attributes) = &self.signed_attributes else {
            // Without signed attributes the signature is over the content itself, and the
            // content must be id-data (RFC 5652 §5.3).
            if content_type != ID_DATA {
                return Err(SecurityError::Signature(format!(
                    "the SignerInfo has no signedAttrs although eContentType is {content_type}"
                )));
            }
            signature::verify_digest(partner, algorithm, content_digest, &self.signature)?;
            return Ok((algorithm, None));
        };
        let found = SignedAttributes::parse(attributes, at)?;
        match found.content_type {
            Some(t) if t == content_type => {}
            Some(t) => {
                return Err(SecurityError::Signature(format!(
                    "the signed contentType attribute {t} is not the eContentType {content_type}"
                )))
            }
            None => {
                return Err(SecurityError::Signature(
                    "the signedAttrs lack the contentType attribute".into(),
                ))
            }
        }
        match found.message_digest {
            Some(d) if d.as_slice() == content_digest.as_ref() => {}
            Some(_) => {
                return Err(SecurityError::Signature(format!(
                    "the content's {algorithm:?} digest is not the signed messageDigest: the \
                     content was altered"
                )))
            }
            None => {
                return Err(SecurityError::Signature(
                    "the signedAttrs lack the messageDigest attribute".into(),
                ))
            }
        }
        // The signature covers the attributes as they came, with the SET OF tag.
        signature::verify(partner, algorithm, &encode_tlv(Tag::SET, attributes), &self.signature)?;
        Ok((algorithm, found.signing_time))
    }
}

/// The signed attributes this implementation checks.
struct SignedAttributes {
    content_type: Option<ObjectIdentifier>,
    message_digest: Option<Vec<u8>>,
    signing_time: Option<SystemTime>,
}

impl SignedAttributes {
    fn parse(content: &[u8], at: u64) -> Result<Self, SecurityError> {
        let malformed = malformed_der("signedAttrs", at);
        let mut found =
            SignedAttributes { content_type: None, message_digest: None, signing_time: None };
        let mut seen: Vec<ObjectIdentifier> = Vec::new();
        let mut reader = SliceReader::new(content).map_err(&malformed)?;
        while !reader.is_finished() {
            let (oid, values) = reader
                .sequence(|r| {
                    let oid = ObjectIdentifier::decode(r)?;
                    let values = AnyRef::decode(r)?;
                    if values.tag() != der::Tag::Set {
                        return Err(values.tag().unexpected_error(Some(der::Tag::Set)));
                    }
                    Ok((oid, values.value()))
                })
                .map_err(&malformed)?;
            if seen.contains(&oid) {
                return Err(SecurityError::Signature(format!(
                    "the signed attribute {oid} appears twice"
                )));
            }
            seen.push(oid);
            let single = |what: &str| {
                SecurityError::Signature(format!("the signed {what} attribute must have one value"))
            };
            match oid {
                ID_CONTENT_TYPE => {
                    let value =
                        ObjectIdentifier::from_der(values).map_err(|_| single("contentType"))?;
                    found.content_type = Some(value);
                }
                ID_MESSAGE_DIGEST => {
                    let value =
                        OctetStringRef::from_der(values).map_err(|_| single("messageDigest"))?;
                    found.message_digest = Some(value.as_bytes().to_vec());
                }
                ID_SIGNING_TIME => {
                    let time = UtcTime::from_der(values)
                        .map(|t| t.to_system_time())
                        .or_else(|_| GeneralizedTime::from_der(values).map(|t| t.to_system_time()))
                        .map_err(|_| single("signingTime"))?;
                    found.signing_time = Some(time);
                }
                _ => {}
            }
        }
        Ok(found)
    }
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer").field("digest", &self.digest).finish_non_exhaustive()
    }
}
