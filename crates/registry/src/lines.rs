//! Reading JSON Lines with a bound on line length, so a 2 GB single-line file costs no more
//! memory than a normal one.

use std::io::{BufRead, ErrorKind};

pub enum Line {
    /// A line (without its terminator) no longer than the limit.
    Text(Vec<u8>),
    /// A line longer than the limit; its bytes were skipped. Holds its length.
    TooLong(u64),
}

pub struct Lines<R> {
    reader: R,
    limit: usize,
    done: bool,
}

impl<R: BufRead> Lines<R> {
    pub fn new(reader: R, limit: usize) -> Self {
        Lines {
            reader,
            limit,
            done: false,
        }
    }

    /// The next line, or `None` at the end.
    pub fn next_line(&mut self) -> std::io::Result<Option<Line>> {
        if self.done {
            return Ok(None);
        }
        let mut buf = Vec::new();
        let mut total: u64 = 0;
        let mut too_long = false;
        loop {
            let chunk = match self.reader.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                self.done = true;
                if total == 0 {
                    return Ok(None);
                }
                break;
            }
            let (part, used, end) = match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => (&chunk[..i], i + 1, true),
                None => (chunk, chunk.len(), false),
            };
            total += part.len() as u64;
            if !too_long {
                if buf.len() + part.len() > self.limit {
                    too_long = true;
                    buf = Vec::new();
                } else {
                    buf.extend_from_slice(part);
                }
            }
            self.reader.consume(used);
            if end {
                // Count the terminator so that an empty line is still a line.
                total += 1;
                break;
            }
        }
        if too_long {
            return Ok(Some(Line::TooLong(total)));
        }
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
        Ok(Some(Line::Text(buf)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(input: &[u8], limit: usize) -> Vec<String> {
        let mut l = Lines::new(std::io::BufReader::with_capacity(3, input), limit);
        let mut out = Vec::new();
        while let Some(line) = l.next_line().unwrap() {
            out.push(match line {
                Line::Text(t) => String::from_utf8(t).unwrap(),
                Line::TooLong(n) => format!("<{n}>"),
            });
        }
        out
    }

    #[test]
    fn splits_and_bounds() {
        assert_eq!(all(b"a\nbb\r\n\nc", 10), ["a", "bb", "", "c"]);
        assert_eq!(all(b"a\n0123456789abc\nd\n", 10), ["a", "<14>", "d"]);
        assert!(all(b"", 10).is_empty());
    }
}
