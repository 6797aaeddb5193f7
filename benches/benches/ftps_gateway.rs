//! ftps-gateway against a local vsftpd configured like SKAT's gateway (TLS 1.2,
//! client certificate, session reuse required): upload and download of
//! 256 MiB, each next to curl doing the same against the same server in the
//! same run, and 1,000 small uploads in a row on one connection.
//!
//! Needs vsftpd and the test user from `scripts/install-ftps-servers.sh`
//! (run as root) and curl; without them the benchmark says so and does
//! nothing (set `FTPS_GATEWAY_SKIP_SERVERS=1` to make that quiet).
#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // benchmark setup
#![allow(missing_docs)] // criterion_group! generates undocumented functions

#[path = "../../ftps-gateway/tests/support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ftps_gateway::{FtpsClient, TransferMode};
use support::real::{RealServer, SERVICE};
use support::Pki;

const BIG: u64 = 256 * 1024 * 1024;
const SMALL_COUNT: u64 = 1000;

struct Setup {
    rt: tokio::runtime::Runtime,
    pki: Pki,
    server: RealServer,
    big_file: PathBuf,
}

fn setup() -> Option<Setup> {
    if Command::new("curl").arg("--version").output().is_err() {
        eprintln!("ftps_gateway bench: curl is missing; run scripts/install-ftps-servers.sh");
        return None;
    }
    let pki = Pki::new();
    let server = match std::panic::catch_unwind(|| support::real::vsftpd(&pki)) {
        Ok(Some(s)) => s,
        Ok(None) => return None,
        Err(_) => {
            eprintln!(
                "ftps_gateway bench: vsftpd is not available; run scripts/install-ftps-servers.sh"
            );
            return None;
        }
    };
    let big_file = pki.dir.path().join("big.bin");
    let chunk: Vec<u8> =
        (0..1024 * 1024u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let mut f = std::fs::File::create(&big_file).unwrap();
    for _ in 0..BIG / chunk.len() as u64 {
        std::io::Write::write_all(&mut f, &chunk).unwrap();
    }
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    Some(Setup { rt, pki, server, big_file })
}

fn curl(s: &Setup, args: &[&str], remote: &str) {
    let url = format!("ftp://127.0.0.1:{}/{remote}", s.server.addr.port());
    let out = Command::new("curl")
        .args([
            "--silent",
            "--show-error",
            "--ssl-reqd",
            "--tlsv1.2",
            "--tls-max",
            "1.2",
            "--ftp-pasv",
        ])
        .arg("--cacert")
        .arg(&s.pki.ca)
        .arg("--cert")
        .arg(&s.pki.client.cert)
        .arg("--key")
        .arg(&s.pki.client.key)
        .arg("--user")
        .arg(format!("{}:{}", s.server.user, s.server.pass))
        .args(args)
        .arg(&url)
        .stdout(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "curl failed: {}", String::from_utf8_lossy(&out.stderr));
}

fn connect(s: &Setup) -> FtpsClient {
    s.rt.block_on(FtpsClient::connect(
        support::config(&s.pki, s.server.addr, s.server.user, s.server.pass)
            .with_identity(support::identity(&s.pki)),
    ))
    .unwrap()
}

fn upload_file(s: &Setup, c: &mut FtpsClient, local: &Path, remote: &str) {
    s.rt.block_on(async {
        let f = tokio::fs::File::open(local).await.unwrap();
        let n = c.upload(remote, f, TransferMode::Binary, &mut |_| {}).await.unwrap();
        assert_eq!(n, BIG);
    });
}

/// CPU seconds (user + system) of this process and of its waited-for
/// children, from /proc/self/stat (clock ticks of 1/100 s).
fn cpu_seconds() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses).
    let rest = stat.rsplit_once(") ").map(|(_, r)| r).unwrap_or("");
    let f: Vec<f64> = rest.split(' ').map(|x| x.parse().unwrap_or(0.0)).collect();
    // utime, stime, cutime, cstime are fields 14-17 (1-based), i.e. 11-14 here.
    let get = |i: usize| f.get(i).copied().unwrap_or(0.0) / 100.0;
    (get(11) + get(12), get(13) + get(14))
}

