//! OFTP2 (RFC 5024) sessions.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_auto_cfg))]

pub mod config;
pub mod engine;
