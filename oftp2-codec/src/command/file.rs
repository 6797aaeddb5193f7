//! Start File and End File phases: SFID (§5.3.3), SFPA (§5.3.4), SFNA (§5.3.5), EFID
//! (§5.3.8), EFPA (§5.3.9) and EFNA (§5.3.10).

use bytes::BufMut;

use super::wire::{Reader, Writer};
use crate::error::{DecodeError, EncodeError};
use crate::fields::{
    CipherSuite, DatasetName, FileCompression, FileEnveloping, FileSize, OdetteId, RecordCount,
    RecordFormat, RecordLength, RestartPosition, SecurityLevel, UnitCount, UserData, Utf8Text,
    VirtualFileDate, VirtualFileTime,
};
use crate::level::{Layout, ProtocolLevel};
use crate::reason::{EfnaReason, SfnaReason};

/// The fields that open SFID and EERP: SxxxDSN, SxxxRSV1, SxxxDATE, SxxxTIME, SxxxUSER,
/// SxxxDEST and SxxxORIG, 105 octets at every level. RFC 2204 (1.3) has a 9-octet reserved
/// field and six-digit `YYMMDD` / `HHMMSS` stamps where 1.4 and 2.0 have 3 octets,
/// `CCYYMMDD` and `HHMMSScccc`.
pub(crate) struct FileHeader {
    pub(crate) dataset_name: DatasetName,
    pub(crate) date: VirtualFileDate,
    pub(crate) time: VirtualFileTime,
    pub(crate) user_data: UserData,
    pub(crate) destination: OdetteId,
    pub(crate) originator: OdetteId,
}

/// Field names of one command's header.
pub(crate) struct HeaderFields {
    pub(crate) command: &'static str,
    pub(crate) dsn: &'static str,
    pub(crate) date: &'static str,
    pub(crate) time: &'static str,
    pub(crate) user: &'static str,
    pub(crate) dest: &'static str,
    pub(crate) orig: &'static str,
}

impl FileHeader {
    pub(crate) const LEN: usize = 105;

    pub(crate) fn decode(
        r: &mut Reader<'_>,
        layout: Layout,
        names: &HeaderFields,
    ) -> Result<Self, DecodeError> {
        let dataset_name = r.string(names.dsn)?;
        let (date, time) = match layout {
            Layout::V13 => {
                r.reserved(9)?;
                (r.short_date(names.date)?, r.short_time(names.time)?)
            }
            Layout::V14 | Layout::V20 => {
                r.reserved(3)?;
                (r.date(names.date)?, r.time(names.time)?)
            }
        };
        Ok(FileHeader {
            dataset_name,
            date,
            time,
            user_data: r.user_data(names.user)?,
            destination: r.odette_id(names.dest)?,
            originator: r.odette_id(names.orig)?,
        })
    }

    pub(crate) fn check(
        date: VirtualFileDate,
        time: VirtualFileTime,
        level: ProtocolLevel,
        names: &HeaderFields,
    ) -> Result<(), EncodeError> {
        if level.layout() != Layout::V13 {
            return Ok(());
        }
        if !(1970..=2069).contains(&date.year()) {
            return Err(EncodeError::NotRepresentable {
                command: names.command,
                field: names.date,
                level,
                why: "a YYMMDD date holds the years 1970 to 2069",
            });
        }
        if time.counter() != 0 {
            return Err(EncodeError::NotRepresentable {
                command: names.command,
                field: names.time,
                level,
                why: "an HHMMSS time has no counter",
            });
        }
        Ok(())
    }

    pub(crate) fn encode<B: BufMut + ?Sized>(&self, w: &mut Writer<'_, B>, level: ProtocolLevel) {
        w.octets(self.dataset_name.padded());
        if level.layout() == Layout::V13 {
            w.spaces(9);
            w.numeric(u64::from(self.date.as_number() % 1_000_000), 6);
            w.numeric(self.time.as_number() / 10_000, 6);
        } else {
            w.spaces(3);
            w.numeric(self.date.as_number().into(), 8);
            w.numeric(self.time.as_number(), 10);
        }
        w.octets(self.user_data.padded());
        w.octets(self.destination.padded());
        w.octets(self.originator.padded());
    }
}

