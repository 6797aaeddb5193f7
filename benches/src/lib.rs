//! Benchmarks live in `benches/`; this library holds only what several of them share.

/// A field of `/proc/self/status` (`VmRSS:`, `VmHWM:`) in KiB; `None` where there is no
/// such file (not Linux).
pub fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Peak memory while something runs: VmHWM after it, less VmRSS before it, with VmHWM
/// reset first (`5` to `/proc/self/clear_refs`). Without the reset, the growth of the
/// high-water mark over the whole process is all that can be said.
#[derive(Debug)]
pub struct Peak {
    reset: bool,
    rss_before: u64,
    hwm_before: u64,
}

impl Peak {
    /// Resets the high-water mark (where allowed) and notes the memory in use now.
    pub fn start() -> Self {
        let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
        Peak {
            reset,
            rss_before: status_kib("VmRSS:").unwrap_or(0),
            hwm_before: status_kib("VmHWM:").unwrap_or(0),
        }
    }

    /// The peak since [`Peak::start`], in words.
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
