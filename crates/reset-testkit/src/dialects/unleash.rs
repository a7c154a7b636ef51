//! Unleash (`docs/compat.md`, section 3) replayed.

use serde_json::json;

use super::common::{STRONG, STRONG2, assert_empty, assert_json};
use crate::db::TestDb;
use crate::server::{Spawn, TestServer};

/// Unleash: 200s without bodies, `validate` names the account without using the token up, and
/// errors in `{id, name, message}` with the seed's 415 message.
pub async fn unleash_seed(db: TestDb, spawn: Spawn) {
    let s = TestServer::start(db, spawn).await;
    let id = s.user("alice", &["alice@example.com"]).await;
    assert_empty(
        &s.post(
            "/auth/reset/password-email",
            json!({"email": "nobody@example.com"}),
        )
        .await,
        200,
    );
    assert!(s.messages().await.is_empty());
    assert_empty(
        &s.post(
            "/auth/reset/password-email",
            json!({"email": "alice@example.com"}),
        )
        .await,
        200,
    );
    let token = s.last_token("alice@example.com").await;
    for _ in 0..2 {
        assert_json(
            &s.get(&format!("/auth/reset/validate?token={token}")).await,
            200,
            json!({"email": "alice@example.com", "name": "alice", "id": id}),
        );
    }
    let bad_token = json!({"id": "2a3b4c5d-6e7f-4a8b-8c9d-1e2f3a4b5c73", "name": "InvalidTokenError", "message": "Token is invalid or expired."});
    assert_json(
        &s.get("/auth/reset/validate?token=nope").await,
        401,
        bad_token.clone(),
    );
    assert_json(&s.get("/auth/reset/validate").await, 401, bad_token.clone());
    let weak = s
        .post(
            "/auth/reset/password",
            json!({"token": token, "password": "alice"}),
        )
        .await;
    assert_eq!(weak.status, 400);
    assert_eq!(weak.json()["name"], "PasswordPolicyError");
    assert_empty(
        &s.post(
            "/auth/reset/password",
            json!({"token": token, "password": STRONG}),
        )
        .await,
        200,
    );
    assert_json(
        &s.post(
            "/auth/reset/password",
            json!({"token": token, "password": STRONG2}),
        )
        .await,
        401,
        bad_token,
    );
    assert_json(
        &s.send(
            "POST",
            "/auth/reset/password",
            Some("application/xml"),
            b"<a/>".to_vec(),
            &[],
        )
        .await,
        415,
        json!({"id": "9c40958a-daac-400e-98fb-3bb438567008", "name": "ContentTypeerror", "message": "We do not accept the content-type you provided (application/xml). Try using one of the content-types we do accept instead (application/json) and make sure the body is in the corresponding format."}),
    );
}
