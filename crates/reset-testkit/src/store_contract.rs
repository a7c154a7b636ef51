//! The store contract: what any [`Store`] must do, written once over the three traits
//! ([`ResetState`](reset_core::ResetState), [`Outbox`](reset_core::Outbox),
//! [`AdminTokens`](reset_core::AdminTokens)) and expanded into one test per case by
//! [`store_contract!`](crate::store_contract). A backend, or a team's own store, is tested by
//! one macro line:
//!
//! ```ignore
//! reset_testkit::store_contract!(my_store, my_crate::open_fresh_store);
//! // where: async fn open_fresh_store() -> Option<reset_testkit::store_contract::Fresh>
//! ```
//!
//! Cases use the traits only (no SQL, no backend types), with times from a fixed start, so a
//! failure names the guarantee that broke. The concurrency cases run the calls in parallel
//! tasks on a multi-threaded runtime.

use std::any::Any;
use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use reset_core::Store;
use reset_core::admin_token::{AdminToken, NewAdminToken};
use reset_core::message::{Channel, MessageKind, MessagePayload};
use reset_core::rate_limit::{CounterHit, Limit};
use reset_core::store::{
    IssueOutcome, IssueRequest, IssueTarget, NewSecret, Retention, SecretKind, Target,
    UnknownTarget,
};
#[cfg(feature = "diesel")]
use reset_diesel::{DieselStore, PoolOptions};

#[cfg(feature = "diesel")]
use crate::db::TestDb;

/// A fresh, migrated store for one case, and whatever must live as long as it (a database
/// dropped afterwards, a temporary folder).
pub struct Fresh {
    /// The store under test.
    pub store: Arc<dyn Store>,
    /// What must outlive the store (its database, its folder), dropped after the case.
    pub keep: Box<dyn Any + Send + Sync>,
}

/// Expands to one `#[tokio::test]` per contract case in a module named `$name`; `$open` is an
/// `async fn() -> Option<Fresh>` (`None` skips, as when a database server is unreachable and
/// `CI` is not set).
#[macro_export]
macro_rules! store_contract {
    ($name:ident, $open:path) => {
        $crate::store_contract!(@each $name, $open,
            ready_when_migrated, consume_is_single_use, parallel_consumes_one_wins,
            release_gives_back, issue_supersedes_and_queues, unknown_account_issues_nothing,
            counters_count_in_windows, parallel_hits_count_distinctly, restart_starts_afresh,
            code_try_counts_every_try, parallel_code_tries_respect_max, cancel_kills_the_request,
            claim_leases_rows, parallel_claimers_never_share, failed_and_dead_rows,
            admin_tokens_round_trip, sweep_forgets_expired, parallel_issues_leave_one_live,
            a_failing_issue_fails_alone, parallel_hits_restart_only_when_under,
            parallel_secret_lookups_get_their_own, parallel_requests_stop_at_the_cap,
            a_retried_request_is_written_once, text_is_stored_as_given
        );
    };
    (@each $name:ident, $open:path, $($case:ident),* $(,)?) => {
        mod $name {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let Some(fresh) = $open().await else { return };
                    $crate::store_contract::$case(fresh.store.clone()).await;
                    drop(fresh);
                }
            )*
        }
    };
}

#[cfg(feature = "diesel")]
/// A fresh SQLite store (a temporary file).
pub async fn sqlite() -> Option<Fresh> {
    diesel(TestDb::sqlite()).await
}

#[cfg(feature = "diesel")]
/// A fresh PostgreSQL store (a database of its own on `RESET_TEST_POSTGRES_URL`).
pub async fn postgres() -> Option<Fresh> {
    diesel(TestDb::postgres().await?).await
}

#[cfg(feature = "diesel")]
/// A fresh MySQL/MariaDB store (a database of its own on `RESET_TEST_MYSQL_URL`).
pub async fn mysql() -> Option<Fresh> {
    diesel(TestDb::mysql().await?).await
}

#[cfg(feature = "diesel")]
async fn diesel(db: TestDb) -> Option<Fresh> {
    let store = DieselStore::connect(db.url(), PoolOptions::default())
        .await
        .expect("connect");
    store.migrate().await.expect("migrate");
    Some(Fresh {
        store: Arc::new(store),
        keep: Box::new(db),
    })
}

fn t0() -> DateTime<Utc> {
    crate::clock::start_time()
}

