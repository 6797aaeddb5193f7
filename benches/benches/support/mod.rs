//! What the benchmarks share: timing each run with criterion while keeping every time,
//! the median throughput of those times, and the process's peak memory meanwhile.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::cell::RefCell;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::BenchmarkGroup;

/// A field of `/proc/self/status` in KiB.
pub fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Peak memory while something runs: VmHWM after it, less VmRSS before it, with VmHWM
/// reset first (`5` to `/proc/self/clear_refs`). Without the reset, the growth of the
/// high-water mark over the whole process is all that can be said.
pub struct Peak {
    reset: bool,
    rss_before: u64,
    hwm_before: u64,
}

impl Peak {
    pub fn start() -> Self {
        let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
        Peak {
            reset,
            rss_before: status_kib("VmRSS:").unwrap_or(0),
            hwm_before: status_kib("VmHWM:").unwrap_or(0),
        }
    }

    pub fn describe(&self) -> String {
        let hwm = status_kib("VmHWM:").unwrap_or(0);
        let mib = |kib: u64| kib as f64 / 1024.0;
        if self.reset {
            format!(
                "peak RSS {:.1} MiB, {:+.1} MiB over the {:.1} MiB before",
                mib(hwm),
                mib(hwm) - mib(self.rss_before),
                mib(self.rss_before)
            )
        } else {
            format!(
                "VmHWM {:.1} MiB, {:+.1} MiB (not resettable here)",
                mib(hwm),
                mib(hwm) - mib(self.hwm_before)
            )
        }
    }
}

/// The CPU time the whole process has used so far (user and system, all its threads,
/// those that ended included), from `/proc/self/stat` in clock ticks (10 ms).
pub fn process_cpu() -> Duration {
    let ticks = std::fs::read_to_string("/proc/self/stat").ok().and_then(|stat| {
        // The fields after the command name, which is in parentheses.
        let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        let user: u64 = fields.get(11)?.parse().ok()?;
        let system: u64 = fields.get(12)?.parse().ok()?;
        Some(user + system)
    });
    Duration::from_millis(ticks.unwrap_or(0) * 10)
}

/// The times of every timed run, what the last run said of itself, and the peak memory.
#[derive(Default)]
pub struct Measured {
    /// Every timed run.
    pub times: Vec<Duration>,
    /// The process's CPU time in every timed run (both cores together), where measured.
    pub cpu: Vec<Duration>,
    /// What the last run said (a TLS version, a size).
    pub note: String,
    /// The peak memory while measured, in words.
    pub memory: String,
}

impl Measured {
    /// The median throughput in MB/s (10^6 octets a second).
    pub fn median_mb_s(&self, octets: u64) -> f64 {
        let rates = self.times.iter().map(|t| octets as f64 / t.as_secs_f64() / 1e6).collect();
        median(rates).unwrap_or(f64::NAN)
    }

    /// The median CPU time per GiB (seconds of CPU, all threads), if measured.
    pub fn median_cpu_s_per_gib(&self, octets: u64) -> Option<f64> {
        let gib = (1u64 << 30) as f64 / octets as f64;
        median(self.cpu.iter().map(|cpu| cpu.as_secs_f64() * gib).collect())
    }
}

/// The median of `values`; `None` if there are none.
pub fn median(mut values: Vec<f64>) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => None,
        n if n % 2 == 1 => values.get(n / 2).copied(),
        n => Some((values.get(n / 2 - 1)? + values.get(n / 2)?) / 2.0),
    }
}

/// Benchmarks `run` (one timed run a call, returning its time and a note) as `name`, keeping every time and the
/// peak memory meanwhile.
pub fn measure(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    run: impl Fn() -> (Duration, String),
) -> Measured {
    measure_with_cpu(group, name, || {
        let (time, note) = run();
        (time, None, note)
    })
}

/// [`measure`] for a `run` that also tells the process CPU time of its timed part
/// (see [`process_cpu`]).
pub fn measure_with_cpu(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    run: impl Fn() -> (Duration, Option<Duration>, String),
) -> Measured {
    let measured = RefCell::new(Measured::default());
    let peak = Peak::start();
    group.bench_function(name, |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let (time, cpu, note) = run();
                let mut measured = measured.borrow_mut();
                measured.times.push(time);
                measured.cpu.extend(cpu);
                measured.note = note;
                total += time;
            }
            total
        })
    });
    let mut measured = measured.into_inner();
    measured.memory = peak.describe();
    measured
}

