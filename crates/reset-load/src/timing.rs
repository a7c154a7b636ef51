//! `reset-load timing`: can a wrong code tell a known account from an unknown one by its
//! latency? For each operation, alternating pairs of calls with a wrong code, one naming an
//! account that has a live code, one naming a username never registered, each timed around one
//! HTTP request on one kept-alive connection. The target: over the pairs, the median of the
//! per-pair differences (known − unknown) within 0.1 ms, and the known call the slower one in
//! 40–60 % of pairs.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use reset_api::ApiOptions;
use reset_core::{Limit, Outbox as _, ResetConfig, UserInput};
use serde_json::{Value, json};

use crate::database::Database;
use crate::server::{self, Server};

/// Largest accepted |median of differences|, in milliseconds.
const MAX_MEDIAN_DIFF_MS: f64 = 0.1;
/// Accepted share of pairs (in %) where the known call was the slower.
const SLOWER_SHARE: std::ops::RangeInclusive<f64> = 40.0..=60.0;

#[derive(Debug, clap::Args)]
pub struct TimingArgs {
    /// Measured pairs per operation.
    #[arg(long, default_value_t = 1000)]
    pairs: usize,
    /// Unmeasured pairs before each operation's measured ones.
    #[arg(long, default_value_t = 100)]
    warmup: usize,
    /// `sqlite://PATH` or `postgres://…/NAME` (a PostgreSQL database that does not exist is
    /// created for the run and dropped after it). Default: a fresh SQLite file.
    #[arg(long)]
    database_url: Option<String>,
}

/// One operation measured: a wrong code sent for a username.
struct Operation {
    name: &'static str,
    path: &'static str,
    body: fn(&str, &str) -> Value,
    /// The body field that holds the error code (`code_incorrect` expected).
    error_field: &'static str,
}

const OPERATIONS: &[Operation] = &[
    Operation {
        name: "v1 verify (code)",
        path: "/v1/password-reset/verify",
        body: |username, code| json!({"username": username, "code": code}),
        error_field: "code",
    },
    Operation {
        name: "v1 complete (code)",
        path: "/v1/password-reset/complete",
        body: |username, code| json!({"username": username, "code": code, "new_password": "a-strong-Passphrase-for-2026"}),
        error_field: "code",
    },
    Operation {
        name: "forgot-password checkCode (hiding unknown)",
        path: "/api/auth/forgotPassword/checkCode",
        body: |username, code| json!({"username": username, "code": code}),
        error_field: "error_code",
    },
];

pub async fn run(args: TimingArgs) -> anyhow::Result<()> {
    let db = Database::open(args.database_url.as_deref()).await?;
    let result = measure_all(&args, &db).await;
    db.close().await?;
    result
}

