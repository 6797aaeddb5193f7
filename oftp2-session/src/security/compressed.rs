//! CMS CompressedData (RFC 3274; RFC 5024 §6.4 "compress"): content compressed with zlib
//! (id-alg-zlibCompress, RFC 1950), streamed both ways.
//!
//! ```text
//! ContentInfo ::= SEQUENCE { contentType id-ct-compressedData, content [0] EXPLICIT CompressedData }
//! CompressedData ::= SEQUENCE {
//!   version CMSVersion,                                 -- 0
//!   compressionAlgorithm CompressionAlgorithmIdentifier, -- id-alg-zlibCompress, no parameters
//!   encapContentInfo EncapsulatedContentInfo }
//! EncapsulatedContentInfo ::= SEQUENCE {
//!   eContentType ContentType,
//!   eContent [0] EXPLICIT OCTET STRING OPTIONAL }       -- the zlib stream
//! ```
//!
//! [`CompressedWriter`] writes BER with indefinite lengths and `eContent` in chunks;
//! [`CompressedReader`] reads DER or BER, with or without the ContentInfo, and inflates
//! with bounded memory. A corrupt or truncated zlib stream (its Adler-32 is checked), or
//! data after it, is [`SecurityError::Decompression`].
//!
//! Decompression bombs: zlib inflates up to about 1000:1, so a small file can stand for a
//! huge one. Whether that is acceptable is a policy question (an OFTP2 file may
//! legitimately be many GiB, and the SFID announces the original size, SFIDOSIZ, only
//! approximately), so the reader has no limit by default; [`CompressedReader::with_limit`]
//! sets one (for example a generous multiple of SFIDOSIZ), past which reading fails with
//! [`SecurityError::Decompression`].

use std::io::{self, Read, Write};

use der::asn1::ObjectIdentifier;
use flate2::write::ZlibEncoder;
use flate2::{Compression, Decompress, FlushDecompress, Status};
use spki::AlgorithmIdentifierOwned;

use super::asn1::{encode_tlv, OctetStringReader, OctetStringWriter, Reader, Tag, Writer};
use super::suite::{ID_ALG_ZLIB_COMPRESS, ID_CT_COMPRESSED_DATA};
use super::SecurityError;

/// The size of the chunks of `eContent` written, and of the input buffer when reading.
const CHUNK: usize = 16 * 1024;

/// Writes a CompressedData, compressing what is written to it. Call
/// [`CompressedWriter::finish`] at the end; dropping the writer leaves the output
/// incomplete.
pub struct CompressedWriter<W: Write> {
    encoder: ZlibEncoder<OctetStringWriter<W>>,
    wrapped: bool,
}

impl<W: Write> CompressedWriter<W> {
    /// Starts a ContentInfo holding a CompressedData whose compressed content has type
    /// `content_type` (id-data, or id-signedData when nesting), at zlib's default level.
    pub fn new(out: W, content_type: ObjectIdentifier) -> Result<Self, SecurityError> {
        Self::with_options(out, content_type, Compression::default(), true)
    }

    /// [`CompressedWriter::new`] with a compression level and with or without the
    /// ContentInfo around the CompressedData.
    pub fn with_options(
        out: W,
        content_type: ObjectIdentifier,
        level: Compression,
        wrapped: bool,
    ) -> Result<Self, SecurityError> {
        let mut w = Writer::new(out);
        w.start_content_info(&ID_CT_COMPRESSED_DATA, wrapped)?;
        w.tlv(Tag::INTEGER, &[0])?;
        w.tlv(Tag::SEQUENCE, &encode_tlv(Tag::OID, ID_ALG_ZLIB_COMPRESS.as_bytes()))?;
        w.indefinite(Tag::SEQUENCE)?; // EncapsulatedContentInfo
        w.tlv(Tag::OID, content_type.as_bytes())?;
        w.indefinite(Tag::context(0, true))?; // eContent [0] EXPLICIT
        let content = OctetStringWriter::new(w, Tag::OCTET_STRING.constructed(), CHUNK)?;
        Ok(CompressedWriter { encoder: ZlibEncoder::new(content, level), wrapped })
    }

