//! Known-answer tables: exact octets <-> typed commands, at each protocol level, checked
//! decode -> encode -> decode.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a panic is a failure

use bytes::Bytes;
use oftp2_codec::command::*;
use oftp2_codec::fields::*;
use oftp2_codec::reason::*;
use oftp2_codec::{Command, ProtocolLevel};

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

fn id(code: &str) -> OdetteId {
    code.parse().unwrap()
}

const ORIG: &[u8; 25] = b"O0013000000000000001     ";
const DEST: &[u8; 25] = b"O094200002021000969PRDINT";

/// Checks that `octets` decode to `command` at `level`, that `command` encodes to exactly
/// `octets`, and that decoding from a stream reports the same length.
#[track_caller]
fn known_answer(level: ProtocolLevel, octets: &[u8], command: Command) {
    let decoded = Command::from_exchange_buffer(Bytes::copy_from_slice(octets), level)
        .unwrap_or_else(|e| panic!("decoding {:?}: {e}", String::from_utf8_lossy(octets)));
    assert_eq!(decoded, command, "decoded value at level {level}");
    assert_eq!(command.encoded_len(level), octets.len(), "encoded_len at level {level}");
    let encoded = command.to_bytes(level).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&encoded),
        String::from_utf8_lossy(octets),
        "encoding at level {level}"
    );
    assert_eq!(&encoded[..], octets);
    let (again, used) = Command::decode(&encoded, level).unwrap();
    assert_eq!(again, command);
    assert_eq!(used, octets.len());
    for cut in 0..octets.len() {
        if command.code() == CommandCode::Data {
            break;
        }
        match Command::decode(&octets[..cut], level) {
            Err(oftp2_codec::DecodeError::Incomplete { needed }) => assert!(needed >= 1),
            other => panic!("a prefix of {cut} octets decoded to {other:?}"),
        }
    }
}

fn ssid(level: ProtocolLevel, auth: bool) -> Command {
    Command::Ssid(Ssid {
        level,
        code: id("O0013000000000000001"),
        password: "SECRET".parse().unwrap(),
        buffer_size: BufferSize::new(2048).unwrap(),
        send_receive: SendReceive::Both,
        compression: true,
        restart: true,
        special_logic: false,
        credit: Credit::new(7).unwrap(),
        secure_authentication: auth,
        user_data: UserData::new("user").unwrap(),
    })
}

#[test]
fn ssrm() {
    for level in [ProtocolLevel::V1_2, ProtocolLevel::V1_4, ProtocolLevel::V2_0] {
        known_answer(level, b"IODETTE FTP READY \r", Command::Ssrm(Ssrm));
    }
    // 0x8D is accepted as CR; 0x0D is what is written.
    let lenient = Command::from_exchange_buffer(
        Bytes::from_static(b"IODETTE FTP READY \x8D"),
        ProtocolLevel::V2_0,
    );
    assert_eq!(lenient.unwrap(), Command::Ssrm(Ssrm));
}

#[test]
fn ssid_at_each_level() {
    let v2 = cat(&[b"X5", ORIG, b"SECRET  02048BYYN007Y    user    \r"]);
    assert_eq!(v2.len(), 61);
    known_answer(ProtocolLevel::V2_0, &v2, ssid(ProtocolLevel::V2_0, true));
    let v2_no_auth = cat(&[b"X5", ORIG, b"SECRET  02048BYYN007N    user    \r"]);
    known_answer(ProtocolLevel::V2_0, &v2_no_auth, ssid(ProtocolLevel::V2_0, false));
    // 1.4 and 1.3: SSIDRSV1 is five octets and there is no SSIDAUTH. The layout follows the
    // SSID's own SSIDLEV, whatever level the decoder was given.
    let v14 = cat(&[b"X4", ORIG, b"SECRET  02048BYYN007     user    \r"]);
    known_answer(ProtocolLevel::V2_0, &v14, ssid(ProtocolLevel::V1_4, false));
    let v13 = cat(&[b"X1", ORIG, b"SECRET  02048BYYN007     user    \r"]);
    known_answer(ProtocolLevel::V1_2, &v13, ssid(ProtocolLevel::V1_2, false));
    assert!(ssid(ProtocolLevel::V1_4, true).to_bytes(ProtocolLevel::V2_0).is_err());
}

