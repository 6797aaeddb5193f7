//! Property tests: every record format, buffer sizes 128..=99999, compression on and
//! off, arbitrary chunking of the input, through `FileEncoder` and `FileDecoder`.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // test helpers

use bytes::Bytes;
use oftp2_codec::fields::{BufferSize, RecordFormat, RecordLength, RestartPosition};
use oftp2_codec::record::{
    length_prefix, Counts, FileDecoder, FileEncoder, FileSettings, TextLines,
};
use proptest::prelude::*;

/// A file to send and how its local form looks.
#[derive(Debug, Clone)]
enum File {
    Fixed { length: u64, records: Vec<Vec<u8>> },
    Variable { max: u64, records: Vec<Vec<u8>>, prefixed: bool },
    Unstructured(Vec<u8>),
    Text { lines: TextLines, text: Vec<u8> },
}

impl File {
    fn settings(&self) -> FileSettings {
        match self {
            File::Fixed { length, .. } => FileSettings::fixed(RecordLength::new(*length).unwrap()),
            File::Variable { max, prefixed, .. } => {
                FileSettings::variable(RecordLength::new(*max).unwrap())
                    .with_length_prefixes(*prefixed)
            }
            File::Unstructured(_) => FileSettings::unstructured(),
            File::Text { lines, .. } => FileSettings::text(*lines),
        }
    }

    /// The file's local octets.
    fn octets(&self) -> Vec<u8> {
        match self {
            File::Fixed { records, .. } => records.concat(),
            File::Variable { records, prefixed: true, .. } => records
                .iter()
                .flat_map(|r| length_prefix(r.len()).unwrap().into_iter().chain(r.iter().copied()))
                .collect(),
            File::Variable { records, .. } => records.concat(),
            File::Unstructured(octets) => octets.clone(),
            File::Text { text, .. } => text.clone(),
        }
    }

    /// What the receiver rebuilds: the same, except that a T file sent per line gets
    /// CR LF after a last line that had none.
    fn received(&self) -> Vec<u8> {
        let mut octets = self.octets();
        if let File::Text { lines: TextLines::RecordPerLine, .. } = self {
            if !octets.is_empty() && !octets.ends_with(b"\r\n") {
                octets.extend_from_slice(b"\r\n");
            }
        }
        octets
    }

    fn record_count(&self) -> u64 {
        match self {
            File::Fixed { records, .. } | File::Variable { records, .. } => records.len() as u64,
            File::Unstructured(_) | File::Text { .. } => 0,
        }
    }
}

/// Octets with runs: random octets and runs of one octet up to 200 long.
fn runny(max_pieces: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            prop::collection::vec(any::<u8>(), 1..20),
            (any::<u8>(), 1usize..200).prop_map(|(octet, n)| vec![octet; n]),
            (prop::sample::select(vec![b' ', b'0', b'\r', b'\n']), 1usize..80)
                .prop_map(|(octet, n)| vec![octet; n]),
        ],
        0..max_pieces,
    )
    .prop_map(|pieces| pieces.concat())
}

fn text_line() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(prop::sample::select(b"ABC+:'? 0\r\n".to_vec()), 0..100),
        (prop::sample::select(vec![b' ', b'0']), 0usize..300).prop_map(|(o, n)| vec![o; n]),
    ]
}

fn file() -> impl Strategy<Value = File> {
    prop_oneof![
        (1u64..=300, 0usize..40).prop_flat_map(|(length, n)| {
            prop::collection::vec(runny(6), n).prop_map(move |raw| File::Fixed {
                length,
                records: raw
                    .into_iter()
                    .map(|mut r| {
                        r.resize(length as usize, b'#');
                        r
                    })
                    .collect(),
            })
        }),
        (1u64..=1000, any::<bool>()).prop_flat_map(|(max, prefixed)| {
            prop::collection::vec(runny(6), 0..40).prop_map(move |raw| File::Variable {
                max,
                prefixed,
                records: raw
                    .into_iter()
                    .map(|mut r| {
                        r.truncate(max as usize);
                        r
                    })
                    .collect(),
            })
        }),
        runny(60).prop_map(File::Unstructured),
        (
            prop_oneof![Just(TextLines::KeepCrLf), Just(TextLines::RecordPerLine)],
            prop::collection::vec(text_line(), 0..30),
            any::<bool>()
        )
            .prop_map(|(lines, body, final_crlf)| {
                let mut text = body.join(&b"\r\n"[..]);
                if final_crlf && !text.is_empty() {
                    text.extend_from_slice(b"\r\n");
                }
                File::Text { lines, text }
            }),
    ]
}

fn buffer_size() -> impl Strategy<Value = BufferSize> {
    prop_oneof![128u64..=300, 128u64..=99_999].prop_map(|size| BufferSize::new(size).unwrap())
}

