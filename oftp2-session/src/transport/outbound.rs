//! [`Outbound`]: exchange buffers on their way out, each behind its Stream Transmission
//! Header (§8), written with vectored writes.
//!
//! A tokio-util `Framed` sink copies every buffer into its write buffer before writing
//! it; here the 4-octet header and the buffer go to the connection as they are, side by
//! side in one vectored write (over TLS, rustls copies them once, into the records it
//! encrypts). A writer that cannot write vectored gets them gathered into one buffer.

use std::collections::VecDeque;
use std::io::{self, IoSlice};

use bytes::{Buf, Bytes, BytesMut};
use oftp2_codec::sth::{StreamTransmissionHeader, HEADER_LEN};
use oftp2_codec::EncodeError;
use tokio::io::{AsyncWrite, AsyncWriteExt};

/// At most this many pieces (headers and buffers) go into one vectored write.
const MAX_SLICES: usize = 64;

/// Stream Transmission Buffers waiting to be written (see the module documentation).
#[derive(Debug, Default)]
pub(crate) struct Outbound {
    /// Headers and exchange buffers, in order; the first may be partly written.
    pieces: VecDeque<Bytes>,
    /// The octets in `pieces`.
    octets: usize,
}

impl Outbound {
    /// Queues `buffer` behind its header; refuses an empty or oversize one (nothing is
    /// queued then).
    pub(crate) fn push(&mut self, buffer: Bytes) -> Result<(), EncodeError> {
        let header = StreamTransmissionHeader::for_exchange_buffer(buffer.len())?;
        self.octets += HEADER_LEN + buffer.len();
        self.pieces.push_back(Bytes::copy_from_slice(&header.to_octets()));
        self.pieces.push_back(buffer);
        Ok(())
    }

    /// The octets waiting.
    pub(crate) fn len(&self) -> usize {
        self.octets
    }

    /// Writes everything queued to `io` (without flushing it).
    pub(crate) async fn write_to<T: AsyncWrite + Unpin>(&mut self, io: &mut T) -> io::Result<()> {
        while !self.pieces.is_empty() {
            let written = if io.is_write_vectored() {
                let mut slices = [IoSlice::new(&[]); MAX_SLICES];
                let mut used = 0;
                for (slice, piece) in slices.iter_mut().zip(&self.pieces) {
                    *slice = IoSlice::new(piece);
                    used += 1;
                }
                io.write_vectored(slices.get(..used).unwrap_or_default()).await?
            } else {
                if self.pieces.len() > 1 {
                    let mut gathered = BytesMut::with_capacity(self.octets);
                    for piece in self.pieces.drain(..) {
                        gathered.extend_from_slice(&piece);
                    }
                    self.pieces.push_back(gathered.freeze());
                }
                io.write(self.pieces.front().map_or(&[][..], |p| &p[..])).await?
            };
            if written == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            self.consume(written);
        }
        Ok(())
    }

    /// Drops `n` written octets off the front.
    fn consume(&mut self, mut n: usize) {
        self.octets -= n;
        while n > 0 {
            let Some(front) = self.pieces.front_mut() else { return };
            if n < front.len() {
                front.advance(n);
                return;
            }
            n -= front.len();
            self.pieces.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use crate::transport::StbCodec;
    use tokio_util::codec::Decoder;

    /// A writer taking at most `limit` octets a call, vectored or not.
    struct Trickle {
        written: Vec<u8>,
        limit: usize,
        vectored: bool,
    }

    impl AsyncWrite for Trickle {
        fn poll_write(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            let n = buf.len().min(self.limit);
            self.written.extend_from_slice(&buf[..n]);
            Poll::Ready(Ok(n))
        }

        fn poll_write_vectored(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            bufs: &[IoSlice<'_>],
        ) -> Poll<io::Result<usize>> {
            let mut n = 0;
            for buf in bufs {
                let take = buf.len().min(self.limit - n);
                self.written.extend_from_slice(&buf[..take]);
                n += take;
            }
            Poll::Ready(Ok(n))
        }

        fn is_write_vectored(&self) -> bool {
            self.vectored
        }

        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }

        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    #[tokio::test]
    async fn writes_every_buffer_behind_its_header_however_the_writer_cuts() {
        let buffers: Vec<Bytes> =
            (1..200usize).map(|n| Bytes::from(vec![(n % 251) as u8; n * 37 % 5000 + 1])).collect();
        for vectored in [true, false] {
            for limit in [1, 3, 4, 5, 1000, 1 << 20] {
                let mut out = Outbound::default();
                for buffer in &buffers {
                    out.push(buffer.clone()).unwrap();
                }
                let total: usize = buffers.iter().map(|b| b.len() + HEADER_LEN).sum();
                assert_eq!(out.len(), total);
                let mut writer = Trickle { written: Vec::new(), limit, vectored };
                out.write_to(&mut writer).await.unwrap();
                assert_eq!(out.len(), 0);
                let mut wire = BytesMut::from(&writer.written[..]);
                let mut codec = StbCodec::new();
                for buffer in &buffers {
                    assert_eq!(codec.decode(&mut wire).unwrap().as_ref(), Some(buffer));
                }
                assert!(wire.is_empty(), "vectored {vectored}, limit {limit}");
            }
        }
    }

    #[test]
    fn refuses_empty_and_oversize_buffers() {
        let mut out = Outbound::default();
        assert!(out.push(Bytes::new()).is_err());
        assert!(out.push(Bytes::from(vec![0; 100_000])).is_err());
        assert_eq!(out.len(), 0);
    }
}
