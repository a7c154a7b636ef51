//! The scenarios: every route of v1, every error path, the concurrency promises. Each takes a
//! fresh database and the adapter's spawn function.

use chrono::Duration;
use futures::future::join_all;
use serde_json::json;

use crate::admin::password_is;
pub use crate::admin::*;
pub use crate::breach::*;
pub use crate::connections::*;
use crate::db::TestDb;
pub use crate::dialects::*;
pub use crate::lockout::*;
pub use crate::pages::*;
pub use crate::security::*;
pub use crate::users::*;
use crate::server::{Spawn, TestServer, test_config};

const REQUEST: &str = "/v1/password-reset/request";
const VERIFY: &str = "/v1/password-reset/verify";
const COMPLETE: &str = "/v1/password-reset/complete";
const CANCEL: &str = "/v1/password-reset/cancel";
const STRONG: &str = "violet tractor melts quietly";
const STRONG2: &str = "copper lantern drifts eastward";

fn assert_problem(r: &crate::server::Reply, status: u16, code: &str) {
    assert_eq!(r.status, status, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    assert_eq!(r.code(), code);
    let body = r.json();
    assert_eq!(body["type"], "about:blank");
    assert_eq!(body["status"], status);
    assert!(
        body["id"]
            .as_str()
            .is_some_and(|id| uuid::Uuid::parse_str(id).is_ok())
    );
    assert!(body["title"].is_string() && body["detail"].is_string());
}

/// A link request, verified twice and completed once: the password changes, the token is then
/// invalid, and the messages and audit record it.
pub async fn link_flow(db: TestDb, spawn: Spawn) {
    let s = TestServer::start(db, spawn).await;
    let id = s.user("alice", &["alice@example.com"]).await;
    let r = s.post(REQUEST, json!({"email": "Alice@Example.com"})).await;
    assert_eq!(r.status, 202);
    assert!(r.body.is_empty());
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let m = s.last_message_to("alice@example.com").await;
    assert_eq!(m.payload.username.as_deref(), Some("alice"));
    let link = m.payload.link.clone().expect("link");
    assert!(
        link.starts_with("https://reset.example/reset-password?token="),
        "{link}"
    );
    assert!(
        m.payload
            .cancel_link
            .as_deref()
            .is_some_and(|l| l.starts_with("https://reset.example/reset-password/cancel?token="))
    );
    let token = s.last_token("alice@example.com").await;
    assert_eq!(token.len(), 43);

    for _ in 0..2 {
        let r = s.post(VERIFY, json!({"token": token})).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-type"), Some("application/json"));
        let body = r.json();
        assert_eq!(body["valid"], true);
        assert_eq!(body["delivery"], "link");
        assert!(
            chrono::DateTime::parse_from_rfc3339(body["expires_at"].as_str().expect("expires_at"))
                .is_ok()
        );
    }
    let r = s
        .post(COMPLETE, json!({"token": token, "new_password": STRONG}))
        .await;
    assert_eq!(r.status, 204, "{}", String::from_utf8_lossy(&r.body));
    assert!(r.body.is_empty());
    assert!(password_is(&s, &id, STRONG).await);

    assert_problem(
        &s.post(COMPLETE, json!({"token": token, "new_password": STRONG2}))
            .await,
        400,
        "invalid_token",
    );
    assert_problem(
        &s.post(VERIFY, json!({"token": token})).await,
        400,
        "invalid_token",
    );
    assert!(password_is(&s, &id, STRONG).await);

    let kinds: Vec<_> = s.messages().await.iter().map(|m| m.kind.as_str()).collect();
    assert_eq!(kinds, ["reset_link", "password_changed"]);
    let audit = s.store.audit_kinds(&id).await.expect("audit");
    assert!(
        audit.contains(&"reset_requested".to_owned())
            && audit.contains(&"password_reset_completed".to_owned()),
        "{audit:?}"
    );
    let user = s
        .api
        .service()
        .directory()
        .by_id(&id)
        .await
        .expect("store")
        .expect("user");
    assert_eq!(user.sequence, 2);
    assert!(user.password_changed_at.is_some());
}

/// A code request in the asked locale: verified, a wrong try counted, completed through the
/// account's second address, and the code spent afterwards.
pub async fn code_flow(db: TestDb, spawn: Spawn) {
    let s = TestServer::start(db, spawn).await;
    let id = s
        .user("bob", &["bob@example.com", "bob@work.example"])
        .await;
    assert_eq!(
        s.post(
            REQUEST,
            json!({"username": "Bob", "delivery": "code", "locale": "ja"})
        )
        .await
        .status,
        202
    );
    let m = s.last_message_to("bob@example.com").await;
    assert_eq!(m.locale, "ja");
    assert!(m.payload.link.is_none());
    assert!(m.payload.cancel_link.is_some());
    let code = s.last_code("bob@example.com").await;
    assert!(code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()));

    let r = s
        .post(VERIFY, json!({"username": "bob", "code": code}))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["delivery"], "code");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let r = s
        .post(VERIFY, json!({"username": "bob", "code": wrong}))
        .await;
    assert_problem(&r, 400, "code_incorrect");
    // Every try counts, right or wrong: the right one above and this wrong one.
    assert_eq!(r.json()["attempts_remaining"], 10);
    // The second address of the account works as the identifier too.
    let r = s
        .post(
            COMPLETE,
            json!({"email": "bob@work.example", "code": code, "new_password": STRONG}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", String::from_utf8_lossy(&r.body));
    assert!(password_is(&s, &id, STRONG).await);
    let r = s
        .post(VERIFY, json!({"username": "bob", "code": code}))
        .await;
    assert_problem(&r, 400, "code_incorrect");
}

/// A new request supersedes the previous link, and a code request supersedes the link too.
pub async fn supersede(db: TestDb, spawn: Spawn) {
    let s = TestServer::start(db, spawn).await;
    s.user("carol", &["carol@example.com"]).await;
    s.post(REQUEST, json!({"username": "carol"})).await;
    let first = s.last_token("carol@example.com").await;
    s.post(REQUEST, json!({"username": "carol"})).await;
    let second = s.last_token("carol@example.com").await;
    assert_ne!(first, second);
    assert_problem(
        &s.post(VERIFY, json!({"token": first})).await,
        400,
        "invalid_token",
    );
    assert_eq!(s.post(VERIFY, json!({"token": second})).await.status, 200);
    // A code request supersedes the link too (once its transaction, after the 202, has run).
    s.post(REQUEST, json!({"username": "carol", "delivery": "code"}))
        .await;
    s.api.service().settle().await;
    assert_problem(
        &s.post(VERIFY, json!({"token": second})).await,
        400,
        "invalid_token",
    );
}

/// A link works for 30 minutes and is invalid from then on, for verify and complete alike.
pub async fn link_expiry(db: TestDb, spawn: Spawn) {
    let s = TestServer::start(db, spawn).await;
    s.user("dave", &["dave@example.com"]).await;
    s.post(REQUEST, json!({"email": "dave@example.com"})).await;
    let token = s.last_token("dave@example.com").await;
    s.clock.advance(Duration::minutes(29));
    assert_eq!(s.post(VERIFY, json!({"token": token})).await.status, 200);
    s.clock.advance(Duration::minutes(1));
    assert_problem(
        &s.post(VERIFY, json!({"token": token})).await,
        400,
        "invalid_token",
    );
    assert_problem(
        &s.post(COMPLETE, json!({"token": token, "new_password": STRONG}))
            .await,
        400,
        "invalid_token",
    );
}

/// A code is refused (`code_incorrect`) once its 10 minutes have passed.
pub async fn code_expiry(db: TestDb, spawn: Spawn) {
    let s = TestServer::start(db, spawn).await;
    s.user("erin", &["erin@example.com"]).await;
    s.post(
        REQUEST,
        json!({"email": "erin@example.com", "delivery": "code"}),
    )
    .await;
    let code = s.last_code("erin@example.com").await;
    s.clock.advance(Duration::minutes(10));
    let r = s
        .post(
            COMPLETE,
            json!({"email": "erin@example.com", "code": code, "new_password": STRONG}),
        )
        .await;
    assert_problem(&r, 400, "code_incorrect");
}

/// Twelve wrong tries, on verify and complete alike, count `attempts_remaining` down; then even
/// the right code gets 429 `attempts_exhausted` with `Retry-After`.
pub async fn code_exhaustion(db: TestDb, spawn: Spawn) {
    let s = TestServer::start(db, spawn).await;
    s.user("frank", &["frank@example.com"]).await;
    s.post(
        REQUEST,
        json!({"email": "frank@example.com", "delivery": "code"}),
    )
    .await;
    let code = s.last_code("frank@example.com").await;
    let wrong = if code == "999999" { "888888" } else { "999999" };
    for n in 1..=12u32 {
        // Wrong tries count on verify and complete alike.
        let r = if n % 2 == 0 {
            s.post(VERIFY, json!({"email": "frank@example.com", "code": wrong}))
                .await
        } else {
            s.post(
                COMPLETE,
                json!({"email": "frank@example.com", "code": wrong, "new_password": STRONG}),
            )
            .await
        };
        assert_problem(&r, 400, "code_incorrect");
        assert_eq!(r.json()["attempts_remaining"], 12 - n);
    }
    for attempt in [wrong, code.as_str()] {
        let r = s
            .post(
                VERIFY,
                json!({"email": "frank@example.com", "code": attempt}),
            )
            .await;
        assert_problem(&r, 429, "attempts_exhausted");
        assert!(
            r.header("retry-after")
                .is_some_and(|v| v.parse::<u64>().is_ok_and(|n| n > 0))
        );
    }
    let r = s
        .post(
            COMPLETE,
            json!({"email": "frank@example.com", "code": code, "new_password": STRONG}),
        )
        .await;
    assert_problem(&r, 429, "attempts_exhausted");
}

/// A weak password is refused with 422 and its violations, and the link stays usable for a
/// strong one.
pub async fn weak_password_keeps_secret(db: TestDb, spawn: Spawn) {
    let s = TestServer::start(db, spawn).await;
    let id = s.user("grace", &["grace.hopper@example.com"]).await;
    s.post(REQUEST, json!({"username": "grace"})).await;
    let token = s.last_token("grace.hopper@example.com").await;
    let r = s
        .post(COMPLETE, json!({"token": token, "new_password": "grace"}))
        .await;
    assert_problem(&r, 422, "weak_password");
    let codes: Vec<String> = r.json()["violations"]
        .as_array()
        .expect("violations")
        .iter()
        .map(|v| {
            assert!(v["message"].is_string());
            v["code"].as_str().expect("code").to_owned()
        })
        .collect();
    assert_eq!(codes, ["too_short", "contains_username", "too_guessable"]);
    for (weak, code) in [
        ("password123", "too_guessable"),
        ("Grace.Hopper!!", "contains_email"),
        (&"x".repeat(257) as &str, "too_long"),
    ] {
        let r = s
            .post(COMPLETE, json!({"token": token, "new_password": weak}))
            .await;
        assert_problem(&r, 422, "weak_password");
        assert!(
            r.json()["violations"]
                .as_array()
                .expect("v")
                .iter()
                .any(|v| v["code"] == code),
            "{weak}"
        );
    }
    assert_eq!(s.post(VERIFY, json!({"token": token})).await.status, 200);
    assert_eq!(
        s.post(COMPLETE, json!({"token": token, "new_password": STRONG}))
            .await
            .status,
        204
    );
    assert!(password_is(&s, &id, STRONG).await);
}

/// Wrong media types and oversized, unparseable or invalid bodies get the right problem on every
/// route; a body of exactly 64 KiB is still read.
pub async fn malformed_requests(db: TestDb, spawn: Spawn) {
    let s = TestServer::start(db, spawn).await;
    let body = json!({"email": "a@example.com"}).to_string().into_bytes();
    for route in [REQUEST, VERIFY, COMPLETE, CANCEL] {
        let r = s
            .send("POST", route, Some("text/plain"), body.clone(), &[])
            .await;
        assert_problem(&r, 415, "unsupported_media_type");
        let r = s.send("POST", route, None, body.clone(), &[]).await;
        assert_problem(&r, 415, "unsupported_media_type");
        let big = vec![b' '; 64 * 1024 + 1];
        let r = s
            .send("POST", route, Some("application/json"), big, &[])
            .await;
        assert_problem(&r, 413, "payload_too_large");
        let r = s
            .send(
                "POST",
                route,
                Some("application/json"),
                b"{not json".to_vec(),
                &[],
            )
            .await;
        assert_problem(&r, 400, "invalid_request");
        let r = s
            .send("POST", route, Some("application/json"), b"[]".to_vec(), &[])
            .await;
        assert_problem(&r, 400, "invalid_request");
        let r = s.post(route, json!({"unexpected": 1})).await;
        assert_problem(&r, 400, "invalid_request");
    }
    // A body of exactly 64 KiB is read (and then judged as JSON).
    let mut exact = br#"{"email":"a@example.com"}"#.to_vec();
    exact.resize(64 * 1024, b' ');
    assert_eq!(
        s.send(
            "POST",
            REQUEST,
            Some("application/json; charset=utf-8"),
            exact,
            &[]
        )
        .await
        .status,
        202
    );

    for bad in [
        json!({}),
        json!({"username": ""}),
        json!({"username": "x".repeat(191)}),
        json!({"email": "not-an-address"}),
        json!({"email": format!("{}@example.com", "a".repeat(250))}),
        json!({"email": "a@example.com", "delivery": "pigeon"}),
        json!({"email": "a@example.com", "locale": "en us"}),
        json!({"email": 7}),
    ] {
        assert_problem(&s.post(REQUEST, bad.clone()).await, 400, "invalid_request");
    }
    for bad in [
        json!({}),
        json!({"token": "t", "code": "123456", "email": "a@example.com"}),
        json!({"code": "123456"}),
        json!({"token": "t", "email": "a@example.com"}),
        json!({"email": "a@example.com", "code": "12345"}),
        json!({"email": "a@example.com", "code": "12345a"}),
        json!({"token": "t", "new_password": STRONG}),
    ] {
        assert_problem(&s.post(VERIFY, bad.clone()).await, 400, "invalid_request");
    }
    assert_problem(
        &s.post(COMPLETE, json!({"token": "t"})).await,
        400,
        "invalid_request",
    );
    assert_problem(&s.post(CANCEL, json!({})).await, 400, "invalid_request");
    assert_problem(
        &s.post(VERIFY, json!({"token": "no-such-token"})).await,
        400,
        "invalid_token",
    );
    assert_problem(
        &s.post(VERIFY, json!({"token": ""})).await,
        400,
        "invalid_token",
    );
}

/// Unknown routes get 404, wrong methods 405 with `Allow`, and `HEAD /healthz` answers 200
/// without a body.
pub async fn routing_errors(db: TestDb, spawn: Spawn) {
    let s = TestServer::start(db, spawn).await;
    let r = s.get("/v1/nope").await;
    assert_problem(&r, 404, "not_found");
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let r = s.get(REQUEST).await;
    assert_problem(&r, 405, "method_not_allowed");
    assert_eq!(r.header("allow"), Some("POST"));
    let r = s.send("DELETE", "/healthz", None, Vec::new(), &[]).await;
    assert_problem(&r, 405, "method_not_allowed");
    assert_eq!(r.header("allow"), Some("GET, HEAD"));
    let r = s.send("HEAD", "/healthz", None, Vec::new(), &[]).await;
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty());
}

