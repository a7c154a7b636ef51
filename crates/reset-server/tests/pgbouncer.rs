//! The server through a real PgBouncer (Debian's, 1.18) in transaction mode: a server connection
//! is the client's only for one transaction, and 1.18 keeps no prepared statement across
//! transactions. With `pgbouncer=true` in the URL the store keeps no statement cache and runs
//! every call in a transaction; `RESET_DATABASE_LISTEN_URL` gives `LISTEN` and the migrations a
//! session of their own. Two server connections are shared by every client here, so a statement
//! prepared on one and run on another would fail at once.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use async_trait::async_trait;
use common::{Server, command, run};
use reset_testkit::TestDb;
use reset_testkit::db::strict;
use reset_testkit::http_suite::{self, Host};
use reset_testkit::process::{KillOnDrop, SmtpSink, command_as, free_port, is_root};

const PGBOUNCER: &str = "/usr/sbin/pgbouncer";

/// A PgBouncer in transaction mode in front of the test PostgreSQL, killed when dropped.
struct Bouncer {
    _child: KillOnDrop,
    port: u16,
}

impl Bouncer {
    async fn start(dir: &Path) -> Option<Self> {
        if !Path::new(PGBOUNCER).exists() {
            assert!(!strict(), "{PGBOUNCER} is missing and CI=true");
            eprintln!("*** SKIPPED: {PGBOUNCER} is missing (apt-get install pgbouncer) ***");
            return None;
        }
        let admin = url::Url::parse(&reset_testkit::db::postgres_admin_url()).unwrap();
        let port = free_port();
        let ini = dir.join("pgbouncer.ini");
        std::fs::write(dir.join("users.txt"), "\"postgres\" \"\"\n").unwrap();
        std::fs::write(
            &ini,
            format!(
                "[databases]\n* = host={host} port={pg}\n\n[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\nauth_type = trust\nauth_file = {users}\npool_mode = transaction\ndefault_pool_size = 2\nmax_client_conn = 500\nlogfile = {log}\npidfile = {pid}\nignore_startup_parameters = extra_float_digits\n",
                host = admin.host_str().unwrap_or("127.0.0.1"),
                pg = admin.port().unwrap_or(5432),
                users = dir.join("users.txt").display(),
                log = dir.join("pgbouncer.log").display(),
                pid = dir.join("pgbouncer.pid").display(),
            ),
        )
        .unwrap();
        // PgBouncer refuses to run as root: as postgres then, which must read its files.
        if is_root() {
            Command::new("chown")
                .args(["-R", "postgres:postgres", &dir.display().to_string()])
                .status()
                .unwrap();
        }
        let child = command_as("postgres", PGBOUNCER)
            .arg(&ini)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let bouncer = Self {
            _child: KillOnDrop(child),
            port,
        };
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Some(bouncer);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "PgBouncer did not start: {}",
            std::fs::read_to_string(dir.join("pgbouncer.log")).unwrap_or_default()
        );
    }

    /// `db`'s URL through this PgBouncer, marked as a transaction pooler.
    fn url(&self, db: &TestDb) -> String {
        let mut url = url::Url::parse(db.url()).unwrap();
        url.set_port(Some(self.port)).unwrap();
        url.set_query(Some("pgbouncer=true"));
        url.to_string()
    }
}

/// `reset-server` through PgBouncer, with `LISTEN` and the migrations on PostgreSQL itself.
fn through(dir: &Path, bouncer: &str, direct: &str, port: u16) -> Command {
    let mut c = command(dir, Some(bouncer), port);
    c.env("RESET_DATABASE_LISTEN_URL", direct)
        .env("RESET_DB_MAX_CONNECTIONS", "8")
        .env("RESET_LIMIT_REQUEST_PER_IP", "0");
    c
}

struct Behind {
    base: String,
    dir: PathBuf,
    bouncer: String,
    direct: String,
}

#[async_trait]
impl Host for Behind {
    fn base_url(&self) -> String {
        self.base.clone()
    }

    async fn create_account(&self, username: &str, email: &str) {
        run(
            through(&self.dir, &self.bouncer, &self.direct, 0),
            &["user", "add", "--username", username, "--email", email],
        );
    }

