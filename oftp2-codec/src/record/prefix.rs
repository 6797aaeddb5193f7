//! The two-octet record length prefixes of V format files (§6.5).

use super::error::RecordError;

/// The largest record a two-octet prefix can announce.
pub const MAX_PREFIXED_RECORD: usize = u16::MAX as usize;

/// The §6.5 prefix for a record of `length` octets: the length as a 2-octet
/// big-endian number, not counting itself. `None` above 65,535 octets.
///
/// (The RFC allows SFIDLRECL up to 65,536 for secured V files, one more than a prefix
/// can hold; such a record cannot be written.)
///
/// ```
/// use oftp2_codec::record::length_prefix;
/// assert_eq!(length_prefix(80), Some([0x00, 0x50]));
/// assert_eq!(length_prefix(65_536), None);
/// ```
pub fn length_prefix(length: usize) -> Option<[u8; 2]> {
    u16::try_from(length).ok().map(u16::to_be_bytes)
}

/// A piece of a V file read by [`LengthPrefixReader`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrefixedPiece<'a> {
    /// A record of this many octets starts (its prefix was read).
    RecordStart(usize),
    /// Octets of the current record.
    Data(&'a [u8]),
    /// The current record is complete.
    EndOfRecord,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading a prefix; `Some(high)` once its first octet is in.
    Prefix(Option<u8>),
    /// Inside a record with this many octets to go, of so many in all.
    Body(usize, usize),
}

/// Strips §6.5 record length prefixes from a V file fed in pieces of any size,
/// telling where records start and end.
///
/// ```
/// use oftp2_codec::record::{LengthPrefixReader, PrefixedPiece};
/// let mut reader = LengthPrefixReader::new();
/// let mut pieces = Vec::new();
/// for mut chunk in [&b"\x00"[..], b"\x03ab", b"c\x00\x00"] {
///     while let Some(piece) = reader.next_piece(&mut chunk) {
///         pieces.push(piece);
///     }
/// }
/// reader.finish()?;
/// assert_eq!(pieces, [
///     PrefixedPiece::RecordStart(3), PrefixedPiece::Data(b"ab"), PrefixedPiece::Data(b"c"),
///     PrefixedPiece::EndOfRecord, PrefixedPiece::RecordStart(0), PrefixedPiece::EndOfRecord,
/// ]);
/// # Ok::<(), oftp2_codec::record::RecordError>(())
/// ```
#[derive(Debug, Clone)]
pub struct LengthPrefixReader {
    state: State,
    records: u64,
}

impl Default for LengthPrefixReader {
    fn default() -> Self {
        Self::new()
    }
}

impl LengthPrefixReader {
    /// A reader at the start of a file.
    pub fn new() -> Self {
        Self { state: State::Prefix(None), records: 0 }
    }

    /// Records started so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// The next piece from `input`, advancing it; `None` when `input` is used up.
    pub fn next_piece<'a>(&mut self, input: &mut &'a [u8]) -> Option<PrefixedPiece<'a>> {
        loop {
            match self.state {
                State::Body(0, _) => {
                    self.state = State::Prefix(None);
                    return Some(PrefixedPiece::EndOfRecord);
                }
                State::Body(remaining, length) => {
                    if input.is_empty() {
                        return None;
                    }
                    let (data, rest) = input.split_at(remaining.min(input.len()));
                    *input = rest;
                    self.state = State::Body(remaining - data.len(), length);
                    return Some(PrefixedPiece::Data(data));
                }
                State::Prefix(high) => {
                    let (&octet, rest) = input.split_first()?;
                    *input = rest;
                    match high {
                        None => self.state = State::Prefix(Some(octet)),
                        Some(high) => {
                            let length = usize::from(u16::from_be_bytes([high, octet]));
                            self.records += 1;
                            self.state = State::Body(length, length);
                            return Some(PrefixedPiece::RecordStart(length));
                        }
                    }
                }
            }
        }
    }

    /// Checks that the file ended between records.
    pub fn finish(&self) -> Result<(), RecordError> {
        match self.state {
            State::Prefix(None) => Ok(()),
            State::Prefix(Some(_)) => {
                Err(RecordError::TruncatedLengthPrefix { record: self.records + 1 })
            }
            // A record with nothing left has had all its octets; `next_piece` owes only
            // its end, which an empty input still yields.
            State::Body(0, _) => Ok(()),
            State::Body(remaining, length) => Err(RecordError::UnterminatedRecord {
                record: self.records,
                length: (length - remaining) as u64,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncated_input_is_reported() {
        let mut reader = LengthPrefixReader::new();
        let mut input: &[u8] = b"\x00\x05abc";
        while reader.next_piece(&mut input).is_some() {}
        assert_eq!(reader.finish(), Err(RecordError::UnterminatedRecord { record: 1, length: 3 }));
        let mut reader = LengthPrefixReader::new();
        let mut input: &[u8] = b"\x00";
        while reader.next_piece(&mut input).is_some() {}
        assert_eq!(reader.finish(), Err(RecordError::TruncatedLengthPrefix { record: 1 }));
    }

    #[test]
    fn record_end_comes_even_without_more_input() {
        let mut reader = LengthPrefixReader::new();
        let mut input: &[u8] = b"\x00\x01x";
        assert_eq!(reader.next_piece(&mut input), Some(PrefixedPiece::RecordStart(1)));
        assert_eq!(reader.next_piece(&mut input), Some(PrefixedPiece::Data(b"x")));
        assert_eq!(reader.next_piece(&mut input), Some(PrefixedPiece::EndOfRecord));
        assert_eq!(reader.next_piece(&mut input), None);
        assert!(reader.finish().is_ok());
    }
}
