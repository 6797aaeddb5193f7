//! [`TransportError`]: what went wrong while connecting, listening or in the TLS handshake,
//! in words a user can act on.

#[cfg(feature = "tls")]
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

/// Which side of a connection we are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// We connected (the OFTP initiator, the TLS client).
    Client,
    /// We accepted (the OFTP responder, the TLS server).
    Server,
}

impl Side {
    /// The other side's name: "server" when we are the client and so on.
    pub fn peer(self) -> &'static str {
        match self {
            Side::Client => "server",
            Side::Server => "client",
        }
    }
}

/// Why a connection could not be opened, accepted or kept.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// The host name could not be resolved (DNS), or the address is not `host:port`.
    #[error("cannot resolve {address:?} (expected host:port): {source}")]
    Resolve {
        /// The address as given.
        address: String,
        /// The resolver's error.
        source: io::Error,
    },
    /// No TCP connection could be made (refused, unreachable, ...).
    #[error("cannot connect to {address} ({socket}): {source}{}", connect_hint(.source))]
    Connect {
        /// The address as given.
        address: String,
        /// The last socket address tried.
        socket: SocketAddr,
        /// The operating system's error.
        source: io::Error,
    },
    /// A step did not finish in time.
    #[error("{step} for {peer} timed out after {}", seconds(*.after))]
    Timeout {
        /// What was under way: resolving, TCP connect or TLS handshake.
        step: &'static str,
        /// The address or peer.
        peer: String,
        /// The time allowed.
        after: Duration,
    },
    /// The TLS handshake failed (or the peer rejected it right after it ended, as TLS 1.3
    /// servers do with client certificates): `problem` says why.
    #[cfg(feature = "tls")]
    #[error("TLS with the {} {peer} failed: {} ({source})", .side.peer(), .problem.describe(*.side))]
    Tls {
        /// The peer's address.
        peer: String,
        /// Our side.
        side: Side,
        /// What was wrong, in words.
        problem: TlsProblem,
        /// rustls' error.
        source: rustls::Error,
    },
    /// The connection failed during the TLS handshake without a TLS error (the peer closed
    /// it or reset it).
    #[error("the connection with {peer} broke during the TLS handshake: {source}")]
    HandshakeIo {
        /// The peer's address.
        peer: String,
        /// The I/O error.
        source: io::Error,
    },
    /// A TLS server name is neither a DNS name nor an IP address.
    #[error("invalid TLS server name {name:?}: expected a DNS name or an IP address")]
    InvalidServerName {
        /// The name.
        name: String,
    },
    /// The listening socket could not be opened.
    #[error("cannot listen on {address}: {source}")]
    Bind {
        /// The address as given.
        address: String,
        /// The operating system's error.
        source: io::Error,
    },
    /// Accepting a TCP connection failed (too many open files, ...). The listener remains
    /// usable.
    #[error("accepting a connection failed: {source}")]
    Accept {
        /// The operating system's error.
        source: io::Error,
    },
}

impl TransportError {
    /// The transport error inside an I/O error returned by a
    /// [`Connection`](super::Connection) (a TLS failure reported on read or write), if
    /// there is one.
    pub fn in_io(error: &io::Error) -> Option<&TransportError> {
        error.get_ref().and_then(|inner| inner.downcast_ref::<TransportError>())
    }

    /// The TLS problem, if this is a TLS failure.
    #[cfg(feature = "tls")]
    pub fn tls_problem(&self) -> Option<&TlsProblem> {
        match self {
            TransportError::Tls { problem, .. } => Some(problem),
            _ => None,
        }
    }
}

fn seconds(duration: Duration) -> String {
    format!("{:.1} s", duration.as_secs_f64())
}

fn connect_hint(error: &io::Error) -> &'static str {
    match error.kind() {
        io::ErrorKind::ConnectionRefused => {
            " (nothing listens on that port: check the partner's address and port, 6619 for \
             TLS or 3305 for plain TCP, and that its server runs)"
        }
        _ => "",
    }
}

