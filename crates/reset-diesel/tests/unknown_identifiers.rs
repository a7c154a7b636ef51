//! An unknown account's issue transaction does a known account's work against the decoy and
//! rolls it back (SQLite, MySQL; `queries/issue.rs`), so that the work after the answer costs
//! the same for both, and queues its messages as decoys (every store). What must hold on every
//! store: an unknown account's request leaves only its audit row, its decoy messages and its
//! identifier's send-cap counters behind (no secret, no real message, the decoy account
//! untouched), also when many run at once beside a known account's, which still issues; and
//! many at once for one identifier queue no more decoys than its send cap lets through, as a
//! known account's get no more messages.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use chrono::Duration;
use reset_core::message::{Channel, EventDelivery, EventType, MessageKind, MessagePayload};
use reset_core::rate_limit::{Limit, SendCap};
use reset_core::store::{
    IssueOutcome, IssueRequest, IssueTarget, NewSecret, NewUser, Outbox, ResetState as _,
    SecretKind, Target, UnknownTarget,
};
use reset_diesel::{DieselStore, PoolOptions};
use reset_testkit::TestDb;

/// The decoy account's id (seeded by the init migration).
const DECOY_ID: &str = "00000000-0000-0000-0000-000000000000";

fn request(target: Option<IssueTarget>) -> IssueRequest {
    let now = reset_testkit::server::start_time();
    let secret = |kind| NewSecret {
        kind,
        hash: uuid::Uuid::new_v4().simple().to_string(),
        expires_at: now + Duration::minutes(30),
        max_attempts: 5,
    };
    IssueRequest {
        now,
        target: match target {
            Some(known) => Target::Known(known),
            None => {
                let mut rehearsal = UnknownTarget::new("nocode:u:ghost", "en".into());
                rehearsal.recipients = 1;
                Target::Unknown(rehearsal)
            }
        },
        request_id: uuid::Uuid::now_v7().to_string(),
        secrets: vec![secret(SecretKind::Code), secret(SecretKind::Cancel)],
        // Every branch of a known account's transaction: the guess budget and two send caps.
        guess_budget: Some(Limit::new(100, 3600)),
        send_caps: vec![
            SendCap::account(Limit::new(100, 3600)),
            SendCap::account(Limit::new(1000, 86_400)),
        ],
        channel: Channel::Email,
        message_kind: MessageKind::ResetCode,
        payload: MessagePayload::default(),
        ip: Some("192.0.2.7".into()),
        via: "rehearsal".into(),
        events: vec![],
        deliver: true,
        retried: false,
    }
}

async fn unknown_leaves_its_audit_row_and_decoys(db: TestDb) {
    let store = DieselStore::connect(db.url(), PoolOptions::default())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let now = reset_testkit::server::start_time();
    let user = NewUser {
        username: "known".into(),
        emails: vec!["known@example.com".into()],
        ..NewUser::default()
    };
    let user = store.create_user(now, user).await.unwrap();
    let before = store.row_counts().await.unwrap();
    let decoy_code = store.live_code(DECOY_ID, now).await.unwrap().unwrap();

    let store = Arc::new(store);
    let known = IssueTarget {
        user_id: user.id.clone(),
        recipients: vec!["known@example.com".into()],
        locale: "en".into(),
        username: "known".into(),
    };
    // Some as for a channel that is off (nothing to rehearse but the early return), some with
    // two webhook events to rehearse.
    let hooks = [
        "https://hooks.example/a".to_owned(),
        "https://hooks.example/b".to_owned(),
    ];
    let mut requests: Vec<IssueRequest> = (0..24)
        .map(|i| {
            let mut r = request(None);
            let recipients = usize::from(i % 4 != 0);
            // A request that queues no message queues no event either.
            let events = if i % 3 == 0 && recipients > 0 {
                EventDelivery::for_each(
                    &hooks,
                    EventType::ResetRequested,
                    now,
                    "",
                    Some(&r.request_id),
                    "rehearsal",
                )
            } else {
                vec![]
            };
            let mut rehearsal = UnknownTarget::new("nocode:u:ghost", "de".into());
            rehearsal.recipients = recipients;
            rehearsal.events = events;
            r.target = Target::Unknown(rehearsal);
            r
        })
        .collect();
    requests.insert(12, request(Some(known)));
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|r| {
            let store = store.clone();
            tokio::spawn(async move { (r.target.known().is_some(), store.issue(r).await.unwrap()) })
        })
        .collect();
    for task in tasks {
        match task.await.unwrap() {
            (true, outcome) => assert_eq!(
                outcome,
                IssueOutcome::Issued {
                    user_id: user.id.clone()
                }
            ),
            (false, outcome) => assert_eq!(outcome, IssueOutcome::NotIssued),
        }
    }

    let after = store.row_counts().await.unwrap();
    assert_eq!(
        after.reset_secrets - before.reset_secrets,
        2,
        "the known account's code and cancel secret, nothing of the rehearsals"
    );
    assert_eq!(
        after.outbox - before.outbox,
        1 + 18 + 12,
        "the known account's message, and the decoys: 18 messages and 6 × 2 webhook events"
    );
    let stats = store.outbox_stats().await.unwrap();
    assert_eq!(
        (stats.pending, stats.sent, stats.dead),
        (1, 0, 0),
        "the decoys are not counted"
    );
    let claimed = store
        .claim_outbox(now + chrono::Duration::days(1), 100, 60)
        .await
        .unwrap();
    assert_eq!(claimed.iter().filter(|m| !m.decoy).count(), 1);
    assert!(
        claimed
            .iter()
            .filter(|m| m.decoy)
            .all(|m| m.recipient.is_empty()),
        "decoys go to no one"
    );
    assert!(
        claimed
            .iter()
            .filter(|m| m.decoy && m.channel == Channel::Email)
            .all(|m| m.locale == "de"),
        "in the request's language"
    );
    assert_eq!(
        after.rate_limits - before.rate_limits,
        4,
        "the two send caps of the known account and of the unknown identifier's stand-in"
    );
    assert_eq!(
        after.audit_events - before.audit_events,
        25,
        "one audit row per request"
    );
    let decoy_after = store.live_code(DECOY_ID, now).await.unwrap();
    assert_eq!(
        decoy_after.map(|c| (c.id, c.attempts)),
        Some((decoy_code.id, decoy_code.attempts)),
        "the decoy's code is live and unchanged"
    );
}

