//! The one-octet subrecord header (§7.2).

use core::fmt;

/// The one-octet header in front of every subrecord of a Data Exchange Buffer (§7.2).
///
/// ```text
///   0   1   2   3   4   5   6   7      (bit 0 is the most significant)
/// | E | C |  C O U N T            |
/// | o | F |                       |
/// | R |   |                       |
/// ```
///
/// * bit 0 (`0x80`), End of Record: the subrecord that follows is the last one of the
///   current record (for a U file, the last one of the file);
/// * bit 1 (`0x40`), Compression: the subrecord that follows is a single octet standing
///   for `count` copies of itself;
/// * bits 2-7 (`0x3F`), Count: how many octets of the Virtual File the subrecord stands
///   for, 0..=63.
///
/// Every octet is a valid header, so [`SubrecordHeader::from_octet`] cannot fail.
///
/// ```
/// use oftp2_codec::buffer::SubrecordHeader;
/// let header = SubrecordHeader::from_octet(0xB3);
/// assert!(header.end_of_record());
/// assert!(!header.compressed());
/// assert_eq!(header.count(), 51);
/// assert_eq!(SubrecordHeader::new(true, false, 51), Some(header));
/// assert_eq!(SubrecordHeader::new(false, false, 64), None);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SubrecordHeader(u8);

impl SubrecordHeader {
    /// Bit 0 of the header, the End of Record flag.
    pub const END_OF_RECORD: u8 = 0x80;
    /// Bit 1 of the header, the Compression flag.
    pub const COMPRESSED: u8 = 0x40;
    /// Bits 2-7 of the header, the Subrecord Count.
    pub const COUNT_MASK: u8 = 0x3F;
    /// The largest Subrecord Count: 63 octets of the Virtual File.
    pub const MAX_COUNT: u8 = 63;

    /// The header with these flags and count; `None` when `count` exceeds 63.
    pub const fn new(end_of_record: bool, compressed: bool, count: u8) -> Option<Self> {
        if count > Self::MAX_COUNT {
            return None;
        }
        let mut octet = count;
        if end_of_record {
            octet |= Self::END_OF_RECORD;
        }
        if compressed {
            octet |= Self::COMPRESSED;
        }
        Some(Self(octet))
    }

    /// The header held by this octet.
    pub const fn from_octet(octet: u8) -> Self {
        Self(octet)
    }

    /// The octet on the wire.
    pub const fn octet(self) -> u8 {
        self.0
    }

    /// Whether the End of Record flag (`0x80`) is set.
    pub const fn end_of_record(self) -> bool {
        self.0 & Self::END_OF_RECORD != 0
    }

    /// Whether the Compression flag (`0x40`) is set.
    pub const fn compressed(self) -> bool {
        self.0 & Self::COMPRESSED != 0
    }

    /// The Subrecord Count, 0..=63: octets of the Virtual File the subrecord stands for.
    pub const fn count(self) -> u8 {
        self.0 & Self::COUNT_MASK
    }

    /// How many octets the subrecord after this header occupies in the buffer: `count`
    /// for a literal subrecord, 1 for a compressed one.
    pub const fn wire_len(self) -> usize {
        if self.compressed() {
            1
        } else {
            self.count() as usize
        }
    }
}

impl fmt::Debug for SubrecordHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SubrecordHeader({:#04X}: {}{}count {})",
            self.0,
            if self.end_of_record() { "EoR, " } else { "" },
            if self.compressed() { "compressed, " } else { "" },
            self.count()
        )
    }
}

impl From<u8> for SubrecordHeader {
    fn from(octet: u8) -> Self {
        Self(octet)
    }
}

impl From<SubrecordHeader> for u8 {
    fn from(header: SubrecordHeader) -> u8 {
        header.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_octet_round_trips_through_its_parts() {
        for octet in 0..=u8::MAX {
            let header = SubrecordHeader::from_octet(octet);
            let rebuilt =
                SubrecordHeader::new(header.end_of_record(), header.compressed(), header.count());
            assert_eq!(rebuilt, Some(header));
            assert_eq!(u8::from(header), octet);
        }
    }

    #[test]
    fn flags_are_the_rfc_bits() {
        let header = SubrecordHeader::new(true, true, 63).unwrap();
        assert_eq!(header.octet(), 0xFF);
        assert_eq!(header.wire_len(), 1);
        let literal = SubrecordHeader::new(false, false, 63).unwrap();
        assert_eq!(literal.octet(), 0x3F);
        assert_eq!(literal.wire_len(), 63);
        assert_eq!(format!("{header:?}"), "SubrecordHeader(0xFF: EoR, compressed, count 63)");
    }
}
