//! Reading and writing the XML of a status file (quick-xml + serde).

use std::borrow::Cow;

use quick_xml::events::Event;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::{
    ErrorCode, ErrorReport, IdentifierError, ServiceName, StatusDocument, Timestamp,
    TimestampError, TransactionId,
};

/// The largest status file [`StatusDocument::from_xml`] reads, in bytes. The guide's
/// examples are under 1 KiB.
pub const DEFAULT_MAX_LEN: usize = 64 * 1024;

/// The XML declaration the gateway writes, and [`StatusDocument::to_xml`] too.
pub const XML_DECLARATION: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="no"?>"#;

/// Element paths, as named in errors.
mod path {
    pub(super) const FILE: &str = "status/file";
    pub(super) const FTP_ID: &str = "status/file/FTPTransaktionsId";
    pub(super) const TIMESTAMP: &str = "status/file/timestamp";
    pub(super) const STATUS_CODE: &str = "status/file/status.code";
    pub(super) const SERVICE: &str = "status/file/service";
    pub(super) const RESPONSE_FILENAME: &str = "status/file/response/filename";
    pub(super) const ERROR_CODE: &str = "status/file/error/error.code";
}

/// A status file that could not be read: what was wrong, and where.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The input is larger than the limit.
    #[error("status file is {len} bytes long; the limit is {limit}")]
    TooLarge {
        /// The input's length.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// The input starts with a UTF-16 byte order mark; status files are UTF-8.
    #[error("status file is UTF-16 (byte order mark); only UTF-8 is read")]
    Utf16,
    /// The input is not valid UTF-8.
    #[error("status file is not UTF-8: invalid byte at offset {offset}")]
    NotUtf8 {
        /// Offset of the first invalid byte.
        offset: usize,
    },
    /// The input is not well-formed XML, or not shaped like a status file.
    #[error("malformed status XML: {message}")]
    Xml {
        /// quick-xml's description.
        message: String,
    },
    /// The input holds no element at all.
    #[error("status file has no root element")]
    NoRoot,
    /// The root element is not `status`.
    #[error("root element is <{found}>, expected <status>")]
    WrongRoot {
        /// The root element's name (cut to 100 bytes).
        found: String,
    },
    /// A required element is missing.
    #[error("required element {element} is missing")]
    Missing {
        /// Path of the element, such as `status/file/timestamp`.
        element: &'static str,
    },
    /// An element holds a value that is not valid for it.
    #[error("element {element} is invalid: {source}")]
    Invalid {
        /// Path of the element.
        element: &'static str,
        /// What is wrong with its value.
        #[source]
        source: InvalidValue,
    },
}

/// What is wrong with the value of an element.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum InvalidValue {
    /// A service name, transaction id or error code that breaks its rules.
    #[error(transparent)]
    Identifier(#[from] IdentifierError),
    /// A timestamp in neither form.
    #[error(transparent)]
    Timestamp(#[from] TimestampError),
}

/// A document that could not be written.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("status file could not be written: {message}")]
pub struct WriteError {
    /// quick-xml's description.
    pub message: String,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename = "status")]
struct RawStatus<'a> {
    #[serde(borrow)]
    file: Option<RawFile<'a>>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
struct RawFile<'a> {
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    filename: Option<Cow<'a, str>>,
    #[serde(
        borrow,
        rename = "FTPTransaktionsId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    ftp_transaction_id: Option<Cow<'a, str>>,
    #[serde(
        borrow,
        rename = "SKATTransactionId",
        alias = "SKATTransaktionsId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    skat_transaction_id: Option<Cow<'a, str>>,
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    timestamp: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "status.code", default, skip_serializing_if = "Option::is_none")]
    status_code: Option<Cow<'a, str>>,
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    service: Option<Cow<'a, str>>,
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    response: Option<RawResponse<'a>>,
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    error: Option<RawError<'a>>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
struct RawResponse<'a> {
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    filename: Option<Cow<'a, str>>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
struct RawError<'a> {
    #[serde(borrow, rename = "error.code", default, skip_serializing_if = "Option::is_none")]
    code: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "error.message", default, skip_serializing_if = "Option::is_none")]
    message: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "error.resolution", default, skip_serializing_if = "Option::is_none")]
    resolution: Option<Cow<'a, str>>,
}

