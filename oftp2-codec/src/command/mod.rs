//! The OFTP commands (§5.3) as typed values, with their decoding and encoding at each
//! protocol level.
//!
//! A [`Command`] is one Command Exchange Buffer (or a DATA exchange buffer). Decode a
//! complete exchange buffer, as cut out of the stream by the stream transmission header,
//! with [`Command::from_exchange_buffer`]; decode from a stream of octets without framing
//! (X.25 style) with [`Command::decode`], which tells "need more octets" from "malformed".
//! Encode with [`Command::encode`] into any [`BufMut`].
//!
//! ```
//! use oftp2_codec::command::{Command, Esid};
//! use oftp2_codec::ProtocolLevel;
//!
//! let esid = Command::Esid(Esid::normal());
//! let octets = esid.to_bytes(ProtocolLevel::V2_0)?;
//! assert_eq!(&octets[..], b"F00000\r");
//! assert_eq!(Command::from_exchange_buffer(octets, ProtocolLevel::V2_0)?, esid);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod end;
mod file;
mod receipt;
mod session;
pub(crate) mod wire;

use core::fmt;

use bytes::{BufMut, Bytes, BytesMut};

pub use end::Esid;
pub use file::{Efid, Efna, Efpa, Sfid, Sfna, Sfpa};
pub use receipt::{Eerp, Nerp};
pub use session::{Auch, Aurp, Ssid, Ssrm};

use crate::error::{DecodeError, EncodeError, Expected, Found, Malformed};
use crate::level::{Layout, ProtocolLevel};
use crate::reason::EsidReason;
use wire::{Reader, Writer};

/// The largest exchange buffer: 99,999 octets (SSIDSDEB's maximum, §5.3.2).
pub const MAX_EXCHANGE_BUFFER: usize = 99_999;

/// The command identifier, the first octet of every exchange buffer (§5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum CommandCode {
    /// `I`: Start Session Ready Message.
    Ssrm,
    /// `X`: Start Session.
    Ssid,
    /// `H`: Start File.
    Sfid,
    /// `2`: Start File Positive Answer.
    Sfpa,
    /// `3`: Start File Negative Answer.
    Sfna,
    /// `D`: Data Exchange Buffer.
    Data,
    /// `C`: Set Credit.
    Cdt,
    /// `T`: End File.
    Efid,
    /// `4`: End File Positive Answer.
    Efpa,
    /// `5`: End File Negative Answer.
    Efna,
    /// `F`: End Session.
    Esid,
    /// `R`: Change Direction.
    Cd,
    /// `E`: End to End Response.
    Eerp,
    /// `N`: Negative End Response (from 1.4 on).
    Nerp,
    /// `P`: Ready To Receive.
    Rtr,
    /// `J`: Security Change Direction (2.0).
    Secd,
    /// `A`: Authentication Challenge (2.0).
    Auch,
    /// `S`: Authentication Response (2.0).
    Aurp,
}

impl CommandCode {
    /// Every command.
    pub const ALL: [Self; 18] = [
        Self::Ssrm,
        Self::Ssid,
        Self::Sfid,
        Self::Sfpa,
        Self::Sfna,
        Self::Data,
        Self::Cdt,
        Self::Efid,
        Self::Efpa,
        Self::Efna,
        Self::Esid,
        Self::Cd,
        Self::Eerp,
        Self::Nerp,
        Self::Rtr,
        Self::Secd,
        Self::Auch,
        Self::Aurp,
    ];

    /// The command identifier octet.
    pub const fn octet(self) -> u8 {
        match self {
            Self::Ssrm => b'I',
            Self::Ssid => b'X',
            Self::Sfid => b'H',
            Self::Sfpa => b'2',
            Self::Sfna => b'3',
            Self::Data => b'D',
            Self::Cdt => b'C',
            Self::Efid => b'T',
            Self::Efpa => b'4',
            Self::Efna => b'5',
            Self::Esid => b'F',
            Self::Cd => b'R',
            Self::Eerp => b'E',
            Self::Nerp => b'N',
            Self::Rtr => b'P',
            Self::Secd => b'J',
            Self::Auch => b'A',
            Self::Aurp => b'S',
        }
    }

    /// The command with this identifier octet.
    pub const fn from_octet(octet: u8) -> Option<Self> {
        Some(match octet {
            b'I' => Self::Ssrm,
            b'X' => Self::Ssid,
            b'H' => Self::Sfid,
            b'2' => Self::Sfpa,
            b'3' => Self::Sfna,
            b'D' => Self::Data,
            b'C' => Self::Cdt,
            b'T' => Self::Efid,
            b'4' => Self::Efpa,
            b'5' => Self::Efna,
            b'F' => Self::Esid,
            b'R' => Self::Cd,
            b'E' => Self::Eerp,
            b'N' => Self::Nerp,
            b'P' => Self::Rtr,
            b'J' => Self::Secd,
            b'A' => Self::Auch,
            b'S' => Self::Aurp,
            _ => return None,
        })
    }

