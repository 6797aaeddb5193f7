//! The Stream Transmission Header (§8): how exchange buffers travel over TCP.
//!
//! Every exchange buffer is sent as a Stream Transmission Buffer: a 4-octet header
//! (version `0001`, flags `0000`, and a 24-bit length of header plus buffer, 5..=100003)
//! followed by the buffer. [`Deframer`] cuts buffers out of a stream incrementally;
//! [`frame`] writes one.
//!
//! ```
//! use bytes::BytesMut;
//! use oftp2_codec::sth::{frame, Deframer};
//!
//! let mut stream = BytesMut::new();
//! frame(b"R", &mut stream)?; // CD
//! frame(b"P", &mut stream)?; // RTR
//! assert_eq!(&stream[..5], &[0x10, 0x00, 0x00, 0x05, b'R']);
//!
//! let mut deframer = Deframer::new();
//! let mut partial = stream.split_to(3); // only part of the first header has arrived
//! assert_eq!(deframer.decode(&mut partial)?, None);
//! partial.unsplit(stream);
//! assert_eq!(&deframer.decode(&mut partial)?.unwrap()[..], b"R");
//! assert_eq!(&deframer.decode(&mut partial)?.unwrap()[..], b"P");
//! assert_eq!(deframer.decode(&mut partial)?, None);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use bytes::{BufMut, Bytes, BytesMut};

use crate::command::MAX_EXCHANGE_BUFFER;
use crate::error::{DecodeError, EncodeError, Expected, Found, Malformed};
use crate::fields::BufferSize;
use crate::reason::EsidReason;

/// Octets in a stream transmission header.
pub const HEADER_LEN: usize = 4;
/// The smallest Stream Transmission Buffer: a header and a 1-octet exchange buffer.
pub const MIN_LENGTH: usize = HEADER_LEN + 1;
/// The largest Stream Transmission Buffer: a header and a 99,999-octet exchange buffer.
pub const MAX_LENGTH: usize = HEADER_LEN + MAX_EXCHANGE_BUFFER;

const VERSION: u8 = 0x1;

/// A Stream Transmission Header: the length of the Stream Transmission Buffer it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StreamTransmissionHeader {
    length: u32,
}

impl StreamTransmissionHeader {
    /// The header for an exchange buffer of `buffer_len` octets (1..=99999).
    pub fn for_exchange_buffer(buffer_len: usize) -> Result<Self, EncodeError> {
        if buffer_len == 0 || buffer_len > MAX_EXCHANGE_BUFFER {
            return Err(EncodeError::TooLong {
                item: if buffer_len == 0 { "empty exchange buffer" } else { "exchange buffer" },
                length: buffer_len,
                limit: MAX_EXCHANGE_BUFFER,
            });
        }
        Ok(Self { length: (buffer_len + HEADER_LEN) as u32 })
    }

    /// Length: header plus exchange buffer, 5..=100003.
    pub fn length(self) -> usize {
        self.length as usize
    }

    /// The exchange buffer's length.
    pub fn exchange_buffer_len(self) -> usize {
        self.length() - HEADER_LEN
    }

    /// The four header octets.
    pub fn to_octets(self) -> [u8; 4] {
        let [_, a, b, c] = self.length.to_be_bytes();
        [VERSION << 4, a, b, c]
    }

    /// Reads a header from the start of `input`.
    ///
    /// The version must be `0001`; the flags, reserved, are ignored (§8.2 asks receivers
    /// to be liberal). A length outside 5..=100003 is an exchange buffer size error: a
    /// zero-length exchange buffer is never valid.
    pub fn decode(input: &[u8]) -> Result<Self, DecodeError> {
        let Some(&[first, a, b, c]) = input.first_chunk::<4>() else {
            return Err(DecodeError::Incomplete { needed: HEADER_LEN - input.len() });
        };
        if first >> 4 != VERSION {
            return Err(Malformed {
                item: "STH",
                field: "Version",
                offset: 0,
                expected: Expected::Literal("0001"),
                found: Found::octets(&[first]),
                reason: EsidReason::EXCHANGE_BUFFER_SIZE_ERROR,
            }
            .into());
        }
        let length = u32::from_be_bytes([0, a, b, c]);
        if !(MIN_LENGTH as u32..=MAX_LENGTH as u32).contains(&length) {
            return Err(Malformed {
                item: "STH",
                field: "Length",
                offset: 1,
                expected: Expected::Format("5..=100003 (header and a non-empty exchange buffer)"),
                found: Found::Length(length as usize),
                reason: EsidReason::EXCHANGE_BUFFER_SIZE_ERROR,
            }
            .into());
        }
        Ok(Self { length })
    }
}

