//! SKAT FTPS Gateway status files as types.
//!
//! SKAT's FTPS Gateway tells a client what became of each uploaded file only through status
//! files in `/out`, named `status_<service>_<FTPTransactionID>_<statuscode>.xml`. This crate
//! reads and writes them exactly, and does no I/O:
//!
//! - [`StatusFileName`]: parse and format the names; [`StatusCode`] 0 (error), 1 (delivered),
//!   2 (accepted), 3 (exposed).
//! - [`StatusDocument`]: the XML (`status/file` with `filename`, `FTPTransaktionsId`,
//!   `SKATTransaktionsId` or `SKATTransactionId`, `timestamp`, `status.code`, `service`,
//!   `response/filename`, `error` with `error.code`, `error.message`, `error.resolution`),
//!   read tolerantly and written as the gateway writes it, with serde and quick-xml.
//! - [`Timestamp`]: both forms of `timestamp`, `yyyyMMddHHmmss` and epoch milliseconds.
//! - [`ErrorCode`]: the guide's error codes with message, resolution and [`Remedy`].
//! - [`catalogue`]: the guide's systems and services, with lookup by folder and by
//!   [`System`] and which need ASCII-mode uploads.
//! - [`Transaction`] and [`Ledger`]: the life of an upload folded from its status files, in
//!   any order and with repeats; unrelated outbound files told apart.
//!
//! ```
//! use skat_status::{ErrorCode, Remedy, Stage, StatusCode, StatusFile, Transaction};
//!
//! let xml = br#"<?xml version="1.0" encoding="UTF-8" standalone="no"?>
//! <status>
//! <file>
//! <filename>RID_60134540/FTPSGW.Heartbeat/empty.xml</filename>
//! <FTPTransaktionsId>empty.xml</FTPTransaktionsId>
//! <timestamp>1607615347963</timestamp>
//! <status.code>ERROR</status.code>
//! <service>FTPSGW.Heartbeat</service>
//! <error>
//! <error.code>FILENAME_CANNOT_BE_REUSED_FOR_TRANSACTION</error.code>
//! <error.message>The filename provided has already been used for previous transaction</error.message>
//! <error.resolution>Resubmit the file with a new filename</error.resolution>
//! </error>
//! </file>
//! </status>"#;
//! let file = StatusFile::parse("status_FTPSGW.Heartbeat_empty.xml_0.xml", xml)?;
//! assert_eq!(file.status(), StatusCode::Error);
//!
//! let error = file.document().error.as_ref().ok_or("no error element")?;
//! assert_eq!(error.code, ErrorCode::FilenameCannotBeReusedForTransaction);
//! assert_eq!(error.code.remedy(), Remedy::UploadUnderNewName);
//!
//! let transaction = Transaction::fold([&file])?.ok_or("no files")?;
//! assert_eq!(transaction.stage(), Stage::Failed);
//!
//! // Written out and read again, the document is the same.
//! let again = skat_status::StatusDocument::from_xml(file.document().to_xml()?.as_bytes())?;
//! assert_eq!(&again, file.document());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

pub mod catalogue;
mod document;
mod error_code;
mod identifier;
mod lifecycle;
mod name;
mod service;
mod status_code;
mod status_file;
mod timestamp;
mod transaction_id;
mod xml;

pub use catalogue::{Service, System, UnknownSystem};
pub use document::{ErrorReport, StatusDocument};
pub use error_code::{ErrorCode, OtherErrorCode, Remedy};
pub use identifier::{IdentifierError, MAX_IDENTIFIER_LEN};
pub use lifecycle::{Applied, Ledger, LifecycleError, Outcome, Stage, Transaction};
pub use name::{NameError, NameErrorKind, StatusFileName};
pub use service::ServiceName;
pub use status_code::{StatusCode, StatusCodeError};
pub use status_file::{MismatchError, StatusFile, StatusFileError};
pub use timestamp::{Timestamp, TimestampError, TimestampFormat, MAX_UNIX_MILLIS};
pub use transaction_id::TransactionId;
pub use xml::{InvalidValue, ReadError, WriteError, DEFAULT_MAX_LEN, XML_DECLARATION};
