//! Errors of decoding and encoding.
//!
//! Decoding tells apart [`DecodeError::Incomplete`] ("give me more octets") from
//! [`DecodeError::Malformed`] ("these octets are wrong"). A [`Malformed`] error names the
//! command, the field (by its RFC name, such as `SFIDLRECL`), the offset of that field in
//! the exchange buffer, what was expected and what was found, and the ESID reason
//! ([`EsidReason`]) a session must end with when it receives such a buffer.

use core::fmt;

use crate::level::ProtocolLevel;
use crate::reason::EsidReason;

/// Why octets could not be decoded: exactly one of "not yet" and "never".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The input ends before the item does: at least `needed` more octets are required.
    ///
    /// Inside a complete exchange buffer (framed by a stream transmission header) this
    /// cannot be fixed by waiting; [`DecodeError::into_malformed`] turns it into the ESID
    /// 07 error a session sends then.
    #[error("incomplete input: at least {needed} more octet(s) needed")]
    Incomplete {
        /// The least number of octets still missing.
        needed: usize,
    },
    /// The input is wrong; see [`Malformed`] for where and how.
    #[error(transparent)]
    Malformed(#[from] Malformed),
}

impl DecodeError {
    /// The error as a [`Malformed`] one: `Incomplete` becomes an exchange buffer size
    /// error (ESID 07) of `item`, as when a stream transmission header announces fewer
    /// octets than the command needs.
    pub fn into_malformed(self, item: &'static str, length: usize) -> Malformed {
        match self {
            DecodeError::Malformed(malformed) => malformed,
            DecodeError::Incomplete { needed } => Malformed {
                item,
                field: "length",
                offset: length,
                expected: Expected::Length(length + needed),
                found: Found::Length(length),
                reason: EsidReason::EXCHANGE_BUFFER_SIZE_ERROR,
            },
        }
    }

    /// The ESID reason a session answers this error with (07 for an incomplete buffer).
    pub fn esid_reason(&self) -> EsidReason {
        match self {
            DecodeError::Incomplete { .. } => EsidReason::EXCHANGE_BUFFER_SIZE_ERROR,
            DecodeError::Malformed(malformed) => malformed.reason,
        }
    }
}

/// Where and how an item was malformed, and how a session must answer it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{item} malformed at offset {offset}, field {field}: expected {expected}, found {found} (answer: ESID {reason})")]
#[non_exhaustive]
pub struct Malformed {
    /// The command (`"SFID"`, ...) or structure (`"STH"`, `"DATA subrecord"`) being decoded.
    pub item: &'static str,
    /// The RFC name of the field, such as `"SSIDSDEB"`.
    pub field: &'static str,
    /// Offset of the field from the start of the item (zero-based, like the RFC's "Pos").
    pub offset: usize,
    /// What the field must hold.
    pub expected: Expected,
    /// What it held.
    pub found: Found,
    /// The ESID reason a session ends with on receipt of this item.
    pub reason: EsidReason,
}

impl Malformed {
    /// A field with invalid contents: ESID 06 (command contained invalid data).
    pub(crate) fn invalid_data(
        item: &'static str,
        field: &'static str,
        offset: usize,
        expected: Expected,
        found: &[u8],
    ) -> Self {
        Malformed {
            item,
            field,
            offset,
            expected,
            found: Found::octets(found),
            reason: EsidReason::COMMAND_CONTAINED_INVALID_DATA,
        }
    }
}

/// What a field must hold.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Expected {
    /// One of these literal values.
    OneOf(&'static [&'static str]),
    /// Exactly this literal.
    Literal(&'static str),
    /// A description of the format, such as `"9(5) digits in 128..=99999"`.
    Format(&'static str),
    /// This many octets in all.
    Length(usize),
    /// A known command code (first octet of an exchange buffer).
    CommandCode,
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expected::OneOf(values) => {
                f.write_str("one of ")?;
                for (i, value) in values.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{value:?}")?;
                }
                Ok(())
            }
            Expected::Literal(value) => write!(f, "{value:?}"),
            Expected::Format(format) => f.write_str(format),
            Expected::Length(length) => write!(f, "{length} octet(s)"),
            Expected::CommandCode => f.write_str("a command code"),
        }
    }
}

/// What a malformed field held (at most [`Found::MAX_OCTETS`] octets are kept).
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Found {
    /// The octets of the field (cut to [`Found::MAX_OCTETS`]).
    Octets(Vec<u8>),
    /// A length (of the item or of a field).
    Length(usize),
    /// The input ended here.
    End,
}

impl Found {
    /// How many octets of a malformed field an error keeps.
    pub const MAX_OCTETS: usize = 32;

    pub(crate) fn octets(octets: &[u8]) -> Self {
        Found::Octets(octets.iter().copied().take(Self::MAX_OCTETS).collect())
    }
}

impl fmt::Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Found::Octets(octets) => {
                f.write_str("\"")?;
                for &octet in octets {
                    if octet.is_ascii_graphic() || octet == b' ' {
                        write!(f, "{}", octet as char)?;
                    } else {
                        write!(f, "\\x{octet:02X}")?;
                    }
                }
                f.write_str("\"")
            }
            Found::Length(length) => write!(f, "{length} octet(s)"),
            Found::End => f.write_str("end of input"),
        }
    }
}

impl fmt::Debug for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Why a value could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The value has a field that the layout of this protocol level cannot carry
    /// (a restart position too large for 1.4's 9 digits, a hash in a 1.4 EERP, ...).
    #[error("{command} field {field} cannot be sent at protocol level {level}: {why}")]
    NotRepresentable {
        /// The command.
        command: &'static str,
        /// The RFC name of the field.
        field: &'static str,
        /// The protocol level whose layout was asked for.
        level: ProtocolLevel,
        /// Why not.
        why: &'static str,
    },
    /// The command does not exist at this protocol level (SECD, AUCH, AURP before 2.0; NERP before 1.4).
    #[error("{command} does not exist at protocol level {level}")]
    NotAtLevel {
        /// The command.
        command: &'static str,
        /// The protocol level.
        level: ProtocolLevel,
    },
    /// The encoded item would not fit its limit (an exchange buffer over 99,999 octets).
    #[error("{item} of {length} octets exceeds the limit of {limit}")]
    TooLong {
        /// What was being encoded.
        item: &'static str,
        /// Its length.
        length: usize,
        /// The limit.
        limit: usize,
    },
}
