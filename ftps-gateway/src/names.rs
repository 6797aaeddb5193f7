//! File names the gateway accepts, and a generator of unique ones.

use std::sync::atomic::{AtomicU32, Ordering};

use crate::error::{Error, Result};
use crate::journal::{now_ms, Journal};

/// Longest file name accepted.
pub const MAX_NAME_LEN: usize = 200;

/// Checks that a name can be used as the gateway's FTPTransactionID: 1 to
/// 200 characters out of `A-Z a-z 0-9 . _ -`, not starting with a dot.
///
/// ```
/// assert!(ftps_gateway::validate_name("ping20201210143002441-hb01.xml").is_ok());
/// assert!(ftps_gateway::validate_name("../etc/passwd").is_err());
/// assert!(ftps_gateway::validate_name("two words.xml").is_err());
/// ```
pub fn validate_name(name: &str) -> Result<()> {
    let err = |reason| Error::InvalidName { name: name.into(), reason };
    if name.is_empty() {
        return Err(err("empty"));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(err("longer than 200 characters"));
    }
    if name.starts_with('.') {
        return Err(err("starts with a dot"));
    }
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')) {
        return Err(err("only A-Z, a-z, 0-9, '.', '_' and '-' are allowed"));
    }
    Ok(())
}

/// Checks a service folder name (e.g. `FTPSGW.Heartbeat`): letters, digits,
/// dots and hyphens; no underscore (the status file names use it as the
/// separator) and no slash.
pub fn validate_service(service: &str) -> Result<()> {
    let err = |reason| Error::InvalidName { name: service.into(), reason };
    if service.is_empty() || service.len() > MAX_NAME_LEN {
        return Err(err("a service name has 1 to 200 characters"));
    }
    if service.starts_with('.') {
        return Err(err("starts with a dot"));
    }
    if !service.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-')) {
        return Err(err("a service name has only A-Z, a-z, 0-9, '.' and '-'"));
    }
    Ok(())
}

/// Counter shared by every generator in the process, so that two names made
/// in the same millisecond differ even before either is in the journal.
static COUNTER: AtomicU32 = AtomicU32::new(0);

/// Makes names like `ping20201210143002441-01.xml`: a prefix, the UTC time to
/// the millisecond, a counter (shared by all generators of the process, 1 to
/// 9999) and an extension. Names already in the journal are skipped.
#[derive(Debug, Clone)]
pub struct NameGenerator {
    prefix: String,
    extension: String,
}

impl NameGenerator {
    /// A generator for `<prefix><yyyyMMddHHmmssSSS>-<nn><extension>`; the
    /// extension includes its dot (e.g. `".xml"`) or is empty.
    pub fn new(prefix: impl Into<String>, extension: impl Into<String>) -> Result<Self> {
        let g = Self { prefix: prefix.into(), extension: extension.into() };
        validate_name(&g.format(0, 9999))?;
        Ok(g)
    }

    fn format(&self, ms: u64, counter: u32) -> String {
        format!("{}{}-{:02}{}", self.prefix, timestamp(ms), counter, self.extension)
    }

    /// The next name not in `journal` and not handed out before in this
    /// process (within the same millisecond).
    pub fn next_name(&self, journal: &Journal) -> Result<String> {
        for _ in 0..1000 {
            let counter = COUNTER.fetch_add(1, Ordering::Relaxed) % 9999 + 1;
            let name = self.format(now_ms(), counter);
            validate_name(&name)?;
            if !journal.contains(&name)? {
                return Ok(name);
            }
        }
        Err(Error::Journal("no unused name found in 1000 tries".into()))
    }
}

/// `yyyyMMddHHmmssSSS` in UTC for milliseconds since the Unix epoch.
pub(crate) fn timestamp(ms: u64) -> String {
    let secs = ms / 1000;
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}{m:02}{d:02}{:02}{:02}{:02}{:03}",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60,
        ms % 1000
    )
}

/// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    (y, u32::try_from(m).unwrap_or(1), u32::try_from(d).unwrap_or(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        // The guide's heartbeat: ping20201210143002441
        assert_eq!(timestamp(1_607_610_602_441), "20201210143002441");
        assert_eq!(timestamp(0), "19700101000000000");
        assert_eq!(timestamp(951_782_400_000), "20000229000000000");
    }

    #[test]
    fn names() {
        assert!(validate_name("a_b-c.d").is_ok());
        assert!(validate_name(".hidden").is_err());
        assert!(validate_name("a/b").is_err());
        assert!(validate_name(&"x".repeat(201)).is_err());
        assert!(validate_service("FTPSGW.Heartbeat").is_ok());
        assert!(validate_service("A_B").is_err());
        assert!(NameGenerator::new("bad/", ".xml").is_err());
    }

    #[test]
    fn generated_names_differ_before_they_are_used() -> Result<()> {
        let path = std::env::temp_dir().join(format!(
            "ftps-gateway-names-{}-{}.redb",
            std::process::id(),
            now_ms()
        ));
        let journal = Journal::open(&path)?;
        let names: Vec<String> = (0..200)
            .map(|_| NameGenerator::new("ping", ".xml")?.next_name(&journal))
            .collect::<Result<_>>()?;
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len());
        assert!(names.iter().all(|n| n.starts_with("ping") && n.ends_with(".xml")));
        drop(journal);
        let _ = std::fs::remove_file(path);
        Ok(())
    }
}
