//! The `<timestamp>` of a status file, in either of the two forms the gateway writes.

use thiserror::Error;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// The largest number of milliseconds accepted in the epoch form: thirteen digits (until
/// 2286-11-20). Fourteen digits are always read as `yyyyMMddHHmmss`.
pub const MAX_UNIX_MILLIS: i64 = 9_999_999_999_999;

/// The `<timestamp>` of a status file.
///
/// The guide's examples show two forms, and both are accepted and written back as they came:
/// - `yyyyMMddHHmmss` (`20201210143017`): the gateway's local wall-clock time, with no zone.
///   The examples put it at Danish time (CET/CEST): the `SKATTransaktionsId`
///   `ci1607607002916_...` of the same upload is 13:30:02 UTC, its status file says 14:30:17.
/// - milliseconds since 1970-01-01 UTC (`1607615347963`).
///
/// ```
/// use skat_status::{Timestamp, TimestampFormat};
/// use time::UtcOffset;
///
/// let local = Timestamp::parse("20201210143017")?;
/// assert_eq!(local.format(), TimestampFormat::Local);
/// assert_eq!(local.to_string(), "20201210143017");
///
/// let epoch = Timestamp::parse("1607615347963")?;
/// assert_eq!(epoch.unix_millis(), Some(1_607_615_347_963));
/// let cet = UtcOffset::from_hms(1, 0, 0)?;
/// assert_eq!(epoch.to_offset_date_time(cet).unix_timestamp(), 1_607_615_347);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Timestamp(Repr);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Repr {
    Local(PrimitiveDateTime),
    UnixMillis(i64),
}

/// Which of the two forms a [`Timestamp`] has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimestampFormat {
    /// `yyyyMMddHHmmss`, local time without zone.
    Local,
    /// Milliseconds since 1970-01-01 00:00:00 UTC.
    UnixMillis,
}

/// A `<timestamp>` that could not be read, or a value that cannot be written as one.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TimestampError {
    /// The text is neither 14 digits nor 1 to 13 digits.
    #[error("timestamp {found:?} is neither yyyyMMddHHmmss (14 digits) nor milliseconds since 1970 (1 to 13 digits)")]
    Format {
        /// The text found (cut to 40 bytes).
        found: String,
    },
    /// Fourteen digits that are not a valid date and time.
    #[error("timestamp {found:?} is not a valid date and time: {source}")]
    InvalidDate {
        /// The text found.
        found: String,
        /// Which component is out of range.
        #[source]
        source: time::error::ComponentRange,
    },
    /// A local date and time that the 14-digit form cannot hold (a year outside 0 to 9999,
    /// or a fraction of a second).
    #[error("{value} cannot be written as yyyyMMddHHmmss (year 0 to 9999, whole seconds)")]
    NotRepresentable {
        /// The value.
        value: PrimitiveDateTime,
    },
    /// Milliseconds outside 0 to [`MAX_UNIX_MILLIS`].
    #[error("{value} milliseconds is outside 0 to {MAX_UNIX_MILLIS}")]
    MillisOutOfRange {
        /// The value.
        value: i64,
    },
}

impl Timestamp {
    /// Reads a timestamp: 14 ASCII digits are `yyyyMMddHHmmss`, 1 to 13 ASCII digits are
    /// milliseconds since 1970.
    pub fn parse(text: &str) -> Result<Self, TimestampError> {
        let bytes = text.as_bytes();
        if bytes.is_empty() || bytes.len() > 14 || !bytes.iter().all(u8::is_ascii_digit) {
            return Err(TimestampError::Format {
                found: crate::identifier::truncate(text, 40).to_owned(),
            });
        }
        if bytes.len() == 14 {
            return Self::parse_local(bytes)
                .map_err(|source| TimestampError::InvalidDate { found: text.to_owned(), source });
        }
        // At most 13 digits: always fits an i64 and MAX_UNIX_MILLIS.
        let millis = bytes.iter().fold(0_i64, |acc, d| acc * 10 + i64::from(d - b'0'));
        Ok(Self(Repr::UnixMillis(millis)))
    }

    fn parse_local(bytes: &[u8]) -> Result<Self, time::error::ComponentRange> {
        let field = |from: usize, to: usize| -> u16 {
            bytes
                .get(from..to)
                .unwrap_or_default()
                .iter()
                .fold(0_u16, |acc, d| acc * 10 + u16::from(d - b'0'))
        };
        // Every field fits its type: at most four digits (9999) or two digits (99).
        let narrow = |v: u16| u8::try_from(v).unwrap_or(u8::MAX);
        let month = Month::try_from(narrow(field(4, 6)))?;
        let date = Date::from_calendar_date(i32::from(field(0, 4)), month, narrow(field(6, 8)))?;
        let time =
            Time::from_hms(narrow(field(8, 10)), narrow(field(10, 12)), narrow(field(12, 14)))?;
        Ok(Self(Repr::Local(PrimitiveDateTime::new(date, time))))
    }

