//! The §6.1 file pipeline of `oftp2_session::security::pipeline` on an EDI-like text file:
//! `protect` (sign, compress, encrypt) and `unprotect` (decrypt, inflate, verify) with
//! cipher suite 04 (AES-256-CBC, RSA PKCS#1 v1.5, SHA-256), file to file, next to the
//! `openssl cms` command line doing what it can of the same on the same file in the same
//! run: OpenSSL has no zlib, so `openssl cms -sign -binary -nodetach -stream` piped into
//! `openssl cms -encrypt -aes256 -binary -stream`, and `openssl cms -decrypt` piped into
//! `openssl cms -verify`. Our pipeline is also measured signing and encrypting without
//! compression, the like-for-like comparison.
//!
//! Reported: the median throughput of every timed run in MB/s (10^6 original octets a
//! second), and peak memory: for our pipeline the process's peak resident memory while it
//! ran (VmHWM, reset through `/proc/self/clear_refs`, against VmRSS before); for OpenSSL
//! the larger maximum resident set of the two piped processes (`/usr/bin/time -f %M`).
//!
//! The size is `OFTP_BENCH_CMS_BYTES` (default 1 GiB); the files are made in
//! `OFTP_BENCH_DIR` (default: the system's temporary directory).
//!
//! `OFTP_BENCH_CMS_BYTES=268435456 cargo bench -p oftp2-benches --bench cms_pipeline`
#![allow(clippy::unwrap_used)] // benchmark setup: a panic is a failure
#![allow(missing_docs)] // criterion_group! generates undocumented functions

mod support;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use oftp2_codec::fields::CipherSuite;
use oftp2_session::security::identity::{Certificate, Identity, PrivateKey};
use oftp2_session::security::pipeline::{
    protect, protect_with, unprotect, FileServices, ProtectOptions,
};
use support::measure;
use tempfile::TempDir;

fn octets() -> u64 {
    support::octets_from_env("OFTP_BENCH_CMS_BYTES")
}

/// A temporary directory for the files, in `OFTP_BENCH_DIR` if set.
fn work_dir() -> TempDir {
    support::bench_dir()
}

/// 1 MiB of EDI-like text (INVOIC segments with varying numbers).
fn edi_block() -> Vec<u8> {
    let mut block = Vec::with_capacity((1 << 20) + 128);
    let mut i = 0u64;
    while block.len() < 1 << 20 {
        let line = format!(
            "UNH+{i}+INVOIC:D:96A:UN'BGM+380+{:08}+9'DTM+137:2026{:02}{:02}:102'LIN+{}++{:013}:EN'\
             QTY+47:{}:PCE'MOA+203:{}.{:02}'\r\n",
            i * 7919 % 100_000_000,
            i % 12 + 1,
            i % 28 + 1,
            i % 50,
            i * 104_729 % 10_000_000_000_000,
            i % 997,
            i * 31 % 100_000,
            i % 100
        );
        block.extend_from_slice(line.as_bytes());
        i += 1;
    }
    block.truncate(1 << 20);
    block
}

/// A party: its identity, and its certificate and key as PEM files for `openssl`.
struct Party {
    identity: Identity,
    cert_pem: PathBuf,
    key_pem: PathBuf,
}

fn party(dir: &Path, name: &str) -> Party {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::new()).unwrap();
    params.distinguished_name.push(rcgen::DnType::CommonName, name);
    let cert = params.self_signed(&key).unwrap();
    let cert_pem = dir.join(format!("{name}.pem"));
    let key_pem = dir.join(format!("{name}.key"));
    std::fs::write(&cert_pem, cert.pem()).unwrap();
    std::fs::write(&key_pem, key.serialize_pem()).unwrap();
    let identity = Identity::new(
        Certificate::from_der(cert.der()).unwrap(),
        Vec::new(),
        PrivateKey::from_pkcs8_der(&key.serialize_der()).unwrap(),
    )
    .unwrap();
    Party { identity, cert_pem, key_pem }
}

struct Setup {
    dir: TempDir,
    octets: u64,
    original: PathBuf,
    sender: Party,
    receiver: Party,
    /// Whether `/usr/bin/time` is there to measure OpenSSL's memory.
    gnu_time: bool,
}

