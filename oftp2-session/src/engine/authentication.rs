//! Secure authentication (RFC 5024 §4.2.3, §4.2.4; SECD, AUCH, AURP §5.3.16-§5.3.18):
//! the cryptography the engine is given, and the comparison of a response.
//!
//! After the SSID exchange, when both SSIDAUTH are `Y`:
//!
//! ```text
//! Initiator -- SECD --> Responder                       (Initiator: WF_AUCH)
//!           <-- AUCH --  challenge()                    (Responder: WF_AURP)
//! answer()  -- AURP -->  compared with the expected value
//!           <-- SECD --                                 (Responder: WF_AUCH)
//! challenge() - AUCH -->                                (Initiator: WF_AURP)
//!           <-- AURP --  answer(); Responder: IDLELI, Connected
//! compared; Initiator: IDLESP, Connected, first Speaker as without authentication
//! ```

use oftp2_codec::command::Aurp;

use crate::config::Partner;

/// The cryptography of secure authentication for one session, given to the engine
/// with [`Session::set_authenticator`](super::Session::set_authenticator).
///
/// The engine calls [`challenge`](Self::challenge) once (to send its AUCH) and
/// [`answer`](Self::answer) once (for the peer's AUCH) per session: the state machine
/// enters the states where it does so only once, and any further AUCH is a protocol
/// violation (ESID 02). So a peer gets at most one decryption per connection.
pub trait SecureAuthentication: Send {
    /// A fresh challenge for `partner`: AUCHCHAL (a CMS EnvelopedData of 20 random
    /// octets, encrypted to the partner's certificate) and the 20 octets the partner's
    /// AURP must hold. `Err` (no usable certificate, say) ends the session with ESID 12.
    fn challenge(&mut self, partner: &Partner) -> Result<(Vec<u8>, [u8; 20]), String>;

    /// AURPRSP for the AUCHCHAL `partner` sent: the 20 decrypted octets. Never fails: when
    /// AUCHCHAL cannot be decrypted (or does not hold 20 octets) it returns 20 random
    /// octets instead, so that the peer learns nothing but a failed authentication.
    fn answer(&mut self, partner: &Partner, auchchal: &[u8]) -> [u8; 20];
}

/// Whether the AURP holds the expected 20 octets, compared in constant time (every
/// octet is looked at whatever the first difference).
pub(crate) fn response_matches(aurp: &Aurp, expected: &[u8; 20]) -> bool {
    let difference =
        aurp.response.iter().zip(expected.iter()).fold(0u8, |acc, (a, b)| acc | (a ^ b));
    std::hint::black_box(difference) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_match_only_when_every_octet_does() {
        let expected = [0x5a; 20];
        assert!(response_matches(&Aurp { response: expected }, &expected));
        for at in 0..20 {
            for bit in 0..8 {
                let mut response = expected;
                if let Some(octet) = response.get_mut(at) {
                    *octet ^= 1 << bit;
                }
                assert!(!response_matches(&Aurp { response }, &expected), "{at}/{bit}");
            }
        }
        assert!(!response_matches(&Aurp { response: [0; 20] }, &expected));
    }
}
