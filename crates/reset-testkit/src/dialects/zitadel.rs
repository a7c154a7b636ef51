//! Zitadel v2 (`docs/compat.md`, section 4) replayed: its curl example, each body alone,
//! an empty body, gRPC content types, and the code setting the password; bodies read as
//! Zitadel's gateway reads them; the Connect methods the 4.x SDKs call, with each of Connect's
//! errors.

use std::sync::Arc;

use async_trait::async_trait;
use reset_core::store::User;
use reset_core::{AccountLookup, StoreError, UserDirectory};
use reset_diesel::DieselStore;
use serde_json::json;

use crate::admin::{assert_grpc, password_is, z_password, z_reset};
use crate::db::TestDb;
use crate::server::{Reply, Spawn, TestServer, test_config};

use super::common::{STRONG, STRONG2};

const RESET: &str = "password:reset";

/// The Zitadel seed: its curl example (both `sendLink` and `returnCode`: refused, exactly one
/// is allowed), each alone, an empty body, gRPC content types, and the code setting the password.
pub async fn zitadel_seed(db: TestDb, spawn: Spawn) {
    let s = TestServer::start(db, spawn).await;
    let id = s.user("alice", &["alice@example.com"]).await;
    // returnCode needs password:write as well (a returned code sets any password).
    let auth = s.admin_token(&[RESET, "password:write"]).await;
    let link = json!({"notificationType": "NOTIFICATION_TYPE_Unspecified", "urlTemplate": "https://example.com/password/changey?userID={{.UserID}}&code={{.Code}}&orgID={{.OrgID}}"});
    let both = json!({"sendLink": link, "returnCode": {}});
    assert_grpc(
        &s.post_as(&auth, &z_reset(&id), both).await,
        400,
        3,
        "INVALID_REQUEST",
    );

    let r = s
        .post_as(&auth, &z_reset(&id), json!({"sendLink": link}))
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let body = r.json();
    assert_eq!(body["details"]["sequence"], "2");
    assert_eq!(body["details"]["resourceOwner"], "default");
    assert!(
        body["details"]["changeDate"].is_string() && body["details"]["creationDate"].is_string()
    );
    assert!(body.get("verificationCode").is_none());
    let sent = s
        .last_message_to("alice@example.com")
        .await
        .payload
        .link
        .expect("link");
    assert!(
        sent.starts_with(&format!(
            "https://example.com/password/changey?userID={id}&code="
        )),
        "{sent}"
    );
    assert!(sent.ends_with("&orgID=default"), "{sent}");

    let empty = s
        .send(
            "POST",
            &z_reset(&id),
            None,
            Vec::new(),
            &[("authorization", auth.as_str())],
        )
        .await;
    assert_eq!(empty.status, 200, "an empty body sends a link by email");
    let our_link = s
        .last_message_to("alice@example.com")
        .await
        .payload
        .link
        .expect("link");
    assert!(our_link.starts_with("https://reset.example/reset-password?token="));

    for grpc in ["application/grpc", "application/grpc-web+proto"] {
        let r = s
            .send(
                "POST",
                &z_reset(&id),
                Some(grpc),
                b"\0\0\0\0\0".to_vec(),
                &[("authorization", auth.as_str())],
            )
            .await;
        assert_grpc(&r, 415, 3, "UNSUPPORTED_MEDIA_TYPE");
    }

    let r = s
        .post_as(&auth, &z_reset(&id), json!({"returnCode": {}}))
        .await;
    let code = r.json()["verificationCode"]
        .as_str()
        .expect("code")
        .to_owned();
    assert_eq!(r.json()["details"]["sequence"], "4");
    let wrong = if code == "000000" { "000001" } else { "000000" };
    let bad = json!({"newPassword": {"password": STRONG, "changeRequired": false}, "verificationCode": wrong});
    assert_grpc(
        &s.post_as(&auth, &z_password(&id), bad).await,
        400,
        3,
        "CODE_INCORRECT",
    );
    let weak = json!({"newPassword": {"password": "alice", "changeRequired": false}, "verificationCode": code});
    assert_grpc(
        &s.post_as(&auth, &z_password(&id), weak).await,
        400,
        3,
        "WEAK_PASSWORD",
    );
    let good = json!({"newPassword": {"password": STRONG, "changeRequired": false}, "verificationCode": code});
    let r = s.post_as(&auth, &z_password(&id), good).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert!(r.json()["details"]["sequence"].is_string());
    assert!(password_is(&s, &id, STRONG).await);

    // currentPassword instead of a code: only with password:write (else it is a guessing oracle).
    let writer = s.admin_token(&[RESET, "password:write"]).await;
    let reset_only = s.admin_token(&[RESET]).await;
    let current = json!({"newPassword": {"password": STRONG2}, "currentPassword": STRONG});
    assert_grpc(
        &s.post_as(&reset_only, &z_password(&id), current.clone())
            .await,
        403,
        7,
        "PERMISSION_DENIED",
    );
    let wrong = json!({"newPassword": {"password": STRONG2}, "currentPassword": "not it"});
    assert_grpc(
        &s.post_as(&writer, &z_password(&id), wrong).await,
        400,
        3,
        "INVALID_REQUEST",
    );
    assert_eq!(
        s.post_as(&writer, &z_password(&id), current).await.status,
        200
    );
    assert!(password_is(&s, &id, STRONG2).await);
}

