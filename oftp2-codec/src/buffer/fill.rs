//! Packing record data into Data Exchange Buffers (§7.3).

use std::collections::VecDeque;

use bytes::{BufMut, Bytes, BytesMut};

use super::compress::{find_run_of, run_length, MIN_RUN_RANGE};
use super::decode::DATA_COMMAND;
use super::header::SubrecordHeader;
use crate::fields::BufferSize;

const MAX_COUNT: usize = SubrecordHeader::MAX_COUNT as usize;

/// About how much memory one allocation holds: the buffers handed out share it, so a
/// long file of small buffers costs one allocation per this many octets, not one per
/// buffer.
const ALLOCATION: usize = 256 * 1024;

/// The subrecord that ends the current buffer, when more octets may still go into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Open {
    /// Nothing can be added to the last subrecord.
    Closed,
    /// An uncompressed subrecord that may take more octets.
    Literal,
    /// A compressed subrecord of this octet whose count may grow.
    Repeated(u8),
}

/// Packs record data into DATA Data Exchange Buffers of at most the negotiated size.
///
/// Data is written with [`write`](Self::write) and records are closed with
/// [`end_record`](Self::end_record), which sets the End of Record flag on the last
/// subrecord of the record (or writes a zero-length subrecord with it for an empty
/// record). Finished buffers, each starting with the command octet `D`, come out of
/// [`pop_buffer`](Self::pop_buffer); [`flush`](Self::flush) closes the buffer being
/// filled.
///
/// The filler follows strategy 2 of §7.3: when a subrecord does not fit the space left,
/// it is split, filling the buffer to the octet. Buffers are never longer than
/// SSIDSDEB and never empty (every buffer holds at least one subrecord). With buffer
/// compression, every run of at least [`min_run`](Self::min_run) identical octets goes
/// as compressed subrecords of up to 63 octets each, also when the run is longer than
/// 63 octets or crosses a buffer boundary.
///
/// The output does not depend on how the data is cut into `write` calls: the last
/// subrecord of a buffer grows while it can, and up to `min_run - 1` identical octets
/// at the end of a write are held back until the next write shows whether they start
/// a run. Uncompressed data is copied once, from the caller's slice into the buffer.
///
/// ```
/// use oftp2_codec::buffer::BufferFiller;
/// use oftp2_codec::fields::BufferSize;
///
/// let mut filler = BufferFiller::new(BufferSize::new(128)?, true);
/// filler.write(b"ABC");
/// filler.write(&[b' '; 100]);
/// filler.end_record();
/// filler.flush();
/// let buffer = filler.pop_buffer().unwrap();
/// // 'D', 3 literal octets, then 100 spaces as 63 + 37 compressed, End of Record.
/// assert_eq!(&buffer[..], b"D\x03ABC\x7F \xE5 ");
/// assert_eq!(filler.pop_buffer(), None);
/// # Ok::<(), oftp2_codec::fields::OutOfRange>(())
/// ```
#[derive(Debug)]
pub struct BufferFiller {
    size: usize,
    compression: bool,
    min_run: u8,
    /// The buffer being filled (empty when none is), always at the start of `buf`.
    buf: BytesMut,
    /// Position in `buf` of the header of the last subrecord of the current record.
    last_header: Option<usize>,
    open: Open,
    /// Identical octets held back at the end of the last write: (octet, how many).
    pending: Option<(u8, u8)>,
    ready: VecDeque<Bytes>,
    octets: u64,
    buffers: u64,
}

impl BufferFiller {
    /// Runs shorter than this go uncompressed unless set otherwise with
    /// [`set_min_run`](Self::set_min_run). A compressed subrecord takes 2 octets and
    /// splits the uncompressed subrecord around it, costing a header, so a run of 3
    /// saves nothing and a run of 4 saves one octet.
    pub const DEFAULT_MIN_RUN: u8 = 4;

    /// A filler for buffers of at most `size` octets (SSIDSDEB, the command octet
    /// included), compressing runs when `compression` was negotiated (both SSIDCMPR
    /// `Y`).
    pub fn new(size: BufferSize, compression: bool) -> Self {
        Self {
            size: size.octets(),
            compression,
            min_run: Self::DEFAULT_MIN_RUN,
            buf: BytesMut::new(),
            last_header: None,
            open: Open::Closed,
            pending: None,
            ready: VecDeque::new(),
            octets: 0,
            buffers: 0,
        }
    }