    /// Ends the zlib stream and closes the CompressedData (and ContentInfo); gives back the
    /// output.
    pub fn finish(self) -> Result<W, SecurityError> {
        let mut w = self.encoder.finish()?.finish()?;
        w.eoc()?; // [0] EXPLICIT
        w.eoc()?; // EncapsulatedContentInfo
        w.end_content_info(self.wrapped)?;
        w.flush()?;
        Ok(w.into_inner())
    }
}

impl<W: Write> Write for CompressedWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.encoder.write(data)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.encoder.flush()
    }
}

impl<W: Write> std::fmt::Debug for CompressedWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompressedWriter").field("wrapped", &self.wrapped).finish_non_exhaustive()
    }
}

/// Where the reader is.
enum Source<R> {
    Content(OctetStringReader<R>),
    Done,
    Failed,
}

/// Reads a CompressedData and yields the inflated content. At the end of the zlib stream it
/// checks that the stream fills `eContent` and that the structure ends properly.
pub struct CompressedReader<R: Read> {
    source: Source<R>,
    inflater: Decompress,
    content_type: ObjectIdentifier,
    wrapped: bool,
    inbuf: Vec<u8>,
    start: usize,
    end: usize,
    input_done: bool,
    stream_end: bool,
    limit: Option<u64>,
}

impl<R: Read> CompressedReader<R> {
    /// Reads the header of a CompressedData (in a ContentInfo or bare) up to its
    /// `eContent`.
    pub fn new(input: R) -> Result<Self, SecurityError> {
        let mut r = Reader::new(input, "CompressedData");
        let wrapped = r.enter_content_info(&ID_CT_COMPRESSED_DATA)?;
        let version: u8 = r.decode(16)?;
        if version != 0 {
            return Err(SecurityError::Unsupported {
                what: "CompressedData version",
                found: version.to_string(),
            });
        }
        let algorithm: AlgorithmIdentifierOwned = r.decode(256)?;
        if algorithm.oid != ID_ALG_ZLIB_COMPRESS {
            return Err(SecurityError::Unsupported {
                what: "compression algorithm",
                found: algorithm.oid.to_string(),
            });
        }
        let eci = r.expect(Tag::SEQUENCE)?;
        r.enter(&eci)?;
        r.set_structure("EncapsulatedContentInfo");
        let content_type: ObjectIdentifier = r.decode(128)?;
        if r.at_end()? {
            return Err(SecurityError::Unsupported {
                what: "CompressedData",
                found: "no eContent".to_owned(),
            });
        }
        let explicit = r.expect(Tag::context(0, true))?;
        r.enter(&explicit)?;
        let string = r.expect_type(Tag::OCTET_STRING)?;
        let content = r.into_octet_string(&string)?;
        Ok(CompressedReader {
            source: Source::Content(content),
            inflater: Decompress::new(true),
            content_type,
            wrapped,
            inbuf: vec![0u8; CHUNK],
            start: 0,
            end: 0,
            input_done: false,
            stream_end: false,
            limit: None,
        })
    }

    /// Fails reading with [`SecurityError::Decompression`] once the inflated content
    /// exceeds `limit` octets (a decompression-bomb guard).
    pub fn with_limit(mut self, limit: u64) -> Self {
        self.limit = Some(limit);
        self
    }

    /// The compressed content's type (EncapsulatedContentInfo `eContentType`).
    pub fn content_type(&self) -> &ObjectIdentifier {
        &self.content_type
    }

    fn content(&mut self) -> Result<&mut OctetStringReader<R>, SecurityError> {
        match &mut self.source {
            Source::Content(c) => Ok(c),
            _ => Err(SecurityError::Decompression("read after an error".to_owned())),
        }
    }