const SFID_FIELDS: HeaderFields = HeaderFields {
    command: "SFID",
    dsn: "SFIDDSN",
    date: "SFIDDATE",
    time: "SFIDTIME",
    user: "SFIDUSER",
    dest: "SFIDDEST",
    orig: "SFIDORIG",
};

/// SFID, Start File (§5.3.3): the Speaker announces a Virtual File.
///
/// At levels before 2.0 the command is 128 octets: SFIDFSIZ has 7 digits, SFIDREST 9, and
/// there is no SFIDOSIZ (decoded as equal to SFIDFSIZ), no security fields and no
/// description (dropped when encoding for such a peer).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Sfid {
    /// SFIDDSN: the Virtual File Dataset Name.
    pub dataset_name: DatasetName,
    /// SFIDDATE: the Virtual File Date stamp.
    pub date: VirtualFileDate,
    /// SFIDTIME: the Virtual File Time stamp.
    pub time: VirtualFileTime,
    /// SFIDUSER: user data.
    pub user_data: UserData,
    /// SFIDDEST: the final recipient.
    pub destination: OdetteId,
    /// SFIDORIG: the originator.
    pub originator: OdetteId,
    /// SFIDFMT: the record format.
    pub format: RecordFormat,
    /// SFIDLRECL: the maximum record length (`0` for U and T).
    pub max_record_length: RecordLength,
    /// SFIDFSIZ: the transmitted file size in 1 KiB blocks.
    pub file_size: FileSize,
    /// SFIDOSIZ: the original file size in 1 KiB blocks (`0` if unknown).
    pub original_file_size: FileSize,
    /// SFIDREST: the restart position (records for F and V, 1 KiB blocks otherwise).
    pub restart_position: RestartPosition,
    /// SFIDSEC: the security level.
    pub security_level: SecurityLevel,
    /// SFIDCIPH: the cipher suite.
    pub cipher_suite: CipherSuite,
    /// SFIDCOMP: the file compression algorithm.
    pub compression: FileCompression,
    /// SFIDENV: the file enveloping format.
    pub enveloping: FileEnveloping,
    /// SFIDSIGN: a signed EERP is requested.
    pub signed_eerp_request: bool,
    /// SFIDDESC (with SFIDDESCL): the Virtual File Description.
    pub description: Utf8Text,
}

impl Sfid {
    pub(crate) const LEN_V1: usize = 128;
    pub(crate) const FIXED_LEN_V2: usize = 165;

    pub(crate) fn decode(r: &mut Reader<'_>, layout: Layout) -> Result<Self, DecodeError> {
        r.literal("SFIDCMD", "H")?;
        let header = FileHeader::decode(r, layout, &SFID_FIELDS)?;
        let format = r.one_of("SFIDFMT", &["F", "V", "U", "T"], RecordFormat::from_wire)?;
        let max_record_length =
            r.numeric_as("SFIDLRECL", 5, "9(5) record length", RecordLength::new)?;
        let v2 = layout == Layout::V20;
        let size_digits = if v2 { 13 } else { 7 };
        let file_size = r.numeric_as("SFIDFSIZ", size_digits, "9(n) 1K blocks", FileSize::new)?;
        let original_file_size = if v2 {
            r.numeric_as("SFIDOSIZ", 13, "9(13) 1K blocks", FileSize::new)?
        } else {
            file_size
        };
        let rest_digits = if v2 { 17 } else { 9 };
        let restart_position =
            r.numeric_as("SFIDREST", rest_digits, "9(n) position", RestartPosition::new)?;
        let mut sfid = Sfid {
            dataset_name: header.dataset_name,
            date: header.date,
            time: header.time,
            user_data: header.user_data,
            destination: header.destination,
            originator: header.originator,
            format,
            max_record_length,
            file_size,
            original_file_size,
            restart_position,
            security_level: SecurityLevel::None,
            cipher_suite: CipherSuite::NONE,
            compression: FileCompression::None,
            enveloping: FileEnveloping::None,
            signed_eerp_request: false,
            description: Utf8Text::empty(),
        };
        if v2 {
            sfid.security_level = r.numeric_as("SFIDSEC", 2, "00, 01, 02 or 03", |n| {
                SecurityLevel::from_wire(n as u8).ok_or(())
            })?;
            sfid.cipher_suite = r.numeric_as("SFIDCIPH", 2, "9(2) cipher suite", |n| {
                CipherSuite::new(n as u8).ok_or(())
            })?;
            sfid.compression = r.numeric_as("SFIDCOMP", 1, "0 or 1", |n| {
                FileCompression::from_wire(n as u8).ok_or(())
            })?;
            sfid.enveloping = r.numeric_as("SFIDENV", 1, "0 or 1", |n| {
                FileEnveloping::from_wire(n as u8).ok_or(())
            })?;
            sfid.signed_eerp_request = r.flag("SFIDSIGN")?;
            sfid.description = r.text("SFIDDESCL", "SFIDDESC")?;
        }
        Ok(sfid)
    }

