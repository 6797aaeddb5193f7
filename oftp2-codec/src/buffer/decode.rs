//! Decoding a DATA payload into its subrecords (§7.2).

use bytes::{BufMut, Bytes};

use super::header::SubrecordHeader;
use crate::error::{Expected, Found, Malformed};
use crate::reason::EsidReason;

/// The command octet of a Data Exchange Buffer (DATACMD, §5.3.6).
pub const DATA_COMMAND: u8 = b'D';

const ITEM: &str = "DATA";

/// What a subrecord stands for in the Virtual File.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SubrecordData {
    /// Uncompressed: these octets, a slice of the buffer (no copy).
    Literal(Bytes),
    /// Compressed: `count` copies of `octet`.
    Repeated {
        /// The octet repeated.
        octet: u8,
        /// How many times, 0..=63.
        count: u8,
    },
}

impl SubrecordData {
    /// How many octets of the Virtual File this stands for.
    pub fn len(&self) -> usize {
        match self {
            SubrecordData::Literal(octets) => octets.len(),
            SubrecordData::Repeated { count, .. } => usize::from(*count),
        }
    }

    /// Whether this stands for no octet at all (a zero-length subrecord, legal anywhere).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends the octets this stands for to `out`.
    pub fn expand_into(&self, out: &mut impl BufMut) {
        match self {
            SubrecordData::Literal(octets) => out.put_slice(octets),
            SubrecordData::Repeated { octet, count } => out.put_bytes(*octet, usize::from(*count)),
        }
    }
}

/// One subrecord of a Data Exchange Buffer with the flag of its header that matters
/// after decoding.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Subrecord {
    /// The header as it was on the wire.
    pub header: SubrecordHeader,
    /// The octets of the Virtual File it stands for.
    pub data: SubrecordData,
}

impl Subrecord {
    /// Whether this is the last subrecord of its record (End of Record flag).
    pub fn end_of_record(&self) -> bool {
        self.header.end_of_record()
    }
}

/// A subrecord as slices of the payload, for decoders that copy anyway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RawData<'a> {
    Literal(&'a [u8]),
    Repeated(u8, u8),
}

/// Parses the subrecord whose header is at `pos` of `payload` (the octets after the
/// `D`). Returns the header, the data and the position of the next header.
///
/// Offsets in errors count from the `D` of the buffer, as the RFC's positions do.
#[inline]
pub(crate) fn parse_subrecord(
    payload: &[u8],
    pos: usize,
    compression: bool,
) -> Result<(SubrecordHeader, RawData<'_>, usize), Malformed> {
    match parse_raw(payload, pos, compression) {
        Some(parsed) => Ok(parsed),
        None => Err(subrecord_error(payload, pos, compression)),
    }
}

/// The fast path of [`parse_subrecord`]: `None` for any malformed subrecord.
#[inline(always)]
fn parse_raw(
    payload: &[u8],
    pos: usize,
    compression: bool,
) -> Option<(SubrecordHeader, RawData<'_>, usize)> {
    let (&octet, body) = payload.get(pos..)?.split_first()?;
    let header = SubrecordHeader::from_octet(octet);
    if header.compressed() {
        if !compression {
            return None;
        }
        let &repeated = body.first()?;
        Some((header, RawData::Repeated(repeated, header.count()), pos + 2))
    } else {
        let count = usize::from(header.count());
        let literal = body.get(..count)?;
        Some((header, RawData::Literal(literal), pos + 1 + count))
    }
}

/// Why the subrecord at `pos` is malformed (the slow path of [`parse_subrecord`]).
#[cold]
#[inline(never)]
fn subrecord_error(payload: &[u8], pos: usize, compression: bool) -> Malformed {
    let rest = payload.get(pos..).unwrap_or_default();
    let Some((&octet, body)) = rest.split_first() else {
        return Malformed {
            item: ITEM,
            field: "HDR",
            offset: pos + 1,
            expected: Expected::Format("a subrecord header"),
            found: Found::End,
            reason: EsidReason::COMMAND_CONTAINED_INVALID_DATA,
        };
    };
    let header = SubrecordHeader::from_octet(octet);
    if header.compressed() && !compression {
        Malformed::invalid_data(
            ITEM,
            "HDR",
            pos + 1,
            Expected::Format(
                "a subrecord header without the compression flag 0x40 (buffer compression was not negotiated, SSIDCMPR)",
            ),
            &[octet],
        )
    } else if header.compressed() {
        Malformed {
            item: ITEM,
            field: "SUBRECORD",
            offset: pos + 2,
            expected: Expected::Length(1),
            found: Found::End,
            reason: EsidReason::COMMAND_CONTAINED_INVALID_DATA,
        }
    } else {
        Malformed {
            item: ITEM,
            field: "SUBRECORD",
            offset: pos + 2,
            expected: Expected::Length(usize::from(header.count())),
            found: Found::Length(body.len()),
            reason: EsidReason::COMMAND_CONTAINED_INVALID_DATA,
        }
    }
}

