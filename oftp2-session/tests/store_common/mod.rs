//! Helpers shared by the store tests.
#![allow(clippy::unwrap_used, dead_code, unreachable_pub)]

use oftp2_codec::command::Sfid;
use oftp2_codec::fields::{
    CipherSuite, FileCompression, FileEnveloping, FileSize, OdetteId, RecordFormat, RecordLength,
    RestartPosition, SecurityLevel, UserData, Utf8Text, VirtualFileDate, VirtualFileTime,
};
use oftp2_codec::record::file_size;
use oftp2_session::store::{DeliveredFile, FsStore, IncomingDecision, IncomingFile, StoreOptions};
use std::path::Path;

pub const US: &str = "O0013000000000000001";
pub const PARTNER: &str = "O0013000000000000002";

pub fn us() -> OdetteId {
    US.parse().unwrap()
}

pub fn partner() -> OdetteId {
    PARTNER.parse().unwrap()
}

pub fn open(dir: &std::path::Path) -> FsStore {
    FsStore::open(dir, us()).unwrap()
}

/// An SFID from the partner to us for a file of `octets` octets.
pub fn sfid(dsn: &str, format: RecordFormat, lrecl: u64, octets: u64) -> Sfid {
    Sfid {
        dataset_name: dsn.parse().unwrap(),
        date: VirtualFileDate::new(2026, 11, 23).unwrap(),
        time: VirtualFileTime::new(14, 30, 5, 1).unwrap(),
        user_data: UserData::EMPTY,
        destination: us(),
        originator: partner(),
        format,
        max_record_length: RecordLength::new(lrecl).unwrap(),
        file_size: file_size(octets),
        original_file_size: FileSize::new(0).unwrap(),
        restart_position: RestartPosition::new(0).unwrap(),
        security_level: SecurityLevel::None,
        cipher_suite: CipherSuite::NONE,
        compression: FileCompression::None,
        enveloping: FileEnveloping::None,
        signed_eerp_request: false,
        description: Utf8Text::empty(),
    }
}

pub fn with_rest(mut sfid: Sfid, position: u64) -> Sfid {
    sfid.restart_position = RestartPosition::new(position).unwrap();
    sfid
}

/// Octets that differ from position to position.
pub fn content(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

pub fn accept(decision: IncomingDecision) -> (Box<dyn IncomingFile>, oftp2_codec::record::Counts) {
    match decision {
        IncomingDecision::Accept { file, restart_from } => (file, restart_from),
        other => panic!("expected Accept, got {other:?}"),
    }
}

pub fn duplicate(decision: IncomingDecision) -> (Box<dyn IncomingFile>, DeliveredFile) {
    match decision {
        IncomingDecision::Duplicate { file, original } => (file, *original),
        other => panic!("expected Duplicate, got {other:?}"),
    }
}

/// The names in a folder, sorted.
pub fn names(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = match std::fs::read_dir(dir) {
        Ok(entries) => entries.map(|e| e.unwrap().file_name().into_string().unwrap()).collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    names
}

/// A [`FileSecurity`](oftp2_session::protection::FileSecurity) that copies files as they
/// are: for store tests about when security is asked for, not about the cryptography
/// (which `session_security.rs` tests with the real one).
#[derive(Debug, Default)]
pub struct PassThrough {
    /// Unwrapping writes this many more octets after the file (a decompression bomb).
    pub inflate: u64,
}

impl oftp2_session::protection::FileSecurity for PassThrough {
    fn protect(
        &self,
        _: &OdetteId,
        _: &oftp2_session::protection::FileServices,
        original: &mut dyn std::io::Read,
        transmitted: &mut dyn std::io::Write,
    ) -> Result<Vec<u8>, oftp2_session::protection::ProtectionError> {
        std::io::copy(original, transmitted).unwrap();
        Ok(Vec::new())
    }

    fn unprotect(
        &self,
        _: &OdetteId,
        _: &Sfid,
        transmitted: &mut dyn std::io::Read,
        original: &mut dyn std::io::Write,
    ) -> Result<Vec<u8>, oftp2_session::protection::ProtectionError> {
        std::io::copy(transmitted, original).unwrap();
        let zeros = vec![0u8; 64 * 1024];
        let mut left = self.inflate;
        while left > 0 {
            let n = left.min(zeros.len() as u64) as usize;
            if let Err(e) = original.write_all(&zeros[..n]) {
                return Err(oftp2_session::protection::ProtectionError::local(e.to_string()));
            }
            left -= n as u64;
        }
        Ok(Vec::new())
    }

    fn digest(
        &self,
        _: CipherSuite,
        _: &mut dyn std::io::Read,
    ) -> Result<Vec<u8>, oftp2_session::protection::ProtectionError> {
        Ok(Vec::new())
    }

    fn sign_receipt(
        &self,
        _: &OdetteId,
        _: CipherSuite,
        _: &mut oftp2_session::store::Receipt,
        _: &[u8],
    ) -> Result<(), oftp2_session::protection::ProtectionError> {
        Ok(())
    }

    fn check_receipt(
        &self,
        _: &OdetteId,
        _: CipherSuite,
        _: &oftp2_session::store::Receipt,
        _: Option<&[u8]>,
    ) -> oftp2_session::protection::ReceiptCheck {
        oftp2_session::protection::ReceiptCheck::Unsigned
    }
}

/// A store with the [`PassThrough`] file security.
pub fn open_secured(dir: &Path) -> FsStore {
    open_with_security(dir, PassThrough::default(), None)
}

/// A store with this file security and size limit.
pub fn open_with_security(
    dir: &Path,
    security: PassThrough,
    max_file_size: Option<u64>,
) -> FsStore {
    let options = StoreOptions {
        security: Some(std::sync::Arc::new(security)),
        max_file_size,
        ..StoreOptions::new(us())
    };
    FsStore::with_options(dir, options).unwrap()
}
