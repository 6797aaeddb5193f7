//! Reading and writing the RFC's field notations at fixed positions.

use bytes::{BufMut, Bytes};

use crate::error::{DecodeError, Expected, Malformed};
use crate::fields::{Alphanumeric, OdetteId, UserData, Utf8Text};
use crate::fields::{VirtualFileDate, VirtualFileTime};

/// The carriage return that ends SSRM, SSID and ESID: 0x0D, or 0x8D from some peers.
pub(crate) const fn is_cr(octet: u8) -> bool {
    octet == 0x0D || octet == 0x8D
}

/// A cursor over one command's octets that names each field it reads.
pub(crate) struct Reader<'a> {
    input: &'a [u8],
    pos: usize,
    item: &'static str,
}

impl<'a> Reader<'a> {
    /// A reader of `item` (the command's name) at the start of `input` (its command octet).
    pub(crate) fn new(input: &'a [u8], item: &'static str) -> Self {
        Self { input, pos: 0, item }
    }

    /// Octets consumed so far.
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    /// The next octet without consuming it.
    pub(crate) fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    fn invalid_octets(
        &self,
        field: &'static str,
        offset: usize,
        expected: Expected,
        octets: &[u8],
    ) -> DecodeError {
        Malformed::invalid_data(self.item, field, offset, expected, octets).into()
    }

