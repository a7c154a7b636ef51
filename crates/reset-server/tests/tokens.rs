//! `reset-server token create|list|revoke` as an operator runs them, and the token working (then
//! not) against the served admin API.

#![allow(clippy::unwrap_used)]

mod common;

use common::{Server, add_alice, command, run};
use reset_testkit::process::free_port;

#[tokio::test(flavor = "multi_thread")]
async fn a_created_token_works_until_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let id = add_alice(command(dir.path(), None, port));
    let secret = run(
        command(dir.path(), None, port),
        &[
            "token",
            "create",
            "--scope",
            "password:reset",
            "--name",
            "ops",
        ],
    )
    .trim()
    .to_owned();
    assert!(secret.starts_with("rst_") && secret.len() > 40, "{secret}");
    let listed = run(command(dir.path(), None, port), &["token", "list"]);
    let fields: Vec<&str> = listed.trim().split('\t').collect();
    assert_eq!(fields[1..3], ["ops", "password:reset"], "{listed}");
    assert_eq!(fields[4], "-", "not revoked");
    assert!(!listed.contains(&secret), "the secret is shown once only");
    let bad = command(dir.path(), None, port)
        .args(["token", "create", "--scope", "root"])
        .output()
        .unwrap();
    assert!(!bad.status.success());

    let _server = Server::start(command(dir.path(), None, port), dir.path(), "server", port).await;
    let url = format!("http://127.0.0.1:{port}/v1/users/{id}/password-reset");
    let call = || async {
        reqwest::Client::new()
            .post(&url)
            .bearer_auth(&secret)
            .json(&serde_json::json!({"send_link": {}}))
            .send()
            .await
            .unwrap()
    };
    let r = call().await;
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(body["details"]["sequence"].is_string(), "{body}");
    assert!(
        body.get("verification_code").is_none(),
        "sent, not returned"
    );

    let token_id = fields[0];
    assert_eq!(
        run(
            command(dir.path(), None, port),
            &["token", "revoke", token_id]
        )
        .trim(),
        format!("revoked {token_id}")
    );
    assert_eq!(call().await.status(), 401);
    let again = command(dir.path(), None, port)
        .args(["token", "revoke", token_id])
        .output()
        .unwrap();
    assert!(!again.status.success(), "revoking twice says so");
}
