//! Status file names: `status_<service>_<FTPTransactionID>_<statuscode>.xml`.

use thiserror::Error;

use crate::identifier::truncate;
use crate::{IdentifierError, ServiceName, StatusCode, StatusCodeError, TransactionId};

const PREFIX: &str = "status_";
const SUFFIX: &str = ".xml";

/// The name of a status file in `/out`: `status_<requested service>_<FTPTransactionID>_<statuscode>.xml`.
///
/// The service contains no underscore, so the first underscore after `status_` ends it; the
/// status code is the single digit after the last underscore; the transaction id is all in
/// between and may itself contain underscores, dots, hyphens and spaces.
///
/// ```
/// use skat_status::{StatusCode, StatusFileName};
///
/// let name: StatusFileName = "status_FTPSGW.Heartbeat_ping20201210143002441-hb01.xml_1.xml".parse()?;
/// assert_eq!(name.service().as_str(), "FTPSGW.Heartbeat");
/// assert_eq!(name.transaction_id().as_str(), "ping20201210143002441-hb01.xml");
/// assert_eq!(name.status(), StatusCode::Delivered);
/// assert_eq!(name.to_string(), "status_FTPSGW.Heartbeat_ping20201210143002441-hb01.xml_1.xml");
/// # Ok::<(), skat_status::NameError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StatusFileName {
    service: ServiceName,
    transaction_id: TransactionId,
    status: StatusCode,
}

/// A file name that is not a status file name, with the name and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{name:?} is not a status file name: {kind}")]
pub struct NameError {
    /// The name that was parsed (cut to 300 bytes).
    pub name: String,
    /// What is wrong with it.
    pub kind: NameErrorKind,
}

