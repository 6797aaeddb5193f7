//! Record formats end to end: an arbitrary file, format, record length, buffer size,
//! compression and chunking through `FileEncoder` and `FileDecoder`. Asserts that the
//! file comes back octet for octet, that both sides count the same records and octets
//! (and EFID's check passes), that no buffer is empty or over the negotiated size, and
//! that the buffers do not depend on the chunking.
#![no_main]

use arbitrary::Arbitrary;
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use oftp2_codec::fields::{BufferSize, RecordLength};
use oftp2_codec::record::{
    length_prefix, Counts, FileDecoder, FileEncoder, FileSettings, TextLines,
};

#[derive(Debug, Arbitrary)]
struct Input {
    format: u8,
    record_length: u16,
    size: u32,
    compression: bool,
    min_run: u8,
    cuts: Vec<u16>,
    data: Vec<u8>,
}

/// The settings, the local file, the caller's records (V without prefixes) and what
/// the receiver rebuilds.
fn file(input: &Input) -> (FileSettings, Vec<u8>, Option<Vec<Vec<u8>>>, Vec<u8>) {
    let mut data = input.data.clone();
    match input.format % 6 {
        0 => {
            let length = 1 + usize::from(input.record_length) % 300;
            data.truncate(data.len() / length * length);
            let settings = FileSettings::fixed(RecordLength::new(length as u64).expect("5 digits"));
            (settings, data.clone(), None, data)
        }
        format @ (1 | 2) => {
            let max = 1 + usize::from(input.record_length) % 1000;
            // Records cut from the data at the cut points, each at most `max` long.
            let mut records = Vec::new();
            let mut rest = &data[..];
            for &cut in &input.cuts {
                let (record, later) = rest.split_at((usize::from(cut) % (max + 1)).min(rest.len()));
                records.push(record.to_vec());
                rest = later;
            }
            let settings = FileSettings::variable(RecordLength::new(max as u64).expect("5 digits"));
            let octets: Vec<u8> = records.concat();
            if format == 1 {
                (settings, octets.clone(), Some(records), octets)
            } else {
                let prefixed: Vec<u8> = records
                    .iter()
                    .flat_map(|r| {
                        length_prefix(r.len()).expect("short").into_iter().chain(r.iter().copied())
                    })
                    .collect();
                (settings.with_length_prefixes(true), prefixed.clone(), None, prefixed)
            }
        }
        3 => (FileSettings::unstructured(), data.clone(), None, data),
        4 => (FileSettings::text(TextLines::KeepCrLf), data.clone(), None, data),
        _ => {
            let mut received = data.clone();
            if !received.is_empty() && !received.ends_with(b"\r\n") {
                received.extend_from_slice(b"\r\n");
            }
            (FileSettings::text(TextLines::RecordPerLine), data, None, received)
        }
    }
}

fn encode(
    input: &Input,
    settings: FileSettings,
    size: BufferSize,
    local: &[u8],
    records: Option<&Vec<Vec<u8>>>,
    chunked: bool,
) -> (Vec<Bytes>, Counts) {
    let mut encoder = FileEncoder::new(settings, size, input.compression).expect("valid settings");
    encoder.filler_mut().set_min_run(input.min_run);
    let mut buffers = Vec::new();
    match records {
        Some(records) => {
            for record in records {
                let cut = if chunked { record.len() / 2 } else { 0 };
                encoder.push(&record[..cut]).expect("fits");
                encoder.push(&record[cut..]).expect("fits");
                encoder.end_record().expect("V");
                buffers.extend(encoder.drain_buffers());
            }
        }
        None => {
            let mut rest = local;
            if chunked {
                for &cut in &input.cuts {
                    let (now, later) = rest.split_at(usize::from(cut) % (rest.len() + 1));
                    encoder.push(now).expect("fits");
                    buffers.extend(encoder.drain_buffers());
                    rest = later;
                }
            }
            encoder.push(rest).expect("fits");
        }
    }
    let counts = encoder.finish().expect("a well-formed file");
    buffers.extend(encoder.drain_buffers());
    (buffers, counts)
}

fuzz_target!(|input: Input| {
    let (settings, local, records, received) = file(&input);
    let size = BufferSize::new(128 + u64::from(input.size) % (99_999 - 127)).expect("in range");
    let (buffers, counts) = encode(&input, settings, size, &local, records.as_ref(), true);
    for buffer in &buffers {
        assert!(buffer.len() >= 2 && buffer.len() <= size.octets());
        assert_eq!(buffer[0], b'D');
    }
    let (whole, whole_counts) = encode(&input, settings, size, &local, records.as_ref(), false);
    assert_eq!(whole, buffers, "buffers depend on the chunking");
    assert_eq!(whole_counts, counts);

    let mut decoder = FileDecoder::new(settings, input.compression).expect("valid settings");
    let mut rebuilt = Vec::new();
    for buffer in &buffers {
        rebuilt.extend_from_slice(&decoder.push(buffer).expect("our buffers decode"));
    }
    let (efid_records, units) = counts.efid(settings.format);
    let got = decoder.finish(efid_records, units).expect("counts match");
    assert_eq!(got, counts);
    assert_eq!(rebuilt, received);
    if let Some(records) = &records {
        assert_eq!(counts.records, records.len() as u64);
    }
});