    /// A timestamp in the `yyyyMMddHHmmss` form (local time, whole seconds, year 0 to 9999).
    pub fn from_local(value: PrimitiveDateTime) -> Result<Self, TimestampError> {
        if (0..=9999).contains(&value.year()) && value.nanosecond() == 0 {
            Ok(Self(Repr::Local(value)))
        } else {
            Err(TimestampError::NotRepresentable { value })
        }
    }

    /// A timestamp in the epoch form (milliseconds since 1970, 0 to [`MAX_UNIX_MILLIS`]).
    pub fn from_unix_millis(value: i64) -> Result<Self, TimestampError> {
        if (0..=MAX_UNIX_MILLIS).contains(&value) {
            Ok(Self(Repr::UnixMillis(value)))
        } else {
            Err(TimestampError::MillisOutOfRange { value })
        }
    }

    /// Which form the timestamp has.
    pub fn format(&self) -> TimestampFormat {
        match self.0 {
            Repr::Local(_) => TimestampFormat::Local,
            Repr::UnixMillis(_) => TimestampFormat::UnixMillis,
        }
    }

    /// The local date and time of a `yyyyMMddHHmmss` timestamp.
    pub fn local(&self) -> Option<PrimitiveDateTime> {
        match self.0 {
            Repr::Local(value) => Some(value),
            Repr::UnixMillis(_) => None,
        }
    }

    /// The milliseconds of an epoch timestamp.
    pub fn unix_millis(&self) -> Option<i64> {
        match self.0 {
            Repr::Local(_) => None,
            Repr::UnixMillis(value) => Some(value),
        }
    }

    /// The timestamp as a point in time. A local timestamp is taken to be at `local_offset`
    /// (Danish time: +01:00 in winter, +02:00 in summer); an epoch timestamp is exact and
    /// returned in UTC.
    pub fn to_offset_date_time(&self, local_offset: UtcOffset) -> OffsetDateTime {
        match self.0 {
            Repr::Local(value) => value.assume_offset(local_offset),
            Repr::UnixMillis(millis) => {
                // Within 0..=MAX_UNIX_MILLIS, always in range.
                OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
                    .unwrap_or(OffsetDateTime::UNIX_EPOCH)
            }
        }
    }
}

impl core::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.0 {
            Repr::Local(v) => write!(
                f,
                "{:04}{:02}{:02}{:02}{:02}{:02}",
                v.year(),
                u8::from(v.month()),
                v.day(),
                v.hour(),
                v.minute(),
                v.second()
            ),
            Repr::UnixMillis(v) => write!(f, "{v}"),
        }
    }
}

impl core::str::FromStr for Timestamp {
    type Err = TimestampError;
    fn from_str(s: &str) -> Result<Self, TimestampError> {
        Self::parse(s)
    }
}

impl TryFrom<&str> for Timestamp {
    type Error = TimestampError;
    fn try_from(value: &str) -> Result<Self, TimestampError> {
        Self::parse(value)
    }
}

impl TryFrom<PrimitiveDateTime> for Timestamp {
    type Error = TimestampError;
    fn try_from(value: PrimitiveDateTime) -> Result<Self, TimestampError> {
        Self::from_local(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{datetime, offset};

    #[test]
    fn reads_both_forms_of_the_guide() -> Result<(), TimestampError> {
        let local = Timestamp::parse("20201210143017")?;
        assert_eq!(local.local(), Some(datetime!(2020-12-10 14:30:17)));
        assert_eq!(local.unix_millis(), None);
        assert_eq!(local.to_offset_date_time(offset!(+1)), datetime!(2020-12-10 13:30:17 UTC));
        let epoch = Timestamp::parse("1607615347963")?;
        assert_eq!(epoch.format(), TimestampFormat::UnixMillis);
        assert_eq!(epoch.to_offset_date_time(offset!(+1)), datetime!(2020-12-10 15:49:07.963 UTC));
        Ok(())
    }

    #[test]
    fn refuses_what_is_neither() {
        for bad in ["", "2020-12-10", "202012101430171", " 20201210143017", "-5", "１２"] {
            assert!(matches!(Timestamp::parse(bad), Err(TimestampError::Format { .. })), "{bad:?}");
        }
        for bad in ["20201310143017", "20200230143017", "20201210243017", "20201210146017"] {
            assert!(
                matches!(Timestamp::parse(bad), Err(TimestampError::InvalidDate { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn writes_what_it_read() -> Result<(), TimestampError> {
        for text in ["00000101000000", "99991231235959", "0", "9999999999999", "20240229000000"] {
            assert_eq!(Timestamp::parse(text)?.to_string(), text);
        }
        assert_eq!(Timestamp::parse("007")?.to_string(), "7");
        Ok(())
    }

    #[test]
    fn constructors_keep_to_what_can_be_written() {
        assert!(Timestamp::from_local(datetime!(2020-12-10 14:30:17.5)).is_err());
        assert!(Timestamp::from_local(datetime!(-0001-12-10 14:30:17)).is_err());
        assert!(Timestamp::from_unix_millis(-1).is_err());
        assert!(Timestamp::from_unix_millis(MAX_UNIX_MILLIS + 1).is_err());
        assert_eq!(
            Timestamp::from_unix_millis(MAX_UNIX_MILLIS).map(|t| t.to_string()),
            Ok("9999999999999".to_owned())
        );
    }
}
