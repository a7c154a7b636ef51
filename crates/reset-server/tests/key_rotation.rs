//! Rotating the server key with `reset-server key …` while a link, a code and an admin token
//! made under the old key are live (on each store, each served by a different framework): after `add` and `activate` they all still work, new secrets
//! use the new key, `retire` refuses while the old key is still needed (and `--force` then cuts
//! them off); and a key file that others can read stops the server from starting.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use reset_testkit::process::{free_port, newest_mail, token_after};

mod common;
use common::{Server, add_alice, command, run};

const STRONG: &str = "violet tractor melts quietly";

async fn post_as(
    base: &str,
    path: &str,
    auth: Option<&str>,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    let mut req = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(auth) = auth {
        req = req.header("authorization", format!("Bearer {auth}"));
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let body = r.json().await.unwrap_or(serde_json::Value::Null);
    (status, body)
}

fn key(dir: &Path, db: Option<&str>, port: u16, args: &[&str]) -> std::process::Output {
    let mut c = command(dir, db, port);
    c.arg("key").args(args);
    c.output().unwrap()
}

/// `reset-server key list`'s output, asserting that it succeeded.
fn key_list(dir: &Path, db: Option<&str>, port: u16) -> String {
    let out = key(dir, db, port, &["list"]);
    assert!(
        out.status.success(),
        "key list: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

async fn stop(mut server: Server) {
    server.sigterm();
    assert!(server.wait_exit(Duration::from_secs(10)).await.is_some());
}

/// The whole rotation on one store, served by one framework.
async fn rotation(db: Option<&str>, framework: &str) {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let serve = || {
        let mut c = command(dir.path(), db, port);
        c.env("RESET_FRAMEWORK", framework);
        c
    };
    let base = format!("http://127.0.0.1:{port}");
    let alice = add_alice(command(dir.path(), db, port));
    let bob = run(
        command(dir.path(), db, port),
        &[
            "user",
            "add",
            "--username",
            "bob",
            "--email",
            "bob@example.com",
        ],
    )
    .trim()
    .to_owned();
    let token = run(
        command(dir.path(), db, port),
        &[
            "token",
            "create",
            "--scope",
            "password:reset",
            "--scope",
            "password:write",
        ],
    )
    .trim()
    .to_owned();

    // Under k1: a link for alice, a code for bob, the admin token.
    let server = Server::start(serve(), dir.path(), "k1", port).await;
    let (status, _) = post_as(
        &base,
        "/v1/password-reset/request",
        None,
        serde_json::json!({"username": "alice"}),
    )
    .await;
    assert_eq!(status, 202);
    let mail = newest_mail(&dir.path().join("data/mail")).await;
    let link = token_after(&mail, "http://127.0.0.1:8080/reset-password?token=");
    let (status, body) = post_as(
        &base,
        &format!("/v1/users/{bob}/password-reset"),
        Some(&token),
        serde_json::json!({"return_code": {}}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let code = body["verification_code"].as_str().unwrap().to_owned();
    stop(server).await;

    let out = key(dir.path(), db, port, &["add"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = key(dir.path(), db, port, &["activate", "k2"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list = key_list(dir.path(), db, port);
    assert!(
        list.starts_with("k2\tactive\t0 live secrets\t0 admin tokens"),
        "{list}"
    );
    assert!(
        list.contains("k1\t-\t4 live secrets\t1 admin tokens"),
        "{list}"
    );
    let out = key(dir.path(), db, port, &["retire", "k1"]);
    assert!(
        !out.status.success(),
        "retiring a key still needed is refused"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("still need k1"));

    // Under k2 as the active key: everything made under k1 still works.
    let server = Server::start(serve(), dir.path(), "k2", port).await;
    let (status, body) = post_as(
        &base,
        "/v1/password-reset/complete",
        None,
        serde_json::json!({"token": link, "new_password": STRONG}),
    )
    .await;
    assert_eq!(status, 204, "the link made under k1: {body}");
    let (status, body) = post_as(
        &base,
        "/v1/password-reset/verify",
        None,
        serde_json::json!({"username": "bob", "code": code}),
    )
    .await;
    assert_eq!(status, 200, "the code made under k1: {body}");
    let (status, body) = post_as(
        &base,
        &format!("/v1/users/{alice}/password-reset"),
        Some(&token),
        serde_json::json!({"send_link": {}}),
    )
    .await;
    assert_eq!(status, 200, "the admin token made under k1: {body}");
    stop(server).await;
    let list = key_list(dir.path(), db, port);
    assert!(
        list.starts_with("k2\tactive\t2 live secrets"),
        "new secrets use k2: {list}"
    );

    // Forced out: what only k1 checked stops working.
    let out = key(dir.path(), db, port, &["retire", "k1", "--force"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let server = Server::start(serve(), dir.path(), "retired", port).await;
    let (status, _) = post_as(
        &base,
        &format!("/v1/users/{alice}/password-reset"),
        Some(&token),
        serde_json::json!({"send_link": {}}),
    )
    .await;
    assert_eq!(status, 401, "a token of a retired key");
    stop(server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_actix() {
    rotation(None, "actix").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_axum() {
    let Some(db) = reset_testkit::TestDb::postgres().await else {
        return;
    };
    rotation(Some(db.url()), "axum").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_warp() {
    let Some(db) = reset_testkit::TestDb::mysql().await else {
        return;
    };
    rotation(Some(db.url()), "warp").await;
}

#[test]
fn a_key_file_others_can_read_stops_the_server() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    add_alice(command(dir.path(), None, port));
    let path = dir.path().join("data/secret.key");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out: std::process::Output = {
        let mut c: Command = command(dir.path(), None, port);
        c.arg("serve").output().unwrap()
    };
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("0644") && stderr.contains("chmod 600"),
        "{stderr}"
    );
}