fn hash() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

fn request_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

fn target(user: &str) -> IssueTarget {
    IssueTarget {
        user_id: user.to_owned(),
        recipients: vec![format!("{user}@example.com")],
        locale: "en".into(),
        username: user.to_owned(),
    }
}

/// A request for `user` (`None`: an unknown account) issuing one secret of `kind`.
fn request(now: DateTime<Utc>, user: Option<&str>, kind: SecretKind, hash: &str) -> IssueRequest {
    IssueRequest {
        now,
        target: match user {
            Some(user) => Target::Known(target(user)),
            None => {
                let mut unknown = UnknownTarget::new("nocode:u:contract", "ja".into());
                unknown.recipients = 1;
                Target::Unknown(unknown)
            }
        },
        request_id: request_id(),
        secrets: vec![NewSecret {
            kind,
            hash: hash.to_owned(),
            expires_at: now + Duration::minutes(30),
            max_attempts: 5,
        }],
        guess_budget: None,
        send_caps: vec![],
        channel: Channel::Email,
        message_kind: if kind == SecretKind::Code {
            MessageKind::ResetCode
        } else {
            MessageKind::ResetLink
        },
        payload: MessagePayload::default(),
        ip: Some("192.0.2.1".into()),
        via: "contract".into(),
        events: vec![],
        deliver: true,
        retried: false,
    }
}

/// Issues a link for `user` and returns its secret id.
async fn link(store: &Arc<dyn Store>, user: &str) -> String {
    link_with(store, user, &hash()).await
}

/// Issues a link with the secret hash `h` for `user` and returns its secret id.
async fn link_with(store: &Arc<dyn Store>, user: &str, h: &str) -> String {
    let h = h.to_owned();
    let outcome = store
        .issue(request(t0(), Some(user), SecretKind::Link, &h))
        .await
        .expect("issue");
    assert_eq!(
        outcome,
        IssueOutcome::Issued {
            user_id: user.into()
        }
    );
    store
        .secret_by_hash(&h)
        .await
        .expect("lookup")
        .expect("the issued secret is found by its hash")
        .id
}

fn counter(key: &str, max: u32, window_secs: u64) -> CounterHit {
    CounterHit {
        key: key.to_owned(),
        limit: Limit::new(max, window_secs),
    }
}

/// A migrated store says it is ready.
pub async fn ready_when_migrated(store: Arc<dyn Store>) {
    store.ready().await.expect("a migrated store is ready");
}

/// A secret is consumed once, only for its own account, and not after it expires.
pub async fn consume_is_single_use(store: Arc<dyn Store>) {
    let id = link(&store, "u1").await;
    let now = t0() + Duration::seconds(1);
    assert!(
        store.consume(now, &id, "u1").await.unwrap(),
        "first consume"
    );
    assert!(
        !store.consume(now, &id, "u1").await.unwrap(),
        "second consume"
    );
    let other = link(&store, "u2").await;
    assert!(
        !store.consume(now, &other, "u1").await.unwrap(),
        "a secret is consumed only for its own account"
    );
    let expired = t0() + Duration::minutes(31);
    assert!(
        !store.consume(expired, &other, "u2").await.unwrap(),
        "an expired secret is not consumed"
    );
}

/// 100 parallel consumes of one secret: exactly one wins.
pub async fn parallel_consumes_one_wins(store: Arc<dyn Store>) {
    let id = link(&store, "u1").await;
    let now = t0() + Duration::seconds(1);
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let (store, id) = (store.clone(), id.clone());
            tokio::spawn(async move { store.consume(now, &id, "u1").await.expect("consume") })
        })
        .collect();
    let mut wins = 0;
    for t in tasks {
        wins += usize::from(t.await.expect("task"));
    }
    assert_eq!(wins, 1, "exactly one of 100 parallel consumes wins");
}

/// A released secret can be consumed again.
pub async fn release_gives_back(store: Arc<dyn Store>) {
    let id = link(&store, "u1").await;
    let now = t0() + Duration::seconds(1);
    assert!(store.consume(now, &id, "u1").await.unwrap());
    store.release(&id, now).await.expect("release");
    assert!(
        store.consume(now, &id, "u1").await.unwrap(),
        "a released secret is usable again"
    );
}

