//! How a file maps to records: SFIDFMT, SFIDLRECL and the per-partner choices.

use super::counts::Counts;
use super::error::RecordError;
use super::restart::RESTART_BLOCK;
use crate::fields::{RecordFormat, RecordLength, RestartPosition};

/// How a T (text) file travels (the interop split of the design notes: partners
/// differ, so it is a per-partner setting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum TextLines {
    /// The file is one record and its CR LF line ends travel in the data, as in
    /// RFC 5024 Appendix A.
    #[default]
    KeepCrLf,
    /// Every line is one record, without its CR LF; the receiver puts CR LF back after
    /// each record. A last line without CR LF arrives with one.
    RecordPerLine,
}

/// The record structure of a Virtual File: SFIDFMT, SFIDLRECL and how T and V files
/// are represented locally.
///
/// `format` is the format the file *travels* in: a signed, compressed or encrypted file
/// travels as U whatever its SFIDFMT says (§5.3.3), so map it with
/// [`FileSettings::unstructured`].
///
/// ```
/// use oftp2_codec::fields::{RecordFormat, RecordLength};
/// use oftp2_codec::record::FileSettings;
/// let settings = FileSettings::fixed(RecordLength::new(80)?);
/// assert_eq!(settings.format, RecordFormat::Fixed);
/// assert_eq!(settings.max_record_length.get(), 80);
/// # Ok::<(), oftp2_codec::fields::OutOfRange>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileSettings {
    /// SFIDFMT: the record format the file travels in.
    pub format: RecordFormat,
    /// SFIDLRECL: the length of every F record, the largest V record; zero for U and T.
    pub max_record_length: RecordLength,
    /// For T files: lines as records, or CR LF kept in one record.
    pub text_lines: TextLines,
    /// For V files: the local file holds each record behind a §6.5 two-octet length
    /// prefix, which the encoder strips and the decoder writes. Without it, the
    /// encoder takes records from the caller and the decoder writes records back to
    /// back.
    pub length_prefixes: bool,
}

impl FileSettings {
    /// An F file of records `record_length` octets long.
    pub fn fixed(record_length: RecordLength) -> Self {
        Self {
            format: RecordFormat::Fixed,
            max_record_length: record_length,
            text_lines: TextLines::KeepCrLf,
            length_prefixes: false,
        }
    }

    /// A V file of records of at most `max_record_length` octets, given by the caller
    /// (use [`with_length_prefixes`](Self::with_length_prefixes) for files with §6.5
    /// prefixes).
    pub fn variable(max_record_length: RecordLength) -> Self {
        Self { format: RecordFormat::Variable, ..Self::fixed(max_record_length) }
    }

    /// A U file: a stream of octets, one record.
    pub fn unstructured() -> Self {
        Self { format: RecordFormat::Unstructured, ..Self::fixed(RecordLength::ZERO) }
    }

    /// A T file, its lines travelling as `lines` says.
    pub fn text(lines: TextLines) -> Self {
        Self { format: RecordFormat::Text, text_lines: lines, ..Self::fixed(RecordLength::ZERO) }
    }

    /// The same settings with V records behind §6.5 length prefixes in the local file.
    pub fn with_length_prefixes(self, length_prefixes: bool) -> Self {
        Self { length_prefixes, ..self }
    }

    /// Checks that the settings describe a file: F and V need SFIDLRECL of at least 1.
    pub fn validate(&self) -> Result<(), RecordError> {
        match self.format {
            RecordFormat::Fixed if self.max_record_length.get() == 0 => {
                Err(RecordError::InvalidSettings("an F file needs SFIDLRECL of at least 1"))
            }
            RecordFormat::Variable if self.max_record_length.get() == 0 => {
                Err(RecordError::InvalidSettings("a V file needs SFIDLRECL of at least 1"))
            }
            _ => Ok(()),
        }
    }

    /// Whether the file travels one record per line (T with [`TextLines::RecordPerLine`]).
    pub fn record_per_line(&self) -> bool {
        self.format == RecordFormat::Text && self.text_lines == TextLines::RecordPerLine
    }

    /// Whether the whole file is one record (U, or T with [`TextLines::KeepCrLf`]).
    pub fn single_record(&self) -> bool {
        match self.format {
            RecordFormat::Unstructured => true,
            RecordFormat::Text => self.text_lines == TextLines::KeepCrLf,
            _ => false,
        }
    }

    /// What lies before a restart position of this file, when the position alone tells
    /// it: `n` records of SFIDLRECL octets for F, `n` KiB for U and T. `None` for V,
    /// whose records differ in length: count them (or use
    /// [`FileEncoder::skip_to`](super::FileEncoder::skip_to)).
    ///
    /// ```
    /// use oftp2_codec::fields::{RecordLength, RestartPosition};
    /// use oftp2_codec::record::{Counts, FileSettings};
    /// let f80 = FileSettings::fixed(RecordLength::new(80)?);
    /// assert_eq!(f80.counts_at(RestartPosition::new(10)?), Some(Counts { records: 10, octets: 800 }));
    /// # Ok::<(), oftp2_codec::fields::OutOfRange>(())
    /// ```
    pub fn counts_at(&self, position: RestartPosition) -> Option<Counts> {
        let n = position.get();
        match self.format {
            RecordFormat::Fixed => {
                Some(Counts { records: n, octets: n.saturating_mul(self.max_record_length.get()) })
            }
            RecordFormat::Variable => None,
            RecordFormat::Unstructured | RecordFormat::Text => {
                Some(Counts { records: 0, octets: n.saturating_mul(RESTART_BLOCK) })
            }
        }
    }
}
