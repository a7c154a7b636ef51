//! Both checkers against real parts: a range API on loopback and a generated corpus file of a
//! million sorted hashes. Known passwords are refused, a random passphrase is not, and every
//! failure (down, 404, malformed, too slow) is *unavailable*, never "not breached".

#![allow(clippy::unwrap_used)]

use std::io::Write as _;
use std::time::Duration;

use reset_breach::{CorpusFile, RangeApi, sha1_hex};
use reset_core::breach::BreachChecker;
use reset_testkit::range_server::{RangeMode, RangeServer, closed_base};

const KNOWN: &str = "violet tractor melts quietly";
const FRESH: &str = "quartz-heron-Lantern-1947-drift";

async fn server() -> RangeServer {
    RangeServer::start(&[(sha1_hex(KNOWN), 42), (sha1_hex("password"), 9_659_365)]).await
}

#[tokio::test]
async fn range_api_finds_known_passwords_and_sends_only_the_prefix() {
    let s = server().await;
    let api = RangeApi::new(&s.base, Duration::from_millis(1500)).unwrap();
    assert_eq!(api.times_seen(KNOWN).await.unwrap(), 42);
    assert_eq!(api.times_seen("password").await.unwrap(), 9_659_365);
    assert_eq!(api.times_seen(FRESH).await.unwrap(), 0);
    let paths = s.paths.lock().unwrap().clone();
    assert_eq!(paths.len(), 3);
    for (path, password) in paths.iter().zip([KNOWN, "password", FRESH]) {
        assert_eq!(path, &format!("/range/{}", &sha1_hex(password)[..5]));
    }
    assert!(
        s.padded.lock().unwrap().iter().all(|p| *p),
        "Add-Padding: true"
    );
}

#[tokio::test]
async fn range_api_failures_are_unavailable() {
    let s = server().await;
    let api = RangeApi::new(&s.base, Duration::from_millis(300)).unwrap();
    for mode in [
        RangeMode::NotFound,
        RangeMode::Malformed,
        RangeMode::Slow(Duration::from_millis(1000)),
    ] {
        s.set_mode(mode);
        assert!(api.times_seen(FRESH).await.is_err(), "{mode:?}");
    }
    let down = RangeApi::new(&closed_base().await, Duration::from_millis(300)).unwrap();
    assert!(down.times_seen(FRESH).await.is_err(), "down");
    assert!(RangeApi::new("ftp://example.com", Duration::from_secs(1)).is_err());
}

/// A corpus of `n` sorted lines: the hashes of `pw0`, `pw1`, … and of `KNOWN`.
fn million_line_corpus(n: usize) -> tempfile::NamedTempFile {
    let mut hashes: Vec<String> = (0..n).map(|i| sha1_hex(&format!("pw{i}"))).collect();
    hashes.push(sha1_hex(KNOWN));
    hashes.sort_unstable();
    let mut f = std::io::BufWriter::new(tempfile::NamedTempFile::new().unwrap());
    for (i, h) in hashes.iter().enumerate() {
        write!(f, "{h}:{}\r\n", i % 1000 + 1).unwrap();
    }
    f.into_inner().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn corpus_file_of_a_million_lines() {
    let file = million_line_corpus(1_000_000);
    let corpus = CorpusFile::open(file.path()).unwrap();
    assert!(corpus.times_seen(KNOWN).await.unwrap() >= 1);
    for i in [0, 1, 499_999, 999_999] {
        assert!(
            corpus.times_seen(&format!("pw{i}")).await.unwrap() >= 1,
            "pw{i}"
        );
    }
    assert_eq!(corpus.times_seen(FRESH).await.unwrap(), 0);
    assert_eq!(corpus.times_seen("pw1000000").await.unwrap(), 0);
}
