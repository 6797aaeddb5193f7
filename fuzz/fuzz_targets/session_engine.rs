//! A responder engine fed arbitrary exchange buffers and requests, in any order: it never
//! panics, everything it transmits is a valid command of the session's level, and once
//! closed it stays closed and silent. With or without secure authentication (a
//! deterministic stand-in for the cryptography, so the fuzzer can answer challenges).
#![no_main]

use std::sync::Arc;
use std::time::{Duration, Instant};

use arbitrary::Arbitrary;
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use oftp2_codec::fields::SendReceive;
use oftp2_codec::reason::{EfnaReason, SfnaReason};
use oftp2_codec::record::Counts;
use oftp2_codec::{Command, ProtocolLevel};
use oftp2_session::config::{Config, Partner, TextLineHandling, Transport};
use oftp2_session::engine::{Event, SecureAuthentication, Session};

/// Challenges are 20 octets of 0x41; the answer to a challenge is its first 20 octets.
struct Echo;

impl SecureAuthentication for Echo {
    fn challenge(&mut self, _: &Partner) -> Result<(Vec<u8>, [u8; 20]), String> {
        Ok((vec![0x41; 20], [0x41; 20]))
    }

    fn answer(&mut self, _: &Partner, auchchal: &[u8]) -> [u8; 20] {
        let mut answer = [0u8; 20];
        for (a, c) in answer.iter_mut().zip(auchchal) {
            *a = *c;
        }
        answer
    }
}

#[derive(Debug, Arbitrary)]
enum Step {
    Input(Vec<u8>),
    /// A valid command, so that the fuzzer gets past the session start.
    Command(Command),
    Timeout(u16),
    Accept(u32),
    Refuse,
    Closed(bool),
    Processed,
    TransportClosed,
}

fuzz_target!(|input: (bool, Vec<Step>)| {
    let (secure_authentication, steps) = input;
    let mut config = Config::new("O0013000000000000002".parse().expect("id"));
    config.partners.push(Partner {
        odette_id: "O0013000000000000001".parse().expect("id"),
        password: "PW1".parse().expect("password"),
        our_password: "PW2".parse().expect("password"),
        directions: SendReceive::Both,
        buffer_size: None,
        credit: None,
        text_lines: TextLineHandling::RecordPerLine,
        address: None,
        transport: Transport::PlainTcp,
        secure_authentication,
        file_security: Default::default(),
    });
    let mut now = Instant::now();
    let mut session = Session::responder(Arc::new(config), now);
    if secure_authentication {
        session.set_authenticator(Box::new(Echo));
    }
    let mut closed = false;
    for step in steps {
        match step {
            Step::Input(octets) => session.handle_input(Bytes::from(octets), now),
            Step::Command(command) => {
                if let Ok(octets) = command.to_bytes(ProtocolLevel::V2_0) {
                    session.handle_input(octets, now);
                }
            }
            Step::Timeout(ms) => {
                now += Duration::from_millis(u64::from(ms) * 10);
                session.handle_timeout(now);
            }
            Step::Accept(octets) => {
                let _ = session.accept_file(Counts { records: 0, octets: u64::from(octets) });
            }
            Step::Refuse => {
                let _ = session.refuse_file(SfnaReason::UNSPECIFIED, true, "no");
            }
            Step::Closed(ok) => {
                let result = if ok {
                    Ok(())
                } else {
                    Err((EfnaReason::ACCESS_METHOD_FAILURE, "disk".into()))
                };
                let _ = session.file_closed(result);
            }
            Step::Processed => {
                let _ = session.receipt_processed();
            }
            Step::TransportClosed => session.handle_transport_closed(),
        }
        let level = session.negotiated().map_or(ProtocolLevel::V2_0, |n| n.level);
        while let Some(buffer) = session.poll_transmit() {
            assert!(!closed, "nothing is sent after the session closed");
            assert!(!buffer.is_empty());
            Command::from_exchange_buffer(buffer, level).expect("the engine sends valid commands");
        }
        while let Some(event) = session.poll_event() {
            if let Event::Closed { .. } = event {
                assert!(!closed, "closed only once");
                closed = true;
            }
        }
        assert_eq!(closed, session.is_closed());
    }
});
