//! The connection checks of Customs' FAQ.
//!
//! - [`check_connection`] is the library's `openssl s_client -connect
//!   tmf01.tullverket.se:6619 -showcerts`: it connects over TLS, notes the certificate
//!   chain the server presents (subject, issuer, validity of each; shown also when it is
//!   refused), and waits for "ODETTE FTP READY" (SSRM), which the FAQ names as the sign
//!   that the connection works.
//! - [`check_session`] goes one step further, as the FAQ's "normal session termination":
//!   a full session start (SSID both ways) and a normal end (ESID 00), without files.
//!
//! A failure is a [`CheckError`] whose [`stage`](CheckError::stage) tells DNS, TCP,
//! TLS (untrusted chain, name mismatch, expiry: oftp2-session's
//! [`TlsProblem`](oftp2_session::transport::TlsProblem)), OFTP (no SSRM, something
//! else) and session failures apart, with [`advice`](CheckError::advice) in words.

mod chain;
mod error;
mod no_files;
mod recorder;

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use oftp2_codec::fields::SendReceive;
use oftp2_codec::Command;
use oftp2_session::driver::{self, DriverError, ReceivedReceipt};
use oftp2_session::engine::{Negotiated, Session};
use oftp2_session::store::FileStore;
use oftp2_session::transport::tls::{TlsConfigError, TrustAnchors};
use oftp2_session::transport::TransportError;
use oftp2_session::transport::{connect, ClientSecurity, Connection, FramingError, StbCodec};
use rustls::pki_types::ServerName;
use tokio::io::AsyncWriteExt;
use tokio_util::codec::Framed;

pub use chain::{CertificateInfo, ShowChain};
pub use error::{CheckError, Stage};

use crate::params;
use crate::profile::Profile;

/// What [`check_connection`] found: the connection works.
#[derive(Debug, Clone)]
pub struct ConnectionReport {
    /// The address connected to.
    pub address: String,
    /// The name the certificate was verified against.
    pub server_name: String,
    /// The TLS version agreed (`TLSv1_3`, ...).
    pub tls_version: String,
    /// The certificates the server presented, its own first.
    pub chain: Vec<CertificateInfo>,
    /// How long the server took to send SSRM after the handshake.
    pub ssrm_after: Duration,
}

/// What [`check_session`] found: a session started and ended normally.
#[derive(Debug, Clone)]
pub struct SessionCheckReport {
    /// The certificates the server presented, its own first.
    pub chain: Vec<CertificateInfo>,
    /// What the session start agreed (level, buffer size, credit, ...).
    pub negotiated: Negotiated,
    /// Receipts (EERP, NERP) Customs sent in the session for files sent earlier; they
    /// are recorded in the store as in any session.
    pub receipts: Vec<ReceivedReceipt>,
}

/// Connects as the profile says with a TLS configuration that notes the chain.
async fn open(profile: &Profile) -> Result<(Connection, recorder::PresentedChain), CheckError> {
    let anchors =
        TrustAnchors::from_files(profile.trust_anchor_files(), "Customs' server certificate")
            .map_err(CheckError::Configuration)?;
    let (config, presented) =
        recorder::recording_client_config(&anchors).map_err(CheckError::Configuration)?;
    let server_name = ServerName::try_from(profile.server_name().to_owned()).map_err(|_| {
        CheckError::Configuration(TlsConfigError::InvalidServerName {
            name: profile.server_name().to_owned(),
        })
    })?;
    let security = ClientSecurity::Tls { config, server_name: Some(server_name) };
    let timeout = profile.config().limits.connect_timeout;
    match connect(profile.address(), &security, timeout).await {
        Ok(connection) => Ok((connection, presented)),
        Err(error) => Err(CheckError::from_transport(error, presented.get())),
    }
}

/// The error for a connection that failed on read after the handshake: a TLS failure
/// reported late (oftp2-session puts its [`TransportError`] in the I/O error, as a TLS 1.3
/// server does that refuses the client's certificate), or a broken connection.
fn read_failed(error: std::io::Error, chain: Vec<CertificateInfo>) -> CheckError {
    let why = error.to_string();
    match error.into_inner().map(|inner| inner.downcast::<TransportError>()) {
        Some(Ok(transport)) => CheckError::from_transport(*transport, chain),
        _ => CheckError::ClosedBeforeSsrm { why: Some(why), chain },
    }
}

