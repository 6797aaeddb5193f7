//! [`Connection`], [`connect`] and [`Listener`]: TCP and TLS connections behind one type.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
#[cfg(feature = "tls")]
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{timeout_at, Instant};
use tracing::Instrument as _;

#[cfg(feature = "tls")]
use rustls::pki_types::{CertificateDer, ServerName};
#[cfg(feature = "tls")]
use rustls::{ClientConfig, ServerConfig};

#[cfg(feature = "tls")]
use super::error::TlsProblem;
use super::error::{Side, TransportError};

/// How we secure the sessions we open.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ClientSecurity {
    /// Plain TCP (RFC 5024 port 3305): only when a partner is configured for it.
    PlainTcp,
    /// TLS with this configuration; the server's certificate must be valid for
    /// `server_name`, or when it is `None`, for the host part of the address connected to.
    #[cfg(feature = "tls")]
    Tls {
        /// The rustls configuration (see [`client_config`](super::tls::client_config)).
        config: Arc<ClientConfig>,
        /// The name to verify the server's certificate against.
        server_name: Option<ServerName<'static>>,
    },
}

impl ClientSecurity {
    /// TLS with `config`, the server name taken from the address.
    #[cfg(feature = "tls")]
    pub fn tls(config: Arc<ClientConfig>) -> Self {
        ClientSecurity::Tls { config, server_name: None }
    }

    /// The settings for sessions we open to `partner`: plain TCP if it is configured so,
    /// otherwise TLS with its roots (or the default ones), our certificate as client
    /// certificate if one is configured, and its `server_name` if given.
    #[cfg(feature = "tls")]
    pub fn for_partner(
        config: &crate::config::Config,
        partner: &crate::config::Partner,
    ) -> Result<Self, super::tls::TlsConfigError> {
        let Some(tls) = super::tls::client_config_for(config, partner)? else {
            return Ok(ClientSecurity::PlainTcp);
        };
        let server_name = match &partner.transport {
            crate::config::Transport::Tls { server_name: Some(name), .. } => {
                Some(ServerName::try_from(name.clone()).map_err(|_| {
                    super::tls::TlsConfigError::InvalidServerName { name: name.clone() }
                })?)
            }
            _ => None,
        };
        Ok(ClientSecurity::Tls { config: tls, server_name })
    }

    /// Whether this is TLS.
    pub fn is_tls(&self) -> bool {
        !matches!(self, ClientSecurity::PlainTcp)
    }
}

/// How a [`Listener`] secures the connections it accepts.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ServerSecurity {
    /// Plain TCP (RFC 5024 port 3305).
    PlainTcp,
    /// TLS (port 6619) with this configuration (see
    /// [`server_config`](super::tls::server_config) and
    /// [`server_config_for`](super::tls::server_config_for)).
    #[cfg(feature = "tls")]
    Tls(Arc<ServerConfig>),
}

/// The socket under TLS: read through a buffer of [`TLS_READ_BUFFER`] octets.
///
/// rustls reads the socket 4 KiB at a time (its deframer grows by that much), so a TLS
/// stream straight over the socket makes a `recv` call for every 4 KiB: at 1 GB/s over
/// loopback those calls took more CPU time than decrypting. Through the buffer, one `recv`
/// takes what has arrived, up to [`TLS_READ_BUFFER`] octets, and rustls's reads are
/// served from memory. Writes pass straight through.
#[cfg(feature = "tls")]
type TlsSocket = tokio::io::BufReader<TcpStream>;

/// How much one `recv` under TLS takes at most (see [`TlsSocket`]).
#[cfg(feature = "tls")]
const TLS_READ_BUFFER: usize = 64 * 1024;

/// The socket prepared for TLS.
#[cfg(feature = "tls")]
fn tls_socket(tcp: TcpStream) -> TlsSocket {
    tokio::io::BufReader::with_capacity(TLS_READ_BUFFER, tcp)
}