fn sfid() -> Sfid {
    Sfid {
        dataset_name: "ORDERS.DELFOR".parse().unwrap(),
        date: VirtualFileDate::new(2026, 11, 23).unwrap(),
        time: VirtualFileTime::new(14, 30, 5, 1).unwrap(),
        user_data: UserData::EMPTY,
        destination: OdetteId::new(std::str::from_utf8(DEST).unwrap()).unwrap(),
        originator: OdetteId::new(std::str::from_utf8(ORIG).unwrap()).unwrap(),
        format: RecordFormat::Fixed,
        max_record_length: RecordLength::new(80).unwrap(),
        file_size: FileSize::new(12).unwrap(),
        original_file_size: FileSize::new(12).unwrap(),
        restart_position: RestartPosition::new(0).unwrap(),
        security_level: SecurityLevel::None,
        cipher_suite: CipherSuite::NONE,
        compression: FileCompression::None,
        enveloping: FileEnveloping::None,
        signed_eerp_request: false,
        description: Utf8Text::empty(),
    }
}

#[test]
fn sfid_v20() {
    let mut value = sfid();
    value.description = Utf8Text::new("Lieferabruf für Werk 3").unwrap();
    value.security_level = SecurityLevel::EncryptedAndSigned;
    value.cipher_suite = CipherSuite::AES256_RSA_SHA256;
    value.compression = FileCompression::Zlib;
    value.enveloping = FileEnveloping::Cms;
    value.signed_eerp_request = true;
    value.original_file_size = FileSize::new(40).unwrap();
    value.restart_position = RestartPosition::new(17).unwrap();
    let octets = cat(&[
        b"HORDERS.DELFOR                20261123",
        b"1430050001",
        b"        ",
        DEST,
        ORIG,
        b"F00080",
        b"0000000000012",
        b"0000000000040",
        b"00000000000000017",
        b"0304",
        b"11Y",
        b"023",
        "Lieferabruf für Werk 3".as_bytes(),
    ]);
    assert_eq!(octets.len(), 165 + 23);
    known_answer(ProtocolLevel::V2_0, &octets, Command::Sfid(value));
}

#[test]
fn sfid_v14_and_v13() {
    let v14 = cat(&[
        b"HORDERS.DELFOR                20261123",
        b"1430050001",
        b"        ",
        DEST,
        ORIG,
        b"F00080",
        b"0000012",
        b"000000000",
    ]);
    assert_eq!(v14.len(), 128);
    known_answer(ProtocolLevel::V1_4, &v14, Command::Sfid(sfid()));

    let mut old = sfid();
    old.time = VirtualFileTime::new(14, 30, 5, 0).unwrap();
    let v13 = cat(&[
        b"HORDERS.DELFOR             ",
        b"         ",
        b"261123143005",
        b"        ",
        DEST,
        ORIG,
        b"F00080",
        b"0000012",
        b"000000000",
    ]);
    assert_eq!(v13.len(), 128);
    known_answer(ProtocolLevel::V1_2, &v13, Command::Sfid(old.clone()));
    known_answer(ProtocolLevel::V1_3, &v13, Command::Sfid(old));
    // What 1.x cannot carry is refused, not silently cut.
    let mut big = sfid();
    big.restart_position = RestartPosition::new(1_000_000_000).unwrap();
    assert!(Command::Sfid(big).to_bytes(ProtocolLevel::V1_4).is_err());
    assert!(Command::Sfid(sfid()).to_bytes(ProtocolLevel::V1_3).is_err(), "counter 0001");
}

#[test]
fn sfpa_sfna() {
    let sfpa = |n| Command::Sfpa(Sfpa { answer_count: RestartPosition::new(n).unwrap() });
    known_answer(ProtocolLevel::V2_0, b"200000000000000042", sfpa(42));
    known_answer(ProtocolLevel::V1_4, b"2000000042", sfpa(42));
    known_answer(
        ProtocolLevel::V2_0,
        b"313Y012Already have",
        Command::Sfna(Sfna {
            reason: SfnaReason::DUPLICATE_FILE,
            retry: true,
            text: Utf8Text::new("Already have").unwrap(),
        }),
    );
    known_answer(
        ProtocolLevel::V1_4,
        b"314N",
        Command::Sfna(Sfna {
            reason: SfnaReason::FILE_DIRECTION_REFUSED,
            retry: false,
            text: Utf8Text::empty(),
        }),
    );
    // An unknown reason survives decode and encode.
    known_answer(
        ProtocolLevel::V2_0,
        b"377N000",
        Command::Sfna(Sfna {
            reason: SfnaReason::new(77).unwrap(),
            retry: false,
            text: Utf8Text::empty(),
        }),
    );
}

