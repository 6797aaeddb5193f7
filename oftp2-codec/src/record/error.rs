//! Errors of mapping files to records and back.

use crate::error::Malformed;
use crate::reason::{EfnaReason, EsidReason};

/// EFID announced other totals than the receiver counted (§5.3.8, §5.3.10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{field} announces {announced} but {counted} were received (answer: EFNA {reason})")]
pub struct CountMismatch {
    /// The EFID field: `"EFIDRCNT"` or `"EFIDUCNT"`.
    pub field: &'static str,
    /// The value EFID carried.
    pub announced: u64,
    /// The value counted from the DATA buffers (plus what a restart kept).
    pub counted: u64,
    /// The EFNA reason to answer with: 10 (invalid record count) for EFIDRCNT, 11
    /// (invalid byte count) for EFIDUCNT.
    pub reason: EfnaReason,
}

/// Why a file could not be mapped to records and buffers, or back.
///
/// Errors of the sending side ([`FileEncoder`](super::FileEncoder)) describe a local
/// file that does not fit its record format; errors of the receiving side
/// ([`FileDecoder`](super::FileDecoder)) describe what the partner sent, and
/// [`efna_reason`](Self::efna_reason) / [`esid_reason`](Self::esid_reason) tell how a
/// Listener answers them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// A DATA buffer was malformed (ESID 06, or 01 when it was not a DATA buffer).
    #[error(transparent)]
    Buffer(#[from] Malformed),
    /// An F format record is not SFIDLRECL octets long.
    #[error("record {record} is {length} octet(s) long, but F format records are {expected}")]
    WrongFixedLength {
        /// The record's number, counting from 1 at the start of the file.
        record: u64,
        /// Its length (so far, when found too long before its end).
        length: u64,
        /// SFIDLRECL.
        expected: u64,
    },
    /// A V format record is longer than SFIDLRECL.
    #[error("record {record} is {length} octet(s) long, more than SFIDLRECL {max}")]
    RecordTooLong {
        /// The record's number, counting from 1 at the start of the file.
        record: u64,
        /// Its length (so far).
        length: u64,
        /// SFIDLRECL.
        max: u64,
    },
    /// The data ended inside a record: an F file whose length is no multiple of
    /// SFIDLRECL, a §6.5 length prefix announcing more octets than follow, or a last
    /// record received without End of Record.
    #[error("the data ends inside record {record} after {length} of its octet(s)")]
    UnterminatedRecord {
        /// The record's number, counting from 1 at the start of the file.
        record: u64,
        /// Octets of it that arrived.
        length: u64,
    },
    /// The data ended inside a §6.5 two-octet record length prefix.
    #[error("the data ends inside the length prefix of record {record}")]
    TruncatedLengthPrefix {
        /// The record's number, counting from 1 at the start of the file.
        record: u64,
    },
    /// A record cannot be written with a two-octet §6.5 length prefix (over 65,535
    /// octets).
    #[error("record {record} of {length} octets is too long for a 2-octet length prefix")]
    PrefixOverflow {
        /// The record's number, counting from 1 at the start of the file.
        record: u64,
        /// Its length.
        length: u64,
    },
    /// A U file (or a T file sent as one record) went on after its End of Record flag,
    /// which marks the end of the file.
    #[error("data after the end of the file, {octets} octet(s) into it")]
    DataAfterEndOfFile {
        /// Octets of the file before the extra data.
        octets: u64,
    },
    /// The EFID totals differ from what was received.
    #[error(transparent)]
    Count(#[from] CountMismatch),
    /// The settings cannot describe a file (an F file with SFIDLRECL 0, ...).
    #[error("invalid file settings: {0}")]
    InvalidSettings(&'static str),
    /// A call that the file's format or the encoder's state does not allow (such as
    /// `end_record` for a U file, or data after `finish`).
    #[error("{0}")]
    Misuse(&'static str),
}

impl RecordError {
    /// The EFNA reason a Listener answers EFID with after this error in the file's data,
    /// if it is one that the end of the file reports rather than one that ends the
    /// session.
    ///
    /// The RFC names reasons only for the EFID counts (10 and 11); for record structure
    /// errors this crate chooses: a record longer than allowed or an F record of the
    /// wrong length is 05 (maximum record length not supported), a record left
    /// unterminated is 10 (invalid record count), data after the end of a U file is 11
    /// (invalid byte count).
    pub fn efna_reason(&self) -> Option<EfnaReason> {
        match self {
            RecordError::Count(mismatch) => Some(mismatch.reason),
            RecordError::WrongFixedLength { .. } | RecordError::RecordTooLong { .. } => {
                Some(EfnaReason::RECORD_LENGTH_NOT_SUPPORTED)
            }
            RecordError::UnterminatedRecord { .. } | RecordError::TruncatedLengthPrefix { .. } => {
                Some(EfnaReason::INVALID_RECORD_COUNT)
            }
            RecordError::DataAfterEndOfFile { .. } => Some(EfnaReason::INVALID_BYTE_COUNT),
            RecordError::PrefixOverflow { .. } => Some(EfnaReason::ACCESS_METHOD_FAILURE),
            RecordError::Buffer(_) | RecordError::InvalidSettings(_) | RecordError::Misuse(_) => {
                None
            }
        }
    }

    /// The ESID reason for an error that ends the session (a malformed DATA buffer).
    pub fn esid_reason(&self) -> Option<EsidReason> {
        match self {
            RecordError::Buffer(malformed) => Some(malformed.reason),
            _ => None,
        }
    }
}