    pub(crate) fn encoded_len(&self, level: ProtocolLevel) -> usize {
        match level.layout() {
            Layout::V20 => Self::FIXED_LEN_V2 + self.description.len(),
            Layout::V13 | Layout::V14 => Self::LEN_V1,
        }
    }

    pub(crate) fn check(&self, level: ProtocolLevel) -> Result<(), EncodeError> {
        FileHeader::check(self.date, self.time, level, &SFID_FIELDS)?;
        if level.layout() == Layout::V20 {
            return Ok(());
        }
        let not = |field, why| EncodeError::NotRepresentable { command: "SFID", field, level, why };
        if self.file_size.get() > 9_999_999 {
            return Err(not("SFIDFSIZ", "9(7) holds at most 9,999,999 blocks before 2.0"));
        }
        if self.restart_position.get() > 999_999_999 {
            return Err(not("SFIDREST", "9(9) holds at most 999,999,999 before 2.0"));
        }
        if self.security_level != SecurityLevel::None
            || self.cipher_suite != CipherSuite::NONE
            || self.compression != FileCompression::None
            || self.enveloping != FileEnveloping::None
            || self.signed_eerp_request
        {
            return Err(not("SFIDSEC", "file security and compression exist only from 2.0 on"));
        }
        Ok(())
    }

    pub(crate) fn encode<B: BufMut + ?Sized>(&self, w: &mut Writer<'_, B>, level: ProtocolLevel) {
        w.octet(b'H');
        let header = FileHeader {
            dataset_name: self.dataset_name,
            date: self.date,
            time: self.time,
            user_data: self.user_data,
            destination: self.destination,
            originator: self.originator,
        };
        header.encode(w, level);
        w.octet(self.format.wire());
        w.numeric(self.max_record_length.get(), 5);
        if level.layout() == Layout::V20 {
            w.numeric(self.file_size.get(), 13);
            w.numeric(self.original_file_size.get(), 13);
            w.numeric(self.restart_position.get(), 17);
            w.numeric(self.security_level.wire().into(), 2);
            w.numeric(self.cipher_suite.value().into(), 2);
            w.numeric(self.compression.wire().into(), 1);
            w.numeric(self.enveloping.wire().into(), 1);
            w.flag(self.signed_eerp_request);
            w.text(&self.description);
        } else {
            w.numeric(self.file_size.get(), 7);
            w.numeric(self.restart_position.get(), 9);
        }
    }
}

/// SFPA, Start File Positive Answer (§5.3.4): the Listener accepts the file and says from
/// where (SFPAACNT, no greater than SFIDREST; zero without restart). 9 digits before 2.0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Sfpa {
    /// SFPAACNT: the answer count, the restart position the Listener accepts.
    pub answer_count: RestartPosition,
}

impl Sfpa {
    pub(crate) fn digits(level: ProtocolLevel) -> usize {
        if level.layout() == Layout::V20 {
            17
        } else {
            9
        }
    }

    pub(crate) fn decode(r: &mut Reader<'_>, layout: Layout) -> Result<Self, DecodeError> {
        r.literal("SFPACMD", "2")?;
        let digits = if layout == Layout::V20 { 17 } else { 9 };
        let answer_count =
            r.numeric_as("SFPAACNT", digits, "9(n) position", RestartPosition::new)?;
        Ok(Sfpa { answer_count })
    }

    pub(crate) fn check(&self, level: ProtocolLevel) -> Result<(), EncodeError> {
        if Self::digits(level) == 9 && self.answer_count.get() > 999_999_999 {
            return Err(EncodeError::NotRepresentable {
                command: "SFPA",
                field: "SFPAACNT",
                level,
                why: "9(9) holds at most 999,999,999 before 2.0",
            });
        }
        Ok(())
    }
}

