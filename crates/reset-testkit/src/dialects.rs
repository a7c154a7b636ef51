//! The dialect scenarios: each seed document replayed (request examples, documented statuses,
//! exact bodies and error ids), the forgot-password dialect's tries and enumeration switch, and
//! secrets crossing from one dialect to another.

use serde_json::json;

use crate::db::TestDb;
use crate::server::{Spawn, TestServer, test_config};

const STRONG: &str = "violet tractor melts quietly";
const STRONG2: &str = "copper lantern drifts eastward";
const FP: &str = "/api/auth/forgotPassword";

fn assert_json(r: &crate::server::Reply, status: u16, body: serde_json::Value) {
    assert_eq!(r.status, status, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.json(), body);
}

fn assert_empty(r: &crate::server::Reply, status: u16) {
    assert_eq!(r.status, status, "{}", String::from_utf8_lossy(&r.body));
    assert!(r.body.is_empty());
    assert_eq!(r.header("cache-control"), Some("no-store"));
}

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

/// The forgot-password seed, answer by answer.
pub async fn forgot_password_seed(db: TestDb, spawn: Spawn) {
    let s = TestServer::start(db, spawn).await;
    s.user("st.huber", &["huber@example.com", "stefan@example.org"])
        .await;
    s.user("no.mail", &[]).await;
    let unknown = json!({"msg": "Unknown username", "error_code": "unknown_username"});
    let incorrect = json!({"msg": "The code is incorrect", "error_code": "code_incorrect"});
    let no_code = json!({"msg": "There was no code for a password reset requested"});

    assert_json(
        &s.post(&format!("{FP}/sendEmail"), json!({"username": "nobody"}))
            .await,
        404,
        unknown.clone(),
    );
    assert_json(
        &s.post(&format!("{FP}/sendEmail"), json!({"username": "no.mail"}))
            .await,
        400,
        json!({"msg": "There are no email addresses for this account", "error_code": "no_email_addresses"}),
    );
    assert_json(
        &s.post(
            &format!("{FP}/checkCode"),
            json!({"username": "st.huber", "code": "482901"}),
        )
        .await,
        400,
        no_code.clone(),
    );
    assert_json(
        &s.post(
            &format!("{FP}/checkCode"),
            json!({"username": "nobody", "code": "482901"}),
        )
        .await,
        404,
        unknown.clone(),
    );

    assert_json(
        &s.post(&format!("{FP}/sendEmail"), json!({"username": "st.huber"}))
            .await,
        200,
        json!({"msg": "Sent"}),
    );
    let code = s.last_code("huber@example.com").await;
    assert_eq!(
        s.last_code("stefan@example.org").await,
        code,
        "the code goes to every address"
    );
    assert_eq!(code.len(), 6);
    let wrong = if code == "000000" { "000001" } else { "000000" };
    assert_json(
        &s.post(
            &format!("{FP}/checkCode"),
            json!({"username": "st.huber", "code": wrong}),
        )
        .await,
        400,
        incorrect.clone(),
    );
    for _ in 0..2 {
        assert_json(
            &s.post(
                &format!("{FP}/checkCode"),
                json!({"username": "st.huber", "code": code}),
            )
            .await,
            200,
            json!({"msg": "Code correct", "success_code": "code_correct"}),
        );
    }
    let weak = s
        .post(
            &format!("{FP}/resetPassword"),
            json!({"username": "st.huber", "code": code, "new_password": "huber"}),
        )
        .await;
    assert_eq!(weak.status, 400);
    assert_eq!(weak.json()["error_code"], "weak_password");
    assert_json(
        &s.post(
            &format!("{FP}/resetPassword"),
            json!({"username": "st.huber", "code": code, "new_password": "NewPassword1234!"}),
        )
        .await,
        200,
        json!({"msg": "Changed password successful"}),
    );
    assert_json(
        &s.post(
            &format!("{FP}/resetPassword"),
            json!({"username": "st.huber", "code": code, "new_password": STRONG}),
        )
        .await,
        400,
        no_code,
    );
    assert_json(
        &s.post(
            &format!("{FP}/resetPassword"),
            json!({"username": "nobody", "code": code, "new_password": STRONG}),
        )
        .await,
        404,
        unknown,
    );
    assert_json(
        &s.post(&format!("{FP}/sendEmail"), json!({"username": ""}))
            .await,
        400,
        json!({"msg": "Invalid request", "error_code": "invalid_request"}),
    );
}

/// After 12 tries (wrong, on check and reset alike) the code is dead: `rate_limit_exceeded`,
/// even for the right code; a new code helps.
pub async fn forgot_password_twelve_tries(db: TestDb, spawn: Spawn) {
    let s = TestServer::start(db, spawn).await;
    s.user("st.huber", &["huber@example.com"]).await;
    assert_eq!(
        s.post(&format!("{FP}/sendEmail"), json!({"username": "st.huber"}))
            .await
            .status,
        200
    );
    let code = s.last_code("huber@example.com").await;
    let wrong = if code == "000000" { "000001" } else { "000000" };
    let incorrect = json!({"msg": "The code is incorrect", "error_code": "code_incorrect"});
    for i in 0..12 {
        let path = if i % 2 == 0 {
            "checkCode"
        } else {
            "resetPassword"
        };
        let r = s
            .post(
                &format!("{FP}/{path}"),
                json!({"username": "st.huber", "code": wrong, "new_password": STRONG}),
            )
            .await;
        assert_json(&r, 400, incorrect.clone());
    }
    let exceeded = json!({"msg": "Rate limit exceeded", "error_code": "rate_limit_exceeded"});
    assert_json(
        &s.post(
            &format!("{FP}/checkCode"),
            json!({"username": "st.huber", "code": code}),
        )
        .await,
        400,
        exceeded,
    );
    assert_eq!(
        s.post(&format!("{FP}/sendEmail"), json!({"username": "st.huber"}))
            .await
            .status,
        200
    );
    let fresh = s.last_code("huber@example.com").await;
    assert_eq!(
        s.post(
            &format!("{FP}/checkCode"),
            json!({"username": "st.huber", "code": fresh})
        )
        .await
        .status,
        200
    );
}

/// With the switch on, an unknown username is answered as a known one.
pub async fn forgot_password_hides_unknown(db: TestDb, spawn: Spawn) {
    let options = reset_api::ApiOptions {
        dialects: reset_api::dialects::Dialects {
            forgot_password_hide_unknown: true,
            ..Default::default()
        },
        ..Default::default()
    };
    let s = TestServer::start_with(db, spawn, test_config(), options).await;
    s.user("st.huber", &["huber@example.com"]).await;
    let incorrect = json!({"msg": "The code is incorrect", "error_code": "code_incorrect"});
    for user in ["st.huber", "nobody"] {
        assert_json(
            &s.post(&format!("{FP}/sendEmail"), json!({"username": user}))
                .await,
            200,
            json!({"msg": "Sent"}),
        );
    }
    assert_eq!(
        s.messages().await.len(),
        1,
        "only the known account gets a code"
    );
    for user in ["st.huber", "nobody"] {
        let r = s
            .post(
                &format!("{FP}/checkCode"),
                json!({"username": user, "code": "999999"}),
            )
            .await;
        if user == "st.huber" && s.last_code("huber@example.com").await == "999999" {
            continue;
        }
        assert_json(&r, 400, incorrect.clone());
    }
}

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
        id.as_str()
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
