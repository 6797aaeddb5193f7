//! The receiving half of a transfer alone: an [`FsStore`] taking a U file as the driver
//! gives it (the octets of one 99,999-octet exchange buffer at a time, a checkpoint every
//! [`CHECKPOINT_INTERVAL`], the commit at the end), next to the disk measured in the same
//! run: writing the same octets with `O_DIRECT` in 2 MiB writes (as the store does on a
//! disk, and `dd oflag=direct bs=2M`), and through the page cache, each with an `fsync` as
//! often as the store's checkpoints and at the end.
//!
//! Once the session's own work is cheap, a transfer to disk goes as fast as the store
//! gets its octets to the device; this tells how close the store comes to the device.
//!
//! The size is `OFTP_BENCH_BYTES` (default 1 GiB); the store is made in `OFTP_BENCH_DIR`
//! (default: the system's temporary directory).
//!
//! `OFTP_BENCH_BYTES=268435456 cargo bench -p oftp2-benches --bench store_receive`
#![allow(clippy::unwrap_used)] // benchmark setup: a panic is a failure
#![allow(missing_docs)] // criterion_group! generates undocumented functions

mod support;

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use oftp2_codec::command::Sfid;
use oftp2_codec::fields::{
    CipherSuite, FileCompression, FileEnveloping, FileSize, OdetteId, RecordFormat, RecordLength,
    RestartPosition, SecurityLevel, UserData, Utf8Text, VirtualFileDate, VirtualFileTime,
};
use oftp2_codec::record::Counts;
use oftp2_session::driver::CHECKPOINT_INTERVAL;
use oftp2_session::store::{FileStore, FsStore, IncomingDecision};
use support::{measure_with_cpu as measure, process_cpu, DIRECT_WRITE};
use tempfile::TempDir;

/// The file's octets in one 99,999-octet DATA buffer of full 63-octet subrecords.
const PIECE: usize = 99_998 / 64 * 63;

fn octets() -> u64 {
    support::octets_from_env("OFTP_BENCH_BYTES")
}

fn dir() -> TempDir {
    support::bench_dir()
}

fn sfid(octets: u64) -> Sfid {
    Sfid {
        dataset_name: "BENCH.STORE".parse().unwrap(),
        date: VirtualFileDate::new(2026, 12, 7).unwrap(),
        time: VirtualFileTime::new(10, 0, 0, 1).unwrap(),
        user_data: UserData::EMPTY,
        destination: "O0013000000000000002".parse().unwrap(),
        originator: "O0013000000000000001".parse().unwrap(),
        format: RecordFormat::Unstructured,
        max_record_length: RecordLength::ZERO,
        file_size: FileSize::new(octets.div_ceil(1024)).unwrap(),
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

/// One file received into a new store as the driver writes it; its time and CPU time.
fn store_receive(piece: &[u8], octets: u64) -> (Duration, Option<Duration>, String) {
    let dir = dir();
    let partner: OdetteId = "O0013000000000000001".parse().unwrap();
    let store = FsStore::open(dir.path(), "O0013000000000000002".parse().unwrap()).unwrap();
    let start = Instant::now();
    let cpu = process_cpu();
    let decision = store.begin_incoming(&partner, &sfid(octets), true).unwrap();
    let IncomingDecision::Accept { mut file, .. } = decision else { panic!("refused") };
    let (mut written, mut checkpointed) = (0u64, 0u64);
    while written < octets {
        let n = usize::try_from(octets - written).unwrap_or(usize::MAX).min(piece.len());
        file.write(piece.get(..n).unwrap()).unwrap();
        written += n as u64;
        if written - checkpointed >= CHECKPOINT_INTERVAL {
            file.checkpoint(Counts { records: 0, octets: written }).unwrap();
            checkpointed = written;
        }
    }
    let delivered = file.commit(Counts { records: 0, octets }).unwrap();
    let elapsed = start.elapsed();
    let cpu = process_cpu() - cpu;
    assert_eq!(std::fs::metadata(&delivered.path).unwrap().len(), octets);
    (elapsed, Some(cpu), format!("{} octets a write", piece.len()))
}

/// The same octets through the page cache, `fsync` every `CHECKPOINT_INTERVAL` and at
/// the end.
fn buffered_write(piece: &[u8], octets: u64) -> (Duration, Option<Duration>, String) {
    let dir = dir();
    let path = dir.path().join("file");
    let (time, cpu) = support::buffered_durable_write(&path, piece, octets, CHECKPOINT_INTERVAL);
    (time, Some(cpu), "fsync as often as the store".into())
}

/// The same octets with `O_DIRECT`, as the store writes them on a disk.
fn direct_write(piece: &[u8], octets: u64) -> (Duration, Option<Duration>, String) {
    let dir = dir();
    match support::direct_durable_write(
        &dir.path().join("file"),
        piece,
        octets,
        CHECKPOINT_INTERVAL,
    ) {
        Some((time, cpu)) => (time, Some(cpu), format!("{} MiB a write", DIRECT_WRITE >> 20)),
        None => (Duration::ZERO, None, "no O_DIRECT here".into()),
    }
}

fn store_receive_bench(c: &mut Criterion) {
    let octets = octets();
    let piece = support::pseudo_random(PIECE);
    let mut group = c.benchmark_group(format!("store_receive/{octets}_octets"));
    group.throughput(Throughput::Bytes(octets));
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    group.warm_up_time(Duration::from_millis(1));
    group.measurement_time(Duration::from_secs(1));
    let direct = measure(&mut group, "O_DIRECT write", || direct_write(&piece, octets));
    let buffered = measure(&mut group, "buffered write + fsync", || buffered_write(&piece, octets));
    let store = measure(&mut group, "FsStore receive", || store_receive(&piece, octets));
    group.finish();

    println!(
        "\nstore_receive: {octets} octets ({:.2} MiB) a file, in {}; median MB/s \
         (10^6 octets/s) of every timed run",
        octets as f64 / 1024.0 / 1024.0,
        dir().path().parent().unwrap().display()
    );
    let line = |name: &str, m: &support::Measured| {
        // A run that could not measure (a file system without O_DIRECT) says why in its note.
        if m.times.is_empty() || m.cpu.is_empty() {
            let why = if m.times.is_empty() { "filtered out" } else { m.note.as_str() };
            println!("  {name:24} not measured ({why})");
            return;
        }
        let cpu = m
            .median_cpu_s_per_gib(octets)
            .map_or_else(|| "CPU not measured".to_owned(), |cpu| format!("{cpu:.2} s CPU/GiB"));
        println!(
            "  {name:24} {:7.1} MB/s over {} runs ({}); {cpu}; {}",
            m.median_mb_s(octets),
            m.times.len(),
            m.note,
            m.memory
        );
    };
    line("O_DIRECT write", &direct);
    line("buffered write + fsync", &buffered);
    line("FsStore receive", &store);
    if !direct.cpu.is_empty() && !store.times.is_empty() {
        println!(
            "  the store at {:.1}% of O_DIRECT writing",
            100.0 * store.median_mb_s(octets) / direct.median_mb_s(octets)
        );
    }
}

criterion_group!(benches, store_receive_bench);
criterion_main!(benches);
