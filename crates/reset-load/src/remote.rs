//! Load on servers that run elsewhere, for the scale-out run (`scripts/scale-out.sh`): one to
//! three `reset-server` processes on one database, the clients spread over them (client `i`
//! sends to `--base` number `i mod n`). Before the run the accounts are created in the
//! database the servers share; for each scenario the CPU used by each `--pid` and by every
//! process named `--db-process` is read from `/proc` and printed as a share of one core.

use reset_core::Clock as _;
use reset_core::store::NewUser;
use reset_diesel::{DieselStore, PoolOptions};

use crate::cpu::Meter;
use crate::http::hammer;

#[derive(Debug, clap::Args)]
pub struct RemoteArgs {
    /// A server's base URL (repeat for each instance).
    #[arg(long = "base", required = true)]
    bases: Vec<String>,
    /// The database the servers share (accounts are created there).
    #[arg(long)]
    database_url: String,
    /// A server process whose CPU to report (repeat).
    #[arg(long = "pid")]
    pids: Vec<u32>,
    /// The database server's process name, whose processes' CPU is summed.
    #[arg(long, default_value = "postgres")]
    db_process: String,
    #[arg(long, default_value_t = 32)]
    clients: usize,
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Known accounts the requests cycle through.
    #[arg(long, default_value_t = 1000)]
    accounts: usize,
}

/// What the scale-out run measures.
const SCENARIOS: &[(&str, &str, &str)] = &[
    (
        "request-reset, known accounts (spread)",
        "/v1/password-reset/request",
        r#"{"email":"scale{n}@example.com"}"#,
    ),
    (
        "request-reset, unknown identifiers",
        "/v1/password-reset/request",
        r#"{"email":"ghost{n}@example.com"}"#,
    ),
    (
        "verify, bad token",
        "/v1/password-reset/verify",
        r#"{"token":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}"#,
    ),
];

pub async fn run(args: RemoteArgs) -> anyhow::Result<()> {
    let store = DieselStore::connect(&args.database_url, PoolOptions::default()).await?;
    let existing = store.list_users().await?.len();
    for i in existing.saturating_sub(1)..args.accounts {
        let user = NewUser {
            username: format!("scale{i}"),
            emails: vec![format!("scale{i}@example.com")],
            ..NewUser::default()
        };
        // Already there from an earlier run: fine.
        let _ = store.create_user(reset_core::SystemClock.now(), user).await;
    }
    println!(
        "{} instance(s); clients: {}; {} s per scenario; {} known accounts",
        args.bases.len(),
        args.clients,
        args.seconds,
        args.accounts
    );
    println!(
        "| scenario | instances | req/s | p50 ms | p99 ms | CPU per instance (% of a core) | database CPU | statuses |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let meter = Meter::new(args.pids.clone(), Some(args.db_process.clone()));
    for (name, path, body) in SCENARIOS {
        let before = meter.read();
        let stats = hammer(
            &args.bases,
            path,
            Some(body),
            args.clients,
            args.seconds,
            args.accounts,
        )
        .await;
        let (per_instance, database) = meter.since(&before);
        println!(
            "| {name} | {} | {} | {} | {database} | {} |",
            args.bases.len(),
            stats.columns(),
            per_instance.join(", "),
            stats.statuses()
        );
    }
    Ok(())
}