/// The sixth request for one identifier, known or not, gets 429 with `Retry-After`; other
/// identifiers and the next window are not throttled.
pub async fn rate_limit_per_identifier(db: TestDb, spawn: Spawn) {
    let s = TestServer::start(db, spawn).await;
    s.user("heidi", &["heidi@example.com"]).await;
    for who in ["heidi@example.com", "nobody@example.com"] {
        for _ in 0..5 {
            assert_eq!(s.post(REQUEST, json!({"email": who})).await.status, 202);
        }
        let r = s.post(REQUEST, json!({"email": who.to_uppercase()})).await;
        assert_problem(&r, 429, "rate_limited");
        let wait: u64 = r
            .header("retry-after")
            .expect("retry-after")
            .parse()
            .expect("seconds");
        assert!((1..=900).contains(&wait), "{wait}");
    }
    // Another identifier is not throttled, and the window passes.
    assert_eq!(
        s.post(REQUEST, json!({"username": "heidi"})).await.status,
        202
    );
    s.clock.advance(Duration::minutes(15));
    assert_eq!(
        s.post(REQUEST, json!({"email": "heidi@example.com"}))
            .await
            .status,
        202
    );
}

/// Known and unknown accounts get the same answers, to requests and to wrong codes.
pub async fn anti_enumeration(db: TestDb, spawn: Spawn) {
    let s = TestServer::start(db, spawn).await;
    s.user("ivan", &["ivan@example.com"]).await;
    let pairs = [
        (
            json!({"email": "ivan@example.com"}),
            json!({"email": "ghost@example.com"}),
        ),
        (
            json!({"username": "ivan", "delivery": "code"}),
            json!({"username": "ghost", "delivery": "code"}),
        ),
        (
            json!({"username": "ivan", "channel": "sms"}),
            json!({"username": "ghost", "channel": "sms"}),
        ),
    ];
    for (known, unknown) in pairs {
        let a = s.post(REQUEST, known).await;
        let b = s.post(REQUEST, unknown).await;
        assert_eq!(a.comparable(), b.comparable());
    }
    // Wrong codes: a known account without a code answers as an unknown one.
    let a = s
        .post(VERIFY, json!({"username": "nobody-here", "code": "123456"}))
        .await;
    s.user("judy", &["judy@example.com"]).await;
    let b = s
        .post(VERIFY, json!({"username": "judy", "code": "123456"}))
        .await;
    assert_eq!(a.comparable(), b.comparable());
    assert_eq!(a.json()["attempts_remaining"], 11);
}