const CONNECT: &str = "/zitadel.user.v2.UserService";

fn c_reset() -> String {
    format!("{CONNECT}/PasswordReset")
}

fn c_password() -> String {
    format!("{CONNECT}/SetPassword")
}

/// A Connect error: status, `application/json`, `{code, message, details}` with the reason.
fn assert_connect(r: &Reply, status: u16, code: &str, reason: &str) {
    assert_eq!(r.status, status, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.header("content-type"), Some("application/json"));
    let body = r.json();
    assert_eq!(body["code"], code, "{body}");
    assert!(body["message"].is_string(), "{body}");
    assert_eq!(body["details"][0]["type"], "google.rpc.ErrorInfo", "{body}");
    assert!(body["details"][0]["value"].is_string(), "{body}");
    assert_eq!(body["details"][0]["debug"]["reason"], reason, "{body}");
}

/// Bodies as Zitadel's gateway (protojson, `DiscardUnknown`) reads them: unknown fields and a
/// repeated `userId` ignored (the path wins), proto names beside JSON names, enums by number,
/// `null` as unset, no `Content-Type` read as JSON; but both members of a `oneof` (a code and a
/// current password) refused, as protojson refuses them. v1 keeps refusing unknown fields.
pub async fn zitadel_lenient_bodies(db: TestDb, spawn: Spawn) {
    let s = TestServer::start(db, spawn).await;
    let id = s.user("alice", &["alice@example.com"]).await;
    let other = s.user("bob", &["bob@example.com"]).await;
    let auth = s.admin_token(&[RESET, "password:write"]).await;

    let r = s
        .post_as(
            &auth,
            &z_reset(&id),
            json!({"return_code": {"someday": true}, "userId": other, "unknownField": [1, {"a": null}]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let code = r.json()["verificationCode"]
        .as_str()
        .expect("code")
        .to_owned();
    let set = json!({"new_password": {"password": STRONG, "change_required": null}, "verification_code": code, "user_id": other});
    let r = s.post_as(&auth, &z_password(&id), set).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert!(
        password_is(&s, &id, STRONG).await,
        "the path's user, not the body's"
    );
    assert!(!password_is(&s, &other, STRONG).await);

    for (body, link) in [
        (json!({"sendLink": {"notificationType": 1}}), true),
        (
            json!({"send_link": {"notification_type": 0, "url_template": null}}),
            true,
        ),
        (
            json!({"sendLink": {"notificationType": null}, "returnCode": null}),
            true,
        ),
        (json!({"sendLink": null, "returnCode": {}}), false),
    ] {
        let r = s.post_as(&auth, &z_reset(&id), body.clone()).await;
        assert_eq!(
            r.status,
            200,
            "{body}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert_eq!(r.json().get("verificationCode").is_none(), link, "{body}");
    }
    let sent = s.last_message_to("alice@example.com").await;
    assert!(
        sent.payload
            .link
            .expect("link")
            .starts_with("https://reset.example/reset-password?token=")
    );

    // No Content-Type: JSON.
    let r = s
        .send(
            "POST",
            &z_reset(&id),
            None,
            br#"{"returnCode": {}}"#.to_vec(),
            &[("authorization", auth.as_str())],
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let code = r.json()["verificationCode"]
        .as_str()
        .expect("code")
        .to_owned();
    // Both members of the proof's oneof (what the yanked 1.x Python SDK's model demands):
    // 400 INVALID_ARGUMENT, as Zitadel's protojson answers, with the code not used up.
    let both = json!({"newPassword": {"password": STRONG2}, "currentPassword": STRONG, "verificationCode": code});
    let r = s.post_as(&auth, &z_password(&id), both).await;
    assert_grpc(&r, 400, 3, "INVALID_REQUEST");
    assert!(!password_is(&s, &id, STRONG2).await);
    let one = json!({"newPassword": {"password": STRONG2}, "verificationCode": code});
    let r = s.post_as(&auth, &z_password(&id), one).await;
    assert_eq!(
        r.status,
        200,
        "the code was not used up: {}",
        String::from_utf8_lossy(&r.body)
    );
    assert!(password_is(&s, &id, STRONG2).await);

    for refused in [
        json!({"returnCode": {}, "return_code": {}}),
        json!({"sendLink": {"notificationType": 3}}),
        json!({"sendLink": {"notificationType": "EMAIL"}}),
        json!({"returnCode": []}),
        json!({"userId": 7, "returnCode": {}}),
    ] {
        let r = s.post_as(&auth, &z_reset(&id), refused.clone()).await;
        assert_grpc(&r, 400, 3, "INVALID_REQUEST");
    }
    let r = s
        .post_as(
            &auth,
            &z_password(&id),
            json!({"newPassword": {"password": null}}),
        )
        .await;
    assert_grpc(&r, 400, 3, "INVALID_REQUEST");

    let v1 = s
        .post_as(
            &auth,
            &format!("/v1/users/{id}/password-reset"),
            json!({"return_code": {}, "unknownField": 1}),
        )
        .await;
    assert_eq!(v1.status, 400, "v1 still refuses unknown fields");
    assert_eq!(v1.code(), "invalid_request");
}

/// The Connect methods the 4.x SDKs call: the user id in the body, 200 with the response
/// message; a code issued through one door sets the password through the other.
pub async fn zitadel_connect_flow(db: TestDb, spawn: Spawn) {
    let s = TestServer::start(db, spawn).await;
    let id = s.user("alice", &["alice@example.com"]).await;
    let auth = s.admin_token(&[RESET, "password:write"]).await;

    let r = s
        .post_as(&auth, &c_reset(), json!({"userId": id, "returnCode": {}}))
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.header("content-type"), Some("application/json"));
    let body = r.json();
    assert_eq!(body["details"]["resourceOwner"], "default");
    assert!(body["details"]["sequence"].is_string());
    let code = body["verificationCode"].as_str().expect("code").to_owned();
    let r = s
        .post_as(
            &auth,
            &c_password(),
            json!({"userId": id, "newPassword": {"password": STRONG, "changeRequired": false}, "verificationCode": code}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert!(r.json()["details"]["changeDate"].is_string());
    assert!(password_is(&s, &id, STRONG).await);

    // sendLink, with the header other Connect clients send, and proto names.
    let r = s
        .send(
            "POST",
            &c_reset(),
            Some("application/json"),
            json!({"user_id": id, "send_link": {"notification_type": "NOTIFICATION_TYPE_Email"}})
                .to_string()
                .into_bytes(),
            &[
                ("authorization", auth.as_str()),
                ("connect-protocol-version", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert!(r.json().get("verificationCode").is_none());
    let link = s
        .last_message_to("alice@example.com")
        .await
        .payload
        .link
        .expect("link");
    assert!(link.starts_with("https://reset.example/reset-password?token="));

    // A code from the REST door, used through the Connect one.
    let r = s
        .post_as(&auth, &z_reset(&id), json!({"returnCode": {}}))
        .await;
    let code = r.json()["verificationCode"]
        .as_str()
        .expect("code")
        .to_owned();
    let r = s
        .post_as(
            &auth,
            &c_password(),
            json!({"userId": id, "newPassword": {"password": STRONG2}, "verificationCode": code}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert!(password_is(&s, &id, STRONG2).await);
}

/// Each Connect error with its status: `invalid_argument` 400, `unauthenticated` 401,
/// `permission_denied` 403, `not_found` 404, `unimplemented` 404 (unknown method) and 405 (not
/// POST), `resource_exhausted` 413 and 429, 415 for binary protobuf.
pub async fn zitadel_connect_errors(db: TestDb, spawn: Spawn) {
    let s = TestServer::start(db, spawn).await;
    let id = s.user("alice", &["alice@example.com"]).await;
    let auth = s.admin_token(&[RESET, "password:write"]).await;
    let write_only = s.admin_token(&["password:write"]).await;
    let issue = json!({"userId": id, "returnCode": {}});

    for bad in [
        json!({"returnCode": {}}),
        json!({"userId": "", "returnCode": {}}),
        json!({"userId": id, "returnCode": {}, "sendLink": {}}),
    ] {
        assert_connect(
            &s.post_as(&auth, &c_reset(), bad).await,
            400,
            "invalid_argument",
            "INVALID_REQUEST",
        );
    }
    let r = s
        .send(
            "POST",
            &c_reset(),
            Some("application/json"),
            b"{not json".to_vec(),
            &[("authorization", auth.as_str())],
        )
        .await;
    assert_connect(&r, 400, "invalid_argument", "INVALID_REQUEST");
    let code = s.post_as(&auth, &c_reset(), issue.clone()).await.json()["verificationCode"]
        .as_str()
        .expect("code")
        .to_owned();
    let wrong = if code == "000000" { "000001" } else { "000000" };
    let wrong =
        json!({"userId": id, "newPassword": {"password": STRONG}, "verificationCode": wrong});
    assert_connect(
        &s.post_as(&auth, &c_password(), wrong).await,
        400,
        "invalid_argument",
        "CODE_INCORRECT",
    );

    let r = s.post(&c_reset(), issue.clone()).await;
    assert_connect(&r, 401, "unauthenticated", "CREDENTIAL_REQUIRED");
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    assert_connect(
        &s.post_as("Bearer rst_nope", &c_reset(), issue.clone())
            .await,
        401,
        "unauthenticated",
        "AUTHENTICATION_FAILED",
    );
    assert_connect(
        &s.post_as(&write_only, &c_reset(), issue.clone()).await,
        403,
        "permission_denied",
        "PERMISSION_DENIED",
    );
    assert_connect(
        &s.post_as(
            &auth,
            &c_reset(),
            json!({"userId": "no-such-user", "returnCode": {}}),
        )
        .await,
        404,
        "not_found",
        "USER_NOT_FOUND",
    );
    assert_connect(
        &s.post_as(
            &auth,
            &format!("{CONNECT}/GetUserByID"),
            json!({"userId": id}),
        )
        .await,
        404,
        "unimplemented",
        "NOT_FOUND",
    );
    let r = s
        .send(
            "GET",
            &c_reset(),
            None,
            Vec::new(),
            &[("authorization", auth.as_str())],
        )
        .await;
    assert_connect(&r, 405, "unimplemented", "METHOD_NOT_ALLOWED");
    assert_eq!(r.header("allow"), Some("POST"));
    let huge = format!(r#"{{"userId": "{}", "pad": "{}"}}"#, id, "x".repeat(70_000));
    let r = s
        .send(
            "POST",
            &c_reset(),
            Some("application/json"),
            huge.into_bytes(),
            &[("authorization", auth.as_str())],
        )
        .await;
    assert_connect(&r, 413, "resource_exhausted", "PAYLOAD_TOO_LARGE");
    for proto in ["application/proto", "application/grpc"] {
        let r = s
            .send(
                "POST",
                &c_reset(),
                Some(proto),
                vec![0x0a, 0x01, b'x'],
                &[("authorization", auth.as_str())],
            )
            .await;
        assert_connect(&r, 415, "invalid_argument", "UNSUPPORTED_MEDIA_TYPE");
        assert_eq!(r.header("accept-post"), Some("application/json"));
    }
}

/// Failed credentials count against the same per-IP limit through either door: past it, 429
/// `resource_exhausted` with `Retry-After` on Connect as on REST; a valid token still works.
pub async fn zitadel_connect_shares_limits(db: TestDb, spawn: Spawn) {
    let mut config = test_config();
    config.rate_limits.attempt_per_ip.max = 3;
    let s = TestServer::start_with(db, spawn, config, Default::default()).await;
    let id = s.user("alice", &["alice@example.com"]).await;
    let good = s.admin_token(&[RESET, "password:write"]).await;
    let rest = json!({"returnCode": {}});
    let connect = json!({"userId": id, "returnCode": {}});
    for _ in 0..2 {
        let r = s
            .post_as("Bearer rst_guess", &z_reset(&id), rest.clone())
            .await;
        assert_grpc(&r, 401, 16, "AUTHENTICATION_FAILED");
    }
    let r = s
        .post_as("Bearer rst_guess", &c_reset(), connect.clone())
        .await;
    assert_connect(&r, 401, "unauthenticated", "AUTHENTICATION_FAILED");
    let r = s
        .post_as("Bearer rst_guess", &c_reset(), connect.clone())
        .await;
    assert_connect(&r, 429, "resource_exhausted", "RATE_LIMITED");
    assert!(r.header("retry-after").is_some());
    let r = s.post_as("Bearer rst_guess", &z_reset(&id), rest).await;
    assert_grpc(&r, 429, 8, "RATE_LIMITED");
    assert_eq!(
        s.post_as(&good, &c_reset(), connect).await.status,
        200,
        "a valid token still works"
    );
}

/// A directory that cannot look up two ids: one fails (500), one is unreachable (503).
struct FailingDirectory(Arc<DieselStore>);

#[async_trait]
impl UserDirectory for FailingDirectory {
    async fn find(&self, lookup: &AccountLookup) -> Result<Option<User>, StoreError> {
        self.0.find(lookup).await
    }

    async fn by_id(&self, id: &str) -> Result<Option<User>, StoreError> {
        match id {
            "broken" => Err(StoreError::Query("a test failure".into())),
            "offline" => Err(StoreError::Unavailable("a test outage".into())),
            _ => self.0.by_id(id).await,
        }
    }

    async fn set_password(
        &self,
        id: &str,
        change: &reset_core::PasswordChange<'_>,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), StoreError> {
        self.0.set_password(id, change, at).await
    }

    async fn revoke_sessions(&self, id: &str) -> Result<reset_core::SessionsEnded, StoreError> {
        self.0.revoke_sessions(id).await
    }
}

fn failing(store: Arc<DieselStore>) -> Arc<dyn UserDirectory> {
    Arc::new(FailingDirectory(store))
}

/// `internal` 500 (its cause not shown) and `unavailable` 503 with `Retry-After`, in Connect's
/// shape.
pub async fn zitadel_connect_internal_and_unavailable(db: TestDb, spawn: Spawn) {
    let s = TestServer::start_with_directory(db, spawn, failing).await;
    let auth = s.admin_token(&[RESET, "password:write"]).await;
    let r = s
        .post_as(
            &auth,
            &c_reset(),
            json!({"userId": "broken", "returnCode": {}}),
        )
        .await;
    assert_connect(&r, 500, "internal", "INTERNAL");
    assert!(!String::from_utf8_lossy(&r.body).contains("a test failure"));
    let r = s
        .post_as(
            &auth,
            &c_password(),
            json!({"userId": "offline", "newPassword": {"password": STRONG}}),
        )
        .await;
    assert_connect(&r, 503, "unavailable", "UNAVAILABLE");
    assert!(r.header("retry-after").is_some());
}

/// The Connect service follows the Zitadel switch and prefix: off, its paths are v1's 404 like
/// the REST ones; under `/legacy/v2` it moves to `/legacy/zitadel.user.v2.UserService`.
pub async fn zitadel_connect_follows_the_switch(db: TestDb, spawn: Spawn) {
    let mut dialects = reset_api::dialects::Dialects::default();
    dialects.zitadel.enabled = false;
    let options = reset_api::ApiOptions {
        dialects,
        ..Default::default()
    };
    let s = TestServer::start_with(db, spawn, test_config(), options).await;
    let id = s.user("alice", &["alice@example.com"]).await;
    let auth = s.admin_token(&[RESET, "password:write"]).await;
    for path in [c_reset(), c_password(), z_reset(&id)] {
        let r = s.post_as(&auth, &path, json!({"userId": id})).await;
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
        assert_eq!(r.code(), "not_found");
    }
}

/// The Connect service sits beside a moved REST prefix.
pub async fn zitadel_connect_moves_with_the_prefix(db: TestDb, spawn: Spawn) {
    let mut dialects = reset_api::dialects::Dialects::default();
    dialects.zitadel.prefix = "/legacy/v2".into();
    let options = reset_api::ApiOptions {
        dialects,
        ..Default::default()
    };
    let s = TestServer::start_with(db, spawn, test_config(), options).await;
    let id = s.user("alice", &["alice@example.com"]).await;
    let auth = s.admin_token(&[RESET, "password:write"]).await;
    let body = json!({"userId": id, "returnCode": {}});
    let r = s
        .post_as(
            &auth,
            &format!("/legacy{CONNECT}/PasswordReset"),
            body.clone(),
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let r = s.post_as(&auth, &c_reset(), body).await;
    assert_eq!((r.status, r.code()), (404, "not_found".to_owned()));
    assert_connect(
        &s.post_as(&auth, &format!("/legacy{CONNECT}/Nope"), json!({}))
            .await,
        404,
        "unimplemented",
        "NOT_FOUND",
    );
}
