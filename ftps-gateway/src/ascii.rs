//! ASCII mode (`TYPE A`): line ends on the wire are CR LF.

/// Converts LF line ends to CR LF, across chunk boundaries. CR LF stays CR LF;
/// a lone CR is left alone.
#[derive(Debug, Default, Clone)]
pub(crate) struct CrlfEncoder {
    last_was_cr: bool,
}

impl CrlfEncoder {
    pub(crate) fn encode(&mut self, input: &[u8], out: &mut Vec<u8>) {
        out.reserve(input.len() + input.len() / 32);
        for &b in input {
            if b == b'\n' && !self.last_was_cr {
                out.push(b'\r');
            }
            out.push(b);
            self.last_was_cr = b == b'\r';
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode_chunks(chunks: &[&[u8]]) -> Vec<u8> {
        let mut e = CrlfEncoder::default();
        let mut out = Vec::new();
        for c in chunks {
            e.encode(c, &mut out);
        }
        out
    }

    #[test]
    fn lf_becomes_crlf() {
        assert_eq!(encode_chunks(&[b"a\nb\n"]), b"a\r\nb\r\n");
    }

    #[test]
    fn crlf_stays_even_across_chunks() {
        assert_eq!(encode_chunks(&[b"a\r", b"\nb\r\n"]), b"a\r\nb\r\n");
        assert_eq!(encode_chunks(&[b"a\r", b"x\n"]), b"a\rx\r\n");
    }
}
