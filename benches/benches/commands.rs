//! Decode and encode of every OFTP command at level 2.0, each next to a memcpy of the same
//! octets measured in the same run (the machine is shared: compare ratios, not absolutes).
#![allow(clippy::unwrap_used)] // fixed, valid sample values
#![allow(missing_docs)] // criterion_group! generates undocumented functions

use std::hint::black_box;

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use oftp2_codec::command::*;
use oftp2_codec::fields::*;
use oftp2_codec::reason::*;
use oftp2_codec::{Command, ProtocolLevel};

fn samples() -> Vec<Command> {
    let id = |s: &str| OdetteId::new(s).unwrap();
    let date = VirtualFileDate::new(2026, 11, 23).unwrap();
    let time = VirtualFileTime::new(14, 30, 5, 1).unwrap();
    vec![
        Command::Ssrm(Ssrm),
        Command::Ssid(Ssid {
            level: ProtocolLevel::V2_0,
            code: id("O0013000000000000001"),
            password: "SECRET".parse().unwrap(),
            buffer_size: BufferSize::new(99_999).unwrap(),
            send_receive: SendReceive::Both,
            compression: false,
            restart: true,
            special_logic: false,
            credit: Credit::new(999).unwrap(),
            secure_authentication: false,
            user_data: UserData::EMPTY,
        }),
        Command::Sfid(Sfid {
            dataset_name: "ORDERS.DELFOR".parse().unwrap(),
            date,
            time,
            user_data: UserData::EMPTY,
            destination: id("O094200002021000969PRDINT"),
            originator: id("O0013000000000000001"),
            format: RecordFormat::Unstructured,
            max_record_length: RecordLength::ZERO,
            file_size: FileSize::new(1_048_576).unwrap(),
            original_file_size: FileSize::new(1_048_576).unwrap(),
            restart_position: RestartPosition::ZERO,
            security_level: SecurityLevel::None,
            cipher_suite: CipherSuite::NONE,
            compression: FileCompression::None,
            enveloping: FileEnveloping::None,
            signed_eerp_request: false,
            description: Utf8Text::new("Monthly delivery forecast").unwrap(),
        }),
        Command::Sfpa(Sfpa { answer_count: RestartPosition::ZERO }),
        Command::Sfna(Sfna {
            reason: SfnaReason::DUPLICATE_FILE,
            retry: false,
            text: Utf8Text::new("duplicate").unwrap(),
        }),
        Command::Data(Data { payload: Bytes::from(vec![0x3F; 2047]) }),
        Command::Cdt,
        Command::Efid(Efid {
            record_count: RecordCount::ZERO,
            unit_count: UnitCount::new(1 << 30).unwrap(),
        }),
        Command::Efpa(Efpa { change_direction: true }),
        Command::Efna(Efna { reason: EfnaReason::INVALID_BYTE_COUNT, text: Utf8Text::empty() }),
        Command::Esid(Esid::normal()),
        Command::Cd,
        Command::Eerp(Eerp {
            dataset_name: "ORDERS.DELFOR".parse().unwrap(),
            date,
            time,
            user_data: UserData::EMPTY,
            destination: id("O0013000000000000001"),
            originator: id("O094200002021000969PRDINT"),
            hash: Bytes::from(vec![0xAB; 32]),
            signature: Bytes::from(vec![0x30; 1500]),
        }),
        Command::Nerp(Nerp {
            dataset_name: "ORDERS.DELFOR".parse().unwrap(),
            date,
            time,
            destination: id("O0013000000000000001"),
            originator: id("O094200002021000969PRDINT"),
            creator: id("O094200002021000969PRDINT"),
            reason: NerpReason::FILE_PROCESSING_FAILED,
            text: Utf8Text::new("mapping failed").unwrap(),
            hash: Bytes::new(),
            signature: Bytes::new(),
        }),
        Command::Rtr,
        Command::Secd,
        Command::Auch(Auch { challenge: Bytes::from(vec![0x30; 400]) }),
        Command::Aurp(Aurp { response: [7; 20] }),
    ]
}

fn commands(c: &mut Criterion) {
    let level = ProtocolLevel::V2_0;
    for command in samples() {
        let name = command.code().name();
        let octets = command.to_bytes(level).unwrap();
        let mut group = c.benchmark_group(format!("command/{name}"));
        group.throughput(Throughput::Bytes(octets.len() as u64));
        group.bench_function(BenchmarkId::new("memcpy", octets.len()), |b| {
            let mut out = vec![0u8; octets.len()];
            b.iter(|| out.copy_from_slice(black_box(&octets)));
        });
        group.bench_function(BenchmarkId::new("decode", octets.len()), |b| {
            b.iter(|| Command::from_exchange_buffer(black_box(octets.clone()), level).unwrap());
        });
        group.bench_function(BenchmarkId::new("encode", octets.len()), |b| {
            let mut out = BytesMut::with_capacity(octets.len());
            b.iter(|| {
                out.clear();
                black_box(&command).encode(level, &mut out).unwrap();
            });
        });
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_millis(300))
        .measurement_time(std::time::Duration::from_secs(1))
        .sample_size(30);
    targets = commands
}
criterion_main!(benches);
