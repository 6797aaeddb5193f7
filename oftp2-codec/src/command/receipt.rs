//! End to end responses: EERP (§5.3.13) and NERP (§5.3.14), with the octets their
//! signatures cover.

use bytes::{BufMut, Bytes};

use super::file::{FileHeader, HeaderFields};
use super::session::check_binary;
use super::wire::{Reader, Writer};
use crate::error::{DecodeError, EncodeError};
use crate::fields::{DatasetName, OdetteId, UserData, Utf8Text, VirtualFileDate, VirtualFileTime};
use crate::level::{Layout, ProtocolLevel};
use crate::reason::NerpReason;

const EERP_FIELDS: HeaderFields = HeaderFields {
    command: "EERP",
    dsn: "EERPDSN",
    date: "EERPDATE",
    time: "EERPTIME",
    user: "EERPUSER",
    dest: "EERPDEST",
    orig: "EERPORIG",
};

/// EERP, End to End Response (§5.3.13): the final recipient confirms that it has the file.
///
/// It travels back: EERPDEST is the file's originator and EERPORIG its final recipient.
/// Before 2.0 the command ends after EERPORIG (106 octets); the hash and signature exist
/// only from 2.0 on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Eerp {
    /// EERPDSN: the Virtual File Dataset Name.
    pub dataset_name: DatasetName,
    /// EERPDATE: the Virtual File Date stamp of the original SFID.
    pub date: VirtualFileDate,
    /// EERPTIME: the Virtual File Time stamp of the original SFID.
    pub time: VirtualFileTime,
    /// EERPUSER: user data.
    pub user_data: UserData,
    /// EERPDEST: the originator of the file, to whom the EERP goes.
    pub destination: OdetteId,
    /// EERPORIG: the final recipient, who creates the EERP.
    pub originator: OdetteId,
    /// EERPHSH (with EERPHSHL): hash of the transmitted Virtual File, empty if unsigned.
    pub hash: Bytes,
    /// EERPSIG (with EERPSIGL): CMS SignedData over [`Eerp::signed_content`], empty if unsigned.
    pub signature: Bytes,
}

impl Eerp {
    pub(crate) fn decode(r: &mut Reader<'_>, layout: Layout) -> Result<Self, DecodeError> {
        r.literal("EERPCMD", "E")?;
        let header = FileHeader::decode(r, layout, &EERP_FIELDS)?;
        let (hash, signature) = match layout {
            Layout::V20 => {
                let hash = Bytes::copy_from_slice(r.binary("EERPHSHL")?);
                (hash, Bytes::copy_from_slice(r.binary("EERPSIGL")?))
            }
            Layout::V13 | Layout::V14 => (Bytes::new(), Bytes::new()),
        };
        Ok(Eerp {
            dataset_name: header.dataset_name,
            date: header.date,
            time: header.time,
            user_data: header.user_data,
            destination: header.destination,
            originator: header.originator,
            hash,
            signature,
        })
    }