/// Requests for an unknown address or for a channel the account lacks queue no message.
pub async fn unknown_account_gets_no_message(db: TestDb, spawn: Spawn) {
    let s = TestServer::start(db, spawn).await;
    s.user("kim", &["kim@example.com"]).await;
    s.post(REQUEST, json!({"email": "ghost@example.com"})).await;
    s.post(REQUEST, json!({"username": "kim", "channel": "sms"}))
        .await;
    assert!(s.messages().await.is_empty());
}

/// A username and an email of different accounts get 202 and send nothing; a matching pair
/// sends one message.
pub async fn mismatched_identifiers_send_nothing(db: TestDb, spawn: Spawn) {
    let s = TestServer::start(db, spawn).await;
    s.user("leo", &["leo@example.com"]).await;
    s.user("mia", &["mia@example.com"]).await;
    assert_eq!(
        s.post(
            REQUEST,
            json!({"username": "leo", "email": "mia@example.com"})
        )
        .await
        .status,
        202
    );
    assert!(s.messages().await.is_empty());
    assert_eq!(
        s.post(
            REQUEST,
            json!({"username": "leo", "email": "leo@example.com"})
        )
        .await
        .status,
        202
    );
    assert_eq!(s.messages().await.len(), 1);
}

/// Cancelling with a link's token kills it and is audited; unknown and repeated tokens get the
/// same 204.
pub async fn cancel_link(db: TestDb, spawn: Spawn) {
    let s = TestServer::start(db, spawn).await;
    let id = s.user("nina", &["nina@example.com"]).await;
    s.post(REQUEST, json!({"email": "nina@example.com"})).await;
    let token = s.last_token("nina@example.com").await;
    let r = s.post(CANCEL, json!({"token": token})).await;
    assert_eq!(r.status, 204);
    assert_problem(
        &s.post(VERIFY, json!({"token": token})).await,
        400,
        "invalid_token",
    );
    // Nothing to learn from the answer: unknown and repeated tokens get the same 204.
    assert_eq!(
        s.post(CANCEL, json!({"token": token})).await.comparable(),
        r.comparable()
    );
    assert_eq!(
        s.post(CANCEL, json!({"token": "garbage"}))
            .await
            .comparable(),
        r.comparable()
    );
    assert!(
        s.store
            .audit_kinds(&id)
            .await
            .expect("audit")
            .contains(&"password_reset_cancelled".to_owned())
    );
}

