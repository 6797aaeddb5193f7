use core::fmt;
use core::str::FromStr;

use super::alnum::{is_string_octet, STRING_CHARSET};
use super::InvalidField;

/// An Identification Code (§5.4), String(25), built on ISO 6523 (SIO): SSIDCODE, SFIDDEST,
/// SFIDORIG, EERPDEST, EERPORIG, NERPDEST, NERPORIG, NERPCREA.
///
/// | Pos | Field | Format |
/// |---|---|---|
/// | 0 | SIOOID, ODETTE Identifier (`O` for ODETTE-assigned codes) | X(1) |
/// | 1 | SIOICD, International Code Designator | 9(4) |
/// | 5 | SIOORG, Organisation Code | X(14) |
/// | 19 | SIOCSA, Computer Subaddress | X(6) |
///
/// The code is kept as the 25 octets it travels as. Its subfields are padded with spaces,
/// so spaces may stand inside the code (between SIOORG and SIOCSA); it must not start
/// with a space and uses only the Appendix B characters. Codes that do not follow the SIO
/// layout (SIOOID other than `O`) are allowed, as the RFC says.
///
/// ```
/// use oftp2_codec::fields::OdetteId;
/// let customs: OdetteId = "O094200002021000969PRDINT".parse()?;
/// assert_eq!(customs.odette_identifier(), 'O');
/// assert_eq!(customs.international_code_designator(), "0942");
/// assert_eq!(customs.organisation_code(), "00002021000969");
/// assert_eq!(customs.computer_subaddress(), "PRDINT");
/// # Ok::<(), oftp2_codec::fields::InvalidField>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OdetteId([u8; 25]);

impl OdetteId {
    /// The code, validated: 1 to 25 Appendix B characters, not starting with a space.
    pub fn new(code: &str) -> Result<Self, InvalidField> {
        Self::from_padded(code.as_bytes())
    }

    /// The code from its SIO parts, each padded to its width.
    pub fn from_parts(
        odette_identifier: char,
        international_code_designator: &str,
        organisation_code: &str,
        computer_subaddress: &str,
    ) -> Result<Self, InvalidField> {
        let mut code = String::with_capacity(25);
        code.push(odette_identifier);
        for (part, width) in
            [(international_code_designator, 4), (organisation_code, 14), (computer_subaddress, 6)]
        {
            if part.len() > width {
                return Err(InvalidField::TooLong { length: part.len(), max: width });
            }
            code.push_str(part);
            code.extend(core::iter::repeat_n(' ', width - part.len()));
        }
        Self::new(&code)
    }

    /// The code from up to 25 octets as they travel (shorter input is padded).
    pub fn from_padded(octets: &[u8]) -> Result<Self, InvalidField> {
        if octets.len() > 25 {
            return Err(InvalidField::TooLong { length: octets.len(), max: 25 });
        }
        if let Some(position) = octets.iter().position(|&o| !is_string_octet(o)) {
            return Err(InvalidField::InvalidCharacter {
                position,
                found: char::from(octets.get(position).copied().unwrap_or_default()),
                allowed: STRING_CHARSET,
            });
        }
        match octets.first() {
            None => return Err(InvalidField::Empty),
            Some(b' ') => return Err(InvalidField::EmbeddedSpace { position: 0 }),
            Some(_) => {}
        }
        let mut padded = [b' '; 25];
        if let Some(dst) = padded.get_mut(..octets.len()) {
            dst.copy_from_slice(octets);
        }
        Ok(Self(padded))
    }

    /// The code without trailing spaces.
    pub fn as_str(&self) -> &str {
        let end = self.0.iter().rposition(|&o| o != b' ').map_or(0, |p| p + 1);
        self.part(0, end)
    }

    /// The 25 octets as they travel.
    pub fn padded(&self) -> &[u8; 25] {
        &self.0
    }

    /// SIOOID: `O` for an ODETTE-assigned code.
    pub fn odette_identifier(&self) -> char {
        char::from(self.0[0])
    }

    /// SIOICD, the International Code Designator (positions 1 to 4), without padding.
    pub fn international_code_designator(&self) -> &str {
        self.part(1, 5).trim_end()
    }

    /// SIOORG, the Organisation Code (positions 5 to 18), without padding.
    pub fn organisation_code(&self) -> &str {
        self.part(5, 19).trim_end()
    }

    /// SIOCSA, the Computer Subaddress (positions 19 to 24), without padding.
    pub fn computer_subaddress(&self) -> &str {
        self.part(19, 25).trim_end()
    }

    fn part(&self, start: usize, end: usize) -> &str {
        // Only Appendix B octets are ever stored, so every range is ASCII.
        core::str::from_utf8(self.0.get(start..end).unwrap_or_default()).unwrap_or_default()
    }
}

impl fmt::Debug for OdetteId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for OdetteId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OdetteId {
    type Err = InvalidField;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl TryFrom<&str> for OdetteId {
    type Error = InvalidField;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::new(s)
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for OdetteId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for OdetteId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::new(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for OdetteId {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        const SET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ /-.&()";
        let mut octets = [b' '; 25];
        octets[0] = *u.choose(b"O0123456789ABCDEFGHIJKLMNPQRSTUVWXYZ")?;
        for octet in octets.iter_mut().skip(1) {
            *octet = *u.choose(SET)?;
        }
        Ok(Self(octets))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_round_trip() {
        let id = OdetteId::from_parts('O', "0013", "ACME", "SUB1").unwrap();
        assert_eq!(id.as_str(), "O0013ACME          SUB1");
        assert_eq!(id.organisation_code(), "ACME");
        assert_eq!(id.computer_subaddress(), "SUB1");
        assert_eq!(OdetteId::new(id.as_str()).unwrap(), id);
    }

    #[test]
    fn refuses_what_the_rfc_does_not_allow() {
        assert_eq!(OdetteId::new(""), Err(InvalidField::Empty));
        assert_eq!(OdetteId::new(" O0013"), Err(InvalidField::EmbeddedSpace { position: 0 }));
        assert!(matches!(
            OdetteId::new("O0013acme"),
            Err(InvalidField::InvalidCharacter { position: 5, .. })
        ));
        assert!(matches!(OdetteId::new(&"O".repeat(26)), Err(InvalidField::TooLong { .. })));
    }
}
