//! Property tests: arbitrary valid commands survive encode -> decode at every level, and
//! arbitrary octets never make the decoders panic.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a panic is a failure

use arbitrary::{Arbitrary, Unstructured};
use bytes::{Bytes, BytesMut};
use oftp2_codec::sth::{frame, Deframer};
use oftp2_codec::{Command, DecodeError, ProtocolLevel};
use proptest::prelude::*;

const LEVELS: [ProtocolLevel; 4] =
    [ProtocolLevel::V1_2, ProtocolLevel::V1_3, ProtocolLevel::V1_4, ProtocolLevel::V2_0];

fn command_from(seed: &[u8]) -> Option<Command> {
    Command::arbitrary(&mut Unstructured::new(seed)).ok()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    /// At 2.0 every command that encodes decodes to itself.
    #[test]
    fn v20_identity(seed in proptest::collection::vec(any::<u8>(), 0..1500)) {
        let Some(command) = command_from(&seed) else { return Ok(()) };
        let level = ProtocolLevel::V2_0;
        if let Ok(octets) = command.to_bytes(level) {
            prop_assert_eq!(octets.len(), command.encoded_len(level));
            let decoded = Command::from_exchange_buffer(octets.clone(), level).unwrap();
            prop_assert_eq!(&decoded, &command);
            let (streamed, used) = Command::decode(&octets, level).unwrap();
            prop_assert_eq!(streamed, command);
            prop_assert_eq!(used, octets.len());
        }
    }

    /// At every level, decode(encode(x)) encodes to the same octets (levels before 2.0 drop
    /// texts, so the value itself may lose them, but never anything else).
    #[test]
    fn every_level_is_stable(seed in proptest::collection::vec(any::<u8>(), 0..1500)) {
        let Some(command) = command_from(&seed) else { return Ok(()) };
        for level in LEVELS {
            let Ok(octets) = command.to_bytes(level) else { continue };
            let decoded = Command::from_exchange_buffer(octets.clone(), level)
                .unwrap_or_else(|e| panic!("{command:?} at {level}: {e}"));
            prop_assert_eq!(decoded.code(), command.code());
            prop_assert_eq!(decoded.to_bytes(level).unwrap(), octets);
        }
    }

    /// Arbitrary octets: decoding never panics, never claims more than it was given, and
    /// whatever decodes re-encodes to octets that decode to the same command.
    #[test]
    fn decoding_is_total(octets in proptest::collection::vec(any::<u8>(), 0..400)) {
        for level in LEVELS {
            match Command::decode(&octets, level) {
                Ok((command, used)) => {
                    prop_assert!(used <= octets.len());
                    let again = command.to_bytes(level).unwrap();
                    let redecoded = Command::from_exchange_buffer(again, level).unwrap();
                    prop_assert_eq!(redecoded, command);
                }
                Err(DecodeError::Incomplete { needed }) => prop_assert!(needed > 0),
                Err(DecodeError::Malformed(m)) => prop_assert!(m.offset <= octets.len()),
            }
            let _ = Command::from_exchange_buffer(Bytes::copy_from_slice(&octets), level);
        }
    }

    /// A stream of framed commands cut into arbitrary chunks comes out whole and in order.
    #[test]
    fn deframing_any_chunking(
        seeds in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 1..12),
        cuts in proptest::collection::vec(1usize..200, 1..50),
    ) {
        let level = ProtocolLevel::V2_0;
        let mut stream = Vec::new();
        let mut sent = Vec::new();
        for seed in &seeds {
            let Some(command) = command_from(seed) else { continue };
            let Ok(octets) = command.to_bytes(level) else { continue };
            if octets.is_empty() { continue }
            frame(&octets, &mut stream).unwrap();
            sent.push(command);
        }
        let mut deframer = Deframer::new();
        let mut buffer = BytesMut::new();
        let mut received = Vec::new();
        let mut rest = &stream[..];
        let mut cut = cuts.iter().cycle();
        while !rest.is_empty() {
            let n = (*cut.next().unwrap()).min(rest.len());
            buffer.extend_from_slice(&rest[..n]);
            rest = &rest[n..];
            while let Some(exchange_buffer) = deframer.decode(&mut buffer).unwrap() {
                received.push(Command::from_exchange_buffer(exchange_buffer, level).unwrap());
            }
        }
        prop_assert!(buffer.is_empty());
        prop_assert_eq!(received, sent);
    }
}
