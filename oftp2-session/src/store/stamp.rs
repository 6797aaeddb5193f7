//! SFIDDATE / SFIDTIME stamps for queued files: UTC date and time of day, and the counter
//! `cccc` numbering the files of one second, strictly increasing across the whole store.

use std::time::{SystemTime, UNIX_EPOCH};

use oftp2_codec::fields::{VirtualFileDate, VirtualFileTime};
use serde::{Deserialize, Serialize};

/// A stamp: a second (Unix time, UTC) and the counter within it (1..=9999).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub(crate) struct Stamp {
    pub(crate) secs: i64,
    pub(crate) counter: u16,
}

impl Stamp {
    /// The stamp after `last` at time `now`: the first of `now`'s second if that is
    /// later than `last`, else the next counter after `last` (running into the next
    /// second after 9999, so stamps never repeat even if the clock goes back).
    pub(crate) fn next(last: Option<Stamp>, now: SystemTime) -> Stamp {
        let now_secs = match now.duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
        };
        match last {
            Some(last) if last.secs >= now_secs => {
                if last.counter < 9999 {
                    Stamp { secs: last.secs, counter: last.counter + 1 }
                } else {
                    Stamp { secs: last.secs.saturating_add(1), counter: 1 }
                }
            }
            _ => Stamp { secs: now_secs, counter: 1 },
        }
    }

    /// SFIDDATE and SFIDTIME, if the date is within 0000..=9999.
    pub(crate) fn fields(self) -> Option<(VirtualFileDate, VirtualFileTime)> {
        let days = self.secs.div_euclid(86_400);
        let of_day = self.secs.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        let year = u16::try_from(year).ok()?;
        let date = VirtualFileDate::new(year, month, day).ok()?;
        let time = VirtualFileTime::new(
            u8::try_from(of_day / 3600).ok()?,
            u8::try_from(of_day / 60 % 60).ok()?,
            u8::try_from(of_day % 60).ok()?,
            self.counter,
        )
        .ok()?;
        Some((date, time))
    }
}

/// The store's number for a date and time: `CCYYMMDDHHMMSScccc`, which sorts like the
/// stamps.
pub(crate) fn seq(date: VirtualFileDate, time: VirtualFileTime) -> u64 {
    u64::from(date.as_number()) * 10_000_000_000 + time.as_number()
}

/// Year, month and day of a day count since 1970-01-01 (H. Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month as u8, day as u8)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn calendar() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        // 2026-11-23T14:30:05Z
        let stamp = Stamp::next(None, at(1_795_444_205));
        let (date, time) = stamp.fields().unwrap();
        assert_eq!(date.to_string(), "20261123");
        assert_eq!(time.to_string(), "1430050001");
        assert_eq!(seq(date, time), 202_611_231_430_050_001);
    }

    #[test]
    fn counter_numbers_files_within_a_second_and_never_repeats() {
        let first = Stamp::next(None, at(1000));
        let second = Stamp::next(Some(first), at(1000));
        assert_eq!((second.secs, second.counter), (1000, 2));
        let later = Stamp::next(Some(second), at(1001));
        assert_eq!((later.secs, later.counter), (1001, 1));
        // The clock went back: keep counting after the last stamp.
        let back = Stamp::next(Some(later), at(900));
        assert_eq!((back.secs, back.counter), (1001, 2));
        let full = Stamp { secs: 1001, counter: 9999 };
        let over = Stamp::next(Some(full), at(1001));
        assert_eq!((over.secs, over.counter), (1002, 1));
        assert!(over > full);
    }
}
