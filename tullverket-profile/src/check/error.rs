//! [`CheckError`]: why a check failed, at which [`Stage`], and what to do about it.

use std::fmt;
use std::time::Duration;

use oftp2_codec::reason::EsidReason;
use oftp2_session::engine::SessionEnd;
use oftp2_session::transport::tls::TlsConfigError;
use oftp2_session::transport::{TlsProblem, TransportError};

use super::chain::CertificateInfo;
use crate::params;

/// Where a check failed, in the order a connection gets there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Our own settings (trust anchors, server name).
    Configuration,
    /// Resolving the host name.
    Dns,
    /// Opening the TCP connection.
    Tcp,
    /// The TLS handshake: the server's certificate or the TLS parameters.
    Tls,
    /// OFTP before the session: the server's "ODETTE FTP READY" (SSRM).
    Protocol,
    /// The OFTP session: start (SSID) and end (ESID).
    Session,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::Configuration => "configuration",
            Stage::Dns => "DNS",
            Stage::Tcp => "TCP",
            Stage::Tls => "TLS",
            Stage::Protocol => "OFTP (before the session)",
            Stage::Session => "OFTP session",
        })
    }
}

/// Why a check failed. [`CheckError::stage`] says where, [`CheckError::advice`] what to
/// do, [`CheckError::chain`] shows the certificates the server presented (also when they
/// were refused).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckError {
    /// Our trust anchors or server name cannot be used.
    #[error("the TLS settings cannot be used: {0}")]
    Configuration(#[source] TlsConfigError),
    /// The host name does not resolve (or resolving timed out).
    #[error("DNS: {source}")]
    Dns {
        /// oftp2-session's error.
        source: Box<TransportError>,
    },
    /// No TCP connection (refused, unreachable, timed out).
    #[error("TCP: {source}")]
    Tcp {
        /// oftp2-session's error.
        source: Box<TransportError>,
    },
    /// The TLS handshake failed; `problem` is oftp2-session's classification (`None` when
    /// the connection broke or timed out during the handshake without a TLS error).
    #[error("TLS: {source}")]
    Tls {
        /// What was wrong with the handshake, if TLS said.
        problem: Option<TlsProblem>,
        /// The certificates the server presented.
        chain: Vec<CertificateInfo>,
        /// oftp2-session's error.
        source: Box<TransportError>,
    },
    /// TLS worked, but no SSRM came within the time allowed.
    #[error(
        "OFTP: TLS works, but the server did not send \"ODETTE FTP READY\" (SSRM) within {} s",
        .waited.as_secs_f64()
    )]
    NoSsrm {
        /// The time waited.
        waited: Duration,
        /// The certificates the server presented.
        chain: Vec<CertificateInfo>,
    },
    /// TLS worked, but the server closed the connection (or it broke) before SSRM.
    #[error("OFTP: the server closed the connection before \"ODETTE FTP READY\" (SSRM){}", detail(.why))]
    ClosedBeforeSsrm {
        /// The I/O error, if the connection broke rather than closed.
        why: Option<String>,
        /// The certificates the server presented.
        chain: Vec<CertificateInfo>,
    },
    /// TLS worked, but the server sent something else than SSRM.
    #[error("OFTP: the server sent {received} where \"ODETTE FTP READY\" (SSRM) was expected")]
    NotSsrm {
        /// What came, in words.
        received: String,
        /// The certificates the server presented.
        chain: Vec<CertificateInfo>,
    },
    /// The session did not end normally (ESID 00).
    #[error("OFTP session: {}", end_text(.end, *.started))]
    Session {
        /// How it ended.
        end: SessionEnd,
        /// Whether the start (SSID both ways) had completed.
        started: bool,
        /// The certificates the server presented.
        chain: Vec<CertificateInfo>,
    },
}

fn detail(why: &Option<String>) -> String {
    why.as_ref().map(|why| format!(": {why}")).unwrap_or_default()
}

fn end_text(end: &SessionEnd, started: bool) -> String {
    let phase = if started { "after the start" } else { "during the start" };
    match end {
        SessionEnd::Normal => "ended normally".to_owned(),
        SessionEnd::Remote { reason, text } => {
            format!("Customs ended the session {phase} with ESID {reason}{}", quoted(text))
        }
        SessionEnd::Local { reason, text } => {
            format!("we ended the session {phase} with ESID {reason}{}", quoted(text))
        }
        SessionEnd::TransportLost => format!("the connection was lost {phase}, without ESID"),
    }
}

fn quoted(text: &str) -> String {
    if text.is_empty() {
        String::new()
    } else {
        format!(" ({text:?})")
    }
}

