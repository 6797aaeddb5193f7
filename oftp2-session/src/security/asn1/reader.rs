//! The streaming pull reader.

use std::io::{self, Read};

use super::{encode_header, Class, Header, Length, Tag, MAX_DEPTH, MAX_LENGTH};
use crate::security::SecurityError;

/// A constructed element the reader is inside of.
#[derive(Clone, Copy, Debug)]
struct Frame {
    tag: Tag,
    offset: u64,
    end: Option<u64>,
}

/// A pull reader of BER (and so DER) elements from an [`io::Read`]; see the
/// [module documentation](super).
#[derive(Debug)]
pub struct Reader<R> {
    inner: R,
    pos: u64,
    structure: &'static str,
    frames: Vec<Frame>,
    peeked: Option<Header>,
}

impl<R: Read> Reader<R> {
    /// A reader at offset 0 of `inner`; `structure` names what is being read (an RFC 5652
    /// structure such as `EnvelopedData`) in error messages.
    pub fn new(inner: R, structure: &'static str) -> Self {
        Self::at_offset(inner, structure, 0)
    }

    /// A reader whose first octet is at `offset` of a larger input (for error messages).
    pub fn at_offset(inner: R, structure: &'static str, offset: u64) -> Self {
        Reader { inner, pos: offset, structure, frames: Vec::new(), peeked: None }
    }