/// The payload of a Data Exchange Buffer: the octets after its command octet `D`.
///
/// A buffer that does not start with `D` is not a DATA command (ESID 01 when it is
/// no other command either; the command codec tells the others apart).
///
/// ```
/// use bytes::Bytes;
/// use oftp2_codec::buffer::data_payload;
/// let payload = data_payload(&Bytes::from_static(b"D\x83abc")).unwrap();
/// assert_eq!(&payload[..], b"\x83abc");
/// assert!(data_payload(&Bytes::from_static(b"C  ")).is_err());
/// ```
pub fn data_payload(buffer: &Bytes) -> Result<Bytes, Malformed> {
    match buffer.first() {
        Some(&DATA_COMMAND) => Ok(buffer.slice(1..)),
        Some(&other) => Err(Malformed {
            item: ITEM,
            field: "DATACMD",
            offset: 0,
            expected: Expected::Literal("D"),
            found: Found::octets(&[other]),
            reason: EsidReason::COMMAND_NOT_RECOGNISED,
        }),
        None => Err(Malformed {
            item: ITEM,
            field: "DATACMD",
            offset: 0,
            expected: Expected::Literal("D"),
            found: Found::End,
            reason: EsidReason::COMMAND_NOT_RECOGNISED,
        }),
    }
}

/// The subrecords of a DATA payload, in order, without copying: literal subrecords are
/// [`Bytes`] slices of the payload.
///
/// A malformed subrecord (one that runs past the end of the buffer, a compressed one
/// without its octet, a compressed one when buffer compression was not negotiated)
/// yields one [`Malformed`] error with ESID reason 06, whose offset counts from the `D`;
/// the iterator ends after it. No input makes it panic.
///
/// ```
/// use bytes::Bytes;
/// use oftp2_codec::buffer::{SubrecordData, Subrecords};
/// // "ab", then 5 × 'x' compressed, with End of Record.
/// let payload = Bytes::from_static(b"\x02ab\xC5x");
/// let subrecords: Vec<_> = Subrecords::new(payload, true).collect::<Result<_, _>>()?;
/// assert_eq!(subrecords[0].data, SubrecordData::Literal(Bytes::from_static(b"ab")));
/// assert_eq!(subrecords[1].data, SubrecordData::Repeated { octet: b'x', count: 5 });
/// assert!(subrecords[1].end_of_record());
///
/// // Without negotiated compression, the flag is an error.
/// let error = Subrecords::new(Bytes::from_static(b"\xC5x"), false).next().unwrap().unwrap_err();
/// assert_eq!(error.offset, 1);
/// assert_eq!(error.reason.value(), 6);
/// # Ok::<(), oftp2_codec::Malformed>(())
/// ```
#[derive(Debug, Clone)]
pub struct Subrecords {
    payload: Bytes,
    pos: usize,
    compression: bool,
    failed: bool,
}

impl Subrecords {
    /// The subrecords of `payload` (the octets after the `D`); `compression` tells
    /// whether buffer compression was negotiated (both SSIDCMPR `Y`).
    pub fn new(payload: Bytes, compression: bool) -> Self {
        Self { payload, pos: 0, compression, failed: false }
    }

    /// The offset, from the `D` of the buffer, of the next subrecord header.
    pub fn offset(&self) -> usize {
        self.pos + 1
    }
}

impl Iterator for Subrecords {
    type Item = Result<Subrecord, Malformed>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.pos >= self.payload.len() {
            return None;
        }
        match parse_subrecord(&self.payload, self.pos, self.compression) {
            Ok((header, raw, next)) => {
                let data = match raw {
                    RawData::Literal(_) => {
                        SubrecordData::Literal(self.payload.slice(self.pos + 1..next))
                    }
                    RawData::Repeated(octet, count) => SubrecordData::Repeated { octet, count },
                };
                self.pos = next;
                Some(Ok(Subrecord { header, data }))
            }
            Err(error) => {
                self.failed = true;
                Some(Err(error))
            }
        }
    }
}

impl core::iter::FusedIterator for Subrecords {}