/// The cancel link of a code message cannot reset a password, but it cancels the code.
pub async fn cancel_code(db: TestDb, spawn: Spawn) {
    let s = TestServer::start(db, spawn).await;
    s.user("omar", &["omar@example.com"]).await;
    s.post(
        REQUEST,
        json!({"email": "omar@example.com", "delivery": "code"}),
    )
    .await;
    let m = s.last_message_to("omar@example.com").await;
    let code = m.payload.code.clone().expect("code");
    let cancel = m.payload.cancel_link.expect("cancel link");
    let cancel_token = cancel.split("token=").nth(1).expect("token");
    // The cancel-only token cannot be used to reset.
    assert_problem(
        &s.post(VERIFY, json!({"token": cancel_token})).await,
        400,
        "invalid_token",
    );
    assert_eq!(
        s.post(CANCEL, json!({"token": cancel_token})).await.status,
        204
    );
    let r = s
        .post(VERIFY, json!({"email": "omar@example.com", "code": code}))
        .await;
    assert_problem(&r, 400, "code_incorrect");
}

/// 100 parallel completes with one token: exactly one wins, its password is set, and one
/// `password_changed` message is sent.
pub async fn concurrent_complete_uses_once(db: TestDb, spawn: Spawn) {
    let s = TestServer::start(db, spawn).await;
    let id = s.user("pat", &["pat@example.com"]).await;
    s.post(REQUEST, json!({"email": "pat@example.com"})).await;
    let token = s.last_token("pat@example.com").await;
    let passwords: Vec<String> = (0..100).map(|i| format!("{STRONG} number {i}")).collect();
    let replies = join_all(
        passwords
            .iter()
            .map(|p| s.post(COMPLETE, json!({"token": token, "new_password": p}))),
    )
    .await;
    let winners: Vec<usize> = replies
        .iter()
        .enumerate()
        .filter(|(_, r)| r.status == 204)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(winners.len(), 1, "exactly one complete succeeds");
    for r in replies.iter().filter(|r| r.status != 204) {
        assert_problem(r, 400, "invalid_token");
    }
    assert!(password_is(&s, &id, &passwords[winners[0]]).await);
    let changed = s
        .messages()
        .await
        .iter()
        .filter(|m| m.kind.as_str() == "password_changed")
        .count();
    assert_eq!(changed, 1);
}

