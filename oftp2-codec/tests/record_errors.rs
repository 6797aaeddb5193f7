//! Record structure errors on both sides, count mismatches and malformed DATA buffers,
//! with the answer a Listener gives.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // test helpers

use oftp2_codec::error::{Expected, Found};
use oftp2_codec::fields::{BufferSize, RecordCount, RecordLength, RestartPosition, UnitCount};
use oftp2_codec::reason::{EfnaReason, EsidReason};
use oftp2_codec::record::{
    CountMismatch, FileDecoder, FileEncoder, FileSettings, RecordError, TextLines,
};

fn size() -> BufferSize {
    BufferSize::new(128).unwrap()
}

fn length(n: u64) -> RecordLength {
    RecordLength::new(n).unwrap()
}

fn counts(records: u64, units: u64) -> (RecordCount, UnitCount) {
    (RecordCount::new(records).unwrap(), UnitCount::new(units).unwrap())
}

#[test]
fn settings_need_a_record_length_for_f_and_v() {
    for settings in [FileSettings::fixed(length(0)), FileSettings::variable(length(0))] {
        assert!(matches!(
            FileEncoder::new(settings, size(), false),
            Err(RecordError::InvalidSettings(_))
        ));
        assert!(matches!(FileDecoder::new(settings, false), Err(RecordError::InvalidSettings(_))));
    }
}

#[test]
fn an_f_file_must_be_whole_records() {
    let mut encoder = FileEncoder::new(FileSettings::fixed(length(10)), size(), false).unwrap();
    encoder.push(&[b'x'; 25]).unwrap();
    let error = encoder.finish().unwrap_err();
    assert_eq!(error, RecordError::WrongFixedLength { record: 3, length: 5, expected: 10 });
    assert_eq!(error.to_string(), "record 3 is 5 octet(s) long, but F format records are 10");
}

#[test]
fn received_f_records_must_have_the_record_length() {
    let settings = FileSettings::fixed(length(3));
    // Too short: End of Record after 2 octets of the second record.
    let mut decoder = FileDecoder::new(settings, false).unwrap();
    let error = decoder.push(b"D\x83abc\x82de").unwrap_err();
    assert_eq!(error, RecordError::WrongFixedLength { record: 2, length: 2, expected: 3 });
    assert_eq!(error.efna_reason(), Some(EfnaReason::RECORD_LENGTH_NOT_SUPPORTED));
    // Too long, across buffers.
    let mut decoder = FileDecoder::new(settings, false).unwrap();
    decoder.push(b"D\x02ab").unwrap();
    let error = decoder.push(b"D\x82cd").unwrap_err();
    assert_eq!(error, RecordError::WrongFixedLength { record: 1, length: 4, expected: 3 });
}

#[test]
fn v_records_longer_than_sfidlrecl() {
    let settings = FileSettings::variable(length(4));
    let mut encoder = FileEncoder::new(settings, size(), false).unwrap();
    encoder.push_record(b"abcd").unwrap();
    encoder.push(b"abc").unwrap();
    let error = encoder.push(b"de").unwrap_err();
    assert_eq!(error, RecordError::RecordTooLong { record: 2, length: 5, max: 4 });

    let prefixed = settings.with_length_prefixes(true);
    let mut encoder = FileEncoder::new(prefixed, size(), false).unwrap();
    let error = encoder.push(b"\x00\x02ab\x00\x05abcde").unwrap_err();
    assert_eq!(error, RecordError::RecordTooLong { record: 2, length: 5, max: 4 });

    let mut decoder = FileDecoder::new(settings, false).unwrap();
    let error = decoder.push(b"D\x84abcd\x05abcde").unwrap_err();
    assert_eq!(error, RecordError::RecordTooLong { record: 2, length: 5, max: 4 });
    assert_eq!(error.efna_reason(), Some(EfnaReason::RECORD_LENGTH_NOT_SUPPORTED));
}

