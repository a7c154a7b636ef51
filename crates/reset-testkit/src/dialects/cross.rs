//! Secrets crossing dialects, and dialects switched off or moved.

use serde_json::json;

use super::common::{STRONG, STRONG2, assert_empty};
use crate::db::TestDb;
use crate::server::{Spawn, TestServer, test_config};

const FP: &str = "/api/auth/forgotPassword";

/// A code from `sendEmail` completes through v1; a link from Misskey works on Unleash's routes.
pub async fn secrets_cross_dialects(db: TestDb, spawn: Spawn) {
    let s = TestServer::start(db, spawn).await;
    let id = s.user("alice", &["alice@example.com"]).await;
    assert_eq!(
        s.post(&format!("{FP}/sendEmail"), json!({"username": "alice"}))
            .await
            .status,
        200
    );
    let code = s.last_code("alice@example.com").await;
    let r = s
        .post(
            "/v1/password-reset/complete",
            json!({"username": "alice", "code": code, "new_password": STRONG}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", String::from_utf8_lossy(&r.body));

    let misskey = json!({"username": "alice", "email": "alice@example.com"});
    assert_eq!(
        s.post("/api/request-reset-password", misskey).await.status,
        204
    );
    let token = s.last_token("alice@example.com").await;
    assert_eq!(
        s.get(&format!("/auth/reset/validate?token={token}"))
            .await
            .json()["id"],
        reset_api::dialects::unleash::user_number(&id)
    );
    assert_empty(
        &s.post(
            "/auth/reset/password",
            json!({"token": token, "password": STRONG2}),
        )
        .await,
        200,
    );
    let again = s
        .post("/v1/password-reset/verify", json!({"token": token}))
        .await;
    assert_eq!(
        again.code(),
        "invalid_token",
        "used once, whichever dialect used it"
    );
}

/// Switched off, a dialect is not served; moved, it answers under its new prefix.
pub async fn dialects_switch_and_move(db: TestDb, spawn: Spawn) {
    let mut dialects = reset_api::dialects::Dialects::default();
    dialects.misskey.enabled = false;
    dialects.unleash.prefix = "/legacy/unleash".into();
    let options = reset_api::ApiOptions {
        dialects,
        ..Default::default()
    };
    let s = TestServer::start_with(db, spawn, test_config(), options).await;
    let body = json!({"username": "a", "email": "a@example.com"});
    assert_eq!(
        s.post("/api/request-reset-password", body).await.status,
        404
    );
    assert_eq!(
        s.post(
            "/auth/reset/password-email",
            json!({"email": "a@example.com"})
        )
        .await
        .status,
        404
    );
    assert_eq!(
        s.post(
            "/legacy/unleash/password-email",
            json!({"email": "a@example.com"})
        )
        .await
        .status,
        200
    );
}