#[test]
fn data_cdt_efid_efpa_efna() {
    known_answer(
        ProtocolLevel::V2_0,
        b"D\x83abc",
        Command::Data(Data { payload: Bytes::from_static(b"\x83abc") }),
    );
    known_answer(ProtocolLevel::V2_0, b"C  ", Command::Cdt);
    let efid = Command::Efid(Efid {
        record_count: RecordCount::new(3).unwrap(),
        unit_count: UnitCount::new(240).unwrap(),
    });
    known_answer(ProtocolLevel::V2_0, b"T0000000000000000300000000000000240", efid.clone());
    known_answer(ProtocolLevel::V1_4, b"T000000003000000000240", efid);
    known_answer(ProtocolLevel::V2_0, b"4Y", Command::Efpa(Efpa { change_direction: true }));
    known_answer(ProtocolLevel::V2_0, b"4N", Command::Efpa(Efpa { change_direction: false }));
    known_answer(
        ProtocolLevel::V2_0,
        b"521007bad sig",
        Command::Efna(Efna {
            reason: EfnaReason::INVALID_FILE_SIGNATURE,
            text: Utf8Text::new("bad sig").unwrap(),
        }),
    );
    known_answer(
        ProtocolLevel::V1_3,
        b"510",
        Command::Efna(Efna { reason: EfnaReason::INVALID_RECORD_COUNT, text: Utf8Text::empty() }),
    );
}

#[test]
fn esid_cd_rtr_secd() {
    known_answer(ProtocolLevel::V2_0, b"F00000\r", Command::Esid(Esid::normal()));
    known_answer(
        ProtocolLevel::V2_0,
        b"F04016Invalid password\r",
        Command::Esid(Esid::new(EsidReason::INVALID_PASSWORD, "Invalid password")),
    );
    known_answer(ProtocolLevel::V1_4, b"F09\r", Command::Esid(Esid::new(EsidReason::TIME_OUT, "")));
    known_answer(ProtocolLevel::V2_0, b"R", Command::Cd);
    known_answer(ProtocolLevel::V2_0, b"P", Command::Rtr);
    known_answer(ProtocolLevel::V2_0, b"J", Command::Secd);
}

#[test]
fn esid_leniencies() {
    let decode = |octets: &'static [u8]| {
        Command::from_exchange_buffer(Bytes::from_static(octets), ProtocolLevel::V2_0).unwrap()
    };
    // A 1.x ESID in a 2.0 session.
    assert_eq!(decode(b"F03\r"), Command::Esid(Esid::new(EsidReason::USER_CODE_NOT_KNOWN, "")));
    assert_eq!(decode(b"F03\x8D"), Command::Esid(Esid::new(EsidReason::USER_CODE_NOT_KNOWN, "")));
    // Without its CR.
    assert_eq!(decode(b"F00000"), Command::Esid(Esid::normal()));
    assert_eq!(decode(b"F03"), Command::Esid(Esid::new(EsidReason::USER_CODE_NOT_KNOWN, "")));
    assert_eq!(decode(b"F99002ab"), Command::Esid(Esid::new(EsidReason::UNSPECIFIED_ABORT, "ab")));
    // In a stream without framing, a missing CR is only "not yet".
    assert!(matches!(
        Command::decode(b"F00000", ProtocolLevel::V2_0),
        Err(oftp2_codec::DecodeError::Incomplete { needed: 1 })
    ));
}

fn eerp(hash: &'static [u8], signature: &'static [u8]) -> Eerp {
    Eerp {
        dataset_name: "ORDERS.DELFOR".parse().unwrap(),
        date: VirtualFileDate::new(2026, 11, 23).unwrap(),
        time: VirtualFileTime::new(14, 30, 5, 0).unwrap(),
        user_data: UserData::new("REF1").unwrap(),
        destination: OdetteId::new(std::str::from_utf8(ORIG).unwrap()).unwrap(),
        originator: OdetteId::new(std::str::from_utf8(DEST).unwrap()).unwrap(),
        hash: Bytes::from_static(hash),
        signature: Bytes::from_static(signature),
    }
}

