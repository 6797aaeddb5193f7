//! The codec on its own: one OFTP2 session's worth of commands, framed, cut out of the
//! stream in arbitrary pieces, decoded and checked, with a line of trace per command.
//!
//! ```text
//! cargo run -p oftp2-examples --bin codec-demo
//! ```
//!
//! The exchange is scripted (there is no session engine here): the Responder's SSRM, the
//! SSID exchange, a T-format file (the verse of RFC 5024 Appendix A) sent as SFID, DATA
//! buffers of 128 octets with buffer compression, EFID, EFPA, the EERP and RTR, and ESID.

use std::error::Error;

use bytes::BytesMut;
use oftp2_codec::command::*;
use oftp2_codec::fields::*;
use oftp2_codec::record::{file_size, FileDecoder, FileEncoder, FileSettings, TextLines};
use oftp2_codec::sth::{frame, Deframer};
use oftp2_codec::{Command, ProtocolLevel};

const VERSE: &str = "It is an ancient Mariner,\r\nAnd he stoppeth one of three.\r\n\
\"By thy long grey beard and glittering eye,\r\nNow wherefore stopp'st thou me?\r\n\r\n\
          (a run of spaces, compressed)          \r\n";

fn main() -> Result<(), Box<dyn Error>> {
    let level = ProtocolLevel::V2_0;
    let buffer_size = BufferSize::new(128)?;
    let initiator: OdetteId = "O0013000000000000001".parse()?;
    let responder: OdetteId = "O0013000000000000002".parse()?;
    let ssid = |code, password: &str| -> Result<Command, Box<dyn Error>> {
        Ok(Command::Ssid(Ssid {
            level,
            code,
            password: password.parse()?,
            buffer_size,
            send_receive: SendReceive::Both,
            compression: true,
            restart: true,
            special_logic: false,
            credit: Credit::new(7)?,
            secure_authentication: false,
            user_data: UserData::EMPTY,
        }))
    };
    let settings = FileSettings::text(TextLines::KeepCrLf);
    let sfid = Sfid {
        dataset_name: "RIME.OF.THE.ANCIENT".parse()?,
        date: VirtualFileDate::new(2026, 11, 23)?,
        time: VirtualFileTime::new(14, 30, 0, 1)?,
        user_data: UserData::EMPTY,
        destination: responder,
        originator: initiator,
        format: RecordFormat::Text,
        max_record_length: RecordLength::ZERO,
        file_size: file_size(VERSE.len() as u64),
        original_file_size: file_size(VERSE.len() as u64),
        restart_position: RestartPosition::ZERO,
        security_level: SecurityLevel::None,
        cipher_suite: CipherSuite::NONE,
        compression: FileCompression::None,
        enveloping: FileEnveloping::None,
        signed_eerp_request: false,
        description: Utf8Text::new("RFC 5024 Appendix A")?,
    };

    // The file, mapped to DATA buffers.
    let mut encoder = FileEncoder::new(settings, buffer_size, true)?;
    encoder.push(VERSE.as_bytes())?;
    let counts = encoder.finish()?;
    let (record_count, unit_count) = counts.efid(RecordFormat::Text);
    let data: Vec<Command> = encoder
        .drain_buffers()
        .map(|buffer| Command::Data(Data { payload: buffer.slice(1..) }))
        .collect();

    let mut script = vec![
        ("responder", Command::Ssrm(Ssrm)),
        ("initiator", ssid(initiator, "SECRET")?),
        ("responder", ssid(responder, "PASSWORD")?),
        ("initiator", Command::Sfid(sfid.clone())),
        ("responder", Command::Sfpa(Sfpa { answer_count: RestartPosition::ZERO })),
    ];
    script.extend(data.into_iter().map(|command| ("initiator", command)));
    script.extend([
        ("initiator", Command::Efid(Efid { record_count, unit_count })),
        ("responder", Command::Efpa(Efpa { change_direction: true })),
        ("initiator", Command::Cd),
        (
            "responder",
            Command::Eerp(Eerp {
                dataset_name: sfid.dataset_name,
                date: sfid.date,
                time: sfid.time,
                user_data: sfid.user_data,
                destination: initiator,
                originator: responder,
                hash: bytes::Bytes::new(),
                signature: bytes::Bytes::new(),
            }),
        ),
        ("initiator", Command::Rtr),
        ("responder", Command::Esid(Esid::normal())),
    ]);

    // Frame everything into one stream, then read it back in 7-octet pieces.
    let mut stream = Vec::new();
    for (_, command) in &script {
        frame(&command.to_bytes(level)?, &mut stream)?;
    }
    println!("{} commands, {} octets on the wire\n", script.len(), stream.len());

    let mut deframer = Deframer::new();
    let mut pending = BytesMut::new();
    let mut received = Vec::new();
    for piece in stream.chunks(7) {
        pending.extend_from_slice(piece);
        while let Some(buffer) = deframer.decode(&mut pending)? {
            let command = Command::from_exchange_buffer(buffer.clone(), level)?;
            let (who, sent) = script.get(received.len()).ok_or("more buffers than were sent")?;
            assert_eq!(&command, sent, "the stream gives back what was sent");
            println!(
                "{who:>9} -> {:<4} {:>4} octets  {}",
                command.code(),
                buffer.len(),
                preview(&buffer)
            );
            received.push(command);
        }
    }

    // The receiving side puts the file together again and checks EFID's counts.
    let mut decoder = FileDecoder::new(settings, true)?;
    let mut file = Vec::new();
    for command in &received {
        if let Command::Data(data) = command {
            file.extend_from_slice(&decoder.push_payload(&data.payload)?);
        }
    }
    decoder.finish(record_count, unit_count)?;
    assert_eq!(file, VERSE.as_bytes());
    println!(
        "\nfile received intact: {} octets in {} DATA buffers of at most {} octets",
        file.len(),
        received.iter().filter(|c| c.code() == CommandCode::Data).count(),
        buffer_size
    );
    Ok(())
}

fn preview(buffer: &[u8]) -> String {
    buffer
        .iter()
        .take(48)
        .map(|&b| if b.is_ascii_graphic() || b == b' ' { char::from(b) } else { '.' })
        .collect()
}