    /// Sets the shortest run that is compressed, clamped to 3..=8.
    pub fn set_min_run(&mut self, min_run: u8) {
        self.min_run = min_run.clamp(*MIN_RUN_RANGE.start(), *MIN_RUN_RANGE.end());
    }

    /// The shortest run of identical octets that is compressed.
    pub fn min_run(&self) -> u8 {
        self.min_run
    }

    /// The largest buffer this filler makes, in octets (SSIDSDEB).
    pub fn buffer_size(&self) -> usize {
        self.size
    }

    /// Whether runs are compressed.
    pub fn compression(&self) -> bool {
        self.compression
    }

    /// Octets of Virtual File data written so far (before compression).
    pub fn octets(&self) -> u64 {
        self.octets
    }

    /// Buffers finished so far (popped or not).
    pub fn buffers_finished(&self) -> u64 {
        self.buffers
    }

    /// Appends `data` to the current record.
    pub fn write(&mut self, data: &[u8]) {
        self.octets += data.len() as u64;
        if self.compression {
            match self.min_run {
                0..=3 => self.write_compressing::<3>(data),
                4 => self.write_compressing::<4>(data),
                5 => self.write_compressing::<5>(data),
                6 => self.write_compressing::<6>(data),
                7 => self.write_compressing::<7>(data),
                _ => self.write_compressing::<8>(data),
            }
        } else {
            self.put_literal(data);
        }
    }

    /// Ends the current record: the End of Record flag goes on its last subrecord, or
    /// on a zero-length subrecord when the record is empty.
    pub fn end_record(&mut self) {
        self.flush_pending();
        match self.last_header.and_then(|pos| self.buf.get_mut(pos)) {
            Some(header) => *header |= SubrecordHeader::END_OF_RECORD,
            None => {
                self.ensure_space(1);
                self.buf.put_u8(SubrecordHeader::END_OF_RECORD);
            }
        }
        self.last_header = None;
        self.open = Open::Closed;
    }

    /// Writes `record` as one whole record.
    pub fn write_record(&mut self, record: &[u8]) {
        self.write(record);
        self.end_record();
    }

    /// Closes the buffer being filled, if it holds anything, so that
    /// [`pop_buffer`](Self::pop_buffer) hands it out. Call it at the end of the file.
    ///
    /// Flushing in the middle of a record is allowed: if the record then ends with no
    /// more data, its End of Record flag goes on a zero-length subrecord.
    pub fn flush(&mut self) {
        self.flush_pending();
        self.release();
    }

    /// The next finished buffer (command octet `D` included), oldest first.
    pub fn pop_buffer(&mut self) -> Option<Bytes> {
        self.ready.pop_front()
    }

    /// How many finished buffers wait in [`pop_buffer`](Self::pop_buffer).
    pub fn ready_buffers(&self) -> usize {
        self.ready.len()
    }