    /// The structure named in error messages.
    pub fn structure(&self) -> &'static str {
        self.structure
    }

    /// Changes the structure named in error messages (when stepping into a part of it).
    pub fn set_structure(&mut self, structure: &'static str) {
        self.structure = structure;
    }

    /// The offset of the next unread element (or contents octet).
    pub fn offset(&self) -> u64 {
        self.peeked.map_or(self.pos, |h| h.offset)
    }

    /// How many constructed elements the reader is inside of.
    pub fn depth(&self) -> usize {
        self.frames.len()
    }

    /// A [`SecurityError::Malformed`] for this reader's structure.
    pub fn malformed(&self, offset: u64, what: impl Into<String>) -> SecurityError {
        SecurityError::Malformed { structure: self.structure, offset, what: what.into() }
    }

    fn truncated(&self) -> SecurityError {
        let what = match self.frames.last() {
            Some(frame) => {
                format!("the input ends inside the {} at offset {}", frame.tag, frame.offset)
            }
            None => "the input ends inside an element".to_owned(),
        };
        self.malformed(self.pos, what)
    }

    /// Reads up to `buf.len()` octets from the input (0 only at its end).
    fn read_some(&mut self, buf: &mut [u8]) -> Result<usize, SecurityError> {
        loop {
            match self.inner.read(buf) {
                Ok(n) => {
                    self.pos += n as u64;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(SecurityError::from(e)),
            }
        }
    }

    fn byte(&mut self) -> Result<Option<u8>, SecurityError> {
        let mut b = [0u8; 1];
        Ok(match self.read_some(&mut b)? {
            0 => None,
            _ => Some(b[0]),
        })
    }

    fn need_byte(&mut self) -> Result<u8, SecurityError> {
        self.byte()?.ok_or_else(|| self.truncated())
    }

    fn fill(&mut self, mut buf: &mut [u8]) -> Result<(), SecurityError> {
        while !buf.is_empty() {
            let n = self.read_some(buf)?;
            if n == 0 {
                return Err(self.truncated());
            }
            buf = buf.get_mut(n..).unwrap_or_default();
        }
        Ok(())
    }

    /// Parses identifier and length octets; `None` at a clean end of input.
    fn parse_header(&mut self) -> Result<Option<Header>, SecurityError> {
        let offset = self.pos;
        let Some(first) = self.byte()? else { return Ok(None) };
        let class = match first >> 6 {
            0 => Class::Universal,
            1 => Class::Application,
            2 => Class::ContextSpecific,
            _ => Class::Private,
        };
        let constructed = first & 0x20 != 0;
        let mut number = u32::from(first & 0x1F);
        if number == 0x1F {
            number = 0;
            let mut count = 0;
            loop {
                let b = self.need_byte()?;
                if count == 0 && b == 0x80 {
                    return Err(self.malformed(offset, "tag number with a leading zero group"));
                }
                if number > (u32::MAX >> 7) {
                    return Err(self.malformed(offset, "tag number larger than 2^32-1"));
                }
                number = (number << 7) | u32::from(b & 0x7F);
                count += 1;
                if b & 0x80 == 0 {
                    break;
                }
            }
        }
        let tag = Tag { class, constructed, number };
        let first_len = self.need_byte()?;
        let length = match first_len {
            n if n < 0x80 => Length::Definite(u64::from(n)),
            0x80 => {
                if !constructed {
                    return Err(self
                        .malformed(offset, format!("primitive {tag} with an indefinite length")));
                }
                Length::Indefinite
            }
            0xFF => return Err(self.malformed(offset, "reserved length octet 0xFF")),
            n => {
                let count = usize::from(n & 0x7F);
                if count > 8 {
                    return Err(
                        self.malformed(offset, format!("length of {count} octets is too long"))
                    );
                }
                let mut bytes = [0u8; 8];
                self.fill(bytes.get_mut(8 - count..).unwrap_or_default())?;
                let n = u64::from_be_bytes(bytes);
                if n > MAX_LENGTH {
                    return Err(self.malformed(
                        offset,
                        format!("length {n} exceeds the limit of {MAX_LENGTH} octets"),
                    ));
                }
                Length::Definite(n)
            }
        };
        let header_len = u8::try_from(self.pos - offset).unwrap_or(u8::MAX);
        let header = Header { tag, length, offset, header_len };
        if tag.class == Class::Universal && tag.number == 0 && !header.is_eoc() {
            return Err(self.malformed(offset, "malformed end-of-contents"));
        }
        if let Some(Frame { tag: outer, offset: outer_offset, end: Some(end) }) =
            self.frames.last().copied()
        {
            let past = match header.end() {
                Some(e) => e > end,
                None => header.content_offset() > end,
            };
            if past {
                return Err(self.malformed(
                    offset,
                    format!(
                        "{tag} runs past the end of the enclosing {outer} at offset {outer_offset} (which ends at {end})"
                    ),
                ));
            }
            if header.is_eoc() {
                return Err(self.malformed(offset, format!("end-of-contents inside the definite-length {outer} at offset {outer_offset}")));
            }
        }
        Ok(Some(header))
    }

    /// The next element's header without consuming it; `None` at the end of the input.
    pub fn peek_header(&mut self) -> Result<Option<Header>, SecurityError> {
        if self.peeked.is_none() {
            self.peeked = self.parse_header()?;
        }
        Ok(self.peeked)
    }

    /// Reads the next element's header; the end of the input is an error.
    pub fn read_header(&mut self) -> Result<Header, SecurityError> {
        if let Some(h) = self.peeked.take() {
            return Ok(h);
        }
        match self.parse_header()? {
            Some(h) => Ok(h),
            None => Err(self.truncated()),
        }
    }

    /// Reads the next header and checks its tag (class, number and form).
    pub fn expect(&mut self, tag: Tag) -> Result<Header, SecurityError> {
        let h = self.read_header()?;
        if h.tag != tag {
            return Err(self.malformed(h.offset, format!("expected {tag}, found {}", h.tag)));
        }
        Ok(h)
    }

    /// Reads the next header and checks its class and number, either form.
    pub fn expect_type(&mut self, tag: Tag) -> Result<Header, SecurityError> {
        let h = self.read_header()?;
        if !h.tag.same_type(tag) {
            return Err(self.malformed(h.offset, format!("expected {tag}, found {}", h.tag)));
        }
        Ok(h)
    }

    /// Steps into the constructed element whose header was just read.
    pub fn enter(&mut self, header: &Header) -> Result<(), SecurityError> {
        if !header.tag.constructed {
            return Err(self.malformed(
                header.offset,
                format!("expected a constructed element, found {}", header.tag),
            ));
        }
        if self.peeked.is_some() || self.pos != header.content_offset() {
            return Err(self.malformed(
                header.offset,
                "entered an element whose header was not the last one read",
            ));
        }
        if self.frames.len() >= MAX_DEPTH {
            return Err(
                self.malformed(header.offset, format!("nesting deeper than {MAX_DEPTH} elements"))
            );
        }
        self.frames.push(Frame { tag: header.tag, offset: header.offset, end: header.end() });
        Ok(())
    }

    /// Whether the innermost entered element has no further child (for an indefinite
    /// length: the next element is end-of-contents, which is not consumed). Outside of any
    /// element: whether the input is at its end.
    pub fn at_end(&mut self) -> Result<bool, SecurityError> {
        match self.frames.last().copied() {
            None => Ok(self.peek_header()?.is_none()),
            Some(Frame { end: Some(end), .. }) => Ok(self.offset() >= end),
            Some(Frame { end: None, .. }) => match self.peek_header()? {
                Some(h) => Ok(h.is_eoc()),
                None => Err(self.truncated()),
            },
        }
    }

    /// Steps out of the innermost entered element, checking that it ends here (consuming
    /// the end-of-contents of an indefinite length).
    pub fn leave(&mut self) -> Result<(), SecurityError> {
        let Some(frame) = self.frames.last().copied() else {
            return Err(self.malformed(self.offset(), "left an element that was not entered"));
        };
        match frame.end {
            Some(end) => {
                if self.offset() != end {
                    return Err(self.malformed(
                        self.offset(),
                        format!(
                            "the {} at offset {} should end at offset {end}",
                            frame.tag, frame.offset
                        ),
                    ));
                }
            }
            None => {
                let h = self.read_header()?;
                if !h.is_eoc() {
                    return Err(self.malformed(
                        h.offset,
                        format!(
                            "expected the end-of-contents of the {} at offset {}, found {}",
                            frame.tag, frame.offset, h.tag
                        ),
                    ));
                }
            }
        }
        self.frames.pop();
        Ok(())
    }

    /// Reads an end-of-contents element.
    pub fn expect_eoc(&mut self) -> Result<(), SecurityError> {
        let h = self.read_header()?;
        if !h.is_eoc() {
            return Err(
                self.malformed(h.offset, format!("expected end-of-contents, found {}", h.tag))
            );
        }
        Ok(())
    }

    /// Checks that the input ends here (nothing follows the outermost element).
    pub fn expect_eof(&mut self) -> Result<(), SecurityError> {
        if let Some(frame) = self.frames.last() {
            return Err(self.malformed(
                self.offset(),
                format!("the {} at offset {} is not closed", frame.tag, frame.offset),
            ));
        }
        let start = self.offset();
        match self.peek_header() {
            Ok(None) => Ok(()),
            Ok(Some(h)) => Err(self
                .malformed(h.offset, format!("{} after the end of the {}", h.tag, self.structure))),
            Err(_) => {
                Err(self.malformed(start, format!("data after the end of the {}", self.structure)))
            }
        }
    }

    /// Skips the next element.
    pub fn skip_element(&mut self) -> Result<(), SecurityError> {
        let h = self.read_header()?;
        self.skip_content(&h)
    }

    /// Skips the contents of the element whose header was just read.
    pub fn skip_content(&mut self, header: &Header) -> Result<(), SecurityError> {
        match header.length {
            Length::Definite(n) => {
                let mut left = n;
                let mut buf = [0u8; 4096];
                while left > 0 {
                    let want = usize::try_from(left.min(buf.len() as u64)).unwrap_or(buf.len());
                    let got = self.read_some(buf.get_mut(..want).unwrap_or_default())?;
                    if got == 0 {
                        return Err(self.truncated());
                    }
                    left -= got as u64;
                }
                Ok(())
            }
            Length::Indefinite => {
                self.enter(header)?;
                while !self.at_end()? {
                    self.skip_element()?;
                }
                self.leave()
            }
        }
    }

    /// Reads the next element whole, up to `limit` octets, as DER: definite lengths, and
    /// constructed strings (OCTET STRING, BIT STRING, character strings) joined into
    /// primitive ones. The order of SET elements is kept as it came. An implicitly tagged
    /// string (`[n] IMPLICIT OCTET STRING`) cannot be told from a constructed `[n]` without
    /// the schema and is kept constructed.
    pub fn read_element(&mut self, limit: usize) -> Result<Vec<u8>, SecurityError> {
        let h = self.read_header()?;
        self.read_element_from(&h, limit)
    }

    /// [`Reader::read_element`] for the element whose header was just read.
    pub fn read_element_from(
        &mut self,
        header: &Header,
        limit: usize,
    ) -> Result<Vec<u8>, SecurityError> {
        let mut budget = limit;
        let (tag, content) = self.collect(header, &mut budget, limit, 0)?;
        let mut out = Vec::with_capacity(content.len() + 10);
        encode_header(tag, Some(content.len() as u64), &mut out);
        out.extend_from_slice(&content);
        if out.len() > limit {
            return Err(self.too_large(limit));
        }
        Ok(out)
    }

    fn too_large(&self, limit: usize) -> SecurityError {
        SecurityError::TooLarge { structure: self.structure, limit }
    }

    fn charge(&self, budget: &mut usize, n: u64, limit: usize) -> Result<(), SecurityError> {
        match usize::try_from(n).ok().and_then(|n| budget.checked_sub(n)) {
            Some(left) => {
                *budget = left;
                Ok(())
            }
            None => Err(self.too_large(limit)),
        }
    }

    /// The DER tag and contents of the element whose header was just read.
    fn collect(
        &mut self,
        header: &Header,
        budget: &mut usize,
        limit: usize,
        depth: usize,
    ) -> Result<(Tag, Vec<u8>), SecurityError> {
        self.charge(budget, u64::from(header.header_len), limit)?;
        if !header.tag.constructed {
            let Length::Definite(n) = header.length else {
                return Err(self.malformed(header.offset, "primitive element of indefinite length"));
            };
            self.charge(budget, n, limit)?;
            let mut content = vec![0u8; usize::try_from(n).map_err(|_| self.too_large(limit))?];
            self.fill(&mut content)?;
            return Ok((header.tag, content));
        }
        if depth >= MAX_DEPTH {
            return Err(self.malformed(header.offset, format!("nesting deeper than {MAX_DEPTH}")));
        }
        self.enter(header)?;
        let string = header.tag.is_string_type();
        let bit_string = header.tag.same_type(Tag::BIT_STRING);
        let mut content = Vec::new();
        let mut unused_bits: Option<u8> = None;
        while !self.at_end()? {
            let child = self.read_header()?;
            if string && !child.tag.same_type(header.tag) {
                return Err(self.malformed(
                    child.offset,
                    format!("a constructed {} holds {}", header.tag, child.tag),
                ));
            }
            let (child_tag, child_content) = self.collect(&child, budget, limit, depth + 1)?;
            if bit_string {
                let Some((&unused, bits)) = child_content.split_first() else {
                    return Err(self.malformed(child.offset, "BIT STRING segment without octets"));
                };
                match unused_bits {
                    None => content.push(0),
                    Some(0) => {}
                    Some(_) => {
                        return Err(self.malformed(
                            child.offset,
                            "unused bits in a BIT STRING segment that is not the last",
                        ))
                    }
                }
                unused_bits = Some(unused);
                content.extend_from_slice(bits);
            } else if string {
                content.extend_from_slice(&child_content);
            } else {
                encode_header(child_tag, Some(child_content.len() as u64), &mut content);
                content.extend_from_slice(&child_content);
            }
        }
        if header.length == Length::Indefinite {
            self.charge(budget, 2, limit)?;
        }
        self.leave()?;
        if bit_string {
            match content.first_mut() {
                Some(first) => *first = unused_bits.unwrap_or(0),
                None => content.push(0),
            }
        }
        let tag = if string { Tag { constructed: false, ..header.tag } } else { header.tag };
        Ok((tag, content))
    }

    /// Reads the next element whole (at most `limit` octets, BER normalised to DER) and
    /// decodes it as `T` with `der`, e.g. `r.decode::<ObjectIdentifier>(64)`.
    pub fn decode<T: for<'a> der::Decode<'a>>(&mut self, limit: usize) -> Result<T, SecurityError> {
        let offset = self.offset();
        let der = self.read_element(limit)?;
        T::from_der(&der).map_err(|e| {
            let at = e.position().map_or(0, |p| u64::from(u32::from(p)));
            self.malformed(offset + at, e.to_string())
        })
    }

    /// Steps into a CMS structure of type `content_type`, which may come as a ContentInfo
    /// (RFC 5652 §3: `SEQUENCE { contentType, [0] EXPLICIT content }`) or bare (the
    /// structure's own SEQUENCE, as a nested structure may be carried). Afterwards the reader
    /// is inside the structure's SEQUENCE; returns whether a ContentInfo was around it (pass
    /// that to [`Reader::leave_content_info`] after leaving the structure).
    pub fn enter_content_info(
        &mut self,
        content_type: &der::asn1::ObjectIdentifier,
    ) -> Result<bool, SecurityError> {
        let outer = self.expect(Tag::SEQUENCE)?;
        self.enter(&outer)?;
        let first = self.peek_header()?;
        if first.map(|h| h.tag) != Some(Tag::OID) {
            return Ok(false);
        }
        let offset = self.offset();
        let found: der::asn1::ObjectIdentifier = self.decode(64)?;
        if found != *content_type {
            return Err(self.malformed(
                offset,
                format!(
                    "content type {found} where {content_type} ({}) was expected",
                    self.structure
                ),
            ));
        }
        let explicit = self.expect(Tag::context(0, true))?;
        self.enter(&explicit)?;
        let inner = self.expect(Tag::SEQUENCE)?;
        self.enter(&inner)?;
        Ok(true)
    }

    /// Steps out of the ContentInfo that [`Reader::enter_content_info`] found (nothing if
    /// the structure came bare).
    pub fn leave_content_info(&mut self, wrapped: bool) -> Result<(), SecurityError> {
        if wrapped {
            self.leave()?;
            self.leave()?;
        }
        Ok(())
    }

    /// Streams the contents of the OCTET STRING (primitive or constructed, of any tag, such
    /// as `[0] IMPLICIT OCTET STRING`) whose header was just read.
    pub fn into_octet_string(self, header: &Header) -> Result<OctetStringReader<R>, SecurityError> {
        OctetStringReader::new(self, header)
    }

    /// The underlying reader.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// Gives back the underlying reader.
    pub fn into_inner(self) -> R {
        self.inner
    }
}