    /// The next `width` octets.
    pub(crate) fn take(&mut self, width: usize) -> Result<&'a [u8], DecodeError> {
        let end = self.pos.saturating_add(width);
        match self.input.get(self.pos..end) {
            Some(octets) => {
                self.pos = end;
                Ok(octets)
            }
            None => Err(DecodeError::Incomplete { needed: end - self.input.len() }),
        }
    }

    /// A fixed literal such as the command octet or SSRMMSG.
    pub(crate) fn literal(
        &mut self,
        field: &'static str,
        literal: &'static str,
    ) -> Result<(), DecodeError> {
        let offset = self.pos;
        let octets = self.take(literal.len())?;
        if octets != literal.as_bytes() {
            return Err(self.invalid_octets(field, offset, Expected::Literal(literal), octets));
        }
        Ok(())
    }

    /// A reserved field: any content is accepted (robustness, §8.2); spaces are sent.
    pub(crate) fn reserved(&mut self, width: usize) -> Result<(), DecodeError> {
        self.take(width).map(|_| ())
    }

    /// A CR, 0x0D or 0x8D.
    pub(crate) fn cr(&mut self, field: &'static str) -> Result<(), DecodeError> {
        let offset = self.pos;
        let octets = self.take(1)?;
        if !octets.first().copied().is_some_and(is_cr) {
            return Err(self.invalid_octets(
                field,
                offset,
                Expected::OneOf(&["\\x0D", "\\x8D"]),
                octets,
            ));
        }
        Ok(())
    }

    /// An `X(N)` String.
    pub(crate) fn string<const N: usize>(
        &mut self,
        field: &'static str,
    ) -> Result<Alphanumeric<N>, DecodeError> {
        let offset = self.pos;
        let octets = self.take(N)?;
        Alphanumeric::from_padded(octets).map_err(|_| {
            self.field_error(
                field,
                offset,
                octets,
                "a left-justified String of 0-9 A-Z / - . & ( ) without embedded spaces",
            )
        })
    }

    /// An Identification Code, X(25).
    pub(crate) fn odette_id(&mut self, field: &'static str) -> Result<OdetteId, DecodeError> {
        let offset = self.pos;
        let octets = self.take(25)?;
        OdetteId::from_padded(octets).map_err(|_| {
            self.field_error(
                field,
                offset,
                octets,
                "an Identification Code of 0-9 A-Z space / - . & ( ), not starting with a space",
            )
        })
    }

    /// User data, X(8).
    pub(crate) fn user_data(&mut self, field: &'static str) -> Result<UserData, DecodeError> {
        let offset = self.pos;
        let octets = self.take(8)?;
        UserData::from_padded(octets)
            .map_err(|_| self.field_error(field, offset, octets, "printable ASCII"))
    }

    /// A `9(width)` number, all digits.
    pub(crate) fn numeric(
        &mut self,
        field: &'static str,
        width: usize,
    ) -> Result<u64, DecodeError> {
        let offset = self.pos;
        let octets = self.take(width)?;
        parse_digits(octets).ok_or_else(|| {
            self.invalid_octets(field, offset, Expected::Format(digits_format(width)), octets)
        })
    }

    /// A `9(width)` number converted by `convert`, which says what range it needs.
    pub(crate) fn numeric_as<T, E>(
        &mut self,
        field: &'static str,
        width: usize,
        expected: &'static str,
        convert: impl FnOnce(u64) -> Result<T, E>,
    ) -> Result<T, DecodeError> {
        let offset = self.pos;
        let value = self.numeric(field, width)?;
        let octets = self.input.get(offset..self.pos).unwrap_or_default();
        convert(value)
            .map_err(|_| self.invalid_octets(field, offset, Expected::Format(expected), octets))
    }

    /// One octet from an enumeration.
    pub(crate) fn one_of<T>(
        &mut self,
        field: &'static str,
        values: &'static [&'static str],
        convert: impl FnOnce(u8) -> Option<T>,
    ) -> Result<T, DecodeError> {
        let offset = self.pos;
        let octets = self.take(1)?;
        octets
            .first()
            .copied()
            .and_then(convert)
            .ok_or_else(|| self.invalid_octets(field, offset, Expected::OneOf(values), octets))
    }

    /// A `Y`/`N` indicator.
    pub(crate) fn flag(&mut self, field: &'static str) -> Result<bool, DecodeError> {
        self.one_of(field, &["Y", "N"], |octet| match octet {
            b'Y' => Some(true),
            b'N' => Some(false),
            _ => None,
        })
    }

    /// A `9(3)` length field followed by that many octets of UTF-8 text.
    pub(crate) fn text(
        &mut self,
        length_field: &'static str,
        text_field: &'static str,
    ) -> Result<Utf8Text, DecodeError> {
        let length = self.numeric(length_field, 3)?;
        let offset = self.pos;
        let octets = self.take(length as usize)?;
        let text = core::str::from_utf8(octets).map_err(|_| {
            self.invalid_octets(text_field, offset, Expected::Format("UTF-8 text"), octets)
        })?;
        Utf8Text::new(text).map_err(|_| {
            self.field_error(text_field, offset, octets, "at most 999 octets of UTF-8")
        })
    }

    /// A `U(2)` length field (named for the reader of the code) followed by that many octets.
    pub(crate) fn binary(&mut self, _length_field: &'static str) -> Result<&'a [u8], DecodeError> {
        let octets = self.take(2)?;
        let length = octets.iter().fold(0usize, |acc, &o| acc << 8 | usize::from(o));
        self.take(length)
    }

    /// A date `CCYYMMDD`.
    pub(crate) fn date(&mut self, field: &'static str) -> Result<VirtualFileDate, DecodeError> {
        self.numeric_as(field, 8, "a date CCYYMMDD", VirtualFileDate::from_number)
    }

    /// A time `HHMMSScccc`.
    pub(crate) fn time(&mut self, field: &'static str) -> Result<VirtualFileTime, DecodeError> {
        self.numeric_as(field, 10, "a time HHMMSScccc", VirtualFileTime::from_number)
    }

    /// A date `YYMMDD` (RFC 2204): years 70-99 are 19YY, 00-69 are 20YY.
    pub(crate) fn short_date(
        &mut self,
        field: &'static str,
    ) -> Result<VirtualFileDate, DecodeError> {
        self.numeric_as(field, 6, "a date YYMMDD", |n| {
            let yy = n / 10_000;
            let century = if yy >= 70 { 19_000_000 } else { 20_000_000 };
            VirtualFileDate::from_number(century + n)
        })
    }

    /// A time `HHMMSS` (RFC 2204); the counter is zero.
    pub(crate) fn short_time(
        &mut self,
        field: &'static str,
    ) -> Result<VirtualFileTime, DecodeError> {
        self.numeric_as(field, 6, "a time HHMMSS", |n| VirtualFileTime::from_number(n * 10_000))
    }

    fn field_error(
        &self,
        field: &'static str,
        offset: usize,
        octets: &[u8],
        expected: &'static str,
    ) -> DecodeError {
        self.invalid_octets(field, offset, Expected::Format(expected), octets)
    }
}

