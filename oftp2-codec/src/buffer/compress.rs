//! Finding runs of identical octets for buffer compression (§7.2).
//!
//! The scan compares the input with itself shifted by 1, 2, ... `min_run - 1` octets,
//! eight positions at a time: a zero octet in the OR of the differences marks the start
//! of a run. Text with no run long enough costs a few loads and arithmetic operations
//! per eight octets.

/// The least and greatest run length [`find_run_of`] looks for.
pub(crate) const MIN_RUN_RANGE: core::ops::RangeInclusive<u8> = 3..=8;

const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
const REPEAT: u64 = 0x0101_0101_0101_0101;

/// Bit 7 of byte `k` of the result is set iff byte `k` of `x` is zero (exact, no
/// carries between bytes).
#[inline(always)]
const fn zero_octets(x: u64) -> u64 {
    !(((x & LOW7).wrapping_add(LOW7)) | x | LOW7)
}

#[inline(always)]
fn load(window: &[u8]) -> Option<u64> {
    window.first_chunk::<8>().map(|chunk| u64::from_le_bytes(*chunk))
}

/// The length of the run of `data[start]` beginning at `start` (0 when `start` is past
/// the end).
#[inline]
pub(crate) fn run_length(data: &[u8], start: usize) -> usize {
    let Some(rest) = data.get(start..) else { return 0 };
    let Some(&octet) = rest.first() else { return 0 };
    let pattern = REPEAT.wrapping_mul(u64::from(octet));
    let mut len = 0;
    while let Some(word) = rest.get(len..).and_then(load) {
        let diff = word ^ pattern;
        if diff != 0 {
            return len + (diff.trailing_zeros() / 8) as usize;
        }
        len += 8;
    }
    len + rest.get(len..).unwrap_or_default().iter().take_while(|&&b| b == octet).count()
}

/// The first run of at least `min_run` identical octets at or after `from`, as
/// `(start, length)` with the run taken as long as it goes.
///
/// `min_run` must lie in [`MIN_RUN_RANGE`] (others are clamped into it).
#[cfg(test)]
pub(crate) fn find_run(data: &[u8], from: usize, min_run: u8) -> Option<(usize, usize)> {
    match min_run {
        0..=3 => find_run_of::<3>(data, from),
        4 => find_run_of::<4>(data, from),
        5 => find_run_of::<5>(data, from),
        6 => find_run_of::<6>(data, from),
        7 => find_run_of::<7>(data, from),
        _ => find_run_of::<8>(data, from),
    }
}

/// One 64-bit word of `window` from octet `k` on (little-endian).
#[inline(always)]
fn word_at(window: &[u8; 16], k: usize) -> u64 {
    window.get(k..).and_then(load).unwrap_or(0)
}

/// [`find_run`] for a fixed `MIN` (3..=8).
///
/// Eight candidate starts per step: lane `j` of `a ^ load(i + k)` is zero iff octet
/// `i + j` equals octet `i + j + k`, so OR-ing those words for `k` in `1..MIN` leaves
/// a zero lane exactly where a run of `MIN` starts. The first such lane is the start
/// of a maximal run (an earlier start would have been found first).
#[inline]
pub(crate) fn find_run_of<const MIN: usize>(data: &[u8], from: usize) -> Option<(usize, usize)> {
    let mut i = from;
    while let Some(window) = data.get(i..).and_then(|rest| rest.first_chunk::<16>()) {
        let a = word_at(window, 0);
        let mut diff = 0;
        let mut k = 1;
        while k < MIN {
            diff |= a ^ word_at(window, k);
            k += 1;
        }
        let starts = zero_octets(diff);
        if starts != 0 {
            let start = i + (starts.trailing_zeros() / 8) as usize;
            return Some((start, run_length(data, start)));
        }
        i += 8;
    }
    // The tail, octet by octet.
    let tail = data.get(i..).unwrap_or_default();
    let mut start = 0;
    while start < tail.len() {
        let len = run_length(tail, start);
        if len >= MIN {
            return Some((i + start, len));
        }
        start += len.max(1);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(data: &[u8], from: usize, min_run: usize) -> Option<(usize, usize)> {
        let mut start = from;
        while start < data.len() {
            let len = data[start..].iter().take_while(|&&b| b == data[start]).count();
            if len >= min_run {
                return Some((start, len));
            }
            start += len;
        }
        None
    }

    #[test]
    fn zero_octet_mask_is_exact() {
        for value in [0u64, u64::MAX, 0x0080_0001_FF00_7F80, 0x0100_0000_0000_0000] {
            let mask = zero_octets(value);
            for k in 0..8 {
                let octet = (value >> (8 * k)) as u8;
                assert_eq!(mask >> (8 * k + 7) & 1 == 1, octet == 0, "{value:#x} octet {k}");
                assert_eq!(mask >> (8 * k) & 0x7F, 0);
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn agrees_with_a_naive_scan(
            data in proptest::collection::vec(proptest::sample::select(vec![b'a', b'b', 0u8, 0xFF]), 0..200),
            from in 0usize..200,
            min_run in 3u8..=8,
        ) {
            let from = from.min(data.len());
            // `from` is where a scan resumes: never inside a run it already passed.
            let from = if from > 0 && from < data.len() && data[from - 1] == data[from] { 0 } else { from };
            proptest::prop_assert_eq!(find_run(&data, from, min_run), naive(&data, from, usize::from(min_run)));
            if from < data.len() {
                let len = data[from..].iter().take_while(|&&b| b == data[from]).count();
                proptest::prop_assert_eq!(run_length(&data, from), len);
            }
        }
    }
}
