//! An async client for SKAT's FTPS Gateway (Denmark).
//!
//! The gateway is an FTPS server with strict habits: explicit TLS 1.2 only,
//! an OCES3 client certificate, TLS session reuse on data connections, a
//! file name may be used once, a file must not be sent twice, and `/out`
//! should be polled at most once a minute. This crate makes the right thing
//! the easy thing:
//!
//! - [`FtpsClient`]: explicit FTPS on tokio + rustls (`AUTH TLS`, `PBSZ 0`,
//!   `PROT P`), TLS 1.2 by default ([`TlsVersions`]), server verification
//!   against given roots, client certificate from PKCS#12 or PEM
//!   ([`ClientIdentity`]), passive data connections (`EPSV`, falling back to
//!   `PASV`) always to the control host, resuming the control connection's
//!   TLS session, `close_notify` and a drained socket after every transfer,
//!   timeouts on every step ([`Timeouts`]) and reconnection of a dropped
//!   control connection.
//! - [`Gateway`]: uploads of files or streams, binary or ASCII
//!   ([`TransferMode`]), unique names ([`NameGenerator`]), refusal of a used
//!   name before any byte is sent, and a durable [`Journal`] (a `redb` file)
//!   of every upload; an interrupted upload is [`UploadState::Unknown`] and
//!   never resent silently.
//! - [`Poller`]: lists `/out` at most once a minute, downloads status and
//!   response files, reads them with [`skat_status`], updates the journal and
//!   reports per transaction.
//! - [`gateway_username`] / [`oces3_username`]: the suggested gateway
//!   username `CVR_<cvr>_UI_<uuid>` from an OCES3 certificate.
//!
//! # Example
//!
//! ```no_run
//! use ftps_gateway::{ClientConfig, ClientIdentity, FtpsClient, Gateway, Journal, TransferMode, UploadOptions};
//!
//! # async fn run() -> Result<(), ftps_gateway::Error> {
//! let identity = ClientIdentity::from_pkcs12_file("company.p12", "passphrase")?;
//! let username = identity.gateway_username()?; // CVR_<cvr>_UI_<uuid>
//! let config = ClientConfig::skat_test(username, "gateway password")
//!     .with_root_pem(&std::fs::read("gateway-roots.pem").map_err(|e| ftps_gateway::Error::Config(e.to_string()))?)?
//!     .with_identity(identity);
//! let client = FtpsClient::connect(config).await?;
//! let mut gateway = Gateway::new(client, Journal::open("skat-journal.redb")?);
//! let receipt = gateway
//!     .upload_file("FTPSGW.Heartbeat", "ping.xml", UploadOptions {
//!         name_prefix: Some("ping".into()),
//!         mode: TransferMode::Binary,
//!         ..UploadOptions::default()
//!     })
//!     .await?;
//! println!("uploaded as {}", receipt.name);
//! # Ok(())
//! # }
//! ```
//!
//! A runnable example: the username derived from an OCES3 subject.
//!
//! ```
//! let user = ftps_gateway::oces3_username("NTRDK-30808460", "UI:DK-O:G:e7057bbd-5e7d-4200-ad81-623333d5c657")?;
//! assert_eq!(user, "CVR_30808460_UI_e7057bbd-5e7d-4200-ad81-623333d5c657");
//! # Ok::<(), ftps_gateway::Error>(())
//! ```
//!
//! # Features
//!
//! - `webpki-roots` (off by default): [`ClientConfig::skat_test`] and
//!   [`ClientConfig::skat_production`] start with the Mozilla root
//!   certificates, so the gateway's publicly issued certificate verifies
//!   without further setup.
#![forbid(unsafe_code)]

mod ascii;
mod client;
mod config;
mod error;
mod gateway;
mod identity;
mod journal;
mod names;
mod poller;
mod reply;

pub use client::{DataConnectionStats, FtpsClient, TransferMode};
pub use config::{
    ClientConfig, Timeouts, TlsVersion, TlsVersions, GATEWAY_PORT, PRODUCTION_HOST, TFE_HOST,
};
pub use error::{Error, Reply, Result};
pub use gateway::{Gateway, UploadOptions, UploadReceipt};
pub use identity::{gateway_username, oces3_username, ClientIdentity};
pub use journal::{HistoryEntry, Journal, UnknownResolution, UploadRecord, UploadState};
pub use names::{validate_name, validate_service, NameGenerator, MAX_NAME_LEN};
pub use poller::{
    PollInterval, PollReport, Poller, PollerConfig, TransactionEvent, TransactionReport,
};
pub use rustls;
pub use skat_status;

/// The README's examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
