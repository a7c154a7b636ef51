//! The load run behind `docs/benchmarks.md`: the axum server on SQLite, in this process, driven
//! over loopback HTTP by concurrent keep-alive clients. Run it in release:
//! `cargo run --release -p reset-load` (`--help` for the knobs). `reset-load timing` compares
//! known and unknown accounts on the wrong-code path instead (see `timing.rs`).

mod database;
mod server;
mod timing;

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use futures::future::join_all;
use reset_api::ApiOptions;
use reset_core::{Clock as _, Limit, ResetConfig, Store as _, SystemClock, UserInput};
use serde_json::json;

/// The load run of the server for docs/benchmarks.md (the default), or the timing run.
#[derive(Debug, Parser)]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    load: Args,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Known vs unknown account: wrong codes on verify, complete and forgot-password's checkCode,
    /// in alternating pairs, against the timing targets.
    Timing(timing::TimingArgs),
}

// The throughput run's knobs.
#[derive(Debug, clap::Args)]
struct Args {
    /// Concurrent clients.
    #[arg(long, default_value_t = 32)]
    clients: usize,
    /// Seconds per throughput scenario.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Accounts (and so tokens) for the complete scenario.
    #[arg(long, default_value_t = 400)]
    completes: usize,
    /// Requests each for the known/unknown timing comparison.
    #[arg(long, default_value_t = 1000)]
    timing_requests: usize,
}

struct Stats {
    count: usize,
    elapsed: Duration,
    p50: Duration,
    p99: Duration,
    statuses: Vec<(u16, usize)>,
}

impl Stats {
    fn from(mut latencies: Vec<(Duration, u16)>, elapsed: Duration) -> Self {
        latencies.sort_by_key(|(d, _)| *d);
        let at = |q: f64| {
            latencies
                .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
                .map_or(Duration::ZERO, |(d, _)| *d)
        };
        let mut statuses: Vec<(u16, usize)> = Vec::new();
        for (_, s) in &latencies {
            match statuses.iter_mut().find(|(code, _)| code == s) {
                Some((_, n)) => *n += 1,
                None => statuses.push((*s, 1)),
            }
        }
        Self {
            count: latencies.len(),
            elapsed,
            p50: at(0.5),
            p99: at(0.99),
            statuses,
        }
    }

    fn rate(&self) -> f64 {
        self.count as f64 / self.elapsed.as_secs_f64()
    }

    fn row(&self, name: &str) -> String {
        let statuses: Vec<String> = self
            .statuses
            .iter()
            .map(|(s, n)| format!("{s}×{n}"))
            .collect();
        format!(
            "| {name} | {} | {:.0} | {:.2} | {:.2} | {} |",
            self.count,
            self.rate(),
            self.p50.as_secs_f64() * 1e3,
            self.p99.as_secs_f64() * 1e3,
            statuses.join(" ")
        )
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Timing(args)) => timing::run(args).await,
        None => load(cli.load).await,
    }
}