    /// Takes the finished buffers, oldest first.
    pub fn drain_buffers(&mut self) -> impl Iterator<Item = Bytes> + '_ {
        self.ready.drain(..)
    }

    fn release(&mut self) {
        if !self.buf.is_empty() {
            self.ready.push_back(self.buf.split().freeze());
            self.buffers += 1;
        }
        self.last_header = None;
        self.open = Open::Closed;
    }

    /// Makes sure the current buffer has room for `needed` more octets, starting a new
    /// buffer when it has not.
    #[inline]
    fn ensure_space(&mut self, needed: usize) {
        if self.buf.is_empty() || self.size - self.buf.len() < needed {
            self.release();
            if self.buf.capacity() < self.size {
                // Reclaims the allocation in place once every buffer cut from it has
                // been dropped; allocates otherwise.
                self.buf.reserve(self.size.max(ALLOCATION / self.size * self.size));
            }
            self.buf.put_u8(DATA_COMMAND);
        }
    }

    #[inline]
    fn header_count(&self) -> usize {
        self.last_header
            .and_then(|pos| self.buf.get(pos))
            .map_or(MAX_COUNT, |&octet| usize::from(octet & SubrecordHeader::COUNT_MASK))
    }

    #[inline]
    fn add_to_count(&mut self, added: usize) {
        if let Some(header) = self.last_header.and_then(|pos| self.buf.get_mut(pos)) {
            // `added` keeps the count within 63: callers take it from the room left.
            *header += added as u8;
        }
    }

    #[inline]
    fn put_literal(&mut self, mut data: &[u8]) {
        if data.is_empty() {
            return;
        }
        if self.open == Open::Literal {
            let room = (MAX_COUNT - self.header_count()).min(self.size - self.buf.len());
            let (now, rest) = data.split_at(room.min(data.len()));
            self.buf.extend_from_slice(now);
            self.add_to_count(now.len());
            data = rest;
        }
        while !data.is_empty() {
            self.ensure_space(2);
            // Full subrecords while they fit in the buffer: a constant-length copy each.
            let fit = (self.size - self.buf.len()) / (1 + MAX_COUNT);
            let full = fit.min(data.len() / MAX_COUNT);
            if full > 0 {
                let (now, rest) = data.split_at(full * MAX_COUNT);
                for chunk in now.chunks_exact(MAX_COUNT) {
                    self.buf.put_u8(MAX_COUNT as u8);
                    if let Ok(chunk) = <&[u8; MAX_COUNT]>::try_from(chunk) {
                        self.buf.extend_from_slice(chunk);
                    }
                }
                self.last_header = Some(self.buf.len() - 1 - MAX_COUNT);
                self.open = Open::Literal;
                data = rest;
                continue;
            }
            let room = MAX_COUNT.min(self.size - self.buf.len() - 1);
            let (now, rest) = data.split_at(room.min(data.len()));
            self.last_header = Some(self.buf.len());
            self.buf.put_u8(now.len() as u8);
            self.buf.extend_from_slice(now);
            self.open = Open::Literal;
            data = rest;
        }
    }

    #[inline]
    fn put_run(&mut self, octet: u8, mut count: usize) {
        if self.open == Open::Repeated(octet) {
            let added = (MAX_COUNT - self.header_count()).min(count);
            self.add_to_count(added);
            count -= added;
        }
        while count > 0 {
            self.ensure_space(2);
            let now = MAX_COUNT.min(count);
            self.last_header = Some(self.buf.len());
            self.buf.put_u8(SubrecordHeader::COMPRESSED | now as u8);
            self.buf.put_u8(octet);
            self.open = Open::Repeated(octet);
            count -= now;
        }
    }

    fn flush_pending(&mut self) {
        if let Some((octet, count)) = self.pending.take() {
            let held = [octet; 8];
            self.put_literal(held.get(..usize::from(count)).unwrap_or_default());
        }
    }

    fn write_compressing<const MIN: usize>(&mut self, mut data: &[u8]) {
        let min_run = MIN;
        // Octets that continue what the last write ended with.
        if let Some((octet, held)) = self.pending {
            let leading = leading(data, octet);
            let total = usize::from(held) + leading;
            if leading == data.len() && total < min_run {
                self.pending = Some((octet, total as u8));
                return;
            }
            if total >= min_run {
                self.pending = None;
                self.put_run(octet, total);
                data = data.get(leading..).unwrap_or_default();
            } else {
                self.flush_pending();
            }
        } else if let Open::Repeated(octet) = self.open {
            let leading = leading(data, octet);
            self.put_run(octet, leading);
            data = data.get(leading..).unwrap_or_default();
        }
        let mut literal_start = 0;
        while let Some((start, len)) = find_run_of::<MIN>(data, literal_start) {
            self.put_literal(data.get(literal_start..start).unwrap_or_default());
            if let Some(&octet) = data.get(start) {
                self.put_run(octet, len);
            }
            literal_start = start + len;
        }
        let tail = data.get(literal_start..).unwrap_or_default();
        if let Some(&last) = tail.last() {
            // The tail holds no run of `min_run`, so its last run is shorter.
            let held = tail.iter().rev().take_while(|&&b| b == last).count();
            self.put_literal(tail.get(..tail.len() - held).unwrap_or_default());
            self.pending = Some((last, held as u8));
        }
    }
}