enum Stream {
    Plain(TcpStream),
    #[cfg(feature = "tls")]
    Client(Box<tokio_rustls::client::TlsStream<TlsSocket>>),
    #[cfg(feature = "tls")]
    Server(Box<tokio_rustls::server::TlsStream<TlsSocket>>),
}

/// An open connection to a peer: plain TCP or TLS (as client or server), as one
/// `AsyncRead + AsyncWrite` type. Frame it with
/// [`StbCodec`](super::StbCodec): `Framed::new(connection, StbCodec::new())`.
///
/// Over TLS, a TLS failure reported after the handshake (a TLS 1.3 server rejecting our
/// client certificate, for instance) comes out of reads and writes as an
/// [`io::Error`] holding a [`TransportError`] ([`TransportError::in_io`]) whose message
/// says what went wrong. Shutting the writing half down sends TLS `close_notify` first.
pub struct Connection {
    stream: Stream,
    peer: SocketAddr,
    side: Side,
    /// Whether we had a client certificate to offer (for error messages).
    #[cfg(feature = "tls")]
    have_certificate: bool,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &self.stream {
            Stream::Plain(_) => "plain TCP",
            #[cfg(feature = "tls")]
            Stream::Client(_) => "TLS client",
            #[cfg(feature = "tls")]
            Stream::Server(_) => "TLS server",
        };
        f.debug_struct("Connection").field("kind", &kind).field("peer", &self.peer).finish()
    }
}

impl Connection {
    /// A plain TCP connection over a stream connected elsewhere (`side` says whether we
    /// connected or accepted it). TCP_NODELAY is set.
    pub fn plain(stream: TcpStream, side: Side) -> io::Result<Self> {
        let peer = stream.peer_addr()?;
        set_nodelay(&stream);
        Ok(Connection {
            stream: Stream::Plain(stream),
            peer,
            side,
            #[cfg(feature = "tls")]
            have_certificate: false,
        })
    }

    /// The peer's socket address.
    pub fn peer_addr(&self) -> SocketAddr {
        self.peer
    }

    /// Our socket address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.tcp().local_addr()
    }

    /// The TCP stream underneath.
    pub fn tcp(&self) -> &TcpStream {
        match &self.stream {
            Stream::Plain(tcp) => tcp,
            #[cfg(feature = "tls")]
            Stream::Client(tls) => tls.get_ref().0.get_ref(),
            #[cfg(feature = "tls")]
            Stream::Server(tls) => tls.get_ref().0.get_ref(),
        }
    }

    /// Whether the connection runs over TLS.
    pub fn is_tls(&self) -> bool {
        !matches!(self.stream, Stream::Plain(_))
    }

    /// Which side we are: the one that connected or the one that accepted.
    pub fn side(&self) -> Side {
        self.side
    }

    /// The certificate chain the peer presented in the TLS handshake (leaf first), already
    /// verified against the trust anchors of the configuration. `None` over plain TCP and
    /// when a client presented no certificate.
    #[cfg(feature = "tls")]
    pub fn peer_certificates(&self) -> Option<&[CertificateDer<'static>]> {
        match &self.stream {
            Stream::Plain(_) => None,
            Stream::Client(tls) => tls.get_ref().1.peer_certificates(),
            Stream::Server(tls) => tls.get_ref().1.peer_certificates(),
        }
    }

    /// The TLS version agreed, `None` over plain TCP.
    #[cfg(feature = "tls")]
    pub fn tls_version(&self) -> Option<rustls::ProtocolVersion> {
        match &self.stream {
            Stream::Plain(_) => None,
            Stream::Client(tls) => tls.get_ref().1.protocol_version(),
            Stream::Server(tls) => tls.get_ref().1.protocol_version(),
        }
    }

    /// Turns an I/O error carrying a rustls error into one carrying a [`TransportError`]
    /// that says what went wrong.
    fn explain(&self, error: io::Error) -> io::Error {
        #[cfg(feature = "tls")]
        if let Some(tls) = error.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>()) {
            let side = self.side();
            let problem = TlsProblem::classify(tls, side, self.have_certificate);
            let explained = TransportError::Tls {
                peer: self.peer.to_string(),
                side,
                problem,
                source: tls.clone(),
            };
            return io::Error::new(error.kind(), explained);
        }
        error
    }
}