    /// The octets EERPSIG signs (§5.3.13): EERPDSN, EERPDATE, EERPTIME, EERPDEST, EERPORIG
    /// and EERPHSH, each in its entirety, padding included.
    ///
    /// ```
    /// # use oftp2_codec::command::Eerp;
    /// # use oftp2_codec::fields::*;
    /// let eerp = Eerp {
    ///     dataset_name: "PAYROLL".parse()?,
    ///     date: VirtualFileDate::new(2026, 11, 23)?,
    ///     time: VirtualFileTime::new(14, 30, 0, 1)?,
    ///     user_data: UserData::EMPTY,
    ///     destination: "O0013000000000000001".parse()?,
    ///     originator: "O0013000000000000002".parse()?,
    ///     hash: bytes::Bytes::from_static(&[0xAB; 20]),
    ///     signature: bytes::Bytes::new(),
    /// };
    /// let content = eerp.signed_content();
    /// assert_eq!(content.len(), 26 + 8 + 10 + 25 + 25 + 20);
    /// assert!(content.starts_with(b"PAYROLL                   2026112314300000"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn signed_content(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(94 + self.hash.len());
        let mut w = Writer::new(&mut out);
        w.octets(self.dataset_name.padded());
        w.numeric(self.date.as_number().into(), 8);
        w.numeric(self.time.as_number(), 10);
        w.octets(self.destination.padded());
        w.octets(self.originator.padded());
        w.octets(&self.hash);
        out
    }

    pub(crate) fn encoded_len(&self, level: ProtocolLevel) -> usize {
        match level.layout() {
            Layout::V20 => 1 + FileHeader::LEN + 4 + self.hash.len() + self.signature.len(),
            Layout::V13 | Layout::V14 => 1 + FileHeader::LEN,
        }
    }

    pub(crate) fn check(&self, level: ProtocolLevel) -> Result<(), EncodeError> {
        FileHeader::check(self.date, self.time, level, &EERP_FIELDS)?;
        check_hash_and_signature("EERP", ["EERPHSH", "EERPSIG"], &self.hash, &self.signature, level)
    }

    pub(crate) fn encode<B: BufMut + ?Sized>(&self, w: &mut Writer<'_, B>, level: ProtocolLevel) {
        w.octet(b'E');
        let header = FileHeader {
            dataset_name: self.dataset_name,
            date: self.date,
            time: self.time,
            user_data: self.user_data,
            destination: self.destination,
            originator: self.originator,
        };
        header.encode(w, level);
        if level.layout() == Layout::V20 {
            w.binary(&self.hash);
            w.binary(&self.signature);
        }
    }
}

/// NERP, Negative End Response (§5.3.14): the file could not be delivered or processed.
///
/// NERP exists from 1.4 on; in 1.4 it ends after NERPREAS (128 octets). Unlike EERP it has
/// no user data, a 6-octet reserved field, and NERPCREA, the node that created it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Nerp {
    /// NERPDSN: the Virtual File Dataset Name.
    pub dataset_name: DatasetName,
    /// NERPDATE: the Virtual File Date stamp.
    pub date: VirtualFileDate,
    /// NERPTIME: the Virtual File Time stamp.
    pub time: VirtualFileTime,
    /// NERPDEST: the originator of the file, to whom the NERP goes.
    pub destination: OdetteId,
    /// NERPORIG: the file's final recipient.
    pub originator: OdetteId,
    /// NERPCREA: the node that created the NERP.
    pub creator: OdetteId,
    /// NERPREAS: the reason.
    pub reason: NerpReason,
    /// NERPREAST (with NERPREASL): the reason in words (2.0 only).
    pub text: Utf8Text,
    /// NERPHSH (with NERPHSHL): hash of the Virtual File, empty if unsigned.
    pub hash: Bytes,
    /// NERPSIG (with NERPSIGL): CMS SignedData over [`Nerp::signed_content`], empty if unsigned.
    pub signature: Bytes,
}

impl Nerp {
    pub(crate) fn decode(r: &mut Reader<'_>, layout: Layout) -> Result<Self, DecodeError> {
        r.literal("NERPCMD", "N")?;
        let dataset_name = r.string("NERPDSN")?;
        r.reserved(6)?;
        let date = r.date("NERPDATE")?;
        let time = r.time("NERPTIME")?;
        let destination = r.odette_id("NERPDEST")?;
        let originator = r.odette_id("NERPORIG")?;
        let creator = r.odette_id("NERPCREA")?;
        let reason =
            r.numeric_as("NERPREAS", 2, "9(2) reason", |n| NerpReason::try_from(n as u8))?;
        let (text, hash, signature) = match layout {
            Layout::V20 => {
                let text = r.text("NERPREASL", "NERPREAST")?;
                let hash = Bytes::copy_from_slice(r.binary("NERPHSHL")?);
                (text, hash, Bytes::copy_from_slice(r.binary("NERPSIGL")?))
            }
            Layout::V13 | Layout::V14 => (Utf8Text::empty(), Bytes::new(), Bytes::new()),
        };
        Ok(Nerp {
            dataset_name,
            date,
            time,
            destination,
            originator,
            creator,
            reason,
            text,
            hash,
            signature,
        })
    }

