//! The transport layer: OFTP's byte stream over TCP or TLS, cut into exchange buffers.
//!
//! - [`StbCodec`] frames exchange buffers with their Stream Transmission Header (RFC 5024
//!   §8) as a tokio-util codec over any `AsyncRead + AsyncWrite`; a header announcing more
//!   than the negotiated buffer size is a [`FramingError::Malformed`] carrying ESID 07.
//! - [`connect`] opens a [`Connection`] to a partner over TLS or plain TCP
//!   ([`ClientSecurity`]); [`Listener`] accepts them ([`ServerSecurity`]). TLS runs on
//!   rustls with its default provider (aws-lc-rs), TLS 1.2 at least (RFC 8996), the
//!   peer verified against configured trust anchors only; plain TCP only when asked for.
//! - [`tls`] builds the rustls configurations from certificate files or from a
//!   [`Config`](crate::config::Config), and holds a partner identified by SSID to its
//!   client certificate settings ([`tls::check_partner_certificate`]).
//! - [`TransportError`] says what failed in words a user can act on: DNS, refused or
//!   timed-out connects, and TLS failures classified as a [`TlsProblem`] (untrusted,
//!   expired or misnamed certificate, client certificate missing or rejected, ...).
//!
//! With TLS the responder speaks first (SSRM) once the handshake is done (§2.3): a TLS
//! 1.3 server that rejects our client certificate says so only then, so that failure
//! arrives from the first read as an `io::Error` holding a [`TransportError`]
//! ([`TransportError::in_io`]).
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use futures_util::{SinkExt, StreamExt};
//! use oftp2_session::transport::{connect, ClientSecurity, StbCodec};
//! use tokio_util::codec::Framed;
//!
//! let connection =
//!     connect("127.0.0.1:3305", &ClientSecurity::PlainTcp, Duration::from_secs(30)).await?;
//! let mut framed = Framed::new(connection, StbCodec::new());
//! let ssrm = framed.next().await.ok_or("connection closed")??;
//! assert_eq!(ssrm.first(), Some(&b'I'));
//! framed.send(&b"X"[..]).await?;
//! # Ok(()) }
//! ```

mod codec;
mod connection;
mod error;
mod outbound;
#[cfg(feature = "tls")]
pub mod tls;

pub use codec::{FramingError, StbCodec};
pub use connection::{
    connect, ClientSecurity, Connection, Incoming, Listener, ServerSecurity,
    DEFAULT_HANDSHAKE_TIMEOUT,
};
#[cfg(feature = "tls")]
pub use error::{Describe, TlsProblem};
pub use error::{Side, TransportError};
pub(crate) use outbound::Outbound;

/// The registered port of plain OFTP (`odette-ftp`, RFC 5024 §2.4).
pub const PLAIN_PORT: u16 = 3305;
/// The registered port of OFTP over TLS (`odette-ftps`, RFC 5024 §2.4).
pub const TLS_PORT: u16 = 6619;
