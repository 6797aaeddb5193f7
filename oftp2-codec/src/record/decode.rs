//! From DATA buffers back to a file's octets.

use bytes::{BufMut, Bytes, BytesMut};

use super::counts::Counts;
use super::error::{CountMismatch, RecordError};
use super::prefix::length_prefix;
use super::settings::FileSettings;
use crate::buffer::{parse_subrecord, RawData, DATA_COMMAND};
use crate::error::{Expected, Found, Malformed};
use crate::fields::{RecordCount, RecordFormat, UnitCount};
use crate::reason::{EfnaReason, EsidReason};

/// Rebuilds a file from the DATA buffers of its transfer, incrementally: each
/// [`push`](Self::push) of a buffer returns the file octets it completes, and
/// [`finish`](Self::finish) checks the EFID counts. Only the buffer at hand is held,
/// plus, for V files written with §6.5 prefixes, the current record (a prefix needs
/// the record's length before its data).
///
/// What it checks on the way: every subrecord (malformed ones end the session with
/// ESID 06), F records of exactly SFIDLRECL octets, V records of at most SFIDLRECL,
/// nothing after the end of a U file (or of a T file sent as one record), the last
/// record of an F or V file (or line of a T file sent per line) ended, and the
/// counts.
///
/// For T files sent one record per line, CR LF goes back after every record; for V
/// files with [`FileSettings::length_prefixes`], a §6.5 prefix goes before each.
///
/// ```
/// use oftp2_codec::fields::{RecordCount, UnitCount};
/// use oftp2_codec::record::{FileDecoder, FileSettings, TextLines};
///
/// let mut decoder = FileDecoder::new(FileSettings::text(TextLines::RecordPerLine), false)?;
/// let text = decoder.push(b"D\x82ab\x80\x02cd")?;
/// assert_eq!(&text[..], b"ab\r\n\r\ncd");
/// let text = decoder.push(b"D\x81e")?;
/// assert_eq!(&text[..], b"e\r\n");
/// let counts = decoder.finish(RecordCount::ZERO, UnitCount::new(11)?)?;
/// assert_eq!(counts.octets, 11);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct FileDecoder {
    settings: FileSettings,
    compression: bool,
    counts: Counts,
    /// Lines received since the decoder started (T, one record per line).
    lines: u64,
    /// Octets of the current record so far.
    in_record: u64,
    /// Whether a subrecord of a record not yet ended has arrived.
    record_open: bool,
    /// Whether the one record of a U file (or T file sent as one record) has ended.
    ended: bool,
    out: BytesMut,
    /// The current record, for V files written with length prefixes.
    record: BytesMut,
}

impl FileDecoder {
    /// A decoder for a file with these settings; `compression` tells whether buffer
    /// compression was negotiated (a compressed subrecord is malformed otherwise).
    pub fn new(settings: FileSettings, compression: bool) -> Result<Self, RecordError> {
        settings.validate()?;
        Ok(Self {
            settings,
            compression,
            counts: Counts::default(),
            lines: 0,
            in_record: 0,
            record_open: false,
            ended: false,
            out: BytesMut::new(),
            record: BytesMut::new(),
        })
    }

    /// Starts the counts at what the receiver kept of an interrupted transfer (the
    /// restart point agreed in SFPAACNT, see
    /// [`FileSettings::counts_at`]), since EFID carries totals from the start of the
    /// file.
    pub fn resume_from(mut self, start: Counts) -> Self {
        self.counts = start;
        self
    }

    /// The settings.
    pub fn settings(&self) -> &FileSettings {
        &self.settings
    }

    /// Records and octets received so far, from the start of the file.
    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// Decodes one DATA Exchange Buffer (its command octet `D` included) and returns
    /// the file octets it completes (possibly none).
    pub fn push(&mut self, buffer: &[u8]) -> Result<Bytes, RecordError> {
        match buffer.split_first() {
            Some((&DATA_COMMAND, payload)) => self.push_payload(payload),
            other => Err(RecordError::Buffer(Malformed {
                item: "DATA",
                field: "DATACMD",
                offset: 0,
                expected: Expected::Literal("D"),
                found: other.map_or(Found::End, |(&octet, _)| Found::octets(&[octet])),
                reason: EsidReason::COMMAND_NOT_RECOGNISED,
            })),
        }
    }

    /// Decodes the payload of a DATA buffer (the octets after its `D`), as
    /// [`push`](Self::push) does.
    pub fn push_payload(&mut self, payload: &[u8]) -> Result<Bytes, RecordError> {
        self.out.reserve(payload.len());
        let mut pos = 0;
        while pos < payload.len() {
            pos = self.full_literals(payload, pos);
            if pos == payload.len() {
                break;
            }
            let step = parse_subrecord(payload, pos, self.compression)
                .map_err(RecordError::from)
                .and_then(|(header, raw, next)| {
                    self.subrecord(raw, usize::from(header.count()), header.end_of_record())?;
                    Ok(next)
                });
            match step {
                Ok(next) => pos = next,
                Err(error) => {
                    // The session ends on this error: drop what the buffer began.
                    self.out.clear();
                    return Err(error);
                }
            }
        }
        Ok(self.out.split().freeze())
    }

