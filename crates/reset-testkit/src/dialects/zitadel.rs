//! Zitadel v2 (`docs/compat.md`, section 4) replayed: its curl example, each body alone,
//! an empty body, gRPC content types, and the code setting the password.

use serde_json::json;

use crate::admin::{assert_grpc, password_is, z_password, z_reset};
use crate::db::TestDb;
use crate::server::{Spawn, TestServer};

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
