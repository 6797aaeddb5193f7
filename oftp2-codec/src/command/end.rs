//! End Session phase: ESID (§5.3.11).

use bytes::BufMut;

use super::wire::{is_cr, Reader, Writer};
use crate::error::{DecodeError, EncodeError};
use crate::fields::Utf8Text;
use crate::level::{Layout, ProtocolLevel};
use crate::reason::EsidReason;

/// ESID, End Session (§5.3.11): the session ends, normally (reason 00) or not.
///
/// Decoding follows the command's shape rather than the negotiated level, because a 2.0
/// Initiator may receive a 1.x ESID (`F`, ESIDREAS, CR: four octets) during session start:
/// if a CR follows ESIDREAS, it is the 1.x layout. Within a complete exchange buffer, a
/// missing final ESIDCR is accepted too, since some peers omit it. Encoding always writes
/// the layout of the level asked for, CR included; 1.x has no reason text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Esid {
    /// ESIDREAS: why the session ends.
    pub reason: EsidReason,
    /// ESIDREAST (with ESIDREASL): the reason in words (2.0 only).
    pub text: Utf8Text,
}

impl Esid {
    /// A normal end (reason 00) without text.
    pub fn normal() -> Self {
        Esid { reason: EsidReason::NORMAL_TERMINATION, text: Utf8Text::empty() }
    }

    /// An end for `reason`, with `text` cut to the 999 octets the field holds.
    pub fn new(reason: EsidReason, text: &str) -> Self {
        let mut end = text.len().min(Utf8Text::MAX_OCTETS);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let text = Utf8Text::new(text.get(..end).unwrap_or_default()).unwrap_or_default();
        Esid { reason, text }
    }

    pub(crate) fn decode(
        r: &mut Reader<'_>,
        layout: Layout,
        whole_buffer: bool,
    ) -> Result<Self, DecodeError> {
        r.literal("ESIDCMD", "F")?;
        let reason =
            r.numeric_as("ESIDREAS", 2, "9(2) reason", |n| EsidReason::try_from(n as u8))?;
        let short = Esid { reason, text: Utf8Text::empty() };
        match r.peek() {
            None if whole_buffer => return Ok(short),
            Some(octet) if is_cr(octet) => {
                r.cr("ESIDCR")?;
                return Ok(short);
            }
            _ => {}
        }
        let text = match layout {
            Layout::V20 => r.text("ESIDREASL", "ESIDREAST")?,
            Layout::V13 | Layout::V14 => Utf8Text::empty(),
        };
        if !(whole_buffer && r.peek().is_none()) {
            r.cr("ESIDCR")?;
        }
        Ok(Esid { reason, text })
    }

    pub(crate) fn encoded_len(&self, level: ProtocolLevel) -> usize {
        match level.layout() {
            Layout::V20 => 7 + self.text.len(),
            Layout::V13 | Layout::V14 => 4,
        }
    }

    pub(crate) fn check(&self, _level: ProtocolLevel) -> Result<(), EncodeError> {
        Ok(())
    }

    pub(crate) fn encode<B: BufMut + ?Sized>(&self, w: &mut Writer<'_, B>, level: ProtocolLevel) {
        w.octet(b'F');
        w.numeric(self.reason.value().into(), 2);
        if level.layout() == Layout::V20 {
            w.text(&self.text);
        }
        w.cr();
    }
}
