//! Stream transmission header deframing over arbitrary chunkings of a stream: the buffers
//! that come out are exactly those framed, in order, whatever the cuts; arbitrary streams
//! never make the deframer panic or hold more than one buffer's worth.
#![no_main]

use arbitrary::Arbitrary;
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use oftp2_codec::sth::{frame, Deframer, MAX_LENGTH};

#[derive(Debug, Arbitrary)]
struct Input {
    buffers: Vec<Vec<u8>>,
    cuts: Vec<u8>,
    noise: Vec<u8>,
}

fuzz_target!(|input: Input| {
    let mut stream = Vec::new();
    let mut sent = Vec::new();
    for buffer in input.buffers.iter().filter(|b| !b.is_empty()) {
        frame(buffer, &mut stream).expect("frames");
        sent.push(buffer.clone());
    }
    let mut deframer = Deframer::new();
    let mut pending = BytesMut::new();
    let mut received = Vec::new();
    let mut rest = &stream[..];
    let mut cuts = input.cuts.iter().map(|&c| usize::from(c) + 1).cycle();
    while !rest.is_empty() {
        let n = cuts.next().unwrap_or(rest.len()).min(rest.len());
        pending.extend_from_slice(&rest[..n]);
        rest = &rest[n..];
        while let Some(buffer) = deframer.decode(&mut pending).expect("well framed") {
            received.push(buffer.to_vec());
        }
    }
    assert!(pending.is_empty());
    assert_eq!(received, sent);

    // Noise: errors or buffers, never a panic, never more than one STB pending.
    let mut pending = BytesMut::from(&input.noise[..]);
    let mut deframer = Deframer::new();
    while let Ok(Some(buffer)) = deframer.decode(&mut pending) {
        assert!(!buffer.is_empty() && buffer.len() + 4 <= MAX_LENGTH);
    }
});