/// 100 parallel wrong codes: exactly twelve are counted and the rest get 429; the code's own
/// tries stay spent through another identifier.
pub async fn concurrent_wrong_codes_count_twelve(db: TestDb, spawn: Spawn) {
    let s = TestServer::start(db, spawn).await;
    s.user("quinn", &["quinn@example.com"]).await;
    s.post(
        REQUEST,
        json!({"email": "quinn@example.com", "delivery": "code"}),
    )
    .await;
    let code = s.last_code("quinn@example.com").await;
    let wrong = if code == "123123" { "321321" } else { "123123" };
    let replies = join_all(
        (0..100).map(|_| s.post(VERIFY, json!({"email": "quinn@example.com", "code": wrong}))),
    )
    .await;
    let counted = replies.iter().filter(|r| r.status == 400).count();
    let refused = replies.iter().filter(|r| r.status == 429).count();
    assert_eq!((counted, refused), (12, 88));
    let mut remaining: Vec<u64> = replies
        .iter()
        .filter(|r| r.status == 400)
        .map(|r| r.json()["attempts_remaining"].as_u64().expect("n"))
        .collect();
    remaining.sort_unstable();
    assert_eq!(remaining, (0..12).collect::<Vec<u64>>());
    for r in replies.iter().filter(|r| r.status == 429) {
        assert_problem(r, 429, "attempts_exhausted");
    }
    // Through another identifier (its own counter is fresh) the right code still fails: the
    // code's own twelve tries are spent, a cap that shows in no answer.
    let r = s
        .post(VERIFY, json!({"username": "quinn", "code": code}))
        .await;
    assert_problem(&r, 400, "code_incorrect");
    assert_eq!(r.json()["attempts_remaining"], 11);
}