impl CheckError {
    /// A connection error from oftp2-session, sorted into its stage.
    pub(crate) fn from_transport(error: TransportError, chain: Vec<CertificateInfo>) -> Self {
        let source = Box::new(error);
        match &*source {
            TransportError::Resolve { .. } => CheckError::Dns { source },
            TransportError::Connect { .. } => CheckError::Tcp { source },
            TransportError::Timeout { step, .. } if step.contains("resolv") => {
                CheckError::Dns { source }
            }
            TransportError::Timeout { step, .. } if step.contains("TCP") => {
                CheckError::Tcp { source }
            }
            TransportError::Tls { problem, .. } => {
                CheckError::Tls { problem: Some(problem.clone()), chain, source }
            }
            TransportError::Timeout { .. } | TransportError::HandshakeIo { .. } => {
                CheckError::Tls { problem: None, chain, source }
            }
            _ => CheckError::Tcp { source },
        }
    }

    /// Where the check failed.
    pub fn stage(&self) -> Stage {
        match self {
            CheckError::Configuration(_) => Stage::Configuration,
            CheckError::Dns { .. } => Stage::Dns,
            CheckError::Tcp { .. } => Stage::Tcp,
            CheckError::Tls { .. } => Stage::Tls,
            CheckError::NoSsrm { .. }
            | CheckError::ClosedBeforeSsrm { .. }
            | CheckError::NotSsrm { .. } => Stage::Protocol,
            CheckError::Session { .. } => Stage::Session,
        }
    }

    /// The certificates the server presented, the server's own first (empty when the
    /// check failed before the server sent them).
    pub fn chain(&self) -> &[CertificateInfo] {
        match self {
            CheckError::Tls { chain, .. }
            | CheckError::NoSsrm { chain, .. }
            | CheckError::ClosedBeforeSsrm { chain, .. }
            | CheckError::NotSsrm { chain, .. }
            | CheckError::Session { chain, .. } => chain,
            CheckError::Configuration(_) | CheckError::Dns { .. } | CheckError::Tcp { .. } => &[],
        }
    }

    /// What to do, in words.
    pub fn advice(&self) -> String {
        match self {
            CheckError::Configuration(_) => format!(
                "Fix the trust anchor files: they must hold GlobalSign's root ({}) and \
                 intermediate ({}) certificates, PEM or DER.",
                params::GLOBALSIGN_ROOT_URL,
                params::GLOBALSIGN_INTERMEDIATE_URL
            ),
            CheckError::Dns { .. } => format!(
                "The name does not resolve from this machine. Check the spelling \
                 ({host}), this machine's DNS settings, and whether it may resolve \
                 external names at all (a proxy-only network cannot: OFTP needs a direct \
                 connection to {host}:{port}).",
                host = params::HOST,
                port = params::PORT
            ),
            CheckError::Tcp { .. } => format!(
                "No TCP connection to port {port}. Customs' FAQ says to check from the \
                 machine the OFTP software runs on: a firewall there, or of your network, \
                 must allow outgoing TCP to {host} port {port}. \"Refused\" means the \
                 address answers but nothing listens on that port (wrong port?); a time-out \
                 means packets are dropped on the way (firewall).",
                host = params::HOST,
                port = params::PORT
            ),
            CheckError::Tls { problem: Some(problem), chain, .. } => tls_advice(problem, chain),
            CheckError::Tls { problem: None, .. } => format!(
                "The TLS handshake did not complete: the server closed the connection or \
                 did not answer. Make sure TLS is used on port {} (Customs requires it) and \
                 that no proxy or firewall interferes with TLS on that port.",
                params::PORT
            ),
            CheckError::NoSsrm { .. } => "TLS works, so the network path and the certificates \
                 are fine, but Customs' OFTP service did not greet us. It may be busy or \
                 down: try again later, and contact Customs' EDI support if it persists."
                .to_owned(),
            CheckError::ClosedBeforeSsrm { .. } => "TLS works, but the server hung up before \
                 greeting us: the OFTP service may be down, or it does not accept \
                 connections from this machine's address. Contact Customs' EDI support \
                 with the time of the attempt."
                .to_owned(),
            CheckError::NotSsrm { .. } => "Something answers over TLS on this port, but not as \
                 an OFTP responder does. Check the host and port (tmf01.tullverket.se, \
                 6619)."
                .to_owned(),
            CheckError::Session { end, started, .. } => session_advice(end, *started),
        }
    }
}