/// Writes `octets` octets (`piece` again and again, the last one cut) into a new file at
/// `path` through the page cache, an `fsync` every `sync_every` octets and at the end.
/// Its time and the process's CPU time.
pub fn buffered_durable_write(
    path: &std::path::Path,
    piece: &[u8],
    octets: u64,
    sync_every: u64,
) -> (Duration, Duration) {
    let start = std::time::Instant::now();
    let cpu = process_cpu();
    let mut file = std::fs::File::create(path).unwrap();
    let (mut written, mut synced) = (0u64, 0u64);
    while written < octets {
        let n = usize::try_from(octets - written).unwrap_or(usize::MAX).min(piece.len());
        std::io::Write::write_all(&mut file, piece.get(..n).unwrap()).unwrap();
        written += n as u64;
        if written - synced >= sync_every {
            file.sync_all().unwrap();
            synced = written;
        }
    }
    file.sync_all().unwrap();
    (start.elapsed(), process_cpu() - cpu)
}

/// The pieces of [`direct_durable_write`]: the receiving store's largest direct write.
pub const DIRECT_WRITE: usize = 2 * 1024 * 1024;

/// Writes `octets` octets (`pattern` repeated) into a new file at `path` as the receiving
/// store does on a disk: with `O_DIRECT` in [`DIRECT_WRITE`] pieces from an aligned
/// buffer, one after the other, an `fsync` every `sync_every` octets and at the end; a
/// last piece that is not a whole 4 KiB block through the page cache. Its time and the
/// process's CPU time; `None` where the file system refuses `O_DIRECT` (tmpfs before
/// Linux 6.6, say).
pub fn direct_durable_write(
    path: &std::path::Path,
    pattern: &[u8],
    octets: u64,
    sync_every: u64,
) -> Option<(Duration, Duration)> {
    use rustix::fs::{Mode, OFlags};
    use std::fs::File;
    use std::os::unix::fs::FileExt;
    let mut memory = vec![0u8; DIRECT_WRITE + 4096];
    let skip = (4096 - memory.as_ptr().addr() % 4096) % 4096;
    let piece = memory.get_mut(skip..skip + DIRECT_WRITE).unwrap();
    for (octet, value) in piece.iter_mut().zip(pattern.iter().cycle()) {
        *octet = *value;
    }
    let start = std::time::Instant::now();
    let cpu = process_cpu();
    let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::DIRECT | OFlags::CLOEXEC;
    let file = File::from(rustix::fs::open(path, flags, Mode::from_raw_mode(0o600)).ok()?);
    let (mut written, mut synced) = (0u64, 0u64);
    while written < octets {
        let n = usize::try_from(octets - written).unwrap_or(usize::MAX).min(DIRECT_WRITE);
        let data = piece.get(..n).unwrap();
        if n % 4096 == 0 {
            file.write_all_at(data, written).unwrap();
        } else {
            File::options().write(true).open(path).unwrap().write_all_at(data, written).unwrap();
        }
        written += n as u64;
        if written - synced >= sync_every {
            file.sync_all().unwrap();
            synced = written;
        }
    }
    file.sync_all().unwrap();
    Some((start.elapsed(), process_cpu() - cpu))
}

/// The octets a benchmark moves: the environment variable `var`, 1 GiB without it.
pub fn octets_from_env(var: &str) -> u64 {
    match std::env::var(var) {
        Ok(value) => value.trim().parse().unwrap_or_else(|_| panic!("{var}: a number of octets")),
        Err(_) => 1 << 30,
    }
}

/// A temporary directory for a benchmark's files (or a store), in `OFTP_BENCH_DIR` if
/// set, else in the system's temporary directory.
pub fn bench_dir() -> tempfile::TempDir {
    match std::env::var_os("OFTP_BENCH_DIR") {
        Some(dir) => tempfile::TempDir::new_in(dir).unwrap(),
        None => tempfile::TempDir::new().unwrap(),
    }
}

/// `len` pseudo-random octets (xorshift), so that nothing downstream can shortcut them.
pub fn pseudo_random(len: usize) -> Vec<u8> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}
