//! Unleash (`docs/compat.md`, section 3) replayed.

use serde_json::json;

use reset_api::dialects::unleash::user_number;

use super::common::{STRONG, STRONG2, assert_empty, assert_json};
use crate::admin::password_is;
use crate::db::TestDb;
use crate::server::{Reply, Spawn, TestServer};

const XML_415: &str = "We do not accept the content-type you provided (application/xml). Try using one of the content-types we do accept instead (application/json) and make sure the body is in the corresponding format.";

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
            json!({"id": user_number(&id), "email": "alice@example.com", "name": "alice", "token": token,
                "createdBy": null, "role": {"id": 0, "type": "root", "name": "Viewer"}}),
        );
    }
    let bad_token = json!({"id": "2a3b4c5d-6e7f-4a8b-8c9d-1e2f3a4b5c73", "name": "InvalidTokenError", "message": "Token is invalid or expired.", "details": [{"message": "Token is invalid or expired."}]});
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
    assert_eq!(weak.json()["details"][0]["message"], weak.json()["message"]);
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
        json!({"id": "9c40958a-daac-400e-98fb-3bb438567008", "name": "ContentTypeerror", "message": XML_415, "details": [{"message": XML_415}]}),
    );
}

/// Headers Unleash's frontend sends: `fetch` with only a JSON content type (the forgotten
/// password form, the requirements checker), and `useApi`'s defaults (the reset itself).
const PLAIN_JSON: &[(&str, &str)] = &[];
const USE_API: &[(&str, &str)] = &[("accept", "application/json")];

/// POSTs `body` as Unleash's frontend does: `Content-Type: application/json` plus `extra`.
async fn page_post(
    s: &TestServer,
    path: &str,
    body: serde_json::Value,
    extra: &[(&str, &str)],
) -> Reply {
    s.send(
        "POST",
        path,
        Some("application/json"),
        body.to_string().into_bytes(),
        extra,
    )
    .await
}

/// What `PasswordRequirementsChecker.tsx` makes of an answer: `Some(errors)` on 400 (read from
/// `details[0].validationErrors`), `None` on 200 (the button is enabled). Any other status
/// leaves the button disabled, so it fails the test.
fn checker_reads(r: &Reply) -> Option<Vec<String>> {
    match r.status {
        200 => None,
        400 => {
            let errors = r.json()["details"][0]["validationErrors"].clone();
            let errors: Vec<String> = serde_json::from_value(errors).expect("validationErrors");
            Some(errors)
        }
        other => panic!(
            "the page reads only 200 and 400, got {other}: {}",
            String::from_utf8_lossy(&r.body)
        ),
    }
}

/// Unleash's local rules (`PasswordRequirementsChecker.tsx` `REQUIREMENTS`): the page asks the
/// server only once these pass.
fn passes_unleash_locally(p: &str) -> bool {
    let chars: Vec<char> = p.chars().collect();
    chars.len() >= 10
        && chars.iter().any(char::is_ascii_lowercase)
        && chars.iter().any(char::is_ascii_uppercase)
        && chars.iter().any(char::is_ascii_digit)
        && chars.iter().any(|c| !c.is_ascii_alphanumeric())
        && !chars.windows(3).any(|w| w[0] == w[1] && w[1] == w[2])
}