fn set_nodelay(stream: &TcpStream) {
    if let Err(error) = stream.set_nodelay(true) {
        tracing::debug!(%error, "cannot set TCP_NODELAY");
    }
}

macro_rules! each_stream {
    ($self:ident, $s:ident => $e:expr) => {
        match &mut $self.stream {
            Stream::Plain($s) => $e,
            #[cfg(feature = "tls")]
            Stream::Client($s) => $e,
            #[cfg(feature = "tls")]
            Stream::Server($s) => $e,
        }
    };
}

impl AsyncRead for Connection {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let result = each_stream!(this, s => Pin::new(s).poll_read(cx, buf));
        result.map_err(|e| this.explain(e))
    }
}

impl AsyncWrite for Connection {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = each_stream!(this, s => Pin::new(s).poll_write(cx, buf));
        result.map_err(|e| this.explain(e))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = each_stream!(this, s => Pin::new(s).poll_write_vectored(cx, bufs));
        result.map_err(|e| this.explain(e))
    }

    fn is_write_vectored(&self) -> bool {
        match &self.stream {
            Stream::Plain(s) => s.is_write_vectored(),
            #[cfg(feature = "tls")]
            Stream::Client(s) => s.is_write_vectored(),
            #[cfg(feature = "tls")]
            Stream::Server(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let result = each_stream!(this, s => Pin::new(s).poll_flush(cx));
        result.map_err(|e| this.explain(e))
    }

    /// Over TLS: sends `close_notify`, then shuts the TCP writing half down.
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let result = each_stream!(this, s => Pin::new(s).poll_shutdown(cx));
        result.map_err(|e| this.explain(e))
    }
}

/// Opens a connection to `address` (`host:port`), over TLS or plain TCP as `security`
/// says. Resolving, connecting (each resolved address in turn) and the TLS handshake
/// together may take at most `timeout`. TCP_NODELAY is set.
pub async fn connect(
    address: &str,
    security: &ClientSecurity,
    timeout: Duration,
) -> Result<Connection, TransportError> {
    let span = tracing::info_span!("connect", address, tls = security.is_tls());
    connect_inner(address, security, timeout).instrument(span).await
}

