//! One negative test for every kind of malformed field: each names the field, its offset
//! and the ESID reason a session answers with.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a panic is a failure

use bytes::Bytes;
use oftp2_codec::reason::EsidReason;
use oftp2_codec::{Command, DecodeError, ProtocolLevel};

const ORIG: &[u8] = b"O0013000000000000001     ";

fn ssid_with(pos: usize, replacement: &[u8]) -> Vec<u8> {
    let mut octets = [b"X5".as_slice(), ORIG, b"SECRET  02048BYYN007N    user    \r"].concat();
    octets.splice(pos..pos + replacement.len(), replacement.iter().copied());
    octets
}

fn sfid_with(pos: usize, replacement: &[u8]) -> Vec<u8> {
    let mut octets = [
        b"HORDERS                    ".as_slice(),
        b"   202611231430050001        ",
        ORIG,
        ORIG,
        b"U00000",
        b"0000000000012",
        b"0000000000012",
        b"00000000000000000",
        b"000000",
        b"N000",
    ]
    .concat();
    assert_eq!(octets.len(), 165);
    octets.splice(pos..pos + replacement.len(), replacement.iter().copied());
    octets
}

#[track_caller]
fn malformed(level: ProtocolLevel, octets: &[u8], field: &str, offset: usize, reason: EsidReason) {
    let err = Command::from_exchange_buffer(Bytes::copy_from_slice(octets), level)
        .expect_err("must not decode");
    assert_eq!((err.field, err.offset, err.reason), (field, offset, reason), "{err}");
    // The message names what was wrong, where, and the answer.
    let message = err.to_string();
    assert!(message.contains(field) && message.contains(&format!("offset {offset}")), "{message}");
}

const INVALID: EsidReason = EsidReason::COMMAND_CONTAINED_INVALID_DATA;
const SIZE: EsidReason = EsidReason::EXCHANGE_BUFFER_SIZE_ERROR;
const V2: ProtocolLevel = ProtocolLevel::V2_0;

#[test]
fn the_baselines_decode() {
    Command::from_exchange_buffer(ssid_with(0, b"X").into(), V2).unwrap();
    Command::from_exchange_buffer(sfid_with(0, b"H").into(), V2).unwrap();
}

#[test]
fn unknown_command_code() {
    malformed(V2, b"Z", "command code", 0, EsidReason::COMMAND_NOT_RECOGNISED);
    malformed(V2, b"\x00abc", "command code", 0, EsidReason::COMMAND_NOT_RECOGNISED);
}

#[test]
fn buffer_shorter_or_longer_than_its_command() {
    malformed(V2, b"X5O0013", "length", 7, SIZE);
    malformed(V2, b"RR", "length", 1, SIZE);
    malformed(V2, b"4YN", "length", 2, SIZE);
    malformed(V2, b"C ", "length", 2, SIZE);
    // A text length pointing past the end of the buffer.
    malformed(V2, b"313Y050short", "length", 12, SIZE);
    // A binary length pointing past the end.
    malformed(V2, b"A\x01\x00abc", "length", 6, SIZE);
}

#[test]
fn fixed_literals() {
    malformed(V2, b"IODETTE FTP READY!\r", "SSRMMSG", 1, INVALID);
    malformed(V2, b"IODETTE FTP READY \n", "SSRMCR", 18, INVALID);
}

#[test]
fn numeric_fields() {
    malformed(V2, &ssid_with(1, b"x"), "SSIDLEV", 1, INVALID);
    malformed(V2, &ssid_with(35, b"0204A"), "SSIDSDEB", 35, INVALID);
    malformed(V2, &ssid_with(35, b"00127"), "SSIDSDEB", 35, INVALID);
    malformed(V2, &ssid_with(44, b"000"), "SSIDCRED", 44, INVALID);
    malformed(V2, &ssid_with(44, b" 07"), "SSIDCRED", 44, INVALID);
    malformed(V2, b"2000000000000000-1", "SFPAACNT", 1, INVALID);
    malformed(V2, b"T0000000000000000300000000000000 40", "EFIDUCNT", 18, INVALID);
    malformed(V2, b"3AAN000", "SFNAREAS", 1, INVALID);
}