/// Unleash's reset pages, request for request: `ForgottenPassword.tsx` posts the address;
/// `useResetPassword.ts` validates the token from the link (a bare `GET`, token not
/// URL-encoded) and reads `name`; `PasswordRequirementsChecker.tsx` posts each typed value that
/// passes its local rules to `validate-password` and enables "Set new password" only on 200;
/// `useAuthResetPasswordApi` posts `{token, password}` with `useApi`'s headers and expects 200,
/// else shows `details[0].message`. Then the used link shows the invalid-token page.
pub async fn unleash_reset_page(db: TestDb, spawn: Spawn) {
    let s = TestServer::start(db, spawn).await;
    let id = s.user("alice", &["alice@example.com"]).await;

    // ForgottenPassword.tsx: any status but 429 reads "attempted".
    let r = page_post(
        &s,
        "/auth/reset/password-email",
        json!({"email": "alice@example.com"}),
        PLAIN_JSON,
    )
    .await;
    assert_empty(&r, 200);
    let token = s.last_token("alice@example.com").await;
    let sent = s.messages().await.len();

    // useResetPassword.ts: the page is usable unless `name` says the token is invalid or used.
    let r = s.get(&format!("/auth/reset/validate?token={token}")).await;
    assert_eq!(r.status, 200);
    let user = r.json();
    assert!(user["name"] != "InvalidTokenError" && user["name"] != "UsedTokenError");
    assert_eq!(user["token"], token.as_str());
    assert_eq!(user["email"], "alice@example.com");
    assert_eq!(user["id"], user_number(&id));
    assert!(user["id"].as_u64().is_some_and(|n| n < 1 << 53));

    // PasswordRequirementsChecker.tsx, typing a password Unleash's own rules accept but ours do
    // not: the server's reasons are listed under the requirements, the button stays disabled.
    let guessable = "Password1!";
    assert!(passes_unleash_locally(guessable));
    let r = page_post(
        &s,
        "/auth/reset/validate-password",
        json!({"password": guessable}),
        PLAIN_JSON,
    )
    .await;
    let errors = checker_reads(&r).expect("refused");
    assert!(!errors.is_empty());
    assert_eq!(r.json()["name"], "PasswordPolicyError");
    assert_eq!(r.header("content-type"), Some("application/json"));

    // Then typing a good one, character by character: each value that passes the local rules
    // is sent; the last one must be accepted.
    let password = "DtUYwi&l5I1KX4@Le";
    let mut last = Some(Vec::new());
    for end in 1..=password.len() {
        let typed = &password[..end];
        if !passes_unleash_locally(typed) {
            continue;
        }
        let r = page_post(
            &s,
            "/auth/reset/validate-password",
            json!({"password": typed}),
            PLAIN_JSON,
        )
        .await;
        last = checker_reads(&r);
    }
    assert_eq!(last, None, "\"Set new password\" is enabled");
    assert_eq!(
        s.messages().await.len(),
        sent,
        "validate-password sends nothing"
    );

    // useAuthResetPasswordApi: 200 navigates to the success page.
    let r = page_post(
        &s,
        "/auth/reset/password",
        json!({"token": token, "password": password}),
        USE_API,
    )
    .await;
    assert_empty(&r, 200);
    assert!(password_is(&s, &id, password).await);

    // The same link again: the invalid-token page.
    let r = s.get(&format!("/auth/reset/validate?token={token}")).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["name"], "InvalidTokenError");
    // And a reset with it: `useApi` throws on 401; were it a 400, the page would show
    // `details[0].message`, which every error has.
    let r = page_post(
        &s,
        "/auth/reset/password",
        json!({"token": token, "password": password}),
        USE_API,
    )
    .await;
    assert_eq!(r.status, 401);
    assert!(r.json()["details"][0]["message"].is_string());
}