/// Text as a reader sees it: surrounding XML white space removed, line ends as `\n`.
fn clean(text: Option<Cow<'_, str>>) -> Option<String> {
    let text = text?;
    let trimmed = text.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'));
    Some(if trimmed.contains('\r') {
        trimmed.replace("\r\n", "\n").replace('\r', "\n")
    } else if trimmed.len() == text.len() {
        // Nothing to change: keep the string serde already made, if it made one.
        text.into_owned()
    } else {
        trimmed.to_owned()
    })
}

fn required(text: Option<Cow<'_, str>>, element: &'static str) -> Result<String, ReadError> {
    clean(text).ok_or(ReadError::Missing { element })
}

fn invalid(element: &'static str) -> impl Fn(IdentifierError) -> ReadError {
    move |e| ReadError::Invalid { element, source: e.into() }
}

fn xml_error(e: impl std::fmt::Display) -> ReadError {
    ReadError::Xml { message: e.to_string() }
}

/// Checks that the first element is `<status>`.
fn check_root(text: &str) -> Result<(), ReadError> {
    let mut reader = quick_xml::Reader::from_str(text);
    loop {
        match reader.read_event() {
            Ok(Event::Start(e) | Event::Empty(e)) => {
                let name = e.name();
                return if name.as_ref() == b"status" {
                    Ok(())
                } else {
                    let found = String::from_utf8_lossy(name.as_ref());
                    Err(ReadError::WrongRoot {
                        found: crate::identifier::truncate(&found, 100).to_owned(),
                    })
                };
            }
            Ok(Event::Eof) => return Err(ReadError::NoRoot),
            Ok(_) => {}
            Err(e) => {
                return Err(ReadError::Xml {
                    message: format!("at byte {}: {e}", reader.error_position()),
                })
            }
        }
    }
}

pub(crate) fn read(xml: &[u8], limit: usize) -> Result<StatusDocument, ReadError> {
    if xml.len() > limit {
        return Err(ReadError::TooLarge { len: xml.len(), limit });
    }
    if xml.starts_with(&[0xFF, 0xFE]) || xml.starts_with(&[0xFE, 0xFF]) {
        return Err(ReadError::Utf16);
    }
    let text =
        std::str::from_utf8(xml).map_err(|e| ReadError::NotUtf8 { offset: e.valid_up_to() })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    check_root(text)?;
    let raw: RawStatus<'_> = quick_xml::de::from_str(text).map_err(xml_error)?;
    let file = raw.file.ok_or(ReadError::Missing { element: path::FILE })?;

    let ftp_transaction_id = required(file.ftp_transaction_id, path::FTP_ID)?;
    let timestamp = required(file.timestamp, path::TIMESTAMP)?;
    let status_text = required(file.status_code, path::STATUS_CODE)?;
    let service = required(file.service, path::SERVICE)?;
    let response_filename = match file.response {
        Some(response) => Some(required(response.filename, path::RESPONSE_FILENAME)?),
        None => None,
    };
    let error = match file.error {
        Some(error) => {
            let code = required(error.code, path::ERROR_CODE)?;
            Some(ErrorReport {
                code: ErrorCode::new(&code).map_err(invalid(path::ERROR_CODE))?,
                message: clean(error.message).unwrap_or_default(),
                resolution: clean(error.resolution).unwrap_or_default(),
            })
        }
        None => None,
    };
    Ok(StatusDocument {
        filename: clean(file.filename).unwrap_or_default(),
        ftp_transaction_id: TransactionId::new(ftp_transaction_id)
            .map_err(invalid(path::FTP_ID))?,
        skat_transaction_id: clean(file.skat_transaction_id).filter(|id| !id.is_empty()),
        timestamp: Timestamp::parse(&timestamp)
            .map_err(|e| ReadError::Invalid { element: path::TIMESTAMP, source: e.into() })?,
        status_text,
        service: ServiceName::new(service).map_err(invalid(path::SERVICE))?,
        response_filename,
        error,
    })
}