/// Once an account's guess budget is spent no new code is sent, links still are, and the budget
/// comes back after a day.
pub async fn guess_budget_stops_new_codes(db: TestDb, spawn: Spawn) {
    let mut config = test_config();
    config.guess_budget.max = 3;
    config.rate_limits.request_per_identifier.max = 100;
    let s = TestServer::start_with(db, spawn, config, Default::default()).await;
    s.user("rita", &["rita@example.com"]).await;
    s.post(
        REQUEST,
        json!({"email": "rita@example.com", "delivery": "code"}),
    )
    .await;
    let code = s.last_code("rita@example.com").await;
    let wrong = if code == "555555" { "666666" } else { "555555" };
    for _ in 0..3 {
        assert_eq!(
            s.post(VERIFY, json!({"email": "rita@example.com", "code": wrong}))
                .await
                .status,
            400
        );
    }
    let before = s.messages().await.len();
    assert_eq!(
        s.post(
            REQUEST,
            json!({"email": "rita@example.com", "delivery": "code"})
        )
        .await
        .status,
        202
    );
    assert_eq!(
        s.messages().await.len(),
        before,
        "no new code once the budget is spent"
    );
    assert_eq!(
        s.post(REQUEST, json!({"email": "rita@example.com"}))
            .await
            .status,
        202
    );
    assert_eq!(
        s.messages().await.len(),
        before + 1,
        "links are still issued"
    );
    s.clock.advance(Duration::hours(24));
    s.post(
        REQUEST,
        json!({"email": "rita@example.com", "delivery": "code"}),
    )
    .await;
    assert_eq!(
        s.messages().await.len(),
        before + 2,
        "the budget comes back after a day"
    );
}

fn ip_limited_config() -> reset_core::ResetConfig {
    let mut config = test_config();
    config.rate_limits.request_per_ip.max = 2;
    config
}

async fn request_from(s: &TestServer, forwarded_for: &str) -> crate::server::Reply {
    s.post_from(REQUEST, json!({"email": "x@example.com"}), forwarded_for)
        .await
}

/// Behind a trusted proxy, `X-Forwarded-For` is the client address the per-IP limit counts.
pub async fn forwarded_for_from_trusted_proxy(db: TestDb, spawn: Spawn) {
    let options = reset_api::ApiOptions {
        trusted_proxies: vec!["127.0.0.0/8".parse().expect("net")],
        ..Default::default()
    };
    let s = TestServer::start_with(db, spawn, ip_limited_config(), options).await;
    for _ in 0..2 {
        assert_eq!(request_from(&s, "198.51.100.1").await.status, 202);
    }
    assert_problem(&request_from(&s, "198.51.100.1").await, 429, "rate_limited");
    assert_eq!(request_from(&s, "198.51.100.2").await.status, 202);
}

/// Without trusted proxies `X-Forwarded-For` is ignored: every request counts against the peer.
pub async fn forwarded_for_ignored_from_others(db: TestDb, spawn: Spawn) {
    // Without trusted proxies the header is ignored: every request counts against the peer.
    let s = TestServer::start_with(db, spawn, ip_limited_config(), Default::default()).await;
    assert_eq!(request_from(&s, "198.51.100.1").await.status, 202);
    assert_eq!(request_from(&s, "198.51.100.2").await.status, 202);
    assert_problem(&request_from(&s, "198.51.100.3").await, 429, "rate_limited");
}

