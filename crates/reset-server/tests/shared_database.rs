//! Instances sharing one database share their limits: counters live in the database and each
//! hit locks its counter's row before it reads and writes it, so requests spread over two
//! servers meet the same limit as requests to one (PostgreSQL and MySQL; SQLite is one instance's store).

#![allow(clippy::unwrap_used)]

mod common;

use common::{Server, command, post};
use reset_testkit::TestDb;
use reset_testkit::process::free_port;

async fn limits_hold_across_instances(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    common::add_alice(command(dir.path(), Some(db.url()), 0));
    let start = |name: &'static str| {
        let port = free_port();
        let mut c = command(dir.path(), Some(db.url()), port);
        c.env("RESET_LIMIT_REQUEST_PER_IDENTIFIER", "5")
            .env("RESET_LIMIT_REQUEST_PER_IP", "0");
        (c, name, port)
    };
    let (a, b) = (start("a"), start("b"));
    let (first, second) = tokio::join!(
        Server::start(a.0, dir.path(), a.1, a.2),
        Server::start(b.0, dir.path(), b.1, b.2)
    );
    let bases = [
        format!("http://127.0.0.1:{}", a.2),
        format!("http://127.0.0.1:{}", b.2),
    ];
    // Alternate between the instances, for a known and an unknown address alike.
    for who in ["alice@example.com", "nobody@example.com"] {
        let mut statuses = vec![];
        for i in 0..8 {
            let body = serde_json::json!({ "email": who });
            statuses.push(
                post(&bases[i % 2], "/v1/password-reset/request", body)
                    .await
                    .as_u16(),
            );
        }
        assert_eq!(
            statuses,
            [202, 202, 202, 202, 202, 429, 429, 429],
            "{who}: five requests in all, whichever instance took them"
        );
    }
    drop((first, second));
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_instances_share_limits() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    limits_hold_across_instances(db).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn mysql_instances_share_limits() {
    let Some(db) = TestDb::mysql().await else {
        return;
    };
    limits_hold_across_instances(db).await;
}
