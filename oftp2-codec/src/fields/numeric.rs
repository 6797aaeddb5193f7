use core::fmt;

use super::OutOfRange;

/// A `9(N)` numeric field: an unsigned number of at most `N` decimal digits, sent right
/// justified and padded with zeros.
///
/// ```
/// use oftp2_codec::fields::{FileSize, Numeric};
/// let size = FileSize::new(1_234)?;
/// assert_eq!(size.get(), 1_234);
/// assert_eq!(FileSize::MAX.get(), 9_999_999_999_999);
/// assert!(Numeric::<3>::new(1_000).is_err());
/// # Ok::<(), oftp2_codec::fields::OutOfRange>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "u64", into = "u64"))]
pub struct Numeric<const N: usize>(u64);

/// SFIDLRECL: maximum record length in octets, 9(5).
pub type RecordLength = Numeric<5>;
/// SFIDFSIZ, SFIDOSIZ: a file size in 1 KiB blocks, 9(13).
pub type FileSize = Numeric<13>;
/// SFIDREST, SFPAACNT: a restart position (records for F and V, 1 KiB blocks otherwise), 9(17).
pub type RestartPosition = Numeric<17>;
/// EFIDRCNT: a record count, 9(17).
pub type RecordCount = Numeric<17>;
/// EFIDUCNT: a count of octets (units), 9(17).
pub type UnitCount = Numeric<17>;

const fn pow10(digits: usize) -> u64 {
    let mut value = 1u64;
    let mut i = 0;
    while i < digits {
        value = value.saturating_mul(10);
        i += 1;
    }
    value
}

impl<const N: usize> Numeric<N> {
    /// Zero.
    pub const ZERO: Self = Self(0);
    /// The largest value `N` digits hold.
    pub const MAX: Self = Self(pow10(N) - 1);

    /// The number, if it fits `N` digits.
    pub const fn new(value: u64) -> Result<Self, OutOfRange> {
        if value <= Self::MAX.0 {
            Ok(Self(value))
        } else {
            Err(OutOfRange { value, min: 0, max: Self::MAX.0 })
        }
    }

    /// The number, cut to the largest value `N` digits hold when it does not fit.
    pub const fn saturating(value: u64) -> Self {
        if value <= Self::MAX.0 {
            Self(value)
        } else {
            Self::MAX
        }
    }

    /// The number.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl<const N: usize> fmt::Debug for Numeric<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl<const N: usize> fmt::Display for Numeric<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl<const N: usize> TryFrom<u64> for Numeric<N> {
    type Error = OutOfRange;
    fn try_from(value: u64) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl<const N: usize> From<Numeric<N>> for u64 {
    fn from(value: Numeric<N>) -> u64 {
        value.0
    }
}

#[cfg(feature = "arbitrary")]
impl<'a, const N: usize> arbitrary::Arbitrary<'a> for Numeric<N> {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(Self(u.int_in_range(0..=Self::MAX.0)?))
    }
}

macro_rules! bounded {
    ($(#[$meta:meta])* $name:ident($repr:ty), $min:literal..=$max:literal) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        #[cfg_attr(feature = "serde", serde(try_from = "u64", into = "u64"))]
        pub struct $name($repr);

        impl $name {
            /// The least value allowed.
            pub const MIN: Self = Self($min);
            /// The greatest value allowed.
            pub const MAX: Self = Self($max);

            /// The value, if it is in range.
            pub const fn new(value: u64) -> Result<Self, OutOfRange> {
                if value >= $min && value <= $max {
                    Ok(Self(value as $repr))
                } else {
                    Err(OutOfRange { value, min: $min, max: $max })
                }
            }

            /// The value.
            pub const fn get(self) -> $repr {
                self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.0, f)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl TryFrom<u64> for $name {
            type Error = OutOfRange;
            fn try_from(value: u64) -> Result<Self, Self::Error> {
                Self::new(value)
            }
        }

        impl From<$name> for u64 {
            fn from(value: $name) -> u64 {
                value.0.into()
            }
        }

        #[cfg(feature = "arbitrary")]
        impl<'a> arbitrary::Arbitrary<'a> for $name {
            fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
                Ok(Self(u.int_in_range($min..=$max)?))
            }
        }
    };
}

bounded! {
    /// SSIDSDEB (§5.3.2): the largest Data Exchange Buffer a location accepts, command
    /// octet included, stream transmission header excluded: 128..=99999. The smaller of
    /// the two SSIDs' values is used.
    BufferSize(u32), 128..=99999
}

bounded! {
    /// SSIDCRED (§5.3.2): how many Data Exchange Buffers the Speaker may send before it
    /// must wait for a CDT: 1..=999. The Responder answers with a value no greater than
    /// the Initiator's.
    Credit(u16), 1..=999
}

impl BufferSize {
    /// The value as a length in octets.
    pub const fn octets(self) -> usize {
        self.0 as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(Numeric::<1>::MAX.get(), 9);
        assert_eq!(RestartPosition::MAX.get(), 99_999_999_999_999_999);
        assert_eq!(BufferSize::new(127), Err(OutOfRange { value: 127, min: 128, max: 99999 }));
        assert!(BufferSize::new(128).is_ok());
        assert!(BufferSize::new(100_000).is_err());
        assert!(Credit::new(0).is_err());
        assert_eq!(Credit::new(999).unwrap().get(), 999);
        assert_eq!(FileSize::saturating(u64::MAX), FileSize::MAX);
    }
}
