//! Streaming message digests (SHA-1, SHA-256, SHA-512) keyed by the cipher suite's hashing
//! algorithm (§10.2): the CMS messageDigest of a signed file (§6.2), and the EERPHSH /
//! NERPHSH of a transmitted Virtual File (§5.3.13, §5.3.14).
//!
//! [`Digest`] hashes octets as they pass; [`DigestWriter`] and [`DigestReader`] hash
//! whatever is written to or read through them, so a multi-GiB file is hashed in one pass
//! with bounded memory.

use std::io::{self, Read, Write};

use aws_lc_rs::digest as aws;

use super::suite::DigestAlgorithm;

/// A digest being computed over octets fed to it piece by piece.
#[derive(Clone)]
pub struct Digest {
    algorithm: DigestAlgorithm,
    context: aws::Context,
}

impl Digest {
    /// Starts a digest with `algorithm`.
    pub fn new(algorithm: DigestAlgorithm) -> Self {
        Self { algorithm, context: aws::Context::new(algorithm.aws_lc()) }
    }

    /// The algorithm being computed.
    pub fn algorithm(&self) -> DigestAlgorithm {
        self.algorithm
    }

    /// Feeds `data`.
    pub fn update(&mut self, data: &[u8]) {
        self.context.update(data);
    }

    /// The digest of everything fed (20, 32 or 64 octets).
    pub fn finish(self) -> Vec<u8> {
        self.context.finish().as_ref().to_vec()
    }

    /// The digest of everything fed, as aws-lc-rs holds it (to verify a signature made over
    /// the digest itself).
    pub(crate) fn finish_aws(self) -> aws::Digest {
        self.context.finish()
    }
}

impl std::fmt::Debug for Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Digest").field("algorithm", &self.algorithm).finish_non_exhaustive()
    }
}

/// The digest of `data` with `algorithm`, in one call.
pub fn digest(algorithm: DigestAlgorithm, data: &[u8]) -> Vec<u8> {
    aws::digest(algorithm.aws_lc(), data).as_ref().to_vec()
}

/// A writer that hashes everything written through it to the inner writer, and counts it.
#[derive(Debug)]
pub struct DigestWriter<W> {
    inner: W,
    digest: Digest,
    count: u64,
}

impl<W: Write> DigestWriter<W> {
    /// Hashes with `algorithm` what is written to `inner`.
    pub fn new(inner: W, algorithm: DigestAlgorithm) -> Self {
        Self { inner, digest: Digest::new(algorithm), count: 0 }
    }

    /// The number of octets written so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The inner writer, the digest of everything written, and the octet count.
    pub fn finish(self) -> (W, Vec<u8>, u64) {
        (self.inner, self.digest.finish(), self.count)
    }
}

impl<W: Write> Write for DigestWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        let written = buf.get(..n).unwrap_or(buf);
        self.digest.update(written);
        self.count += written.len() as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A reader that hashes everything read through it from the inner reader, and counts it.
#[derive(Debug)]
pub struct DigestReader<R> {
    inner: R,
    digest: Digest,
    count: u64,
}

impl<R: Read> DigestReader<R> {
    /// Hashes with `algorithm` what is read from `inner`.
    pub fn new(inner: R, algorithm: DigestAlgorithm) -> Self {
        Self { inner, digest: Digest::new(algorithm), count: 0 }
    }

    /// The number of octets read so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The inner reader, the digest of everything read, and the octet count.
    pub fn finish(self) -> (R, Vec<u8>, u64) {
        (self.inner, self.digest.finish(), self.count)
    }
}

impl<R: Read> Read for DigestReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let read = buf.get(..n).unwrap_or(buf);
        self.digest.update(read);
        self.count += read.len() as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn hex(octets: &[u8]) -> String {
        octets.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn known_answers_for_abc() {
        assert_eq!(
            hex(&digest(DigestAlgorithm::Sha1, b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            hex(&digest(DigestAlgorithm::Sha256, b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(hex(&digest(DigestAlgorithm::Sha512, b"abc")).starts_with("ddaf35a193617aba"));
    }

    #[test]
    fn streaming_equals_one_shot() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        for algorithm in [DigestAlgorithm::Sha1, DigestAlgorithm::Sha256, DigestAlgorithm::Sha512] {
            let mut writer = DigestWriter::new(Vec::new(), algorithm);
            for chunk in data.chunks(777) {
                writer.write_all(chunk).unwrap();
            }
            let (out, written_digest, count) = writer.finish();
            assert_eq!(out, data);
            assert_eq!(count, data.len() as u64);
            assert_eq!(written_digest, digest(algorithm, &data));

            let mut reader = DigestReader::new(&data[..], algorithm);
            io::copy(&mut reader, &mut io::sink()).unwrap();
            let (_, read_digest, count) = reader.finish();
            assert_eq!(count, data.len() as u64);
            assert_eq!(read_digest, written_digest);
        }
    }
}