async fn load(args: Args) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}", dir.path().join("load.db").display());
    let mut config = ResetConfig::default();
    // Limits on (their counters are part of every request's cost) but too high to trigger.
    let high = Limit::new(1_000_000_000, 900);
    config.rate_limits.request_per_identifier = high;
    config.rate_limits.request_per_ip = high;
    config.rate_limits.attempt_per_ip = high;
    let server::Server {
        store,
        service,
        base,
    } = server::start(&url, config, ApiOptions::default()).await?;

    let known = UserInput {
        username: "known".into(),
        emails: vec!["known@example.com".into()],
        ..UserInput::default()
    };
    store
        .create_user(SystemClock.now(), service.prepare_user(known).await?)
        .await?;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.clients)
        .build()?;
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    println!(
        "machine: {cores} cores; clients: {}; {} s per scenario; SQLite; axum\n",
        args.clients, args.seconds
    );

    // The store alone, one caller, no HTTP: what one transaction costs.
    for (name, n) in [(
        "store alone: one rate-limit transaction (2 counters)",
        5000u32,
    )] {
        let hits = [
            reset_core::rate_limit::CounterHit {
                key: "req:e:known@example.com".into(),
                limit: high,
            },
            reset_core::rate_limit::CounterHit {
                key: "req:ip:127.0.0.1".into(),
                limit: high,
            },
        ];
        let t = Instant::now();
        for _ in 0..n {
            store.hit(SystemClock.now(), &hits).await?;
        }
        println!(
            "{name}: {:.1} µs each",
            t.elapsed().as_secs_f64() * 1e6 / f64::from(n)
        );
    }
    {
        let t = Instant::now();
        for _ in 0..5000 {
            store.ready().await?;
        }
        println!(
            "store alone: one SELECT (the readiness query): {:.1} µs each",
            t.elapsed().as_secs_f64() * 1e6 / 5000.0
        );
    }
    println!();
    println!(
        "| scenario | requests | req/s | p50 ms | p99 ms | statuses |\n|---|---|---|---|---|---|"
    );
    // The HTTP floor: a route that touches no database.
    let stats = hammer(&http, &base, "/healthz", None, args.clients, args.seconds).await;
    println!("{}", stats.row("GET /healthz (no database)"));
    let request = |who: &'static str| json!({"email": who}).to_string();
    for (name, body) in [
        ("request-reset, known account", request("known@example.com")),
        (
            "request-reset, unknown account",
            request("ghost@example.com"),
        ),
    ] {
        let stats = hammer(
            &http,
            &base,
            "/v1/password-reset/request",
            Some(&body),
            args.clients,
            args.seconds,
        )
        .await;
        println!("{}", stats.row(name));
    }
    let bad = json!({"token": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}).to_string();
    let stats = hammer(
        &http,
        &base,
        "/v1/password-reset/verify",
        Some(&bad),
        args.clients,
        args.seconds,
    )
    .await;
    println!("{}", stats.row("verify, bad token"));

    // complete: one fresh token per account, all completed concurrently.
    let mut emails = Vec::with_capacity(args.completes);
    for i in 0..args.completes {
        let email = format!("user{i}@example.com");
        let input = UserInput {
            username: format!("user{i}"),
            emails: vec![email.clone()],
            ..UserInput::default()
        };
        store
            .create_user(SystemClock.now(), service.prepare_user(input).await?)
            .await?;
        http.post(format!("{base}/v1/password-reset/request"))
            .header("content-type", "application/json")
            .body(request_owned(&email))
            .send()
            .await?;
        emails.push(email);
    }
    let far = SystemClock.now() + chrono::Duration::days(1);
    service.settle().await;
    let mut messages = Vec::new();
    loop {
        let batch = store.claim_outbox(far, 10_000, 3600).await?;
        if batch.is_empty() {
            break;
        }
        messages.extend(batch);
    }
    let tokens: Vec<String> = messages
        .iter()
        .filter(|m| m.recipient.starts_with("user"))
        .filter_map(|m| m.payload.link_token().map(str::to_owned))
        .collect();
    let tokens = Arc::new(tokens);
    let hasher = service.hasher().clone();
    let one_before = one_hash(&hasher).await?;
    let start = Instant::now();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let tasks = (0..args.clients).map(|_| {
        let (http, base, tokens, next) = (http.clone(), base.clone(), tokens.clone(), next.clone());
        async move {
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(token) = tokens.get(i) else { break };
                let body = json!({"token": token, "new_password": format!("violet tractor melts quietly {i}")}).to_string();
                let t = Instant::now();
                let status = post(&http, &base, "/v1/password-reset/complete", body).await;
                lat.push((t.elapsed(), status));
            }
            lat
        }
    });
    let latencies: Vec<(Duration, u16)> = join_all(tasks).await.into_iter().flatten().collect();
    let complete = Stats::from(latencies, start.elapsed());
    println!("{}", complete.row("complete (argon2id m=19456 t=2 p=1)"));

    // The argon2 ceiling: cores ÷ the time of one hash (measured before and after the run).
    let one = (one_before + one_hash(&hasher).await?) / 2;
    let ceiling = cores as f64 / one.as_secs_f64();
    println!(
        "\nargon2id: one hash {:.1} ms; ceiling {:.1} completes/s ({cores} cores); complete reached {:.1}/s = {:.0} % of the ceiling",
        one.as_secs_f64() * 1e3,
        ceiling,
        complete.rate(),
        100.0 * complete.rate() / ceiling
    );

    // Known vs unknown, sequential and interleaved so drift hits both alike: once back to back
    // (the previous request's background transaction may still hold the SQLite connection),
    // once letting the background work finish between requests (the answer's own time).
    for settle in [false, true] {
        let (mut known, mut unknown) = (Vec::new(), Vec::new());
        for i in 0..args.timing_requests * 2 {
            let (who, into) = if i % 2 == 0 {
                ("known@example.com", &mut known)
            } else {
                ("ghost@example.com", &mut unknown)
            };
            let t = Instant::now();
            post(
                &http,
                &base,
                "/v1/password-reset/request",
                request_owned(who),
            )
            .await;
            into.push(t.elapsed());
            if settle {
                service.settle().await;
            }
        }
        known.sort();
        unknown.sort();
        let (mk, mu) = (known[known.len() / 2], unknown[unknown.len() / 2]);
        println!(
            "known vs unknown account, {} sequential requests each, {}: median {:.3} ms vs {:.3} ms, difference {:.3} ms",
            args.timing_requests,
            if settle {
                "background work settled between requests"
            } else {
                "back to back"
            },
            mk.as_secs_f64() * 1e3,
            mu.as_secs_f64() * 1e3,
            (mk.as_secs_f64() - mu.as_secs_f64()).abs() * 1e3
        );
    }
    drop(dir);
    Ok(())
}

/// The time of one argon2id hash on an idle server (mean of 10).
async fn one_hash(hasher: &reset_core::PasswordHasher) -> anyhow::Result<Duration> {
    let t = Instant::now();
    for _ in 0..10 {
        hasher.hash("violet tractor melts quietly").await?;
    }
    Ok(t.elapsed() / 10)
}

fn request_owned(email: &str) -> String {
    json!({"email": email}).to_string()
}

async fn post(http: &reqwest::Client, base: &str, path: &str, body: String) -> u16 {
    http.post(format!("{base}{path}"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .map_or(0, |r| r.status().as_u16())
}

/// `clients` loops sending to `path` for `seconds`: a POST of `body` as JSON, or a GET when
/// `body` is `None`.
async fn hammer(
    http: &reqwest::Client,
    base: &str,
    path: &str,
    body: Option<&str>,
    clients: usize,
    seconds: u64,
) -> Stats {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let start = Instant::now();
    let tasks = (0..clients).map(|_| {
        let (http, url, body) = (
            http.clone(),
            format!("{base}{path}"),
            body.map(str::to_owned),
        );
        async move {
            let mut lat = Vec::new();
            while Instant::now() < deadline {
                let t = Instant::now();
                let request = match &body {
                    Some(b) => http
                        .post(&url)
                        .header("content-type", "application/json")
                        .body(b.clone()),
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