/// What went wrong in a TLS handshake, classified from rustls' error.
#[cfg(feature = "tls")]
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsProblem {
    /// The peer's certificate does not chain to our trust anchors.
    UntrustedCertificate,
    /// The server's certificate is not valid for the name we connected to.
    NameMismatch {
        /// The name we expected.
        expected: String,
        /// The names in the certificate.
        presented: Vec<String>,
    },
    /// The peer's certificate has expired.
    Expired,
    /// The peer's certificate is not valid yet.
    NotYetValid,
    /// The peer's certificate is invalid for another reason.
    InvalidCertificate {
        /// rustls' reason.
        detail: String,
    },
    /// We are the server, a client certificate is required, and the client sent none.
    ClientCertificateMissing,
    /// We are the client, the server requires a client certificate, and we have none.
    ClientCertificateRequired,
    /// The peer refused our certificate (or our lack of one) with a TLS alert.
    CertificateRejectedByPeer {
        /// The alert.
        alert: String,
    },
    /// The peer refused the handshake with the generic `handshake_failure` alert: no
    /// parameters in common, or (OpenSSL servers on TLS 1.2) a client certificate missing
    /// or refused.
    HandshakeRefused {
        /// Whether we had a client certificate to present.
        have_certificate: bool,
    },
    /// No TLS version or cipher suite in common.
    NoCommonProtocol {
        /// rustls' reason.
        detail: String,
    },
    /// The peer does not speak TLS.
    NotTls,
    /// Another failure.
    Other {
        /// rustls' reason.
        detail: String,
    },
}

#[cfg(feature = "tls")]
impl TlsProblem {
    /// Classifies a rustls error seen on `side`; `have_certificate` says whether we had a
    /// certificate to present (matters only for a client).
    pub fn classify(error: &rustls::Error, side: Side, have_certificate: bool) -> Self {
        use rustls::{AlertDescription as A, CertificateError as C, Error as E};
        match error {
            E::InvalidCertificate(certificate) => match certificate {
                C::UnknownIssuer => TlsProblem::UntrustedCertificate,
                C::NotValidForName => {
                    TlsProblem::NameMismatch { expected: String::new(), presented: Vec::new() }
                }
                C::NotValidForNameContext { expected, presented } => TlsProblem::NameMismatch {
                    expected: server_name_text(expected),
                    presented: presented.iter().map(|name| general_name_text(name)).collect(),
                },
                C::Expired | C::ExpiredContext { .. } => TlsProblem::Expired,
                C::NotValidYet | C::NotValidYetContext { .. } => TlsProblem::NotYetValid,
                other => TlsProblem::InvalidCertificate { detail: format!("{other:?}") },
            },
            E::NoCertificatesPresented if side == Side::Server => {
                TlsProblem::ClientCertificateMissing
            }
            E::AlertReceived(alert) => match alert {
                A::CertificateRequired => TlsProblem::ClientCertificateRequired,
                A::HandshakeFailure => TlsProblem::HandshakeRefused { have_certificate },
                A::BadCertificate
                | A::UnsupportedCertificate
                | A::CertificateRevoked
                | A::CertificateExpired
                | A::CertificateUnknown
                | A::UnknownCA
                | A::AccessDenied
                | A::DecryptError => {
                    TlsProblem::CertificateRejectedByPeer { alert: format!("{alert:?}") }
                }
                A::ProtocolVersion | A::InsufficientSecurity => {
                    TlsProblem::NoCommonProtocol { detail: format!("TLS alert {alert:?}") }
                }
                other => TlsProblem::Other { detail: format!("TLS alert {other:?}") },
            },
            E::PeerIncompatible(incompatible) => {
                TlsProblem::NoCommonProtocol { detail: format!("{incompatible:?}") }
            }
            E::InvalidMessage(_) | E::InappropriateMessage { .. } => TlsProblem::NotTls,
            other => TlsProblem::Other { detail: other.to_string() },
        }
    }

    /// The problem in words, for a failure seen on `side`.
    pub fn describe(&self, side: Side) -> Describe<'_> {
        Describe { problem: self, side }
    }
}

