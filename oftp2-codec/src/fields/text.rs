use core::fmt;

use super::InvalidField;

/// A `T(n)` text field with its `9(3)` length field: SFIDDESC, SFNAREAST, EFNAREAST,
/// ESIDREAST, NERPREAST. UTF-8, at most 999 octets, possibly empty (length `000`).
///
/// ```
/// use oftp2_codec::fields::Utf8Text;
/// let text = Utf8Text::new("Datei abgelehnt: Prüfsumme falsch")?;
/// assert_eq!(text.len(), 34);
/// assert!(Utf8Text::new(&"x".repeat(1000)).is_err());
/// # Ok::<(), oftp2_codec::fields::InvalidField>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "String", into = "String"))]
pub struct Utf8Text(String);

impl Utf8Text {
    /// The most octets the text may have.
    pub const MAX_OCTETS: usize = 999;

    /// The text, if its UTF-8 encoding is at most 999 octets long.
    pub fn new(text: &str) -> Result<Self, InvalidField> {
        Self::try_from(text.to_owned())
    }

    /// No text (length `000`).
    pub const fn empty() -> Self {
        Self(String::new())
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Its length in octets, as the length field carries it.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there is no text.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl TryFrom<String> for Utf8Text {
    type Error = InvalidField;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        if text.len() > Self::MAX_OCTETS {
            return Err(InvalidField::TooLong { length: text.len(), max: Self::MAX_OCTETS });
        }
        Ok(Self(text))
    }
}

impl TryFrom<&str> for Utf8Text {
    type Error = InvalidField;
    fn try_from(text: &str) -> Result<Self, Self::Error> {
        Self::new(text)
    }
}

impl From<Utf8Text> for String {
    fn from(text: Utf8Text) -> String {
        text.0
    }
}

impl fmt::Debug for Utf8Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for Utf8Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for Utf8Text {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        let mut text = String::arbitrary(u)?;
        while text.len() > Self::MAX_OCTETS {
            text.pop();
        }
        Ok(Self(text))
    }
}