/// A newer code supersedes the older one, and each request queues one message.
pub async fn issue_supersedes_and_queues(store: Arc<dyn Store>) {
    let first = hash();
    store
        .issue(request(t0(), Some("u1"), SecretKind::Code, &first))
        .await
        .unwrap();
    let second = hash();
    store
        .issue(request(t0(), Some("u1"), SecretKind::Code, &second))
        .await
        .unwrap();
    let live = store
        .live_code("u1", t0())
        .await
        .unwrap()
        .expect("a live code");
    assert_eq!(live.hash, second, "the newer code is the live one");
    let old = store.secret_by_hash(&first).await.unwrap().expect("kept");
    assert!(!old.is_live(t0()), "the older code is superseded");
    let queued = store.claim_outbox(t0(), 10, 60).await.unwrap();
    assert_eq!(queued.len(), 2, "one message per accepted request");
    assert!(queued.iter().all(|m| m.recipient == "u1@example.com"));
    assert!(queued.iter().all(|m| m.kind == MessageKind::ResetCode));
}

/// An unknown account's request stores no secret; what it queues are decoys only (the message
/// and the webhook event a known account's request would queue), claimed and marked sent like
/// real messages and counted nowhere.
pub async fn unknown_account_issues_nothing(store: Arc<dyn Store>) {
    let h = hash();
    let mut req = request(t0(), None, SecretKind::Link, &h);
    let events = reset_core::message::EventDelivery::for_each(
        &["https://hooks.example/reset".to_owned()],
        reset_core::message::EventType::ResetRequested,
        t0(),
        "",
        Some(&req.request_id),
        "contract",
    );
    if let Target::Unknown(unknown) = &mut req.target {
        unknown.events = events;
    }
    let outcome = store.issue(req).await.unwrap();
    assert_eq!(outcome, IssueOutcome::NotIssued);
    assert!(store.secret_by_hash(&h).await.unwrap().is_none());
    assert_eq!(store.outbox_stats().await.unwrap(), Default::default());
    let mut decoys = store.claim_outbox(t0(), 10, 60).await.unwrap();
    decoys.sort_by_key(|m| m.channel.as_str());
    let shape: Vec<_> = decoys
        .iter()
        .map(|m| {
            (
                m.decoy,
                m.channel,
                m.kind,
                m.recipient.as_str(),
                m.locale.as_str(),
            )
        })
        .collect();
    assert_eq!(
        shape,
        [
            (true, Channel::Email, MessageKind::ResetLink, "", "ja"),
            (true, Channel::Webhook, MessageKind::Event, "", ""),
        ],
        "addressed to no one, in the request's language"
    );
    for m in &decoys {
        store.outbox_sent(t0(), &m.id).await.unwrap();
    }
    assert_eq!(store.outbox_stats().await.unwrap(), Default::default());
    assert!(store.claim_outbox(t0(), 10, 60).await.unwrap().is_empty());

    // A rehearsal with nothing to queue (the channel is off), nothing at all.
    let mut req = request(t0(), None, SecretKind::Link, &hash());
    req.target = Target::Unknown(UnknownTarget::new("nocode:u:contract", "ja".into()));
    store.issue(req).await.unwrap();
    assert!(store.claim_outbox(t0(), 10, 60).await.unwrap().is_empty());
}

/// A counter counts up within its window and starts again at 1 in the next.
pub async fn counters_count_in_windows(store: Arc<dyn Store>) {
    let c = counter("contract:window", 3, 60);
    let mut counts = vec![];
    for i in 0..4 {
        let s = store
            .hit(t0() + Duration::seconds(i), std::slice::from_ref(&c), &[])
            .await
            .unwrap();
        counts.push(s[0].count);
    }
    assert_eq!(counts, [1, 2, 3, 4], "counts within one window");
    assert!(counts[3] > c.limit.max, "the fourth is over the limit");
    let later = store
        .hit(t0() + Duration::seconds(61), std::slice::from_ref(&c), &[])
        .await
        .unwrap();
    assert_eq!(later[0].count, 1, "a new window starts at 1");
    assert_eq!(later[0].resets_in_secs, 60, "and lasts the whole window");
}

