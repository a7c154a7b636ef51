//! The breached-password check over HTTP, with a real range API on loopback: a breached
//! password is refused with `breached` and the secret stays usable; a fresh one passes; when the
//! API is down, fail-open lets the password through (audited) and fail-closed answers 503 with
//! `Retry-After`, the secret unused.

use std::sync::Arc;
use std::time::Duration;

use reset_breach::{RangeApi, sha1_hex};
use reset_core::breach::BreachPolicy;
use serde_json::json;

use crate::db::TestDb;
use crate::range_server::{RangeMode, RangeServer};
use crate::server::{Spawn, TestServer};

const REQUEST: &str = "/v1/password-reset/request";
const VERIFY: &str = "/v1/password-reset/verify";
const COMPLETE: &str = "/v1/password-reset/complete";
/// Strong by zxcvbn, and in the test's breach list.
const BREACHED: &str = "violet tractor melts quietly";
const FRESH: &str = "quartz heron lantern drifts";

async fn server(db: TestDb, spawn: Spawn, fail_closed: bool) -> (TestServer, RangeServer) {
    let range = RangeServer::start(&[(sha1_hex(BREACHED), 42)]).await;
    let api = RangeApi::new(&range.base, Duration::from_millis(500)).expect("range API");
    let policy = BreachPolicy {
        fail_closed,
        ..BreachPolicy::default()
    };
    let s = TestServer::start_with_breach(db, spawn, Arc::new(api), policy).await;
    (s, range)
}

async fn link_for(s: &TestServer, user: &str) -> String {
    let address = format!("{user}@example.com");
    s.user(user, &[address.as_str()]).await;
    s.post(REQUEST, json!({"username": user})).await;
    s.last_token(&address).await
}

/// A breached password is refused as `breached` with its count, only its hash prefix is sent,
/// and the link stays usable for a fresh password.
pub async fn breached_password_is_refused(db: TestDb, spawn: Spawn) {
    let (s, range) = server(db, spawn, false).await;
    let token = link_for(&s, "ada").await;
    let r = s
        .post(COMPLETE, json!({"token": token, "new_password": BREACHED}))
        .await;
    assert_eq!(r.status, 422, "{}", String::from_utf8_lossy(&r.body));
    let violations = r.json()["violations"].clone();
    assert_eq!(violations[0]["code"], "breached", "{violations}");
    assert!(
        violations[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("42")),
        "{violations}"
    );
    assert_eq!(
        s.post(VERIFY, json!({"token": token})).await.status,
        200,
        "the secret is still usable"
    );
    let sent = range
        .paths
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    assert_eq!(sent, vec![format!("/range/{}", &sha1_hex(BREACHED)[..5])]);

    // Not checked when a cheap rule already refuses the password.
    s.post(COMPLETE, json!({"token": token, "new_password": "short"}))
        .await;
    assert_eq!(
        range.paths.lock().unwrap_or_else(|e| e.into_inner()).len(),
        1
    );

    let r = s
        .post(COMPLETE, json!({"token": token, "new_password": FRESH}))
        .await;
    assert_eq!(r.status, 204, "{}", String::from_utf8_lossy(&r.body));
}

/// With the range API down and fail-open, the password goes through and the outage is audited.
pub async fn breach_check_down_fails_open(db: TestDb, spawn: Spawn) {
    let (s, range) = server(db, spawn, false).await;
    range.set_mode(RangeMode::NotFound);
    let token = link_for(&s, "bea").await;
    let r = s
        .post(COMPLETE, json!({"token": token, "new_password": BREACHED}))
        .await;
    assert_eq!(
        r.status,
        204,
        "fail-open lets it through: {}",
        String::from_utf8_lossy(&r.body)
    );
    let id = s
        .store
        .list_users()
        .await
        .expect("users")
        .into_iter()
        .find(|u| u.username == "bea")
        .expect("bea")
        .id;
    let kinds = s.store.audit_kinds(&id).await.expect("audit");
    assert!(
        kinds.iter().any(|k| k == "breach_check_unavailable"),
        "{kinds:?}"
    );
}

/// With the range API too slow and fail-closed, completing gets 503 with `Retry-After` and the
/// link stays usable.
pub async fn breach_check_down_fails_closed(db: TestDb, spawn: Spawn) {
    let (s, range) = server(db, spawn, true).await;
    range.set_mode(RangeMode::Slow(Duration::from_secs(3)));
    let token = link_for(&s, "cy").await;
    let r = s
        .post(COMPLETE, json!({"token": token, "new_password": FRESH}))
        .await;
    assert_eq!(r.status, 503, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.code(), "service_unavailable");
    assert!(
        r.header("retry-after")
            .is_some_and(|v| v.parse::<u64>().is_ok())
    );
    range.set_mode(RangeMode::Serve);
    assert_eq!(s.post(VERIFY, json!({"token": token})).await.status, 200);
    let r = s
        .post(COMPLETE, json!({"token": token, "new_password": FRESH}))
        .await;
    assert_eq!(r.status, 204, "the secret was not used up by the 503");
}

/// The breached password typed in compatibility forms (fullwidth letters and ideographic
/// space; partly fullwidth): the breach check sees the NFKC form that would be hashed, so it is refused, and
/// the plain breached password does not become the account's password.
pub async fn breach_check_sees_the_normalised_password(db: TestDb, spawn: Spawn) {
    let (s, _range) = server(db, spawn, false).await;
    let token = link_for(&s, "dee").await;
    let fullwidth: String = BREACHED
        .chars()
        .map(|c| match c {
            ' ' => '\u{3000}',
            c => char::from_u32(u32::from(c) - 0x21 + 0xFF01).unwrap_or(c),
        })
        .collect();
    let mixed = BREACHED.replace("violet", "ｖｉｏｌｅｔ");
    for typed in [fullwidth.as_str(), mixed.as_str()] {
        assert_ne!(typed, BREACHED);
        let r = s
            .post(COMPLETE, json!({"token": token, "new_password": typed}))
            .await;
        assert_eq!(
            r.status,
            422,
            "{typed}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert_eq!(r.json()["violations"][0]["code"], "breached", "{typed}");
    }
    assert_eq!(
        s.post(VERIFY, json!({"token": token})).await.status,
        200,
        "the secret is still usable"
    );
}
