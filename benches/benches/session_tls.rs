//! A U-format file over TLS on 127.0.0.1 between two [`Node`]s with [`FsStore`]s in
//! temporary directories, at buffer 99,999 / credit 999 and at 2,048 / 7 (the Swedish
//! Customs parameters), each next to raw TLS measured in the same run: a tokio-rustls
//! client writing the same octets to a tokio-rustls server that reads and discards them,
//! with the same certificates and configurations (so the same TLS version and cipher
//! suite). Also, as the receiving store makes the file durable, writing the same octets
//! to a file in the stores' directory with fsync every
//! [`CHECKPOINT_INTERVAL`](oftp2_session::driver::CHECKPOINT_INTERVAL) octets and at the
//! end, as the store did before it wrote directly; and with `O_DIRECT` in 2 MiB pieces
//! and the same fsyncs, as the store does on a disk now: the fastest any receiver that
//! makes the file durable before EFPA can be on this disk. Also the process's peak
//! memory while each is measured (VmHWM, reset through `/proc/self/clear_refs`, against
//! VmRSS before).
//!
//! The size is `OFTP_BENCH_BYTES` (default 1 GiB); the stores are made in
//! `OFTP_BENCH_DIR` (default: the system's temporary directory), and once more in
//! `/dev/shm` (tmpfs) where there is one, to tell the session's own cost from the disk's,
//! next to raw TLS from a file to a file in that tmpfs: what a session there could reach
//! if OFTP itself cost nothing. One iteration is one whole session
//! (connect, TLS handshake, SSID, SFID, the data, EFID, EERP, ESID); queueing the file
//! into the outbox is not timed. The file arrives on disk: the receiver writes it and
//! makes it durable (an fsync every `CHECKPOINT_INTERVAL` and at the end), raw TLS discards it.
//!
//! `OFTP_BENCH_BYTES=268435456 cargo bench -p oftp2-benches --bench session_tls`
#![allow(clippy::unwrap_used)] // benchmark setup: a panic is a failure
#![allow(missing_docs)] // criterion_group! generates undocumented functions

mod support;
#[path = "../../oftp2-session/tests/transport_support/mod.rs"]
mod transport_support;

use std::cell::RefCell;
use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use oftp2_codec::fields::{
    BufferSize, Credit, OdetteId, RecordFormat, RecordLength, SendReceive, UserData, Utf8Text,
};
use oftp2_session::config::{Config, Partner, TextLineHandling, TlsFiles, Transport};
use oftp2_session::driver::{OutgoingOutcome, CHECKPOINT_INTERVAL};
use oftp2_session::node::Node;
use oftp2_session::protection::FileServices;
use oftp2_session::store::{FileStore, FsStore, OutgoingFile, OutgoingSource};
use oftp2_session::transport::tls::{client_config_for, server_config_for};
use oftp2_session::transport::{connect, ClientSecurity, Listener, ServerSecurity};
use rustls::pki_types::ServerName;
use support::{measure_with_cpu as measure, process_cpu};
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::runtime::Runtime;
use transport_support::{Ca, Leaf, Pki, Usage};

const A: &str = "O0013000000000000001";
const B: &str = "O0013000000000000002";
/// The file's content: this block (pseudo-random, so nothing downstream can shortcut
/// it), repeated and cut to size.
const BLOCK: usize = 1024 * 1024;

fn id(code: &str) -> OdetteId {
    code.parse().unwrap()
}

fn octets() -> u64 {
    support::octets_from_env("OFTP_BENCH_BYTES")
}

fn block() -> Arc<[u8]> {
    support::pseudo_random(BLOCK).into()
}

/// `len` octets of `block` repeated.
struct Content {
    block: Arc<[u8]>,
    position: u64,
    len: u64,
}

impl Content {
    /// The next piece of at most `max` octets; empty at the end.
    fn next_piece(&mut self, max: usize) -> &[u8] {
        let at = (self.position % self.block.len() as u64) as usize;
        let left = usize::try_from(self.len - self.position).unwrap_or(usize::MAX);
        let n = max.min(left).min(self.block.len() - at);
        self.position += n as u64;
        self.block.get(at..at + n).unwrap()
    }
}

impl Read for Content {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let piece = self.next_piece(buf.len());
        let n = piece.len();
        buf.get_mut(..n).unwrap().copy_from_slice(piece);
        Ok(n)
    }
}

/// One parameter set.
#[derive(Clone, Copy)]
struct Params {
    buffer: u64,
    credit: u64,
}

impl Params {
    fn label(self) -> String {
        format!("buffer {} / credit {}", self.buffer, self.credit)
    }
}