#[test]
fn eerp_at_each_level() {
    let head = |date_time: &[u8]| {
        cat(&[b"EORDERS.DELFOR             ", date_time, b"REF1    ", ORIG, DEST])
    };
    let v2 = cat(&[&head(b"   202611231430050000"), b"\x00\x03\x01\x02\x03\x00\x02\x30\x80"]);
    known_answer(ProtocolLevel::V2_0, &v2, Command::Eerp(eerp(&[1, 2, 3], &[0x30, 0x80])));
    let v2_unsigned = cat(&[&head(b"   202611231430050000"), b"\x00\x00\x00\x00"]);
    known_answer(ProtocolLevel::V2_0, &v2_unsigned, Command::Eerp(eerp(&[], &[])));
    let v14 = head(b"   202611231430050000");
    assert_eq!(v14.len(), 106);
    known_answer(ProtocolLevel::V1_4, &v14, Command::Eerp(eerp(&[], &[])));
    let v13 = head(b"         261123143005");
    assert_eq!(v13.len(), 106);
    known_answer(ProtocolLevel::V1_2, &v13, Command::Eerp(eerp(&[], &[])));
    assert!(Command::Eerp(eerp(&[1], &[])).to_bytes(ProtocolLevel::V1_4).is_err());
}

fn nerp(text: &str, hash: &'static [u8], signature: &'static [u8]) -> Nerp {
    Nerp {
        dataset_name: "ORDERS.DELFOR".parse().unwrap(),
        date: VirtualFileDate::new(2026, 11, 23).unwrap(),
        time: VirtualFileTime::new(14, 30, 5, 1).unwrap(),
        destination: OdetteId::new(std::str::from_utf8(ORIG).unwrap()).unwrap(),
        originator: OdetteId::new(std::str::from_utf8(DEST).unwrap()).unwrap(),
        creator: id("O0013000000000000099"),
        reason: NerpReason::FILE_DECRYPTION_FAILED,
        text: Utf8Text::new(text).unwrap(),
        hash: Bytes::from_static(hash),
        signature: Bytes::from_static(signature),
    }
}

#[test]
fn nerp_at_each_level() {
    let fixed = cat(&[
        b"NORDERS.DELFOR                   202611231430050001",
        ORIG,
        DEST,
        b"O0013000000000000099     ",
        b"33",
    ]);
    assert_eq!(fixed.len(), 128);
    let v2 = cat(&[&fixed, b"004oops", b"\x00\x01\xAA\x00\x00"]);
    known_answer(ProtocolLevel::V2_0, &v2, Command::Nerp(nerp("oops", &[0xAA], &[])));
    known_answer(ProtocolLevel::V1_4, &fixed, Command::Nerp(nerp("", &[], &[])));
    // NERP does not exist before 1.4.
    assert!(Command::Nerp(nerp("", &[], &[])).to_bytes(ProtocolLevel::V1_3).is_err());
    let err = Command::from_exchange_buffer(Bytes::from(fixed), ProtocolLevel::V1_3).unwrap_err();
    assert_eq!(err.reason, EsidReason::COMMAND_NOT_RECOGNISED);
}

#[test]
fn auch_aurp() {
    known_answer(
        ProtocolLevel::V2_0,
        b"A\x00\x04\x30\x82\x01\x00",
        Command::Auch(Auch { challenge: Bytes::from_static(&[0x30, 0x82, 0x01, 0x00]) }),
    );
    let mut aurp = b"S".to_vec();
    aurp.extend(1..=20u8);
    let mut response = [0u8; 20];
    response.iter_mut().zip(1..=20u8).for_each(|(r, v)| *r = v);
    known_answer(ProtocolLevel::V2_0, &aurp, Command::Aurp(Aurp { response }));
    for code in [b'J', b'A', b'S'] {
        let err = Command::from_exchange_buffer(Bytes::from(vec![code]), ProtocolLevel::V1_4)
            .unwrap_err();
        assert_eq!(err.reason, EsidReason::COMMAND_NOT_RECOGNISED);
    }
}

#[test]
fn signed_content_of_receipts() {
    let e = eerp(&[0xAB; 20], &[]);
    let content = e.signed_content();
    let expected =
        cat(&[b"ORDERS.DELFOR             ", b"20261123", b"1430050000", ORIG, DEST, &[0xAB; 20]]);
    assert_eq!(content, expected);
    let n = nerp("text is not signed", &[0xCD; 32], &[]);
    let expected = cat(&[
        b"ORDERS.DELFOR             ",
        b"20261123",
        b"1430050001",
        ORIG,
        DEST,
        b"O0013000000000000099     ",
        &[0xCD; 32],
    ]);
    assert_eq!(n.signed_content(), expected);
}
