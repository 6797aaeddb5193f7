//! A no-I/O codec for the ODETTE File Transfer Protocol 2 (RFC 5024).
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_auto_cfg))]

pub mod error;
pub mod fields;
pub mod level;
pub mod reason;

pub use error::{DecodeError, EncodeError, Malformed};
pub use level::ProtocolLevel;
