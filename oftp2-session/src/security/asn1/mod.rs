//! Streaming BER/DER (X.690) for CMS: a pull [`Reader`] over any [`std::io::Read`] and a
//! [`Writer`] over any [`std::io::Write`], so that the encapsulated content of an
//! EnvelopedData, CompressedData or SignedData (RFC 5652 `encryptedContent`, `eContent`)
//! can stream with bounded memory while the small structures around it (`RecipientInfo`,
//! `AlgorithmIdentifier`, `SignerInfo`) are read whole and handed to the `der`/`cms` types.
//!
//! # Reading
//!
//! [`Reader`] yields element [`Header`]s (tag class, constructed bit, tag number, definite
//! or indefinite length, and the offset of the element in the input, for error messages).
//! [`Reader::enter`] steps into a constructed element and [`Reader::leave`] checks that it
//! ended where its length said (definite) or with an end-of-contents (indefinite); in
//! between, [`Reader::at_end`] tells whether another child follows. [`Reader::read_element`]
//! reads one complete element into memory, up to a size limit, and normalises BER to DER
//! (definite lengths, constructed strings joined) so `der` can decode it. The content octets
//! of an OCTET STRING, primitive or constructed (nested chunks, indefinite length), stream
//! through [`OctetStringReader`], which implements [`std::io::Read`]. [`Reader::decode`]
//! reads one element and decodes it with `der` (an OID, an `AlgorithmIdentifier`);
//! [`Reader::enter_content_info`] steps into a CMS structure whether or not a ContentInfo
//! (RFC 5652 §3) is around it.
//!
//! Limits: lengths beyond [`MAX_LENGTH`] and nesting deeper than [`MAX_DEPTH`] are
//! rejected; tag numbers must fit in a `u32`. Every error is
//! [`SecurityError::Malformed`] (with the structure being read and the offset) or
//! [`SecurityError::TooLarge`]; a truncated input is `Malformed` too.
//!
//! [`SecurityError::Malformed`]: super::SecurityError::Malformed
//! [`SecurityError::TooLarge`]: super::SecurityError::TooLarge
//!
//! # Writing
//!
//! [`Writer`] writes definite-length elements ([`Writer::tlv`], or pre-encoded DER with
//! [`Writer::raw`]), indefinite-length constructed headers ([`Writer::indefinite`]) and their
//! end-of-contents ([`Writer::eoc`]). [`OctetStringWriter`] turns streamed content into a
//! constructed, indefinite-length OCTET STRING of primitive chunks, as `openssl cms -stream`
//! and Bouncy Castle's stream generators write it. [`Writer::start_content_info`] and
//! [`Writer::end_content_info`] open and close a CMS structure, with or without its
//! ContentInfo.
//!
//! # Example
//!
//! ```
//! use std::io::Read;
//! use oftp2_session::security::asn1::{OctetStringWriter, Reader, Tag, Writer};
//!
//! // SEQUENCE (indefinite) { INTEGER 0, OCTET STRING (constructed, chunked) "hello world" }
//! let mut w = Writer::new(Vec::new());
//! w.indefinite(Tag::SEQUENCE)?;
//! w.tlv(Tag::INTEGER, &[0])?;
//! let mut content = OctetStringWriter::new(w, Tag::OCTET_STRING.constructed(), 4)?;
//! std::io::Write::write_all(&mut content, b"hello world")?;
//! let mut w = content.finish()?;
//! w.eoc()?;
//! let ber = w.into_inner();
//!
//! let mut r = Reader::new(ber.as_slice(), "Example");
//! let seq = r.read_header()?;
//! assert_eq!(seq.tag, Tag::SEQUENCE);
//! r.enter(&seq)?;
//! // A whole small element, as DER.
//! assert_eq!(r.read_element(64)?, [0x02, 0x01, 0x00]);
//! let string = r.read_header()?;
//! let mut octets = r.into_octet_string(&string)?;
//! let mut text = String::new();
//! octets.read_to_string(&mut text)?;
//! assert_eq!(text, "hello world");
//! let mut r = octets.into_reader()?;
//! assert!(r.at_end()?);
//! r.leave()?;
//! r.expect_eof()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod reader;
mod writer;

pub use reader::{OctetStringReader, Reader};
pub use writer::{encode_header, encode_tlv, OctetStringWriter, Writer};

/// The largest definite length accepted (2^48 octets, 256 TiB): it keeps offset arithmetic
/// far from `u64` overflow while allowing any real file.
pub const MAX_LENGTH: u64 = 1 << 48;

/// The deepest nesting of constructed elements accepted.
pub const MAX_DEPTH: usize = 32;

