//! The load run behind `docs/benchmarks.md`: the axum server on SQLite (or `--database-url`), in this process, driven
//! over loopback HTTP by concurrent keep-alive clients. Run it in release:
//! `cargo run --release -p reset-load` (`--help` for the knobs). `reset-load timing` compares
//! known and unknown accounts on the wrong-code path instead (see `timing.rs`).

mod cpu;
mod database;
mod http;
mod latency;
mod mail;
mod remote;
mod server;
mod stats;
mod timing;

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use futures::future::join_all;
use reset_api::ApiOptions;
use reset_core::{
    Clock as _, Limit, Outbox as _, ResetConfig, ResetState as _, SystemClock, UserInput,
};

use crate::database::Database;
use crate::http::{hammer, post};
use crate::stats::Stats;
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
    /// Delivery latency on an idle server: 202 → the message handed to the transport, and a
    /// whole reset (request → mail → complete).
    Latency(latency::LatencyArgs),
    /// Load on servers running elsewhere (the scale-out run): requests spread over the `--base`
    /// URLs, with the CPU each `--pid` and the database used.
    Remote(remote::RemoteArgs),
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
    /// Known accounts the spread scenario cycles through.
    #[arg(long, default_value_t = 1000)]
    accounts: usize,
    /// The database to measure: a fresh SQLite file by default; `postgres://…/NAME` or
    /// `mysql://…/NAME` (created for the run and dropped after when it does not exist).
    #[arg(long)]
    database_url: Option<String>,
    /// Only the throughput scenarios whose name contains this (and no complete or timing run);
    /// `timing`: only the known-vs-unknown request timing.
    #[arg(long)]
    only: Option<String>,
    /// Rate limits off (every rule's maximum 0), as issue 16 states its unknown-identifier and
    /// invalid-token targets; by default they are on but too high to trigger, so their counters
    /// are part of every request's cost. A request still restarts its try counters either way.
    #[arg(long)]
    limits_off: bool,
    /// With `--only timing`: run the outbox worker (at its default settings, writing `.eml`
    /// files), as a server does, so a known account's message is rendered and written right
    /// after its request and the timing measures that too. (The full run reads the outbox
    /// itself for its complete scenario.)
    #[arg(long)]
    with_mail: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Timing(args)) => timing::run(args).await,
        Some(Command::Latency(args)) => latency::run(args).await,
        Some(Command::Remote(args)) => remote::run(args).await,
        None => load(cli.load).await,
    }
}

/// One throughput scenario: `clients` loops on one route for `seconds`.
struct Scenario {
    name: &'static str,
    path: &'static str,
    /// A POST of this JSON; `None`: a GET.
    body: Option<&'static str>,
}