/// `validate-password` answers the same whoever asks and whatever accounts exist: it reads no
/// account and counts no limit (the page sends it on every change).
pub async fn unleash_validate_password(db: TestDb, spawn: Spawn) {
    let s = TestServer::start(db, spawn).await;
    s.user("alice", &["alice@example.com"]).await;
    let path = "/auth/reset/validate-password";
    for _ in 0..30 {
        assert_empty(&s.post(path, json!({"password": STRONG})).await, 200);
    }
    // Not the account's own rules: no account is known here ("alice" is refused for being short
    // and guessable, not for being a username).
    let r = s.post(path, json!({"password": "alice"})).await;
    assert_eq!(r.status, 400);
    let body = r.json();
    let codes: Vec<&str> = body["details"][0]["violations"]
        .as_array()
        .expect("violations")
        .iter()
        .filter_map(|v| v["code"].as_str())
        .collect();
    assert_eq!(codes, ["too_short", "too_guessable"]);
    assert_eq!(
        body["details"][0]["validationErrors"],
        json!([
            "Use at least 8 characters.",
            "This password is too easy to guess; a few unrelated words make a strong one."
        ])
    );
    assert_eq!(body["message"], body["details"][0]["message"]);
    assert_eq!(body["id"], "1f2a3b4c-5d6e-4f7a-9b8c-0d1e2f3a4b72");
    // A password the full check refuses for the account's sake passes here; the reset then
    // refuses it, and the token stays usable.
    let about_alice = "aliceQ7#vZ9p";
    assert_empty(&s.post(path, json!({"password": about_alice})).await, 200);
    assert_empty(
        &s.post(
            "/auth/reset/password-email",
            json!({"email": "alice@example.com"}),
        )
        .await,
        200,
    );
    let token = s.last_token("alice@example.com").await;
    let r = s
        .post(
            "/auth/reset/password",
            json!({"token": token, "password": about_alice}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(
        r.json()["details"][0]["violations"][0]["code"],
        "contains_username"
    );
    assert_eq!(
        s.get(&format!("/auth/reset/validate?token={token}"))
            .await
            .status,
        200
    );
    let missing = s.post(path, json!({})).await;
    assert_eq!(missing.status, 400);
    assert_eq!(missing.json()["name"], "BadDataError");
    assert_eq!(
        missing.json()["details"][0]["message"],
        missing.json()["message"]
    );
    assert_json(
        &s.send("POST", path, Some("application/xml"), b"<a/>".to_vec(), &[])
            .await,
        415,
        json!({"id": "9c40958a-daac-400e-98fb-3bb438567008", "name": "ContentTypeerror", "message": XML_415, "details": [{"message": XML_415}]}),
    );
    let get = s.get(path).await;
    assert_eq!(get.status, 405);
    assert_eq!(get.header("allow"), Some("POST"));
    assert_eq!(get.json()["name"], "MethodNotAllowedError");
}

/// Unleash's backend test `src/test/e2e/api/auth/reset-password-controller.e2e.test.ts`, ported.
/// Its tokens come from `resetTokenService.createResetPasswordUrl`; ours from `password-email`.
/// Not ported: the two session tests ("Calling validate/reset endpoint with already existing
/// session should destroy session"), which need Unleash's demo login and admin project API (this
/// service has no sessions). "changing password should expire all active tokens" uses Unleash's
/// admin `user-admin/{id}/change-password`; it is ported with v1's admin equivalent.
pub async fn unleash_backend_e2e(db: TestDb, spawn: Spawn) {
    let s = TestServer::start(db, spawn).await;
    let id = s.user("test", &["test@test.com"]).await;
    let password = "DtUYwi&l5I1KX4@Le";
    let link = async || {
        assert_empty(
            &s.post(
                "/auth/reset/password-email",
                json!({"email": "test@test.com"}),
            )
            .await,
            200,
        );
        s.last_token("test@test.com").await
    };
    let validate = async |token: &str| {
        let r = s.get(&format!("/auth/reset/validate?token={token}")).await;
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        assert!(
            r.header("content-type")
                .is_some_and(|ct| ct.contains("json"))
        );
        r.json()
    };

    // Can validate token for password reset
    let token = link().await;
    assert_eq!(validate(&token).await["email"], "test@test.com");

    // Can use token to reset password
    assert!(!password_is(&s, &id, password).await);
    let token = validate(&link().await).await["token"].clone();
    assert_empty(
        &s.post(
            "/auth/reset/password",
            json!({"token": token, "password": password}),
        )
        .await,
        200,
    );
    assert!(password_is(&s, &id, password).await);

    // Trying to reset password with same token twice does not work
    let token = validate(&link().await).await["token"].clone();
    assert_empty(
        &s.post(
            "/auth/reset/password",
            json!({"token": token, "password": format!("{password}test")}),
        )
        .await,
        200,
    );
    let r = s
        .post(
            "/auth/reset/password",
            json!({"token": token, "password": format!("{password}othertest")}),
        )
        .await;
    assert_eq!(r.status, 401);
    assert!(
        r.json()["details"][0]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );

    // Invalid token should yield 401
    assert_eq!(s.get("/auth/reset/validate?token=abc123").await.status, 401);

    // Trying to change password with an invalid token should yield 401
    let r = s
        .post(
            "/auth/reset/password",
            json!({"token": "abc123", "password": password}),
        )
        .await;
    assert_eq!(r.status, 401);

    // Trying to change password to undefined should yield 400 without crashing the server
    // (`JSON.stringify` drops an undefined property).
    let token = validate(&link().await).await["token"].clone();
    let r = s
        .post("/auth/reset/password", json!({"token": token}))
        .await;
    assert_eq!(r.status, 400);
    assert!(s.get("/healthz").await.status == 200);

    // changing password should expire all active tokens
    let token = validate(&link().await).await["token"].clone();
    let admin = s.admin_token(&["password:write"]).await;
    let r = s
        .post_as(
            &admin,
            &format!("/v1/users/{id}/password"),
            json!({"new_password": {"password": "simple123-_ASsad"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let r = s
        .post(
            "/auth/reset/password",
            json!({"token": token, "password": password}),
        )
        .await;
    assert_eq!(r.status, 401);
}

/// The page checks on every keystroke, and each check runs zxcvbn on the hashing threads: a
/// client IP gets 20 checks per attempt it may make, then 429 in Unleash's shape.
pub async fn unleash_validate_password_is_limited(db: TestDb, spawn: Spawn) {
    let mut config = crate::server::test_config();
    config.rate_limits.attempt_per_ip.max = 2;
    let s = TestServer::start_with(db, spawn, config, reset_api::ApiOptions::default()).await;
    let path = "/auth/reset/validate-password";
    for _ in 0..40 {
        assert_empty(&s.post(path, json!({"password": STRONG})).await, 200);
    }
    let r = s.post(path, json!({"password": STRONG})).await;
    assert_eq!(r.status, 429, "{:?}", r.json());
    assert_eq!(r.json()["name"], "TooManyRequestsError");
    assert!(r.header("retry-after").is_some());
}