    async fn messages_to(&self, email: &str) -> Vec<String> {
        http_suite::eml_messages_to(&self.dir.join("data/mail"), email)
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_server_works_through_pgbouncer_in_transaction_mode() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let bouncer_dir = tempfile::tempdir().unwrap();
    let Some(bouncer) = Bouncer::start(bouncer_dir.path()).await else {
        return;
    };
    let pooled = bouncer.url(&db);
    let host = Behind {
        base: String::new(),
        dir: dir.path().to_owned(),
        bouncer: pooled.clone(),
        direct: db.url().to_owned(),
    };
    // Migrations (on the direct URL) and an account, from the command line.
    host.create_account("alice", "alice@example.com").await;
    let port = free_port();
    let server = Server::start(
        through(dir.path(), &pooled, db.url(), port),
        dir.path(),
        "behind-pgbouncer",
        port,
    )
    .await;
    let host = Behind {
        base: format!("http://127.0.0.1:{port}"),
        ..host
    };
    let suite =
        futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(http_suite::run(&host)))
            .await;
    let log = || std::fs::read_to_string(dir.path().join("behind-pgbouncer.log")).unwrap();
    assert!(
        suite.is_ok(),
        "the HTTP suite failed; the server's log:\n{}",
        log()
    );

    // Concurrent calls, known and unknown, share PgBouncer's two server connections.
    let http = reqwest::Client::new();
    let calls = (0..64).map(|i| {
        let http = http.clone();
        let url = format!("{}/v1/password-reset/request", host.base);
        let who = if i % 2 == 0 {
            "alice@example.com".to_owned()
        } else {
            format!("nobody{i}@example.com")
        };
        async move {
            http.post(url)
                .json(&serde_json::json!({ "email": who }))
                .send()
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or(0)
        }
    });
    let statuses = futures::future::join_all(calls).await;
    assert!(
        statuses.iter().all(|s| *s == 202 || *s == 429),
        "every answer is 202 or a limit's 429: {statuses:?}"
    );
    let log = log();
    assert!(
        !log.contains("prepared statement") && !log.contains("ERROR"),
        "no statement went astray: {log}"
    );
    drop(server);
}

/// A message queued by another process through PgBouncer wakes this instance's worker at once:
/// its `LISTEN` goes to PostgreSQL itself (`RESET_DATABASE_LISTEN_URL`); the `NOTIFY` is sent
/// through PgBouncer, inside a transaction.
#[tokio::test(flavor = "multi_thread")]
async fn delivery_wakes_across_instances_through_pgbouncer() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let Some(sink) = SmtpSink::start(0).await else {
        return;
    };
    let bouncer_dir = tempfile::tempdir().unwrap();
    let Some(bouncer) = Bouncer::start(bouncer_dir.path()).await else {
        return;
    };
    let pooled = bouncer.url(&db);
    let dir = tempfile::tempdir().unwrap();
    common::add_alice(through(dir.path(), &pooled, db.url(), 0));
    let port = free_port();
    let mut slow = through(dir.path(), &pooled, db.url(), port);
    slow.env("RESET_MAIL_TRANSPORT", "smtp")
        .env("RESET_SMTP_URL", format!("smtp://127.0.0.1:{}", sink.port))
        .env("RESET_OUTBOX_POLL_MS", "60000");
    let server = Server::start(slow, dir.path(), "listener", port).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    let _instance = common::request_alice_in_process(reset_server::settings::Settings {
        database_url: pooled.clone(),
        database_listen_url: Some(db.url().to_owned()),
        data_dir: dir.path().join("data"),
        ..Default::default()
    })
    .await;
    assert_eq!(
        sink.wait_for(1, 10).await.len(),
        1,
        "the other process's message left at once, not at the next poll"
    );
    drop(server);
}

/// Without a session URL, a transaction pooler cannot run migrations: the server says what to
/// set instead of failing on a statement PgBouncer sent astray.
#[tokio::test(flavor = "multi_thread")]
async fn migrations_through_pgbouncer_ask_for_a_session_url() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let bouncer_dir = tempfile::tempdir().unwrap();
    let Some(bouncer) = Bouncer::start(bouncer_dir.path()).await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = command(dir.path(), Some(&bouncer.url(&db)), 0)
        .args(["migrate"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "migrations through PgBouncer alone");
    assert!(stderr.contains("RESET_DATABASE_LISTEN_URL"), "{stderr}");
}
