//! The `error.code` of a status_0 file, with the guide's message, resolution and remedy.

use crate::identifier::Rules;
use crate::IdentifierError;

const RULES: Rules = Rules { what: "error.code", forbidden: &[], no_whitespace: false };

/// The `error.code` of a status file with status 0.
///
/// The codes the guide documents are variants; any other code (the error may come from FTPS
/// Gateway or from the backend system) is kept exactly as it came in [`ErrorCode::Other`].
///
/// ```
/// use skat_status::{ErrorCode, Remedy};
///
/// let code: ErrorCode = "FILE_NOT_UPLOADED_IN_ASCII_MODE".parse()?;
/// assert_eq!(code, ErrorCode::FileNotUploadedInAsciiMode);
/// assert_eq!(code.resolution(), Some("Upload file in ASCII mode"));
/// assert_eq!(code.remedy(), Remedy::UploadInAsciiMode);
///
/// let other: ErrorCode = "BACKEND_SAYS_NO".parse()?;
/// assert_eq!(other.as_str(), "BACKEND_SAYS_NO");
/// assert_eq!(other.remedy(), Remedy::ReadMessageOrContactSkat);
/// # Ok::<(), skat_status::IdentifierError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// `FILENAME_CANNOT_BE_REUSED_FOR_TRANSACTION`: the name of the uploaded file was used
    /// before.
    FilenameCannotBeReusedForTransaction,
    /// `FILE_NOT_UPLOADED_IN_ASCII_MODE` (eKapital Classic): the file was uploaded in binary
    /// mode.
    FileNotUploadedInAsciiMode,
    /// `RECORD_LENGTH_INCORRECT` (eKapital Classic): a record has the wrong length.
    RecordLengthIncorrect,
    /// `FIRST_RECORD_INCORRECT` (eKapital Classic): the first record starts wrongly.
    FirstRecordIncorrect,
    /// `LAST_RECORD_INCORRECT` (eKapital Classic): the last record starts wrongly.
    LastRecordIncorrect,
    /// A code the guide does not document, exactly as it came.
    Other(OtherErrorCode),
}

/// An error code that the guide does not document. It can only be made by parsing, so it is
/// never one of the known codes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OtherErrorCode(String);

impl OtherErrorCode {
    /// The code as it came.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a client should do about a status_0 file.
///
/// Uploaded file names must be unique, so every remedy that uploads again does so under a new
/// file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Remedy {
    /// Upload the same content again under a new, unused file name.
    UploadUnderNewName,
    /// Upload the file again in ASCII mode (FTP `TYPE A`), under a new file name.
    UploadInAsciiMode,
    /// Fix the file's format (record length, first or last record) and upload it again under
    /// a new file name; contact SKAT customer service if the problem continues.
    FixFileAndUploadAgain,
    /// An error the guide does not document: follow `error.message` and `error.resolution`,
    /// or ask the SKAT contact point.
    ReadMessageOrContactSkat,
}

impl Remedy {
    /// A sentence saying what to do.
    pub fn description(self) -> &'static str {
        match self {
            Self::UploadUnderNewName => "Upload the file again under a new, unused file name.",
            Self::UploadInAsciiMode => {
                "Upload the file again in ASCII mode (FTP TYPE A), under a new file name."
            }
            Self::FixFileAndUploadAgain => {
                "Fix the file's format and upload it again under a new file name; contact SKAT customer service if the problem continues."
            }
            Self::ReadMessageOrContactSkat => {
                "Follow error.message and error.resolution, or ask your SKAT contact point."
            }
        }
    }

    /// Whether the remedy is to upload the file again (always under a new name).
    pub fn uploads_again(self) -> bool {
        !matches!(self, Self::ReadMessageOrContactSkat)
    }
}

/// The guide's table: code, message, resolution, longer explanation, remedy, whether it
/// concerns only eKapital Classic.
struct Known {
    code: &'static str,
    message: &'static str,
    resolution: &'static str,
    explanation: Option<&'static str>,
    remedy: Remedy,
    ekapital_classic_only: bool,
}

const RECORD_EXPLANATION: &str = "This error will occur to ensure that the record length has the correct length. Fix the record length and try to upload again. Please contact SKAT customer service if the problem continues.";

