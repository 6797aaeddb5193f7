//! The content of a status file, as typed values.

use crate::{ErrorCode, ServiceName, StatusCode, Timestamp, TransactionId};

/// The content of a status file (`<status><file>...</file></status>`).
///
/// Free-text fields are kept as read, less surrounding white space (XML readers trim it) and
/// with line ends normalised to `\n` (as XML requires of readers). Read it with
/// [`StatusDocument::from_xml`] and write it with [`StatusDocument::to_xml`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StatusDocument {
    /// `filename`: the path of the uploaded file as the client sent it, such as
    /// `/CVR_19552101/RID_60134540/FTPSGW.Heartbeat/ping20201210143002441-hb01.xml`. Empty
    /// for an unrelated outbound file (not a response). A missing element reads as empty.
    pub filename: String,
    /// `FTPTransaktionsId`: the transaction id the client chose (the uploaded file's name).
    pub ftp_transaction_id: TransactionId,
    /// `SKATTransaktionsId`: the id the system generated, such as
    /// `ci1607607002916_31616756_1`. The guide spells the element both `SKATTransaktionsId`
    /// (its table) and `SKATTransactionId` (its examples); both are read, the latter is
    /// written. Absent in the guide's status_0 example; an empty element reads as absent.
    pub skat_transaction_id: Option<String>,
    /// `timestamp`: when the status file was made.
    pub timestamp: Timestamp,
    /// `status.code`: free text such as `File delivered to requested Backend System`,
    /// `File accepted by FTPSGW.Heartbeat`, `File exposed` or `ERROR`. The numeric status is
    /// in the file name; [`StatusDocument::status_from_text`] recognises the usual texts.
    pub status_text: String,
    /// `service`: the requested service (backend system folder).
    pub service: ServiceName,
    /// `response/filename`: the file exposed to the client in `/out`, for status 3.
    pub response_filename: Option<String>,
    /// `error`: what went wrong, for status 0.
    pub error: Option<ErrorReport>,
}

/// The `error` element of a status_0 file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ErrorReport {
    /// `error.code`: unique code of the error.
    pub code: ErrorCode,
    /// `error.message`: description of the error (empty if the element is missing).
    pub message: String,
    /// `error.resolution`: a possible solution (empty if the element is missing).
    pub resolution: String,
}

impl ErrorReport {
    /// A report with the guide's message and resolution for a known code (empty texts for
    /// an unknown one).
    pub fn from_code(code: ErrorCode) -> Self {
        Self {
            message: code.message().unwrap_or_default().to_owned(),
            resolution: code.resolution().unwrap_or_default().to_owned(),
            code,
        }
    }
}

impl StatusDocument {
    /// The status the `status.code` text stands for, if it is one of the usual texts (see
    /// [`StatusCode::from_status_text`]).
    pub fn status_from_text(&self) -> Option<StatusCode> {
        StatusCode::from_status_text(&self.status_text)
    }

    /// Whether the document reports an unrelated outbound file: a file the backend system
    /// sent on its own, not as a response. Such documents have an empty `filename` and the
    /// status "File exposed" (status 3); `FTPTransaktionsId` is then a sequence the gateway
    /// generated.
    pub fn is_unrelated_outbound(&self) -> bool {
        self.filename.is_empty() && self.status_from_text() == Some(StatusCode::Exposed)
    }
}
