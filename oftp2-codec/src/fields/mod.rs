//! Field types: values that can only hold what the RFC allows in a field.
//!
//! | Notation | Type |
//! |---|---|
//! | `X(n)` String | [`Alphanumeric`] ([`DatasetName`], [`Password`]) |
//! | `X(n)` user data | [`UserData`] |
//! | Identification Code (§5.4) | [`OdetteId`] |
//! | `9(n)` | [`Numeric`], [`BufferSize`], [`Credit`] |
//! | `T(n)` with a `9(3)` length | [`Utf8Text`] |
//! | `9(8)` CCYYMMDD, `9(10)` HHMMSScccc | [`VirtualFileDate`], [`VirtualFileTime`] |
//! | `F X(1)` and `F 9(n)` enumerations | [`RecordFormat`], [`SendReceive`], [`SecurityLevel`], [`CipherSuite`], [`FileCompression`], [`FileEnveloping`] |
//!
//! Each is built through a validating constructor (`new`, `TryFrom`, `FromStr`); with the
//! `serde` feature, deserializing goes through the same validation.

mod alnum;
mod datetime;
mod enums;
mod numeric;
mod odette_id;
mod text;
mod user_data;

pub use alnum::{is_string_octet, Alphanumeric, DatasetName, Password};
pub use datetime::{VirtualFileDate, VirtualFileTime};
pub use enums::{
    CipherSuite, FileCompression, FileEnveloping, RecordFormat, SecurityLevel, SendReceive,
};
pub use numeric::{
    BufferSize, Credit, FileSize, Numeric, RecordCount, RecordLength, RestartPosition, UnitCount,
};
pub use odette_id::OdetteId;
pub use text::Utf8Text;
pub use user_data::UserData;

/// A number outside the range of its field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{value} is outside {min}..={max}")]
pub struct OutOfRange {
    /// The number given.
    pub value: u64,
    /// The least allowed value.
    pub min: u64,
    /// The greatest allowed value.
    pub max: u64,
}

/// Why a value cannot be held by a field type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidField {
    /// Longer than the field.
    #[error("{length} octets where at most {max} fit")]
    TooLong {
        /// The length given.
        length: usize,
        /// The width of the field.
        max: usize,
    },
    /// A character outside the field's character set.
    #[error("character {found:?} at position {position} is not allowed here ({allowed})")]
    InvalidCharacter {
        /// Zero-based position in the value.
        position: usize,
        /// The character.
        found: char,
        /// The allowed set, in words.
        allowed: &'static str,
    },
    /// A space between other characters, which RFC 5024 §5.3 forbids in Strings.
    #[error("embedded space at position {position}")]
    EmbeddedSpace {
        /// Zero-based position of the space.
        position: usize,
    },
    /// A value that must not be empty is.
    #[error("empty value")]
    Empty,
    /// A number out of range.
    #[error(transparent)]
    OutOfRange(#[from] OutOfRange),
    /// Not a valid calendar date or time of day.
    #[error("not a valid {0}")]
    NotADateTime(&'static str),
}