async fn connect_inner(
    address: &str,
    security: &ClientSecurity,
    timeout: Duration,
) -> Result<Connection, TransportError> {
    let deadline = Instant::now() + timeout;
    let timed_out =
        |step| TransportError::Timeout { step, peer: address.to_owned(), after: timeout };
    let resolve_error = |source| TransportError::Resolve { address: address.to_owned(), source };

    // The server name is checked before anything goes on the wire.
    #[cfg(feature = "tls")]
    let server_name = match security {
        ClientSecurity::Tls { server_name: Some(name), .. } => Some(name.clone()),
        ClientSecurity::Tls { server_name: None, .. } => {
            let host = host_of(address);
            Some(
                ServerName::try_from(host.to_owned())
                    .map_err(|_| TransportError::InvalidServerName { name: host.to_owned() })?,
            )
        }
        ClientSecurity::PlainTcp => None,
    };

    let sockets: Vec<SocketAddr> = timeout_at(deadline, tokio::net::lookup_host(address))
        .await
        .map_err(|_| timed_out("resolving the address"))?
        .map_err(resolve_error)?
        .collect();
    tracing::debug!(?sockets, "resolved");
    let mut last = None;
    let mut tcp = None;
    for socket in sockets {
        match timeout_at(deadline, TcpStream::connect(socket)).await {
            Err(_) => return Err(timed_out("TCP connect")),
            Ok(Ok(stream)) => {
                tcp = Some(stream);
                break;
            }
            Ok(Err(error)) => {
                tracing::debug!(%socket, %error, "TCP connect failed");
                last = Some((socket, error));
            }
        }
    }
    let tcp = match (tcp, last) {
        (Some(tcp), _) => tcp,
        (None, Some((socket, source))) => {
            return Err(TransportError::Connect { address: address.to_owned(), socket, source })
        }
        (None, None) => {
            return Err(resolve_error(io::Error::new(
                io::ErrorKind::NotFound,
                "the name resolves to no address",
            )))
        }
    };
    set_nodelay(&tcp);
    let peer = tcp
        .peer_addr()
        .map_err(|source| TransportError::HandshakeIo { peer: address.to_owned(), source })?;

    match security {
        ClientSecurity::PlainTcp => {
            tracing::debug!(%peer, "connected over plain TCP");
            Ok(Connection {
                stream: Stream::Plain(tcp),
                peer,
                side: Side::Client,
                #[cfg(feature = "tls")]
                have_certificate: false,
            })
        }
        #[cfg(feature = "tls")]
        ClientSecurity::Tls { config, .. } => {
            let Some(server_name) = server_name else {
                return Err(TransportError::InvalidServerName { name: address.to_owned() });
            };
            let have_certificate = config.client_auth_cert_resolver.has_certs();
            let connector = tokio_rustls::TlsConnector::from(Arc::clone(config));
            let stream = timeout_at(deadline, connector.connect(server_name, tls_socket(tcp)))
                .await
                .map_err(|_| timed_out("TLS handshake"))?
                .map_err(|error| handshake_error(error, peer, Side::Client, have_certificate))?;
            let connection = Connection {
                stream: Stream::Client(Box::new(stream)),
                peer,
                side: Side::Client,
                have_certificate,
            };
            tracing::debug!(%peer, version = ?connection.tls_version(), "TLS connected");
            Ok(connection)
        }
    }
}

/// The host part of `host:port` (without the brackets of an IPv6 literal).
#[cfg(feature = "tls")]
fn host_of(address: &str) -> &str {
    let host = address.rsplit_once(':').map_or(address, |(host, _port)| host);
    host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host)
}

#[cfg(feature = "tls")]
fn handshake_error(
    error: io::Error,
    peer: SocketAddr,
    side: Side,
    have_certificate: bool,
) -> TransportError {
    match error.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>()) {
        Some(tls) => TransportError::Tls {
            peer: peer.to_string(),
            side,
            problem: TlsProblem::classify(tls, side, have_certificate),
            source: tls.clone(),
        },
        None => TransportError::HandshakeIo { peer: peer.to_string(), source: error },
    }
}

/// The default time a TLS handshake of an accepted connection may take.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);

/// Listens for connections, plain TCP or TLS.
///
/// [`Listener::accept`] waits for a connection and completes its TLS handshake; a failed
/// handshake is returned as an error for that connection only and the listener stays
/// usable. A responder serving many clients should rather take TCP connections with
/// [`Listener::accept_tcp`] and run each [`Incoming::handshake`] in its own task, so a slow
/// client holds up nobody else.
#[derive(Debug)]
pub struct Listener {
    tcp: TcpListener,
    #[cfg(feature = "tls")]
    tls: Option<Arc<ServerConfig>>,
    handshake_timeout: Duration,
}

impl Listener {
    /// Listens on `address` (`host:port`; port 0 picks a free one).
    pub async fn bind(address: &str, security: ServerSecurity) -> Result<Self, TransportError> {
        let tcp = TcpListener::bind(address)
            .await
            .map_err(|source| TransportError::Bind { address: address.to_owned(), source })?;
        #[cfg(feature = "tls")]
        let tls = match security {
            ServerSecurity::PlainTcp => None,
            ServerSecurity::Tls(config) => Some(config),
        };
        #[cfg(not(feature = "tls"))]
        let ServerSecurity::PlainTcp = security;
        tracing::info!(address = ?tcp.local_addr().ok(), "listening");
        Ok(Listener {
            tcp,
            #[cfg(feature = "tls")]
            tls,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
        })
    }

