//! Restart positions (SFIDREST, SFPAACNT; §1.5.4, §5.3.3).

use super::counts::Counts;
use crate::fields::{RecordFormat, RestartPosition};

/// The size of the blocks U and T files (and every secured file) restart on.
pub const RESTART_BLOCK: u64 = 1024;

/// Where a transfer resumes in the (transmitted) file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResumeAt {
    /// After this many records (F and V files): the next record sent is number `n + 1`.
    Record(u64),
    /// At this octet offset (U and T files, and signed, compressed or encrypted files,
    /// whose transmitted form is unstructured).
    Octet(u64),
}

/// Whether restart positions of this file count records (plain F and V files) rather
/// than 1 KiB blocks (U and T files, and files that were signed, compressed or
/// encrypted, which travel as U whatever SFIDFMT says).
pub fn restarts_on_records(format: RecordFormat, secured: bool) -> bool {
    format.restarts_on_records() && !secured
}

/// Where to resume a file of this SFIDFMT, secured (`SFIDSEC` not `00`, or `SFIDCOMP`
/// not `0`) or not, from an agreed restart position (SFPAACNT).
///
/// ```
/// use oftp2_codec::fields::{RecordFormat, RestartPosition};
/// use oftp2_codec::record::{resume_at, ResumeAt};
/// let position = RestartPosition::new(3)?;
/// assert_eq!(resume_at(RecordFormat::Variable, false, position), ResumeAt::Record(3));
/// assert_eq!(resume_at(RecordFormat::Unstructured, false, position), ResumeAt::Octet(3072));
/// // A signed V file restarts in blocks of the transmitted (secured) file.
/// assert_eq!(resume_at(RecordFormat::Variable, true, position), ResumeAt::Octet(3072));
/// # Ok::<(), oftp2_codec::fields::OutOfRange>(())
/// ```
pub fn resume_at(format: RecordFormat, secured: bool, position: RestartPosition) -> ResumeAt {
    if restarts_on_records(format, secured) {
        ResumeAt::Record(position.get())
    } else {
        ResumeAt::Octet(position.get().saturating_mul(RESTART_BLOCK))
    }
}

/// The restart position a receiver holding `received` of a file can offer (SFPAACNT,
/// or SFIDREST when it resends): the whole records for F and V, the whole 1 KiB
/// blocks otherwise (rounded down; the receiver then drops what lies beyond
/// [`resume_at`] of it).
///
/// ```
/// use oftp2_codec::fields::RecordFormat;
/// use oftp2_codec::record::{restart_position, Counts};
/// let received = Counts { records: 7, octets: 2100 };
/// assert_eq!(restart_position(RecordFormat::Fixed, false, received).get(), 7);
/// assert_eq!(restart_position(RecordFormat::Text, false, received).get(), 2);
/// ```
pub fn restart_position(format: RecordFormat, secured: bool, received: Counts) -> RestartPosition {
    if restarts_on_records(format, secured) {
        RestartPosition::saturating(received.records)
    } else {
        RestartPosition::saturating(received.octets / RESTART_BLOCK)
    }
}