/// What [`expand_into`] found in a payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Expansion {
    /// Octets of the Virtual File written.
    pub octets: usize,
    /// Subrecords with the End of Record flag.
    pub records_ended: usize,
    /// Subrecords read.
    pub subrecords: usize,
}

/// Appends the Virtual File octets a DATA payload stands for to `out`, ignoring record
/// boundaries (counted in the result). On a malformed subrecord `out` keeps what the
/// subrecords before it stood for.
///
/// ```
/// use oftp2_codec::buffer::expand_into;
/// let mut file = Vec::new();
/// let expansion = expand_into(b"\x02ab\xC5x", true, &mut file)?;
/// assert_eq!(file, b"abxxxxx");
/// assert_eq!(expansion.records_ended, 1);
/// # Ok::<(), oftp2_codec::Malformed>(())
/// ```
pub fn expand_into(
    payload: &[u8],
    compression: bool,
    out: &mut impl BufMut,
) -> Result<Expansion, Malformed> {
    let mut expansion = Expansion::default();
    let mut pos = 0;
    while pos < payload.len() {
        let (header, raw, next) = parse_subrecord(payload, pos, compression)?;
        match raw {
            RawData::Literal(octets) => out.put_slice(octets),
            RawData::Repeated(octet, count) => out.put_bytes(octet, usize::from(count)),
        }
        expansion.octets += usize::from(header.count());
        expansion.subrecords += 1;
        expansion.records_ended += usize::from(header.end_of_record());
        pos = next;
    }
    Ok(expansion)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(payload: &'static [u8], compression: bool) -> Vec<Result<Subrecord, Malformed>> {
        Subrecords::new(Bytes::from_static(payload), compression).collect()
    }

    #[test]
    fn literal_running_past_the_end() {
        let results = collect(b"\x01a\x05abc", false);
        assert_eq!(results.len(), 2);
        let error = results[1].clone().unwrap_err();
        assert_eq!(error.offset, 4);
        assert_eq!(error.field, "SUBRECORD");
        assert_eq!(error.expected, Expected::Length(5));
        assert_eq!(error.found, Found::Length(3));
        assert_eq!(error.reason, EsidReason::COMMAND_CONTAINED_INVALID_DATA);
    }

    #[test]
    fn compressed_without_its_octet() {
        let results = collect(b"\x00\x45", true);
        let error = results[1].clone().unwrap_err();
        assert_eq!(error.offset, 3);
        assert_eq!(error.found, Found::End);
        assert_eq!(error.reason, EsidReason::COMMAND_CONTAINED_INVALID_DATA);
    }

    #[test]
    fn compression_not_negotiated() {
        let results = collect(b"\x80\x45x", false);
        assert_eq!(results.len(), 2);
        let error = results[1].clone().unwrap_err();
        assert_eq!(error.offset, 2);
        assert_eq!(error.field, "HDR");
        assert_eq!(error.found, Found::Octets(vec![0x45]));
        assert_eq!(collect(b"\x80\x45x", true).len(), 2);
    }

    #[test]
    fn zero_length_subrecords_and_empty_payloads() {
        assert!(collect(b"", false).is_empty());
        let results = collect(b"\x00\x80\x40z", true);
        let data: Vec<_> = results.into_iter().map(|r| r.unwrap()).collect();
        assert_eq!(data.len(), 3);
        assert!(data.iter().all(|s| s.data.is_empty()));
        assert!(data[1].end_of_record());
        assert_eq!(data[2].data, SubrecordData::Repeated { octet: b'z', count: 0 });
    }

    #[test]
    fn literal_slices_share_the_payload() {
        let payload =
            Bytes::from(b"\x03abc\x3F".iter().copied().chain([7; 63]).collect::<Vec<_>>());
        let subrecords: Vec<_> =
            Subrecords::new(payload.clone(), false).map(|r| r.unwrap()).collect();
        let SubrecordData::Literal(first) = &subrecords[0].data else { panic!() };
        assert_eq!(first.as_ptr(), payload[1..].as_ptr());
        assert_eq!(subrecords[1].data.len(), 63);
    }

    #[test]
    fn expansion_stops_at_the_error() {
        let mut out = Vec::new();
        let error = expand_into(b"\x02ab\xC5", true, &mut out).unwrap_err();
        assert_eq!(out, b"ab");
        assert_eq!(error.offset, 5);
    }

    #[test]
    fn payload_needs_the_command_octet() {
        assert_eq!(data_payload(&Bytes::new()).unwrap_err().found, Found::End);
        assert_eq!(data_payload(&Bytes::from_static(b"D")).unwrap(), Bytes::new());
    }
}
