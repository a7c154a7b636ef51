//! The security promises, each an attack turned into a scenario: answers that must not tell a
//! known account from an unknown one, caps that keep a person from being flooded, secrets that
//! are hard to abuse, and a store that forgets what it no longer needs.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::Duration;
use futures::StreamExt as _;
use reset_core::store::User;
use reset_core::{AccountLookup, StoreError, UserDirectory};
use reset_diesel::DieselStore;
use serde_json::json;
use unicode_normalization::UnicodeNormalization as _;

use crate::db::TestDb;
use crate::server::{Reply, Spawn, TestServer, test_config};

const REQUEST: &str = "/v1/password-reset/request";
const VERIFY: &str = "/v1/password-reset/verify";
const COMPLETE: &str = "/v1/password-reset/complete";
const CANCEL: &str = "/v1/password-reset/cancel";
const FP: &str = "/api/auth/forgotPassword";
const STRONG: &str = "violet tractor melts quietly";

type Comparable = (u16, Vec<(String, String)>, Vec<u8>);

/// A wrong code for `who`: never the code its newest message carries.
async fn wrong_code(s: &TestServer, address: Option<&str>) -> String {
    let real = match address {
        Some(a) => s
            .messages()
            .await
            .into_iter()
            .rev()
            .find(|m| m.recipient == a)
            .and_then(|m| m.payload.code),
        None => None,
    };
    if real.as_deref() == Some("000001") {
        "000002".to_owned()
    } else {
        "000001".to_owned()
    }
}

/// Request a code, try a wrong one, request a *link*, try a wrong code again: a known and an
/// unknown username answer byte for byte alike, the link request having restarted the tries.
pub async fn tries_restart_with_every_request_alike(db: TestDb, spawn: Spawn) {
    let s = TestServer::start(db, spawn).await;
    s.user("tom", &["tom@example.com"]).await;
    let mut answers: Vec<Vec<Comparable>> = Vec::new();
    for (who, address) in [("tom", Some("tom@example.com")), ("nobody-here", None)] {
        let mut replies = Vec::new();
        for delivery in ["code", "link"] {
            let r = s
                .post(REQUEST, json!({"username": who, "delivery": delivery}))
                .await;
            replies.push(r.comparable());
            let guess = wrong_code(&s, address).await;
            let r = s
                .post(VERIFY, json!({"username": who, "code": guess}))
                .await;
            assert_eq!(r.status, 400, "{}", String::from_utf8_lossy(&r.body));
            assert_eq!(r.json()["attempts_remaining"], 11);
            replies.push(r.comparable());
        }
        answers.push(replies);
    }
    assert_eq!(answers[0], answers[1], "known and unknown answer alike");
}

/// The forgot-password dialect in its hiding mode: rounds of `sendEmail` and thirteen wrong
/// `checkCode`s, past the known account's daily guess budget, answer alike for a known and an
/// unknown username.
pub async fn forgot_password_hidden_tries_alike(db: TestDb, spawn: Spawn) {
    let options = reset_api::ApiOptions {
        dialects: reset_api::dialects::Dialects {
            forgot_password_hide_unknown: true,
            ..Default::default()
        },
        ..Default::default()
    };
    let s = TestServer::start_with(db, spawn, test_config(), options).await;
    s.user("st.huber", &["huber@example.com"]).await;
    let mut answers: Vec<Vec<Comparable>> = Vec::new();
    for (who, address) in [("st.huber", Some("huber@example.com")), ("nobody", None)] {
        let mut replies = Vec::new();
        for _round in 0..4 {
            let r = s
                .post(&format!("{FP}/sendEmail"), json!({"username": who}))
                .await;
            replies.push(r.comparable());
            let guess = wrong_code(&s, address).await;
            for _ in 0..13 {
                let r = s
                    .post(
                        &format!("{FP}/checkCode"),
                        json!({"username": who, "code": guess}),
                    )
                    .await;
                replies.push(r.comparable());
            }
        }
        answers.push(replies);
    }
    for (n, (known, unknown)) in answers[0].iter().zip(&answers[1]).enumerate() {
        assert_eq!(
            known,
            unknown,
            "answer {n}: {} vs {}",
            String::from_utf8_lossy(&known.2),
            String::from_utf8_lossy(&unknown.2)
        );
    }
}