    /// The RFC's four-letter name (`"SFID"`).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Ssrm => "SSRM",
            Self::Ssid => "SSID",
            Self::Sfid => "SFID",
            Self::Sfpa => "SFPA",
            Self::Sfna => "SFNA",
            Self::Data => "DATA",
            Self::Cdt => "CDT",
            Self::Efid => "EFID",
            Self::Efpa => "EFPA",
            Self::Efna => "EFNA",
            Self::Esid => "ESID",
            Self::Cd => "CD",
            Self::Eerp => "EERP",
            Self::Nerp => "NERP",
            Self::Rtr => "RTR",
            Self::Secd => "SECD",
            Self::Auch => "AUCH",
            Self::Aurp => "AURP",
        }
    }

    /// Whether the command exists at `level`: SECD, AUCH and AURP from 2.0, NERP from 1.4.
    pub const fn exists_at(self, level: ProtocolLevel) -> bool {
        match self {
            Self::Secd | Self::Auch | Self::Aurp => matches!(level.layout(), Layout::V20),
            Self::Nerp => !matches!(level.layout(), Layout::V13),
            _ => true,
        }
    }
}

impl fmt::Display for CommandCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

/// DATA, Data Exchange Buffer (§5.3.6): `D` followed by subrecords (§7).
///
/// The payload (DATABUF) is kept as it travels; decoding a DATA exchange buffer with
/// [`Command::from_exchange_buffer`] slices it out of the buffer without copying.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Data {
    /// DATABUF: subrecord headers and subrecords.
    pub payload: Bytes,
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for Data {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        let len = u.int_in_range(0..=1024)?;
        Ok(Data { payload: Bytes::copy_from_slice(u.bytes(len)?) })
    }
}

/// One OFTP command.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[allow(missing_docs)] // each variant is its command, documented on its type
pub enum Command {
    Ssrm(Ssrm),
    Ssid(Ssid),
    Sfid(Sfid),
    Sfpa(Sfpa),
    Sfna(Sfna),
    Data(Data),
    /// CDT, Set Credit (§5.3.7): `C` and two reserved octets.
    Cdt,
    Efid(Efid),
    Efpa(Efpa),
    Efna(Efna),
    Esid(Esid),
    /// CD, Change Direction (§5.3.12).
    Cd,
    Eerp(Eerp),
    Nerp(Nerp),
    /// RTR, Ready To Receive (§5.3.15).
    Rtr,
    /// SECD, Security Change Direction (§5.3.16).
    Secd,
    Auch(Auch),
    Aurp(Aurp),
}

macro_rules! from_command {
    ($($variant:ident),*) => {$(
        impl From<$variant> for Command {
            fn from(command: $variant) -> Self {
                Command::$variant(command)
            }
        }
    )*};
}
from_command!(Ssrm, Ssid, Sfid, Sfpa, Sfna, Data, Efid, Efpa, Efna, Esid, Eerp, Nerp, Auch, Aurp);

impl Command {
    /// The command's identifier.
    pub fn code(&self) -> CommandCode {
        match self {
            Command::Ssrm(_) => CommandCode::Ssrm,
            Command::Ssid(_) => CommandCode::Ssid,
            Command::Sfid(_) => CommandCode::Sfid,
            Command::Sfpa(_) => CommandCode::Sfpa,
            Command::Sfna(_) => CommandCode::Sfna,
            Command::Data(_) => CommandCode::Data,
            Command::Cdt => CommandCode::Cdt,
            Command::Efid(_) => CommandCode::Efid,
            Command::Efpa(_) => CommandCode::Efpa,
            Command::Efna(_) => CommandCode::Efna,
            Command::Esid(_) => CommandCode::Esid,
            Command::Cd => CommandCode::Cd,
            Command::Eerp(_) => CommandCode::Eerp,
            Command::Nerp(_) => CommandCode::Nerp,
            Command::Rtr => CommandCode::Rtr,
            Command::Secd => CommandCode::Secd,
            Command::Auch(_) => CommandCode::Auch,
            Command::Aurp(_) => CommandCode::Aurp,
        }
    }

    /// Decodes the command at the start of `input`, a stream without exchange buffer
    /// boundaries, in the layouts of `level`; returns it and the number of octets used.
    ///
    /// [`DecodeError::Incomplete`] means `input` ends inside the command. A DATA command
    /// has no length of its own: it takes all of `input` (its payload is copied; see
    /// [`Command::from_exchange_buffer`] for the zero-copy path).
    pub fn decode(input: &[u8], level: ProtocolLevel) -> Result<(Command, usize), DecodeError> {
        let (command, used) = decode_at(input, level, false)?;
        let command = match command {
            Decoded::Command(command) => command,
            Decoded::Data { start } => {
                let payload = Bytes::copy_from_slice(input.get(start..).unwrap_or_default());
                Command::Data(Data { payload })
            }
        };
        Ok((command, used))
    }

