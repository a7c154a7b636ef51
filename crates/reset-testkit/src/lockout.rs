//! Strangers cannot lock an owner out (docs/api.md, "Abuse and lockout"): what one client
//! address can spend of an account's send caps and of its guess budget is its own share, and
//! the owner, asking from another address, still gets a message and a working code; the
//! account-wide caps still bound the flood and the guessing.

use serde_json::json;

use crate::db::TestDb;
use crate::server::{Reply, Spawn, TestServer, test_config};

const REQUEST: &str = "/v1/password-reset/request";
const VERIFY: &str = "/v1/password-reset/verify";

/// `body` to `path` as if from `client` (through a trusted proxy); accepted reset requests
/// are written before it returns.
async fn post_from(s: &TestServer, path: &str, body: serde_json::Value, client: &str) -> Reply {
    let r = s.post_from(path, body, client).await;
    s.api.service().settle().await;
    r
}

/// A reset request for `username` as if from `client`.
async fn request_from(s: &TestServer, username: &str, client: &str) -> Reply {
    post_from(s, REQUEST, json!({"username": username}), client).await
}

async fn server_with_default_caps(db: TestDb, spawn: Spawn) -> TestServer {
    let core = reset_core::ResetConfig::default();
    let defaults = core.rate_limits;
    let mut config = test_config();
    config.guess_budget = core.guess_budget;
    config.guess_budget_per_ip = core.guess_budget_per_ip;
    config.rate_limits = reset_core::RateLimits {
        request_per_identifier: reset_core::Limit::new(100, 900),
        request_per_ip: reset_core::Limit::new(100, 900),
        ..defaults
    };
    let options = reset_api::ApiOptions {
        trusted_proxies: vec!["127.0.0.0/8".parse().expect("net")],
        ..Default::default()
    };
    TestServer::start_with(db, spawn, config, options).await
}

/// A stranger's three requests reach their address's share of the 15-minute cap; the owner's
/// own request, from another address, is still sent. Strangers from several addresses still
/// meet the account-wide cap: the account gets at most 6 messages per 15 minutes.
pub async fn strangers_do_not_spend_the_owners_send_cap(db: TestDb, spawn: Spawn) {
    let s = server_with_default_caps(db, spawn).await;
    let defaults = reset_core::ResetConfig::default().rate_limits;
    let (share, whole) = (
        defaults.send_per_account_from_ip.max as usize,
        defaults.send_per_account.max as usize,
    );
    s.user("mia", &["mia@example.com"]).await;
    let sent = async || s.messages().await.len();

    for _ in 0..share + 2 {
        assert_eq!(request_from(&s, "mia", "198.51.100.1").await.status, 202);
    }
    assert_eq!(sent().await, share, "the stranger's share");

    assert_eq!(request_from(&s, "mia", "203.0.113.7").await.status, 202);
    assert_eq!(sent().await, share + 1, "the owner's request is still sent");

    for stranger in ["198.51.100.2", "198.51.100.3", "198.51.100.4"] {
        for _ in 0..share {
            assert_eq!(request_from(&s, "mia", stranger).await.status, 202);
        }
    }
    assert_eq!(sent().await, whole, "the account-wide cap bounds the flood");
    // An unknown name answers the same way throughout.
    assert_eq!(request_from(&s, "nobody", "198.51.100.1").await.status, 202);
}

/// A stranger guessing at the owner's codes from one address spends only that address's share
/// of the daily guess budget (10 of 30): however long they go on, the owner, asking from
/// another address, still gets a code, and it works.
pub async fn strangers_do_not_spend_the_owners_guess_budget(db: TestDb, spawn: Spawn) {
    let s = server_with_default_caps(db, spawn).await;
    let config = s.api.service().config().clone();
    s.user("mia", &["mia@example.com"]).await;
    let (stranger, owner) = ("198.51.100.9", "203.0.113.7");
    let code_request = json!({"username": "mia", "delivery": "code"});
    assert_eq!(
        post_from(&s, REQUEST, code_request.clone(), stranger)
            .await
            .status,
        202
    );
    let first = s.last_code("mia@example.com").await;
    let wrong = if first == "000000" {
        "111111"
    } else {
        "000000"
    };
    let mut tries = 0;
    while tries < config.guess_budget.max + 10 {
        let r = post_from(
            &s,
            VERIFY,
            json!({"username": "mia", "code": wrong}),
            stranger,
        )
        .await;
        match r.status {
            400 => tries += 1,
            // The name's tries are spent: asking again restarts them, as anyone may.
            429 => {
                let again = post_from(&s, REQUEST, code_request.clone(), stranger).await;
                assert_eq!(again.status, 202);
            }
            other => panic!("{other}: {}", String::from_utf8_lossy(&r.body)),
        }
    }
    let before = s.messages().await.len();
    assert_eq!(
        post_from(&s, REQUEST, code_request.clone(), owner)
            .await
            .status,
        202
    );
    assert_eq!(
        s.messages().await.len(),
        before + 1,
        "the owner still gets a code after {tries} wrong tries from a stranger"
    );
    let code = s.last_code("mia@example.com").await;
    let r = post_from(&s, VERIFY, json!({"username": "mia", "code": code}), owner).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
}

/// `attempts_remaining` is the caller's own: a request from another address does not restart
/// it, so a caller who watches it cannot tell that someone else asked; and it moves alike for a
/// known and an unknown name.
pub async fn attempts_remaining_is_the_callers_own(db: TestDb, spawn: Spawn) {
    let s = server_with_default_caps(db, spawn).await;
    s.user("mia", &["mia@example.com"]).await;
    let (watcher, other) = ("198.51.100.9", "203.0.113.7");
    let mut seen = Vec::new();
    for name in ["mia", "nobody"] {
        let code_request = json!({"username": name, "delivery": "code"});
        let mut remaining = Vec::new();
        assert_eq!(
            post_from(&s, REQUEST, code_request.clone(), watcher)
                .await
                .status,
            202
        );
        // Never a code that was sent: all zeros, unless a message carries it.
        let sent: Vec<String> = s
            .messages()
            .await
            .into_iter()
            .filter_map(|m| m.payload.code)
            .collect();
        let guess = if sent.iter().any(|c| c == "000000") {
            "111111"
        } else {
            "000000"
        };
        let wrong = json!({"username": name, "code": guess});
        for asker in [None, Some(other), Some(watcher)] {
            if let Some(asker) = asker {
                assert_eq!(
                    post_from(&s, REQUEST, code_request.clone(), asker)
                        .await
                        .status,
                    202
                );
            }
            let r = post_from(&s, VERIFY, wrong.clone(), watcher).await;
            assert_eq!(r.status, 400, "{}", String::from_utf8_lossy(&r.body));
            remaining.push(r.json()["attempts_remaining"].clone());
        }
        seen.push(remaining);
    }
    assert_eq!(
        seen[0],
        vec![json!(11), json!(10), json!(11)],
        "another address's request leaves the count alone; the caller's own restarts it"
    );
    assert_eq!(seen[0], seen[1], "known and unknown alike");
}
