//! Parsing SKAT status files (name + XML, checked against each other) as files per second,
//! next to quick-xml merely tokenising the same documents without serde, measured in the same
//! run (the machine is shared: compare the ratio, not absolutes). Target: 100,000 files/s.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use quick_xml::events::Event;
use skat_status::{StatusDocument, StatusFile, StatusFileName};

macro_rules! fixture {
    ($name:literal) => {
        ($name, include_bytes!(concat!("../../skat-status/tests/fixtures/", $name)).as_slice())
    };
}

/// The guide's five example status files.
const FILES: [(&str, &[u8]); 5] = [
    fixture!("status_FTPSGW.Heartbeat_ping20201210143002441-hb01.xml_1.xml"),
    fixture!("status_FTPSGW.Heartbeat_ping20201210143002441-hb01.xml_2.xml"),
    fixture!("status_FTPSGW.Heartbeat_ping20201210143002441-hb01.xml_3.xml"),
    fixture!("status_Manifest.MidlertidigOpbevaringOpdater_Manifest.MidlertidigOpbevaringOpdater MAN_DKA54A eda73f9d-0215-4849-9e0b-275c91c62624.notify.xml_3.xml"),
    fixture!("status_FTPSGW.Heartbeat_empty.xml_0.xml"),
];

/// Counts the events of a document: the least any XML reader must do.
fn tokenise(xml: &[u8]) -> usize {
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut events = 0;
    loop {
        match reader.read_event() {
            Ok(Event::Eof) | Err(_) => return events,
            Ok(_) => events += 1,
        }
    }
}

fn status_files(c: &mut Criterion) {
    // Every file must parse, or the numbers would measure error paths.
    for (name, xml) in FILES {
        if let Err(e) = StatusFile::parse(name, xml) {
            panic!("{name}: {e}");
        }
    }
    let mut group = c.benchmark_group("skat_status");
    group.throughput(Throughput::Elements(FILES.len() as u64));
    group.bench_function("parse_status_file (name + XML)", |b| {
        b.iter(|| {
            for (name, xml) in FILES {
                let _ = black_box(StatusFile::parse(black_box(name), black_box(xml)));
            }
        })
    });
    group.bench_function("baseline: quick-xml tokenise only", |b| {
        b.iter(|| {
            for (_, xml) in FILES {
                black_box(tokenise(black_box(xml)));
            }
        })
    });
    group.bench_function("parse_name only", |b| {
        b.iter(|| {
            for (name, _) in FILES {
                let _ = black_box(StatusFileName::parse(black_box(name)));
            }
        })
    });
    group.bench_function("write_xml", |b| {
        let documents: Vec<StatusDocument> =
            FILES.iter().filter_map(|(_, xml)| StatusDocument::from_xml(xml).ok()).collect();
        b.iter(|| {
            for document in &documents {
                let _ = black_box(black_box(document).to_xml());
            }
        })
    });
    group.finish();
}

criterion_group!(benches, status_files);
criterion_main!(benches);
