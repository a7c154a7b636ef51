//! Delivery latency (issue 16): on an idle server with the outbox worker at its default
//! settings, how long after the 202 a reset message is handed to the transport, and how long a
//! whole reset takes (request → the mail → complete → 204). Resets run one after another, each
//! for an account of its own. The transport writes `.eml` files; "handed over" is when the file
//! appears (the folder is watched every 0.1 ms), so it includes rendering and the file write.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use reset_api::ApiOptions;
use reset_core::{Limit, ResetConfig};

use crate::database::Database;
use crate::http::post;
use crate::mail::MailWorker;
use crate::server;

#[derive(Debug, clap::Args)]
pub struct LatencyArgs {
    /// Resets to time, one after another.
    #[arg(long, default_value_t = 200)]
    resets: usize,
    /// The database: a fresh SQLite file by default; `postgres://…/NAME` or `mysql://…/NAME`.
    #[arg(long)]
    database_url: Option<String>,
}

pub async fn run(args: LatencyArgs) -> anyhow::Result<()> {
    let db = Database::open(args.database_url.as_deref()).await?;
    let mut config = ResetConfig::default();
    // Every reset is for its own account, from one address: only the per-IP limit would bite.
    let high = Limit::new(1_000_000_000, 900);
    config.rate_limits.request_per_ip = high;
    config.rate_limits.attempt_per_ip = high;
    let server = server::start(db.url(), config, ApiOptions::default()).await?;
    for i in 0..args.resets {
        crate::add_user(&server, &format!("lat{i}"), &format!("lat{i}@example.com")).await?;
    }
    let worker = MailWorker::start(&server)?;
    let (mail, options) = (&worker.dir, worker.options);
    let http = reqwest::Client::new();
    let mut seen = HashSet::new();
    let (mut handed, mut flows) = (Vec::new(), Vec::new());
    for i in 0..args.resets {
        let start = Instant::now();
        let body = serde_json::json!({ "email": format!("lat{i}@example.com") }).to_string();
        let status = post(&http, &server.base, "/v1/password-reset/request", body).await;
        anyhow::ensure!(status == 202, "request answered {status}");
        let answered = Instant::now();
        let (file, at) = next_file(mail.path().to_owned(), &seen).await?;
        handed.push(at - answered);
        seen.insert(file.clone());
        // The file may appear before it is fully written.
        let mut token = token_in(&std::fs::read(&file)?);
        for _ in 0..1000 {
            if token.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
            token = token_in(&std::fs::read(&file)?);
        }
        let token = token?;
        let body =
            serde_json::json!({ "token": token, "new_password": "violet tractor melts quietly" });
        let status = post(
            &http,
            &server.base,
            "/v1/password-reset/complete",
            body.to_string(),
        )
        .await;
        anyhow::ensure!(status == 204, "complete answered {status}");
        flows.push(start.elapsed());
        // The "password changed" notice follows; let it arrive before the next reset.
        let (notice, _) = next_file(mail.path().to_owned(), &seen).await?;
        seen.insert(notice);
    }
    worker.stop().await;
    println!(
        "{} resets; {}; worker poll {} ms (a safety net: the store wakes the worker)",
        args.resets,
        db.kind(),
        options.poll.as_millis()
    );
    println!("| measure | p50 ms | p95 ms | max ms |");
    println!("|---|---|---|---|");
    row("202 → message handed to the transport", &mut handed);
    row("whole reset: request → mail → complete (204)", &mut flows);
    drop(server);
    db.close().await
}

fn row(name: &str, samples: &mut [Duration]) {
    samples.sort_unstable();
    let at = |q: f64| {
        let i = ((samples.len() as f64 - 1.0) * q).round() as usize;
        samples.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "| {name} | {:.2} | {:.2} | {:.2} |",
        at(0.5),
        at(0.95),
        at(1.0)
    );
}

/// Waits (up to 10 s) for a file not in `seen` to appear in `dir`; returns it and when it was
/// first seen. Watched from a thread of its own every 0.1 ms (tokio's timers tick in ms).
async fn next_file(dir: PathBuf, seen: &HashSet<PathBuf>) -> anyhow::Result<(PathBuf, Instant)> {
    let seen = seen.clone();
    tokio::task::spawn_blocking(move || {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Some(file) = new_file(&dir, &seen) {
                return Ok((file, Instant::now()));
            }
            std::thread::sleep(Duration::from_micros(100));
        }
        anyhow::bail!("no message within 10 s")
    })
    .await?
}

fn new_file(dir: &Path, seen: &HashSet<PathBuf>) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "eml") && !seen.contains(p))
}

/// The reset link's token in a message's text part.
fn token_in(raw: &[u8]) -> anyhow::Result<String> {
    let mail = mailparse::parse_mail(raw)?;
    let text = std::iter::once(&mail)
        .chain(mail.subparts.iter())
        .filter(|p| p.ctype.mimetype == "text/plain")
        .find_map(|p| p.get_body().ok())
        .unwrap_or_default();
    let after = text
        .split("token=")
        .nth(1)
        .ok_or_else(|| anyhow::anyhow!("no token in the message"))?;
    let token: String = after
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    anyhow::ensure!(token.len() >= 40, "a partial token");
    Ok(token)
}
