//! From a file's octets to records to DATA buffers.

use bytes::Bytes;

use super::counts::Counts;
use super::error::RecordError;
use super::prefix::{LengthPrefixReader, PrefixedPiece};
use super::settings::FileSettings;
use crate::buffer::BufferFiller;
use crate::fields::{BufferSize, RecordFormat, RestartPosition};

/// The per-format state of the encoder.
#[derive(Debug, Clone)]
enum Shape {
    /// F: octets of the current record so far.
    Fixed { in_record: u64 },
    /// V with records from the caller: octets of the current record so far.
    Variable { in_record: u64 },
    /// V with §6.5 prefixes in the input.
    Prefixed { reader: LengthPrefixReader, skipping: bool },
    /// U, or T as one record.
    Single,
    /// T, one record per line: whether the last input octet was a CR held back, and
    /// whether the current line has any octet yet.
    Lines { held_cr: bool, in_line: bool },
}

/// Maps a file to DATA buffers, incrementally: feed the file's octets with
/// [`push`](Self::push), call [`finish`](Self::finish) at its end, and take the
/// buffers with [`pop_buffer`](Self::pop_buffer) as they come (a buffer is finished
/// once data beyond it arrives, so they trail the input by about one buffer). Only
/// the buffer being filled is held, never the file.
///
/// * F: the input is cut into records of SFIDLRECL octets; a file whose length is no
///   multiple of it is an error at `finish`.
/// * V: records come from the caller ([`push`](Self::push) adds to the current record,
///   [`end_record`](Self::end_record) closes it; [`push_record`](Self::push_record)
///   does both), or, with [`FileSettings::length_prefixes`], from the §6.5 prefixes
///   in the input. A record longer than SFIDLRECL is an error.
/// * U: the file is one record; End of Record goes on its last subrecord only.
/// * T: one record with the CR LF kept, or a record per line without them
///   ([`TextLines`](super::TextLines)).
///
/// [`counts`](Self::counts) gives EFIDRCNT and EFIDUCNT (see [`Counts`]).
///
/// To restart a transfer, either feed the file from the restart point after
/// [`resume_from`](Self::resume_from), or feed it from its start after
/// [`skip_to`](Self::skip_to): what lies before the restart point is then counted but
/// not sent.
///
/// ```
/// use oftp2_codec::fields::{BufferSize, RecordLength};
/// use oftp2_codec::record::{FileEncoder, FileSettings};
///
/// let settings = FileSettings::fixed(RecordLength::new(4)?);
/// let mut encoder = FileEncoder::new(settings, BufferSize::new(128)?, false)?;
/// encoder.push(b"ABCDE")?;
/// encoder.push(b"FGH")?;
/// let counts = encoder.finish()?;
/// assert_eq!((counts.records, counts.octets), (2, 8));
/// let buffer = encoder.pop_buffer().unwrap();
/// assert_eq!(&buffer[..], b"D\x84ABCD\x84EFGH");
/// assert_eq!(encoder.pop_buffer(), None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct FileEncoder {
    settings: FileSettings,
    filler: BufferFiller,
    shape: Shape,
    counts: Counts,
    /// Input octets still to drop before the restart point (F, U, T).
    skip_octets: u64,
    /// Records still to count without sending before the restart point (V).
    skip_records: u64,
    finished: bool,
}

impl FileEncoder {
    /// An encoder for a file with these settings, into buffers of at most
    /// `buffer_size` octets (SSIDSDEB), with buffer compression if `compression` was
    /// negotiated.
    pub fn new(
        settings: FileSettings,
        buffer_size: BufferSize,
        compression: bool,
    ) -> Result<Self, RecordError> {
        settings.validate()?;
        let shape = match settings.format {
            RecordFormat::Fixed => Shape::Fixed { in_record: 0 },
            RecordFormat::Variable if settings.length_prefixes => {
                Shape::Prefixed { reader: LengthPrefixReader::new(), skipping: false }
            }
            RecordFormat::Variable => Shape::Variable { in_record: 0 },
            RecordFormat::Unstructured => Shape::Single,
            RecordFormat::Text if settings.record_per_line() => {
                Shape::Lines { held_cr: false, in_line: false }
            }
            RecordFormat::Text => Shape::Single,
        };
        Ok(Self {
            settings,
            filler: BufferFiller::new(buffer_size, compression),
            shape,
            counts: Counts::default(),
            skip_octets: 0,
            skip_records: 0,
            finished: false,
        })
    }

