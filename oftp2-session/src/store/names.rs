//! Local file names for Virtual Files, partners and receipts.
//!
//! Dataset names and Odette codes use `0-9 A-Z space / - . & ( )` (RFC 5024 Appendix B).
//! [`escape`] keeps digits, capitals and inner hyphens and writes every other character
//! as `_` and a small letter (`/` `_s`, `.` `_d`, `&` `_a`, `(` `_o`, `)` `_c`, space
//! `_w`, a leading `-` `_m`, anything else `_x` and two hex digits). The result uses only
//! `0-9 A-Z a-z - _`, never starts with `.` or `-`, cannot contain a path separator, and
//! is injective even on case-insensitive file systems (small letters occur only right
//! after an escaping `_`). Names join escaped fields with `+`, which escaping never
//! produces, so distinct identities give distinct names.

use std::fmt::Write;

use oftp2_codec::command::Sfid;
use oftp2_codec::fields::{DatasetName, OdetteId, VirtualFileDate, VirtualFileTime};

use super::types::{Receipt, ReceiptFields};

/// Appends `value` escaped for a file name.
pub(crate) fn escape(value: &str, out: &mut String) {
    for (position, octet) in value.bytes().enumerate() {
        match octet {
            b'A'..=b'Z' | b'0'..=b'9' => out.push(char::from(octet)),
            b'-' if position > 0 => out.push('-'),
            b'-' => out.push_str("_m"),
            b'/' => out.push_str("_s"),
            b'.' => out.push_str("_d"),
            b'&' => out.push_str("_a"),
            b'(' => out.push_str("_o"),
            b')' => out.push_str("_c"),
            b' ' => out.push_str("_w"),
            other => {
                let _ = write!(out, "_x{other:02x}");
            }
        }
    }
}

/// The value [`escape`] turned into `name`; `None` if no value gives `name`.
pub(crate) fn unescape(name: &str) -> Option<String> {
    let mut out = String::with_capacity(name.len());
    let mut octets = name.bytes();
    while let Some(octet) = octets.next() {
        let plain = match octet {
            b'A'..=b'Z' | b'0'..=b'9' => octet,
            b'-' if !out.is_empty() => b'-',
            b'_' => match octets.next()? {
                b'm' if out.is_empty() => b'-',
                b's' => b'/',
                b'd' => b'.',
                b'a' => b'&',
                b'o' => b'(',
                b'c' => b')',
                b'w' => b' ',
                b'x' => {
                    let hex = [octets.next()?, octets.next()?];
                    u8::from_str_radix(core::str::from_utf8(&hex).ok()?, 16).ok()?
                }
                _ => return None,
            },
            _ => return None,
        };
        out.push(char::from(plain));
    }
    Some(out)
}

/// The partner whose folder is called `name`, if it is one.
pub(crate) fn partner_of_dir(name: &str) -> Option<OdetteId> {
    let partner: OdetteId = unescape(name)?.parse().ok()?;
    (partner_dir(&partner) == name).then_some(partner)
}

/// The folder name of a partner.
pub(crate) fn partner_dir(partner: &OdetteId) -> String {
    let mut out = String::with_capacity(32);
    escape(partner.as_str(), &mut out);
    out
}

/// The identity of a Virtual File (§1.5.2) as a file name stem: originator, destination,
/// dataset name, date and time.
pub(crate) fn file_key(
    originator: &OdetteId,
    destination: &OdetteId,
    dataset_name: &DatasetName,
    date: VirtualFileDate,
    time: VirtualFileTime,
) -> String {
    let mut out = String::with_capacity(96);
    escape(originator.as_str(), &mut out);
    out.push('+');
    escape(destination.as_str(), &mut out);
    out.push('+');
    escape(dataset_name.as_str(), &mut out);
    let _ = write!(out, "+{date}+{time}");
    out
}

/// [`file_key`] of the file an SFID announces.
pub(crate) fn sfid_key(sfid: &Sfid) -> String {
    file_key(&sfid.originator, &sfid.destination, &sfid.dataset_name, sfid.date, sfid.time)
}

/// The name of a receipt owed: its kind and its own identity.
pub(crate) fn receipt_name(receipt: &Receipt) -> String {
    let kind = match receipt {
        Receipt::Eerp(_) => "eerp",
        Receipt::Nerp(_) => "nerp",
    };
    let key = file_key(
        receipt.originator(),
        receipt.destination(),
        receipt.dataset_name(),
        receipt.date(),
        receipt.time(),
    );
    format!("{kind}+{key}")
}

/// The name a received file gets in the inbox: dataset name, date and time, and from
/// the second file with these three on, `+2`, `+3`, ...
pub(crate) fn inbox_name(sfid: &Sfid, attempt: u32) -> String {
    let mut out = String::with_capacity(64);
    if sfid.dataset_name.is_empty() {
        out.push_str("_e");
    }
    escape(sfid.dataset_name.as_str(), &mut out);
    let _ = write!(out, "+{}+{}", sfid.date, sfid.time);
    if attempt > 1 {
        let _ = write!(out, "+{attempt}");
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn esc(value: &str) -> String {
        let mut out = String::new();
        escape(value, &mut out);
        out
    }

    #[test]
    fn hostile_characters_are_escaped() {
        assert_eq!(esc(".."), "_d_d");
        assert_eq!(esc("."), "_d");
        assert_eq!(esc("../ETC/PASSWD"), "_d_d_sETC_sPASSWD");
        assert_eq!(esc("-RF"), "_mRF");
        assert_eq!(esc("A-B"), "A-B");
        assert_eq!(esc("A&B(C)"), "A_aB_oC_c");
        assert_eq!(esc("O0013 X"), "O0013_wX");
        assert_eq!(esc("a\\"), "_x61_x5c");
    }

    #[test]
    fn partner_folders_round_trip() {
        for code in ["O0013000000000000001", "O0942ABC/DEF.(X)&   Y-Z", "-X"] {
            let partner: OdetteId = code.parse().unwrap();
            assert_eq!(partner_of_dir(&partner_dir(&partner)), Some(partner));
        }
        assert_eq!(unescape("_d_d_sETC"), Some("../ETC".to_owned()));
        assert_eq!(partner_of_dir("lost+found"), None);
        assert_eq!(partner_of_dir("_q"), None);
    }

    #[test]
    fn escaping_is_injective_ignoring_case() {
        let alphabet = ["A", "B", "0", "/", "-", ".", "&", "(", ")", " ", "S", "D"];
        let mut seen = HashSet::new();
        let mut count = 0;
        for a in alphabet {
            for b in alphabet {
                for c in alphabet {
                    let value = format!("{a}{b}{c}");
                    count += 1;
                    assert!(seen.insert(esc(&value).to_ascii_lowercase()), "{value}");
                }
            }
        }
        assert_eq!(seen.len(), count);
    }
}
