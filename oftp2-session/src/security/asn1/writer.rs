//! The streaming writer: definite TLVs, indefinite-length headers, end-of-contents and
//! chunked OCTET STRINGs.

use std::io::{self, Write};

use super::{Class, Length, Tag};

/// Appends an element's identifier and length octets to `out`; `length` `None` writes the
/// indefinite form (only meaningful for a constructed tag).
pub fn encode_header(tag: Tag, length: Option<u64>, out: &mut Vec<u8>) {
    let class_bits: u8 = match tag.class {
        Class::Universal => 0x00,
        Class::Application => 0x40,
        Class::ContextSpecific => 0x80,
        Class::Private => 0xC0,
    };
    let form_bit: u8 = if tag.constructed { 0x20 } else { 0x00 };
    if tag.number < 31 {
        // `number < 31` fits in the low five bits.
        out.push(class_bits | form_bit | (tag.number as u8));
    } else {
        out.push(class_bits | form_bit | 0x1F);
        let mut groups = [0u8; 5];
        let mut count = 0;
        let mut n = tag.number;
        loop {
            if let Some(slot) = groups.get_mut(count) {
                *slot = (n & 0x7F) as u8;
            }
            count += 1;
            n >>= 7;
            if n == 0 {
                break;
            }
        }
        for i in (0..count).rev() {
            let more = if i == 0 { 0x00 } else { 0x80 };
            out.push(groups.get(i).copied().unwrap_or(0) | more);
        }
    }
    match length {
        None => out.push(0x80),
        Some(n) if n < 0x80 => out.push(n as u8),
        Some(n) => {
            let bytes = n.to_be_bytes();
            let skip = bytes.iter().take_while(|b| **b == 0).count();
            let significant = bytes.get(skip..).unwrap_or(&[]);
            out.push(0x80 | significant.len() as u8);
            out.extend_from_slice(significant);
        }
    }
}

/// The DER of one primitive or constructed element with the given contents.
pub fn encode_tlv(tag: Tag, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 10);
    encode_header(tag, Some(content.len() as u64), &mut out);
    out.extend_from_slice(content);
    out
}

/// Writes BER/DER elements to an [`io::Write`], counting the octets written.
#[derive(Debug)]
pub struct Writer<W> {
    out: W,
    written: u64,
}

impl<W: Write> Writer<W> {
    /// A writer at offset 0 of `out`.
    pub fn new(out: W) -> Self {
        Writer { out, written: 0 }
    }

    /// How many octets have been written.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Writes identifier and length octets.
    pub fn header(&mut self, tag: Tag, length: Length) -> io::Result<()> {
        let mut buf = Vec::with_capacity(16);
        let length = match length {
            Length::Definite(n) => Some(n),
            Length::Indefinite => None,
        };
        encode_header(tag, length, &mut buf);
        self.raw(&buf)
    }

    /// Writes a complete element with definite length.
    pub fn tlv(&mut self, tag: Tag, content: &[u8]) -> io::Result<()> {
        self.header(tag, Length::Definite(content.len() as u64))?;
        self.raw(content)
    }

    /// Writes octets as they are (a pre-encoded DER element, or contents).
    pub fn raw(&mut self, octets: &[u8]) -> io::Result<()> {
        self.out.write_all(octets)?;
        self.written += octets.len() as u64;
        Ok(())
    }

    /// Opens a constructed element of indefinite length; close it with [`Writer::eoc`].
    pub fn indefinite(&mut self, tag: Tag) -> io::Result<()> {
        self.header(tag.constructed(), Length::Indefinite)
    }

    /// Writes an end-of-contents element (`00 00`), closing the innermost indefinite length.
    pub fn eoc(&mut self) -> io::Result<()> {
        self.raw(&[0, 0])
    }

    /// Opens a CMS structure of type `content_type`: with `wrapped`, a ContentInfo
    /// (RFC 5652 §3) and its `[0] EXPLICIT` around it; then the structure's own SEQUENCE.
    /// All of indefinite length; close with [`Writer::end_content_info`].
    pub fn start_content_info(
        &mut self,
        content_type: &der::asn1::ObjectIdentifier,
        wrapped: bool,
    ) -> io::Result<()> {
        if wrapped {
            self.indefinite(Tag::SEQUENCE)?;
            self.tlv(Tag::OID, content_type.as_bytes())?;
            self.indefinite(Tag::context(0, true))?;
        }
        self.indefinite(Tag::SEQUENCE)
    }

