//! A deterministic stand-in for the cryptography of secure authentication (RFC 5024
#![allow(dead_code, unreachable_pub)] // each test binary uses part of it
//! §4.2.3), for the engine tests: the "encryption" of a challenge is an XOR with a mask,
//! so that a partner with the same mask answers correctly and one with another mask
//! does not. Counts the calls, to check that each side decrypts once per session.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use oftp2_session::config::Partner;
use oftp2_session::engine::SecureAuthentication;

/// The mask a correctly keyed partner uses.
pub const GOOD_MASK: u8 = 0x5a;

/// A fake authenticator: challenges hold `secret ^ mask`, answers undo `mask`.
#[derive(Debug, Clone)]
pub struct FakeAuthenticator {
    /// The 20 octets our challenge carries.
    pub secret: [u8; 20],
    /// Our "key".
    pub mask: u8,
    /// Fail to make a challenge, with this text.
    pub fail_challenge: Option<&'static str>,
    /// How many challenges and answers were made.
    pub calls: Arc<Calls>,
}

/// Calls made to a [`FakeAuthenticator`] (shared with its clones).
#[derive(Debug, Default)]
pub struct Calls {
    /// `challenge` calls.
    pub challenges: AtomicUsize,
    /// `answer` calls.
    pub answers: AtomicUsize,
}

impl Calls {
    /// (challenges, answers).
    pub fn get(&self) -> (usize, usize) {
        (self.challenges.load(Ordering::SeqCst), self.answers.load(Ordering::SeqCst))
    }
}

impl FakeAuthenticator {
    /// A correctly keyed authenticator whose challenge carries `secret`.
    pub fn new(secret: [u8; 20]) -> Self {
        FakeAuthenticator { secret, mask: GOOD_MASK, fail_challenge: None, calls: Arc::default() }
    }

    /// The same, with the wrong key: its answers are wrong.
    pub fn wrong_key(secret: [u8; 20]) -> Self {
        FakeAuthenticator { mask: !GOOD_MASK, ..Self::new(secret) }
    }

    /// Boxed for `Session::set_authenticator`.
    pub fn boxed(&self) -> Box<dyn SecureAuthentication> {
        Box::new(self.clone())
    }
}

impl SecureAuthentication for FakeAuthenticator {
    fn challenge(&mut self, _partner: &Partner) -> Result<(Vec<u8>, [u8; 20]), String> {
        self.calls.challenges.fetch_add(1, Ordering::SeqCst);
        if let Some(why) = self.fail_challenge {
            return Err(why.to_owned());
        }
        Ok((self.secret.iter().map(|b| b ^ GOOD_MASK).collect(), self.secret))
    }

    fn answer(&mut self, _partner: &Partner, auchchal: &[u8]) -> [u8; 20] {
        self.calls.answers.fetch_add(1, Ordering::SeqCst);
        let mut answer = [0u8; 20];
        if auchchal.len() == 20 {
            for (out, octet) in answer.iter_mut().zip(auchchal) {
                *out = octet ^ self.mask;
            }
        }
        answer
    }
}