#[test]
fn enumerations_and_flags() {
    malformed(V2, &ssid_with(40, b"X"), "SSIDSR", 40, INVALID);
    malformed(V2, &ssid_with(41, b"y"), "SSIDCMPR", 41, INVALID);
    malformed(V2, &ssid_with(47, b"?"), "SSIDAUTH", 47, INVALID);
    malformed(V2, &sfid_with(106, b"X"), "SFIDFMT", 106, INVALID);
    malformed(V2, &sfid_with(155, b"04"), "SFIDSEC", 155, INVALID);
    malformed(V2, &sfid_with(159, b"2"), "SFIDCOMP", 159, INVALID);
    malformed(V2, &sfid_with(160, b"9"), "SFIDENV", 160, INVALID);
    malformed(V2, &sfid_with(161, b"J"), "SFIDSIGN", 161, INVALID);
    malformed(V2, b"4 ", "EFPACD", 1, INVALID);
}

#[test]
fn strings_and_identification_codes() {
    malformed(V2, &ssid_with(2, b" O0013"), "SSIDCODE", 2, INVALID);
    malformed(V2, &ssid_with(2, b"o"), "SSIDCODE", 2, INVALID);
    malformed(V2, &ssid_with(27, b"SE RET"), "SSIDPSWD", 27, INVALID);
    malformed(V2, &ssid_with(27, b"secret"), "SSIDPSWD", 27, INVALID);
    malformed(V2, &ssid_with(52, b"\x01"), "SSIDUSER", 52, INVALID);
    malformed(V2, &sfid_with(1, b"orders"), "SFIDDSN", 1, INVALID);
    malformed(V2, &sfid_with(1, b"OR DERS"), "SFIDDSN", 1, INVALID);
    malformed(V2, &sfid_with(56, b"                         "), "SFIDDEST", 56, INVALID);
}

#[test]
fn dates_and_times() {
    malformed(V2, &sfid_with(30, b"20261301"), "SFIDDATE", 30, INVALID);
    malformed(V2, &sfid_with(30, b"20230229"), "SFIDDATE", 30, INVALID);
    malformed(V2, &sfid_with(38, b"2400000001"), "SFIDTIME", 38, INVALID);
    malformed(V2, &sfid_with(38, b"1260000001"), "SFIDTIME", 38, INVALID);
}

#[test]
fn texts() {
    malformed(V2, b"313Y002\xC3\x28", "SFNAREAST", 7, INVALID);
    malformed(V2, b"F00002\xFF\xFE\r", "ESIDREAST", 6, INVALID);
    malformed(V2, b"F00000X", "ESIDCR", 6, INVALID);
}

#[test]
fn streaming_decode_tells_incomplete_from_malformed() {
    let ssid = ssid_with(0, b"X");
    for cut in 0..ssid.len() {
        assert!(matches!(
            Command::decode(&ssid[..cut], V2),
            Err(DecodeError::Incomplete { needed }) if needed >= 1
        ));
    }
    // Malformed as soon as a bad field has arrived, even though the rest has not.
    let bad = ssid_with(1, b"x");
    assert!(matches!(Command::decode(&bad[..2], V2), Err(DecodeError::Malformed(_))));
    assert_eq!(Command::decode(&ssid, V2).unwrap().1, 61);
}

#[test]
fn decode_is_total_on_every_prefix_and_mutation() {
    let samples: Vec<Vec<u8>> = vec![
        ssid_with(0, b"X"),
        sfid_with(0, b"H"),
        b"F04016Invalid password\r".to_vec(),
        b"N".to_vec(),
        b"A\xFF\xFF".to_vec(),
    ];
    for sample in samples {
        for cut in 0..=sample.len() {
            for level in [ProtocolLevel::V1_2, ProtocolLevel::V1_4, V2] {
                let _ =
                    Command::from_exchange_buffer(Bytes::copy_from_slice(&sample[..cut]), level);
            }
        }
        for pos in 0..sample.len() {
            for octet in [0x00, b' ', b'0', b'9', b'A', b'\r', 0x8D, 0xFF] {
                let mut mutated = sample.clone();
                mutated[pos] = octet;
                if let Ok(command) = Command::from_exchange_buffer(Bytes::from(mutated.clone()), V2)
                {
                    // Whatever decodes, re-encodes to the same octets, up to the leniencies.
                    let again = command.to_bytes(V2).unwrap();
                    let redecoded = Command::from_exchange_buffer(again, V2).unwrap();
                    assert_eq!(redecoded, command);
                }
            }
        }
    }
}