    /// Decodes one complete exchange buffer (the octets after a stream transmission
    /// header), which must hold exactly one command.
    ///
    /// A buffer shorter or longer than its command is an exchange buffer size error (ESID
    /// 07). A DATA payload is a slice of `buffer`, not a copy.
    pub fn from_exchange_buffer(buffer: Bytes, level: ProtocolLevel) -> Result<Command, Malformed> {
        let item = buffer
            .first()
            .copied()
            .and_then(CommandCode::from_octet)
            .map_or("exchange buffer", CommandCode::name);
        let (command, used) =
            decode_at(&buffer, level, true).map_err(|e| e.into_malformed(item, buffer.len()))?;
        if used != buffer.len() {
            return Err(Malformed {
                item,
                field: "length",
                offset: used,
                expected: Expected::Length(used),
                found: Found::Length(buffer.len()),
                reason: EsidReason::EXCHANGE_BUFFER_SIZE_ERROR,
            });
        }
        Ok(match command {
            Decoded::Command(command) => command,
            Decoded::Data { start } => Command::Data(Data { payload: buffer.slice(start..) }),
        })
    }

    /// The number of octets [`Command::encode`] writes at `level`.
    pub fn encoded_len(&self, level: ProtocolLevel) -> usize {
        let v2 = level.layout() == Layout::V20;
        match self {
            Command::Ssrm(_) => Ssrm::LEN,
            Command::Ssid(_) => Ssid::LEN,
            Command::Sfid(sfid) => sfid.encoded_len(level),
            Command::Sfpa(_) => 1 + Sfpa::digits(level),
            Command::Sfna(sfna) => 4 + if v2 { 3 + sfna.text.len() } else { 0 },
            Command::Data(data) => 1 + data.payload.len(),
            Command::Cdt => 3,
            Command::Efid(_) => 1 + if v2 { 34 } else { 21 },
            Command::Efpa(_) => 2,
            Command::Efna(efna) => 3 + if v2 { 3 + efna.text.len() } else { 0 },
            Command::Esid(esid) => esid.encoded_len(level),
            Command::Cd | Command::Rtr | Command::Secd => 1,
            Command::Eerp(eerp) => eerp.encoded_len(level),
            Command::Nerp(nerp) => nerp.encoded_len(level),
            Command::Auch(auch) => 3 + auch.challenge.len(),
            Command::Aurp(_) => Aurp::LEN,
        }
    }

    /// Encodes the command in the layout of `level` into `out`.
    ///
    /// Nothing is written when an error is returned: a field the layout cannot carry
    /// (see [`EncodeError`]), a command that does not exist at `level`, or an exchange
    /// buffer longer than 99,999 octets. Reason and description texts, which levels before
    /// 2.0 do not have, are left out for them.
    pub fn encode<B: BufMut + ?Sized>(
        &self,
        level: ProtocolLevel,
        out: &mut B,
    ) -> Result<(), EncodeError> {
        self.check(level)?;
        let mut w = Writer::new(out);
        match self {
            Command::Ssrm(ssrm) => ssrm.encode(&mut w),
            Command::Ssid(ssid) => ssid.encode(&mut w),
            Command::Sfid(sfid) => sfid.encode(&mut w, level),
            Command::Sfpa(sfpa) => {
                w.octet(b'2');
                w.numeric(sfpa.answer_count.get(), Sfpa::digits(level));
            }
            Command::Sfna(sfna) => {
                w.octet(b'3');
                w.numeric(sfna.reason.value().into(), 2);
                w.flag(sfna.retry);
                if level.layout() == Layout::V20 {
                    w.text(&sfna.text);
                }
            }
            Command::Data(data) => {
                w.octet(b'D');
                w.octets(&data.payload);
            }
            Command::Cdt => {
                w.octet(b'C');
                w.spaces(2);
            }
            Command::Efid(efid) => efid.encode(&mut w, level),
            Command::Efpa(efpa) => {
                w.octet(b'4');
                w.flag(efpa.change_direction);
            }
            Command::Efna(efna) => {
                w.octet(b'5');
                w.numeric(efna.reason.value().into(), 2);
                if level.layout() == Layout::V20 {
                    w.text(&efna.text);
                }
            }
            Command::Esid(esid) => esid.encode(&mut w, level),
            Command::Cd => w.octet(b'R'),
            Command::Eerp(eerp) => eerp.encode(&mut w, level),
            Command::Nerp(nerp) => nerp.encode(&mut w, level),
            Command::Rtr => w.octet(b'P'),
            Command::Secd => w.octet(b'J'),
            Command::Auch(auch) => {
                w.octet(b'A');
                w.binary(&auch.challenge);
            }
            Command::Aurp(aurp) => {
                w.octet(b'S');
                w.octets(&aurp.response);
            }
        }
        Ok(())
    }

