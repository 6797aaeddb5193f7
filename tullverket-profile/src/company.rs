//! The company's own OFTP code ([`CompanyCode`]), checked against the form Customs uses.
//!
//! Customs' FAQ gives the form of a company's EDI code as `O09420000` followed by the
//! organisation number and a suffix, e.g. `O09420000ORGNUMMBERV6TEKN`. As an Odette
//! identification code (RFC 5024 §5.4) that is:
//!
//! | Positions | Odette subfield | Value |
//! |---|---|---|
//! | 1 | SIOOID | `O` |
//! | 2–5 | SIOICD, International Code Designator | `0942` |
//! | 6–19 | SIOORG, Organisation Code | `0000` + the 10-digit organisation number |
//! | 20–25 | SIOCSA, Computer Subaddress | the suffix, up to 6 characters |
//!
//! The organisation number (organisationsnummer, or the personal identity number of a
//! sole trader) ends with a Luhn check digit, which is verified, so a mistyped digit is
//! found before Customs refuses the session with "user code not known".

use std::fmt;
use std::str::FromStr;

use oftp2_codec::fields::{InvalidField, OdetteId};

/// The Odette identifier every code starts with.
const IDENTIFIER: char = 'O';
/// The International Code Designator of Swedish Customs' codes.
const DESIGNATOR: &str = "0942";
/// What stands before the organisation number in the Organisation Code.
const ZEROS: &str = "0000";

/// Why a text is not a company code of the form Customs uses. Every message says what
/// was found, where, and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CompanyCodeError {
    /// Not an Odette identification code at all (too long, characters outside the
    /// allowed set, empty, ...).
    #[error("{code:?} is not an Odette identification code: {source}{hint}", hint = case_hint(.code))]
    NotOdetteId {
        /// The text given.
        code: String,
        /// What is wrong with it.
        source: InvalidField,
    },
    /// The first character is not `O`.
    #[error(
        "{code:?} starts with {found:?}: a company code starts with \"O\" (ODETTE), as in \
         O09420000<organisation number><suffix>"
    )]
    NotOdetteAssigned {
        /// The code.
        code: String,
        /// The first character.
        found: char,
    },
    /// Positions 2 to 5 are not `0942`.
    #[error(
        "{code:?} has {found:?} at positions 2-5 where Customs' codes have \"0942\": the code \
         starts with O0942, as in O09420000<organisation number><suffix>"
    )]
    WrongDesignator {
        /// The code.
        code: String,
        /// Positions 2 to 5.
        found: String,
    },
    /// Positions 6 to 9 are not `0000`.
    #[error(
        "{code:?} has {found:?} at positions 6-9 where \"0000\" belongs: the organisation \
         number comes after O09420000"
    )]
    MissingZeros {
        /// The code.
        code: String,
        /// Positions 6 to 9.
        found: String,
    },
    /// Positions 10 to 19 are not ten digits.
    #[error(
        "{code:?} has {found:?} at positions 10-19 where the 10-digit organisation number \
         belongs (digits only, without the hyphen: 5561234567 for 556123-4567)"
    )]
    OrganisationNumberNotDigits {
        /// The code.
        code: String,
        /// Positions 10 to 19.
        found: String,
    },
    /// The organisation number's check digit is wrong.
    #[error(
        "the organisation number {number} in {code:?} has a wrong check digit: its last digit \
         would be {expected} (check it against the Swedish Companies Registration Office's \
         record)"
    )]
    CheckDigit {
        /// The code.
        code: String,
        /// The organisation number.
        number: String,
        /// The check digit its first nine digits call for.
        expected: u8,
    },
}

fn case_hint(code: &str) -> &'static str {
    if code.chars().any(|c| c.is_ascii_lowercase()) {
        " (Odette codes are written in capital letters)"
    } else {
        ""
    }
}

/// The company's own Odette code, as it goes in SSIDCODE: an [`OdetteId`] of the form
/// `O` `0942` `0000` + organisation number + suffix.
///
/// ```
/// use tullverket_profile::CompanyCode;
///
/// let code: CompanyCode = "O094200005560360793TEKN".parse()?;
/// assert_eq!(code.organisation_number(), Some("5560360793"));
/// assert_eq!(code.suffix(), "TEKN");
///
/// let typo = "O094200005560360794TEKN".parse::<CompanyCode>().unwrap_err();
/// assert!(typo.to_string().contains("check digit"));
/// # Ok::<(), tullverket_profile::CompanyCodeError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CompanyCode {
    id: OdetteId,
    checked: bool,
}

impl CompanyCode {
    /// Validates `code`: an Odette identification code of the form Customs uses.
    pub fn new(code: &str) -> Result<Self, CompanyCodeError> {
        let id = OdetteId::new(code)
            .map_err(|source| CompanyCodeError::NotOdetteId { code: code.to_owned(), source })?;
        Self::check_form(&id)?;
        Ok(CompanyCode { id, checked: true })
    }