/// 50 parallel hits on one counter see 50 distinct counts.
pub async fn parallel_hits_count_distinctly(store: Arc<dyn Store>) {
    let c = counter("contract:parallel", 1000, 3600);
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (store, c) = (store.clone(), c.clone());
            tokio::spawn(async move { store.hit(t0(), &[c], &[]).await.expect("hit")[0].count })
        })
        .collect();
    let mut seen = HashSet::new();
    for t in tasks {
        seen.insert(t.await.expect("task"));
    }
    assert_eq!(
        seen,
        (1..=50).collect::<HashSet<u32>>(),
        "counts 1..=50, each once"
    );
}

/// `restart` sets a counter to 0, and `hit` restarts its `then_restart` counters only when no hit
/// is over its limit.
pub async fn restart_starts_afresh(store: Arc<dyn Store>) {
    let c = counter("contract:restart", 5, 60);
    let other = counter("contract:restart-other", 5, 60);
    for _ in 0..3 {
        store
            .hit(t0(), std::slice::from_ref(&c), &[])
            .await
            .unwrap();
    }
    store.restart(t0(), std::slice::from_ref(&c)).await.unwrap();
    let s = store
        .hit(t0(), std::slice::from_ref(&c), &[])
        .await
        .unwrap();
    assert_eq!(s[0].count, 1, "restart sets the count to 0");
    // `hit` restarts its `then_restart` counters only when no hit is over its limit.
    store
        .hit(t0(), std::slice::from_ref(&other), &[])
        .await
        .unwrap();
    store
        .hit(t0(), std::slice::from_ref(&c), std::slice::from_ref(&other))
        .await
        .unwrap();
    let s = store
        .hit(t0(), std::slice::from_ref(&other), &[])
        .await
        .unwrap();
    assert_eq!(s[0].count, 1, "then_restart ran with no limit over");
    let tight = counter("contract:tight", 1, 60);
    store
        .hit(t0(), std::slice::from_ref(&tight), &[])
        .await
        .unwrap();
    store
        .hit(
            t0(),
            std::slice::from_ref(&tight),
            std::slice::from_ref(&other),
        )
        .await
        .unwrap();
    let s = store
        .hit(t0(), std::slice::from_ref(&other), &[])
        .await
        .unwrap();
    assert_eq!(s[0].count, 2, "then_restart skipped with a limit over");
}

/// Each code try counts on the identifier's counter and on the live code's attempts; a try for
/// an unknown account counts alike.
pub async fn code_try_counts_every_try(store: Arc<dyn Store>) {
    let h = hash();
    store
        .issue(request(t0(), Some("u1"), SecretKind::Code, &h))
        .await
        .unwrap();
    let c = counter("try:contract:u1", 100, 900);
    let budget = Limit::new(100, 86_400);
    let share = counter("guess:u1:contract", 100, 86_400);
    let first = store
        .code_try(t0(), &c, "u1", budget, &share)
        .await
        .unwrap();
    assert_eq!(first.counter.count, 1);
    let code = first.code.expect("the live code");
    assert_eq!((code.hash.as_str(), code.attempts), (h.as_str(), 1));
    let second = store
        .code_try(t0(), &c, "u1", budget, &share)
        .await
        .unwrap();
    assert_eq!(second.code.map(|c| c.attempts), Some(2));
    let unknown = store
        .code_try(t0(), &c, "nobody", budget, &share)
        .await
        .unwrap();
    assert_eq!(
        unknown.counter.count, 3,
        "the identifier's counter counts alike"
    );
    assert!(unknown.code.is_none());
}

/// Parallel tries at one code (max 5 tries): at most 5 are handed the code.
pub async fn parallel_code_tries_respect_max(store: Arc<dyn Store>) {
    store
        .issue(request(t0(), Some("u1"), SecretKind::Code, &hash()))
        .await
        .unwrap();
    let budget = Limit::new(1000, 86_400);
    let share = counter("guess:u1:contract", 1000, 86_400);
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let store = store.clone();
            let c = counter(&format!("try:contract:{i}"), 1000, 900);
            let share = share.clone();
            tokio::spawn(async move {
                store
                    .code_try(t0(), &c, "u1", budget, &share)
                    .await
                    .expect("code_try")
                    .code
            })
        })
        .collect();
    let mut handed = vec![];
    for t in tasks {
        if let Some(code) = t.await.expect("task") {
            handed.push(code.attempts);
        }
    }
    handed.sort_unstable();
    assert_eq!(handed, [1, 2, 3, 4, 5], "the code's own 5 tries, each once");
}