/// The throughput scenarios, in the order of the table in docs/benchmarks.md.
const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "GET /healthz (no database)",
        path: "/healthz",
        body: None,
    },
    Scenario {
        name: "request-reset, one known account (hot)",
        path: "/v1/password-reset/request",
        body: Some(r#"{"email":"known@example.com"}"#),
    },
    Scenario {
        name: "request-reset, known accounts (spread, --accounts)",
        path: "/v1/password-reset/request",
        body: Some(r#"{"email":"known{n}@example.com"}"#),
    },
    Scenario {
        name: "request-reset, unknown account",
        path: "/v1/password-reset/request",
        body: Some(r#"{"email":"ghost@example.com"}"#),
    },
    // Unknown identifiers as a spray of them arrives (each its own stand-in account, so none
    // waits for another's lock), beside the one hot unknown identifier above.
    Scenario {
        name: "request-reset, unknown identifiers (spread, --accounts)",
        path: "/v1/password-reset/request",
        body: Some(r#"{"email":"ghost{n}@example.com"}"#),
    },
    Scenario {
        name: "verify, bad token",
        path: "/v1/password-reset/verify",
        body: Some(r#"{"token":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}"#),
    },
    Scenario {
        name: "complete, bad token",
        path: "/v1/password-reset/complete",
        body: Some(
            r#"{"token":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","new_password":"violet tractor melts quietly"}"#,
        ),
    },
];

async fn load(args: Args) -> anyhow::Result<()> {
    let db = Database::open(args.database_url.as_deref()).await?;
    let mut config = ResetConfig::default();
    // Limits on (their counters are part of every request's cost) but too high to trigger,
    // unless they are switched off.
    let high = Limit::new(1_000_000_000, 900);
    let rule = if args.limits_off {
        Limit::new(0, 900)
    } else {
        high
    };
    config.rate_limits.request_per_identifier = rule;
    config.rate_limits.request_per_ip = rule;
    config.rate_limits.attempt_per_ip = rule;
    config.rate_limits.send_per_account = rule;
    config.rate_limits.send_per_account_per_day = rule;
    config.rate_limits.send_per_account_from_ip = rule;
    config.rate_limits.send_per_account_from_ip_per_day = rule;
    let server = server::start(db.url(), config, ApiOptions::default()).await?;
    add_user(&server, "known", "known@example.com").await?;
    // The timing comparison's own account: one the hot scenario hammered (thousands of secrets
    // and messages of its own, beyond what the limits let a real account gather) measures that
    // backlog, not whether the account exists.
    add_user(&server, "timed", "timed@example.com").await?;
    for i in 0..args.accounts {
        add_user(
            &server,
            &format!("known{i}"),
            &format!("known{i}@example.com"),
        )
        .await?;
    }
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.clients)
        .build()?;
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    println!(
        "machine: {cores} cores; clients: {}; {} s per scenario; {}; axum; {} known accounts; rate limits {}\n",
        args.clients,
        args.seconds,
        db.kind(),
        args.accounts,
        if args.limits_off {
            "off"
        } else {
            "on, too high to trigger"
        }
    );

    if args.only.as_deref() == Some("timing") {
        let worker = args
            .with_mail
            .then(|| mail::MailWorker::start(&server))
            .transpose()?;
        request_timing(&server, &http, args.timing_requests).await;
        if let Some(worker) = worker {
            let written = std::fs::read_dir(worker.dir.path())?.count();
            println!("messages the worker wrote meanwhile: {written}");
            worker.stop().await;
        }
        drop(server);
        return db.close().await;
    }
    store_alone(&server, high).await?;
    let meter = cpu::Meter::new(vec![std::process::id()], db.process_name());
    println!("\n{}", Stats::HEADER);
    for s in SCENARIOS.iter().filter(|s| {
        args.only
            .as_ref()
            .is_none_or(|o| s.name.contains(o.as_str()))
    }) {
        let before = meter.read();
        let stats = hammer(
            std::slice::from_ref(&server.base),
            s.path,
            s.body,
            args.clients,
            args.seconds,
            args.accounts,
        )
        .await;
        let (this, database) = meter.since(&before);
        println!("{}", stats.row(s.name, &this.join(""), &database));
    }
    if args.only.is_none() {
        completes(&server, &http, &args, cores).await?;
        request_timing(&server, &http, args.timing_requests).await;
    }
    drop(server);
    db.close().await
}

pub(crate) async fn add_user(
    server: &server::Server,
    username: &str,
    email: &str,
) -> anyhow::Result<()> {
    let input = UserInput {
        username: username.into(),
        emails: vec![email.into()],
        ..UserInput::default()
    };
    let user = server.service.prepare_user(input).await?;
    server.store.create_user(SystemClock.now(), user).await?;
    Ok(())
}

/// The store alone, one caller, no HTTP: what one transaction costs.
async fn store_alone(server: &server::Server, high: Limit) -> anyhow::Result<()> {
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
    let n = 5000u32;
    let t = Instant::now();
    for _ in 0..n {
        server.store.hit(SystemClock.now(), &hits, &[]).await?;
    }
    let each = |t: Instant| t.elapsed().as_secs_f64() * 1e6 / f64::from(n);
    println!(
        "store alone: one rate-limit transaction (2 counters): {:.1} µs each",
        each(t)
    );
    let t = Instant::now();
    for _ in 0..n {
        server.store.ready().await?;
    }
    println!(
        "store alone: one SELECT (the readiness query): {:.1} µs each",
        each(t)
    );
    Ok(())
}

/// `complete` with one fresh link per account, all completed concurrently, against the argon2
/// ceiling (cores ÷ the time of one hash, measured before and after the run).
async fn completes(
    server: &server::Server,
    http: &reqwest::Client,
    args: &Args,
    cores: usize,
) -> anyhow::Result<()> {
    let base = &server.base;
    for i in 0..args.completes {
        let email = format!("user{i}@example.com");
        add_user(server, &format!("user{i}"), &email).await?;
        post(
            http,
            base,
            "/v1/password-reset/request",
            request_owned(&email),
        )
        .await;
    }
    let tokens = Arc::new(link_tokens(server).await?);
    let hasher = server.service.hasher().clone();
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
    println!(
        "{}",
        complete.row("complete (argon2id m=19456 t=2 p=1)", "", "")
    );
    let one = (one_before + one_hash(&hasher).await?) / 2;
    let ceiling = cores as f64 / one.as_secs_f64();
    println!(
        "\nargon2id: one hash {:.1} ms; ceiling {:.1} completes/s ({cores} cores); complete reached {:.1}/s = {:.0} % of the ceiling",
        one.as_secs_f64() * 1e3,
        ceiling,
        complete.rate(),
        100.0 * complete.rate() / ceiling
    );
    Ok(())
}

/// The link tokens of every queued message to a `user…` address (claiming the outbox).
async fn link_tokens(server: &server::Server) -> anyhow::Result<Vec<String>> {
    let far = SystemClock.now() + chrono::Duration::days(1);
    server.service.settle().await;
    let mut messages = Vec::new();
    loop {
        let batch = server.store.claim_outbox(far, 10_000, 3600).await?;
        if batch.is_empty() {
            break;
        }
        messages.extend(batch);
    }
    Ok(messages
        .iter()
        .filter(|m| m.recipient.starts_with("user"))
        .filter_map(|m| m.payload.link_token().map(str::to_owned))
        .collect())
}

/// Known vs unknown request-reset (`timed@…`, an account no throughput scenario used, and
/// `ghost@…`), sequential and interleaved so drift hits both alike (pairs
/// whose order flips each time, so neither account always follows the other): once back to
/// back (the previous request's background transaction may still be running), once letting the
/// background work finish between requests (the answer's own time). Prints the medians, the
/// median of the per-pair differences (known − unknown) and how often the known one was slower.
/// `reset-load timing` is the finer comparison of the wrong-code paths.
async fn request_timing(server: &server::Server, http: &reqwest::Client, n: usize) {
    for settle in [false, true] {
        let (mut known, mut unknown) = (Vec::with_capacity(n), Vec::with_capacity(n));
        for pair in 0..n {
            let order = if pair % 2 == 0 {
                [true, false]
            } else {
                [false, true]
            };
            for is_known in order {
                let who = if is_known {
                    "timed@example.com"
                } else {
                    "ghost@example.com"
                };
                let t = Instant::now();
                post(
                    http,
                    &server.base,
                    "/v1/password-reset/request",
                    request_owned(who),
                )
                .await;
                let took = t.elapsed().as_secs_f64() * 1e3;
                if is_known {
                    known.push(took);
                } else {
                    unknown.push(took);
                }
                if settle {
                    server.service.settle().await;
                }
            }
        }
        let differences: Vec<f64> = known.iter().zip(&unknown).map(|(k, u)| k - u).collect();
        let slower = differences.iter().filter(|d| **d > 0.0).count();
        let median_difference = timing::median(differences);
        println!(
            "known vs unknown account, {n} pairs, {}: median {:.3} ms vs {:.3} ms, median pair difference (known − unknown) {:+.3} ms, known slower in {:.1} %",
            if settle {
                "background work settled between requests"
            } else {
                "back to back"
            },
            timing::median(known),
            timing::median(unknown),
            median_difference,
            100.0 * slower as f64 / n.max(1) as f64,
        );
    }
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
