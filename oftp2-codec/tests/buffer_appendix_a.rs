//! RFC 5024 Appendix A: a T format file mapped into a Data Exchange Buffer.
//!
//! The exchange buffer below is the RFC's, row by row: each ASCII row (non-printable
//! octets shown as `?` or `.`) is followed by the high and the low nibble of every
//! octet. The example is one buffer of 821 octets: `D`, twelve subrecords of 63
//! literal octets (header `0x3F`) and one of 51 with End of Record (header `0xB3`),
//! 807 octets of text in all, CR LF kept in the data, the file sent as one record.
//! Any SSIDSDEB of at least 821 gives this buffer.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // test helpers

use bytes::Bytes;
use oftp2_codec::buffer::{SubrecordData, Subrecords};
use oftp2_codec::fields::{BufferSize, RecordFormat};
use oftp2_codec::record::{file_size, FileDecoder, FileEncoder, FileSettings, TextLines};

/// The Exchange Buffer of Appendix A, as printed: ASCII row, high nibbles, low nibbles.
const APPENDIX_A: &str = r#"
    D?It is an ancient Mariner,..And he stoppeth one of three..."By
    4347267266266666672467666720046626627767767626662662767662002472
    4F9409301E01E395E40D129E52CDA1E4085034F005480FE50F6048255EDA2290

    t?hy long grey beard and glittering eye,..Now wherefore stopp'st
    7367266662676726667626662666776766626762004672766766676277677277
    4F890CFE70725902512401E407C944529E70595CDAEF70785256F25034F00734

     ?thou me?...."The Bridegroom's doors are opened wide,..And I am
    2376672663000025662476666766627266677267626766662766620046624266
    0F48F50D5FDADA248502294572FFD7304FF2301250F05E5407945CDA1E40901D

     ?next of kin;..The guests are met, the feast is set:..May'st he
    2366772662666300566267677726762667227662666772672767300467277266
    0FE5840F60B9EBDA485075534301250D54C04850651340930354ADAD19734085

    a?r the merry din."....He holds him with his skinny hand,.."Ther
    6372766266777266622000046266667266627676266727666672666620025667
    1F204850D5229049EE2DADA8508FC43089D07948089303B9EE9081E4CDA24852

    e? was a ship," quoth he..."Hold off! unhand me, grey-beard loon
    6327672627667222776762662002466626662276666626622676726667626666
    5F07130103890C2015F48085EDA28FC40F66105E81E40D5C07259D251240CFFE

    !?"..Eftsoons his hand dropt he.....He holds him with his glitte
    2320046776667266726666267677266200004626666726662767626672666776
    1F2DA5643FFE30893081E4042F04085EDADA8508FC43089D07948089307C9445

    r?ing eye--..The Wedding-Guest stood still,..And listens like a
    7366626762200566256666662476772776662776662004662667766726666262
    2F9E70595DDDA485075449E7D75534034FF40349CCCDA1E40C9345E30C9B5010

    t?hree years; child:..The Mariner hath his will.....The Wedding-
    7367662766773266666300566246766672667626672766620000566256666662
    4F8255095123B0389C4ADA4850D129E52081480893079CCEDADA485075449E7D

    G?uest sat on a stone:..He cannot chuse but hear;..And thus spak
    4376772767266262776663004626666672667762677266673004662767727766
    7F553403140FE01034FE5ADA85031EEF4038535025408512BDA1E4048530301B

    e? on that ancient man,..The bright-eyed Mariner.....The ship wa
    6326627667266666672666200566267666726766246766672000056627667276
    5F0FE0481401E395E40D1ECDA4850229784D59540D129E52EDADA48503890071

    s? cheered, the harbour cleared,..Merrily did we drop..Below the
    7326666766227662667667726666766200467766726662762676700466672766
    3F03855254C048508122F5203C51254CDAD5229C90494075042F0DA25CF70485

     .kirk, below the hill,..Below the light-house top...
    2B667622666672766266662004666727662666672667762767200
    03B92BC025CF70485089CCCDA25CF704850C9784D8F53504F0EDA
"#;

/// The poem, each line as printed before the buffer.
const POEM: &[&str] = &[
    "It is an ancient Mariner,",
    "And he stoppeth one of three.",
    "\"By thy long grey beard and glittering eye,",
    "Now wherefore stopp'st thou me?",
    "",
    "\"The Bridegroom's doors are opened wide,",
    "And I am next of kin;",
    "The guests are met, the feast is set:",
    "May'st hear the merry din.\"",
    "",
    "He holds him with his skinny hand,",
    "\"There was a ship,\" quoth he.",
    "\"Hold off! unhand me, grey-beard loon!\"",
    "Eftsoons his hand dropt he.",
    "",
    "He holds him with his glittering eye--",
    "The Wedding-Guest stood still,",
    "And listens like a three years; child:",
    "The Mariner hath his will.",
    "",
    "The Wedding-Guest sat on a stone:",
    "He cannot chuse but hear;",
    "And thus spake on that ancient man,",
    "The bright-eyed Mariner.",
    "",
    "The ship was cheered, the harbour cleared,",
    "Merrily did we drop",
    "Below the kirk, below the hill,",
    "Below the light-house top.",
];

