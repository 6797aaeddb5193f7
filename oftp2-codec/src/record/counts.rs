//! Record and octet counts (EFIDRCNT, EFIDUCNT) and the file size (SFIDFSIZ).

use crate::fields::{FileSize, RecordCount, RecordFormat, UnitCount};

/// What a file has carried so far: records and octets of user data, counted from the
/// start of the file (a restart included), before buffer compression.
///
/// `records` counts records for F and V files and lines for T files sent one record
/// per line; it stays 0 for U files and for T files sent as one record. `octets`
/// counts the octets of the file: for V files the record data without §6.5 prefixes,
/// for T files the text with its CR LF line ends (also when they travel as record
/// ends).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Counts {
    /// Records (see above).
    pub records: u64,
    /// Octets of user data.
    pub octets: u64,
}

impl Counts {
    /// EFIDRCNT and EFIDUCNT for a file of this format: the record count for F and V,
    /// zero for U and T (§5.3.8); both saturate at 17 digits.
    ///
    /// ```
    /// use oftp2_codec::fields::RecordFormat;
    /// use oftp2_codec::record::Counts;
    /// let counts = Counts { records: 12, octets: 960 };
    /// let (records, units) = counts.efid(RecordFormat::Fixed);
    /// assert_eq!((records.get(), units.get()), (12, 960));
    /// assert_eq!(counts.efid(RecordFormat::Text).0.get(), 0);
    /// ```
    pub fn efid(&self, format: RecordFormat) -> (RecordCount, UnitCount) {
        let records = if format.restarts_on_records() { self.records } else { 0 };
        (RecordCount::saturating(records), UnitCount::saturating(self.octets))
    }

    /// SFIDFSIZ (or SFIDOSIZ) for a file of this many octets.
    pub fn file_size(&self) -> FileSize {
        file_size(self.octets)
    }
}

/// SFIDFSIZ / SFIDOSIZ: a size in 1 KiB (1,024-octet) blocks, rounded up (§5.3.3), so
/// that a file of 1 octet needs 1 block. Saturates at 13 digits.
///
/// ```
/// use oftp2_codec::record::file_size;
/// assert_eq!(file_size(0).get(), 0);
/// assert_eq!(file_size(1).get(), 1);
/// assert_eq!(file_size(1024).get(), 1);
/// assert_eq!(file_size(1025).get(), 2);
/// ```
pub fn file_size(octets: u64) -> FileSize {
    FileSize::saturating(octets.div_ceil(1024))
}