/// Feeds `octets` cut at `cuts` (taken modulo what is left).
fn feed(encoder: &mut FileEncoder, file: &File, cuts: &[usize]) {
    if let File::Variable { records, prefixed: false, .. } = file {
        for (i, record) in records.iter().enumerate() {
            let cut = cuts.get(i).map_or(0, |c| c % (record.len() + 1));
            encoder.push(&record[..cut]).unwrap();
            encoder.push(&record[cut..]).unwrap();
            encoder.end_record().unwrap();
        }
        return;
    }
    let octets = file.octets();
    let mut rest = &octets[..];
    for &cut in cuts {
        let (now, later) = rest.split_at(cut % (rest.len() + 1));
        encoder.push(now).unwrap();
        rest = later;
    }
    encoder.push(rest).unwrap();
}

fn encode(
    file: &File,
    size: BufferSize,
    compression: bool,
    cuts: &[usize],
) -> (Vec<Bytes>, Counts) {
    let mut encoder = FileEncoder::new(file.settings(), size, compression).unwrap();
    feed(&mut encoder, file, cuts);
    let counts = encoder.finish().unwrap();
    (encoder.drain_buffers().collect(), counts)
}

fn decode(file: &File, buffers: &[Bytes], compression: bool, counts: Counts) -> Vec<u8> {
    let mut decoder = FileDecoder::new(file.settings(), compression).unwrap();
    let mut out = Vec::new();
    for buffer in buffers {
        out.extend_from_slice(&decoder.push(buffer).unwrap());
    }
    let (records, units) = counts.efid(file.settings().format);
    let received = decoder.finish(records, units).unwrap();
    assert_eq!(received, counts);
    out
}

fn check_buffers(buffers: &[Bytes], size: BufferSize) {
    for buffer in buffers {
        assert!(buffer.len() <= size.octets(), "buffer of {} > {}", buffer.len(), size.octets());
        assert!(buffer.len() >= 2, "empty buffer");
        assert_eq!(buffer[0], b'D');
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn files_survive_the_round_trip(
        file in file(),
        size in buffer_size(),
        compression in any::<bool>(),
        cuts in prop::collection::vec(any::<usize>(), 0..12),
    ) {
        let (buffers, counts) = encode(&file, size, compression, &cuts);
        check_buffers(&buffers, size);
        let received = file.received();
        prop_assert_eq!(counts.records, match file.settings().format {
            RecordFormat::Text if file.settings().record_per_line() => counts.records,
            _ => file.record_count(),
        });
        let user_octets = match &file {
            File::Variable { records, .. } => records.iter().map(Vec::len).sum::<usize>(),
            _ => received.len(),
        };
        prop_assert_eq!(counts.octets, user_octets as u64);
        let decoded = decode(&file, &buffers, compression, counts);
        prop_assert_eq!(decoded, received);

        // The buffers do not depend on how the input was cut.
        let (whole, _) = encode(&file, size, compression, &[]);
        prop_assert_eq!(whole, buffers);
    }

    #[test]
    fn restarts_resume_where_the_receiver_stopped(
        file in file(),
        size in buffer_size(),
        compression in any::<bool>(),
        position in 0u64..8,
        seek in any::<bool>(),
    ) {
        let settings = file.settings();
        let local = file.octets();
        let received = file.received();
        let (records, octets_before, local_offset) = match &file {
            File::Fixed { length, records } => {
                let n = position.min(records.len() as u64);
                (n, n * length, (n * length) as usize)
            }
            File::Variable { records, prefixed, .. } => {
                let n = position.min(records.len() as u64) as usize;
                let data: usize = records[..n].iter().map(Vec::len).sum();
                let local = if *prefixed { data + 2 * n } else { data };
                (n as u64, data as u64, local)
            }
            File::Unstructured(_) | File::Text { .. } => {
                let blocks = position.min(local.len() as u64 / 1024);
                (0, blocks * 1024, (blocks * 1024) as usize)
            }
        };
        let restart = RestartPosition::new(match settings.format {
            RecordFormat::Fixed | RecordFormat::Variable => records,
            _ => octets_before / 1024,
        }).unwrap();
        let start = Counts { records, octets: octets_before };
        let mut encoder = FileEncoder::new(settings, size, compression).unwrap();
        if seek {
            if let Some(at) = settings.counts_at(restart) {
                prop_assert_eq!(at, start);
            }
            encoder = encoder.resume_from(start);
            match &file {
                File::Variable { records: all, prefixed: false, .. } => {
                    for record in &all[records as usize..] {
                        encoder.push_record(record).unwrap();
                    }
                }
                _ => encoder.push(&local[local_offset..]).unwrap(),
            }
        } else {
            encoder = encoder.skip_to(restart);
            feed(&mut encoder, &file, &[]);
        }
        let counts = encoder.finish().unwrap();
        let buffers: Vec<Bytes> = encoder.drain_buffers().collect();
        check_buffers(&buffers, size);

        let mut decoder = FileDecoder::new(settings, compression).unwrap().resume_from(start);
        let mut rebuilt = match &file {
            File::Variable { prefixed: false, .. } => file.octets()[..octets_before as usize].to_vec(),
            _ => received[..local_offset].to_vec(),
        };
        for buffer in &buffers {
            rebuilt.extend_from_slice(&decoder.push(buffer).unwrap());
        }
        let (efid_records, units) = counts.efid(settings.format);
        decoder.finish(efid_records, units).unwrap();
        prop_assert_eq!(rebuilt, received);
    }
}
