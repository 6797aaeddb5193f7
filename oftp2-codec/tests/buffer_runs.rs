//! Runs of identical octets around buffer boundaries: lengths 62, 63, 64, 127, 128 and
//! 1000, starting at every offset near the end of a buffer, compressed and not.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // test helpers

use bytes::Bytes;
use oftp2_codec::buffer::{expand_into, BufferFiller, SubrecordData, Subrecords};
use oftp2_codec::fields::BufferSize;

const RUNS: [usize; 6] = [62, 63, 64, 127, 128, 1000];

/// Octets that never repeat their neighbour and are never `0x5A`.
fn varied(len: usize) -> Vec<u8> {
    (0..len).map(|i| b"abcdefgh"[i % 8]).collect()
}

fn fill(data: &[u8], size: u32, compression: bool, chunk: usize) -> Vec<Bytes> {
    let mut filler = BufferFiller::new(BufferSize::new(u64::from(size)).unwrap(), compression);
    for piece in data.chunks(chunk.max(1)) {
        filler.write(piece);
    }
    filler.end_record();
    filler.flush();
    filler.drain_buffers().collect()
}

struct Decoded {
    octets: Vec<u8>,
    /// Octets that came from literal subrecords equal to the run octet.
    literal_run_octets: usize,
    compressed_subrecords: usize,
    ends: usize,
}

fn decode(buffers: &[Bytes], compression: bool) -> Decoded {
    let mut decoded =
        Decoded { octets: Vec::new(), literal_run_octets: 0, compressed_subrecords: 0, ends: 0 };
    for buffer in buffers {
        for subrecord in Subrecords::new(buffer.slice(1..), compression) {
            let subrecord = subrecord.unwrap();
            decoded.ends += usize::from(subrecord.end_of_record());
            match &subrecord.data {
                SubrecordData::Literal(octets) => {
                    decoded.literal_run_octets += octets.iter().filter(|&&o| o == 0x5A).count();
                }
                SubrecordData::Repeated { octet, count } => {
                    assert_eq!(*octet, 0x5A);
                    assert!(*count > 0 && *count <= 63);
                    decoded.compressed_subrecords += 1;
                }
            }
            subrecord.data.expand_into(&mut decoded.octets);
        }
    }
    decoded
}

#[test]
fn runs_at_and_across_buffer_boundaries() {
    for size in [128u32, 200] {
        for run in RUNS {
            // Offsets that put the run's start from well before to after the end of
            // the first buffer.
            for before in (size as usize - 70)..(size as usize + 10) {
                let mut data = varied(before);
                data.extend(std::iter::repeat_n(0x5A, run));
                data.extend(varied(50));
                for compression in [false, true] {
                    for chunk in [data.len(), 1, 61, 64] {
                        let buffers = fill(&data, size, compression, chunk);
                        for buffer in &buffers {
                            assert!(buffer.len() <= size as usize && buffer.len() >= 2);
                        }
                        let decoded = decode(&buffers, compression);
                        assert_eq!(decoded.octets, data, "size {size} run {run} before {before}");
                        assert_eq!(decoded.ends, 1);
                        if compression {
                            // The whole run is compressed, in as few subrecords as the
                            // 63-octet count allows.
                            assert_eq!(decoded.literal_run_octets, 0, "run {run} before {before}");
                            assert_eq!(decoded.compressed_subrecords, run.div_ceil(63));
                        } else {
                            assert_eq!(decoded.literal_run_octets, run);
                            assert_eq!(decoded.compressed_subrecords, 0);
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn a_run_that_fills_buffers_exactly() {
    // Size 128: 'D' + 63 compressed subrecords of 2 octets = 127: a run of 63 × 63
    // octets fills one buffer to 127 octets, and the 64th subrecord starts a new one.
    let data = vec![0x5Au8; 63 * 64];
    let buffers = fill(&data, 128, true, data.len());
    assert_eq!(buffers.len(), 2);
    assert_eq!(buffers[0].len(), 127);
    assert_eq!(&buffers[1][..], &[b'D', 0x80 | 0x40 | 63, 0x5A]);
    let mut out = Vec::new();
    for buffer in &buffers {
        expand_into(&buffer[1..], true, &mut out).unwrap();
    }
    assert_eq!(out, data);
}

#[test]
fn compression_shrinks_edi_padding() {
    let mut record = b"LIN+1++4711:IN'QTY+12:100'".to_vec();
    record.resize(200, b' ');
    let data = record.repeat(100);
    let plain: usize = fill(&data, 2048, false, data.len()).iter().map(Bytes::len).sum();
    let packed: usize = fill(&data, 2048, true, data.len()).iter().map(Bytes::len).sum();
    assert!(packed * 3 < plain, "{packed} vs {plain}");
}
