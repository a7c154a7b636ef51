//! The administration scenarios: v1's admin routes and the Zitadel dialect's admin side, admin
//! token scopes, 401/403/404 in each shape, `url_template`'s allow-list, bad path parameters.

use reset_core::password::verify_password;
use serde_json::json;

use crate::db::TestDb;
use crate::server::{Spawn, TestServer};

const STRONG: &str = "violet tractor melts quietly";
const STRONG2: &str = "copper lantern drifts eastward";
const RESET: &str = "password:reset";
const WRITE: &str = "password:write";

/// Whether the stored hash of `user_id` verifies `password`.
pub(crate) async fn password_is(s: &TestServer, user_id: &str, password: &str) -> bool {
    let user = s
        .api
        .service()
        .directory()
        .by_id(user_id)
        .await
        .expect("store")
        .expect("user");
    verify_password(password, user.password_hash.as_deref().expect("hash"))
}

fn v1_reset(id: &str) -> String {
    format!("/v1/users/{id}/password-reset")
}

fn v1_password(id: &str) -> String {
    format!("/v1/users/{id}/password")
}

pub(crate) fn z_reset(id: &str) -> String {
    format!("/v2/users/{id}/password_reset")
}

pub(crate) fn z_password(id: &str) -> String {
    format!("/v2/users/{id}/password")
}