    /// Closes what [`Writer::start_content_info`] opened.
    pub fn end_content_info(&mut self, wrapped: bool) -> io::Result<()> {
        self.eoc()?;
        if wrapped {
            self.eoc()?;
            self.eoc()?;
        }
        Ok(())
    }

    /// Flushes the underlying writer.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// The underlying writer.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.out
    }

    /// Gives back the underlying writer.
    pub fn into_inner(self) -> W {
        self.out
    }
}

/// Streams content as a constructed, indefinite-length OCTET STRING (or an implicitly
/// tagged one such as EncryptedContentInfo's `[0] encryptedContent`) made of primitive
/// OCTET STRING chunks of at most the chunk size.
#[derive(Debug)]
pub struct OctetStringWriter<W> {
    writer: Writer<W>,
    buf: Vec<u8>,
    chunk: usize,
}

impl<W: Write> OctetStringWriter<W> {
    /// Writes the indefinite-length header of `tag` (made constructed) and returns a writer
    /// for the content; `chunk_size` (at least 1) bounds each primitive chunk.
    pub fn new(mut writer: Writer<W>, tag: Tag, chunk_size: usize) -> io::Result<Self> {
        writer.indefinite(tag)?;
        let chunk = chunk_size.max(1);
        Ok(OctetStringWriter { writer, buf: Vec::with_capacity(chunk), chunk })
    }

    fn emit(&mut self, chunk: &[u8]) -> io::Result<()> {
        if chunk.is_empty() {
            return Ok(());
        }
        self.writer.tlv(Tag::OCTET_STRING, chunk)
    }

    /// Writes the last chunk and the end-of-contents, and gives back the element writer.
    pub fn finish(mut self) -> io::Result<Writer<W>> {
        let rest = std::mem::take(&mut self.buf);
        self.emit(&rest)?;
        self.writer.eoc()?;
        Ok(self.writer)
    }
}

impl<W: Write> Write for OctetStringWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let mut rest = data;
        if !self.buf.is_empty() {
            let room = self.chunk - self.buf.len();
            let (now, later) = rest.split_at(room.min(rest.len()));
            self.buf.extend_from_slice(now);
            rest = later;
            if self.buf.len() == self.chunk {
                let full = std::mem::take(&mut self.buf);
                self.emit(&full)?;
                self.buf = full;
                self.buf.clear();
            }
        }
        while rest.len() >= self.chunk {
            let (now, later) = rest.split_at(self.chunk);
            self.emit(now)?;
            rest = later;
        }
        self.buf.extend_from_slice(rest);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.writer.flush()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn headers() {
        let mut v = Vec::new();
        encode_header(Tag::SEQUENCE, Some(0x1234), &mut v);
        assert_eq!(v, [0x30, 0x82, 0x12, 0x34]);
        v.clear();
        encode_header(Tag::context(0, true), None, &mut v);
        assert_eq!(v, [0xA0, 0x80]);
        v.clear();
        encode_header(Tag::context(201, false), Some(5), &mut v);
        assert_eq!(v, [0x9F, 0x81, 0x49, 0x05]);
        v.clear();
        encode_header(Tag::OCTET_STRING, Some(0x80), &mut v);
        assert_eq!(v, [0x04, 0x81, 0x80]);
    }

    #[test]
    fn chunks() {
        let mut w = OctetStringWriter::new(Writer::new(Vec::new()), Tag::OCTET_STRING, 3).unwrap();
        w.write_all(b"ab").unwrap();
        w.write_all(b"cdefgh").unwrap();
        w.write_all(b"").unwrap();
        let out = w.finish().unwrap().into_inner();
        assert_eq!(
            out,
            [0x24, 0x80, 4, 3, b'a', b'b', b'c', 4, 3, b'd', b'e', b'f', 4, 2, b'g', b'h', 0, 0]
        );
    }
}