fn tls_advice(problem: &TlsProblem, chain: &[CertificateInfo]) -> String {
    let issuer = chain.first().map(|leaf| leaf.issuer.as_str()).unwrap_or("unknown");
    match problem {
        TlsProblem::UntrustedCertificate => format!(
            "The server's certificate (issued by {issuer}) does not chain to the trust \
             anchors given. Customs' certificate is issued by GlobalSign: download the root \
             \"{}\" from {} and the intermediate \"{}\" from {}, and pass both files. If \
             they are already given and the issuer above is not GlobalSign, something on \
             the way (a TLS-inspecting proxy) presents its own certificate: OFTP must \
             bypass it.",
            params::GLOBALSIGN_ROOT_NAME,
            params::GLOBALSIGN_ROOT_URL,
            params::GLOBALSIGN_INTERMEDIATE_NAME,
            params::GLOBALSIGN_INTERMEDIATE_URL
        ),
        TlsProblem::NameMismatch { presented, .. } => format!(
            "The certificate is not valid for the name connected to. Connect by the name \
             {} (not by an IP address or another alias){}.",
            params::HOST,
            if presented.is_empty() {
                String::new()
            } else {
                format!("; the certificate is valid for: {}", presented.join(", "))
            }
        ),
        TlsProblem::Expired | TlsProblem::NotYetValid => format!(
            "Check this machine's clock and time zone first (the validity of each \
             certificate is shown above). If the clock is right, the certificate really is \
             out of its validity: fetch Customs' current certificate from {} and the \
             current GlobalSign intermediate, and contact Customs if theirs has expired.",
            params::SERVER_CERTIFICATE_URL
        ),
        TlsProblem::NotTls => format!(
            "The server does not speak TLS on this port: Customs' OFTP uses TLS on port {}.",
            params::PORT
        ),
        TlsProblem::NoCommonProtocol { .. } => "No TLS version or cipher suite in common: \
             TLS 1.2 or 1.3 is needed. A proxy on the way may be downgrading the connection."
            .to_owned(),
        TlsProblem::ClientCertificateRequired
        | TlsProblem::CertificateRejectedByPeer { .. }
        | TlsProblem::HandshakeRefused { .. } => "The server refused the handshake. Customs \
             asks no client certificate for OFTP (the EDIFACT AUTACK certificate is not used \
             for communication): make sure this is Customs' server, and contact Customs' EDI \
             support if it is."
            .to_owned(),
        _ => "The TLS handshake failed (see the error above). Check that this machine \
              reaches tmf01.tullverket.se:6619 directly, without a TLS-inspecting proxy."
            .to_owned(),
    }
}

fn session_advice(end: &SessionEnd, started: bool) -> String {
    let reason = match end {
        SessionEnd::Remote { reason, .. } | SessionEnd::Local { reason, .. } => Some(*reason),
        _ => None,
    };
    let remote = matches!(end, SessionEnd::Remote { .. });
    match reason {
        Some(EsidReason::USER_CODE_NOT_KNOWN) if remote => "Customs does not know the company \
             code sent in SSID: check that it is exactly the code registered with Customs \
             (O09420000 + organisation number + suffix)."
            .to_owned(),
        Some(EsidReason::INVALID_PASSWORD) if remote => "Customs refused the password: check \
             the OFTP password agreed with Customs for this code."
            .to_owned(),
        Some(EsidReason::INVALID_PASSWORD) => "Customs sent another password than the one \
             configured for it: check the password expected from Customs."
            .to_owned(),
        Some(EsidReason::USER_CODE_NOT_KNOWN) => "Customs answered with another code than \
             O094200002021000969PRDINT: the server reached is not Customs' production \
             responder."
            .to_owned(),
        Some(EsidReason::TIME_OUT) if !started => "The session start timed out: Customs did \
             not send \"ODETTE FTP READY\" or did not answer our SSID in time. Try again \
             later; contact Customs' EDI support if it persists."
            .to_owned(),
        Some(EsidReason::MODE_OR_CAPABILITIES_INCOMPATIBLE) => "The session parameters were \
             refused: this profile offers OFTP 2.0, window 7, buffer 2,048 as Customs asks; \
             contact Customs' EDI support with the ESID text."
            .to_owned(),
        Some(EsidReason::RESOURCES_NOT_AVAILABLE) => "Customs has no capacity for the session \
             now (or another session of this code is still open: Customs allows one at a \
             time). Try again later."
            .to_owned(),
        _ if matches!(end, SessionEnd::TransportLost) => "The connection dropped during the \
             session: check the network's stability and any idle time-outs of firewalls on \
             the way, then try again."
            .to_owned(),
        _ => "The session did not end with \"normal session termination\": see the ESID \
             reason above, and contact Customs' EDI support with it if it is on their side."
            .to_owned(),
    }
}