/// The content octets of an OCTET STRING, primitive or constructed (chunks nested to any
/// depth up to [`MAX_DEPTH`], definite or indefinite lengths), as an [`io::Read`]. Errors
/// are [`SecurityError`]s inside [`io::Error`] (`SecurityError::from` gets them back).
#[derive(Debug)]
pub struct OctetStringReader<R> {
    reader: Reader<R>,
    base: usize,
    remaining: u64,
    done: bool,
}

impl<R: Read> OctetStringReader<R> {
    fn new(mut reader: Reader<R>, header: &Header) -> Result<Self, SecurityError> {
        let base = reader.depth();
        if reader.peeked.is_some() || reader.pos != header.content_offset() {
            return Err(reader.malformed(
                header.offset,
                "streamed an element whose header was not the last one read",
            ));
        }
        let remaining = match (header.tag.constructed, header.length) {
            (true, _) => {
                reader.enter(header)?;
                0
            }
            (false, Length::Definite(n)) => n,
            (false, Length::Indefinite) => {
                return Err(
                    reader.malformed(header.offset, "primitive element of indefinite length")
                )
            }
        };
        Ok(OctetStringReader { reader, base, remaining, done: false })
    }

    /// Reads content octets; 0 at the end of the string.
    pub fn read_content(&mut self, buf: &mut [u8]) -> Result<usize, SecurityError> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if self.remaining > 0 {
                let want = usize::try_from(self.remaining.min(buf.len() as u64)).unwrap_or(1);
                let n = self.reader.read_some(buf.get_mut(..want).unwrap_or_default())?;
                if n == 0 {
                    return Err(self.reader.truncated());
                }
                self.remaining -= n as u64;
                return Ok(n);
            }
            if self.done {
                return Ok(0);
            }
            if self.reader.depth() <= self.base {
                self.done = true;
                continue;
            }
            if self.reader.at_end()? {
                self.reader.leave()?;
                continue;
            }
            let chunk = self.reader.read_header()?;
            if !chunk.tag.same_type(Tag::OCTET_STRING) {
                return Err(self.reader.malformed(
                    chunk.offset,
                    format!("a constructed OCTET STRING holds {}", chunk.tag),
                ));
            }
            match (chunk.tag.constructed, chunk.length) {
                (true, _) => self.reader.enter(&chunk)?,
                (false, Length::Definite(n)) => self.remaining = n,
                (false, Length::Indefinite) => {
                    return Err(self.reader.malformed(chunk.offset, "primitive indefinite length"))
                }
            }
        }
    }

    /// The offset of the next unread octet.
    pub fn offset(&self) -> u64 {
        self.reader.offset()
    }

    /// Reads (and discards) whatever content is left, and gives back the element reader,
    /// positioned after the OCTET STRING.
    pub fn into_reader(mut self) -> Result<Reader<R>, SecurityError> {
        let mut scratch = [0u8; 4096];
        while self.read_content(&mut scratch)? > 0 {}
        Ok(self.reader)
    }
}

