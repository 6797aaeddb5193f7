//! Files from Customs: format F, records of 80 octets ("All files sent from Swedish
//! Customs has format fixed and record size 80").
//!
//! oftp2-session delivers an F file into the inbox as its records back to back, so a
//! file from Customs is a multiple of 80 octets. [`Records`] reads it record by record
//! (one record in memory at a time), after [`Records::open`] has checked that the
//! delivered file really is F/80; anything else is a [`RecordsError`] that says what came.
//!
//! # Records and text lines
//!
//! A record shorter than 80 characters of text is padded with spaces (0x20).
//! [`record_to_line`] removes trailing spaces, [`line_to_record`] pads a line with
//! spaces. So records → lines → records gives the same records, while lines → records →
//! lines loses the trailing spaces a line had of its own. Nothing else is changed: the
//! octets are not reinterpreted in any character set, and a line must fit one record (a
//! longer line is an error, not wrapped). Note that EDIFACT interchanges may run on
//! across record boundaries: for those, the file as delivered (the records
//! concatenated) is the interchange, and only the last record is padded.
//!
//! ```
//! use tullverket_profile::records::{line_to_record, record_to_line, Records};
//!
//! let mut file = Vec::new();
//! for line in ["UNA:+.? '", "UNB+UNOC:3+2021000969:30+5560360793:30'"] {
//!     file.extend_from_slice(&line_to_record(line.as_bytes())?);
//! }
//! assert_eq!(file.len(), 160);
//! let lines: Vec<Vec<u8>> = Records::new(&file[..])
//!     .map(|record| record.map(|r| record_to_line(&r).to_vec()))
//!     .collect::<Result<_, _>>()?;
//! assert_eq!(lines[0], b"UNA:+.? '");
//! # Ok::<(), tullverket_profile::records::RecordsError>(())
//! ```

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::Path;

use oftp2_codec::command::Sfid;
use oftp2_codec::fields::RecordFormat;
use oftp2_session::store::DeliveredFile;

use crate::params::{FORMAT_FROM_CUSTOMS, RECORD_LENGTH_FROM_CUSTOMS};

/// One record of a file from Customs.
pub type Record = [u8; RECORD_LENGTH_FROM_CUSTOMS];

/// A file that is not F/80, a damaged one, or a line that does not fit a record.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordsError {
    /// The file arrived in another format than F.
    #[error(
        "{dataset} arrived as format {format} (record length {record_length}), but files \
         from Customs are format F with records of 80 octets: it cannot be read as records"
    )]
    NotFixed {
        /// SFIDDSN.
        dataset: String,
        /// SFIDFMT.
        format: RecordFormat,
        /// SFIDLRECL.
        record_length: u64,
    },
    /// The file is format F, but its records are not 80 octets long.
    #[error(
        "{dataset} arrived as format F with records of {found} octets, but files from \
         Customs have records of 80 octets"
    )]
    WrongRecordLength {
        /// SFIDDSN.
        dataset: String,
        /// SFIDLRECL.
        found: u64,
    },
    /// The file ends inside a record: it is not a whole number of 80-octet records.
    #[error(
        "the file ends inside record {record} ({octets} of 80 octets): it is not a whole \
         number of 80-octet records"
    )]
    Truncated {
        /// The record's number, from 1.
        record: u64,
        /// The octets of it present.
        octets: usize,
    },
    /// A line is longer than a record.
    #[error("line {line} has {length} octets, more than the 80 of a record")]
    LineTooLong {
        /// The line's number, from 1.
        line: u64,
        /// Its length without the line end.
        length: usize,
    },
    /// Reading or writing failed.
    #[error("reading or writing the records failed: {0}")]
    Io(#[from] io::Error),
}

/// Checks that a file announced with `sfid` is what Customs sends: format F, records of
/// 80 octets.
pub fn expect_f80(sfid: &Sfid) -> Result<(), RecordsError> {
    let dataset = sfid.dataset_name.as_str().to_owned();
    let record_length = sfid.max_record_length.get();
    if sfid.format != FORMAT_FROM_CUSTOMS {
        return Err(RecordsError::NotFixed { dataset, format: sfid.format, record_length });
    }
    if record_length != RECORD_LENGTH_FROM_CUSTOMS as u64 {
        return Err(RecordsError::WrongRecordLength { dataset, found: record_length });
    }
    Ok(())
}

/// The 80-octet records of a file, read one at a time.
#[derive(Debug)]
pub struct Records<R> {
    reader: R,
    /// Records read so far.
    count: u64,
    done: bool,
}

impl Records<BufReader<File>> {
    /// The records of a file delivered from Customs, after checking that it arrived as
    /// F/80 ([`expect_f80`]).
    pub fn open(delivered: &DeliveredFile) -> Result<Self, RecordsError> {
        expect_f80(&delivered.sfid)?;
        Self::open_path(&delivered.path)
    }

    /// The records of a file on disk (no format check: the caller knows it is F/80).
    pub fn open_path(path: &Path) -> Result<Self, RecordsError> {
        Ok(Records::new(BufReader::new(File::open(path)?)))
    }
}

impl<R: Read> Records<R> {
    /// The records in `reader`.
    pub fn new(reader: R) -> Self {
        Records { reader, count: 0, done: false }
    }

    /// How many records were read so far.
    pub fn records_read(&self) -> u64 {
        self.count
    }

    fn read_record(&mut self) -> Result<Option<Record>, RecordsError> {
        let mut record = [0u8; RECORD_LENGTH_FROM_CUSTOMS];
        let mut filled = 0;
        while let Some(rest) = record.get_mut(filled..).filter(|rest| !rest.is_empty()) {
            match self.reader.read(rest) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => return Err(error.into()),
            }
        }
        match filled {
            0 => Ok(None),
            RECORD_LENGTH_FROM_CUSTOMS => {
                self.count += 1;
                Ok(Some(record))
            }
            octets => Err(RecordsError::Truncated { record: self.count + 1, octets }),
        }
    }
}