/// `/healthz`, `/readyz` and `/openapi.json` answer with their documented bodies.
pub async fn ops_routes(db: TestDb, spawn: Spawn) {
    let s = TestServer::start(db, spawn).await;
    let r = s.get("/healthz").await;
    assert_eq!((r.status, r.json()), (200, json!({"status": "ok"})));
    let r = s.get("/readyz").await;
    assert_eq!((r.status, r.json()), (200, json!({"status": "ready"})));
    let r = s.get("/openapi.json").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.body, reset_api::openapi::document_json().into_bytes());
    assert_eq!(r.header("cache-control"), Some("no-store"));
}

/// With a password history of 2, the current and the previous password are refused as `reused`.
pub async fn password_history_when_configured(db: TestDb, spawn: Spawn) {
    let mut config = test_config();
    config.policy.history = 2;
    let s = TestServer::start_with(db, spawn, config, Default::default()).await;
    s.user("sam", &["sam@example.com"]).await;
    for (password, expected) in [
        (STRONG, 204),
        (STRONG, 422),
        ("initial password for tests", 422),
        (STRONG2, 204),
    ] {
        s.post(REQUEST, json!({"email": "sam@example.com"})).await;
        let token = s.last_token("sam@example.com").await;
        let r = s
            .post(COMPLETE, json!({"token": token, "new_password": password}))
            .await;
        assert_eq!(
            r.status,
            expected,
            "{password}: {}",
            String::from_utf8_lossy(&r.body)
        );
        if expected == 422 {
            assert_eq!(r.json()["violations"][0]["code"], "reused");
        }
    }
}

/// Each code request restarts the tries, for a known and an unknown account alike (the same
/// answers).
pub async fn code_request_restarts_tries_alike(db: TestDb, spawn: Spawn) {
    let s = TestServer::start(db, spawn).await;
    s.user("tom", &["tom@example.com"]).await;
    let mut answers = Vec::new();
    for who in ["tom", "nobody-at-all"] {
        let mut replies = Vec::new();
        for _ in 0..2 {
            s.post(REQUEST, json!({"username": who, "delivery": "code"}))
                .await;
            s.messages().await;
            let guess = if who == "tom" {
                // Never the real code: take one that differs from it.
                let code = s.last_code("tom@example.com").await;
                if code == "000001" {
                    "000002".to_owned()
                } else {
                    "000001".to_owned()
                }
            } else {
                "000001".to_owned()
            };
            replies.push(
                s.post(VERIFY, json!({"username": who, "code": guess}))
                    .await
                    .comparable(),
            );
        }
        answers.push(replies);
    }
    assert_eq!(
        answers[0], answers[1],
        "a known and an unknown account answer alike"
    );
    let first: serde_json::Value = serde_json::from_slice(&answers[1][1].2).expect("json");
    assert_eq!(
        first["attempts_remaining"], 11,
        "each code request restarts the tries"
    );
}

/// Verify, complete and cancel share the per-IP attempt limit: past it, each gets 429 with
/// `Retry-After`.
pub async fn rate_limit_per_ip_on_attempts(db: TestDb, spawn: Spawn) {
    let mut config = test_config();
    config.rate_limits.attempt_per_ip.max = 3;
    let s = TestServer::start_with(db, spawn, config, Default::default()).await;
    assert_problem(
        &s.post(VERIFY, json!({"token": "x"})).await,
        400,
        "invalid_token",
    );
    assert_problem(
        &s.post(COMPLETE, json!({"token": "x", "new_password": STRONG}))
            .await,
        400,
        "invalid_token",
    );
    assert_eq!(s.post(CANCEL, json!({"token": "x"})).await.status, 204);
    for (route, body) in [
        (VERIFY, json!({"token": "x"})),
        (COMPLETE, json!({"token": "x", "new_password": STRONG})),
        (CANCEL, json!({"token": "x"})),
    ] {
        let r = s.post(route, body).await;
        assert_problem(&r, 429, "rate_limited");
        assert!(
            r.header("retry-after")
                .is_some_and(|v| v.parse::<u64>().is_ok_and(|n| n >= 1))
        );
    }
}

/// 20 parallel requests for one account leave exactly one live link.
pub async fn concurrent_requests_leave_one_live_secret(db: TestDb, spawn: Spawn) {
    let mut config = test_config();
    config.rate_limits.request_per_identifier.max = 100;
    let s = TestServer::start_with(db, spawn, config, Default::default()).await;
    s.user("uma", &["uma@example.com"]).await;
    let replies =
        join_all((0..20).map(|_| s.post(REQUEST, json!({"email": "uma@example.com"})))).await;
    assert!(replies.iter().all(|r| r.status == 202));
    let tokens: Vec<String> = s
        .messages()
        .await
        .iter()
        .filter_map(|m| m.payload.link_token().map(str::to_owned))
        .collect();
    assert!(!tokens.is_empty());
    let mut live = 0;
    for t in &tokens {
        if s.post(VERIFY, json!({"token": t})).await.status == 200 {
            live += 1;
        }
    }
    assert_eq!(
        live,
        1,
        "of {} messages, exactly one secret is live",
        tokens.len()
    );
}