struct Setup {
    rt: Runtime,
    /// Holds the certificate files.
    _pki: Pki,
    ca: Ca,
    server: Leaf,
    client: Leaf,
    block: Arc<[u8]>,
    octets: u64,
}

fn partner(peer: &str, own: &str, address: Option<String>) -> Partner {
    Partner {
        odette_id: id(peer),
        password: format!("PW{}", peer.get(19..).unwrap()).parse().unwrap(),
        our_password: format!("PW{}", own.get(19..).unwrap()).parse().unwrap(),
        directions: SendReceive::Both,
        buffer_size: None,
        credit: None,
        text_lines: TextLineHandling::KeepCrLf,
        address,
        transport: Transport::Tls {
            server_name: Some("localhost".into()),
            roots: Vec::new(),
            require_client_certificate: true,
        },
        secure_authentication: false,
        file_security: Default::default(),
    }
}

impl Setup {
    fn new() -> Self {
        let pki = Pki::new();
        let ca = pki.ca("ca");
        let server = pki.leaf(&ca, "server", &["localhost", "127.0.0.1"], Usage::Server, false);
        let client = pki.leaf(&ca, "client", &[A], Usage::Client, false);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        Setup { rt, _pki: pki, ca, server, client, block: block(), octets: octets() }
    }

    fn config(&self, own: &str, peer: &str, params: Params, address: Option<String>) -> Config {
        let mut config = Config::new(id(own));
        config.buffer_size = BufferSize::new(params.buffer).unwrap();
        config.credit = Credit::new(params.credit).unwrap();
        config.partners = vec![partner(peer, own, address)];
        let leaf = if own == B { &self.server } else { &self.client };
        config.tls = Some(TlsFiles {
            roots: vec![self.ca.pem_file.clone()],
            certificate: Some(leaf.certificate_file.clone()),
            private_key: Some(leaf.key_file.clone()),
            require_client_certificate: false,
        });
        config
    }

    fn content(&self) -> Content {
        Content { block: self.block.clone(), position: 0, len: self.octets }
    }

    /// One raw TLS transfer with the nodes' TLS configurations; its duration and the
    /// TLS version and cipher suite.
    fn raw_tls(&self, params: Params) -> (Duration, Option<Duration>, String) {
        self.raw_tls_between(params, None)
    }

    /// Raw TLS from a file to a file in tmpfs, as a session with its stores there moves
    /// the file: the sender reads it from one (written there untimed, as the session's
    /// outbox is), the receiver writes what it reads into another and fsyncs it. What a
    /// session in tmpfs could reach if OFTP itself cost nothing.
    fn raw_tls_file_to_file(&self, params: Params) -> (Duration, Option<Duration>, String) {
        let dir = memory_dir();
        let sent = dir.path().join("sent");
        let mut file = std::fs::File::create(&sent).unwrap();
        std::io::copy(&mut self.content(), &mut file).unwrap();
        drop(file);
        self.raw_tls_between(params, Some(dir.path()))
    }