/// The value of `octets` if all are ASCII digits (at most 19 of them).
pub(crate) fn parse_digits(octets: &[u8]) -> Option<u64> {
    if octets.is_empty() || octets.len() > 19 {
        return None;
    }
    octets.iter().try_fold(0u64, |acc, &o| {
        let digit = o.wrapping_sub(b'0');
        (digit <= 9).then(|| acc * 10 + u64::from(digit))
    })
}

fn digits_format(width: usize) -> &'static str {
    const FORMATS: [&str; 18] = [
        "9(0)",
        "9(1) digits",
        "9(2) digits",
        "9(3) digits",
        "9(4) digits",
        "9(5) digits",
        "9(6) digits",
        "9(7) digits",
        "9(8) digits",
        "9(9) digits",
        "9(10) digits",
        "9(11) digits",
        "9(12) digits",
        "9(13) digits",
        "9(14) digits",
        "9(15) digits",
        "9(16) digits",
        "9(17) digits",
    ];
    FORMATS.get(width).copied().unwrap_or("digits")
}

/// Writes fields in their wire notation.
pub(crate) struct Writer<'b, B: BufMut + ?Sized> {
    out: &'b mut B,
}

impl<'b, B: BufMut + ?Sized> Writer<'b, B> {
    pub(crate) fn new(out: &'b mut B) -> Self {
        Self { out }
    }

    pub(crate) fn octet(&mut self, octet: u8) {
        self.out.put_u8(octet);
    }

    pub(crate) fn octets(&mut self, octets: &[u8]) {
        self.out.put_slice(octets);
    }

    pub(crate) fn spaces(&mut self, width: usize) {
        self.out.put_bytes(b' ', width);
    }

    pub(crate) fn cr(&mut self) {
        self.out.put_u8(0x0D);
    }

    pub(crate) fn flag(&mut self, value: bool) {
        self.out.put_u8(if value { b'Y' } else { b'N' });
    }

    /// `value` as `width` digits; the caller has checked that it fits.
    pub(crate) fn numeric(&mut self, value: u64, width: usize) {
        let mut digits = [b'0'; 20];
        let mut rest = value;
        for slot in digits.iter_mut().rev() {
            *slot = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        let start = digits.len().saturating_sub(width);
        self.out.put_bytes(b'0', width.saturating_sub(digits.len()));
        self.out.put_slice(digits.get(start..).unwrap_or_default());
    }

    pub(crate) fn text(&mut self, text: &Utf8Text) {
        self.numeric(text.len() as u64, 3);
        self.out.put_slice(text.as_str().as_bytes());
    }

    pub(crate) fn binary(&mut self, octets: &Bytes) {
        self.out.put_u16(octets.len() as u16);
        self.out.put_slice(octets);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits() {
        assert_eq!(parse_digits(b"00042"), Some(42));
        assert_eq!(parse_digits(b"99999999999999999"), Some(99_999_999_999_999_999));
        assert_eq!(parse_digits(b"0004 "), None);
        assert_eq!(parse_digits(b""), None);
        assert_eq!(parse_digits(b"+1"), None);
        let mut out = Vec::new();
        Writer::new(&mut out).numeric(42, 5);
        assert_eq!(out, b"00042");
        out.clear();
        Writer::new(&mut out).numeric(99_999_999_999_999_999, 17);
        assert_eq!(out, b"99999999999999999");
    }
}
