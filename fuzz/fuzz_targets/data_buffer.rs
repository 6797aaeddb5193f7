//! DATA payload decoding: never a panic; the zero-copy iterator and `expand_into` agree;
//! errors point inside the buffer; whatever decodes re-encodes (through `BufferFiller`,
//! into buffers of an arbitrary size) to buffers that decode to the same octets with
//! the same record ends, none of them empty or over the size; `FileDecoder` of every
//! format takes the same payload without panicking, and as a U file exactly when at
//! most the last subrecord ends a record.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use oftp2_codec::buffer::{expand_into, BufferFiller, Subrecords};
use oftp2_codec::fields::{BufferSize, RecordLength};
use oftp2_codec::record::{FileDecoder, FileSettings, RecordError, TextLines};

/// The octets a run of subrecords stands for, the offsets at which records end, and
/// whether any subrecord follows the first End of Record.
fn expansion(payload: Bytes, compression: bool) -> Result<(Vec<u8>, Vec<usize>, bool), usize> {
    let mut octets = Vec::new();
    let mut ends = Vec::new();
    let mut after_end = false;
    for subrecord in Subrecords::new(payload, compression) {
        let subrecord = subrecord.map_err(|e| e.offset)?;
        after_end |= !ends.is_empty();
        subrecord.data.expand_into(&mut octets);
        if subrecord.end_of_record() {
            ends.push(octets.len());
        }
    }
    Ok((octets, ends, after_end))
}

fuzz_target!(|input: (bool, u32, u8, &[u8])| {
    let (compression, size, min_run, payload) = input;
    let payload = Bytes::copy_from_slice(payload);
    let mut flat = Vec::new();
    let flat_result = expand_into(&payload, compression, &mut flat);
    let mut buffer = vec![b'D'];
    buffer.extend_from_slice(&payload);
    for settings in [
        FileSettings::fixed(RecordLength::new(1 + u64::from(min_run)).expect("small")),
        FileSettings::variable(RecordLength::new(1 + u64::from(min_run)).expect("small")),
        FileSettings::variable(RecordLength::new(99_999).expect("5 digits"))
            .with_length_prefixes(true),
        FileSettings::text(TextLines::RecordPerLine),
        FileSettings::text(TextLines::KeepCrLf),
    ] {
        let mut decoder = FileDecoder::new(settings, compression).expect("valid settings");
        if let Ok(out) = decoder.push(&buffer) {
            assert!(out.len() as u64 <= decoder.counts().octets + 2 * decoder.counts().records);
        }
    }
    let u_file = FileDecoder::new(FileSettings::unstructured(), compression)
        .expect("valid settings")
        .push(&buffer);
    let (octets, ends, after_end) = match expansion(payload.clone(), compression) {
        Ok(decoded) => decoded,
        Err(offset) => {
            // Offsets count from the 'D': at most one past the last payload octet.
            assert!(offset <= payload.len() + 1);
            assert_eq!(flat_result.map_err(|e| e.offset), Err(offset));
            return;
        }
    };
    let summary = flat_result.expect("expand_into agrees with the iterator");
    match u_file {
        Ok(file) => {
            assert!(!after_end);
            assert_eq!(&file[..], &octets[..]);
        }
        Err(RecordError::DataAfterEndOfFile { octets: at }) => {
            assert!(after_end);
            assert_eq!(at, ends[0] as u64);
        }
        Err(other) => panic!("a well-formed payload fails as a U file: {other}"),
    }
    assert_eq!(flat, octets);
    assert_eq!(summary.octets, octets.len());
    assert_eq!(summary.records_ended, ends.len());

    // Re-encode: the records as they were, the last one left open if it was.
    let size = BufferSize::new(128 + u64::from(size) % (99_999 - 127)).expect("in range");
    let mut filler = BufferFiller::new(size, compression);
    filler.set_min_run(min_run);
    let mut start = 0;
    for &end in &ends {
        filler.write(&octets[start..end]);
        filler.end_record();
        start = end;
    }
    filler.write(&octets[start..]);
    filler.flush();
    let mut again = Vec::new();
    let mut again_ends = Vec::new();
    for buffer in filler.drain_buffers() {
        assert!(buffer.len() >= 2 && buffer.len() <= size.octets());
        assert_eq!(buffer[0], b'D');
        let (part, part_ends, _) =
            expansion(buffer.slice(1..), compression).expect("our buffers decode");
        again_ends.extend(part_ends.into_iter().map(|end| end + again.len()));
        again.extend_from_slice(&part);
    }
    assert_eq!(again, octets);
    assert_eq!(again_ends, ends);
});