    fn inflate(&mut self, buf: &mut [u8]) -> Result<usize, SecurityError> {
        loop {
            if self.stream_end {
                self.close()?;
                return Ok(0);
            }
            if self.start == self.end && !self.input_done {
                let mut inbuf = std::mem::take(&mut self.inbuf);
                let n = self.content()?.read_content(&mut inbuf);
                self.inbuf = inbuf;
                let n = n?;
                self.start = 0;
                self.end = n;
                self.input_done = n == 0;
            }
            let input = self.inbuf.get(self.start..self.end).unwrap_or_default();
            let (in_before, out_before) = (self.inflater.total_in(), self.inflater.total_out());
            let status = self
                .inflater
                .decompress(input, buf, FlushDecompress::None)
                .map_err(|e| SecurityError::Decompression(format!("corrupt zlib stream: {e}")))?;
            let consumed = usize::try_from(self.inflater.total_in() - in_before).unwrap_or(0);
            let produced = usize::try_from(self.inflater.total_out() - out_before).unwrap_or(0);
            self.start = (self.start + consumed).min(self.end);
            if let Some(limit) = self.limit {
                if self.inflater.total_out() > limit {
                    return Err(SecurityError::Decompression(format!(
                        "the inflated content exceeds the limit of {limit} octets"
                    )));
                }
            }
            if status == Status::StreamEnd {
                self.stream_end = true;
            }
            if produced > 0 {
                return Ok(produced);
            }
            if consumed == 0 && !self.stream_end && self.start < self.end {
                return Err(SecurityError::Decompression(
                    "the zlib stream makes no progress".to_owned(),
                ));
            }
            if self.input_done && consumed == 0 && !self.stream_end {
                return Err(SecurityError::Decompression(
                    "the zlib stream is truncated".to_owned(),
                ));
            }
        }
    }

    /// After the zlib stream: nothing may follow it in `eContent`, and the structure must
    /// end properly.
    fn close(&mut self) -> Result<(), SecurityError> {
        let Source::Content(mut content) = std::mem::replace(&mut self.source, Source::Done) else {
            return Ok(());
        };
        let mut probe = [0u8; 1];
        if self.start != self.end || content.read_content(&mut probe)? > 0 {
            self.source = Source::Failed;
            return Err(SecurityError::Decompression(
                "data after the end of the zlib stream".to_owned(),
            ));
        }
        let mut r = content.into_reader()?;
        r.leave()?; // [0] EXPLICIT
        r.leave()?; // EncapsulatedContentInfo
        r.set_structure("CompressedData");
        r.leave()?;
        r.leave_content_info(self.wrapped)?;
        r.expect_eof()
    }

    fn read_plain(&mut self, buf: &mut [u8]) -> Result<usize, SecurityError> {
        if buf.is_empty() {
            return Ok(0);
        }
        if let Source::Failed = self.source {
            return Err(SecurityError::Decompression("read after an error".to_owned()));
        }
        self.inflate(buf).inspect_err(|_| self.source = Source::Failed)
    }

    /// Reads (and discards) any content not read yet and checks the end of the structure.
    pub fn finish(mut self) -> Result<(), SecurityError> {
        let mut scratch = vec![0u8; CHUNK];
        while self.read_plain(&mut scratch)? > 0 {}
        Ok(())
    }
}

impl<R: Read> Read for CompressedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.read_plain(buf).map_err(io::Error::from)
    }
}

impl<R: Read> std::fmt::Debug for CompressedReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompressedReader")
            .field("content_type", &self.content_type)
            .field("wrapped", &self.wrapped)
            .finish_non_exhaustive()
    }
}

/// Compresses `content` in memory into a ContentInfo holding a CompressedData (BER).
pub fn compress(content: &[u8], content_type: ObjectIdentifier) -> Result<Vec<u8>, SecurityError> {
    let mut writer = CompressedWriter::new(Vec::new(), content_type)?;
    writer.write_all(content)?;
    writer.finish()
}

/// Inflates a CompressedData held in memory, up to `limit` octets of content: the content
/// type and the content.
pub fn decompress(input: &[u8], limit: u64) -> Result<(ObjectIdentifier, Vec<u8>), SecurityError> {
    let mut reader = CompressedReader::new(input)?.with_limit(limit);
    let mut content = Vec::new();
    reader.read_to_end(&mut content)?;
    let content_type = *reader.content_type();
    reader.finish()?;
    Ok((content_type, content))
}