    /// Starts the counts at `start`: the input will begin at that restart point (the
    /// caller has skipped what the receiver already holds). See
    /// [`FileSettings::counts_at`].
    pub fn resume_from(mut self, start: Counts) -> Self {
        self.counts = start;
        self
    }

    /// Makes the encoder skip what lies before restart `position` (SFPAACNT): the
    /// input is the whole file from its start; the first `position` records (F, V) or
    /// KiB (U, T) are counted but not sent. A file that ends before the restart point
    /// is an error at [`finish`](Self::finish).
    pub fn skip_to(mut self, position: RestartPosition) -> Self {
        match self.settings.counts_at(position) {
            Some(start) => {
                self.skip_octets = start.octets;
                self.counts = start;
            }
            None => self.skip_records = position.get(),
        }
        self
    }

    /// The settings.
    pub fn settings(&self) -> &FileSettings {
        &self.settings
    }

    /// The buffer filler, to tune it (such as its
    /// [`set_min_run`](BufferFiller::set_min_run)).
    pub fn filler_mut(&mut self) -> &mut BufferFiller {
        &mut self.filler
    }

    /// Records and octets so far, from the start of the file (see [`Counts`]).
    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// The next finished DATA buffer, command octet `D` included.
    pub fn pop_buffer(&mut self) -> Option<Bytes> {
        self.filler.pop_buffer()
    }