async fn measure_all(args: &TimingArgs, db: &Database) -> anyhow::Result<()> {
    let server = server::start(db.url(), config(), options()).await?;
    // Same length and shape on both sides; the unknown one is never registered.
    let known = format!("timing-{}", uuid::Uuid::new_v4().simple());
    let unknown = format!("timing-{}", uuid::Uuid::new_v4().simple());
    let code = live_code(&server, &known, &unknown).await?;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .build()?;

    println!(
        "timing: {} pairs per operation after {} warm-up pairs; {}; axum; one keep-alive connection; \
         targets: |median difference| < {MAX_MEDIAN_DIFF_MS} ms, known slower in {}–{} % of pairs\n",
        args.pairs,
        args.warmup,
        db.kind(),
        SLOWER_SHARE.start(),
        SLOWER_SHARE.end()
    );
    println!(
        "| operation | database | pairs | known, median ms | unknown, median ms | median of differences (known − unknown) ms | known slower | errors | result |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let mut errors = Vec::new();
    for op in OPERATIONS {
        let pairs = Pairs {
            http: &http,
            base: &server.base,
            known: &known,
            unknown: &unknown,
            code,
        };
        let outcome = pairs.measure(op, args.warmup, args.pairs).await;
        println!("{}", outcome.row(op.name, db.kind()));
        if let Some(e) = outcome.first_error {
            errors.push(format!("{}: {e}", op.name));
        }
    }
    for e in errors {
        println!("\nfirst unexpected answer, {e}");
    }
    Ok(())
}

/// Limits on (their counters are part of every call's cost) but too high to trigger; a code
/// that lives through the run and takes any number of tries, so that every call stays on the
/// wrong-code path. (Re-requesting codes between pairs would also restart the try counters, but
/// would put the requests' background transactions among the measured calls.)
fn config() -> ResetConfig {
    let mut config = ResetConfig::default();
    let high = Limit::new(1_000_000_000, 24 * 60 * 60);
    config.rate_limits.request_per_identifier = high;
    config.rate_limits.request_per_ip = high;
    config.rate_limits.attempt_per_ip = high;
    config.code_ttl_secs = 24 * 60 * 60;
    config.code_max_attempts = 1_000_000_000;
    config.guess_budget = high;
    config
}

/// Every dialect at its default prefix; forgot-password answers unknown usernames as known ones
/// (the server's `RESET_FORGOT_PASSWORD_HIDE_UNKNOWN=true`).
fn options() -> ApiOptions {
    let mut options = ApiOptions::default();
    options.dialects.forgot_password_hide_unknown = true;
    options
}

/// Registers `known`, requests a code for `known` and for `unknown` (as an attacker would, and
/// a request restarts both try counters alike), and returns the known account's live code.
async fn live_code(server: &Server, known: &str, unknown: &str) -> anyhow::Result<u32> {
    let email = format!("{known}@example.com");
    let user = UserInput {
        username: known.to_owned(),
        emails: vec![email.clone()],
        password: Some("an-old-Passphrase-from-2025".into()),
        ..UserInput::default()
    };
    let now = server.service.now();
    server
        .store
        .create_user(now, server.service.prepare_user(user).await?)
        .await?;
    let http = reqwest::Client::new();
    for username in [known, unknown] {
        let status = http
            .post(format!("{}/v1/password-reset/request", server.base))
            .json(&json!({"username": username, "delivery": "code"}))
            .send()
            .await?
            .status();
        anyhow::ensure!(status == 202, "requesting a code answered {status}");
    }
    server.service.settle().await;
    let far = server.service.now() + chrono::Duration::days(2);
    let mut code = None;
    loop {
        let batch = server.store.claim_outbox(far, 10_000, 3600).await?;
        if batch.is_empty() {
            break;
        }
        code = code.or_else(|| {
            batch
                .into_iter()
                .find(|m| m.recipient == email)
                .and_then(|m| m.payload.code)
        });
    }
    let code = code.context("no code was queued for the known account")?;
    code.parse().context("the code is not a number")
}

/// The calls of one run: both usernames, over one client.
struct Pairs<'a> {
    http: &'a reqwest::Client,
    base: &'a str,
    known: &'a str,
    unknown: &'a str,
    /// The known account's live code (never sent).
    code: u32,
}

