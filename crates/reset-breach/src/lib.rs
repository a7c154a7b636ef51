#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod corpus;
mod range_api;

pub use corpus::CorpusFile;
pub use range_api::RangeApi;

use sha1::{Digest as _, Sha1};

/// The password's SHA-1 as 40 upper-case hex digits, the corpus's spelling.
pub fn sha1_hex(password: &str) -> String {
    let digest = Sha1::digest(password.as_bytes());
    let mut hex = String::with_capacity(40);
    for byte in digest {
        hex.push(HEX[usize::from(byte >> 4)]);
        hex.push(HEX[usize::from(byte & 0x0f)]);
    }
    hex
}

const HEX: [char; 16] = [
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'A', 'B', 'C', 'D', 'E', 'F',
];

/// One `HASHPART:COUNT` line: the hash part (upper-cased) and the count, or `None` when the
/// line is malformed (`hash_len` hex digits, a colon, decimal digits).
pub(crate) fn parse_line(line: &str, hash_len: usize) -> Option<(String, u64)> {
    let line = line.trim_end_matches('\r');
    let (hash, count) = line.split_once(':')?;
    if hash.len() != hash_len || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    if count.is_empty() || !count.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((hash.to_ascii_uppercase(), count.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_is_upper_hex() {
        // The well-known SHA-1 of "password".
        assert_eq!(
            sha1_hex("password"),
            "5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8"
        );
    }

    #[test]
    fn lines_parse_strictly() {
        assert_eq!(
            parse_line("1E4C9B93F3F0682250B6CF8331B7EE68FD8:9659365\r", 35),
            Some(("1E4C9B93F3F0682250B6CF8331B7EE68FD8".into(), 9_659_365))
        );
        assert_eq!(
            parse_line("1e4c9b93f3f0682250b6cf8331b7ee68fd8:0", 35).map(|l| l.1),
            Some(0)
        );
        for bad in [
            "",
            "ABC:1",
            "1E4C9B93F3F0682250B6CF8331B7EE68FD8",
            "1E4C9B93F3F0682250B6CF8331B7EE68FD8:x",
            "1E4C9B93F3F0682250B6CF8331B7EE68FDZ:1",
            "1E4C9B93F3F0682250B6CF8331B7EE68FD8:",
        ] {
            assert_eq!(parse_line(bad, 35), None, "{bad:?}");
        }
    }
}