impl Setup {
    fn new() -> Self {
        let dir = work_dir();
        let octets = octets();
        let original = dir.path().join("original.edi");
        let block = edi_block();
        let mut file = BufWriter::new(File::create(&original).unwrap());
        let mut left = octets;
        while left > 0 {
            let n = left.min(block.len() as u64) as usize;
            file.write_all(block.get(..n).unwrap()).unwrap();
            left -= n as u64;
        }
        file.into_inner().unwrap().sync_all().unwrap();
        let sender = party(dir.path(), "sender");
        let receiver = party(dir.path(), "receiver");
        let gnu_time = Path::new("/usr/bin/time").is_file();
        Setup { dir, octets, original, sender, receiver, gnu_time }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn services(compressed: bool) -> FileServices {
        FileServices {
            signed: true,
            compressed,
            encrypted: true,
            cipher_suite: CipherSuite::AES256_RSA_SHA256,
            signed_receipt: false,
        }
    }

    fn transmitted(compressed: bool) -> &'static str {
        if compressed {
            "ours.signed-compressed-encrypted"
        } else {
            "ours.signed-encrypted"
        }
    }

    /// Our protect, file to file; returns the time and what was written.
    fn protect(&self, compressed: bool) -> (Duration, String) {
        let input = File::open(&self.original).unwrap();
        let output = File::create(self.path(Self::transmitted(compressed))).unwrap();
        let start = Instant::now();
        let protected = protect(
            input,
            output,
            Self::services(compressed),
            &self.sender.identity,
            &self.receiver.identity.certificate,
        )
        .unwrap();
        let time = start.elapsed();
        assert_eq!(protected.original_octets, self.octets);
        (time, format!("{} octets transmitted", protected.transmitted_octets))
    }

    /// Our protect with zlib level 1 instead of the default 6, file to file.
    fn protect_fast(&self) -> (Duration, String) {
        let input = File::open(&self.original).unwrap();
        let output = File::create(self.path("ours.level-1")).unwrap();
        let start = Instant::now();
        let protected = protect_with(
            input,
            output,
            Self::services(true),
            &self.sender.identity,
            &self.receiver.identity.certificate,
            &ProtectOptions { compression_level: 1 },
        )
        .unwrap();
        let time = start.elapsed();
        assert_eq!(protected.original_octets, self.octets);
        (time, format!("{} octets transmitted", protected.transmitted_octets))
    }

    /// Our unprotect of what `protect` wrote, file to file.
    fn unprotect(&self, compressed: bool) -> (Duration, String) {
        let input = File::open(self.path(Self::transmitted(compressed))).unwrap();
        let output = File::create(self.path("ours.out")).unwrap();
        let start = Instant::now();
        let unprotected = unprotect(
            input,
            output,
            Self::services(compressed),
            &self.receiver.identity,
            &self.sender.identity.certificate,
        )
        .unwrap();
        let time = start.elapsed();
        assert_eq!(unprotected.original_octets, self.octets);
        (time, "verified".into())
    }

    /// Runs `left | right` (two openssl command lines) under `bash`, each under
    /// `/usr/bin/time` when there is one; returns the time and the larger maximum resident
    /// set of the two.
    fn openssl_pipe(&self, left: &str, right: &str) -> (Duration, String) {
        let (mem_left, mem_right) = (self.path("mem.left"), self.path("mem.right"));
        let timed = |command: &str, mem: &Path| {
            if self.gnu_time {
                format!("/usr/bin/time -f %M -o '{}' {command}", mem.display())
            } else {
                command.to_owned()
            }
        };
        let script =
            format!("set -eo pipefail; {} | {}", timed(left, &mem_left), timed(right, &mem_right));
        let start = Instant::now();
        let out = Command::new("bash")
            .arg("-c")
            .arg(&script)
            .current_dir(self.dir.path())
            .output()
            .unwrap();
        let time = start.elapsed();
        assert!(out.status.success(), "{script} failed: {}", String::from_utf8_lossy(&out.stderr));
        let kib = |path: &Path| -> Option<u64> {
            std::fs::read_to_string(path).ok()?.lines().last()?.trim().parse().ok()
        };
        let memory = match (kib(&mem_left), kib(&mem_right)) {
            (Some(l), Some(r)) => {
                format!(
                    "max RSS {:.1} MiB (first command {:.1}, second {:.1})",
                    l.max(r) as f64 / 1024.0,
                    l as f64 / 1024.0,
                    r as f64 / 1024.0
                )
            }
            _ => "memory not measured (no /usr/bin/time)".into(),
        };
        (time, memory)
    }