/// Cancelling a request kills its secret, once: a second cancel finds nothing live.
pub async fn cancel_kills_the_request(store: Arc<dyn Store>) {
    let h = hash();
    let req = request(t0(), Some("u1"), SecretKind::Link, &h);
    let rid = req.request_id.clone();
    store.issue(req).await.unwrap();
    assert!(store.cancel(t0(), &rid, None, vec![]).await.unwrap());
    assert!(
        !store.cancel(t0(), &rid, None, vec![]).await.unwrap(),
        "nothing live is left to cancel"
    );
    let s = store.secret_by_hash(&h).await.unwrap().expect("kept");
    assert!(!s.is_live(t0()));
}

/// Claimed outbox rows are leased: not claimed again until the lease ends, and each claim counts
/// a delivery attempt.
pub async fn claim_leases_rows(store: Arc<dyn Store>) {
    link(&store, "u1").await;
    link(&store, "u2").await;
    let claimed = store.claim_outbox(t0(), 10, 120).await.unwrap();
    assert_eq!(claimed.len(), 2);
    assert!(
        store.claim_outbox(t0(), 10, 120).await.unwrap().is_empty(),
        "leased rows are not claimed again"
    );
    store.outbox_sent(t0(), &claimed[0].id).await.unwrap();
    let after = store
        .claim_outbox(t0() + Duration::seconds(121), 10, 120)
        .await
        .unwrap();
    assert_eq!(
        after.iter().map(|m| &m.id).collect::<Vec<_>>(),
        [&claimed[1].id],
        "after the lease only the unsent row comes back"
    );
    assert_eq!(after[0].attempts, 2, "each claim counts a delivery attempt");
    let stats = store.outbox_stats().await.unwrap();
    assert_eq!((stats.sent, stats.pending), (1, 1));
    assert_eq!(
        stats.oldest_pending,
        Some(t0()),
        "the oldest pending message's queue time (the metrics' age)"
    );
}

/// Two claimers in parallel, over and over: no row is handed to both.
pub async fn parallel_claimers_never_share(store: Arc<dyn Store>) {
    for i in 0..40 {
        link(&store, &format!("u{i}")).await;
    }
    let claimer = |store: Arc<dyn Store>| {
        tokio::spawn(async move {
            let mut ids = vec![];
            for _ in 0..10 {
                for m in store.claim_outbox(t0(), 3, 600).await.expect("claim") {
                    ids.push(m.id);
                }
            }
            ids
        })
    };
    let (a, b) = (claimer(store.clone()), claimer(store.clone()));
    let (a, b) = (a.await.expect("task"), b.await.expect("task"));
    let all: HashSet<&String> = a.iter().chain(&b).collect();
    assert_eq!(all.len(), a.len() + b.len(), "no row claimed twice");
    assert_eq!(all.len(), 40, "every row claimed once");
}

/// A failed outbox row comes back at its retry time; a dead one never does.
pub async fn failed_and_dead_rows(store: Arc<dyn Store>) {
    link(&store, "u1").await;
    link(&store, "u2").await;
    let claimed = store.claim_outbox(t0(), 10, 30).await.unwrap();
    let retry_at = t0() + Duration::seconds(300);
    store
        .outbox_failed(&claimed[0].id, "550 try later", retry_at)
        .await
        .unwrap();
    store
        .outbox_dead(t0(), &claimed[1].id, "refused")
        .await
        .unwrap();
    assert!(
        store
            .claim_outbox(t0() + Duration::seconds(299), 10, 30)
            .await
            .unwrap()
            .is_empty(),
        "a failed row waits for its retry time"
    );
    let again = store.claim_outbox(retry_at, 10, 30).await.unwrap();
    assert_eq!(
        again.len(),
        1,
        "the failed row comes back, the dead one never"
    );
    assert_eq!(again[0].id, claimed[0].id);
    let stats = store.outbox_stats().await.unwrap();
    assert_eq!((stats.dead, stats.retrying), (1, 1));
}

