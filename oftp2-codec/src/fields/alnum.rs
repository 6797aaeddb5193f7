use core::fmt;
use core::str::FromStr;

use super::InvalidField;

/// Whether `octet` belongs to the character set of RFC 5024's Strings (§5.3, Appendix B):
/// `0`-`9`, `A`-`Z`, space and `/ - . & ( )`.
pub const fn is_string_octet(octet: u8) -> bool {
    matches!(octet, b'0'..=b'9' | b'A'..=b'Z' | b' ' | b'/' | b'-' | b'.' | b'&' | b'(' | b')')
}

pub(crate) const STRING_CHARSET: &str = "0-9, A-Z, space, / - . & ( )";

/// An `X(N)` String field (§5.3): at most `N` characters of the Appendix B set, left
/// justified, without leading or embedded spaces, padded with spaces on the wire.
///
/// ```
/// use oftp2_codec::fields::DatasetName;
/// let name: DatasetName = "INVOICES.2026".parse()?;
/// assert_eq!(name.as_str(), "INVOICES.2026");
/// assert_eq!(name.padded().len(), 26);
/// assert!("two words".parse::<DatasetName>().is_err());
/// # Ok::<(), oftp2_codec::fields::InvalidField>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Alphanumeric<const N: usize> {
    padded: [u8; N],
    len: u8,
}

/// SFIDDSN, EERPDSN, NERPDSN: the Virtual File Dataset Name, String(26).
pub type DatasetName = Alphanumeric<26>;
/// SSIDPSWD: the password, String(8).
pub type Password = Alphanumeric<8>;

impl<const N: usize> Alphanumeric<N> {
    /// The value, validated.
    pub fn new(value: &str) -> Result<Self, InvalidField> {
        Self::from_octets(value.as_bytes())
    }

    /// The value from a field's octets as they travel (trailing spaces are padding).
    pub fn from_padded(field: &[u8]) -> Result<Self, InvalidField> {
        let end = field.iter().rposition(|&o| o != b' ').map_or(0, |p| p + 1);
        Self::from_octets(field.get(..end).unwrap_or_default())
    }

    fn from_octets(octets: &[u8]) -> Result<Self, InvalidField> {
        if octets.len() > N {
            return Err(InvalidField::TooLong { length: octets.len(), max: N });
        }
        let content_end = octets.iter().rposition(|&o| o != b' ').map_or(0, |p| p + 1);
        for (position, &octet) in octets.iter().enumerate() {
            if !is_string_octet(octet) {
                return Err(InvalidField::InvalidCharacter {
                    position,
                    found: char::from(octet),
                    allowed: STRING_CHARSET,
                });
            }
            if octet == b' ' && position < content_end {
                return Err(InvalidField::EmbeddedSpace { position });
            }
        }
        let mut padded = [b' '; N];
        if let Some(dst) = padded.get_mut(..content_end) {
            dst.copy_from_slice(octets.get(..content_end).unwrap_or_default());
        }
        Ok(Self { padded, len: content_end as u8 })
    }

    /// The value without padding.
    pub fn as_str(&self) -> &str {
        // Only ASCII is ever stored.
        core::str::from_utf8(self.padded.get(..usize::from(self.len)).unwrap_or_default())
            .unwrap_or_default()
    }

    /// The `N` octets as they travel: the value padded with spaces.
    pub fn padded(&self) -> &[u8; N] {
        &self.padded
    }

    /// Whether the value is empty (all spaces on the wire).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl<const N: usize> Default for Alphanumeric<N> {
    fn default() -> Self {
        Self { padded: [b' '; N], len: 0 }
    }
}

impl<const N: usize> fmt::Debug for Alphanumeric<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl<const N: usize> fmt::Display for Alphanumeric<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<const N: usize> FromStr for Alphanumeric<N> {
    type Err = InvalidField;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl<const N: usize> TryFrom<&str> for Alphanumeric<N> {
    type Error = InvalidField;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::new(s)
    }
}

impl<const N: usize> TryFrom<String> for Alphanumeric<N> {
    type Error = InvalidField;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::new(&s)
    }
}

impl<const N: usize> From<Alphanumeric<N>> for String {
    fn from(value: Alphanumeric<N>) -> String {
        value.as_str().to_owned()
    }
}

#[cfg(feature = "serde")]
impl<const N: usize> serde::Serialize for Alphanumeric<N> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(feature = "serde")]
impl<'de, const N: usize> serde::Deserialize<'de> for Alphanumeric<N> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::new(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(feature = "arbitrary")]
impl<'a, const N: usize> arbitrary::Arbitrary<'a> for Alphanumeric<N> {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        const SET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ/-.&()";
        let len = u.int_in_range(0..=N)?;
        let mut value = Vec::with_capacity(len);
        for _ in 0..len {
            value.push(*u.choose(SET)?);
        }
        Self::from_octets(&value).map_err(|_| arbitrary::Error::IncorrectFormat)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_charset_and_spaces() {
        assert!(DatasetName::new("A/B-C.D&E(F)0123456789").is_ok());
        assert_eq!(
            DatasetName::new("abc"),
            Err(InvalidField::InvalidCharacter {
                position: 0,
                found: 'a',
                allowed: STRING_CHARSET
            })
        );
        assert_eq!(DatasetName::new("A B"), Err(InvalidField::EmbeddedSpace { position: 1 }));
        assert_eq!(DatasetName::new(" AB"), Err(InvalidField::EmbeddedSpace { position: 0 }));
        assert_eq!(Password::new("123456789"), Err(InvalidField::TooLong { length: 9, max: 8 }));
        assert_eq!(Password::new("PW  ").unwrap().as_str(), "PW");
        assert!(Password::default().is_empty());
    }

    #[test]
    fn pads_on_the_wire() {
        let pw = Password::from_padded(b"SECRET  ").unwrap();
        assert_eq!(pw.as_str(), "SECRET");
        assert_eq!(pw.padded(), b"SECRET  ");
    }
}