    /// The fast path of a file that is one record (U, or T keeping CR LF), where most
    /// subrecords are full literals (header 63: 63 octets, no End of Record flag, not
    /// compressed) that need no check: copies the run of them that starts at `pos`,
    /// counts it, and returns where it ends.
    #[inline]
    fn full_literals(&mut self, payload: &[u8], mut pos: usize) -> usize {
        const FULL: u8 = 63;
        const STEP: usize = 1 + FULL as usize;
        if !self.settings.single_record() || self.ended {
            return pos;
        }
        let start = pos;
        while let Some((&FULL, literal)) =
            payload.get(pos..pos + STEP).and_then(<[u8]>::split_first)
        {
            // A constant length: the copy is a few vector moves, not a call.
            if let Ok(literal) = <&[u8; FULL as usize]>::try_from(literal) {
                self.out.extend_from_slice(literal);
            }
            pos += STEP;
        }
        let octets = ((pos - start) / STEP * usize::from(FULL)) as u64;
        if octets > 0 {
            self.counts.octets += octets;
            self.in_record += octets;
            self.record_open = true;
        }
        pos
    }

    #[inline]
    fn subrecord(&mut self, raw: RawData<'_>, count: usize, end: bool) -> Result<(), RecordError> {
        if self.ended {
            return Err(RecordError::DataAfterEndOfFile { octets: self.counts.octets });
        }
        let length = self.in_record + count as u64;
        let limit = self.settings.max_record_length.get();
        match self.settings.format {
            RecordFormat::Fixed if length > limit || (end && length != limit) => {
                return Err(RecordError::WrongFixedLength {
                    record: self.counts.records + 1,
                    length,
                    expected: limit,
                });
            }
            RecordFormat::Variable if length > limit => {
                return Err(RecordError::RecordTooLong {
                    record: self.counts.records + 1,
                    length,
                    max: limit,
                });
            }
            _ => {}
        }
        let prefixed =
            self.settings.length_prefixes && self.settings.format == RecordFormat::Variable;
        let sink = if prefixed { &mut self.record } else { &mut self.out };
        match raw {
            RawData::Literal(octets) => sink.put_slice(octets),
            RawData::Repeated(octet, _) => sink.put_bytes(octet, count),
        }
        self.counts.octets += count as u64;
        if !end {
            self.in_record = length;
            self.record_open = true;
            return Ok(());
        }
        self.in_record = 0;
        self.record_open = false;
        match self.settings.format {
            RecordFormat::Fixed => self.counts.records += 1,
            RecordFormat::Variable => {
                self.counts.records += 1;
                if prefixed {
                    let length = self.record.len();
                    let prefix = length_prefix(length).ok_or(RecordError::PrefixOverflow {
                        record: self.counts.records,
                        length: length as u64,
                    })?;
                    self.out.put_slice(&prefix);
                    self.out.put_slice(&self.record);
                    self.record.clear();
                }
            }
            RecordFormat::Text if self.settings.record_per_line() => {
                self.out.put_slice(b"\r\n");
                self.counts.octets += 2;
                self.counts.records += 1;
                self.lines += 1;
            }
            RecordFormat::Unstructured | RecordFormat::Text => self.ended = true,
        }
        Ok(())
    }

    /// Ends the file on receipt of EFID: checks that the last record was ended and
    /// that EFIDRCNT and EFIDUCNT match what arrived (with what a restart kept), and
    /// returns the counts. A mismatch is a [`CountMismatch`] naming the EFNA reason:
    /// 10 for the record count, 11 for the octet count.
    ///
    /// Leniencies: the record count of U and T files is not checked (the RFC says
    /// zeros; some partners send their line or record count); for T files sent per
    /// line the octet count may include the CR LF line ends or not; a U file (or T file
    /// sent as one record) whose last subrecord lacks the End of Record flag is
    /// accepted.
    pub fn finish(
        &mut self,
        records: RecordCount,
        units: UnitCount,
    ) -> Result<Counts, RecordError> {
        if self.record_open && !self.settings.single_record() {
            return Err(RecordError::UnterminatedRecord {
                record: self.counts.records + 1,
                length: self.in_record,
            });
        }
        if self.settings.format.restarts_on_records() && records.get() != self.counts.records {
            return Err(CountMismatch {
                field: "EFIDRCNT",
                announced: records.get(),
                counted: self.counts.records,
                reason: EfnaReason::INVALID_RECORD_COUNT,
            }
            .into());
        }
        let without_line_ends = self.counts.octets.saturating_sub(2 * self.lines);
        let units_match = units.get() == self.counts.octets
            || (self.settings.record_per_line() && units.get() == without_line_ends);
        if !units_match {
            return Err(CountMismatch {
                field: "EFIDUCNT",
                announced: units.get(),
                counted: self.counts.octets,
                reason: EfnaReason::INVALID_BYTE_COUNT,
            }
            .into());
        }
        Ok(self.counts)
    }
}