    /// The octets NERPSIG signs (§5.3.14): NERPDSN, NERPDATE, NERPTIME, NERPDEST, NERPORIG,
    /// NERPCREA and NERPHSH, each in its entirety, padding included.
    pub fn signed_content(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(119 + self.hash.len());
        let mut w = Writer::new(&mut out);
        w.octets(self.dataset_name.padded());
        w.numeric(self.date.as_number().into(), 8);
        w.numeric(self.time.as_number(), 10);
        w.octets(self.destination.padded());
        w.octets(self.originator.padded());
        w.octets(self.creator.padded());
        w.octets(&self.hash);
        out
    }

    pub(crate) const FIXED_LEN: usize = 128;

    pub(crate) fn encoded_len(&self, level: ProtocolLevel) -> usize {
        match level.layout() {
            Layout::V20 => {
                Self::FIXED_LEN + 3 + self.text.len() + 4 + self.hash.len() + self.signature.len()
            }
            Layout::V13 | Layout::V14 => Self::FIXED_LEN,
        }
    }

    pub(crate) fn check(&self, level: ProtocolLevel) -> Result<(), EncodeError> {
        if level.layout() == Layout::V13 {
            return Err(EncodeError::NotAtLevel { command: "NERP", level });
        }
        check_hash_and_signature("NERP", ["NERPHSH", "NERPSIG"], &self.hash, &self.signature, level)
    }

    pub(crate) fn encode<B: BufMut + ?Sized>(&self, w: &mut Writer<'_, B>, level: ProtocolLevel) {
        w.octet(b'N');
        w.octets(self.dataset_name.padded());
        w.spaces(6);
        w.numeric(self.date.as_number().into(), 8);
        w.numeric(self.time.as_number(), 10);
        w.octets(self.destination.padded());
        w.octets(self.originator.padded());
        w.octets(self.creator.padded());
        w.numeric(self.reason.value().into(), 2);
        if level.layout() == Layout::V20 {
            w.text(&self.text);
            w.binary(&self.hash);
            w.binary(&self.signature);
        }
    }
}

fn check_hash_and_signature(
    command: &'static str,
    [hash_field, signature_field]: [&'static str; 2],
    hash: &Bytes,
    signature: &Bytes,
    level: ProtocolLevel,
) -> Result<(), EncodeError> {
    if level.layout() != Layout::V20 && !(hash.is_empty() && signature.is_empty()) {
        let field = if hash.is_empty() { signature_field } else { hash_field };
        return Err(EncodeError::NotRepresentable {
            command,
            field,
            level,
            why: "signed receipts exist only from 2.0 on",
        });
    }
    check_binary(command, hash_field, hash, level)?;
    check_binary(command, signature_field, signature, level)
}

#[cfg(feature = "arbitrary")]
mod arbitrary_impls {
    use super::*;
    use arbitrary::{Arbitrary, Unstructured};

    fn binary(u: &mut Unstructured<'_>) -> arbitrary::Result<Bytes> {
        let len = u.int_in_range(0..=128)?;
        Ok(Bytes::copy_from_slice(u.bytes(len)?))
    }

    impl<'a> Arbitrary<'a> for Eerp {
        fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
            Ok(Eerp {
                dataset_name: u.arbitrary()?,
                date: u.arbitrary()?,
                time: u.arbitrary()?,
                user_data: u.arbitrary()?,
                destination: u.arbitrary()?,
                originator: u.arbitrary()?,
                hash: binary(u)?,
                signature: binary(u)?,
            })
        }
    }

    impl<'a> Arbitrary<'a> for Nerp {
        fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
            Ok(Nerp {
                dataset_name: u.arbitrary()?,
                date: u.arbitrary()?,
                time: u.arbitrary()?,
                destination: u.arbitrary()?,
                originator: u.arbitrary()?,
                creator: u.arbitrary()?,
                reason: u.arbitrary()?,
                text: u.arbitrary()?,
                hash: binary(u)?,
                signature: binary(u)?,
            })
        }
    }
}
