use core::fmt;
use core::str::FromStr;

use super::InvalidField;

/// SSIDUSER, SFIDUSER, EERPUSER: eight octets of User Data (`X(8)`), "used by ODETTE-FTP in
/// any way" by bilateral agreement.
///
/// The RFC declares these Strings, but real peers put lower case letters and other
/// printable characters in them; since the RFC leaves their meaning to the partners,
/// this type accepts any printable ASCII (0x20..=0x7E) and keeps the octets exactly as
/// they came, leading spaces included. Trailing spaces are padding.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserData([u8; 8]);

impl UserData {
    /// Eight spaces: no user data.
    pub const EMPTY: Self = Self([b' '; 8]);

    /// The value, validated.
    pub fn new(value: &str) -> Result<Self, InvalidField> {
        Self::from_padded(value.as_bytes())
    }

    /// The value from up to eight octets (shorter ones are padded with spaces).
    pub fn from_padded(octets: &[u8]) -> Result<Self, InvalidField> {
        if octets.len() > 8 {
            return Err(InvalidField::TooLong { length: octets.len(), max: 8 });
        }
        if let Some(position) = octets.iter().position(|o| !(0x20..=0x7E).contains(o)) {
            return Err(InvalidField::InvalidCharacter {
                position,
                found: char::from(octets.get(position).copied().unwrap_or_default()),
                allowed: "printable ASCII",
            });
        }
        let mut padded = [b' '; 8];
        if let Some(dst) = padded.get_mut(..octets.len()) {
            dst.copy_from_slice(octets);
        }
        Ok(Self(padded))
    }

    /// The value without trailing padding.
    pub fn as_str(&self) -> &str {
        let end = self.0.iter().rposition(|&o| o != b' ').map_or(0, |p| p + 1);
        core::str::from_utf8(self.0.get(..end).unwrap_or_default()).unwrap_or_default()
    }

    /// The eight octets as they travel.
    pub fn padded(&self) -> &[u8; 8] {
        &self.0
    }
}

impl Default for UserData {
    fn default() -> Self {
        Self::EMPTY
    }
}

impl fmt::Debug for UserData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for UserData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for UserData {
    type Err = InvalidField;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl TryFrom<&str> for UserData {
    type Error = InvalidField;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::new(s)
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for UserData {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for UserData {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::new(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for UserData {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        let mut octets = [b' '; 8];
        for octet in &mut octets {
            *octet = u.int_in_range(0x20..=0x7E)?;
        }
        Ok(Self(octets))
    }
}