    /// A code that Customs registered in another form than the FAQ's: any valid Odette
    /// identification code, taken as it is. Prefer [`CompanyCode::new`], which finds
    /// typing errors.
    pub fn without_form_check(id: OdetteId) -> Self {
        CompanyCode { id, checked: false }
    }

    fn check_form(id: &OdetteId) -> Result<(), CompanyCodeError> {
        let code = || id.as_str().to_owned();
        if id.odette_identifier() != IDENTIFIER {
            return Err(CompanyCodeError::NotOdetteAssigned {
                code: code(),
                found: id.odette_identifier(),
            });
        }
        let padded = id.padded();
        let text = |range: std::ops::Range<usize>| {
            String::from_utf8_lossy(padded.get(range).unwrap_or_default()).into_owned()
        };
        if id.international_code_designator() != DESIGNATOR {
            return Err(CompanyCodeError::WrongDesignator { code: code(), found: text(1..5) });
        }
        if !id.organisation_code().starts_with(ZEROS) {
            return Err(CompanyCodeError::MissingZeros { code: code(), found: text(5..9) });
        }
        let number = text(9..19);
        if number.len() != 10 || !number.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CompanyCodeError::OrganisationNumberNotDigits {
                code: code(),
                found: number.trim_end().to_owned(),
            });
        }
        let expected = luhn_check_digit(number.get(..9).unwrap_or_default());
        if number.bytes().last() != Some(b'0' + expected) {
            return Err(CompanyCodeError::CheckDigit { code: code(), number, expected });
        }
        Ok(())
    }

    /// The code as an [`OdetteId`].
    pub fn odette_id(&self) -> OdetteId {
        self.id
    }

    /// The 10-digit organisation number (positions 10 to 19); `None` for a code taken
    /// [without the form check](CompanyCode::without_form_check).
    pub fn organisation_number(&self) -> Option<&str> {
        self.checked.then(|| self.id.organisation_code().get(4..).unwrap_or_default())
    }

    /// The suffix (the Computer Subaddress, positions 20 to 25), without padding.
    pub fn suffix(&self) -> &str {
        self.id.computer_subaddress()
    }

    /// The code as text, without trailing spaces.
    pub fn as_str(&self) -> &str {
        self.id.as_str()
    }
}

/// The Luhn check digit for `digits` (weights 2, 1, 2, ... from the left, as Swedish
/// organisation and personal identity numbers use).
fn luhn_check_digit(digits: &str) -> u8 {
    let sum: u32 = digits
        .bytes()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0') * if i % 2 == 0 { 2 } else { 1 };
            d / 10 + d % 10
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

impl fmt::Debug for CompanyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.id, f)
    }
}

impl fmt::Display for CompanyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.id, f)
    }
}

impl FromStr for CompanyCode {
    type Err = CompanyCodeError;

    fn from_str(code: &str) -> Result<Self, Self::Err> {
        Self::new(code)
    }
}

impl From<CompanyCode> for OdetteId {
    fn from(code: CompanyCode) -> Self {
        code.id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customs_own_number_passes_the_check_digit() {
        // Tullverket's organisation number 202100-0969, inside their own code.
        assert_eq!(luhn_check_digit("202100096"), 9);
        let code = CompanyCode::new("O094200002021000969PRDINT").unwrap();
        assert_eq!(code.organisation_number(), Some("2021000969"));
    }

    #[test]
    fn each_part_is_explained() {
        let cases: [(&str, &str); 6] = [
            ("o094200005560360793TEKN", "capital letters"),
            ("X094200005560360793TEKN", "starts with \"O\""),
            ("O001300005560360793TEKN", "\"0942\""),
            ("O094212345560360793TEKN", "\"0000\""),
            ("O09420000ORGNUMMBERV6TEKN", "10-digit organisation number"),
            ("O094200005560360790TEKN", "would be 3"),
        ];
        for (code, expected) in cases {
            let message = CompanyCode::new(code).unwrap_err().to_string();
            assert!(message.contains(expected), "{code}: {message}");
        }
        assert!(matches!(
            CompanyCode::new("O09420000556036079TEKN").unwrap_err(),
            CompanyCodeError::OrganisationNumberNotDigits { .. }
        ));
    }

    #[test]
    fn an_empty_suffix_and_an_unchecked_code() {
        let code = CompanyCode::new("O094200005560360793").unwrap();
        assert_eq!(code.suffix(), "");
        let other = CompanyCode::without_form_check("O0013000000000000001".parse().unwrap());
        assert_eq!(other.organisation_number(), None);
        assert_eq!(other.to_string(), "O0013000000000000001");
    }
}