    /// Takes the finished buffers, oldest first.
    pub fn drain_buffers(&mut self) -> impl Iterator<Item = Bytes> + '_ {
        self.filler.drain_buffers()
    }

    /// Feeds the next octets of the file.
    pub fn push(&mut self, mut data: &[u8]) -> Result<(), RecordError> {
        if self.finished {
            return Err(RecordError::Misuse("data pushed after finish"));
        }
        if self.skip_octets > 0 {
            let skipped = data.len().min(usize::try_from(self.skip_octets).unwrap_or(usize::MAX));
            data = data.get(skipped..).unwrap_or_default();
            self.skip_octets -= skipped as u64;
        }
        match &mut self.shape {
            Shape::Single => {
                self.filler.write(data);
                self.counts.octets += data.len() as u64;
            }
            Shape::Fixed { .. } => self.push_fixed(data),
            Shape::Variable { .. } => self.push_variable(data)?,
            Shape::Prefixed { .. } => self.push_prefixed(data)?,
            Shape::Lines { .. } => self.push_lines(data),
        }
        Ok(())
    }

    /// Ends the current record of a V file whose records come from the caller.
    pub fn end_record(&mut self) -> Result<(), RecordError> {
        if self.finished {
            return Err(RecordError::Misuse("end_record after finish"));
        }
        let Shape::Variable { in_record } = &mut self.shape else {
            return Err(RecordError::Misuse(
                "end_record is for V files whose records come from the caller",
            ));
        };
        *in_record = 0;
        self.counts.records += 1;
        if self.skip_records > 0 {
            self.skip_records -= 1;
        } else {
            self.filler.end_record();
        }
        Ok(())
    }

    /// Feeds one whole record of a V file whose records come from the caller.
    pub fn push_record(&mut self, record: &[u8]) -> Result<(), RecordError> {
        self.push(record)?;
        self.end_record()
    }

    /// Ends the file: checks that it ended on a record boundary, closes the last
    /// record (U, T) and the last buffer, and returns the final counts for EFID. The
    /// remaining buffers are then in [`pop_buffer`](Self::pop_buffer).
    pub fn finish(&mut self) -> Result<Counts, RecordError> {
        if self.finished {
            return Ok(self.counts);
        }
        if self.skip_octets > 0 || self.skip_records > 0 {
            return Err(RecordError::Misuse("the file ends before the restart point"));
        }
        match &mut self.shape {
            Shape::Fixed { in_record } if *in_record > 0 => {
                return Err(RecordError::WrongFixedLength {
                    record: self.counts.records + 1,
                    length: *in_record,
                    expected: self.settings.max_record_length.get(),
                });
            }
            Shape::Variable { in_record } if *in_record > 0 => {
                return Err(RecordError::UnterminatedRecord {
                    record: self.counts.records + 1,
                    length: *in_record,
                });
            }
            Shape::Prefixed { reader, .. } => {
                let mut nothing: &[u8] = &[];
                // A record whose last octets came with the last push still owes its end.
                if let Some(PrefixedPiece::EndOfRecord) = reader.next_piece(&mut nothing) {
                    self.end_prefixed_record();
                }
                if let Shape::Prefixed { reader, .. } = &self.shape {
                    reader.finish()?;
                }
            }
            Shape::Single => self.filler.end_record(),
            Shape::Lines { held_cr, in_line } => {
                if *held_cr {
                    self.filler.write(b"\r");
                    *in_line = true;
                }
                if *in_line {
                    // The receiver ends the last line with CR LF: count it.
                    self.filler.end_record();
                    self.counts.records += 1;
                    self.counts.octets += 2;
                }
            }
            Shape::Fixed { .. } | Shape::Variable { .. } => {}
        }
        self.filler.flush();
        self.finished = true;
        Ok(self.counts)
    }

    fn push_fixed(&mut self, mut data: &[u8]) {
        let length = self.settings.max_record_length.get();
        let Shape::Fixed { in_record } = &mut self.shape else { return };
        self.counts.octets += data.len() as u64;
        while !data.is_empty() {
            let room = usize::try_from(length - *in_record).unwrap_or(usize::MAX);
            let (now, rest) = data.split_at(room.min(data.len()));
            self.filler.write(now);
            *in_record += now.len() as u64;
            if *in_record == length {
                self.filler.end_record();
                self.counts.records += 1;
                *in_record = 0;
            }
            data = rest;
        }
    }

    fn push_variable(&mut self, data: &[u8]) -> Result<(), RecordError> {
        let max = self.settings.max_record_length.get();
        let Shape::Variable { in_record } = &mut self.shape else { return Ok(()) };
        let length = *in_record + data.len() as u64;
        if length > max {
            return Err(RecordError::RecordTooLong {
                record: self.counts.records + 1,
                length,
                max,
            });
        }
        *in_record = length;
        self.counts.octets += data.len() as u64;
        if self.skip_records == 0 {
            self.filler.write(data);
        }
        Ok(())
    }

    fn push_prefixed(&mut self, mut data: &[u8]) -> Result<(), RecordError> {
        let max = self.settings.max_record_length.get();
        loop {
            let Shape::Prefixed { reader, skipping } = &mut self.shape else { return Ok(()) };
            let Some(piece) = reader.next_piece(&mut data) else { return Ok(()) };
            match piece {
                PrefixedPiece::RecordStart(length) => {
                    if length as u64 > max {
                        return Err(RecordError::RecordTooLong {
                            record: reader.records(),
                            length: length as u64,
                            max,
                        });
                    }
                    *skipping = self.skip_records > 0;
                }
                PrefixedPiece::Data(octets) => {
                    self.counts.octets += octets.len() as u64;
                    if !*skipping {
                        self.filler.write(octets);
                    }
                }
                PrefixedPiece::EndOfRecord => self.end_prefixed_record(),
            }
        }
    }

    fn end_prefixed_record(&mut self) {
        self.counts.records += 1;
        if self.skip_records > 0 {
            self.skip_records -= 1;
        } else {
            self.filler.end_record();
        }
    }

    fn push_lines(&mut self, mut data: &[u8]) {
        let Shape::Lines { held_cr, in_line } = &mut self.shape else { return };
        self.counts.octets += data.len() as u64;
        if *held_cr {
            let Some((&first, rest)) = data.split_first() else { return };
            *held_cr = false;
            if first == b'\n' {
                self.filler.end_record();
                self.counts.records += 1;
                *in_line = false;
                data = rest;
            } else {
                // A CR not followed by LF is data.
                self.filler.write(b"\r");
                *in_line = true;
            }
        }
        while let Some(cr) = data.iter().position(|&b| b == b'\r') {
            let (line, rest) = data.split_at(cr);
            match rest.get(1) {
                Some(b'\n') => {
                    self.filler.write(line);
                    self.filler.end_record();
                    self.counts.records += 1;
                    *in_line = false;
                    data = rest.get(2..).unwrap_or_default();
                }
                Some(_) => {
                    self.filler.write(data.get(..=cr).unwrap_or_default());
                    *in_line = true;
                    data = rest.get(1..).unwrap_or_default();
                }
                None => {
                    self.filler.write(line);
                    *in_line |= !line.is_empty();
                    *held_cr = true;
                    return;
                }
            }
        }
        self.filler.write(data);
        *in_line |= !data.is_empty();
    }
}
