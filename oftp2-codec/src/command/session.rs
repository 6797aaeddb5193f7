//! Start Session phase: SSRM (§5.3.1), SSID (§5.3.2), and secure authentication's SECD
//! (§5.3.16), AUCH (§5.3.17) and AURP (§5.3.18).

use bytes::{BufMut, Bytes};

use super::wire::{Reader, Writer};
use crate::error::{DecodeError, EncodeError};
use crate::fields::{BufferSize, Credit, OdetteId, Password, SendReceive, UserData};
use crate::level::{Layout, ProtocolLevel};

/// SSRM, Start Session Ready Message (§5.3.1): the Responder's first words,
/// `I` + `ODETTE FTP READY ` + CR. It has no variable fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Ssrm;

impl Ssrm {
    /// SSRMMSG.
    pub const MESSAGE: &'static str = "ODETTE FTP READY ";
    pub(crate) const LEN: usize = 19;

    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.literal("SSRMCMD", "I")?;
        r.literal("SSRMMSG", Self::MESSAGE)?;
        r.cr("SSRMCR")?;
        Ok(Ssrm)
    }

    pub(crate) fn encode<B: BufMut + ?Sized>(&self, w: &mut Writer<'_, B>) {
        w.octet(b'I');
        w.octets(Self::MESSAGE.as_bytes());
        w.cr();
    }
}

/// SSID, Start Session (§5.3.2): each side's identity, password and capabilities.
///
/// The same 61 octets at every level; before 2.0 there is no SSIDAUTH (the reserved field
/// is one octet longer), so `secure_authentication` is `false` for such peers and cannot
/// be `true` when encoding for them. The layout follows the command's own SSIDLEV, not
/// the session's level.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Ssid {
    /// SSIDLEV: the protocol release level offered (Initiator) or agreed (Responder).
    pub level: ProtocolLevel,
    /// SSIDCODE: the sender's Identification Code.
    pub code: OdetteId,
    /// SSIDPSWD: the sender's password.
    pub password: Password,
    /// SSIDSDEB: the largest Data Exchange Buffer the sender accepts.
    pub buffer_size: BufferSize,
    /// SSIDSR: send, receive or both.
    pub send_receive: SendReceive,
    /// SSIDCMPR: the sender can handle buffer compression.
    pub compression: bool,
    /// SSIDREST: the sender can restart interrupted transfers.
    pub restart: bool,
    /// SSIDSPEC: special logic (X.25 only; `false` over TCP).
    pub special_logic: bool,
    /// SSIDCRED: the credit window.
    pub credit: Credit,
    /// SSIDAUTH: secure authentication required (2.0 only).
    pub secure_authentication: bool,
    /// SSIDUSER: user data.
    pub user_data: UserData,
}

impl Ssid {
    pub(crate) const LEN: usize = 61;

    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.literal("SSIDCMD", "X")?;
        let level =
            r.numeric_as("SSIDLEV", 1, "a level digit", |n| ProtocolLevel::try_from(n as u8))?;
        let code = r.odette_id("SSIDCODE")?;
        let password = r.string("SSIDPSWD")?;
        let buffer_size = r.numeric_as("SSIDSDEB", 5, "9(5) in 128..=99999", BufferSize::new)?;
        let send_receive = r.one_of("SSIDSR", &["S", "R", "B"], SendReceive::from_wire)?;
        let compression = r.flag("SSIDCMPR")?;
        let restart = r.flag("SSIDREST")?;
        let special_logic = r.flag("SSIDSPEC")?;
        let credit = r.numeric_as("SSIDCRED", 3, "9(3) in 1..=999", Credit::new)?;
        let secure_authentication = match level.layout() {
            Layout::V20 => {
                let auth = r.flag("SSIDAUTH")?;
                r.reserved(4)?;
                auth
            }
            Layout::V13 | Layout::V14 => {
                r.reserved(5)?;
                false
            }
        };
        let user_data = r.user_data("SSIDUSER")?;
        r.cr("SSIDCR")?;
        Ok(Ssid {
            level,
            code,
            password,
            buffer_size,
            send_receive,
            compression,
            restart,
            special_logic,
            credit,
            secure_authentication,
            user_data,
        })
    }

    pub(crate) fn check(&self) -> Result<(), EncodeError> {
        if self.secure_authentication && !self.level.has_security() {
            return Err(EncodeError::NotRepresentable {
                command: "SSID",
                field: "SSIDAUTH",
                level: self.level,
                why: "secure authentication exists only from level 5 (2.0) on",
            });
        }
        Ok(())
    }

    pub(crate) fn encode<B: BufMut + ?Sized>(&self, w: &mut Writer<'_, B>) {
        w.octet(b'X');
        w.numeric(self.level.value().into(), 1);
        w.octets(self.code.padded());
        w.octets(self.password.padded());
        w.numeric(self.buffer_size.get().into(), 5);
        w.octet(self.send_receive.wire());
        w.flag(self.compression);
        w.flag(self.restart);
        w.flag(self.special_logic);
        w.numeric(self.credit.get().into(), 3);
        if self.level.has_security() {
            w.flag(self.secure_authentication);
            w.spaces(4);
        } else {
            w.spaces(5);
        }
        w.octets(self.user_data.padded());
        w.cr();
    }
}

/// AUCH, Authentication Challenge (§5.3.17): AUCHCHAL, a CMS EnvelopedData holding 20
/// fresh random octets encrypted to the receiver's certificate. 2.0 only.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Auch {
    /// AUCHCHAL: the challenge (its length, AUCHCHLL, is a `U(2)`: at most 65,535 octets).
    pub challenge: Bytes,
}

impl Auch {
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.literal("AUCHCMD", "A")?;
        let challenge = Bytes::copy_from_slice(r.binary("AUCHCHLL")?);
        Ok(Auch { challenge })
    }

    pub(crate) fn check(&self, level: ProtocolLevel) -> Result<(), EncodeError> {
        check_binary("AUCH", "AUCHCHAL", &self.challenge, level)
    }
}

/// AURP, Authentication Response (§5.3.18): AURPRSP, the 20 octets decrypted from the
/// challenge. 2.0 only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Aurp {
    /// AURPRSP.
    pub response: [u8; 20],
}

impl Aurp {
    pub(crate) const LEN: usize = 21;

    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.literal("AURPCMD", "S")?;
        let mut response = [0u8; 20];
        response.copy_from_slice(r.take(20)?);
        Ok(Aurp { response })
    }
}

/// A `U(2)`-length binary field must fit 65,535 octets.
pub(crate) fn check_binary(
    command: &'static str,
    field: &'static str,
    octets: &Bytes,
    level: ProtocolLevel,
) -> Result<(), EncodeError> {
    if octets.len() > usize::from(u16::MAX) {
        return Err(EncodeError::NotRepresentable {
            command,
            field,
            level,
            why: "a U(2) length field holds at most 65,535 octets",
        });
    }
    Ok(())
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for Auch {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        let len = u.int_in_range(0..=512)?;
        Ok(Auch { challenge: Bytes::copy_from_slice(u.bytes(len)?) })
    }
}