    /// The command encoded at `level` as a new buffer.
    pub fn to_bytes(&self, level: ProtocolLevel) -> Result<Bytes, EncodeError> {
        let mut out = BytesMut::with_capacity(self.encoded_len(level));
        self.encode(level, &mut out)?;
        Ok(out.freeze())
    }

    fn check(&self, level: ProtocolLevel) -> Result<(), EncodeError> {
        let code = self.code();
        if !code.exists_at(level) {
            return Err(EncodeError::NotAtLevel { command: code.name(), level });
        }
        match self {
            Command::Ssid(ssid) => ssid.check()?,
            Command::Sfid(sfid) => sfid.check(level)?,
            Command::Sfpa(sfpa) => sfpa.check(level)?,
            Command::Efid(efid) => efid.check(level)?,
            Command::Esid(esid) => esid.check(level)?,
            Command::Eerp(eerp) => eerp.check(level)?,
            Command::Nerp(nerp) => nerp.check(level)?,
            Command::Auch(auch) => auch.check(level)?,
            _ => {}
        }
        let length = self.encoded_len(level);
        if length > MAX_EXCHANGE_BUFFER {
            return Err(EncodeError::TooLong {
                item: code.name(),
                length,
                limit: MAX_EXCHANGE_BUFFER,
            });
        }
        Ok(())
    }
}

enum Decoded {
    Command(Command),
    Data { start: usize },
}

fn decode_at(
    input: &[u8],
    level: ProtocolLevel,
    whole_buffer: bool,
) -> Result<(Decoded, usize), DecodeError> {
    let Some(&first) = input.first() else {
        return Err(DecodeError::Incomplete { needed: 1 });
    };
    let code = match CommandCode::from_octet(first) {
        Some(code) if code.exists_at(level) => code,
        _ => {
            return Err(Malformed {
                item: "exchange buffer",
                field: "command code",
                offset: 0,
                expected: Expected::CommandCode,
                found: Found::octets(&[first]),
                reason: EsidReason::COMMAND_NOT_RECOGNISED,
            }
            .into())
        }
    };
    if code == CommandCode::Data {
        return Ok((Decoded::Data { start: 1 }, input.len()));
    }
    let layout = level.layout();
    let mut r = Reader::new(input, code.name());
    let command = match code {
        CommandCode::Ssrm => Command::Ssrm(Ssrm::decode(&mut r)?),
        CommandCode::Ssid => Command::Ssid(Ssid::decode(&mut r)?),
        CommandCode::Sfid => Command::Sfid(Sfid::decode(&mut r, layout)?),
        CommandCode::Sfpa => Command::Sfpa(Sfpa::decode(&mut r, layout)?),
        CommandCode::Sfna => Command::Sfna(Sfna::decode(&mut r, layout)?),
        CommandCode::Cdt => {
            r.literal("CDTCMD", "C")?;
            r.reserved(2)?;
            Command::Cdt
        }
        CommandCode::Efid => Command::Efid(Efid::decode(&mut r, layout)?),
        CommandCode::Efpa => {
            r.literal("EFPACMD", "4")?;
            Command::Efpa(Efpa { change_direction: r.flag("EFPACD")? })
        }
        CommandCode::Efna => Command::Efna(Efna::decode(&mut r, layout)?),
        CommandCode::Esid => Command::Esid(Esid::decode(&mut r, layout, whole_buffer)?),
        CommandCode::Cd => single(&mut r, "CDCMD", "R", Command::Cd)?,
        CommandCode::Eerp => Command::Eerp(Eerp::decode(&mut r, layout)?),
        CommandCode::Nerp => Command::Nerp(Nerp::decode(&mut r, layout)?),
        CommandCode::Rtr => single(&mut r, "RTRCMD", "P", Command::Rtr)?,
        CommandCode::Secd => single(&mut r, "SECDCMD", "J", Command::Secd)?,
        CommandCode::Auch => Command::Auch(Auch::decode(&mut r)?),
        CommandCode::Aurp => Command::Aurp(Aurp::decode(&mut r)?),
        CommandCode::Data => return Ok((Decoded::Data { start: 1 }, input.len())),
    };
    Ok((Decoded::Command(command), r.position()))
}

fn single(
    r: &mut Reader<'_>,
    field: &'static str,
    literal: &'static str,
    command: Command,
) -> Result<Command, DecodeError> {
    r.literal(field, literal)?;
    Ok(command)
}