/// Connects to Customs over TLS, notes the presented chain and waits up to `wait` for
/// "ODETTE FTP READY" (SSRM); then closes the connection (TLS `close_notify`) without
/// starting a session.
///
/// ```no_run
/// # async fn run(profile: tullverket_profile::Profile) {
/// use std::time::Duration;
/// use tullverket_profile::check::{check_connection, ShowChain};
///
/// match check_connection(&profile, Duration::from_secs(30)).await {
///     Ok(report) => println!("{}\nODETTE FTP READY", ShowChain(&report.chain)),
///     Err(error) => {
///         println!("{}", ShowChain(error.chain()));
///         println!("{error}\n{}", error.advice());
///     }
/// }
/// # }
/// ```
pub async fn check_connection(
    profile: &Profile,
    wait: Duration,
) -> Result<ConnectionReport, CheckError> {
    let (connection, presented) = open(profile).await?;
    let chain = presented.get();
    let tls_version =
        connection.tls_version().map(|version| format!("{version:?}")).unwrap_or_default();
    let started = Instant::now();
    let mut framed = Framed::new(connection, StbCodec::new());
    let first = tokio::time::timeout(wait, framed.next()).await;
    let outcome = match first {
        Err(_) => Err(CheckError::NoSsrm { waited: wait, chain: chain.clone() }),
        Ok(None) => Err(CheckError::ClosedBeforeSsrm { why: None, chain: chain.clone() }),
        Ok(Some(Err(FramingError::Io(error)))) => Err(read_failed(error, chain.clone())),
        Ok(Some(Err(error))) => {
            Err(CheckError::NotSsrm { received: error.to_string(), chain: chain.clone() })
        }
        Ok(Some(Ok(buffer))) => match Command::from_exchange_buffer(buffer, params::PROTOCOL_LEVEL)
        {
            Ok(Command::Ssrm(_)) => Ok(()),
            Ok(other) => Err(CheckError::NotSsrm {
                received: format!("{} instead", other.code().name()),
                chain: chain.clone(),
            }),
            Err(malformed) => Err(CheckError::NotSsrm {
                received: format!("an invalid command ({malformed})"),
                chain: chain.clone(),
            }),
        },
    };
    let ssrm_after = started.elapsed();
    // Best effort, bounded: the check's answer does not depend on a clean close.
    let mut connection = framed.into_inner();
    let _ = tokio::time::timeout(Duration::from_secs(2), connection.shutdown()).await;
    outcome.map(|()| ConnectionReport {
        address: profile.address().to_owned(),
        server_name: profile.server_name().to_owned(),
        tls_version,
        chain,
        ssrm_after,
    })
}

/// Runs a session with Customs that transfers no file: TLS, SSRM, SSID both ways, then
/// the normal end (ESID 00). Nothing is sent from `store`'s outbox and no file is taken
/// in (we announce ourselves as send-only for this session); a receipt Customs sends for
/// an earlier file is recorded in `store`. Customs must answer within `wait` at each step.
pub async fn check_session<S: FileStore + ?Sized>(
    profile: &Profile,
    store: &S,
    wait: Duration,
) -> Result<SessionCheckReport, CheckError> {
    let (connection, presented) = open(profile).await?;
    let chain = presented.get();
    let mut config = profile.config().clone();
    config.send_receive = SendReceive::SendOnly;
    config.limits.idle_timeout = wait;
    let session =
        Session::initiator(Arc::new(config), profile.customs_partner().clone(), Instant::now());
    let report = match driver::run(session, connection, &no_files::NoFiles(store), None).await {
        Ok(report) => report,
        Err(DriverError::Io(error)) => return Err(read_failed(error, chain)),
        Err(other) => {
            return Err(CheckError::ClosedBeforeSsrm { why: Some(other.to_string()), chain })
        }
    };
    match report.negotiated {
        Some(negotiated) if report.end.is_normal() => {
            Ok(SessionCheckReport { chain, negotiated, receipts: report.receipts })
        }
        negotiated => {
            Err(CheckError::Session { end: report.end, started: negotiated.is_some(), chain })
        }
    }
}
