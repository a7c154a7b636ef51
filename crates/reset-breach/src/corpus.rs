//! An offline corpus: `SHA1HEX:COUNT` lines sorted by hash, binary-searched on disk.

use std::cmp::Ordering;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use reset_core::breach::{BreachChecker, BreachError};

use crate::{parse_line, sha1_hex};

/// Bytes read per probe: one line is at most 40 + 1 + 20 digits + CR LF.
const PROBE: usize = 128;

/// A sorted corpus file, opened once and searched with positioned reads.
#[derive(Debug, Clone)]
pub struct CorpusFile {
    path: PathBuf,
    file: Arc<File>,
    len: u64,
}

impl CorpusFile {
    /// Opens `path` and checks that its first line has the expected shape.
    pub fn open(path: &Path) -> Result<Self, BreachError> {
        let unavailable =
            |e: std::io::Error| BreachError::Unavailable(format!("{}: {e}", path.display()));
        let file = File::open(path).map_err(unavailable)?;
        let len = file.metadata().map_err(unavailable)?.len();
        let corpus = Self {
            path: path.to_owned(),
            file: Arc::new(file),
            len,
        };
        if len > 0 {
            let (_, line, _) = corpus.line_from(0)?;
            parse_line(&line, 40).ok_or_else(|| corpus.malformed())?;
        }
        Ok(corpus)
    }

    fn malformed(&self) -> BreachError {
        BreachError::Unavailable(format!(
            "{}: not a sorted SHA1HEX:COUNT file",
            self.path.display()
        ))
    }

    /// The count of `hash` (40 upper-case hex digits), 0 when absent.
    pub fn lookup(&self, hash: &str) -> Result<u64, BreachError> {
        // Invariant: `lo` is the start of a line; the line of `hash`, if any, starts in
        // [lo, hi).
        let (mut lo, mut hi) = (0u64, self.len);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let (start, line, next) = self.line_from(mid)?;
            if start >= hi {
                hi = mid;
                continue;
            }
            let (h, count) = parse_line(&line, 40).ok_or_else(|| self.malformed())?;
            match h.as_str().cmp(hash) {
                Ordering::Equal => return Ok(count),
                Ordering::Less => lo = next,
                Ordering::Greater => hi = mid,
            }
        }
        Ok(0)
    }

    /// The first line starting at or after `pos`: its start, its text and where the next one
    /// starts. At the end of the file the start is the file's length.
    fn line_from(&self, pos: u64) -> Result<(u64, String, u64), BreachError> {
        let mut start = pos;
        if pos > 0 {
            // Skip to the start of the next line, unless `pos` is one already.
            let mut at = pos - 1;
            loop {
                let chunk = self.read(at)?;
                if chunk.is_empty() {
                    return Ok((self.len, String::new(), self.len));
                }
                match chunk.iter().position(|b| *b == b'\n') {
                    Some(i) => {
                        start = at + i as u64 + 1;
                        break;
                    }
                    None => at += chunk.len() as u64,
                }
            }
        }
        if start >= self.len {
            return Ok((self.len, String::new(), self.len));
        }
        let chunk = self.read(start)?;
        let end = chunk.iter().position(|b| *b == b'\n');
        let line = &chunk[..end.unwrap_or(chunk.len())];
        let next = start + end.map_or(chunk.len() as u64, |e| e as u64 + 1);
        let text = std::str::from_utf8(line).map_err(|_| self.malformed())?;
        Ok((start, text.to_owned(), next))
    }

    fn read(&self, at: u64) -> Result<Vec<u8>, BreachError> {
        let mut buf = vec![0u8; PROBE];
        let n = read_at(&self.file, &mut buf, at)
            .map_err(|e| BreachError::Unavailable(format!("{}: {e}", self.path.display())))?;
        buf.truncate(n);
        Ok(buf)
    }
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], at: u64) -> std::io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, at)
}

#[cfg(windows)]
fn read_at(file: &File, buf: &mut [u8], at: u64) -> std::io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buf, at)
}

#[async_trait]
impl BreachChecker for CorpusFile {
    async fn times_seen(&self, password: &str) -> Result<u64, BreachError> {
        let hash = sha1_hex(password);
        let corpus = self.clone();
        tokio::task::spawn_blocking(move || corpus.lookup(&hash))
            .await
            .map_err(|e| BreachError::Unavailable(e.to_string()))?
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    fn corpus(lines: &[&str]) -> (tempfile::NamedTempFile, CorpusFile) {
        let mut f = tempfile::NamedTempFile::new().expect("temp");
        for l in lines {
            writeln!(f, "{l}").expect("write");
        }
        let c = CorpusFile::open(f.path()).expect("open");
        (f, c)
    }

    #[test]
    fn finds_first_middle_last_and_misses() {
        let hashes: Vec<String> = (0..50)
            .map(|i| format!("{:040X}:{}", i * 7, i + 1))
            .collect();
        let refs: Vec<&str> = hashes.iter().map(String::as_str).collect();
        let (_f, c) = corpus(&refs);
        for i in 0..50u64 {
            assert_eq!(c.lookup(&format!("{:040X}", i * 7)).expect("lookup"), i + 1);
            assert_eq!(c.lookup(&format!("{:040X}", i * 7 + 1)).expect("lookup"), 0);
        }
        assert_eq!(c.lookup(&"F".repeat(40)).expect("lookup"), 0);
    }

    #[test]
    fn crlf_lines_and_an_empty_file() {
        let (_f, c) = corpus(&[&format!("{}:3\r", "A".repeat(40))]);
        assert_eq!(c.lookup(&"A".repeat(40)).expect("lookup"), 3);
        let empty = tempfile::NamedTempFile::new().expect("temp");
        let c = CorpusFile::open(empty.path()).expect("open");
        assert_eq!(c.lookup(&"A".repeat(40)).expect("lookup"), 0);
    }

    #[test]
    fn a_malformed_file_is_unavailable_never_absent() {
        let mut f = tempfile::NamedTempFile::new().expect("temp");
        writeln!(f, "not a corpus").expect("write");
        assert!(CorpusFile::open(f.path()).is_err());
        assert!(CorpusFile::open(Path::new("/nonexistent/corpus.txt")).is_err());
    }
}