/// Admin tokens are stored, found by hash, listed and revoked (once); a revoked one is still
/// found.
pub async fn admin_tokens_round_trip(store: Arc<dyn Store>) {
    let token = AdminToken {
        id: request_id(),
        name: "ci".into(),
        scopes: vec!["password:reset".into(), "password:write".into()],
        created_at: t0(),
        revoked_at: None,
    };
    let h = hash();
    store
        .insert_admin_token(NewAdminToken {
            token: token.clone(),
            hash: h.clone(),
        })
        .await
        .unwrap();
    let (found, stored) = store.admin_token_by_hash(&h).await.unwrap().expect("found");
    assert_eq!((found, stored), (token.clone(), h.clone()));
    assert!(store.admin_token_by_hash(&hash()).await.unwrap().is_none());
    assert_eq!(
        store.list_admin_tokens().await.unwrap(),
        std::slice::from_ref(&token)
    );
    assert!(store.revoke_admin_token(t0(), &token.id).await.unwrap());
    assert!(!store.revoke_admin_token(t0(), &token.id).await.unwrap());
    assert!(!store.revoke_admin_token(t0(), "no-such-id").await.unwrap());
    let (revoked, _) = store.admin_token_by_hash(&h).await.unwrap().expect("kept");
    assert_eq!(
        revoked.revoked_at,
        Some(t0()),
        "a revoked token is still found"
    );
}

/// The sweep removes expired secrets and finished rate-limit windows, and nothing before they
/// are due.
pub async fn sweep_forgets_expired(store: Arc<dyn Store>) {
    let h = hash();
    store
        .issue(request(t0(), Some("u1"), SecretKind::Link, &h))
        .await
        .unwrap();
    store
        .hit(t0(), &[counter("contract:sweep", 5, 60)], &[])
        .await
        .unwrap();
    let retention = Retention::default();
    let early = store.sweep(t0(), &retention, 100).await.unwrap();
    assert_eq!(
        (early.secrets, early.rate_limits),
        (0, 0),
        "nothing is due yet"
    );
    let late = t0() + Duration::days(2);
    let swept = store.sweep(late, &retention, 100).await.unwrap();
    assert_eq!(swept.secrets, 1, "the secret, a day past its expiry");
    assert!(swept.rate_limits >= 1, "the counter, its window over");
    assert!(store.secret_by_hash(&h).await.unwrap().is_none());
}

/// 30 parallel requests for one account: one live secret at the end, the newest request's,
/// and one message per request that issued.
pub async fn parallel_issues_leave_one_live(store: Arc<dyn Store>) {
    let requests: Vec<IssueRequest> = (0..30)
        .map(|_| request(t0(), Some("hot"), SecretKind::Link, &hash()))
        .collect();
    let newest = requests
        .iter()
        .max_by(|a, b| a.request_id.cmp(&b.request_id))
        .map(|r| r.secrets[0].hash.clone())
        .expect("requests");
    let tasks: Vec<_> = requests
        .iter()
        .cloned()
        .map(|r| {
            let store = store.clone();
            tokio::spawn(async move { store.issue(r).await.expect("issue") })
        })
        .collect();
    let mut issued = 0;
    for t in tasks {
        if matches!(t.await.expect("task"), IssueOutcome::Issued { .. }) {
            issued += 1;
        }
    }
    let mut live = vec![];
    for r in &requests {
        let h = &r.secrets[0].hash;
        if let Some(s) = store.secret_by_hash(h).await.unwrap()
            && s.is_live(t0())
        {
            live.push(h.clone());
        }
    }
    assert_eq!(
        live,
        [newest],
        "exactly one live secret: the newest request's"
    );
    let queued = store.claim_outbox(t0(), 100, 60).await.unwrap();
    assert_eq!(queued.len(), issued, "one message per request that issued");
}

/// A request that cannot be written (its secret's hash is taken) fails alone: the requests
/// running beside it are written.
pub async fn a_failing_issue_fails_alone(store: Arc<dyn Store>) {
    let taken = hash();
    link_with(&store, "owner", &taken).await;
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let h = if i == 7 { taken.clone() } else { hash() };
            let r = request(t0(), Some(&format!("user{i}")), SecretKind::Link, &h);
            let store = store.clone();
            tokio::spawn(async move { (i, store.issue(r).await) })
        })
        .collect();
    for t in tasks {
        let (i, outcome) = t.await.expect("task");
        match (i, outcome) {
            (7, outcome) => assert!(outcome.is_err(), "the taken hash is refused"),
            (i, outcome) => assert_eq!(
                outcome.expect("the others are written"),
                IssueOutcome::Issued {
                    user_id: format!("user{i}")
                }
            ),
        }
    }
}