/// The class of a tag (X.690 §8.1.2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Class {
    /// UNIVERSAL: the types of X.680 (SEQUENCE, OCTET STRING, ...).
    Universal,
    /// APPLICATION.
    Application,
    /// Context-specific (`[n]` in the ASN.1 modules of RFC 5652).
    ContextSpecific,
    /// PRIVATE.
    Private,
}

/// An element's tag: class, primitive/constructed bit and number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Tag {
    /// The class.
    pub class: Class,
    /// Whether the encoding is constructed.
    pub constructed: bool,
    /// The tag number.
    pub number: u32,
}

impl Tag {
    /// End-of-contents (universal 0, primitive), which closes an indefinite length.
    pub const EOC: Tag = Tag::universal(0, false);
    /// BOOLEAN.
    pub const BOOLEAN: Tag = Tag::universal(1, false);
    /// INTEGER.
    pub const INTEGER: Tag = Tag::universal(2, false);
    /// BIT STRING (primitive).
    pub const BIT_STRING: Tag = Tag::universal(3, false);
    /// OCTET STRING (primitive; [`Tag::constructed`] for the chunked form).
    pub const OCTET_STRING: Tag = Tag::universal(4, false);
    /// NULL.
    pub const NULL: Tag = Tag::universal(5, false);
    /// OBJECT IDENTIFIER.
    pub const OID: Tag = Tag::universal(6, false);
    /// SEQUENCE (always constructed).
    pub const SEQUENCE: Tag = Tag::universal(16, true);
    /// SET (always constructed).
    pub const SET: Tag = Tag::universal(17, true);

    /// A universal tag.
    pub const fn universal(number: u32, constructed: bool) -> Self {
        Tag { class: Class::Universal, constructed, number }
    }

    /// A context-specific tag `[number]`.
    pub const fn context(number: u32, constructed: bool) -> Self {
        Tag { class: Class::ContextSpecific, constructed, number }
    }

    /// The same tag with the constructed bit set.
    pub const fn constructed(self) -> Self {
        Tag { constructed: true, ..self }
    }

    /// The same class and number, either encoding (primitive or constructed).
    pub fn same_type(self, other: Tag) -> bool {
        self.class == other.class && self.number == other.number
    }

    /// Whether this universal tag is a string type that BER may encode constructed
    /// (X.690 §8.21, §8.6, §8.7): BIT STRING, OCTET STRING and the character strings.
    pub fn is_string_type(self) -> bool {
        self.class == Class::Universal && matches!(self.number, 3 | 4 | 12 | 18..=30)
    }
}

impl std::fmt::Display for Tag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let form = if self.constructed { " (constructed)" } else { "" };
        match (self.class, self.number) {
            (Class::Universal, 0) => write!(f, "end-of-contents{form}"),
            (Class::Universal, 1) => write!(f, "BOOLEAN{form}"),
            (Class::Universal, 2) => write!(f, "INTEGER{form}"),
            (Class::Universal, 3) => write!(f, "BIT STRING{form}"),
            (Class::Universal, 4) => write!(f, "OCTET STRING{form}"),
            (Class::Universal, 5) => write!(f, "NULL{form}"),
            (Class::Universal, 6) => write!(f, "OBJECT IDENTIFIER{form}"),
            (Class::Universal, 16) => write!(f, "SEQUENCE{form}"),
            (Class::Universal, 17) => write!(f, "SET{form}"),
            (Class::Universal, n) => write!(f, "UNIVERSAL {n}{form}"),
            (Class::Application, n) => write!(f, "[APPLICATION {n}]{form}"),
            (Class::ContextSpecific, n) => write!(f, "[{n}]{form}"),
            (Class::Private, n) => write!(f, "[PRIVATE {n}]{form}"),
        }
    }
}

/// The length of an element's contents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Length {
    /// A definite length, in octets.
    Definite(u64),
    /// The indefinite form: contents end with an end-of-contents element.
    Indefinite,
}

/// An element's identifier and length octets, and where the element starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// The tag.
    pub tag: Tag,
    /// The contents' length.
    pub length: Length,
    /// The offset of the element's first identifier octet in the input.
    pub offset: u64,
    /// How many octets the identifier and length octets take.
    pub header_len: u8,
}

impl Header {
    /// Whether this is an end-of-contents element.
    pub fn is_eoc(&self) -> bool {
        self.tag == Tag::EOC && self.length == Length::Definite(0)
    }

    /// The offset of the first contents octet.
    pub fn content_offset(&self) -> u64 {
        self.offset + u64::from(self.header_len)
    }

    /// The offset just past the element, for a definite length.
    pub fn end(&self) -> Option<u64> {
        match self.length {
            Length::Definite(n) => Some(self.content_offset() + n),
            Length::Indefinite => None,
        }
    }
}