fn assert_problem(r: &crate::server::Reply, status: u16, code: &str) {
    assert_eq!(r.status, status, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    assert_eq!(r.code(), code);
}

pub(crate) fn assert_grpc(r: &crate::server::Reply, status: u16, code: i64, reason: &str) {
    assert_eq!(r.status, status, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.header("content-type"), Some("application/json"));
    let body = r.json();
    assert_eq!(body["code"], code, "{body}");
    assert!(body["message"].is_string());
    assert_eq!(
        body["details"][0]["@type"],
        "type.googleapis.com/google.rpc.ErrorInfo"
    );
    assert_eq!(body["details"][0]["reason"], reason, "{body}");
}

/// 401 without or with a wrong credential, 403 without the scope, 404 for an unknown user: in
/// v1's problem shape and in Zitadel's.
pub async fn admin_auth_in_each_shape(db: TestDb, spawn: Spawn) {
    let s = TestServer::start(db, spawn).await;
    let id = s.user("alice", &["alice@example.com"]).await;
    let write_only = s.admin_token(&[WRITE]).await;
    let reset = s.admin_token(&[RESET]).await;
    let both = s.admin_token(&[RESET, WRITE]).await;
    let body = json!({"return_code": {}});
    let r = s.post(&v1_reset(&id), body.clone()).await;
    assert_problem(&r, 401, "credential_required");
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    for wrong in ["Bearer rst_not-a-token", "Basic YTpi", "Bearer", "rst_x"] {
        assert_problem(
            &s.post_as(wrong, &v1_reset(&id), body.clone()).await,
            401,
            "authentication_failed",
        );
    }
    assert_problem(
        &s.post_as(&write_only, &v1_reset(&id), body.clone()).await,
        403,
        "forbidden",
    );
    // A returned code sets any password: it needs password:write too.
    assert_problem(
        &s.post_as(&reset, &v1_reset(&id), body.clone()).await,
        403,
        "forbidden",
    );
    assert_problem(
        &s.post_as(&both, &v1_reset("no-such-user"), body.clone())
            .await,
        404,
        "user_not_found",
    );
    let no_code = json!({"new_password": {"password": STRONG}});
    assert_problem(
        &s.post_as(&reset, &v1_password(&id), no_code.clone()).await,
        403,
        "forbidden",
    );
    assert_problem(
        &s.post_as(&reset, &v1_reset(&id), json!({})).await,
        400,
        "invalid_request",
    );

    let z = json!({"returnCode": {}});
    assert_grpc(
        &s.post(&z_reset(&id), z.clone()).await,
        401,
        16,
        "CREDENTIAL_REQUIRED",
    );
    assert_grpc(
        &s.post_as("Bearer rst_nope", &z_reset(&id), z.clone()).await,
        401,
        16,
        "AUTHENTICATION_FAILED",
    );
    assert_grpc(
        &s.post_as(&write_only, &z_reset(&id), z.clone()).await,
        403,
        7,
        "PERMISSION_DENIED",
    );
    assert_grpc(
        &s.post_as(&reset, &z_reset(&id), z.clone()).await,
        403,
        7,
        "PERMISSION_DENIED",
    );
    assert_grpc(
        &s.post_as(&both, &z_reset("no-such-user"), z).await,
        404,
        5,
        "USER_NOT_FOUND",
    );
    let z_no_code = json!({"newPassword": {"password": STRONG, "changeRequired": false}});
    assert_grpc(
        &s.post_as(&reset, &z_password(&id), z_no_code).await,
        403,
        7,
        "PERMISSION_DENIED",
    );

    // A revoked token no longer works.
    let (token, secret) = s
        .api
        .service()
        .create_admin_token(None, vec![RESET.into()])
        .await
        .expect("token");
    assert!(
        s.api
            .service()
            .revoke_admin_token(&token.id)
            .await
            .expect("revoke")
    );
    assert_problem(
        &s.post_as(&format!("Bearer {secret}"), &v1_reset(&id), body)
            .await,
        401,
        "authentication_failed",
    );
}

/// v1: `return_code` gives a code that sets the password once; `details` counts changes.
pub async fn admin_return_code_sets_the_password(db: TestDb, spawn: Spawn) {
    let s = TestServer::start(db, spawn).await;
    let id = s.user("alice", &["alice@example.com"]).await;
    let auth = s.admin_token(&[RESET, WRITE]).await;
    let r = s
        .post_as(&auth, &v1_reset(&id), json!({"return_code": {}}))
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let body = r.json();
    let code = body["verification_code"].as_str().expect("code").to_owned();
    let details = &body["details"];
    assert_eq!(
        details["sequence"], "2",
        "created, then a code issued: {body}"
    );
    assert_eq!(details["resource_owner"], "default");
    for date in ["change_date", "creation_date"] {
        assert!(
            chrono::DateTime::parse_from_rfc3339(details[date].as_str().expect("date")).is_ok()
        );
    }
    assert!(s.messages().await.is_empty(), "return_code sends nothing");

    let weak = json!({"new_password": {"password": "alice"}, "verification_code": code});
    assert_problem(
        &s.post_as(&auth, &v1_password(&id), weak).await,
        422,
        "weak_password",
    );
    let set = json!({"new_password": {"password": STRONG, "change_required": true}, "verification_code": code});
    let r = s.post_as(&auth, &v1_password(&id), set.clone()).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["details"]["sequence"], "3");
    assert!(password_is(&s, &id, STRONG).await);
    assert_problem(
        &s.post_as(&auth, &v1_password(&id), set).await,
        400,
        "code_incorrect",
    );

    // password:write sets it without a code.
    let write = s.admin_token(&[WRITE]).await;
    let r = s
        .post_as(
            &write,
            &v1_password(&id),
            json!({"new_password": {"password": STRONG2}}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(password_is(&s, &id, STRONG2).await);
}

/// `url_template`: every placeholder rendered and encoded; other origins and schemes refused.
pub async fn admin_url_template_allow_list(db: TestDb, spawn: Spawn) {
    let s = TestServer::start(db, spawn).await;
    let id = s.user("a.b+c", &["ab@example.com"]).await;
    let auth = s.admin_token(&[RESET]).await;
    let template =
        "https://app.example.com/reset?u={{.UserID}}&c={{.Code}}&o={{.OrgID}}&l={{.LoginName}}";
    let r = s
        .post_as(
            &auth,
            &v1_reset(&id),
            json!({"send_link": {"url_template": template}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert!(r.json().get("verification_code").is_none());
    let m = s.last_message_to("ab@example.com").await;
    let link = m.payload.link.expect("link");
    let code = link
        .split("&c=")
        .nth(1)
        .and_then(|t| t.split('&').next())
        .expect("code")
        .to_owned();
    assert_eq!(
        link,
        format!("https://app.example.com/reset?u={id}&c={code}&o=default&l=a.b%2Bc")
    );
    // The code in the link works with the Zitadel route.
    let set = json!({"newPassword": {"password": STRONG}, "verificationCode": code});
    assert_eq!(s.post_as(&auth, &z_password(&id), set).await.status, 200);

    for bad in [
        "https://evil.example/reset?c={{.Code}}",
        "javascript:alert({{.Code}})",
        "http://app.example.com/reset?c={{.Code}}",
        "https://app.example.com.evil.example/?c={{.Code}}",
        "https://app.example.com/?c={{.Secret}}",
        "//app.example.com/?c={{.Code}}",
    ] {
        let r = s
            .post_as(
                &auth,
                &v1_reset(&id),
                json!({"send_link": {"url_template": bad}}),
            )
            .await;
        assert_problem(&r, 400, "invalid_url_template");
        let z = s
            .post_as(
                &auth,
                &z_reset(&id),
                json!({"sendLink": {"urlTemplate": bad}}),
            )
            .await;
        assert_grpc(&z, 400, 3, "INVALID_URL_TEMPLATE");
    }
    // The public URL's origin is always allowed; loopback may be http only when listed.
    let own = json!({"send_link": {"url_template": "https://reset.example/reset-password?code={{.Code}}"}});
    assert_eq!(s.post_as(&auth, &v1_reset(&id), own).await.status, 200);
}

/// A path parameter that is not UTF-8 is a 400 in the route's shape, never a 500.
pub async fn bad_path_parameters(db: TestDb, spawn: Spawn) {
    let s = TestServer::start(db, spawn).await;
    let auth = s.admin_token(&[RESET, WRITE]).await;
    let r = s
        .post_as(
            &auth,
            "/v1/users/%FF%FE/password-reset",
            json!({"return_code": {}}),
        )
        .await;
    assert_problem(&r, 400, "invalid_request");
    let r = s
        .post_as(
            &auth,
            "/v2/users/%FF/password_reset",
            json!({"returnCode": {}}),
        )
        .await;
    assert_grpc(&r, 400, 3, "INVALID_REQUEST");
    let r = s
        .post_as(
            &auth,
            "/v1/users/a%2Fb/password-reset",
            json!({"return_code": {}}),
        )
        .await;
    assert_problem(&r, 404, "user_not_found");
    assert_eq!(
        s.post_as(&auth, "/v1/users//password-reset", json!({}))
            .await
            .status,
        404
    );
    // Unknown paths under a dialect's prefix answer in that dialect's shape.
    let r = s
        .post_as(&auth, "/v2/users//password_reset", json!({}))
        .await;
    assert_grpc(&r, 404, 5, "NOT_FOUND");
    let r = s.post("/api/nope", json!({})).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["error"]["code"], "NO_SUCH_ENDPOINT");
    let r = s.post("/api/auth/forgotPassword/nope", json!({})).await;
    assert_eq!(
        r.json(),
        json!({"msg": "Not found", "error_code": "not_found"})
    );
    assert_eq!(
        s.get("/auth/reset/nope").await.json()["name"],
        "NotFoundError"
    );
}

/// Failed credentials count against the client's per-IP attempt limit: past it, 429 with
/// `Retry-After`; a valid token still works.
pub async fn admin_failed_credentials_are_limited(db: TestDb, spawn: Spawn) {
    let mut config = crate::server::test_config();
    config.rate_limits.attempt_per_ip.max = 3;
    let s = TestServer::start_with(db, spawn, config, Default::default()).await;
    let id = s.user("alice", &["alice@example.com"]).await;
    let good = s.admin_token(&[RESET, WRITE]).await;
    let body = json!({"return_code": {}});
    for _ in 0..3 {
        assert_problem(
            &s.post_as("Bearer rst_guess", &v1_reset(&id), body.clone())
                .await,
            401,
            "authentication_failed",
        );
    }
    let r = s
        .post_as("Bearer rst_guess", &v1_reset(&id), body.clone())
        .await;
    assert_problem(&r, 429, "rate_limited");
    assert!(r.header("retry-after").is_some());
    let z = s
        .post_as("Bearer rst_guess", &z_reset(&id), json!({"returnCode": {}}))
        .await;
    assert_grpc(&z, 429, 8, "RATE_LIMITED");
    assert_eq!(
        s.post_as(&good, &v1_reset(&id), body).await.status,
        200,
        "a valid token still works"
    );
}

/// `password:reset` alone cannot buy guesses by issuing codes again and again: an
/// administrator's codes fall under the account's daily guess budget (30 wrong tries; once it
/// is spent no code is issued, 429 `attempts_exhausted`, while a link still is), and every
/// issue counts against the administrators' cap per account (10 an hour; then 429).
pub async fn admin_codes_fall_under_the_guess_budget(db: TestDb, spawn: Spawn) {
    let s = TestServer::start(db, spawn).await;
    let id = s.user("alice", &["alice@example.com"]).await;
    let auth = s.admin_token(&[RESET, WRITE]).await;
    let (budget, per_code) = {
        let config = s.api.service().config();
        (config.guess_budget.max, config.code_max_attempts)
    };
    let mut issues = 0;
    let mut wrong = 0;
    loop {
        let r = s
            .post_as(&auth, &v1_reset(&id), json!({"return_code": {}}))
            .await;
        issues += 1;
        if r.status == 429 {
            assert_problem(&r, 429, "attempts_exhausted");
            assert!(r.header("retry-after").is_some());
            break;
        }
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        assert!(issues < 10, "codes issued on and on");
        let code = r.json()["verification_code"]
            .as_str()
            .expect("code")
            .to_owned();
        let guess = if code.chars().all(|c| c == '0') {
            code.replace('0', "1")
        } else {
            "0".repeat(code.len())
        };
        let attempt = json!({"new_password": {"password": STRONG}, "verification_code": guess});
        loop {
            let r = s.post_as(&auth, &v1_password(&id), attempt.clone()).await;
            if r.status != 400 {
                assert_eq!(r.status, 429, "{}", String::from_utf8_lossy(&r.body));
                break;
            }
            wrong += 1;
        }
    }
    assert!(
        wrong <= budget + per_code,
        "{wrong} wrong guesses against a budget of {budget}"
    );
    assert!(!password_is(&s, &id, STRONG).await);
    // A link is still issued; and past the administrators' cap, nothing is.
    let link = json!({"send_link": {}});
    loop {
        let r = s.post_as(&auth, &v1_reset(&id), link.clone()).await;
        issues += 1;
        if r.status == 429 {
            assert_problem(&r, 429, "rate_limited");
            break;
        }
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        assert!(issues <= 10, "past the cap: {issues}");
    }
    assert_eq!(issues, 11, "ten issues an hour, the eleventh refused");
}