impl Pairs<'_> {
    /// `warmup` pairs unmeasured, then `pairs` measured; the known call goes first in even
    /// pairs and second in odd ones, so that order effects cancel.
    async fn measure(&self, op: &Operation, warmup: usize, pairs: usize) -> Outcome {
        let mut outcome = Outcome::default();
        for i in 0..warmup + pairs {
            let code = wrong_code(self.code, i);
            let (mut known, mut unknown) = (Duration::ZERO, Duration::ZERO);
            let known_first = i.is_multiple_of(2);
            for known_turn in [known_first, !known_first] {
                let who = if known_turn { self.known } else { self.unknown };
                let (elapsed, error) = self.call(op, who, &code).await;
                if let Some(e) = error {
                    outcome.errors += 1;
                    outcome.first_error.get_or_insert(e);
                }
                *if known_turn { &mut known } else { &mut unknown } = elapsed;
            }
            if i >= warmup {
                outcome.known.push(known);
                outcome.unknown.push(unknown);
            }
        }
        outcome
    }

    /// One call's wall time (sending the request to reading the whole answer), and what was
    /// wrong with the answer unless it was 400 `code_incorrect`.
    async fn call(&self, op: &Operation, username: &str, code: &str) -> (Duration, Option<String>) {
        let request = self
            .http
            .post(format!("{}{}", self.base, op.path))
            .header("content-type", "application/json")
            .body((op.body)(username, code).to_string())
            .build();
        let request = match request {
            Ok(r) => r,
            Err(e) => return (Duration::ZERO, Some(e.to_string())),
        };
        let start = Instant::now();
        let answer = match self.http.execute(request).await {
            Ok(response) => {
                let status = response.status().as_u16();
                response.bytes().await.map(|body| (status, body))
            }
            Err(e) => Err(e),
        };
        let elapsed = start.elapsed();
        let error = match answer {
            Ok((400, body))
                if serde_json::from_slice::<Value>(&body)
                    .is_ok_and(|v| v[op.error_field] == "code_incorrect") =>
            {
                None
            }
            Ok((status, body)) => Some(format!("{status} {}", String::from_utf8_lossy(&body))),
            Err(e) => Some(e.to_string()),
        };
        (elapsed, error)
    }
}

/// A 6-digit code other than `live`, changing from pair to pair.
fn wrong_code(live: u32, pair: usize) -> String {
    let offset = u32::try_from(pair % 999_999).unwrap_or(0) + 1;
    format!("{:06}", (live + offset) % 1_000_000)
}

/// One operation's measured pairs.
#[derive(Default)]
struct Outcome {
    known: Vec<Duration>,
    unknown: Vec<Duration>,
    /// Calls (warm-up included) not answered 400 `code_incorrect`.
    errors: usize,
    first_error: Option<String>,
}

impl Outcome {
    fn row(&self, name: &str, database: &str) -> String {
        let ms = |d: f64| d * 1e3;
        let diffs: Vec<f64> = self
            .known
            .iter()
            .zip(&self.unknown)
            .map(|(k, u)| k.as_secs_f64() - u.as_secs_f64())
            .collect();
        let slower = diffs.iter().filter(|d| **d > 0.0).count();
        let share = 100.0 * slower as f64 / diffs.len().max(1) as f64;
        let diff = ms(median(diffs));
        let seconds = |v: &[Duration]| median(v.iter().map(Duration::as_secs_f64).collect());
        let mut failed = Vec::new();
        if diff.abs() >= MAX_MEDIAN_DIFF_MS {
            failed.push("difference");
        }
        if !SLOWER_SHARE.contains(&share) {
            failed.push("share");
        }
        if self.errors > 0 || self.known.is_empty() {
            failed.push("errors");
        }
        let result = if failed.is_empty() {
            "PASS".to_owned()
        } else {
            format!("**FAIL** ({})", failed.join(", "))
        };
        format!(
            "| {name} | {database} | {} | {:.3} | {:.3} | {diff:+.3} | {share:.1} % | {} | {result} |",
            self.known.len(),
            ms(seconds(&self.known)),
            ms(seconds(&self.unknown)),
            self.errors,
        )
    }
}

/// The median (the mean of the middle two for an even count); 0 when empty.
pub(crate) fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.len().is_multiple_of(2) {
        (v[mid - 1] + v[mid]) / 2.0
    } else {
        v[mid]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_codes_are_six_digits_and_never_the_live_one() {
        for live in [0, 1, 999_998, 999_999, 123_456] {
            for pair in [0, 1, 2, 999_997, 999_998, 999_999, 5_000_000] {
                let code = wrong_code(live, pair);
                assert_eq!(code.len(), 6);
                assert_ne!(code, format!("{live:06}"));
            }
        }
    }

    #[test]
    fn median_of_even_and_odd_counts() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(Vec::new()), 0.0);
    }
}