/// One measured run of each, wall clock and the client's own CPU time: the
/// machine may be shared, and CPU time is the fairer comparison then.
fn cpu_comparison(s: &Setup, client: &mut FtpsClient, remote: &str) {
    let measure = |f: &mut dyn FnMut()| {
        let (s0, c0) = cpu_seconds();
        let t = Instant::now();
        f();
        let wall = t.elapsed().as_secs_f64();
        let (s1, c1) = cpu_seconds();
        (wall, (s1 - s0) + (c1 - c0))
    };
    let mib = BIG as f64 / (1024.0 * 1024.0);
    let up = measure(&mut || upload_file(s, client, &s.big_file, &format!("{SERVICE}/cmp.bin")));
    let up_curl = measure(&mut || {
        curl(s, &["-T", s.big_file.to_str().unwrap()], &format!("{SERVICE}/cmp-curl.bin"))
    });
    let down = measure(&mut || {
        s.rt.block_on(client.download(remote, tokio::io::sink())).unwrap();
    });
    let down_curl = measure(&mut || curl(s, &["-o", "/dev/null"], remote));
    for (what, (w, c), (cw, cc)) in [("upload", up, up_curl), ("download", down, down_curl)] {
        println!(
            "{what} 256 MiB: ftps-gateway {:.0} MiB/s wall, {c:.2} s client CPU; curl {:.0} MiB/s wall, {cc:.2} s client CPU; wall ratio {:.2}x curl",
            mib / w,
            mib / cw,
            cw / w
        );
    }
}

fn bench(c: &mut Criterion) {
    let Some(s) = setup() else { return };
    let mut client = connect(&s);
    let remote = format!("{SERVICE}/big.bin");
    // The file to download.
    upload_file(&s, &mut client, &s.big_file, &remote);
    cpu_comparison(&s, &mut client, &remote);

    let mut g = c.benchmark_group("ftps_upload_256MiB");
    g.throughput(Throughput::Bytes(BIG));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    g.bench_function("ftps-gateway", |b| {
        b.iter_custom(|iters| {
            let t = Instant::now();
            for _ in 0..iters {
                upload_file(&s, &mut client, &s.big_file, &format!("{SERVICE}/up.bin"));
            }
            t.elapsed()
        })
    });
    g.bench_function("curl", |b| {
        b.iter_custom(|iters| {
            let t = Instant::now();
            for _ in 0..iters {
                curl(&s, &["-T", s.big_file.to_str().unwrap()], &format!("{SERVICE}/up-curl.bin"));
            }
            t.elapsed()
        })
    });
    g.finish();

    let mut g = c.benchmark_group("ftps_download_256MiB");
    g.throughput(Throughput::Bytes(BIG));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    g.bench_function("ftps-gateway", |b| {
        b.iter_custom(|iters| {
            let t = Instant::now();
            for _ in 0..iters {
                let n = s.rt.block_on(client.download(&remote, tokio::io::sink())).unwrap();
                assert_eq!(n, BIG);
            }
            t.elapsed()
        })
    });
    g.bench_function("curl", |b| {
        b.iter_custom(|iters| {
            let t = Instant::now();
            for _ in 0..iters {
                curl(&s, &["-o", "/dev/null"], &remote);
            }
            t.elapsed()
        })
    });
    g.finish();

    let mut g = c.benchmark_group("ftps_small_uploads");
    g.throughput(Throughput::Elements(SMALL_COUNT));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    let payload = vec![b'x'; 1024];
    let mut round = 0u64;
    g.bench_function("1000 x 1 KiB, one connection", |b| {
        b.iter_custom(|iters| {
            let t = Instant::now();
            for _ in 0..iters {
                round += 1;
                s.rt.block_on(async {
                    for i in 0..SMALL_COUNT {
                        let name = format!("{SERVICE}/small-{round}-{i}.xml");
                        client
                            .upload(&name, &payload[..], TransferMode::Binary, &mut |_| {})
                            .await
                            .unwrap();
                    }
                });
            }
            t.elapsed()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