/// `localhost` for rustls' `DnsName("localhost")`, `127.0.0.1` for `IpAddress(127.0.0.1)`.
#[cfg(feature = "tls")]
fn general_name_text(name: &str) -> String {
    let inner = name
        .strip_prefix("DnsName(\"")
        .and_then(|n| n.strip_suffix("\")"))
        .or_else(|| name.strip_prefix("IpAddress(").and_then(|n| n.strip_suffix(')')));
    inner.unwrap_or(name).to_owned()
}

#[cfg(feature = "tls")]
fn server_name_text(name: &rustls::pki_types::ServerName<'_>) -> String {
    match name {
        rustls::pki_types::ServerName::DnsName(dns) => dns.as_ref().to_owned(),
        rustls::pki_types::ServerName::IpAddress(ip) => std::net::IpAddr::from(*ip).to_string(),
        other => format!("{other:?}"),
    }
}

/// A [`TlsProblem`] in words ([`TlsProblem::describe`]).
#[cfg(feature = "tls")]
#[derive(Debug)]
pub struct Describe<'a> {
    problem: &'a TlsProblem,
    side: Side,
}

#[cfg(feature = "tls")]
impl fmt::Display for Describe<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let peer = self.side.peer();
        match self.problem {
            TlsProblem::UntrustedCertificate => write!(
                f,
                "the {peer}'s certificate is not trusted: it is not issued by any of the \
                 configured roots (tls.roots or the partner's roots)"
            ),
            TlsProblem::NameMismatch { expected, presented } if !presented.is_empty() => write!(
                f,
                "the server's certificate is not valid for the name {expected:?} but only for \
                 {presented:?}: connect by one of those names or set the partner's server_name"
            ),
            TlsProblem::NameMismatch { .. } => write!(
                f,
                "the server's certificate is not valid for the name we connected to: connect by \
                 a name the certificate carries or set the partner's server_name"
            ),
            TlsProblem::Expired => write!(f, "the {peer}'s certificate has expired"),
            TlsProblem::NotYetValid => {
                write!(f, "the {peer}'s certificate is not valid yet (check both clocks)")
            }
            TlsProblem::InvalidCertificate { detail } => {
                write!(f, "the {peer}'s certificate is invalid ({detail})")
            }
            TlsProblem::ClientCertificateMissing => {
                write!(f, "the client presented no certificate, but one is required")
            }
            TlsProblem::ClientCertificateRequired => write!(
                f,
                "the server requires a client certificate and we presented none: configure \
                 tls.certificate and tls.private_key"
            ),
            TlsProblem::CertificateRejectedByPeer { alert } => match self.side {
                Side::Client => write!(
                    f,
                    "the server rejected our client certificate (alert {alert}): it is not \
                     issued by a CA the server trusts, or it has expired"
                ),
                Side::Server => write!(
                    f,
                    "the client rejected our server certificate (alert {alert}): it does not \
                     trust our CA or our name"
                ),
            },
            TlsProblem::HandshakeRefused { have_certificate } => match self.side {
                Side::Client if !*have_certificate => write!(
                    f,
                    "the server refused the handshake (alert HandshakeFailure): it requires a \
                     client certificate and none is configured (tls.certificate, \
                     tls.private_key), or it has no TLS version or cipher suite in common with \
                     us (TLS 1.2 and 1.3)"
                ),
                Side::Client => write!(
                    f,
                    "the server refused the handshake (alert HandshakeFailure): it did not \
                     accept our client certificate, or it has no TLS version or cipher suite \
                     in common with us (TLS 1.2 and 1.3)"
                ),
                Side::Server => write!(
                    f,
                    "the client refused the handshake (alert HandshakeFailure): no TLS version \
                     or cipher suite in common, or it does not accept our certificate"
                ),
            },
            TlsProblem::NoCommonProtocol { detail } => write!(
                f,
                "no TLS version or cipher suite in common with the {peer} (we speak TLS 1.2 \
                 and 1.3 only): {detail}"
            ),
            TlsProblem::NotTls => write!(
                f,
                "the {peer} does not speak TLS (is it a plain TCP OFTP port, usually 3305, \
                 rather than a TLS one, 6619?)"
            ),
            TlsProblem::Other { detail } => f.write_str(detail),
        }
    }
}