fn appendix_a_buffer() -> Vec<u8> {
    let rows: Vec<&str> = APPENDIX_A
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| l.strip_prefix("    ").unwrap())
        .collect();
    assert_eq!(rows.len() % 3, 0);
    let mut octets = Vec::new();
    for row in rows.chunks(3) {
        let (ascii, high, low) = (row[0].as_bytes(), row[1].as_bytes(), row[2].as_bytes());
        assert_eq!(high.len(), low.len());
        for (k, (&h, &l)) in high.iter().zip(low).enumerate() {
            let nibble = |c: u8| (c as char).to_digit(16).unwrap() as u8;
            let octet = nibble(h) << 4 | nibble(l);
            // The ASCII row shows the printable octets themselves.
            if (0x21..0x7F).contains(&octet) {
                assert_eq!(ascii[k], octet, "row {ascii:?} column {k}");
            }
            octets.push(octet);
        }
    }
    octets
}

fn poem() -> Vec<u8> {
    let mut text = Vec::new();
    for line in POEM {
        text.extend_from_slice(line.as_bytes());
        text.extend_from_slice(b"\r\n");
    }
    text
}

fn encode(settings: FileSettings, size: u32, compression: bool, chunk: usize) -> Vec<Bytes> {
    let mut encoder =
        FileEncoder::new(settings, BufferSize::new(u64::from(size)).unwrap(), compression).unwrap();
    for piece in poem().chunks(chunk) {
        encoder.push(piece).unwrap();
    }
    let counts = encoder.finish().unwrap();
    assert_eq!(counts.octets, 807);
    encoder.drain_buffers().collect()
}

fn decode(settings: FileSettings, buffers: &[Bytes], compression: bool) -> Vec<u8> {
    let mut decoder = FileDecoder::new(settings, compression).unwrap();
    let mut file = Vec::new();
    for buffer in buffers {
        file.extend_from_slice(&decoder.push(buffer).unwrap());
    }
    let (records, units) = decoder.counts().efid(RecordFormat::Text);
    decoder.finish(records, units).unwrap();
    file
}

#[test]
fn the_buffer_has_the_layout_the_rfc_describes() {
    let buffer = appendix_a_buffer();
    assert_eq!(buffer.len(), 821);
    assert_eq!(buffer[0], b'D');
    let buffer = Bytes::from(buffer);
    let subrecords: Vec<_> =
        Subrecords::new(buffer.slice(1..), false).collect::<Result<_, _>>().unwrap();
    assert_eq!(subrecords.len(), 13);
    for subrecord in &subrecords[..12] {
        assert_eq!(subrecord.header.octet(), 0x3F);
    }
    assert_eq!(subrecords[12].header.octet(), 0xB3);
    assert!(subrecords.iter().all(|s| matches!(s.data, SubrecordData::Literal(_))));
}

#[test]
fn decoding_the_rfc_buffer_gives_the_poem_with_cr_lf() {
    let buffer = Bytes::from(appendix_a_buffer());
    let settings = FileSettings::text(TextLines::KeepCrLf);
    for compression in [false, true] {
        let file = decode(settings, std::slice::from_ref(&buffer), compression);
        assert_eq!(file, poem());
    }
    assert_eq!(file_size(807).get(), 1);
}

#[test]
fn our_encoder_reproduces_the_rfc_octets() {
    let expected = appendix_a_buffer();
    let settings = FileSettings::text(TextLines::KeepCrLf);
    for size in [821, 1024, 4096, 99_999] {
        for compression in [false, true] {
            for chunk in [1, 2, 7, 63, 64, 807] {
                let buffers = encode(settings, size, compression, chunk);
                assert_eq!(buffers.len(), 1, "size {size}");
                assert_eq!(
                    &buffers[0][..],
                    &expected[..],
                    "size {size} compression {compression} chunk {chunk}"
                );
            }
        }
    }
}

#[test]
fn smaller_buffers_split_the_same_file() {
    let settings = FileSettings::text(TextLines::KeepCrLf);
    for size in [128, 500, 820] {
        for compression in [false, true] {
            let buffers = encode(settings, size, compression, 100);
            assert!(buffers.len() > 1);
            assert!(buffers.iter().all(|b| b.len() <= size as usize && b.len() > 1));
            assert_eq!(decode(settings, &buffers, compression), poem());
        }
    }
}

#[test]
fn one_record_per_line_decodes_to_the_same_file() {
    let settings = FileSettings::text(TextLines::RecordPerLine);
    let buffers = encode(settings, 821, false, 807);
    // 32 lines as 32 records: headers only for their ends, no CR LF octets.
    let mut decoder = FileDecoder::new(settings, false).unwrap();
    let file: Vec<u8> = buffers.iter().flat_map(|b| decoder.push(b).unwrap().to_vec()).collect();
    assert_eq!(decoder.counts().records, POEM.len() as u64);
    assert_eq!(file, poem());
    // The one-record reading of the RFC buffer is not the per-line one.
    assert_ne!(&buffers[0][..], &appendix_a_buffer()[..]);
}