/// 20 parallel requests, each bumping one shared counter (maximum 10) and restarting a counter
/// of its own when it passes: exactly the ten under the maximum restart theirs.
pub async fn parallel_hits_restart_only_when_under(store: Arc<dyn Store>) {
    let shared = counter("contract:shared", 10, 3600);
    let own = |i: usize| counter(&format!("contract:own{i}"), 100, 3600);
    for i in 0..20 {
        for _ in 0..3 {
            store.hit(t0(), &[own(i)], &[]).await.unwrap();
        }
    }
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let (store, shared, own) = (store.clone(), shared.clone(), own(i));
            tokio::spawn(async move {
                let count = store.hit(t0(), &[shared], &[own]).await.expect("hit")[0].count;
                (i, count)
            })
        })
        .collect();
    for t in tasks {
        let (i, count) = t.await.expect("task");
        let next = store.hit(t0(), &[own(i)], &[]).await.unwrap()[0].count;
        let expected = if count <= 10 { 1 } else { 4 };
        assert_eq!(
            next, expected,
            "request {i} counted {count} on the shared counter"
        );
    }
}

/// Secret lookups made at the same time (a store may answer them together) each get the secret
/// their hash names, or none: ten issued hashes, each asked for twice, among ten unknown ones.
pub async fn parallel_secret_lookups_get_their_own(store: Arc<dyn Store>) {
    let mut issued = vec![];
    for i in 0..10 {
        let h = hash();
        let id = link_with(&store, &format!("user{i}"), &h).await;
        issued.push((h, Some(id)));
    }
    let unknown: Vec<(String, Option<String>)> = (0..10).map(|_| (hash(), None)).collect();
    let lookups: Vec<(String, Option<String>)> = issued
        .iter()
        .chain(issued.iter())
        .chain(unknown.iter())
        .cloned()
        .collect();
    let tasks: Vec<_> = lookups
        .into_iter()
        .map(|(h, want)| {
            let store = store.clone();
            tokio::spawn(async move {
                let found = store.secret_by_hash(&h).await.expect("lookup");
                (found.map(|s| s.id), want, h)
            })
        })
        .collect();
    for t in tasks {
        let (found, want, h) = t.await.expect("task");
        assert_eq!(found, want, "the secret of hash {h}");
    }
}

/// A request with the send caps every self-service request carries (3 per 15 minutes, 10 a
/// day, on the account or the unknown identifier's stand-in), for `user` (`None`: unknown).
fn capped(user: Option<&str>, per_window: u32) -> IssueRequest {
    IssueRequest {
        send_caps: vec![
            reset_core::rate_limit::SendCap::account(Limit::new(per_window, 900)),
            reset_core::rate_limit::SendCap::account(Limit::new(10, 86_400)),
        ],
        ..request(t0(), user, SecretKind::Code, &hash())
    }
}

/// Messages and decoys queued so far, claimed (so the next call sees only newer ones).
async fn claim_all(store: &Arc<dyn Store>) -> (usize, usize) {
    let claimed = store
        .claim_outbox(t0() + Duration::days(1), 1000, 60)
        .await
        .expect("claim");
    let decoys = claimed.iter().filter(|m| m.decoy).count();
    (claimed.len() - decoys, decoys)
}

/// Twelve requests at once for one account, then for one unknown identifier: the account's
/// send cap (3) lets at most 3 messages through (a request overtaken by a newer one of the
/// account issues nothing, so fewer may go), and the identifier's exactly 3 decoys, as a known
/// account's would be held back. Afterwards the account's one live code is the newest issued
/// request's: requests that ran together superseded each other in the order of their ids.
pub async fn parallel_requests_stop_at_the_cap(store: Arc<dyn Store>) {
    for user in [Some("0190a0a0-0000-7000-8000-00000000c0a1"), None] {
        let tasks: Vec<_> = (0..12)
            .map(|_| {
                let (store, request) = (store.clone(), capped(user, 3));
                tokio::spawn(async move {
                    let id = request.request_id.clone();
                    (id, store.issue(request).await.expect("issue"))
                })
            })
            .collect();
        let mut issued = Vec::new();
        for task in tasks {
            let (id, outcome) = task.await.expect("task");
            if outcome != IssueOutcome::NotIssued {
                issued.push(id);
            }
        }
        let (real, decoys) = claim_all(&store).await;
        match user {
            Some(user) => {
                assert!((1..=3).contains(&real), "the account's cap holds: {real}");
                assert_eq!(decoys, 0);
                let live = store.live_code(user, t0()).await.expect("live code");
                let newest = issued.iter().max();
                assert_eq!(
                    live.map(|c| c.request_id).as_ref(),
                    newest,
                    "one live code, the newest"
                );
            }
            None => {
                assert_eq!((real, decoys), (0, 3), "the identifier's cap holds");
            }
        }
    }
}