pub(crate) fn write(doc: &StatusDocument) -> Result<String, WriteError> {
    let timestamp = doc.timestamp.to_string();
    let raw = RawStatus {
        file: Some(RawFile {
            filename: Some(Cow::Borrowed(&doc.filename)),
            ftp_transaction_id: Some(Cow::Borrowed(doc.ftp_transaction_id.as_str())),
            skat_transaction_id: doc.skat_transaction_id.as_deref().map(Cow::Borrowed),
            timestamp: Some(Cow::Borrowed(&timestamp)),
            status_code: Some(Cow::Borrowed(&doc.status_text)),
            service: Some(Cow::Borrowed(doc.service.as_str())),
            response: doc
                .response_filename
                .as_deref()
                .map(|f| RawResponse { filename: Some(Cow::Borrowed(f)) }),
            error: doc.error.as_ref().map(|e| RawError {
                code: Some(Cow::Borrowed(e.code.as_str())),
                message: Some(Cow::Borrowed(&e.message)),
                resolution: Some(Cow::Borrowed(&e.resolution)),
            }),
        }),
    };
    let mut out = String::with_capacity(640);
    out.push_str(XML_DECLARATION);
    out.push('\n');
    let mut serializer = quick_xml::se::Serializer::new(&mut out);
    serializer.indent(' ', 2);
    raw.serialize(serializer).map_err(|e| WriteError { message: e.to_string() })?;
    out.push('\n');
    Ok(out)
}

impl StatusDocument {
    /// Reads a status file's XML, at most [`DEFAULT_MAX_LEN`] bytes.
    ///
    /// Accepts an XML declaration (with `standalone`), a UTF-8 byte order mark, CRLF line
    /// ends, white space anywhere between elements, elements in any order and elements it
    /// does not know. Refuses, with the element's path, a missing `status/file`,
    /// `FTPTransaktionsId`, `timestamp`, `status.code` or `service`, a `response` without
    /// `filename`, an `error` without `error.code`, and values that break their type's rules.
    ///
    /// ```
    /// use skat_status::{StatusDocument, ReadError};
    ///
    /// let doc = StatusDocument::from_xml(br#"<?xml version="1.0" encoding="UTF-8" standalone="no"?>
    /// <status><file>
    ///   <filename/>
    ///   <FTPTransaktionsId>a.xml</FTPTransaktionsId>
    ///   <timestamp>20201210143017</timestamp>
    ///   <status.code>File exposed</status.code>
    ///   <service>FTPSGW.Heartbeat</service>
    ///   <response><filename>/out/a.xml_response.txt</filename></response>
    /// </file></status>"#)?;
    /// assert!(doc.is_unrelated_outbound());
    ///
    /// let missing = StatusDocument::from_xml(b"<status><file/></status>");
    /// assert_eq!(missing, Err(ReadError::Missing { element: "status/file/FTPTransaktionsId" }));
    /// # Ok::<(), ReadError>(())
    /// ```
    pub fn from_xml(xml: &[u8]) -> Result<Self, ReadError> {
        read(xml, DEFAULT_MAX_LEN)
    }

    /// Like [`StatusDocument::from_xml`], with a size limit of `max_len` bytes.
    pub fn from_xml_with_limit(xml: &[u8], max_len: usize) -> Result<Self, ReadError> {
        read(xml, max_len)
    }

    /// Writes the document as the gateway does: the XML declaration with
    /// `standalone="no"`, then `status/file` with its elements in the guide's order, indented.
    /// The SKAT transaction id is written as `SKATTransactionId`.
    ///
    /// A document that was read is written so that it reads back equal. Free text set by hand
    /// is written as given, but a reader trims white space around it and reads CR LF as LF.
    pub fn to_xml(&self) -> Result<String, WriteError> {
        write(self)
    }
}