/// Writes `exchange_buffer` with its stream transmission header into `out`.
pub fn frame<B: BufMut + ?Sized>(exchange_buffer: &[u8], out: &mut B) -> Result<(), EncodeError> {
    let header = StreamTransmissionHeader::for_exchange_buffer(exchange_buffer.len())?;
    out.put_slice(&header.to_octets());
    out.put_slice(exchange_buffer);
    Ok(())
}

/// Cuts exchange buffers out of a byte stream, one Stream Transmission Buffer at a time.
///
/// Until the session has negotiated SSIDSDEB, buffers of up to 99,999 octets are accepted;
/// afterwards [`Deframer::set_max_exchange_buffer`] lowers the limit, and a longer buffer is
/// reported as an exchange buffer size error (ESID 07) as soon as its header arrives, before
/// its octets are buffered.
#[derive(Debug, Clone)]
pub struct Deframer {
    max_exchange_buffer: usize,
}

impl Default for Deframer {
    fn default() -> Self {
        Self::new()
    }
}

impl Deframer {
    /// A deframer accepting exchange buffers of up to 99,999 octets.
    pub fn new() -> Self {
        Self { max_exchange_buffer: MAX_EXCHANGE_BUFFER }
    }

    /// Accepts exchange buffers of at most `size` octets from now on (the negotiated SSIDSDEB).
    pub fn set_max_exchange_buffer(&mut self, size: BufferSize) {
        self.max_exchange_buffer = size.octets();
    }

    /// The largest exchange buffer accepted.
    pub fn max_exchange_buffer(&self) -> usize {
        self.max_exchange_buffer
    }

    /// How many octets of `stream` the next call needs to make progress, at least.
    pub fn needed(&self, stream: &[u8]) -> usize {
        match StreamTransmissionHeader::decode(stream) {
            Ok(header) => header.length().saturating_sub(stream.len()),
            Err(DecodeError::Incomplete { needed }) => needed,
            Err(DecodeError::Malformed(_)) => 0,
        }
    }

    /// Takes the next exchange buffer off the front of `stream`, or `None` if it has not
    /// arrived completely (nothing is consumed then).
    pub fn decode(&mut self, stream: &mut BytesMut) -> Result<Option<Bytes>, Malformed> {
        let header = match StreamTransmissionHeader::decode(stream) {
            Ok(header) => header,
            Err(DecodeError::Incomplete { .. }) => return Ok(None),
            Err(DecodeError::Malformed(malformed)) => return Err(malformed),
        };
        if header.exchange_buffer_len() > self.max_exchange_buffer {
            return Err(Malformed {
                item: "STH",
                field: "Length",
                offset: 1,
                expected: Expected::Length(self.max_exchange_buffer + HEADER_LEN),
                found: Found::Length(header.length()),
                reason: EsidReason::EXCHANGE_BUFFER_SIZE_ERROR,
            });
        }
        if stream.len() < header.length() {
            stream.reserve(header.length() - stream.len());
            return Ok(None);
        }
        let mut stb = stream.split_to(header.length());
        Ok(Some(stb.split_off(HEADER_LEN).freeze()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_octets() {
        let h = StreamTransmissionHeader::for_exchange_buffer(99_999).unwrap();
        assert_eq!(h.to_octets(), [0x10, 0x01, 0x86, 0xA3]);
        assert_eq!(StreamTransmissionHeader::decode(&h.to_octets()).unwrap(), h);
        assert!(StreamTransmissionHeader::for_exchange_buffer(0).is_err());
        assert!(StreamTransmissionHeader::for_exchange_buffer(100_000).is_err());
    }

    #[test]
    fn refuses_bad_headers() {
        for bad in [[0x10, 0, 0, 4], [0x10, 0, 0, 0], [0x10, 0x01, 0x86, 0xA4], [0x20, 0, 0, 5]] {
            let err = StreamTransmissionHeader::decode(&bad).unwrap_err();
            assert_eq!(err.esid_reason(), EsidReason::EXCHANGE_BUFFER_SIZE_ERROR, "{bad:?}");
        }
        // Flags are reserved and ignored.
        assert!(StreamTransmissionHeader::decode(&[0x1F, 0, 0, 5]).is_ok());
    }

    #[test]
    fn oversize_buffer_reported_before_it_arrives() {
        let mut d = Deframer::new();
        d.set_max_exchange_buffer(BufferSize::new(128).unwrap());
        let mut stream = BytesMut::from(&[0x10, 0x00, 0x00, 133][..]);
        let err = d.decode(&mut stream).unwrap_err();
        assert_eq!(err.reason, EsidReason::EXCHANGE_BUFFER_SIZE_ERROR);
        assert_eq!(err.expected, Expected::Length(132));
        let mut stream = BytesMut::from(&[0x10, 0x00, 0x00, 132][..]);
        assert_eq!(d.decode(&mut stream).unwrap(), None);
    }
}