/// SFNA, Start File Negative Answer (§5.3.5): the Listener refuses the file. Before 2.0
/// there is no reason text (dropped when encoding for such a peer).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Sfna {
    /// SFNAREAS: the answer reason.
    pub reason: SfnaReason,
    /// SFNARRTR: `true` (`Y`) if the Speaker may retry later.
    pub retry: bool,
    /// SFNAREAST (with SFNAREASL): the reason in words.
    pub text: Utf8Text,
}

impl Sfna {
    pub(crate) fn decode(r: &mut Reader<'_>, layout: Layout) -> Result<Self, DecodeError> {
        r.literal("SFNACMD", "3")?;
        let reason =
            r.numeric_as("SFNAREAS", 2, "9(2) reason", |n| SfnaReason::try_from(n as u8))?;
        let retry = r.flag("SFNARRTR")?;
        let text = match layout {
            Layout::V20 => r.text("SFNAREASL", "SFNAREAST")?,
            Layout::V13 | Layout::V14 => Utf8Text::empty(),
        };
        Ok(Sfna { reason, retry, text })
    }
}

/// EFID, End File (§5.3.8): the Speaker has sent the whole file. Before 2.0 the record
/// count has 9 digits and the unit count 12.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Efid {
    /// EFIDRCNT: the record count (F and V; zero for U and T).
    pub record_count: RecordCount,
    /// EFIDUCNT: the unit count, octets of user data before buffer compression.
    pub unit_count: UnitCount,
}

impl Efid {
    pub(crate) fn decode(r: &mut Reader<'_>, layout: Layout) -> Result<Self, DecodeError> {
        r.literal("EFIDCMD", "T")?;
        let (rcnt, ucnt) = if layout == Layout::V20 { (17, 17) } else { (9, 12) };
        let record_count = r.numeric_as("EFIDRCNT", rcnt, "9(n) count", RecordCount::new)?;
        let unit_count = r.numeric_as("EFIDUCNT", ucnt, "9(n) count", UnitCount::new)?;
        Ok(Efid { record_count, unit_count })
    }

    pub(crate) fn check(&self, level: ProtocolLevel) -> Result<(), EncodeError> {
        if level.layout() == Layout::V20 {
            return Ok(());
        }
        let not = |field, why| EncodeError::NotRepresentable { command: "EFID", field, level, why };
        if self.record_count.get() > 999_999_999 {
            return Err(not("EFIDRCNT", "9(9) holds at most 999,999,999 before 2.0"));
        }
        if self.unit_count.get() > 999_999_999_999 {
            return Err(not("EFIDUCNT", "9(12) holds at most 999,999,999,999 before 2.0"));
        }
        Ok(())
    }

    pub(crate) fn encode<B: BufMut + ?Sized>(&self, w: &mut Writer<'_, B>, level: ProtocolLevel) {
        let (rcnt, ucnt) = if level.layout() == Layout::V20 { (17, 17) } else { (9, 12) };
        w.octet(b'T');
        w.numeric(self.record_count.get(), rcnt);
        w.numeric(self.unit_count.get(), ucnt);
    }
}

/// EFPA, End File Positive Answer (§5.3.9): the Listener has the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Efpa {
    /// EFPACD: `true` (`Y`) if the Listener asks the Speaker for a Change Direction.
    pub change_direction: bool,
}

/// EFNA, End File Negative Answer (§5.3.10): the Listener refuses the file after EFID.
/// Before 2.0 there is no reason text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Efna {
    /// EFNAREAS: the answer reason.
    pub reason: EfnaReason,
    /// EFNAREAST (with EFNAREASL): the reason in words.
    pub text: Utf8Text,
}

impl Efna {
    pub(crate) fn decode(r: &mut Reader<'_>, layout: Layout) -> Result<Self, DecodeError> {
        r.literal("EFNACMD", "5")?;
        let reason =
            r.numeric_as("EFNAREAS", 2, "9(2) reason", |n| EfnaReason::try_from(n as u8))?;
        let text = match layout {
            Layout::V20 => r.text("EFNAREASL", "EFNAREAST")?,
            Layout::V13 | Layout::V14 => Utf8Text::empty(),
        };
        Ok(Efna { reason, text })
    }
}