/// What is wrong with a status file name.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum NameErrorKind {
    /// It does not start with `status_`.
    #[error("it does not start with \"status_\"")]
    MissingPrefix,
    /// It does not end with `.xml`.
    #[error("it does not end with \".xml\"")]
    MissingSuffix,
    /// There is no `_<statuscode>` before `.xml`.
    #[error("there is no \"_<statuscode>\" before \".xml\"")]
    MissingStatusCode,
    /// The status code is not 0, 1, 2 or 3.
    #[error(transparent)]
    StatusCode(#[from] StatusCodeError),
    /// There is no `_` between the service and the transaction id.
    #[error("there is no \"_\" between the service and the FTPTransactionID")]
    MissingTransactionId,
    /// The service part is not a valid service name.
    #[error("the service part: {0}")]
    Service(#[source] IdentifierError),
    /// The transaction id part is not a valid transaction id.
    #[error("the FTPTransactionID part: {0}")]
    TransactionId(#[source] IdentifierError),
}

impl StatusFileName {
    /// Builds the name of the status file with `status` for a transaction.
    pub fn new(service: ServiceName, transaction_id: TransactionId, status: StatusCode) -> Self {
        Self { service, transaction_id, status }
    }

    /// Parses a status file name (the bare file name, without folder).
    pub fn parse(name: &str) -> Result<Self, NameError> {
        Self::parse_parts(name)
            .map_err(|kind| NameError { name: truncate(name, 300).to_owned(), kind })
    }

    fn parse_parts(name: &str) -> Result<Self, NameErrorKind> {
        let rest = name.strip_prefix(PREFIX).ok_or(NameErrorKind::MissingPrefix)?;
        let rest = rest.strip_suffix(SUFFIX).ok_or(NameErrorKind::MissingSuffix)?;
        let (rest, code) = rest.rsplit_once('_').ok_or(NameErrorKind::MissingStatusCode)?;
        let status = code.parse::<StatusCode>()?;
        let (service, transaction_id) =
            rest.split_once('_').ok_or(NameErrorKind::MissingTransactionId)?;
        Ok(Self {
            service: ServiceName::new(service).map_err(NameErrorKind::Service)?,
            transaction_id: TransactionId::new(transaction_id)
                .map_err(NameErrorKind::TransactionId)?,
            status,
        })
    }

    /// Whether `name` looks like a status file (`status_*.xml`), as opposed to a response file
    /// in `/out`. A name for which this is true may still fail [`StatusFileName::parse`].
    pub fn is_status_file_name(name: &str) -> bool {
        name.len() >= PREFIX.len() + SUFFIX.len()
            && name.starts_with(PREFIX)
            && name.ends_with(SUFFIX)
    }

    /// The service the file was uploaded to (`<requested service>`).
    pub fn service(&self) -> &ServiceName {
        &self.service
    }

    /// The `FTPTransactionID`: the uploaded file's name, or the gateway's sequence for an
    /// unrelated outbound file.
    pub fn transaction_id(&self) -> &TransactionId {
        &self.transaction_id
    }

    /// The status code.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl core::fmt::Display for StatusFileName {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{PREFIX}{}_{}_{}{SUFFIX}", self.service, self.transaction_id, self.status)
    }
}

impl core::str::FromStr for StatusFileName {
    type Err = NameError;
    fn from_str(s: &str) -> Result<Self, NameError> {
        Self::parse(s)
    }
}

impl TryFrom<&str> for StatusFileName {
    type Error = NameError;
    fn try_from(value: &str) -> Result<Self, NameError> {
        Self::parse(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(name: &str) -> NameErrorKind {
        match StatusFileName::parse(name) {
            Ok(parsed) => panic!("{name:?} parsed as {parsed:?}"),
            Err(e) => e.kind,
        }
    }

    #[test]
    fn transaction_ids_may_hold_underscores_and_spaces() -> Result<(), NameError> {
        let name = StatusFileName::parse("status_Manifest.X_MAN_DKA54A a_b.xml_3.xml")?;
        assert_eq!(name.service(), "Manifest.X");
        assert_eq!(name.transaction_id(), "MAN_DKA54A a_b.xml");
        assert_eq!(name.status(), StatusCode::Exposed);
        Ok(())
    }

    #[test]
    fn each_defect_is_named() {
        assert_eq!(kind("Status_A_b_1.xml"), NameErrorKind::MissingPrefix);
        assert_eq!(kind("status_A_b_1.XML"), NameErrorKind::MissingSuffix);
        assert_eq!(kind("status_.xml"), NameErrorKind::MissingStatusCode);
        assert_eq!(kind("status_A_1.xml"), NameErrorKind::MissingTransactionId);
        assert!(matches!(kind("status_A_b_4.xml"), NameErrorKind::StatusCode(_)));
        assert!(matches!(kind("status_A_b_.xml"), NameErrorKind::StatusCode(_)));
        assert!(matches!(kind("status__b_1.xml"), NameErrorKind::Service(_)));
        assert!(matches!(kind("status_A__1.xml"), NameErrorKind::TransactionId(_)));
        assert!(matches!(kind("status_A_x/y_1.xml"), NameErrorKind::TransactionId(_)));
    }

    #[test]
    fn errors_quote_the_name() {
        let message = StatusFileName::parse("response.txt").map_err(|e| e.to_string());
        assert_eq!(
            message,
            Err("\"response.txt\" is not a status file name: it does not start with \"status_\""
                .to_owned())
        );
    }

    #[test]
    fn long_names_are_cut_in_errors_on_char_boundaries() {
        let name = format!("x{}", "é".repeat(400));
        let error = StatusFileName::parse(&name).err();
        assert_eq!(error.map(|e| e.name.len()), Some(299));
    }

    #[test]
    fn recognises_status_file_names() {
        assert!(StatusFileName::is_status_file_name("status_a_b_1.xml"));
        assert!(!StatusFileName::is_status_file_name("status_.xm"));
        assert!(!StatusFileName::is_status_file_name("FTPSGW.Heartbeat_in_ping.xml_response.txt"));
    }
}
