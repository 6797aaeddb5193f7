//! The status code at the end of a status file name: 0, 1, 2 or 3.

use thiserror::Error;

/// What a status file reports: the `<statuscode>` of its name.
///
/// The numbers are the gateway's; the order of the stages is Delivered (1), Accepted (2),
/// Exposed (3), with Error (0) possible at any point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum StatusCode {
    /// `0`: an error occurred while FTPS Gateway or the backend system processed the file; the
    /// status file carries `error.code`, `error.message` and `error.resolution`.
    Error = 0,
    /// `1`: the file has been sent to the backend system. If this does not come almost at
    /// once, the backend system may be unavailable.
    Delivered = 1,
    /// `2`: the backend system has accepted the file.
    Accepted = 2,
    /// `3`: a file has been sent from the backend system to the client (exposed in `/out`),
    /// either as the response to an upload or as an unrelated outbound file.
    Exposed = 3,
}

/// A status code that is not 0, 1, 2 or 3.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("status code {found:?} is not one of 0, 1, 2 and 3")]
pub struct StatusCodeError {
    /// What was found instead.
    pub found: String,
}

impl StatusCode {
    /// All four codes, in numeric order.
    pub const ALL: [StatusCode; 4] =
        [StatusCode::Error, StatusCode::Delivered, StatusCode::Accepted, StatusCode::Exposed];

    /// The code for a number, if it is one of 0 to 3.
    pub fn from_u8(value: u8) -> Option<Self> {
        match value {
            0 => Some(Self::Error),
            1 => Some(Self::Delivered),
            2 => Some(Self::Accepted),
            3 => Some(Self::Exposed),
            _ => None,
        }
    }

    /// The number of the code.
    pub fn as_u8(self) -> u8 {
        self as u8
    }

    /// The digit as it stands in a status file name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Error => "0",
            Self::Delivered => "1",
            Self::Accepted => "2",
            Self::Exposed => "3",
        }
    }

    /// The guide's short name of the status ("File delivered", "File Accepted", ...).
    pub fn description(self) -> &'static str {
        match self {
            Self::Error => "Error",
            Self::Delivered => "File delivered",
            Self::Accepted => "File accepted",
            Self::Exposed => "File exposed",
        }
    }

    /// Recognises the free text of `<status.code>` as the gateway writes it: `ERROR`,
    /// `File delivered to requested Backend System`, `File accepted by <service>`,
    /// `File exposed` (compared ignoring ASCII case and surrounding white space). `None` for
    /// any other text, such as the bare `OK` the guide's table mentions.
    ///
    /// ```
    /// use skat_status::StatusCode;
    ///
    /// assert_eq!(StatusCode::from_status_text("File accepted by FTPSGW.Heartbeat"), Some(StatusCode::Accepted));
    /// assert_eq!(StatusCode::from_status_text("OK"), None);
    /// ```
    pub fn from_status_text(text: &str) -> Option<Self> {
        let text = text.trim();
        let starts = |prefix: &str| {
            text.get(..prefix.len()).is_some_and(|head| head.eq_ignore_ascii_case(prefix))
        };
        if text.eq_ignore_ascii_case("ERROR") {
            Some(Self::Error)
        } else if starts("File delivered") {
            Some(Self::Delivered)
        } else if starts("File accepted") {
            Some(Self::Accepted)
        } else if starts("File exposed") {
            Some(Self::Exposed)
        } else {
            None
        }
    }

    /// The `<status.code>` text the gateway writes for this code (as in the guide's
    /// examples); `service` completes "File accepted by ...".
    pub fn status_text(self, service: &str) -> String {
        match self {
            Self::Error => "ERROR".to_owned(),
            Self::Delivered => "File delivered to requested Backend System".to_owned(),
            Self::Accepted => format!("File accepted by {service}"),
            Self::Exposed => "File exposed".to_owned(),
        }
    }
}

impl core::fmt::Display for StatusCode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<u8> for StatusCode {
    type Error = StatusCodeError;
    fn try_from(value: u8) -> Result<Self, StatusCodeError> {
        Self::from_u8(value).ok_or_else(|| StatusCodeError { found: value.to_string() })
    }
}

impl core::str::FromStr for StatusCode {
    type Err = StatusCodeError;
    fn from_str(s: &str) -> Result<Self, StatusCodeError> {
        match s {
            "0" => Ok(Self::Error),
            "1" => Ok(Self::Delivered),
            "2" => Ok(Self::Accepted),
            "3" => Ok(Self::Exposed),
            _ => Err(StatusCodeError { found: s.to_owned() }),
        }
    }
}

impl From<StatusCode> for u8 {
    fn from(code: StatusCode) -> u8 {
        code.as_u8()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_digits_and_texts_agree() {
        for code in StatusCode::ALL {
            assert_eq!(StatusCode::from_u8(code.as_u8()), Some(code));
            assert_eq!(code.as_str().parse::<StatusCode>(), Ok(code));
            assert_eq!(
                StatusCode::from_status_text(&code.status_text("FTPSGW.Heartbeat")),
                Some(code)
            );
        }
        assert_eq!(StatusCode::from_u8(4), None);
        assert!("03".parse::<StatusCode>().is_err());
        assert!(StatusCode::try_from(9).is_err());
    }

    #[test]
    fn status_text_tolerates_case_and_space() {
        assert_eq!(StatusCode::from_status_text("  file EXPOSED \r\n"), Some(StatusCode::Exposed));
        assert_eq!(StatusCode::from_status_text("error"), Some(StatusCode::Error));
        assert_eq!(StatusCode::from_status_text("File"), None);
        assert_eq!(StatusCode::from_status_text("Fileé exposed"), None);
    }
}
