//! OFTP2 (RFC 5024) sessions: what an EDI product embeds to exchange files with its
//! partners over OFTP.
//!
//! | Layer | Module |
//! |---|---|
//! | Configuration: our identity, partners, limits (serde) | [`config`] |
//! | Session state machine, both roles, no I/O, no clock | [`engine`] |
//! | Durable file store: inbox, outbox, restart state, receipts | [`store`] |
//! | Framing, TCP and TLS (rustls) connections | [`transport`] |
//! | The tokio driver running a session over a connection and a store | [`driver`] |
//! | A node: opening sessions to partners, serving theirs | [`node`] |
//! | Hooks for file security and signed receipts (§6) | [`protection`] |
//! | OFTP2 security with CMS (feature `cms`) | `security` |
//!
//! # Example
//!
//! Two engines in memory: the Responder sends SSRM, the Initiator answers with SSID.
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Instant;
//! use oftp2_codec::Command;
//! use oftp2_session::config::{Config, Partner};
//! use oftp2_session::engine::Session;
//!
//! let partner: Partner = serde_json::from_str(r#"{
//!     "odette_id": "O0013000000000000002",
//!     "password": "THEIRS",
//!     "our_password": "OURS",
//!     "transport": { "mode": "plain-tcp" }
//! }"#)?;
//! let mut config = Config::new("O0013000000000000001".parse()?);
//! config.partners.push(partner.clone());
//! let config = Arc::new(config);
//!
//! let now = Instant::now();
//! let mut initiator = Session::initiator(config.clone(), partner, now);
//! let mut responder = Session::responder(config, now);
//! let ssrm = responder.poll_transmit().expect("SSRM");
//! initiator.handle_input(ssrm, now);
//! let ssid = initiator.poll_transmit().expect("SSID");
//! assert!(matches!(Command::decode(&ssid, Default::default())?.0, Command::Ssid(_)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Features
//!
//! - `tls` (default): TLS over rustls with the aws-lc-rs provider. Without it, only
//!   plain TCP sessions.
//! - `cms`: OFTP2 security ([`security`]): secure authentication, CMS signing, compression
//!   and encryption of files, signed receipts, cipher suites 01–06.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_auto_cfg))]

pub mod config;
pub mod driver;
pub mod engine;
pub mod node;
pub mod protection;
#[cfg(feature = "cms")]
pub mod security;
pub mod store;
pub mod transport;
