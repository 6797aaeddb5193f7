//! A no-I/O codec for the ODETTE File Transfer Protocol 2 (RFC 5024) and the older
//! protocol levels its partners still speak (1.4, and 1.3/1.2 of RFC 2204).
//!
//! The crate turns octets into typed OFTP values and back, and does nothing else: no
//! sockets, no clock, no files. A session engine, a gateway, a fuzzer or a protocol
//! analyser builds on it.
//!
//! | RFC 5024 | Module |
//! |---|---|
//! | §5.3 commands (SSRM ... AURP) | [`command`] |
//! | §5.3 field notations X(n), 9(n), T(n), §5.4 identification code | [`fields`] |
//! | §5.3.2 SSIDLEV and the layouts of each level | [`level`] |
//! | reason codes of SFNA, EFNA, ESID, NERP | [`reason`] |
//! | §8 stream transmission header | [`sth`] |
//!
//! # Example
//!
//! Frame and read back the Start Session exchange's first command:
//!
//! ```
//! use bytes::BytesMut;
//! use oftp2_codec::command::{Command, Ssrm};
//! use oftp2_codec::sth::{frame, Deframer};
//! use oftp2_codec::ProtocolLevel;
//!
//! // The responder's side: encode SSRM and put it on the stream.
//! let ssrm = Command::Ssrm(Ssrm).to_bytes(ProtocolLevel::V2_0)?;
//! let mut stream = BytesMut::new();
//! frame(&ssrm, &mut stream)?;
//! assert_eq!(&stream[..], b"\x10\x00\x00\x17IODETTE FTP READY \r");
//!
//! // The initiator's side: cut the exchange buffer out of the stream and decode it.
//! let buffer = Deframer::new().decode(&mut stream)?.expect("a whole buffer");
//! let command = Command::from_exchange_buffer(buffer, ProtocolLevel::V2_0)?;
//! assert_eq!(command, Command::Ssrm(Ssrm));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Malformed input is reported with the command, field, offset, what was expected and the
//! ESID reason a session must answer with:
//!
//! ```
//! use oftp2_codec::command::Command;
//! use oftp2_codec::reason::EsidReason;
//! use oftp2_codec::ProtocolLevel;
//!
//! let err = Command::from_exchange_buffer("4X".into(), ProtocolLevel::V2_0).unwrap_err();
//! assert_eq!(err.field, "EFPACD");
//! assert_eq!(err.offset, 1);
//! assert_eq!(err.reason, EsidReason::COMMAND_CONTAINED_INVALID_DATA);
//! assert_eq!(
//!     err.to_string(),
//!     "EFPA malformed at offset 1, field EFPACD: expected one of \"Y\", \"N\", found \"X\" (answer: ESID 06 Command contained invalid data)"
//! );
//! ```
//!
//! # Leniencies
//!
//! Decoding accepts what real peers send where the RFC allows it or interoperability
//! needs it; encoding always writes the strict form:
//!
//! - the carriage return of SSRM, SSID and ESID as 0x0D or 0x8D (§5.3.1);
//! - an ESID without its final CR, and a 1.x-layout ESID (`F`, reason, CR) in a 2.0
//!   session ([`command::Esid`]);
//! - any content in reserved fields and in the STH flags (§8.2);
//! - any printable ASCII in the user data fields ([`fields::UserData`]);
//! - a Virtual File Time counter of `0000`.
//!
//! # Features
//!
//! - `serde`: `Serialize`/`Deserialize` for field types and commands; deserializing
//!   validates like the constructors do.
//! - `arbitrary`: `Arbitrary` for field types and commands, always producing valid values
//!   (for fuzzing and property tests).
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_auto_cfg))]

pub mod buffer;
pub mod command;
pub mod error;
pub mod fields;
pub mod level;
pub mod reason;
pub mod record;
pub mod sth;

pub use command::{Command, CommandCode};
pub use error::{DecodeError, EncodeError, Malformed};
pub use level::ProtocolLevel;