/// How many times `octet` opens `data`.
#[inline]
fn leading(data: &[u8], octet: u8) -> usize {
    match data.first() {
        Some(&first) if first == octet => run_length(data, 0),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::buffer::expand_into;

    fn filler(size: u32, compression: bool) -> BufferFiller {
        BufferFiller::new(BufferSize::new(u64::from(size)).unwrap(), compression)
    }

    fn all_buffers(filler: &mut BufferFiller) -> Vec<Bytes> {
        filler.flush();
        filler.drain_buffers().collect()
    }

    fn expand(buffers: &[Bytes], compression: bool) -> Vec<u8> {
        let mut out = Vec::new();
        for buffer in buffers {
            assert_eq!(buffer[0], b'D');
            expand_into(&buffer[1..], compression, &mut out).unwrap();
        }
        out
    }

    #[test]
    fn fills_each_buffer_to_the_octet() {
        let mut f = filler(128, false);
        let data: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
        f.write_record(&data);
        let buffers = all_buffers(&mut f);
        assert!(buffers[..buffers.len() - 1].iter().all(|b| b.len() == 128));
        assert_eq!(expand(&buffers, false), data);
        // 'D' + 63-octet subrecord + header + 62 octets.
        assert_eq!(buffers[0][1], 63);
        assert_eq!(buffers[0][65], 62);
        let last = buffers.last().unwrap();
        let mut headers = Vec::new();
        let mut pos = 1;
        while pos < last.len() {
            headers.push(last[pos]);
            pos += 1 + usize::from(last[pos] & 0x3F);
        }
        assert!(headers.last().unwrap() & 0x80 != 0);
        assert!(headers[..headers.len() - 1].iter().all(|h| h & 0x80 == 0));
    }

    #[test]
    fn empty_record_is_a_zero_length_subrecord_with_end_of_record() {
        let mut f = filler(128, true);
        f.end_record();
        f.write_record(b"x");
        assert_eq!(all_buffers(&mut f), vec![Bytes::from_static(b"D\x80\x81x")]);
    }

    #[test]
    fn end_of_record_after_a_flush_goes_on_an_empty_subrecord() {
        let mut f = filler(128, false);
        f.write(b"ab");
        f.flush();
        f.end_record();
        assert_eq!(
            all_buffers(&mut f),
            vec![Bytes::from_static(b"D\x02ab"), Bytes::from_static(b"D\x80")]
        );
    }

    #[test]
    fn one_octet_left_starts_a_new_buffer() {
        let mut f = filler(128, false);
        // 'D' + (1 + 63) + (1 + 61) = 127 octets: one left, too little for a subrecord.
        f.write_record(&[b'a'; 124]);
        f.write_record(b"b");
        let buffers = all_buffers(&mut f);
        assert_eq!(buffers.len(), 2);
        assert_eq!(buffers[0].len(), 127);
        assert_eq!(&buffers[1][..], b"D\x81b");
    }

    #[test]
    fn long_runs_are_split_into_63s() {
        let mut f = filler(128, true);
        f.write_record(&[0u8; 1000]);
        let buffers = all_buffers(&mut f);
        // 15 × 63 + 55 = 1000, 2 octets each: 32 octets after the 'D'.
        assert_eq!(buffers.len(), 1);
        assert_eq!(buffers[0].len(), 33);
        assert_eq!(buffers[0][1], 0x7F);
        assert_eq!(buffers[0][31], 0x80 | 0x40 | 55);
        assert_eq!(expand(&buffers, true), vec![0u8; 1000]);
    }

    #[test]
    fn short_runs_stay_literal() {
        let mut f = filler(128, true);
        f.write_record(b"aaabbbbc");
        assert_eq!(all_buffers(&mut f), vec![Bytes::from_static(b"D\x03aaa\x44b\x81c")]);
    }

    #[test]
    fn output_does_not_depend_on_chunking() {
        let data: Vec<u8> =
            b"xyzab".iter().chain(&[b'b'; 70]).chain(b"qq").chain(&[b'r'; 3]).copied().collect();
        let mut whole = filler(128, true);
        whole.write_record(&data);
        let expected = all_buffers(&mut whole);
        for chunk in 1..data.len() {
            let mut f = filler(128, true);
            for piece in data.chunks(chunk) {
                f.write(piece);
            }
            f.end_record();
            assert_eq!(all_buffers(&mut f), expected, "chunk {chunk}");
        }
    }

    #[test]
    fn min_run_is_clamped() {
        let mut f = filler(128, true);
        f.set_min_run(1);
        assert_eq!(f.min_run(), 3);
        f.set_min_run(200);
        assert_eq!(f.min_run(), 8);
    }
}
