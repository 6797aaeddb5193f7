//! Command decoding at every level: never a panic; consumed <= input; whatever decodes
//! re-encodes to octets that decode to the same command (decode -> encode -> decode).
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use oftp2_codec::{Command, DecodeError, ProtocolLevel};

fuzz_target!(|input: (u8, &[u8])| {
    let (level, octets) = input;
    let level = ProtocolLevel::new(level % 10).expect("a digit");
    match Command::decode(octets, level) {
        Ok((command, used)) => {
            assert!(used <= octets.len());
            let encoded = command.to_bytes(level).expect("a decoded command encodes");
            let again = Command::from_exchange_buffer(encoded.clone(), level).expect("decodes");
            assert_eq!(again, command);
            assert_eq!(again.to_bytes(level).expect("encodes"), encoded);
        }
        Err(DecodeError::Incomplete { needed }) => assert!(needed > 0),
        Err(DecodeError::Malformed(malformed)) => assert!(malformed.offset <= octets.len()),
    }
    if let Ok(command) = Command::from_exchange_buffer(Bytes::copy_from_slice(octets), level) {
        let encoded = command.to_bytes(level).expect("a decoded command encodes");
        assert_eq!(Command::from_exchange_buffer(encoded, level).expect("decodes"), command);
    }
});