impl<R: Read> Iterator for Records<R> {
    type Item = Result<Record, RecordsError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let result = self.read_record().transpose();
        if !matches!(result, Some(Ok(_))) {
            self.done = true;
        }
        result
    }
}

/// The record as a line: without its trailing spaces.
pub fn record_to_line(record: &Record) -> &[u8] {
    let end = record.iter().rposition(|&octet| octet != b' ').map_or(0, |last| last + 1);
    record.get(..end).unwrap_or_default()
}

/// The line (without line end) as a record, padded with spaces; a line longer than 80
/// octets is [`RecordsError::LineTooLong`] (line number 1).
pub fn line_to_record(line: &[u8]) -> Result<Record, RecordsError> {
    let mut record = [b' '; RECORD_LENGTH_FROM_CUSTOMS];
    record
        .get_mut(..line.len())
        .ok_or(RecordsError::LineTooLong { line: 1, length: line.len() })?
        .copy_from_slice(line);
    Ok(record)
}

/// Writes each record as a line (trailing spaces removed) ended by `line_end` (`b"\n"`
/// or `b"\r\n"`); returns the number of lines.
pub fn records_to_lines<R: Read, W: Write>(
    records: Records<R>,
    mut out: W,
    line_end: &[u8],
) -> Result<u64, RecordsError> {
    let mut lines = 0;
    for record in records {
        out.write_all(record_to_line(&record?))?;
        out.write_all(line_end)?;
        lines += 1;
    }
    out.flush()?;
    Ok(lines)
}

/// Writes each line of `input` (ended by LF or CR LF; the last one may have no end) as
/// one 80-octet record padded with spaces; returns the number of records.
pub fn lines_to_records<R: BufRead, W: Write>(
    mut input: R,
    mut out: W,
) -> Result<u64, RecordsError> {
    let mut line = Vec::with_capacity(RECORD_LENGTH_FROM_CUSTOMS + 2);
    let mut count = 0;
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        let record = line_to_record(text)
            .map_err(|_| RecordsError::LineTooLong { line: count + 1, length: text.len() })?;
        out.write_all(&record)?;
        count += 1;
    }
    out.flush()?;
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sfid(format: RecordFormat, record_length: u64) -> Sfid {
        use oftp2_codec::fields::*;
        Sfid {
            dataset_name: "CUSRES".parse().unwrap(),
            date: VirtualFileDate::new(2026, 11, 23).unwrap(),
            time: VirtualFileTime::new(12, 0, 0, 0).unwrap(),
            user_data: UserData::EMPTY,
            destination: "O094200005560360793TEKN".parse().unwrap(),
            originator: crate::params::customs_odette_id(),
            format,
            max_record_length: RecordLength::new(record_length).unwrap(),
            file_size: FileSize::new(1).unwrap(),
            original_file_size: FileSize::new(1).unwrap(),
            restart_position: RestartPosition::ZERO,
            security_level: SecurityLevel::None,
            cipher_suite: CipherSuite::NONE,
            compression: FileCompression::None,
            enveloping: FileEnveloping::None,
            signed_eerp_request: false,
            description: Utf8Text::empty(),
        }
    }

    #[test]
    fn only_f80_is_a_file_from_customs() {
        assert!(expect_f80(&sfid(RecordFormat::Fixed, 80)).is_ok());
        for (format, length) in
            [(RecordFormat::Variable, 80), (RecordFormat::Unstructured, 0), (RecordFormat::Text, 0)]
        {
            let error = expect_f80(&sfid(format, length)).unwrap_err();
            assert!(matches!(error, RecordsError::NotFixed { format: f, .. } if f == format));
            assert!(error.to_string().contains(&format!("CUSRES arrived as format {format}")));
        }
        let error = expect_f80(&sfid(RecordFormat::Fixed, 81)).unwrap_err();
        assert!(matches!(error, RecordsError::WrongRecordLength { found: 81, .. }), "{error}");
    }

    #[test]
    fn lines_round_trip_and_padding() {
        let text = b"FIRST LINE\r\nSECOND  \n\nLAST";
        let mut file = Vec::new();
        assert_eq!(lines_to_records(&text[..], &mut file).unwrap(), 4);
        assert_eq!(file.len(), 320);
        assert!(file.get(10..80).unwrap().iter().all(|&b| b == b' '));
        let mut back = Vec::new();
        assert_eq!(records_to_lines(Records::new(&file[..]), &mut back, b"\n").unwrap(), 4);
        // The trailing spaces of "SECOND  " are gone: the documented loss.
        assert_eq!(back, b"FIRST LINE\nSECOND\n\nLAST\n");
    }

    #[test]
    fn a_partial_record_and_a_long_line_are_errors() {
        let mut records = Records::new(&[b'A'; 170][..]);
        assert!(records.next().unwrap().is_ok());
        assert!(records.next().unwrap().is_ok());
        let error = records.next().unwrap().unwrap_err();
        assert!(matches!(error, RecordsError::Truncated { record: 3, octets: 10 }), "{error}");
        assert!(records.next().is_none());

        let long = [b'X'; 81];
        let error = lines_to_records(b"ok\n"[..].chain(&long[..]), io::sink()).unwrap_err();
        assert!(matches!(error, RecordsError::LineTooLong { line: 2, length: 81 }), "{error}");
        assert_eq!(Records::new(&[][..]).records_read(), 0);
        assert_eq!(Records::new(&[][..]).count(), 0);
    }
}
