//! Data Exchange Buffers and record formats, each next to a memcpy of the same octets
//! measured in the same run (the machine is shared: compare ratios, not absolutes).
//!
//! * `data_buffer/{2048,99999}/{plain,compressed}`: filling one DATA buffer of that
//!   size from file data (`encode`) and expanding it back (`decode`, plus the zero-copy
//!   `subrecords` walk); throughput counts the file octets the buffer carries.
//! * `compression`: `BufferFiller` with buffer compression over 8 MiB of EDI-like text
//!   (EDIFACT segments and space-padded fixed records), for run thresholds 3, 4 and 5,
//!   and without compression; the sizes each produces are printed once.
//! * `record_mapping`: 100 MiB of F/80 and of U data through `FileEncoder` into
//!   99,999-octet buffers, and back through `FileDecoder`.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // fixed, valid sample values
#![allow(missing_docs)] // criterion_group! generates undocumented functions

use std::hint::black_box;
use std::time::Duration;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use oftp2_codec::buffer::{expand_into, BufferFiller, Subrecords};
use oftp2_codec::fields::{BufferSize, RecordLength};
use oftp2_codec::record::{FileDecoder, FileEncoder, FileSettings};

/// A small deterministic generator (no dependency needed for sample data).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 =
            self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % bound
    }
}

/// EDI-like text: EDIFACT DELFOR/DESADV segments with varying numbers, and VDA-style
/// 128-octet fixed records padded with spaces and zeros, CR LF after each line.
fn edi_text(len: usize) -> Vec<u8> {
    let mut rng = Lcg(0x0DE7_7E00);
    let mut text = Vec::with_capacity(len + 256);
    while text.len() < len {
        let n = rng.next(1_000_000);
        match rng.next(6) {
            0 => text.extend_from_slice(format!("LIN+{}++{:08}:IN'", n % 1000, n).as_bytes()),
            1 => text.extend_from_slice(
                format!("QTY+113:{}:PCE'DTM+2:2026{:04}:102'", n % 5000, n % 1231).as_bytes(),
            ),
            2 => text.extend_from_slice(
                format!("NAD+ST+{:013}::9++WAREHOUSE {}'", n, n % 97).as_bytes(),
            ),
            3 => text
                .extend_from_slice(format!("RFF+ON:PO{:010}'LOC+11+GATE{}'", n, n % 40).as_bytes()),
            _ => {
                // A VDA 4913-like record: type, fields, then padding.
                let mut record =
                    format!("71102{:09}{:06}ARTICLE-{:05}", n, n % 999_999, n % 99_999)
                        .into_bytes();
                record.resize(100, b' ');
                record.extend_from_slice(b"000000000000");
                record.resize(128, b' ');
                text.extend_from_slice(&record);
            }
        }
        text.extend_from_slice(b"\r\n");
    }
    text.truncate(len);
    text
}

fn memcpy(group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>, src: &[u8]) {
    let mut dst = vec![0u8; src.len()];
    group.bench_function(BenchmarkId::new("memcpy", src.len()), |b| {
        b.iter(|| {
            dst.copy_from_slice(black_box(src));
            black_box(&dst);
        })
    });
}

/// Fills buffers from `data` and returns them.
fn fill(data: &[u8], size: BufferSize, compression: bool, min_run: u8) -> Vec<Bytes> {
    let mut filler = BufferFiller::new(size, compression);
    filler.set_min_run(min_run);
    filler.write_record(data);
    filler.flush();
    filler.drain_buffers().collect()
}

/// Fills buffers from `data` fed in 64 KiB pieces, dropping each buffer once finished
/// (as a session sends them); returns the octets produced.
fn stream(data: &[u8], size: BufferSize, compression: bool, min_run: u8) -> usize {
    let mut filler = BufferFiller::new(size, compression);
    filler.set_min_run(min_run);
    let mut octets = 0;
    for piece in data.chunks(64 * 1024) {
        filler.write(piece);
        octets += filler.drain_buffers().map(|b| b.len()).sum::<usize>();
    }
    filler.end_record();
    filler.flush();
    octets + filler.drain_buffers().map(|b| b.len()).sum::<usize>()
}