    /// Raw TLS, from memory to nothing, or with `files` from `files/sent` to
    /// `files/received`.
    fn raw_tls_between(
        &self,
        params: Params,
        files: Option<&std::path::Path>,
    ) -> (Duration, Option<Duration>, String) {
        let source: Option<std::fs::File> =
            files.map(|d| std::fs::File::open(d.join("sent")).unwrap());
        let mut sink: Option<std::fs::File> =
            files.map(|d| std::fs::File::create(d.join("received")).unwrap());
        let server_config = server_config_for(&self.config(B, A, params, None)).unwrap();
        let initiator = self.config(A, B, params, None);
        let client_config =
            client_config_for(&initiator, initiator.partners.first().unwrap()).unwrap().unwrap();
        let mut content = self.content();
        self.rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let address = listener.local_addr().unwrap();
            let acceptor = tokio_rustls::TlsAcceptor::from(server_config);
            let reader = tokio::spawn(async move {
                let (tcp, _) = listener.accept().await.unwrap();
                tcp.set_nodelay(true).unwrap();
                let mut tls = acceptor.accept(tcp).await.unwrap();
                // Written to the file 256 KiB at a time (fewer, larger writes than the
                // store's, which writes each exchange buffer's octets).
                let mut buffer = vec![0u8; 256 * 1024];
                let (mut total, mut filled) = (0u64, 0usize);
                loop {
                    let n = tls.read(buffer.get_mut(filled..).unwrap()).await.unwrap();
                    total += n as u64;
                    if let Some(file) = sink.as_mut() {
                        filled += n;
                        if n == 0 || filled == buffer.len() {
                            std::io::Write::write_all(file, buffer.get(..filled).unwrap()).unwrap();
                            filled = 0;
                        }
                    }
                    if n == 0 {
                        if let Some(file) = &sink {
                            file.sync_all().unwrap();
                        }
                        break total;
                    }
                }
            });
            let start = Instant::now();
            let cpu = process_cpu();
            let tcp = tokio::net::TcpStream::connect(address).await.unwrap();
            tcp.set_nodelay(true).unwrap();
            let connector = tokio_rustls::TlsConnector::from(client_config);
            let name = ServerName::try_from("localhost").unwrap();
            let mut tls = connector.connect(name, tcp).await.unwrap();
            let mut chunk = vec![0u8; BLOCK];
            loop {
                let piece = match source.as_ref() {
                    Some(mut file) => {
                        let n = file.read(&mut chunk).unwrap();
                        chunk.get(..n).unwrap()
                    }
                    None => content.next_piece(BLOCK),
                };
                if piece.is_empty() {
                    break;
                }
                tls.write_all(piece).await.unwrap();
            }
            tls.shutdown().await.unwrap();
            let total = reader.await.unwrap();
            let elapsed = start.elapsed();
            let cpu = process_cpu() - cpu;
            assert_eq!(total, content.len);
            let (_, connection) = tls.get_ref();
            let version = format!(
                "{:?} {:?}",
                connection.protocol_version().unwrap(),
                connection.negotiated_cipher_suite().unwrap().suite()
            );
            (elapsed, Some(cpu), version)
        })
    }

    /// Writing the file into the stores' directory, durable as the receiving store makes
    /// it: fsync every `CHECKPOINT_INTERVAL` octets and at the end.
    fn durable_write(&self) -> (Duration, Option<Duration>, String) {
        let dir = store_dir();
        let path = dir.path().join("file");
        let (elapsed, cpu) =
            support::buffered_durable_write(&path, &self.block, self.octets, CHECKPOINT_INTERVAL);
        (elapsed, Some(cpu), format!("fsync every {} MiB", CHECKPOINT_INTERVAL >> 20))
    }

    /// Writing the file into the stores' directory as the receiving store does there:
    /// with `O_DIRECT` in 2 MiB pieces, an fsync every `CHECKPOINT_INTERVAL` octets and
    /// at the end. What the disk takes: no receiver that makes the file durable before
    /// EFPA can be faster. `None` where `O_DIRECT` is refused.
    fn direct_write(&self) -> (Duration, Option<Duration>, String) {
        let dir = store_dir();
        let path = dir.path().join("file");
        match support::direct_durable_write(&path, &self.block, self.octets, CHECKPOINT_INTERVAL) {
            Some((elapsed, cpu)) => (elapsed, Some(cpu), "O_DIRECT, 2 MiB a write".into()),
            None => (Duration::ZERO, None, "no O_DIRECT in the stores' directory".into()),
        }
    }

    /// One OFTP session sending the file from A to B; its duration and the TLS version
    /// and cipher suite. Setting up the nodes and queueing the file is not timed.
    fn session(&self, params: Params, in_memory: bool) -> (Duration, Option<Duration>, String) {
        let dir = if in_memory { memory_dir } else { store_dir };
        let responder_dir = dir();
        let initiator_dir = dir();
        let responder_config = self.config(B, A, params, None);
        let server_config = server_config_for(&responder_config).unwrap();
        let responder = Node::new(
            Arc::new(responder_config),
            Arc::new(FsStore::open(responder_dir.path(), id(B)).unwrap()),
        );
        let (elapsed, cpu, version) = self.rt.block_on(async {
            let listener =
                Listener::bind("127.0.0.1:0", ServerSecurity::Tls(server_config)).await.unwrap();
            let address = listener.local_addr().unwrap().to_string();
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let (report_tx, report_rx) = tokio::sync::oneshot::channel();
            let report_tx = std::sync::Mutex::new(Some(report_tx));
            let serving = responder.clone();
            let server = tokio::spawn(async move {
                serving
                    .serve(listener, async { stopped.await.unwrap_or(()) }, move |report| {
                        if let Some(tx) = report_tx.lock().unwrap().take() {
                            let _ = tx.send(report.unwrap());
                        }
                    })
                    .await;
            });

            let initiator_config = self.config(A, B, params, Some(address.clone()));
            let security = ClientSecurity::for_partner(
                &initiator_config,
                initiator_config.partners.first().unwrap(),
            )
            .unwrap();
            let timeout = initiator_config.limits.connect_timeout;
            let initiator = Node::new(
                Arc::new(initiator_config),
                Arc::new(FsStore::open(initiator_dir.path(), id(A)).unwrap()),
            );
            let file = OutgoingFile {
                dataset_name: "BENCH.U".parse().unwrap(),
                format: RecordFormat::Unstructured,
                max_record_length: RecordLength::new(0).unwrap(),
                description: Utf8Text::new("session_tls bench").unwrap(),
                destination: id(B),
                originator: None,
                user_data: UserData::EMPTY,
                source: OutgoingSource::Reader(Box::new(self.content())),
                services: FileServices::NONE,
            };
            initiator.store().queue_outgoing(&id(B), file).unwrap();

            let start = Instant::now();
            let cpu = process_cpu();
            let connection = connect(&address, &security, timeout).await.unwrap();
            let version = format!("{:?}", connection.tls_version().unwrap());
            let report = initiator.run_initiator(connection, &id(B), None).await.unwrap();
            let elapsed = start.elapsed();
            let cpu = process_cpu() - cpu;

            assert!(report.end.is_normal(), "{:?}", report.end);
            match report.sent.as_slice() {
                [OutgoingOutcome::Sent { counts, .. }] => assert_eq!(counts.octets, self.octets),
                other => panic!("not sent: {other:?}"),
            }
            assert_eq!(report.receipts.len(), 1, "the EERP came back in the session");
            let theirs = report_rx.await.unwrap();
            assert!(theirs.end.is_normal(), "{:?}", theirs.end);
            let delivered = theirs.received.first().unwrap();
            assert_eq!(std::fs::metadata(&delivered.path).unwrap().len(), self.octets);
            stop.send(()).unwrap();
            server.await.unwrap();
            (elapsed, cpu, version)
        });
        drop((responder, responder_dir, initiator_dir));
        (elapsed, Some(cpu), version)
    }
}

