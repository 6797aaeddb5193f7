//! Arbitrary valid commands: at 2.0 encode -> decode is the identity; at every level the
//! encoding is stable (decode -> encode gives the same octets).
#![no_main]

use libfuzzer_sys::fuzz_target;
use oftp2_codec::{Command, ProtocolLevel};

fuzz_target!(|command: Command| {
    for level in [ProtocolLevel::V1_2, ProtocolLevel::V1_4, ProtocolLevel::V2_0] {
        let Ok(octets) = command.to_bytes(level) else { continue };
        assert_eq!(octets.len(), command.encoded_len(level));
        let decoded = Command::from_exchange_buffer(octets.clone(), level).expect("decodes");
        if level == ProtocolLevel::V2_0 {
            assert_eq!(decoded, command);
        }
        assert_eq!(decoded.to_bytes(level).expect("encodes"), octets);
    }
});
