//! What the engine tells the application.

use bytes::Bytes;
use oftp2_codec::command::{Eerp, Efid, Efna, Nerp, Sfid, Sfna, Ssid};
use oftp2_codec::fields::RestartPosition;
use oftp2_codec::reason::EsidReason;
use oftp2_codec::record::Counts;

use super::negotiate::Negotiated;

/// An application's handle for a file it queued or a receipt it owes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Token(pub u64);

/// An end-to-end response, positive (EERP) or negative (NERP).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Receipt {
    /// EERP: the final recipient has the file.
    Eerp(Eerp),
    /// NERP: the file could not be delivered or processed.
    Nerp(Nerp),
}

impl Receipt {
    /// The command name, `"EERP"` or `"NERP"`.
    pub fn name(&self) -> &'static str {
        match self {
            Receipt::Eerp(_) => "EERP",
            Receipt::Nerp(_) => "NERP",
        }
    }
}

/// How a session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionEnd {
    /// ESID 00 after the Speaker had nothing more to send: the normal end.
    Normal,
    /// We ended it with this ESID reason (a protocol error of the peer, a timeout, or the
    /// application's abort).
    Local {
        /// The reason we sent.
        reason: EsidReason,
        /// The text we sent.
        text: String,
    },
    /// The peer ended it with this ESID.
    Remote {
        /// The peer's reason.
        reason: EsidReason,
        /// The peer's text.
        text: String,
    },
    /// The transport closed without an ESID.
    TransportLost,
}

impl SessionEnd {
    /// Whether the session ended normally (ESID 00 either way).
    pub fn is_normal(&self) -> bool {
        match self {
            SessionEnd::Normal => true,
            SessionEnd::Remote { reason, .. } | SessionEnd::Local { reason, .. } => {
                *reason == EsidReason::NORMAL_TERMINATION
            }
            SessionEnd::TransportLost => false,
        }
    }
}

/// An event for the application, in the order the engine produced them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The Start Session phase is over (F_CONNECT_CF / F_CONNECT_IND): the peer's SSID and
    /// what was agreed. With secure authentication, only once SECD, AUCH and AURP have
    /// been exchanged both ways ([`Negotiated::secure_authentication`]).
    Connected {
        /// The peer's SSID.
        peer: Box<Ssid>,
        /// The negotiated parameters.
        negotiated: Negotiated,
    },
    /// The peer offers a file (SFID, F_START_FILE_IND). Answer with
    /// [`Session::accept_file`](super::Session::accept_file) or
    /// [`Session::refuse_file`](super::Session::refuse_file).
    StartFileRequest {
        /// The peer's SFID.
        sfid: Box<Sfid>,
    },
    /// We refused the peer's file with this SFNA (F_START_FILE_RSP(-)): by the
    /// application's answer ([`Session::refuse_file`](super::Session::refuse_file)) or by
    /// the engine itself (the partner may not send to us, its file security policy,
    /// settings that cannot be honoured). Nothing of the file is received.
    IncomingFileRefused {
        /// The peer's SFID.
        sfid: Box<Sfid>,
        /// Our answer.
        sfna: Sfna,
    },
    /// Octets of the incoming file (F_DATA_IND), in order.
    FileData {
        /// The octets.
        data: Bytes,
        /// What has arrived of the file so far, these octets included, counted from its
        /// start: a restart checkpoint once the octets are durable.
        counts: Counts,
    },
    /// The incoming file is complete and its counts check out (EFID, F_CLOSE_FILE_IND).
    /// Make it durable, then call [`Session::file_closed`](super::Session::file_closed):
    /// EFPA is sent only then.
    EndOfFile {
        /// The EFID.
        efid: Efid,
        /// The counts received, from the start of the file.
        counts: Counts,
    },
    /// The incoming file failed before the application could close it: the engine sent
    /// this EFNA (counts that do not match, malformed records) or the session ended.
    IncomingFileFailed {
        /// What was sent to the peer, if anything.
        efna: Option<Efna>,
        /// Why, in words.
        why: String,
    },
    /// The peer accepted our file (SFPA, F_START_FILE_CF(+)): feed its octets from
    /// offset `feed_from` on with [`Session::push_data`](super::Session::push_data),
    /// then call [`Session::finish_data`](super::Session::finish_data).
    FileAccepted {
        /// The file.
        token: Token,
        /// SFPAACNT: the restart position the peer accepted (zero without restart).
        position: RestartPosition,
        /// The octet offset of the local file to feed from. For a V file restarted at a
        /// record, this is 0 and the engine skips the records the peer already has.
        feed_from: u64,
    },
    /// The peer refused our file (SFNA, F_START_FILE_CF(-)).
    FileRefused {
        /// The file.
        token: Token,
        /// The peer's answer.
        sfna: Sfna,
    },
    /// The peer has our file (EFPA, F_CLOSE_FILE_CF(+)); its EERP or NERP comes later.
    FileSent {
        /// The file.
        token: Token,
        /// What was sent, from the start of the file.
        counts: Counts,
    },
    /// We could not send our file: its SFID does not fit the negotiated level, the
    /// peer may not receive files, or the local file did not match its record format.
    FileFailed {
        /// The file.
        token: Token,
        /// Why, in words.
        why: String,
    },
    /// The peer rejected our file after EFID (EFNA, F_CLOSE_FILE_CF(-)).
    FileRejected {
        /// The file.
        token: Token,
        /// The peer's answer.
        efna: Efna,
    },
    /// An EERP or NERP arrived (F_EERP_IND / F_NERP_IND). Record it, then call
    /// [`Session::receipt_processed`](super::Session::receipt_processed): RTR is sent
    /// only then.
    ReceiptReceived {
        /// The receipt.
        receipt: Box<Receipt>,
    },
    /// The peer acknowledged a receipt we sent (RTR, F_RTR_CF).
    ReceiptDelivered {
        /// The receipt.
        token: Token,
    },
    /// The session is over; nothing more will be sent or received.
    Closed {
        /// How it ended.
        end: SessionEnd,
    },
}

/// Our side of the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// We opened the connection and send SSID first; first Speaker.
    Initiator,
    /// We accepted the connection and send SSRM first.
    Responder,
}
