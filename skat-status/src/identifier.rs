//! The shared rules for the textual identifiers of a status file: service names, transaction
//! ids and error codes.

use thiserror::Error;

/// The longest identifier accepted, in bytes. Service folders and uploaded file names are far
/// shorter; the bound keeps a hostile input from making huge values.
pub const MAX_IDENTIFIER_LEN: usize = 255;

/// Why a service name, transaction id or error code was refused.
///
/// `what` names the kind of value (`"service name"`, `"FTPTransaktionsId"`, `"error.code"`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum IdentifierError {
    /// The value is empty.
    #[error("{what} is empty")]
    Empty {
        /// The kind of value.
        what: &'static str,
    },
    /// The value is longer than [`MAX_IDENTIFIER_LEN`] bytes.
    #[error("{what} is {len} bytes long; at most {max} are allowed")]
    TooLong {
        /// The kind of value.
        what: &'static str,
        /// Its length in bytes.
        len: usize,
        /// The largest length allowed.
        max: usize,
    },
    /// The value contains a character that it may not contain.
    #[error("{what} contains {found:?} at byte {offset}, which is not allowed: {why}")]
    ForbiddenChar {
        /// The kind of value.
        what: &'static str,
        /// The character found.
        found: char,
        /// Its byte offset in the value.
        offset: usize,
        /// The rule it breaks.
        why: &'static str,
    },
    /// The value starts or ends with a space, which XML readers trim away.
    #[error("{what} starts or ends with white space")]
    SurroundingWhitespace {
        /// The kind of value.
        what: &'static str,
    },
}

/// Which characters, besides control characters, an identifier may not contain.
pub(crate) struct Rules {
    /// The kind of value, for error messages.
    pub(crate) what: &'static str,
    /// Forbidden characters, each with the reason.
    pub(crate) forbidden: &'static [(char, &'static str)],
    /// Whether any white space is forbidden (not only at the ends).
    pub(crate) no_whitespace: bool,
}

impl Rules {
    /// Checks `value` against these rules.
    pub(crate) fn check(&self, value: &str) -> Result<(), IdentifierError> {
        let what = self.what;
        if value.is_empty() {
            return Err(IdentifierError::Empty { what });
        }
        if value.len() > MAX_IDENTIFIER_LEN {
            return Err(IdentifierError::TooLong {
                what,
                len: value.len(),
                max: MAX_IDENTIFIER_LEN,
            });
        }
        for (offset, found) in value.char_indices() {
            let why = if found.is_ascii_alphanumeric() {
                // The common case, allowed by every rule set.
                None
            } else if found.is_control() {
                Some("control characters cannot be carried in a status file")
            } else if self.no_whitespace && found.is_whitespace() {
                Some("white space is not allowed here")
            } else {
                self.forbidden.iter().find(|(c, _)| *c == found).map(|(_, why)| *why)
            };
            if let Some(why) = why {
                return Err(IdentifierError::ForbiddenChar { what, found, offset, why });
            }
        }
        if value.starts_with(char::is_whitespace) || value.ends_with(char::is_whitespace) {
            return Err(IdentifierError::SurroundingWhitespace { what });
        }
        Ok(())
    }
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary: for
/// quoting untrusted input in errors without quoting all of it.
pub(crate) fn truncate(s: &str, max: usize) -> &str {
    let mut end = max.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or_default()
}

/// Path separators, which no identifier of a status file may contain.
pub(crate) const PATH_SEPARATORS: [(char, &str); 2] = [
    ('/', "a path separator cannot be part of a file or folder name"),
    ('\\', "a path separator cannot be part of a file or folder name"),
];

/// Defines a validated string newtype: constructor, accessors, `Display`, `FromStr`,
/// `TryFrom<&str>`, `TryFrom<String>` and serde through `String` (validated on the way in).
macro_rules! identifier_newtype {
    ($(#[$meta:meta])* $name:ident, $rules:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Checks `value` and wraps it.
            pub fn new(value: impl Into<String>) -> Result<Self, $crate::IdentifierError> {
                let value = value.into();
                $rules.check(&value)?;
                Ok(Self(value))
            }

            /// The value as written in file names and XML.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The value as an owned string.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl core::str::FromStr for $name {
            type Err = $crate::IdentifierError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::new(s)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = $crate::IdentifierError;
            fn try_from(value: &str) -> Result<Self, Self::Error> {
                Self::new(value)
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::IdentifierError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::new(value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}
pub(crate) use identifier_newtype;

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: Rules =
        Rules { what: "thing", forbidden: &[('_', "no underscores")], no_whitespace: false };

    #[test]
    fn accepts_plain_values() {
        assert_eq!(RULES.check("a.b-c d"), Ok(()));
    }

    #[test]
    fn reports_each_rule() {
        assert_eq!(RULES.check(""), Err(IdentifierError::Empty { what: "thing" }));
        assert_eq!(
            RULES.check(&"x".repeat(256)),
            Err(IdentifierError::TooLong { what: "thing", len: 256, max: 255 })
        );
        assert!(matches!(
            RULES.check("ab_c"),
            Err(IdentifierError::ForbiddenChar { found: '_', offset: 2, .. })
        ));
        assert!(matches!(
            RULES.check("a\u{7}"),
            Err(IdentifierError::ForbiddenChar { found: '\u{7}', .. })
        ));
        assert_eq!(
            RULES.check(" a"),
            Err(IdentifierError::SurroundingWhitespace { what: "thing" })
        );
        assert_eq!(
            RULES.check("a\u{a0}"),
            Err(IdentifierError::SurroundingWhitespace { what: "thing" })
        );
    }
}
