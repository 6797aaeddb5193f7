//! [`StbCodec`]: Stream Transmission Buffers (RFC 5024 §8) as a tokio-util codec.
//!
//! Every OFTP exchange buffer travels behind a 4-octet Stream Transmission Header. The
//! decoder cuts complete exchange buffers out of the byte stream with the codec's
//! [`Deframer`], so a header announcing a buffer larger than the negotiated SSIDSDEB is
//! refused as soon as its four octets have arrived, before any of the buffer is held in
//! memory. The encoder writes header and buffer, and refuses an empty buffer (a
//! zero-length stream buffer is never sent).
//!
//! ```
//! use bytes::{Bytes, BytesMut};
//! use oftp2_session::transport::StbCodec;
//! use tokio_util::codec::{Decoder, Encoder};
//!
//! let mut codec = StbCodec::new();
//! let mut wire = BytesMut::new();
//! codec.encode(Bytes::from_static(b"P"), &mut wire)?; // RTR
//! assert_eq!(&wire[..], &[0x10, 0x00, 0x00, 0x05, b'P']);
//! assert_eq!(codec.decode(&mut wire)?, Some(Bytes::from_static(b"P")));
//! assert!(codec.encode(Bytes::new(), &mut wire).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io;

use bytes::{Bytes, BytesMut};
use oftp2_codec::fields::BufferSize;
use oftp2_codec::reason::EsidReason;
use oftp2_codec::sth::{Deframer, StreamTransmissionHeader, HEADER_LEN};
use oftp2_codec::{EncodeError, Malformed};
use tokio_util::codec::{Decoder, Encoder};

/// Why reading or writing Stream Transmission Buffers failed.
///
/// A [`FramingError::Malformed`] is the peer's fault and ends the session with the ESID
/// reason it carries ([`FramingError::esid_reason`]); [`FramingError::Io`] means the
/// connection itself failed (or, over TLS, the TLS layer did: its message says why);
/// [`FramingError::Encode`] is a misuse by the caller (an empty or oversize buffer).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FramingError {
    /// The peer sent a stream transmission header that is wrong or announces a buffer
    /// larger than the negotiated maximum: answer with ESID `reason` (07).
    #[error("the peer sent an invalid stream transmission buffer: {0}")]
    Malformed(#[from] Malformed),
    /// We were asked to send an exchange buffer that cannot be framed (empty, or over
    /// 99,999 octets). Nothing was written.
    #[error("cannot send this exchange buffer: {0}")]
    Encode(#[from] EncodeError),
    /// Reading or writing the connection failed.
    #[error("connection error: {0}")]
    Io(#[from] io::Error),
}

impl FramingError {
    /// The ESID reason the session ends with when the peer sent a malformed buffer;
    /// `None` for errors that are not the peer's protocol violation.
    pub fn esid_reason(&self) -> Option<EsidReason> {
        match self {
            FramingError::Malformed(malformed) => Some(malformed.reason),
            FramingError::Encode(_) | FramingError::Io(_) => None,
        }
    }
}

/// Decodes and encodes Stream Transmission Buffers: one item is one exchange buffer,
/// without its header.
///
/// Use it with [`tokio_util::codec::Framed`] over a
/// [`Connection`](crate::transport::Connection) (or any `AsyncRead + AsyncWrite`). Until
/// the session has negotiated SSIDSDEB, buffers of up to 99,999 octets are accepted; call
/// [`StbCodec::set_max_exchange_buffer`] (through `Framed::codec_mut`) once it has.
///
/// The encoder takes [`Bytes`] and `&[u8]`; as the sink has two item types, calls that
/// send nothing name one: `SinkExt::<Bytes>::flush(&mut framed)`.
#[derive(Debug, Clone, Default)]
pub struct StbCodec {
    deframer: Deframer,
}

impl StbCodec {
    /// A codec accepting exchange buffers of up to 99,999 octets.
    pub fn new() -> Self {
        StbCodec { deframer: Deframer::new() }
    }

    /// Accepts exchange buffers of at most `size` octets from now on (the negotiated
    /// SSIDSDEB). A longer one is refused with ESID 07 before it is buffered.
    pub fn set_max_exchange_buffer(&mut self, size: BufferSize) {
        self.deframer.set_max_exchange_buffer(size);
    }

    /// The largest exchange buffer accepted.
    pub fn max_exchange_buffer(&self) -> usize {
        self.deframer.max_exchange_buffer()
    }
}

impl Decoder for StbCodec {
    type Item = Bytes;
    type Error = FramingError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, FramingError> {
        Ok(self.deframer.decode(src)?)
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, FramingError> {
        match self.decode(src)? {
            Some(buffer) => Ok(Some(buffer)),
            None if src.is_empty() => Ok(None),
            None => Err(FramingError::Io(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "the connection closed in the middle of a stream transmission buffer \
                     ({} octet(s) of it received)",
                    src.len()
                ),
            ))),
        }
    }
}

impl Encoder<&[u8]> for StbCodec {
    type Error = FramingError;

    fn encode(&mut self, buffer: &[u8], dst: &mut BytesMut) -> Result<(), FramingError> {
        let header = StreamTransmissionHeader::for_exchange_buffer(buffer.len())?;
        dst.reserve(HEADER_LEN + buffer.len());
        dst.extend_from_slice(&header.to_octets());
        dst.extend_from_slice(buffer);
        Ok(())
    }
}

impl Encoder<Bytes> for StbCodec {
    type Error = FramingError;

    fn encode(&mut self, buffer: Bytes, dst: &mut BytesMut) -> Result<(), FramingError> {
        self.encode(&buffer[..], dst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_empty_and_oversize() {
        let mut codec = StbCodec::new();
        let mut out = BytesMut::new();
        assert!(matches!(codec.encode(&b""[..], &mut out), Err(FramingError::Encode(_))));
        assert!(matches!(
            codec.encode(&vec![0u8; 100_000][..], &mut out),
            Err(FramingError::Encode(_))
        ));
        assert!(out.is_empty());
        codec.encode(&vec![7u8; 99_999][..], &mut out).unwrap();
        assert_eq!(out.len(), 100_003);
        assert_eq!(codec.decode(&mut out).unwrap().unwrap().len(), 99_999);
    }

    #[test]
    fn eof_inside_a_buffer_is_an_error() {
        let mut codec = StbCodec::new();
        let mut partial = BytesMut::from(&[0x10, 0, 0, 9, b'X'][..]);
        assert_eq!(codec.decode(&mut partial).unwrap(), None);
        let err = codec.decode_eof(&mut partial).unwrap_err();
        assert!(matches!(&err, FramingError::Io(e) if e.kind() == io::ErrorKind::UnexpectedEof));
        assert_eq!(codec.decode_eof(&mut BytesMut::new()).unwrap(), None);
    }
}