/// A retried attempt of a request whose first attempt committed (its answer lost with the
/// connection) answers as the first did and writes nothing again: one message, or one decoy,
/// and the send cap counted once. A retried attempt whose first never committed is written,
/// once.
pub async fn a_retried_request_is_written_once(store: Arc<dyn Store>) {
    for user in [Some("0190a0a0-0000-7000-8000-00000000c0a2"), None] {
        let first = capped(user, 2);
        let outcome = store.issue(first.clone()).await.expect("issue");
        let retry = IssueRequest {
            retried: true,
            ..first.clone()
        };
        assert_eq!(store.issue(retry.clone()).await.expect("retry"), outcome);
        assert_eq!(store.issue(retry).await.expect("retry"), outcome);
        let queued = claim_all(&store).await;
        assert_eq!(queued, if user.is_some() { (1, 0) } else { (0, 1) });
        // The cap (2) was counted once: a second request still goes.
        store.issue(capped(user, 2)).await.expect("second");
        assert_eq!(claim_all(&store).await, queued, "{user:?}: counted once");

        let lost = IssueRequest {
            retried: true,
            ..capped(user, 10)
        };
        let outcome = store.issue(lost.clone()).await.expect("lost");
        assert_eq!(outcome == IssueOutcome::NotIssued, user.is_none());
        assert_eq!(store.issue(lost).await.expect("lost again"), outcome);
        assert_eq!(claim_all(&store).await, queued, "{user:?}: written once");
    }
}

/// Text is stored as it was given, whatever it holds: an account, its username and recipient,
/// a request's address, a secret's hash and a counter's key with quotes, backslashes, control
/// characters and characters outside ASCII are found again by the same text and read back
/// unchanged. (MySQL writes such values into its statements' text: `reset-diesel`'s
/// `mysql_script.rs`.)
pub async fn text_is_stored_as_given(store: Arc<dyn Store>) {
    let texts = [
        "it's",
        "''",
        "\\",
        "\\'; DROP TABLE reset_secrets; --",
        "tab\there\nline",
        "é 😀 \"quoted\"",
        "%_",
    ];
    let mut recipients = Vec::new();
    for (i, text) in texts.iter().enumerate() {
        let user = format!("{text}{i}");
        let h = format!("{}{text}", hash());
        let mut req = request(t0(), Some(&user), SecretKind::Link, &h);
        req.ip = Some((*text).to_owned());
        if let Target::Known(t) = &mut req.target {
            t.recipients = vec![format!("{text}{i}@example.com")];
            t.username = (*text).to_owned();
        }
        recipients.push(format!("{text}{i}@example.com"));
        let outcome = store.issue(req).await.expect("issue");
        assert_eq!(
            outcome,
            IssueOutcome::Issued {
                user_id: user.clone()
            }
        );
        let secret = store
            .secret_by_hash(&h)
            .await
            .unwrap()
            .expect("found by its hash as given");
        assert_eq!(secret.user_id, user);
        assert_eq!(secret.hash, h);
        let key = format!("contract:{text}");
        for expected in 1..=2 {
            let states = store
                .hit(t0(), &[counter(&key, 10, 3600)], &[])
                .await
                .unwrap();
            assert_eq!(states[0].count, expected, "counter {key:?} counts on");
        }
    }
    let queued = store.claim_outbox(t0(), 100, 60).await.unwrap();
    let mut got: Vec<(String, Option<String>)> = queued
        .iter()
        .map(|m| (m.recipient.clone(), m.payload.username.clone()))
        .collect();
    got.sort();
    let mut want: Vec<(String, Option<String>)> = recipients
        .into_iter()
        .zip(texts.iter().map(|t| Some((*t).to_owned())))
        .collect();
    want.sort();
    assert_eq!(got, want, "recipients and usernames as given");
}
