//! One lookup in a million-line corpus file, and one through the range API against a local
//! server (`cargo bench -p reset-breach`); figures in docs/benchmarks.md.

#![allow(clippy::unwrap_used)]

use std::io::Write as _;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use reset_breach::{CorpusFile, RangeApi, sha1_hex};
use reset_core::breach::BreachChecker;
use reset_testkit::range_server::RangeServer;

fn corpus_lookup(c: &mut Criterion) {
    let mut hashes: Vec<String> = (0..1_000_000)
        .map(|i| sha1_hex(&format!("pw{i}")))
        .collect();
    hashes.sort_unstable();
    let mut f = std::io::BufWriter::new(tempfile::NamedTempFile::new().unwrap());
    for h in &hashes {
        write!(f, "{h}:1\r\n").unwrap();
    }
    let file = f.into_inner().unwrap();
    let corpus = CorpusFile::open(file.path()).unwrap();
    let present = sha1_hex("pw123456");
    let absent = sha1_hex("not in the corpus");
    c.bench_function("corpus file, 1M lines: a present hash", |b| {
        b.iter(|| corpus.lookup(&present).unwrap());
    });
    c.bench_function("corpus file, 1M lines: an absent hash", |b| {
        b.iter(|| corpus.lookup(&absent).unwrap());
    });
}

fn range_api(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt.block_on(RangeServer::start(&[(sha1_hex("password"), 3)]));
    let api = RangeApi::new(&server.base, Duration::from_secs(2)).unwrap();
    c.bench_function("range API on loopback (new connection per lookup)", |b| {
        b.to_async(&rt)
            .iter(|| async { api.times_seen("password").await.unwrap() });
    });
}

criterion_group!(benches, corpus_lookup, range_api);
criterion_main!(benches);
