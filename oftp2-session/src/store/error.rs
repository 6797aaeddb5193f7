//! Store errors and the SFNA / EFNA reasons they become.

use std::io;
use std::path::PathBuf;

use oftp2_codec::reason::{EfnaReason, SfnaReason};

use super::types::{OutgoingId, ReceiptId, Refusal};

/// Why a store operation failed.
///
/// A listener answers a failed [`begin_incoming`](super::FileStore::begin_incoming) with
/// [`StoreError::sfna`] and a failed write, checkpoint or commit with
/// [`StoreError::efna_reason`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A file system operation failed.
    #[error("{op} {}: {source}", path.display())]
    Io {
        /// What was being done (`"create"`, `"write"`, `"fsync"`, `"rename"`, ...).
        op: &'static str,
        /// The file or directory it was done to.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// A state or metadata file of the store could not be read back.
    #[error("corrupt store file {}: {why}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        why: String,
    },
    /// The file grew beyond the configured limit
    /// ([`StoreOptions::max_file_size`](super::StoreOptions::max_file_size)).
    #[error("file exceeds the limit of {limit} octets")]
    TooBig {
        /// The limit.
        limit: u64,
    },
    /// Securing a file, unwrapping a received one or signing its receipt failed (§6):
    /// the file is refused with the EFNA reason it carries.
    #[error("file security: {0}")]
    Protection(#[from] crate::protection::ProtectionError),
    /// The same Virtual File is being received in another session right now.
    #[error("the virtual file is being received in another session")]
    Busy,
    /// No outbox entry has this id.
    #[error("no outgoing file {0}")]
    UnknownOutgoing(OutgoingId),
    /// No pending receipt has this id.
    #[error("no pending receipt {0}")]
    UnknownReceipt(ReceiptId),
    /// The outgoing file cannot be sent as described.
    #[error("invalid outgoing file: {0}")]
    InvalidOutgoing(String),
    /// [`IncomingFile::restart_at`](super::IncomingFile::restart_at) asked for a point
    /// the partial file cannot be cut back to.
    #[error("cannot resume at {asked} octets: {why}")]
    Restart {
        /// The octets asked for.
        asked: u64,
        /// Why not.
        why: &'static str,
    },
    /// The clock is outside what SFIDDATE can hold, or the stamps of a second ran out.
    #[error("cannot stamp a file: {0}")]
    Clock(&'static str),
}

impl StoreError {
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self::Io { op, path: path.into(), source }
    }

    /// Whether the error is a full disk (or an exhausted quota, or a file larger than the
    /// file system allows).
    pub fn is_storage_full(&self) -> bool {
        match self {
            Self::Io { source, .. } => is_full(source),
            _ => false,
        }
    }

    /// Whether the error is a denied access (permissions, read-only file system).
    pub fn is_permission(&self) -> bool {
        match self {
            Self::Io { source, .. } => {
                source.kind() == io::ErrorKind::PermissionDenied || is_read_only(source)
            }
            _ => false,
        }
    }

    /// The SFNA a listener answers with when the store fails before the data flows:
    /// storage full and files too large are `06` (retry later when it is the disk, not
    /// when it is the configured limit), everything else `12` access method failure
    /// with retry, since a local fault may be repaired.
    pub fn sfna(&self) -> Refusal {
        let (reason, retry) = match self {
            Self::TooBig { .. } => (SfnaReason::FILE_TOO_BIG, false),
            _ if self.is_storage_full() => (SfnaReason::FILE_TOO_BIG, true),
            _ => (SfnaReason::ACCESS_METHOD_FAILURE, true),
        };
        Refusal { reason, retry, text: self.to_string() }
    }

    /// The EFNA reason a listener answers with when the store fails while receiving or
    /// committing: `06` for a file beyond the configured limit, `12` access method
    /// failure for the rest (a full disk included; EFNA has no retry flag, and the peer
    /// may try again).
    pub fn efna_reason(&self) -> EfnaReason {
        match self {
            Self::TooBig { .. } => EfnaReason::FILE_TOO_BIG,
            Self::Protection(error) => error.efna,
            _ => EfnaReason::ACCESS_METHOD_FAILURE,
        }
    }
}

#[cfg(unix)]
fn errno(e: &io::Error) -> Option<rustix::io::Errno> {
    rustix::io::Errno::from_io_error(e)
}

#[cfg(unix)]
fn is_full(e: &io::Error) -> bool {
    use rustix::io::Errno;
    matches!(errno(e), Some(Errno::NOSPC | Errno::DQUOT | Errno::FBIG))
}

#[cfg(windows)]
fn is_full(e: &io::Error) -> bool {
    // ERROR_HANDLE_DISK_FULL, ERROR_DISK_FULL.
    matches!(e.raw_os_error(), Some(39 | 112))
}

#[cfg(not(any(unix, windows)))]
fn is_full(_: &io::Error) -> bool {
    false
}

#[cfg(unix)]
fn is_read_only(e: &io::Error) -> bool {
    use rustix::io::Errno;
    matches!(errno(e), Some(Errno::ROFS | Errno::PERM | Errno::ACCESS))
}

#[cfg(not(unix))]
fn is_read_only(_: &io::Error) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn io_error(kind: io::Error) -> StoreError {
        StoreError::io("write", "/x", kind)
    }

    #[cfg(unix)]
    #[test]
    fn os_errors_map_to_reasons() {
        use rustix::io::Errno;
        let full = io_error(io::Error::from_raw_os_error(Errno::NOSPC.raw_os_error()));
        assert!(full.is_storage_full());
        let refusal = full.sfna();
        assert_eq!((refusal.reason, refusal.retry), (SfnaReason::FILE_TOO_BIG, true));
        assert_eq!(full.efna_reason(), EfnaReason::ACCESS_METHOD_FAILURE);

        let quota = io_error(io::Error::from_raw_os_error(Errno::DQUOT.raw_os_error()));
        assert_eq!(quota.sfna().reason, SfnaReason::FILE_TOO_BIG);

        let denied = io_error(io::Error::from_raw_os_error(Errno::ACCESS.raw_os_error()));
        assert!(denied.is_permission());
        assert!(!denied.is_storage_full());
        assert_eq!(denied.sfna().reason, SfnaReason::ACCESS_METHOD_FAILURE);
        assert_eq!(denied.efna_reason(), EfnaReason::ACCESS_METHOD_FAILURE);

        let read_only = io_error(io::Error::from_raw_os_error(Errno::ROFS.raw_os_error()));
        assert!(read_only.is_permission());
    }

    #[test]
    fn limits_refuse_without_retry() {
        let err = StoreError::TooBig { limit: 10 };
        let refusal = err.sfna();
        assert_eq!((refusal.reason, refusal.retry), (SfnaReason::FILE_TOO_BIG, false));
        assert_eq!(err.efna_reason(), EfnaReason::FILE_TOO_BIG);
        assert!(refusal.text.contains("10 octets"));
    }

    #[test]
    fn messages_name_the_operation_and_path() {
        let err = io_error(io::Error::other("boom"));
        assert_eq!(err.to_string(), "write /x: boom");
    }
}
