//! A status file as a whole: its name and its content, checked against each other.

use thiserror::Error;

use crate::{NameError, ReadError, StatusCode, StatusDocument, StatusFileName};

/// A status file: its [name](StatusFileName) and its [content](StatusDocument), which agree
/// on the service, the `FTPTransaktionsId` and (where the `status.code` text is one of the
/// usual ones) the status.
///
/// ```
/// use skat_status::{StatusCode, StatusFile};
///
/// let file = StatusFile::parse(
///     "status_FTPSGW.Heartbeat_empty.xml_0.xml",
///     br#"<status><file>
///       <filename>RID_60134540/FTPSGW.Heartbeat/empty.xml</filename>
///       <FTPTransaktionsId>empty.xml</FTPTransaktionsId>
///       <timestamp>1607615347963</timestamp>
///       <status.code>ERROR</status.code>
///       <service>FTPSGW.Heartbeat</service>
///       <error><error.code>FILENAME_CANNOT_BE_REUSED_FOR_TRANSACTION</error.code></error>
///     </file></status>"#,
/// )?;
/// assert_eq!(file.status(), StatusCode::Error);
/// assert!(!file.is_unrelated_outbound());
/// # Ok::<(), skat_status::StatusFileError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StatusFile {
    name: StatusFileName,
    document: StatusDocument,
}

/// A status file whose name or content could not be read, or which disagree.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum StatusFileError {
    /// The name is not a status file name.
    #[error(transparent)]
    Name(#[from] NameError),
    /// The content could not be read.
    #[error("status file {name}: {source}")]
    Document {
        /// The file's name.
        name: String,
        /// What is wrong with its content.
        #[source]
        source: ReadError,
    },
    /// Name and content disagree.
    #[error(transparent)]
    Mismatch(#[from] MismatchError),
}

/// Name and content of a status file disagree.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error(
    "status file {name}: the name says {field} is {in_name:?}, the content says {in_document:?}"
)]
pub struct MismatchError {
    /// The file's name.
    pub name: String,
    /// What they disagree on: `service`, `FTPTransaktionsId` or `status`.
    pub field: &'static str,
    /// The value in the name.
    pub in_name: String,
    /// The value in the content.
    pub in_document: String,
}

impl StatusFile {
    /// Pairs a name with its content, checking that they agree.
    pub fn new(name: StatusFileName, document: StatusDocument) -> Result<Self, MismatchError> {
        let mismatch = |field, in_name: &str, in_document: &str| MismatchError {
            name: name.to_string(),
            field,
            in_name: in_name.to_owned(),
            in_document: in_document.to_owned(),
        };
        if name.service() != &document.service {
            return Err(mismatch("service", name.service().as_str(), document.service.as_str()));
        }
        if name.transaction_id() != &document.ftp_transaction_id {
            return Err(mismatch(
                "FTPTransaktionsId",
                name.transaction_id().as_str(),
                document.ftp_transaction_id.as_str(),
            ));
        }
        if let Some(status) = document.status_from_text() {
            if status != name.status() {
                return Err(mismatch("status", name.status().as_str(), &document.status_text));
            }
        }
        Ok(Self { name, document })
    }

    /// Reads a status file from its name and its bytes (see [`StatusDocument::from_xml`]).
    pub fn parse(name: &str, xml: &[u8]) -> Result<Self, StatusFileError> {
        let parsed = StatusFileName::parse(name)?;
        let document = StatusDocument::from_xml(xml)
            .map_err(|source| StatusFileError::Document { name: parsed.to_string(), source })?;
        Ok(Self::new(parsed, document)?)
    }

    /// The file's name.
    pub fn name(&self) -> &StatusFileName {
        &self.name
    }

    /// The file's content.
    pub fn document(&self) -> &StatusDocument {
        &self.document
    }

    /// The status, from the name.
    pub fn status(&self) -> StatusCode {
        self.name.status()
    }

    /// Whether this reports an unrelated outbound file (status 3 with an empty `filename`),
    /// not a stage of an upload.
    pub fn is_unrelated_outbound(&self) -> bool {
        self.status() == StatusCode::Exposed && self.document.filename.is_empty()
    }

    /// The name and the content.
    pub fn into_parts(self) -> (StatusFileName, StatusDocument) {
        (self.name, self.document)
    }
}
