use core::fmt;

use super::InvalidField;

/// SFIDDATE, EERPDATE, NERPDATE: the Virtual File Date stamp, `CCYYMMDD` (§5.3.3), a
/// calendar date (leap years included) from year 0000 to 9999.
///
/// ```
/// use oftp2_codec::fields::VirtualFileDate;
/// let date = VirtualFileDate::new(2024, 2, 29)?;
/// assert_eq!(date.to_string(), "20240229");
/// assert!(VirtualFileDate::new(2023, 2, 29).is_err());
/// # Ok::<(), oftp2_codec::fields::InvalidField>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VirtualFileDate {
    year: u16,
    month: u8,
    day: u8,
}

const fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        _ => 0,
    }
}

impl VirtualFileDate {
    /// The date, if it is one.
    pub const fn new(year: u16, month: u8, day: u8) -> Result<Self, InvalidField> {
        if year > 9999 || day == 0 || day > days_in_month(year, month) {
            return Err(InvalidField::NotADateTime("date CCYYMMDD"));
        }
        Ok(Self { year, month, day })
    }

    /// CCYY.
    pub const fn year(self) -> u16 {
        self.year
    }

    /// MM, 1..=12.
    pub const fn month(self) -> u8 {
        self.month
    }

    /// DD, 1..=31.
    pub const fn day(self) -> u8 {
        self.day
    }

    /// The eight digits as a number (`20260123`).
    pub const fn as_number(self) -> u32 {
        self.year as u32 * 10_000 + self.month as u32 * 100 + self.day as u32
    }

    /// The date from its eight digits as a number.
    pub const fn from_number(value: u64) -> Result<Self, InvalidField> {
        if value > 99_999_999 {
            return Err(InvalidField::NotADateTime("date CCYYMMDD"));
        }
        Self::new((value / 10_000) as u16, (value / 100 % 100) as u8, (value % 100) as u8)
    }
}

impl fmt::Debug for VirtualFileDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VirtualFileDate({self})")
    }
}

impl fmt::Display for VirtualFileDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}{:02}{:02}", self.year, self.month, self.day)
    }
}

/// SFIDTIME, EERPTIME, NERPTIME: the Virtual File Time stamp, `HHMMSScccc` (§5.3.3): hours,
/// minutes, seconds and a counter for higher resolution.
///
/// The RFC gives the counter as 0001-9999; 0000 is accepted too, since real peers send it.
///
/// ```
/// use oftp2_codec::fields::VirtualFileTime;
/// let time = VirtualFileTime::new(13, 45, 0, 1)?;
/// assert_eq!(time.to_string(), "1345000001");
/// assert!(VirtualFileTime::new(24, 0, 0, 1).is_err());
/// # Ok::<(), oftp2_codec::fields::InvalidField>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VirtualFileTime {
    hour: u8,
    minute: u8,
    second: u8,
    counter: u16,
}

impl VirtualFileTime {
    /// The time, if hours are 0..=23, minutes and seconds 0..=59 and the counter 0..=9999.
    pub const fn new(hour: u8, minute: u8, second: u8, counter: u16) -> Result<Self, InvalidField> {
        if hour > 23 || minute > 59 || second > 59 || counter > 9999 {
            return Err(InvalidField::NotADateTime("time HHMMSScccc"));
        }
        Ok(Self { hour, minute, second, counter })
    }

    /// HH.
    pub const fn hour(self) -> u8 {
        self.hour
    }

    /// MM.
    pub const fn minute(self) -> u8 {
        self.minute
    }

    /// SS.
    pub const fn second(self) -> u8 {
        self.second
    }

    /// cccc, the counter.
    pub const fn counter(self) -> u16 {
        self.counter
    }

    /// The ten digits as a number (`1345000001`).
    pub const fn as_number(self) -> u64 {
        self.hour as u64 * 100_000_000
            + self.minute as u64 * 1_000_000
            + self.second as u64 * 10_000
            + self.counter as u64
    }

    /// The time from its ten digits as a number.
    pub const fn from_number(value: u64) -> Result<Self, InvalidField> {
        if value > 9_999_999_999 {
            return Err(InvalidField::NotADateTime("time HHMMSScccc"));
        }
        Self::new(
            (value / 100_000_000) as u8,
            (value / 1_000_000 % 100) as u8,
            (value / 10_000 % 100) as u8,
            (value % 10_000) as u16,
        )
    }
}

impl fmt::Debug for VirtualFileTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VirtualFileTime({self})")
    }
}

impl fmt::Display for VirtualFileTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}{:02}{:02}{:04}", self.hour, self.minute, self.second, self.counter)
    }
}

#[cfg(feature = "serde")]
mod serde_impls {
    use super::*;

    impl serde::Serialize for VirtualFileDate {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_str(self)
        }
    }
    impl<'de> serde::Deserialize<'de> for VirtualFileDate {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
            parse_digits(&s, 8)
                .and_then(|n| Self::from_number(n).ok())
                .ok_or_else(|| serde::de::Error::custom("expected a date CCYYMMDD"))
        }
    }
    impl serde::Serialize for VirtualFileTime {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_str(self)
        }
    }
    impl<'de> serde::Deserialize<'de> for VirtualFileTime {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
            parse_digits(&s, 10)
                .and_then(|n| Self::from_number(n).ok())
                .ok_or_else(|| serde::de::Error::custom("expected a time HHMMSScccc"))
        }
    }

    fn parse_digits(s: &str, width: usize) -> Option<u64> {
        (s.len() == width && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for VirtualFileDate {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        let year = u.int_in_range(0..=9999)?;
        let month = u.int_in_range(1..=12)?;
        let day = u.int_in_range(1..=days_in_month(year, month))?;
        Self::new(year, month, day).map_err(|_| arbitrary::Error::IncorrectFormat)
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for VirtualFileTime {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        Self::new(
            u.int_in_range(0..=23)?,
            u.int_in_range(0..=59)?,
            u.int_in_range(0..=59)?,
            u.int_in_range(0..=9999)?,
        )
        .map_err(|_| arbitrary::Error::IncorrectFormat)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_rules() {
        assert!(VirtualFileDate::new(2000, 2, 29).is_ok());
        assert!(VirtualFileDate::new(1900, 2, 29).is_err());
        assert!(VirtualFileDate::new(2026, 4, 31).is_err());
        assert!(VirtualFileDate::new(2026, 13, 1).is_err());
        assert!(VirtualFileDate::new(2026, 0, 1).is_err());
        assert_eq!(VirtualFileDate::from_number(20261123).unwrap().as_number(), 20261123);
        assert_eq!(VirtualFileTime::from_number(2359599999).unwrap().as_number(), 2359599999);
        assert!(VirtualFileTime::from_number(2360000000).is_err());
    }
}
