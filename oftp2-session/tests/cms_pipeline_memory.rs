//! The §6.1 pipeline holds a bounded amount of memory whatever the file's size: a 40 MiB
//! file signed, compressed and encrypted, then unwrapped, raises the process's peak
//! resident memory by far less than the file. (Alone in its test binary, so that no other
//! test's allocations count.)

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod cms_support;
mod interop_support;

use std::io::{self, Read};

use oftp2_codec::fields::CipherSuite;
use oftp2_session::security::digest::{digest, DigestWriter};
use oftp2_session::security::pipeline::{protect, unprotect, FileServices};
use oftp2_session::security::suite::DigestAlgorithm;

const SIZE: u64 = 40 << 20;

/// A field of `/proc/self/status`, in KiB.
fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// EDI-like text, generated as it is read.
struct Text {
    block: Vec<u8>,
    left: u64,
    at: usize,
}

impl Read for Text {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = (self.block.len() - self.at).min(buf.len()).min(self.left as usize);
        buf[..n].copy_from_slice(&self.block[self.at..self.at + n]);
        self.at = (self.at + n) % self.block.len();
        self.left -= n as u64;
        Ok(n)
    }
}

#[test]
#[cfg(target_os = "linux")]
fn a_large_file_passes_both_ways_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let sender = cms_support::party(dir.path(), "sender", 21);
    let receiver = cms_support::party(dir.path(), "receiver", 22);
    let services = FileServices {
        signed: true,
        compressed: true,
        encrypted: true,
        cipher_suite: CipherSuite::AES256_RSA_SHA256,
        signed_receipt: false,
    };
    let block = cms_support::edi_text(1 << 20);
    let text = || Text { block: block.clone(), left: SIZE, at: 0 };
    let mut expected = DigestWriter::new(io::sink(), DigestAlgorithm::Sha256);
    io::copy(&mut text(), &mut expected).unwrap();
    let (_, expected_hash, _) = expected.finish();

    let transmitted_path = dir.path().join("transmitted");
    let hwm_before = status_kib("VmHWM:").unwrap();
    let rss_before = status_kib("VmRSS:").unwrap();

    let transmitted = std::fs::File::create(&transmitted_path).unwrap();
    let protected =
        protect(text(), transmitted, services, &sender.identity, &receiver.certificate).unwrap();
    assert_eq!(protected.original_octets, SIZE);

    let mut original = DigestWriter::new(io::sink(), DigestAlgorithm::Sha256);
    let transmitted = std::fs::File::open(&transmitted_path).unwrap();
    let unprotected =
        unprotect(transmitted, &mut original, services, &receiver.identity, &sender.certificate)
            .unwrap();
    let (_, hash, octets) = original.finish();
    assert_eq!(octets, SIZE);
    assert_eq!(hash, expected_hash);
    assert_eq!(unprotected.transmitted_hash, protected.transmitted_hash);
    let hwm_after = status_kib("VmHWM:").unwrap();
    assert_eq!(
        protected.transmitted_hash,
        digest(DigestAlgorithm::Sha256, &std::fs::read(&transmitted_path).unwrap())
    );

    let growth_mib = hwm_after.saturating_sub(hwm_before.max(rss_before)) as f64 / 1024.0;
    eprintln!("peak resident memory grew by {growth_mib:.1} MiB");
    assert!(
        growth_mib < 8.0,
        "peak resident memory grew by {growth_mib:.1} MiB for a {} MiB file",
        SIZE >> 20
    );
}
