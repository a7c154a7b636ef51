//! Misskey (`docs/compat.md`, section 1) replayed.

use serde_json::json;

use super::common::{STRONG, STRONG2, assert_empty, assert_json};
use crate::db::TestDb;
use crate::server::{Spawn, TestServer, test_config};

/// Misskey: 204 always; the link arrives only when username and email match; the token sets
/// the password; errors carry the seed's codes and ids.
pub async fn misskey_seed(db: TestDb, spawn: Spawn) {
    let s = TestServer::start(db, spawn).await;
    s.user("alice", &["alice@example.com"]).await;
    let req = "/api/request-reset-password";
    for body in [
        json!({"username": "alice", "email": "bob@example.com"}),
        json!({"username": "nobody", "email": "nobody@example.com"}),
    ] {
        assert_empty(&s.post(req, body).await, 204);
    }
    assert!(s.messages().await.is_empty(), "no link unless both match");
    assert_empty(
        &s.post(
            req,
            json!({"username": "alice", "email": "alice@example.com"}),
        )
        .await,
        204,
    );
    let token = s.last_token("alice@example.com").await;

    let invalid_param = json!({"error": {"message": "Invalid param.", "code": "INVALID_PARAM", "id": "3d81ceae-475f-4600-b2a8-2bc116157532"}});
    assert_json(
        &s.post(req, json!({"username": "alice"})).await,
        400,
        invalid_param.clone(),
    );
    assert_json(
        &s.post("/api/reset-password", json!({"token": token})).await,
        400,
        invalid_param,
    );
    let weak = s
        .post(
            "/api/reset-password",
            json!({"token": token, "password": "alice"}),
        )
        .await;
    assert_eq!(weak.status, 400);
    assert_eq!(weak.json()["error"]["code"], "WEAK_PASSWORD");
    assert!(
        weak.json()["error"]["info"]["violations"]
            .as_array()
            .is_some_and(|v| !v.is_empty())
    );
    assert_empty(
        &s.post(
            "/api/reset-password",
            json!({"token": token, "password": STRONG}),
        )
        .await,
        204,
    );
    assert_json(
        &s.post(
            "/api/reset-password",
            json!({"token": token, "password": STRONG2}),
        )
        .await,
        400,
        json!({"error": {"message": "The token is invalid, expired or already used.", "code": "INVALID_TOKEN", "id": "8a1c4f0e-6b2d-4c3e-9f7a-5d1e2b3c4a61"}}),
    );
    let xml = s
        .send("POST", req, Some("application/xml"), b"<a/>".to_vec(), &[])
        .await;
    assert_eq!(xml.status, 415);
    assert_eq!(xml.json()["error"]["code"], "UNSUPPORTED_MEDIA_TYPE");
    let get = s.get(req).await;
    assert_eq!(get.status, 405);
    assert_eq!(get.header("allow"), Some("POST"));
    assert_eq!(get.json()["error"]["code"], "METHOD_NOT_ALLOWED");
}

/// Misskey's rate limit: 429 `RATE_LIMIT_EXCEEDED` with the seed's id and `Retry-After`.
pub async fn misskey_rate_limit(db: TestDb, spawn: Spawn) {
    let mut config = test_config();
    config.rate_limits.request_per_identifier.max = 1;
    let s = TestServer::start_with(db, spawn, config, Default::default()).await;
    let body = json!({"username": "alice", "email": "alice@example.com"});
    assert_eq!(
        s.post("/api/request-reset-password", body.clone())
            .await
            .status,
        204
    );
    let r = s.post("/api/request-reset-password", body).await;
    assert_json(
        &r,
        429,
        json!({"error": {"message": "Rate limit exceeded. Please try again later.", "code": "RATE_LIMIT_EXCEEDED", "id": "d5826d14-3982-4d2e-8011-b9e9f02499ef"}}),
    );
    assert!(r.header("retry-after").is_some());
}