/// Requests for one account, or for one unknown identifier, all at once from three instances
/// sharing the database: the account's send cap lets at most 3 messages through, and the
/// identifier's exactly 3 decoys (checked and counted under the account's or the stand-in's
/// lock; the rehearsals' turns on MySQL). `store_contract`'s `parallel_requests_stop_at_the_cap`
/// races one instance; this races instances, whose batches are separate transactions.
async fn instances_share_the_cap(db: TestDb) {
    // Three instances sharing the database: on PostgreSQL one instance's requests are
    // batched into one transaction, so the race is between instances.
    let mut stores = Vec::new();
    for _ in 0..3 {
        let store = DieselStore::connect(db.url(), PoolOptions::default())
            .await
            .unwrap();
        store.migrate().await.unwrap();
        stores.push(Arc::new(store));
    }
    let store = stores[0].clone();
    let now = reset_testkit::server::start_time();
    let known = IssueTarget {
        user_id: "0190a0a0-0000-7000-8000-000000000001".into(),
        recipients: vec!["known@example.com".into()],
        locale: "en".into(),
        username: "known".into(),
    };
    for target in [Some(known), None] {
        let tasks: Vec<_> = (0..12)
            .map(|i| {
                let store = stores[i % stores.len()].clone();
                let request = IssueRequest {
                    guess_budget: None,
                    send_caps: vec![
                        SendCap::account(Limit::new(3, 900)),
                        SendCap::account(Limit::new(10, 86_400)),
                    ],
                    ..request(target.clone())
                };
                tokio::spawn(async move { store.issue(request).await.unwrap() })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        let claimed = store
            .claim_outbox(now + Duration::days(1), 100, 60)
            .await
            .unwrap();
        let (decoys, real) = claimed.iter().partition::<Vec<_>, _>(|m| m.decoy);
        if target.is_some() {
            // A request overtaken by a newer one of the account issues nothing: fewer may go.
            assert!(
                (1..=3).contains(&real.len()),
                "the account's cap holds: {}",
                real.len()
            );
        } else {
            assert_eq!(
                decoys.len(),
                3,
                "the identifier's cap holds under parallel requests"
            );
        }
    }
}

/// Whether the outbox worker is woken within `wait` (a store's [`Outbox::queued`]).
async fn woken(store: &DieselStore, wait: std::time::Duration) -> bool {
    let start = std::time::Instant::now();
    store.queued(wait).await;
    start.elapsed() < wait / 2
}

/// An unknown identifier's request past its send cap queues no decoys, and wakes no worker
/// either (on PostgreSQL, no other instance's): what follows it is what follows a known
/// account's request past its cap.
async fn held_back_decoys_wake_no_one(db: TestDb) {
    let store = DieselStore::connect(db.url(), PoolOptions::default())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let short = std::time::Duration::from_millis(150);
    let capped = || IssueRequest {
        guess_budget: None,
        send_caps: vec![SendCap::account(Limit::new(1, 900))],
        ..request(None)
    };
    // Earlier wake-ups (PostgreSQL's own notifications come back a little later) spent first.
    let drain = async || while woken(&store, short).await {};
    store.issue(capped()).await.unwrap();
    assert!(
        woken(&store, std::time::Duration::from_secs(5)).await,
        "decoys queued"
    );
    drain().await;
    store.issue(capped()).await.unwrap();
    assert!(
        !woken(&store, std::time::Duration::from_millis(600)).await,
        "held back: nothing to wake for"
    );
    let claimed = claim_tomorrow(&store).await;
    assert_eq!(claimed.len(), 1, "one request's decoy");
}

/// A retried attempt of a request whose earlier attempt committed leaves one audit event, as
/// the first did (`store_contract`'s `a_retried_request_is_written_once` checks the messages
/// and the caps on every store; the audit trail is this store's own table).
async fn a_retry_leaves_one_audit_event(db: TestDb) {
    let store = DieselStore::connect(db.url(), PoolOptions::default())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let known = IssueTarget {
        user_id: "0190a0a0-0000-7000-8000-000000000002".into(),
        recipients: vec!["retried@example.com".into()],
        locale: "en".into(),
        username: "retried".into(),
    };
    for target in [Some(known), None] {
        let before = store.row_counts().await.unwrap();
        let first = request(target.clone());
        store.issue(first.clone()).await.unwrap();
        let retry = IssueRequest {
            retried: true,
            ..first
        };
        store.issue(retry.clone()).await.unwrap();
        store.issue(retry).await.unwrap();
        let after = store.row_counts().await.unwrap();
        assert_eq!(after.audit_events - before.audit_events, 1, "{target:?}");
    }
}

/// An attempt of a request that commits while another attempt of it is between its load and
/// its writes (a retry whose lookup found another holder, so no lock kept them apart) is not
/// written twice: the later attempt gives up as a serialization failure (`Unavailable`, which
/// the service retries), writes nothing, and its retry finds the request done. The first
/// attempt is played by a transaction of the test's own holding the request's audit event.
async fn an_attempt_committed_meanwhile_is_not_written_again(db: TestDb) {
    use diesel_async::{AsyncConnection as _, SimpleAsyncConnection as _};
    let store = Arc::new(
        DieselStore::connect(db.url(), PoolOptions::default())
            .await
            .unwrap(),
    );
    store.migrate().await.unwrap();
    let known = IssueTarget {
        user_id: "0190a0a0-0000-7000-8000-000000000003".into(),
        recipients: vec!["meanwhile@example.com".into()],
        locale: "en".into(),
        username: "meanwhile".into(),
    };
    let req = request(Some(known));
    let insert = format!(
        "INSERT INTO audit_events (id, user_id, kind, at, ip, details) \
         VALUES ('{}', NULL, 'reset_requested', 0, NULL, '{{}}')",
        req.request_id
    );
    let before = store.row_counts().await.unwrap();
    // The other attempt: its event written, not yet committed.
    let commit = match &db {
        TestDb::Postgres { url, .. } => {
            let mut c = diesel_async::AsyncPgConnection::establish(url)
                .await
                .unwrap();
            c.batch_execute(&format!("BEGIN; {insert}")).await.unwrap();
            let store = store.clone();
            let attempt = tokio::spawn(async move { store.issue(req.clone()).await.map(|_| req) });
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            c.batch_execute("COMMIT").await.unwrap();
            attempt.await.unwrap()
        }
        TestDb::Mysql { url, .. } => {
            let mut c = diesel_async::AsyncMysqlConnection::establish(url)
                .await
                .unwrap();
            c.batch_execute("START TRANSACTION").await.unwrap();
            c.batch_execute(&insert).await.unwrap();
            let store = store.clone();
            let attempt = tokio::spawn(async move { store.issue(req.clone()).await.map(|_| req) });
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            c.batch_execute("COMMIT").await.unwrap();
            attempt.await.unwrap()
        }
        // SQLite has one writer: no attempt can be between another's load and writes.
        TestDb::Sqlite { .. } => return,
    };
    let Err(reset_core::StoreError::Unavailable(_)) = commit else {
        panic!("the attempt wrote over another's: {commit:?}");
    };
    let after = store.row_counts().await.unwrap();
    assert_eq!(
        after.audit_events - before.audit_events,
        1,
        "only the other attempt's event"
    );
    assert_eq!(
        after.reset_secrets, before.reset_secrets,
        "no secret written"
    );
    let claimed = claim_tomorrow(&store).await;
    assert!(claimed.is_empty(), "nothing queued: {claimed:?}");
}

/// The messages and decoys queued so far, claimed as a worker would a day later.
async fn claim_tomorrow(store: &DieselStore) -> Vec<reset_core::store::OutboxMessage> {
    store
        .claim_outbox(
            reset_testkit::server::start_time() + Duration::days(1),
            10,
            60,
        )
        .await
        .unwrap()
}

reset_testkit::on_every_store!(
    unknown_leaves_its_audit_row_and_decoys,
    instances_share_the_cap,
    held_back_decoys_wake_no_one,
    a_retry_leaves_one_audit_event,
    an_attempt_committed_meanwhile_is_not_written_again,
);