const REUSED: Known = Known {
    code: "FILENAME_CANNOT_BE_REUSED_FOR_TRANSACTION",
    message: "The filename provided has already been used for previous transaction",
    resolution: "Resubmit the file with a new filename",
    explanation: None,
    remedy: Remedy::UploadUnderNewName,
    ekapital_classic_only: false,
};
const ASCII: Known = Known {
    code: "FILE_NOT_UPLOADED_IN_ASCII_MODE",
    message: "Files to the requested Backend System must be uploaded in ASCII mode",
    resolution: "Upload file in ASCII mode",
    explanation: Some("The backend System only support files uploaded in ASCII mode. Please upload the file in ASCII mode or contact customer service for further instructions."),
    remedy: Remedy::UploadInAsciiMode,
    ekapital_classic_only: true,
};
const RECORD_LENGTH: Known = Known {
    code: "RECORD_LENGTH_INCORRECT",
    message: "The file does not conform with required format due to incorrect record length. Please see www.skat.dk/eKapital",
    resolution: "Fix record length and upload file again",
    explanation: Some(RECORD_EXPLANATION),
    remedy: Remedy::FixFileAndUploadAgain,
    ekapital_classic_only: true,
};
const FIRST_RECORD: Known = Known {
    code: "FIRST_RECORD_INCORRECT",
    message: "The file does not conform with required format due to incorrect start of first record. Please see www.skat.dk/eKapital",
    resolution: "Fix first line and upload file again",
    explanation: Some(RECORD_EXPLANATION),
    remedy: Remedy::FixFileAndUploadAgain,
    ekapital_classic_only: true,
};
const LAST_RECORD: Known = Known {
    code: "LAST_RECORD_INCORRECT",
    message: "The file does not conform with required format due to incorrect start of last record. Please see www.skat.dk/eKapital",
    resolution: "Fix last line and upload file again",
    explanation: Some(RECORD_EXPLANATION),
    remedy: Remedy::FixFileAndUploadAgain,
    ekapital_classic_only: true,
};

impl ErrorCode {
    /// The codes the guide documents.
    pub const KNOWN: [ErrorCode; 5] = [
        ErrorCode::FilenameCannotBeReusedForTransaction,
        ErrorCode::FileNotUploadedInAsciiMode,
        ErrorCode::RecordLengthIncorrect,
        ErrorCode::FirstRecordIncorrect,
        ErrorCode::LastRecordIncorrect,
    ];

    /// Reads an `error.code`: a known code becomes its variant, any other non-empty code is
    /// kept as it came. Refuses empty codes, control characters and surrounding white space.
    pub fn new(code: &str) -> Result<Self, IdentifierError> {
        RULES.check(code)?;
        Ok(Self::KNOWN
            .into_iter()
            .find(|known| known.as_str() == code)
            .unwrap_or_else(|| Self::Other(OtherErrorCode(code.to_owned()))))
    }

    fn known(&self) -> Option<&'static Known> {
        match self {
            Self::FilenameCannotBeReusedForTransaction => Some(&REUSED),
            Self::FileNotUploadedInAsciiMode => Some(&ASCII),
            Self::RecordLengthIncorrect => Some(&RECORD_LENGTH),
            Self::FirstRecordIncorrect => Some(&FIRST_RECORD),
            Self::LastRecordIncorrect => Some(&LAST_RECORD),
            Self::Other(_) => None,
        }
    }

    /// The code as written in `error.code`.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Other(other) => other.as_str(),
            known => known.known().map_or("", |k| k.code),
        }
    }

    /// Whether the guide documents this code.
    pub fn is_known(&self) -> bool {
        !matches!(self, Self::Other(_))
    }

    /// The guide's `error.message` for a known code.
    pub fn message(&self) -> Option<&'static str> {
        self.known().map(|k| k.message)
    }

    /// The guide's `error.resolution` for a known code.
    pub fn resolution(&self) -> Option<&'static str> {
        self.known().map(|k| k.resolution)
    }

    /// The guide's longer explanation, where it gives one.
    pub fn explanation(&self) -> Option<&'static str> {
        self.known().and_then(|k| k.explanation)
    }

    /// What a client should do.
    pub fn remedy(&self) -> Remedy {
        self.known().map_or(Remedy::ReadMessageOrContactSkat, |k| k.remedy)
    }

    /// Whether the guide says the code concerns only eKapital Classic.
    pub fn is_ekapital_classic_only(&self) -> bool {
        self.known().is_some_and(|k| k.ekapital_classic_only)
    }
}

impl core::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl core::str::FromStr for ErrorCode {
    type Err = IdentifierError;
    fn from_str(s: &str) -> Result<Self, IdentifierError> {
        Self::new(s)
    }
}

impl TryFrom<&str> for ErrorCode {
    type Error = IdentifierError;
    fn try_from(value: &str) -> Result<Self, IdentifierError> {
        Self::new(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_codes_read_back_as_their_variants() {
        for code in ErrorCode::KNOWN {
            assert_eq!(ErrorCode::new(code.as_str()), Ok(code.clone()));
            assert!(code.is_known());
            assert!(code.message().is_some() && code.resolution().is_some());
            assert!(code.remedy().uploads_again());
        }
    }

    #[test]
    fn only_reuse_concerns_every_system() {
        let classic: Vec<bool> =
            ErrorCode::KNOWN.iter().map(ErrorCode::is_ekapital_classic_only).collect();
        assert_eq!(classic, [false, true, true, true, true]);
    }

    #[test]
    fn unknown_codes_are_kept_as_they_came() {
        let code = ErrorCode::new("filename_cannot_be_reused_for_transaction");
        assert!(
            matches!(&code, Ok(ErrorCode::Other(o)) if o.as_str() == "filename_cannot_be_reused_for_transaction")
        );
        assert_eq!(code.as_ref().map(ErrorCode::message), Ok(None));
        assert_eq!(code.map(|c| c.remedy()), Ok(Remedy::ReadMessageOrContactSkat));
        assert!(ErrorCode::new("").is_err());
        assert!(ErrorCode::new(" X").is_err());
    }
}