#[test]
fn prefixed_input_must_end_between_records() {
    let settings = FileSettings::variable(length(100)).with_length_prefixes(true);
    let mut encoder = FileEncoder::new(settings, size(), false).unwrap();
    encoder.push(b"\x00\x03abc\x00").unwrap();
    assert_eq!(encoder.finish(), Err(RecordError::TruncatedLengthPrefix { record: 2 }));
    let mut encoder = FileEncoder::new(settings, size(), false).unwrap();
    encoder.push(b"\x00\x03ab").unwrap();
    assert_eq!(encoder.finish(), Err(RecordError::UnterminatedRecord { record: 1, length: 2 }));
}

#[test]
fn prefixes_cannot_hold_records_over_65535() {
    let settings = FileSettings::variable(length(99_999)).with_length_prefixes(true);
    let mut decoder = FileDecoder::new(settings, true).unwrap();
    // 1041 compressed subrecords of 63 = 65,583 octets, then End of Record.
    let mut buffer = vec![b'D'];
    for _ in 0..1041 {
        buffer.extend_from_slice(&[0x7F, b'x']);
    }
    buffer.extend_from_slice(&[0x80]);
    let error = decoder.push(&buffer[..]).unwrap_err();
    assert_eq!(error, RecordError::PrefixOverflow { record: 1, length: 65_583 });
}

#[test]
fn nothing_may_follow_the_end_of_a_u_file() {
    for settings in [FileSettings::unstructured(), FileSettings::text(TextLines::KeepCrLf)] {
        let mut decoder = FileDecoder::new(settings, false).unwrap();
        decoder.push(b"D\x82ab").unwrap();
        let error = decoder.push(b"D\x01c").unwrap_err();
        assert_eq!(error, RecordError::DataAfterEndOfFile { octets: 2 });
        assert_eq!(error.efna_reason(), Some(EfnaReason::INVALID_BYTE_COUNT));
    }
}

#[test]
fn the_last_record_must_be_ended() {
    for settings in [
        FileSettings::fixed(length(2)),
        FileSettings::variable(length(4)),
        FileSettings::text(TextLines::RecordPerLine),
    ] {
        let mut decoder = FileDecoder::new(settings, false).unwrap();
        decoder.push(b"D\x82ab\x02cd").unwrap();
        let (records, units) = counts(1, 4);
        let error = decoder.finish(records, units).unwrap_err();
        assert!(
            matches!(error, RecordError::UnterminatedRecord { record: 2, length: 2 }),
            "{error:?}"
        );
        assert_eq!(error.efna_reason(), Some(EfnaReason::INVALID_RECORD_COUNT));
    }
    // A U file without its End of Record is accepted (the counts still check it).
    let mut decoder = FileDecoder::new(FileSettings::unstructured(), false).unwrap();
    decoder.push(b"D\x02ab").unwrap();
    let (records, units) = counts(0, 2);
    assert_eq!(decoder.finish(records, units).unwrap().octets, 2);
}

#[test]
fn count_mismatches_name_efna_10_and_11() {
    let mut decoder = FileDecoder::new(FileSettings::variable(length(10)), false).unwrap();
    decoder.push(b"D\x82ab\x83cde").unwrap();
    let (records, units) = counts(3, 5);
    let error = decoder.finish(records, units).unwrap_err();
    assert_eq!(
        error,
        RecordError::Count(CountMismatch {
            field: "EFIDRCNT",
            announced: 3,
            counted: 2,
            reason: EfnaReason::INVALID_RECORD_COUNT
        })
    );
    assert_eq!(error.efna_reason(), Some(EfnaReason::INVALID_RECORD_COUNT));
    let (records, units) = counts(2, 6);
    let error = decoder.finish(records, units).unwrap_err();
    assert_eq!(error.efna_reason(), Some(EfnaReason::INVALID_BYTE_COUNT));
    assert_eq!(
        error.to_string(),
        "EFIDUCNT announces 6 but 5 were received (answer: EFNA 11 Invalid byte count)"
    );
    let (records, units) = counts(2, 5);
    assert!(decoder.finish(records, units).is_ok());
}