    fn openssl_protect(&self) -> (Duration, String) {
        let (s, r) = (&self.sender, &self.receiver);
        self.openssl_pipe(
            &format!(
                "openssl cms -sign -binary -nodetach -stream -md sha256 -signer '{}' -inkey '{}' \
                 -in '{}' -outform DER",
                s.cert_pem.display(),
                s.key_pem.display(),
                self.original.display()
            ),
            &format!(
                "openssl cms -encrypt -aes256 -binary -stream -outform DER -out openssl.p7m '{}'",
                r.cert_pem.display()
            ),
        )
    }

    fn openssl_unprotect(&self) -> (Duration, String) {
        let (s, r) = (&self.sender, &self.receiver);
        self.openssl_pipe(
            &format!(
                "openssl cms -decrypt -binary -inform DER -in openssl.p7m -recip '{}' -inkey '{}'",
                r.cert_pem.display(),
                r.key_pem.display()
            ),
            &format!(
                "openssl cms -verify -binary -inform DER -purpose any -CAfile '{}' -out openssl.out",
                s.cert_pem.display()
            ),
        )
    }
}

fn cms_pipeline(c: &mut Criterion) {
    let setup = Setup::new();
    let mut group = c.benchmark_group(format!("cms_pipeline/{}_octets", setup.octets));
    group.throughput(Throughput::Bytes(setup.octets));
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    group.warm_up_time(Duration::from_millis(1));
    group.measurement_time(Duration::from_secs(1));

    let rows = [
        (
            "protect: sign, compress, encrypt",
            measure(&mut group, "protect sign+compress+encrypt", || setup.protect(true)),
        ),
        (
            "protect, zlib level 1 instead of 6",
            measure(&mut group, "protect sign+compress(level 1)+encrypt", || setup.protect_fast()),
        ),
        (
            "unprotect: decrypt, inflate, verify",
            measure(&mut group, "unprotect decrypt+inflate+verify", || setup.unprotect(true)),
        ),
        (
            "protect: sign, encrypt",
            measure(&mut group, "protect sign+encrypt", || setup.protect(false)),
        ),
        (
            "unprotect: decrypt, verify",
            measure(&mut group, "unprotect decrypt+verify", || setup.unprotect(false)),
        ),
        (
            "openssl cms -sign | -encrypt",
            measure(&mut group, "openssl sign | encrypt", || setup.openssl_protect()),
        ),
        (
            "openssl cms -decrypt | -verify",
            measure(&mut group, "openssl decrypt | verify", || setup.openssl_unprotect()),
        ),
    ];
    group.finish();

    let octets = setup.octets;
    println!(
        "\ncms_pipeline: {octets} octets ({:.2} MiB) of EDI-like text, suite 04 (AES-256-CBC, \
         RSA 2048, SHA-256), files in {}; median MB/s (10^6 original octets/s) of every timed \
         run",
        octets as f64 / 1024.0 / 1024.0,
        setup.dir.path().parent().unwrap().display()
    );
    for (label, measured) in &rows {
        if measured.times.is_empty() {
            println!("  {label:38} not measured (filtered out)");
            continue;
        }
        // OpenSSL runs in other processes: their memory is in the note, ours is the peak.
        let memory = if label.starts_with("openssl") {
            measured.note.clone()
        } else {
            format!("{}; {}", measured.note, measured.memory)
        };
        println!(
            "  {label:38} {:7.1} MB/s over {} runs; {memory}",
            measured.median_mb_s(octets),
            measured.times.len(),
        );
    }
}

criterion_group!(benches, cms_pipeline);
criterion_main!(benches);