/// The tmpfs for stores in memory, if the system has one.
const MEMORY_FS: &str = "/dev/shm";

/// A temporary directory for a store in memory (tmpfs), to measure the session without
/// the disk.
fn memory_dir() -> TempDir {
    TempDir::new_in(MEMORY_FS).unwrap()
}

/// A temporary directory for a store, in `OFTP_BENCH_DIR` if set.
fn store_dir() -> TempDir {
    support::bench_dir()
}

fn session_tls(c: &mut Criterion) {
    let setup = Setup::new();
    let sets = [Params { buffer: 99_999, credit: 999 }, Params { buffer: 2_048, credit: 7 }];
    let mut summary = Vec::new();
    for params in sets {
        let mut group = c.benchmark_group(format!(
            "session_tls/{}_octets/{}_{}",
            setup.octets, params.buffer, params.credit
        ));
        group.throughput(Throughput::Bytes(setup.octets));
        group.sample_size(10);
        group.sampling_mode(SamplingMode::Flat);
        group.warm_up_time(Duration::from_millis(1));
        group.measurement_time(Duration::from_secs(1));

        let raw = measure(&mut group, "raw TLS", || setup.raw_tls(params));
        let disk = measure(&mut group, "durable write", || setup.durable_write());
        let direct = measure(&mut group, "durable write, O_DIRECT", || setup.direct_write());
        let session = measure(&mut group, "OFTP session", || setup.session(params, false));
        let in_memory = has_tmpfs().then(|| {
            measure(&mut group, "OFTP session, stores in tmpfs", || setup.session(params, true))
        });
        let files_in_memory = has_tmpfs().then(|| {
            measure(&mut group, "raw TLS, file to file in tmpfs", || {
                setup.raw_tls_file_to_file(params)
            })
        });
        // The target's parameters once more, in rounds of all three back to back: each
        // round's ratios compare runs that met the same load.
        let rounds = RefCell::new(Vec::new());
        if params.buffer == 99_999 {
            let _ = measure(&mut group, "rounds of raw TLS and OFTP sessions", || {
                let raw = setup.raw_tls(params).0;
                let disk = setup.session(params, false).0;
                let memory = has_tmpfs().then(|| setup.session(params, true).0);
                rounds.borrow_mut().push(Round { raw, disk, memory });
                (raw + disk + memory.unwrap_or_default(), None, String::new())
            });
        }
        group.finish();
        let in_memory = in_memory.map(|m| (m, files_in_memory));
        summary.push((params, raw, disk, direct, session, in_memory, rounds.into_inner()));
    }

    let octets = setup.octets;
    println!(
        "\nsession_tls: {octets} octets ({:.2} MiB) a transfer, stores in {}; median MB/s \
         (10^6 octets/s) of every timed run",
        octets as f64 / 1024.0 / 1024.0,
        store_dir().path().parent().unwrap().display()
    );
    for (params, raw, disk, direct, session, in_memory, rounds) in &summary {
        if raw.times.is_empty() || disk.times.is_empty() || session.times.is_empty() {
            println!("  {}: not all measured (filtered out)", params.label());
            continue;
        }
        let raw_rate = raw.median_mb_s(octets);
        let disk_rate = disk.median_mb_s(octets);
        let session_rate = session.median_mb_s(octets);
        let cpu = |m: &support::Measured| match m.median_cpu_s_per_gib(octets) {
            Some(cpu) => format!("{cpu:.2} s CPU/GiB"),
            None => "CPU not measured".to_owned(),
        };
        println!("  {}:", params.label());
        println!(
            "    raw TLS       {raw_rate:7.1} MB/s over {} runs ({}); {}; {}",
            raw.times.len(),
            raw.note,
            cpu(raw),
            raw.memory
        );
        println!(
            "    durable write {disk_rate:7.1} MB/s over {} runs ({}); {}; {}",
            disk.times.len(),
            disk.note,
            cpu(disk),
            disk.memory
        );
        println!(
            "    OFTP session  {session_rate:7.1} MB/s over {} runs ({}) = {:.1}% of raw TLS, \
             {:.1}% of the durable write; {}; {}",
            session.times.len(),
            session.note,
            100.0 * session_rate / raw_rate,
            100.0 * session_rate / disk_rate,
            cpu(session),
            session.memory
        );
        if !direct.times.is_empty() && !direct.cpu.is_empty() {
            let direct_rate = direct.median_mb_s(octets);
            let bound = direct_rate.min(raw_rate);
            println!(
                "    durable write, O_DIRECT (as the store) {direct_rate:7.1} MB/s over {} runs; \
                 {}: no receiver that makes the file durable before EFPA beats \
                 min(raw TLS, this) = {bound:.1} MB/s; the OFTP session at {:.1}% of it",
                direct.times.len(),
                cpu(direct),
                100.0 * session_rate / bound
            );
        }
        if let Some((memory, files_in_memory)) =
            in_memory.as_ref().filter(|m| !m.0.times.is_empty())
        {
            let memory_rate = memory.median_mb_s(octets);
            println!(
                "    OFTP session, stores in tmpfs {memory_rate:7.1} MB/s over {} runs = {:.1}% \
                 of raw TLS; {}; {}",
                memory.times.len(),
                100.0 * memory_rate / raw_rate,
                cpu(memory),
                memory.memory
            );
            if let Some(files) = files_in_memory.as_ref().filter(|m| !m.times.is_empty()) {
                let files_rate = files.median_mb_s(octets);
                println!(
                    "    raw TLS, file to file in tmpfs {files_rate:7.1} MB/s over {} runs = \
                     {:.1}% of raw TLS (what the session in tmpfs could reach if OFTP cost \
                     nothing); {}; the session in tmpfs at {:.1}% of it",
                    files.times.len(),
                    100.0 * files_rate / raw_rate,
                    cpu(files),
                    100.0 * memory_rate / files_rate
                );
            }
        }
        if !rounds.is_empty() {
            let disk: Vec<f64> =
                rounds.iter().map(|r| r.raw.as_secs_f64() / r.disk.as_secs_f64()).collect();
            let memory: Vec<f64> = rounds
                .iter()
                .filter_map(|r| Some(r.raw.as_secs_f64() / r.memory?.as_secs_f64()))
                .collect();
            println!(
                "    in {} rounds of raw TLS then the session, back to back: the session at {} \
                 of raw TLS; stores in tmpfs: {}",
                rounds.len(),
                spread(disk),
                spread(memory)
            );
        }
    }
}

/// One round: raw TLS, then the session with stores on disk, then in tmpfs.
struct Round {
    raw: Duration,
    disk: Duration,
    memory: Option<Duration>,
}

/// Ratios as "median (min to max)" in percent.
fn spread(ratios: Vec<f64>) -> String {
    let low = ratios.iter().copied().fold(f64::INFINITY, f64::min);
    let high = ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    match support::median(ratios) {
        Some(median) => {
            format!("{:.1}% ({:.1}% to {:.1}%)", 100.0 * median, 100.0 * low, 100.0 * high)
        }
        None => "not measured".to_owned(),
    }
}

/// Whether the system has the tmpfs for stores in memory.
fn has_tmpfs() -> bool {
    std::path::Path::new(MEMORY_FS).is_dir()
}

criterion_group!(benches, session_tls);
criterion_main!(benches);
