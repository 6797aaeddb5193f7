//! Reading FTP replies, cancel-safe.

use tokio::io::{AsyncBufRead, AsyncBufReadExt};

use crate::error::{Error, Reply, Result};

/// Longest reply line accepted.
const MAX_LINE: usize = 8 * 1024;
/// Most lines in one multi-line reply.
const MAX_LINES: usize = 1000;

/// Reads replies line by line. Its state survives a cancelled read, so
/// [`ReplyReader::read`] can be raced in `select!` without losing bytes.
#[derive(Debug, Default)]
pub(crate) struct ReplyReader {
    line: Vec<u8>,
    lines: Vec<String>,
    code: Option<u16>,
}

impl ReplyReader {
    pub(crate) async fn read<R: AsyncBufRead + Unpin>(&mut self, r: &mut R) -> Result<Reply> {
        loop {
            // `read_until` is cancel safe: partial data stays in `self.line`.
            let n = r
                .read_until(b'\n', &mut self.line)
                .await
                .map_err(|e| Error::io("reading a reply", e))?;
            if n == 0 {
                return Err(Error::ConnectionClosed);
            }
            if self.line.len() > MAX_LINE {
                self.reset();
                return Err(Error::Protocol("reply line too long".into()));
            }
            if self.line.last() != Some(&b'\n') {
                continue;
            }
            let raw = std::mem::take(&mut self.line);
            let text = String::from_utf8_lossy(&raw).trim_end_matches(['\r', '\n']).to_owned();
            if let Some(reply) = self.push_line(text)? {
                return Ok(reply);
            }
        }
    }

    fn push_line(&mut self, text: String) -> Result<Option<Reply>> {
        let parsed = parse_code(&text);
        match (self.code, parsed) {
            (None, Some((code, sep))) => {
                if sep == b'-' {
                    self.code = Some(code);
                    self.lines.push(rest_of(&text).to_owned());
                    Ok(None)
                } else {
                    Ok(Some(Reply { code, text: rest_of(&text).to_owned() }))
                }
            }
            (None, None) => Err(Error::Protocol(format!("not an FTP reply: {text:?}"))),
            (Some(code), Some((c, b' '))) if c == code => {
                self.lines.push(rest_of(&text).to_owned());
                let text = std::mem::take(&mut self.lines).join("\n");
                self.code = None;
                Ok(Some(Reply { code, text }))
            }
            (Some(_), _) => {
                if self.lines.len() >= MAX_LINES {
                    self.reset();
                    return Err(Error::Protocol("multi-line reply too long".into()));
                }
                self.lines.push(text);
                Ok(None)
            }
        }
    }

    fn reset(&mut self) {
        self.line.clear();
        self.lines.clear();
        self.code = None;
    }
}

fn parse_code(line: &str) -> Option<(u16, u8)> {
    let b = line.as_bytes();
    let digits = b.get(..3)?;
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sep = match b.get(3) {
        None => b' ',
        Some(&s) if s == b' ' || s == b'-' => s,
        Some(_) => return None,
    };
    let code = std::str::from_utf8(digits).ok()?.parse().ok()?;
    Some((code, sep))
}

fn rest_of(line: &str) -> &str {
    line.get(4..).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn read_all(input: &[u8]) -> Vec<Result<Reply>> {
        let mut r = tokio::io::BufReader::new(input);
        let mut rr = ReplyReader::default();
        let mut out = Vec::new();
        for _ in 0..10 {
            let x = rr.read(&mut r).await;
            let end = x.is_err();
            out.push(x);
            if end {
                break;
            }
        }
        out
    }

    #[tokio::test]
    async fn single_and_multi_line() {
        let out =
            read_all(b"220 hello\r\n211-Features:\r\n EPSV\r\n PBSZ\r\n211 End\r\n200\r\n").await;
        let ok: Vec<_> = out.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(ok.len(), 3);
        assert_eq!(ok.first().map(|r| (r.code, r.text.as_str())), Some((220, "hello")));
        assert_eq!(ok.get(1).map(|r| r.code), Some(211));
        assert_eq!(ok.get(1).map(|r| r.text.as_str()), Some("Features:\n EPSV\n PBSZ\nEnd"));
        assert_eq!(ok.get(2).map(|r| (r.code, r.text.as_str())), Some((200, "")));
        assert!(matches!(out.last(), Some(Err(Error::ConnectionClosed))));
    }

    #[tokio::test]
    async fn garbage_is_an_error() {
        let out = read_all(b"hello\r\n").await;
        assert!(matches!(out.first(), Some(Err(Error::Protocol(_)))));
    }
}
