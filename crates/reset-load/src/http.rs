//! The load's HTTP side: one POST, and many clients hammering one route for a while.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::future::join_all;

use crate::stats::Stats;

pub async fn post(http: &reqwest::Client, base: &str, path: &str, body: String) -> u16 {
    http.post(format!("{base}{path}"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .map_or(0, |r| r.status().as_u16())
}

/// `clients` loops sending to `path` for `seconds` (client `i` to `bases[i % n]`): a POST of
/// `body` as JSON, or a GET when `body` is `None`. A `{n}` in the body becomes 0, 1, …, `spread` − 1 in turn over all
/// clients (requests spread over that many accounts).
pub async fn hammer(
    http: &reqwest::Client,
    bases: &[String],
    path: &str,
    body: Option<&str>,
    clients: usize,
    seconds: u64,
    spread: usize,
) -> Stats {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let start = Instant::now();
    let turn = Arc::new(AtomicUsize::new(0));
    let tasks = (0..clients).map(|i| {
        let (http, url, body, turn) = (
            http.clone(),
            format!("{}{path}", bases[i % bases.len()]),
            body.map(str::to_owned),
            turn.clone(),
        );
        async move {
            let mut lat = Vec::new();
            while Instant::now() < deadline {
                let t = Instant::now();
                let request = match &body {
                    Some(b) => {
                        let n = turn.fetch_add(1, Ordering::Relaxed) % spread.max(1);
                        http.post(&url)
                            .header("content-type", "application/json")
                            .body(b.replace("{n}", &n.to_string()))
                    }
                    None => http.get(&url),
                };
                let status = request.send().await.map_or(0, |r| r.status().as_u16());
                lat.push((t.elapsed(), status));
            }
            lat
        }
    });
    let latencies = join_all(tasks).await.into_iter().flatten().collect();
    Stats::from(latencies, start.elapsed())
}