    /// Allows TLS handshakes `timeout` (default 30 s) from the TCP accept on.
    pub fn with_handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// The address listened on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.tcp.local_addr()
    }

    /// Whether accepted connections are TLS.
    pub fn is_tls(&self) -> bool {
        #[cfg(feature = "tls")]
        return self.tls.is_some();
        #[cfg(not(feature = "tls"))]
        return false;
    }

    /// Takes the next TCP connection, before any TLS handshake.
    pub async fn accept_tcp(&self) -> Result<Incoming, TransportError> {
        let (tcp, peer) =
            self.tcp.accept().await.map_err(|source| TransportError::Accept { source })?;
        set_nodelay(&tcp);
        Ok(Incoming {
            tcp,
            peer,
            #[cfg(feature = "tls")]
            tls: self.tls.clone(),
            handshake_timeout: self.handshake_timeout,
        })
    }

    /// Takes the next connection and completes its TLS handshake (if TLS).
    ///
    /// An error concerns one connection (a failed or timed-out handshake) or one accept
    /// (see [`TransportError::Accept`]); call again to take the next.
    pub async fn accept(&self) -> Result<(Connection, SocketAddr), TransportError> {
        let incoming = self.accept_tcp().await?;
        let peer = incoming.peer_addr();
        Ok((incoming.handshake().await?, peer))
    }
}

/// A TCP connection taken by [`Listener::accept_tcp`], its TLS handshake still to do.
#[derive(Debug)]
pub struct Incoming {
    tcp: TcpStream,
    peer: SocketAddr,
    #[cfg(feature = "tls")]
    tls: Option<Arc<ServerConfig>>,
    handshake_timeout: Duration,
}

impl Incoming {
    /// The peer's socket address.
    pub fn peer_addr(&self) -> SocketAddr {
        self.peer
    }

    /// Completes the TLS handshake (if the listener is TLS) within the listener's
    /// handshake timeout.
    pub async fn handshake(self) -> Result<Connection, TransportError> {
        let span = tracing::info_span!("accept", peer = %self.peer, tls = self.is_tls());
        self.handshake_inner().instrument(span).await
    }

    fn is_tls(&self) -> bool {
        #[cfg(feature = "tls")]
        return self.tls.is_some();
        #[cfg(not(feature = "tls"))]
        return false;
    }

    async fn handshake_inner(self) -> Result<Connection, TransportError> {
        #[cfg(feature = "tls")]
        let tls = self.tls;
        let Incoming { tcp, peer, handshake_timeout, .. } = self;
        #[cfg(feature = "tls")]
        if let Some(config) = tls {
            let acceptor = tokio_rustls::TlsAcceptor::from(config);
            let stream = tokio::time::timeout(handshake_timeout, acceptor.accept(tls_socket(tcp)))
                .await
                .map_err(|_| TransportError::Timeout {
                    step: "TLS handshake",
                    peer: peer.to_string(),
                    after: handshake_timeout,
                })?
                .map_err(|error| {
                    let error = handshake_error(error, peer, Side::Server, false);
                    tracing::info!(%error, "TLS handshake failed");
                    error
                })?;
            let connection = Connection {
                stream: Stream::Server(Box::new(stream)),
                peer,
                side: Side::Server,
                have_certificate: false,
            };
            tracing::debug!(
                version = ?connection.tls_version(),
                client_certificate = connection.peer_certificates().is_some(),
                "TLS accepted"
            );
            return Ok(connection);
        }
        let _ = handshake_timeout;
        tracing::debug!("accepted over plain TCP");
        Ok(Connection {
            stream: Stream::Plain(tcp),
            peer,
            side: Side::Server,
            #[cfg(feature = "tls")]
            have_certificate: false,
        })
    }
}