#[test]
fn per_line_text_counts_with_or_without_line_ends() {
    let settings = FileSettings::text(TextLines::RecordPerLine);
    let mut decoder = FileDecoder::new(settings, false).unwrap();
    decoder.push(b"D\x82ab\x83cde").unwrap();
    // 9 with CR LF, 5 without; some partners send a line count.
    for units in [9, 5] {
        let (records, units) = counts(2, units);
        assert!(decoder.finish(records, units).is_ok());
    }
    let (records, units) = counts(0, 7);
    assert!(decoder.finish(records, units).is_err());
}

#[test]
fn malformed_buffers_end_the_session() {
    let mut decoder = FileDecoder::new(FileSettings::unstructured(), false).unwrap();
    let error = decoder.push(b"D\x05ab").unwrap_err();
    assert_eq!(error.esid_reason(), Some(EsidReason::COMMAND_CONTAINED_INVALID_DATA));
    assert_eq!(error.efna_reason(), None);
    let RecordError::Buffer(malformed) = error else { panic!() };
    assert_eq!((malformed.offset, malformed.found), (2, Found::Length(2)));
    assert_eq!(malformed.expected, Expected::Length(5));

    let error = decoder.push(b"D\x45a").unwrap_err();
    assert_eq!(error.esid_reason(), Some(EsidReason::COMMAND_CONTAINED_INVALID_DATA));
    let error = decoder.push(b"Cxx").unwrap_err();
    assert_eq!(error.esid_reason(), Some(EsidReason::COMMAND_NOT_RECOGNISED));
    let error = decoder.push(b"").unwrap_err();
    assert_eq!(error.esid_reason(), Some(EsidReason::COMMAND_NOT_RECOGNISED));
}

#[test]
fn misuse_is_reported() {
    let mut encoder = FileEncoder::new(FileSettings::unstructured(), size(), false).unwrap();
    assert!(matches!(encoder.end_record(), Err(RecordError::Misuse(_))));
    encoder.finish().unwrap();
    assert!(matches!(encoder.push(b"x"), Err(RecordError::Misuse(_))));
    // A restart point beyond the end of the file.
    let mut encoder = FileEncoder::new(FileSettings::unstructured(), size(), false)
        .unwrap()
        .skip_to(RestartPosition::new(2).unwrap());
    encoder.push(&[0; 1500]).unwrap();
    assert!(matches!(encoder.finish(), Err(RecordError::Misuse(_))));
}

#[test]
fn per_line_restart_between_cr_and_lf() {
    // The receiver kept 1024 octets, the last one a CR; the rest starts with the LF.
    let mut text = vec![b'a'; 1023];
    text.extend_from_slice(b"\r\nnext line\r\n");
    let settings = FileSettings::text(TextLines::RecordPerLine);
    for skip in [false, true] {
        let mut encoder = FileEncoder::new(settings, size(), false).unwrap();
        if skip {
            encoder = encoder.skip_to(RestartPosition::new(1).unwrap());
            encoder.push(&text).unwrap();
        } else {
            encoder =
                encoder.resume_from(settings.counts_at(RestartPosition::new(1).unwrap()).unwrap());
            encoder.push(&text[1024..]).unwrap();
        }
        let sent = encoder.finish().unwrap();
        assert_eq!(sent.octets, text.len() as u64);
        let mut decoder = FileDecoder::new(settings, false)
            .unwrap()
            .resume_from(settings.counts_at(RestartPosition::new(1).unwrap()).unwrap());
        let mut rebuilt = text[..1024].to_vec();
        for buffer in encoder.drain_buffers() {
            rebuilt.extend_from_slice(&decoder.push(&buffer).unwrap());
        }
        let (records, units) = sent.efid(settings.format);
        decoder.finish(records, units).unwrap();
        assert_eq!(rebuilt, text);
    }
}