/// Without its tables the server is alive but not ready and a store failure is an opaque 500;
/// once migrated it is ready.
pub async fn not_ready_until_migrated(db: TestDb, spawn: Spawn) {
    let s = TestServer::start_unmigrated(db, spawn).await;
    assert_eq!(s.get("/healthz").await.status, 200);
    assert_problem(&s.get("/readyz").await, 503, "not_ready");
    // A store failure is an opaque 500 with a reference, never the database's own words.
    let r = s.post(VERIFY, json!({"token": "x"})).await;
    assert_problem(&r, 500, "internal_error");
    let detail = r.json()["detail"].as_str().expect("detail").to_owned();
    assert!(
        detail.contains("reference") && !detail.to_lowercase().contains("table"),
        "{detail}"
    );
    s.store.migrate().await.expect("migrate");
    assert_eq!(s.get("/readyz").await.status, 200);
}

/// The adapter serves exactly the document's operations, and serves the committed document.
pub async fn serves_exactly_the_documented_routes(db: TestDb, spawn: Spawn) {
    let s = TestServer::start(db, spawn).await;
    let committed = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../openapi/reset.v1.json"
    ))
    .expect("committed document");
    let served = s.get("/openapi.json").await;
    assert!(
        served.body == committed,
        "GET /openapi.json differs from openapi/reset.v1.json"
    );
    let committed_3_0 = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../openapi/reset.v1.openapi-3.0.json"
    ))
    .expect("committed 3.0 rendition");
    assert!(
        s.get("/openapi-3.0.json").await.body == committed_3_0,
        "GET /openapi-3.0.json differs from openapi/reset.v1.openapi-3.0.json"
    );
    // A problem is application/json (the same body) when Accept asks for that alone; else
    // problem+json. Decided in reset-api's router: the adapter passes `Accept` through.
    let server = &s;
    let verify = |accept: &'static str| {
        let extra: Vec<(&str, &str)> = if accept.is_empty() {
            vec![]
        } else {
            vec![("accept", accept)]
        };
        let body = br#"{"token":"not-a-token"}"#.to_vec();
        async move {
            server
                .send(
                    "POST",
                    "/v1/password-reset/verify",
                    Some("application/json"),
                    body,
                    &extra,
                )
                .await
        }
    };
    let plain = verify("").await;
    assert_problem(&plain, 400, "invalid_token");
    for accept in ["*/*", "application/problem+json, application/json"] {
        assert_eq!(
            verify(accept).await.comparable(),
            plain.comparable(),
            "{accept}"
        );
    }
    let json = verify("application/json").await;
    assert_eq!(json.header("content-type"), Some("application/json"));
    assert_eq!((json.status, &json.body), (plain.status, &plain.body));
    let doc: serde_json::Value = serde_json::from_slice(&committed).expect("json");
    for (path, ops) in doc["paths"].as_object().expect("paths") {
        let documented: Vec<String> = ops
            .as_object()
            .expect("ops")
            .keys()
            .map(|m| m.to_uppercase())
            .collect();
        for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
            let r = s
                .send(method, path, Some("application/json"), b"{}".to_vec(), &[])
                .await;
            if documented.iter().any(|m| m == method) {
                // A 404 of the route itself (an unknown user, an unknown asset) is fine; the
                // router's "no such route" is not.
                let unrouted = r.status == 404
                    && String::from_utf8_lossy(&r.body).contains("There is no such route.");
                assert!(
                    !unrouted && r.status != 405,
                    "{method} {path} is documented but answered {}",
                    r.status
                );
            } else {
                if ops.as_object().into_iter().flatten().any(|(_, op)| {
                    ["self-service", "operations", "administration", "users", "pages"]
                        .iter()
                        .any(|t| op["tags"][0] == *t)
                }) {
                    assert_problem(&r, 405, "method_not_allowed");
                } else {
                    // A dialect's route answers 405 in the dialect's own error shape.
                    assert_eq!(r.status, 405, "{method} {path}");
                    assert_eq!(r.header("content-type"), Some("application/json"));
                }
                let mut allow: Vec<String> = documented.clone();
                if allow.iter().any(|m| m == "GET") {
                    allow.push("HEAD".into());
                }
                assert_eq!(
                    r.header("allow"),
                    Some(allow.join(", ").as_str()),
                    "{method} {path}"
                );
            }
        }
    }
}
