//! CMS CompressedData (RFC 3274) over arbitrary input: reading never panics and stops at
//! its output limit; compressing arbitrary content and reading it back gives it unchanged.
#![no_main]

use std::io::Read;

use libfuzzer_sys::fuzz_target;
use oftp2_session::security::compressed::{compress, decompress, CompressedReader};
use oftp2_session::security::suite::ID_DATA;

const LIMIT: u64 = 1 << 24;

fuzz_target!(|input: (u16, &[u8])| {
    let (chunk, octets) = input;
    if let Ok(reader) = CompressedReader::new(octets) {
        let mut reader = reader.with_limit(LIMIT);
        let mut buf = vec![0u8; usize::from(chunk % 4096) + 1];
        let mut total = 0u64;
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            total += n as u64;
            assert!(total <= LIMIT, "read past the limit");
        }
        let _ = reader.finish();
    }

    let ber = compress(octets, ID_DATA).expect("compressing into memory works");
    let (content_type, content) = decompress(&ber, LIMIT).expect("our own output reads back");
    assert_eq!(content_type, ID_DATA);
    assert_eq!(content, octets);
});