fn data_buffers(c: &mut Criterion) {
    let text = edi_text(1 << 20);
    let zeros_and_text: Vec<u8> =
        text.iter().map(|&b| if b.is_ascii_digit() { b'0' } else { b }).collect();
    for size in [2048u32, 99_999] {
        let buffer_size = BufferSize::new(u64::from(size)).unwrap();
        for (label, compression, source) in
            [("plain", false, &text), ("compressed", true, &zeros_and_text)]
        {
            // The most file data that fills exactly one buffer.
            let mut len = size as usize;
            while fill(&source[..len], buffer_size, compression, 4).len() > 1 {
                len -= (len / 64).max(1);
            }
            while fill(&source[..len + 1], buffer_size, compression, 4).len() == 1 {
                len += 1;
            }
            let data = &source[..len];
            let buffer = fill(data, buffer_size, compression, 4).pop().unwrap();
            let mut group = c.benchmark_group(format!("data_buffer/{size}/{label}"));
            group.throughput(Throughput::Bytes(len as u64));
            memcpy(&mut group, data);
            group.bench_function(BenchmarkId::new("encode", len), |b| {
                let mut filler = BufferFiller::new(buffer_size, compression);
                b.iter(|| {
                    filler.write_record(black_box(data));
                    filler.flush();
                    black_box(filler.pop_buffer())
                })
            });
            let mut out = Vec::with_capacity(len);
            group.bench_function(BenchmarkId::new("decode", len), |b| {
                b.iter(|| {
                    out.clear();
                    expand_into(black_box(&buffer[1..]), compression, &mut out).unwrap();
                    black_box(&out);
                })
            });
            let payload = buffer.slice(1..);
            group.bench_function(BenchmarkId::new("subrecords", len), |b| {
                b.iter(|| {
                    let mut n = 0;
                    for subrecord in Subrecords::new(black_box(payload.clone()), compression) {
                        n += subrecord.unwrap().data.len();
                    }
                    black_box(n)
                })
            });
            group.finish();
        }
    }
}

fn compression(c: &mut Criterion) {
    let text = edi_text(8 << 20);
    let size = BufferSize::new(99_999).unwrap();
    let total = |buffers: &[Bytes]| buffers.iter().map(Bytes::len).sum::<usize>();
    eprintln!("compression of {} octets of EDI-like text into 99,999-octet buffers:", text.len());
    eprintln!("  none: {} octets", total(&fill(&text, size, false, 4)));
    for min_run in [3u8, 4, 5] {
        let octets = total(&fill(&text, size, true, min_run));
        assert_eq!(octets, stream(&text, size, true, min_run));
        eprintln!("  runs >= {min_run}: {octets} octets");
    }
    let mut group = c.benchmark_group("compression");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.sample_size(20);
    memcpy(&mut group, &text);
    group.bench_function(BenchmarkId::new("uncompressed", text.len()), |b| {
        b.iter(|| black_box(stream(black_box(&text), size, false, 4)))
    });
    for min_run in [3u8, 4, 5] {
        group.bench_function(BenchmarkId::new(format!("runs>={min_run}"), text.len()), |b| {
            b.iter(|| black_box(stream(black_box(&text), size, true, min_run)))
        });
    }
    group.finish();
}

fn record_mapping(c: &mut Criterion) {
    const LEN: usize = 100 << 20;
    let text = edi_text(1 << 20);
    let data: Vec<u8> = text.iter().cycle().take(LEN).copied().collect();
    let size = BufferSize::new(99_999).unwrap();
    let chunk = 64 * 1024;
    for (label, settings) in [
        ("F80", FileSettings::fixed(RecordLength::new(80).unwrap())),
        ("U", FileSettings::unstructured()),
    ] {
        let mut group = c.benchmark_group(format!("record_mapping/{label}"));
        group.throughput(Throughput::Bytes(LEN as u64));
        group.sample_size(10);
        memcpy(&mut group, &data);
        group.bench_function(BenchmarkId::new("encode", LEN), |b| {
            b.iter(|| {
                let mut encoder = FileEncoder::new(settings, size, false).unwrap();
                let mut buffers = 0usize;
                for piece in data.chunks(chunk) {
                    encoder.push(piece).unwrap();
                    buffers += encoder.drain_buffers().count();
                }
                encoder.finish().unwrap();
                buffers += encoder.drain_buffers().count();
                black_box(buffers)
            })
        });
        let mut encoder = FileEncoder::new(settings, size, false).unwrap();
        encoder.push(&data).unwrap();
        encoder.finish().unwrap();
        let buffers: Vec<Bytes> = encoder.drain_buffers().collect();
        group.bench_function(BenchmarkId::new("decode", LEN), |b| {
            b.iter(|| {
                let mut decoder = FileDecoder::new(settings, false).unwrap();
                let mut octets = 0usize;
                for buffer in &buffers {
                    octets += decoder.push(buffer).unwrap().len();
                }
                black_box(octets)
            })
        });
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = data_buffers, compression, record_mapping
}
criterion_main!(benches);