impl<R: Read> Read for OctetStringReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.read_content(buf).map_err(io::Error::from)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn der_of(input: &[u8], limit: usize) -> Result<Vec<u8>, SecurityError> {
        let mut r = Reader::new(input, "Test");
        let out = r.read_element(limit)?;
        r.expect_eof()?;
        Ok(out)
    }

    fn stream(input: &[u8]) -> Result<Vec<u8>, SecurityError> {
        let mut r = Reader::new(input, "Test");
        let h = r.read_header()?;
        let mut s = r.into_octet_string(&h)?;
        let mut out = Vec::new();
        s.read_to_end(&mut out)?;
        s.into_reader()?.expect_eof()?;
        Ok(out)
    }

    #[test]
    fn normalises_ber() {
        // SEQUENCE (indefinite) { OCTET STRING (constructed, indefinite) {"ab", {"c"}}, NULL }
        let ber = [
            0x30, 0x80, 0x24, 0x80, 0x04, 0x02, b'a', b'b', 0x24, 0x03, 0x04, 0x01, b'c', 0x00,
            0x00, 0x05, 0x00, 0x00, 0x00,
        ];
        assert_eq!(
            der_of(&ber, 100).unwrap(),
            [0x30, 0x07, 0x04, 0x03, b'a', b'b', b'c', 0x05, 0x00]
        );
        // Long-form (non-minimal) definite length.
        assert_eq!(der_of(&[0x04, 0x82, 0x00, 0x01, 0x7A], 10).unwrap(), [0x04, 0x01, 0x7A]);
        // BIT STRING segments.
        let bits = [0x23, 0x80, 0x03, 0x02, 0x00, 0xAA, 0x03, 0x02, 0x04, 0xB0, 0x00, 0x00];
        assert_eq!(der_of(&bits, 100).unwrap(), [0x03, 0x03, 0x04, 0xAA, 0xB0]);
        let bad_bits = [0x23, 0x80, 0x03, 0x02, 0x01, 0xAA, 0x03, 0x02, 0x04, 0xB0, 0x00, 0x00];
        assert!(matches!(der_of(&bad_bits, 100), Err(SecurityError::Malformed { .. })));
    }

    #[test]
    fn limits_and_errors() {
        let big = [0x04, 0x84, 0x7F, 0xFF, 0xFF, 0xFF];
        assert!(matches!(der_of(&big, 1000), Err(SecurityError::TooLarge { limit: 1000, .. })));
        let huge = [0x04, 0x88, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF];
        assert!(matches!(der_of(&huge, 1000), Err(SecurityError::Malformed { .. })));
        let nine = [0x04, 0x89, 1, 1, 1, 1, 1, 1, 1, 1, 1];
        assert!(matches!(der_of(&nine, 1000), Err(SecurityError::Malformed { .. })));
        // Truncated: header promises 5 octets, 2 follow.
        match der_of(&[0x30, 0x05, 0x02, 0x01], 100) {
            Err(SecurityError::Malformed { offset, .. }) => assert_eq!(offset, 4),
            other => panic!("{other:?}"),
        }
        // Child runs past its parent.
        assert!(matches!(
            der_of(&[0x30, 0x02, 0x04, 0x05, 0, 0, 0, 0, 0], 100),
            Err(SecurityError::Malformed { offset: 2, .. })
        ));
        // Primitive indefinite length.
        assert!(matches!(der_of(&[0x04, 0x80, 0, 0], 100), Err(SecurityError::Malformed { .. })));
        // Deep nesting.
        let mut deep = Vec::new();
        for _ in 0..100 {
            deep.extend_from_slice(&[0x30, 0x80]);
        }
        assert!(matches!(der_of(&deep, 100_000), Err(SecurityError::Malformed { .. })));
        // Trailing data.
        assert!(matches!(
            der_of(&[0x05, 0x00, 0x05], 100),
            Err(SecurityError::Malformed { offset: 2, .. })
        ));
        // High tag numbers, and one that overflows u32.
        assert_eq!(der_of(&[0x9F, 0x81, 0x49, 0x00], 10).unwrap(), [0x9F, 0x81, 0x49, 0x00]);
        assert!(der_of(&[0x9F, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0x00], 10).is_err());
    }

    #[test]
    fn streams_octet_strings() {
        assert_eq!(stream(&[0x04, 0x03, 1, 2, 3]).unwrap(), [1, 2, 3]);
        // [0] IMPLICIT, constructed, indefinite, with a nested definite chunk and an empty one.
        let ber =
            [0xA0, 0x80, 0x04, 0x01, 1, 0x24, 0x05, 0x04, 0x00, 0x04, 0x01, 2, 0x04, 0x01, 3, 0, 0];
        assert_eq!(stream(&ber).unwrap(), [1, 2, 3]);
        // Wrong chunk type.
        assert!(stream(&[0x24, 0x80, 0x02, 0x01, 1, 0, 0]).is_err());
        // Missing end-of-contents.
        assert!(stream(&[0x24, 0x80, 0x04, 0x01, 1]).is_err());
        // Chunk runs past a definite parent.
        assert!(stream(&[0x24, 0x03, 0x04, 0x02, 1, 2]).is_err());
    }

    #[test]
    fn frames() {
        let der = [0x30, 0x06, 0x02, 0x01, 0x05, 0x31, 0x01, 0x05];
        let mut r = Reader::new(&der[..], "Test");
        let seq = r.expect(Tag::SEQUENCE).unwrap();
        r.enter(&seq).unwrap();
        assert!(!r.at_end().unwrap());
        assert_eq!(r.read_element(10).unwrap(), [0x02, 0x01, 0x05]);
        // The SET claims one octet; its child header alone needs two.
        let set = r.expect(Tag::SET).unwrap();
        r.enter(&set).unwrap();
        assert!(r.read_header().is_err());
    }
}
