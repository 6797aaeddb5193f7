//! SSIDLEV, the protocol release level, and the command layouts it selects.

use core::fmt;

/// SSIDLEV (§5.3.2): the ODETTE-FTP protocol release level, one digit on the wire.
///
/// The level is negotiated in the SSID exchange, the lowest one winning
/// ([`ProtocolLevel::negotiate`]). It selects the layout of most commands
/// ([`ProtocolLevel::layout`]). Levels the RFC does not name are kept as they came.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "u8", into = "u8"))]
pub struct ProtocolLevel(u8);

impl ProtocolLevel {
    /// `1`: revision 1.2 — and, despite its name, what RFC 2204 (revision 1.3) peers send.
    pub const V1_2: Self = Self(1);
    /// `2`: revision 1.3.
    pub const V1_3: Self = Self(2);
    /// `4`: revision 1.4.
    pub const V1_4: Self = Self(4);
    /// `5`: revision 2.0, RFC 5024.
    pub const V2_0: Self = Self(5);

    /// The level with this digit (0..=9); `None` above 9.
    pub const fn new(digit: u8) -> Option<Self> {
        if digit <= 9 {
            Some(Self(digit))
        } else {
            None
        }
    }

    /// The digit sent in SSIDLEV.
    pub const fn value(self) -> u8 {
        self.0
    }

    /// The level both sides speak: the lower one (§5.3.2).
    pub fn negotiate(self, other: Self) -> Self {
        self.min(other)
    }

    /// The command layouts of this level.
    ///
    /// Levels 1 to 3 use the RFC 2204 layouts, level 4 those of revision 1.4, and level 5
    /// and any later level those of RFC 5024 (a later level is never agreed with us, since
    /// the lowest level wins and we offer at most 5).
    pub const fn layout(self) -> Layout {
        match self.0 {
            0..=3 => Layout::V13,
            4 => Layout::V14,
            _ => Layout::V20,
        }
    }

    /// Whether this level has OFTP2 security (SECD, AUCH, AURP, signed receipts).
    pub const fn has_security(self) -> bool {
        matches!(self.layout(), Layout::V20)
    }
}

impl Default for ProtocolLevel {
    fn default() -> Self {
        Self::V2_0
    }
}

impl fmt::Debug for ProtocolLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ProtocolLevel({} = {})", self.0, self)
    }
}

impl fmt::Display for ProtocolLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            1 => f.write_str("1.2"),
            2 => f.write_str("1.3"),
            4 => f.write_str("1.4"),
            5 => f.write_str("2.0"),
            other => write!(f, "level {other}"),
        }
    }
}

impl TryFrom<u8> for ProtocolLevel {
    type Error = crate::fields::OutOfRange;
    fn try_from(value: u8) -> Result<Self, Self::Error> {
        Self::new(value).ok_or(crate::fields::OutOfRange { value: value.into(), min: 0, max: 9 })
    }
}

impl From<ProtocolLevel> for u8 {
    fn from(level: ProtocolLevel) -> u8 {
        level.0
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for ProtocolLevel {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(Self(u.int_in_range(0..=9)?))
    }
}

/// The command layouts that differ between protocol levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layout {
    /// RFC 2204 (OFTP 1.3, SSIDLEV 1 or 2).
    V13,
    /// OFTP 1.4 (SSIDLEV 4).
    V14,
    /// RFC 5024 (OFTP 2.0, SSIDLEV 5).
    V20,
}