/// A code request refused because the account's guess budget is spent kills the old code: it
/// cannot be kept alive for more guessing.
pub async fn spent_budget_kills_the_old_code(db: TestDb, spawn: Spawn) {
    let mut config = test_config();
    config.guess_budget.max = 3;
    let s = TestServer::start_with(db, spawn, config, Default::default()).await;
    s.user("rita", &["rita@example.com"]).await;
    s.post(
        REQUEST,
        json!({"email": "rita@example.com", "delivery": "code"}),
    )
    .await;
    let code = s.last_code("rita@example.com").await;
    let wrong = wrong_code(&s, Some("rita@example.com")).await;
    for _ in 0..3 {
        let r = s
            .post(VERIFY, json!({"email": "rita@example.com", "code": wrong}))
            .await;
        assert_eq!(r.status, 400);
    }
    let r = s
        .post(
            REQUEST,
            json!({"email": "rita@example.com", "delivery": "code"}),
        )
        .await;
    assert_eq!(r.status, 202);
    s.messages().await;
    let r = s
        .post(VERIFY, json!({"email": "rita@example.com", "code": code}))
        .await;
    assert_eq!(r.status, 400, "the old code died with the refused request");
    assert_eq!(r.code(), "code_incorrect");
}

/// One account with a username and two addresses, asked for through each identifier and
/// through two dialects, gets at most 3 messages per 15 minutes and 10 a day (the defaults);
/// every request is answered as usual, an audit event says why nothing was sent, and an
/// administrator's reset is not held to these caps (it has a cap of its own).
pub async fn send_cap_counts_the_account(db: TestDb, spawn: Spawn) {
    let defaults = reset_core::ResetConfig::default().rate_limits;
    let mut config = test_config();
    config.rate_limits.send_per_account = defaults.send_per_account;
    config.rate_limits.send_per_account_per_day = defaults.send_per_account_per_day;
    config.rate_limits.send_per_account_from_ip = defaults.send_per_account_from_ip;
    config.rate_limits.send_per_account_from_ip_per_day = defaults.send_per_account_from_ip_per_day;
    let s = TestServer::start_with(db, spawn, config, Default::default()).await;
    let id = s
        .user("mia", &["mia@example.com", "mia@work.example"])
        .await;
    let bodies = [
        json!({"username": "mia"}),
        json!({"email": "mia@example.com", "delivery": "code"}),
        json!({"email": "mia@work.example"}),
    ];
    let mut sent_per_window = Vec::new();
    for _window in 0..5 {
        let before = s.messages().await.len();
        for body in &bodies {
            assert_eq!(s.post(REQUEST, body.clone()).await.status, 202);
            // One at a time: a request overtaken by a newer one of the same account sends
            // nothing (the newest wins), which would blur what the cap counts.
            s.api.service().settle().await;
        }
        let r = s
            .post(&format!("{FP}/sendEmail"), json!({"username": "mia"}))
            .await;
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        sent_per_window.push(s.messages().await.len() - before);
        s.clock.advance(Duration::minutes(16));
    }
    assert_eq!(
        sent_per_window,
        vec![3, 3, 3, 1, 0],
        "3 per 15 minutes, 10 a day"
    );
    let kinds = s.store.audit_kinds(&id).await.expect("audit");
    assert!(kinds.iter().any(|k| k == "reset_not_sent_account_cap"));

    let auth = s.admin_token(&["password:reset"]).await;
    let before = s.messages().await.len();
    let r = s
        .post_as(
            &auth,
            &format!("/v1/users/{id}/password-reset"),
            json!({"send_link": {}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(
        s.messages().await.len(),
        before + 1,
        "administrators are not held to the self-service caps"
    );
}

/// An unknown identifier's decoys are held back where a known account's messages are (its send
/// caps reached, its guess budget spent), so that the delivery work after a request does not
/// tell them apart there either: the decoys of an unknown identifier and the messages of a known
/// account with one address come in the same numbers, window after window.
pub async fn decoys_are_held_back_alike(db: TestDb, spawn: Spawn) {
    let defaults = reset_core::ResetConfig::default().rate_limits;
    let mut config = test_config();
    config.rate_limits.send_per_account = defaults.send_per_account;
    config.rate_limits.send_per_account_per_day = defaults.send_per_account_per_day;
    config.rate_limits.send_per_account_from_ip = defaults.send_per_account_from_ip;
    config.rate_limits.send_per_account_from_ip_per_day = defaults.send_per_account_from_ip_per_day;
    config.rate_limits.request_per_identifier.max = 100;
    config.guess_budget.max = 3;
    let s = TestServer::start_with(db, spawn, config, Default::default()).await;
    s.user("mia", &["mia@example.com"]).await;
    s.user("rita", &["rita@example.com"]).await;
    // What each request left to deliver: (messages, decoys).
    let delivered = async |body: serde_json::Value| {
        let (messages, decoys) = (s.messages().await.len(), s.decoys().await);
        assert_eq!(s.post(REQUEST, body).await.status, 202);
        s.api.service().settle().await;
        (
            s.messages().await.len() - messages,
            s.decoys().await - decoys,
        )
    };
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for _window in 0..4 {
        let (mut k, mut u) = (0, 0);
        for _ in 0..4 {
            k += delivered(json!({"username": "mia"})).await.0;
            u += delivered(json!({"username": "ghost"})).await.1;
        }
        known.push(k);
        unknown.push(u);
        s.clock.advance(Duration::minutes(16));
    }
    assert_eq!(known, vec![3, 3, 3, 1], "3 per 15 minutes, 10 a day");
    assert_eq!(unknown, known, "an unknown identifier's decoys stop alike");

    // A spent guess budget: no new code for either, links for both.
    let mut seen = Vec::new();
    for (email, exists) in [("rita@example.com", true), ("nobody@example.com", false)] {
        let pick = |d: (usize, usize)| if exists { d.0 } else { d.1 };
        let code = json!({"email": email, "delivery": "code"});
        let mut out = vec![pick(delivered(code.clone()).await)];
        let sent = match exists {
            true => s.last_code(email).await,
            false => String::new(),
        };
        let wrong = if sent == "555555" { "666666" } else { "555555" };
        for _ in 0..3 {
            let r = s.post(VERIFY, json!({"email": email, "code": wrong})).await;
            assert_eq!(r.status, 400);
        }
        out.push(pick(delivered(code).await));
        out.push(pick(delivered(json!({"email": email})).await));
        seen.push(out);
    }
    assert_eq!(
        seen[0],
        vec![1, 0, 1],
        "no new code once the budget is spent"
    );
    assert_eq!(seen[1], seen[0], "nor a decoy for one");
}

/// The "this wasn't me" link of a link message carries a cancel-only secret, never the reset
/// token: forwarded to an IT desk it cancels, and it cannot reset.
pub async fn cancel_link_is_cancel_only(db: TestDb, spawn: Spawn) {
    let s = TestServer::start(db, spawn).await;
    s.user("ada", &["ada@example.com"]).await;
    s.post(REQUEST, json!({"username": "ada"})).await;
    let m = s.last_message_to("ada@example.com").await;
    let reset = m.payload.link_token().expect("link").to_owned();
    let cancel_link = m.payload.cancel_link.clone().expect("cancel link");
    let cancel = cancel_link
        .split_once("token=")
        .map(|(_, t)| t.to_owned())
        .expect("token");
    assert_ne!(
        cancel, reset,
        "the cancel link does not carry the reset token"
    );
    let r = s.post(VERIFY, json!({"token": cancel})).await;
    assert_eq!((r.status, r.code()), (400, "invalid_token".to_owned()));
    let r = s
        .post(COMPLETE, json!({"token": cancel, "new_password": STRONG}))
        .await;
    assert_eq!((r.status, r.code()), (400, "invalid_token".to_owned()));
    assert_eq!(
        s.post(VERIFY, json!({"token": reset})).await.status,
        200,
        "trying the cancel secret cancelled nothing"
    );
    assert_eq!(s.post(CANCEL, json!({"token": cancel})).await.status, 204);
    let r = s.post(VERIFY, json!({"token": reset})).await;
    assert_eq!((r.status, r.code()), (400, "invalid_token".to_owned()));
}

/// A host directory that matches addresses ignoring case and accents, as some do.
struct LooseDirectory(Arc<DieselStore>);

/// Lower case without accents.
fn fold(s: &str) -> String {
    s.nfd()
        .filter(|c| !('\u{300}'..='\u{36f}').contains(c))
        .flat_map(char::to_lowercase)
        .collect()
}

#[async_trait]
impl UserDirectory for LooseDirectory {
    async fn find(&self, lookup: &AccountLookup) -> Result<Option<User>, StoreError> {
        let Some(email) = &lookup.email else {
            return self.0.find(lookup).await;
        };
        let users = self.0.list_users().await?;
        Ok(users
            .into_iter()
            .find(|u| u.emails.iter().any(|e| fold(e) == fold(email))))
    }

    async fn by_id(&self, id: &str) -> Result<Option<User>, StoreError> {
        self.0.by_id(id).await
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

fn loose(store: Arc<DieselStore>) -> Arc<dyn UserDirectory> {
    Arc::new(LooseDirectory(store))
}

/// A message goes to the address stored for the account, never the string as typed: a
/// directory that matches loosely must not mail a look-alike address.
pub async fn message_goes_to_the_stored_address(db: TestDb, spawn: Spawn) {
    let s = TestServer::start_with_directory(db, spawn, loose).await;
    s.user("jose", &["josé@example.com"]).await;
    let r = s.post(REQUEST, json!({"email": "JOSE@example.com"})).await;
    assert_eq!(r.status, 202);
    let recipients: Vec<String> = s
        .messages()
        .await
        .into_iter()
        .map(|m| m.recipient)
        .collect();
    assert_eq!(recipients, vec!["josé@example.com".to_owned()]);
}

/// 10,000 requests for distinct unknown identifiers leave counters behind; a sweep past their
/// windows removes them (the daily send caps of their decoys a day later, as a known account's).
/// Spent secrets, delivered mail (their decoys too) and old
/// audit events go too, each after its retention.
pub async fn sweep_forgets_what_is_not_needed(db: TestDb, spawn: Spawn) {
    let mut config = test_config();
    config.rate_limits.request_per_ip.max = 0;
    let s = TestServer::start_with(db, spawn, config, Default::default()).await;
    s.user("kim", &["kim@example.com"]).await;
    s.post(REQUEST, json!({"username": "kim"})).await;
    s.messages().await;
    let replies: Vec<Reply> = futures::stream::iter(0..10_000)
        .map(|n| s.post(REQUEST, json!({"email": format!("nobody{n}@example.com")})))
        .buffer_unordered(32)
        .collect()
        .await;
    assert!(replies.iter().all(|r| r.status == 202));
    // Their decoy messages, delivered to no one, as the worker would.
    assert_eq!(s.messages().await.len(), 1, "kim's message only");
    let before = s.store.row_counts().await.expect("counts");
    assert!(before.rate_limits >= 10_000, "{before:?}");

    // Still inside the windows: nothing of theirs goes.
    assert_eq!(s.api.service().sweep().await.expect("sweep").rate_limits, 0);
    s.clock.advance(Duration::minutes(16));
    s.api.service().sweep().await.expect("sweep");
    let after = s.store.row_counts().await.expect("counts");
    assert_eq!(
        after.rate_limits,
        2 * 10_001,
        "only the daily send counts are left (account-wide and per client address), kim's and each unknown identifier's: {after:?}"
    );
    assert!(after.reset_secrets > 0, "a live link is kept");
    s.clock.advance(Duration::days(1));
    s.api.service().sweep().await.expect("sweep");
    let after = s.store.row_counts().await.expect("counts");
    assert_eq!(after.rate_limits, 0, "a day later, none: {after:?}");

    // Past every retention: the secret a day after it expired, the sent mail after 7 days, the
    // audit events after 90.
    s.clock.advance(Duration::days(91));
    s.api.service().sweep().await.expect("sweep");
    let last = s.store.row_counts().await.expect("counts");
    assert_eq!(
        (last.reset_secrets, last.outbox, last.audit_events),
        (0, 0, 0),
        "{last:?}"
    );
}

/// A long passphrase that happens to contain a short username is accepted; a password that is
/// essentially the username is not.
pub async fn passphrase_with_the_username_inside(db: TestDb, spawn: Spawn) {
    let s = TestServer::start(db, spawn).await;
    for (user, password, accepted) in [
        ("rin", "violet-Tangerine-42-orbit", true),
        ("maximilian", "Maximilian2026!", false),
    ] {
        let address = format!("{user}@example.com");
        s.user(user, &[address.as_str()]).await;
        s.post(REQUEST, json!({"username": user})).await;
        let token = s.last_token(&address).await;
        let r = s
            .post(COMPLETE, json!({"token": token, "new_password": password}))
            .await;
        if accepted {
            assert_eq!(r.status, 204, "{}", String::from_utf8_lossy(&r.body));
        } else {
            assert_eq!(r.status, 422, "{}", String::from_utf8_lossy(&r.body));
            assert_eq!(r.code(), "weak_password");
        }
    }
}

/// Anyone can spend an account's guess budget with wrong codes; a code request refused by the
/// spent budget then kills the account's live code, never the links already sent.
pub async fn spent_budget_leaves_links_alone(db: TestDb, spawn: Spawn) {
    let mut config = test_config();
    config.guess_budget.max = 3;
    let s = TestServer::start_with(db, spawn, config, Default::default()).await;
    s.user("vic", &["vic@example.com"]).await;
    for _ in 0..3 {
        let r = s
            .post(VERIFY, json!({"username": "vic", "code": "000001"}))
            .await;
        assert_eq!(r.status, 400);
    }
    s.post(REQUEST, json!({"username": "vic"})).await;
    let token = s.last_token("vic@example.com").await;
    let r = s
        .post(REQUEST, json!({"username": "vic", "delivery": "code"}))
        .await;
    assert_eq!(r.status, 202);
    s.messages().await;
    assert_eq!(
        s.post(VERIFY, json!({"token": token})).await.status,
        200,
        "the link sent before still works"
    );
}
