//! Delivery as an operator sees it, through the real binary: the SMS gateway and webhooks
//! against an HTTP receiver started here (signatures checked, retries after failures), the
//! dead-letter state and `outbox list|retry`, a worker restarted while SMTP is down, and two
//! instances sharing PostgreSQL that deliver 200 queued messages exactly once.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Server, add_alice, command, eventually, post, request_alice, run, store_in};
use reset_core::store::Outbox as _;
use reset_mail::Signer;
use reset_testkit::process::{SmtpSink, free_port};

const SMS_SECRET: &str = "whsec_c21zLWdhdGV3YXktc2lnbmluZy1rZXk=";
const HOOK_SECRET: &str = "a raw webhook secret of some length";

/// One request the receiver saw, and what it answered.
#[derive(Debug, Clone)]
struct Call {
    path: String,
    id: String,
    timestamp: i64,
    signature: String,
    body: String,
    status: u16,
}

/// An HTTP server that records every POST and fails the first `failures` calls of each path
/// with 503.
#[derive(Clone)]
struct Receiver {
    calls: Arc<Mutex<Vec<Call>>>,
    port: u16,
}

impl Receiver {
    async fn start(failures: usize) -> Self {
        let calls: Arc<Mutex<Vec<Call>>> = Arc::default();
        let seen = calls.clone();
        let app = axum::Router::new().fallback(
            move |uri: axum::http::Uri, headers: axum::http::HeaderMap, body: String| {
                let seen = seen.clone();
                async move {
                    let header = |n: &str| {
                        headers
                            .get(n)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_owned()
                    };
                    let mut calls = seen.lock().unwrap();
                    let earlier = calls.iter().filter(|c| c.path == uri.path()).count();
                    let status = if earlier < failures { 503 } else { 204 };
                    calls.push(Call {
                        path: uri.path().to_owned(),
                        id: header("webhook-id"),
                        timestamp: header("webhook-timestamp").parse().unwrap_or(0),
                        signature: header("webhook-signature"),
                        body,
                        status,
                    });
                    axum::http::StatusCode::from_u16(status).unwrap()
                }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { calls, port }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }

    /// The accepted calls to `path`.
    fn delivered(&self, path: &str) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| c.path == path && c.status == 204)
            .collect()
    }
}

fn json(call: &Call) -> serde_json::Value {
    serde_json::from_str(&call.body).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn sms_and_webhooks_arrive_signed_after_the_receiver_failed_twice() {
    let receiver = Receiver::start(2).await;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let configured = || {
        let mut c = command(dir.path(), None, port);
        c.env("RESET_SMS_WEBHOOK_URL", receiver.url("/sms"))
            .env("RESET_SMS_WEBHOOK_SECRET", SMS_SECRET)
            .env("RESET_WEBHOOK_URLS", receiver.url("/hooks"))
            .env("RESET_WEBHOOK_SECRET", HOOK_SECRET)
            .env("RESET_OUTBOX_RETRY_BASE_MS", "100");
        c
    };
    let id = run(
        configured(),
        &[
            "user",
            "add",
            "--username",
            "alice",
            "--email",
            "alice@example.com",
            "--phone",
            "+15550100",
            "--locale",
            "de",
        ],
    )
    .trim()
    .to_owned();
    let _server = Server::start(configured(), dir.path(), "server", port).await;
    let base = format!("http://127.0.0.1:{port}");
    let request = serde_json::json!({"username": "alice", "channel": "sms", "delivery": "code"});
    assert_eq!(
        post(&base, "/v1/password-reset/request", request).await,
        202
    );

    assert!(
        eventually(20, || !receiver.delivered("/sms").is_empty()).await,
        "{:?}",
        receiver.calls()
    );
    let sms_calls: Vec<Call> = receiver
        .calls()
        .into_iter()
        .filter(|c| c.path == "/sms")
        .collect();
    assert_eq!(
        sms_calls.len(),
        3,
        "two failures, then the delivery: {sms_calls:?}"
    );
    assert!(
        sms_calls.iter().all(|c| c.id == sms_calls[0].id),
        "one webhook-id across retries"
    );
    let sms = &sms_calls[2];
    let signer = Signer::new(SMS_SECRET).unwrap();
    assert!(signer.verify(&sms.id, sms.timestamp, sms.body.as_bytes(), &sms.signature));
    assert!(!signer.verify(
        &sms.id,
        sms.timestamp + 1,
        sms.body.as_bytes(),
        &sms.signature
    ));
    let body = json(sms);
    assert_eq!(body["recipient"], "+15550100");
    assert_eq!(body["kind"], "reset_code");
    assert_eq!(body["locale"], "de");
    assert_eq!(body["message_id"], sms.id.as_str());
    let text = body["text"].as_str().unwrap();
    assert!(
        text.contains("Passwort"),
        "German, as the account's locale: {text}"
    );
    let code: String = text
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .unwrap_or_else(|| panic!("no code in {text}"))
        .to_owned();

    let hooks = Signer::new(HOOK_SECRET).unwrap();
    let events = |receiver: &Receiver| -> Vec<serde_json::Value> {
        receiver
            .delivered("/hooks")
            .iter()
            .inspect(|c| {
                assert!(
                    hooks.verify(&c.id, c.timestamp, c.body.as_bytes(), &c.signature),
                    "{c:?}"
                )
            })
            .map(json)
            .collect()
    };
    assert!(
        eventually(20, || !events(&receiver).is_empty()).await,
        "{:?}",
        receiver.calls()
    );
    let requested = &events(&receiver)[0];
    assert_eq!(requested["type"], "password_reset.requested");
    assert_eq!(requested["data"]["user_id"], id.as_str());
    assert_eq!(requested["data"]["via"], "v1");
    assert!(
        !receiver
            .calls()
            .iter()
            .any(|c| c.path == "/hooks" && c.body.contains(&code)),
        "no secret in events"
    );

    let complete = serde_json::json!({"username": "alice", "code": code, "new_password": "violet tractor melts quietly"});
    assert_eq!(
        post(&base, "/v1/password-reset/complete", complete).await,
        204
    );
    assert!(
        eventually(20, || events(&receiver).len() >= 3).await,
        "{:?}",
        receiver.calls()
    );
    let types: HashSet<String> = events(&receiver)
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .collect();
    let expected: HashSet<String> = [
        "password_reset.requested",
        "password_reset.completed",
        "password.changed",
    ]
    .map(str::to_owned)
    .into();
    assert_eq!(types, expected);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_undeliverable_message_is_dead_lettered_shown_and_retried() {
    let Some(mut sink) = SmtpSink::start(0).await else {
        return;
    };
    sink.stop();
    let smtp_port = sink.port;
    let dir = tempfile::tempdir().unwrap();
    let (port, metrics_port) = (free_port(), free_port());
    let configured = || {
        let mut c = command(dir.path(), None, port);
        c.env("RESET_MAIL_TRANSPORT", "smtp")
            .env("RESET_SMTP_URL", format!("smtp://127.0.0.1:{smtp_port}"))
            .env("RESET_METRICS_BIND", format!("127.0.0.1:{metrics_port}"))
            .env("RESET_OUTBOX_MAX_AGE_SECS", "1")
            .env("RESET_OUTBOX_RETRY_BASE_MS", "100");
        c
    };
    let id = add_alice(configured());
    let _server = Server::start(configured(), dir.path(), "server", port).await;
    let base = format!("http://127.0.0.1:{port}");
    request_alice(&base).await;

    let dead = || run(configured(), &["outbox", "list", "--state", "dead"]);
    assert!(
        eventually(15, || !dead().is_empty()).await,
        "never dead-lettered"
    );
    let line = dead();
    let fields: Vec<&str> = line.trim().split('\t').collect();
    assert_eq!(
        fields[1..5],
        ["dead", "reset_link", "email", "alice@example.com"],
        "{line}"
    );
    assert!(fields[7].contains("maximum age"), "{line}");

    let audit = store_in(dir.path()).await.audit_kinds(&id).await.unwrap();
    assert!(audit.contains(&"message_dropped".to_owned()), "{audit:?}");
    let metrics = reqwest::get(format!("http://127.0.0.1:{metrics_port}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("reset_outbox_messages{state=\"dead\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("reset_outbox_dead_total{channel=\"email\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            "reset_http_responses_total{route=\"/v1/password-reset/request\",status=\"202\"} 1"
        ),
        "{metrics}"
    );

    // The dead reset link lost its secret: it is not retried.
    assert_eq!(
        run(configured(), &["outbox", "retry", "--all-dead"]).trim(),
        "0 message(s) queued again"
    );
    let still_dead = store_in(dir.path())
        .await
        .outbox_list(Some("dead"), 10)
        .await
        .unwrap();
    assert_eq!(still_dead.len(), 1);

    // A "your password was changed" notice, dead-lettered the same way, is retried and arrives.
    let token = run(
        configured(),
        &["token", "create", "--scope", "password:write"],
    )
    .trim()
    .to_owned();
    let r = reqwest::Client::new()
        .post(format!("{base}/v1/users/{id}/password"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"new_password": {"password": "violet tractor melts quietly"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        eventually(15, || dead().lines().count() == 2).await,
        "the notice was never dead-lettered"
    );
    sink.resume().await;
    assert_eq!(
        run(configured(), &["outbox", "retry", "--all-dead"]).trim(),
        "1 message(s) queued again"
    );
    let mail = sink.wait_for(1, 10).await;
    assert_eq!(mail.len(), 1);
    let subject = mailparse::parse_mail(&mail[0])
        .unwrap()
        .headers
        .iter()
        .find(|h| h.get_key_ref().eq_ignore_ascii_case("Subject"))
        .map(|h| h.get_value());
    assert_eq!(subject.as_deref(), Some("Your password was changed"));
    assert!(
        eventually(5, || run(
            configured(),
            &["outbox", "list", "--state", "sent"]
        )
        .contains("password_changed"))
        .await
    );
    assert!(dead().contains(fields[0]), "the reset link stays dead");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_restarted_while_smtp_is_down_delivers_exactly_once() {
    let Some(mut sink) = SmtpSink::start(0).await else {
        return;
    };
    sink.stop();
    let smtp_port = sink.port;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let configured = || {
        let mut c = command(dir.path(), None, port);
        c.env("RESET_MAIL_TRANSPORT", "smtp")
            .env("RESET_SMTP_URL", format!("smtp://127.0.0.1:{smtp_port}"))
            .env("RESET_OUTBOX_RETRY_BASE_MS", "300");
        c
    };
    add_alice(configured());
    let first = Server::start(configured(), dir.path(), "first", port).await;
    let base = format!("http://127.0.0.1:{port}");
    request_alice(&base).await;
    let retrying = || run(configured(), &["outbox", "list", "--state", "retrying"]);
    assert!(
        eventually(10, || !retrying().is_empty()).await,
        "the first try never failed"
    );
    drop(first); // SIGKILL: no graceful shutdown

    sink.resume().await;
    let _second = Server::start(configured(), dir.path(), "second", port).await;
    assert_eq!(sink.wait_for(1, 15).await.len(), 1);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(sink.received().len(), 1, "delivered exactly once");
}

#[tokio::test(flavor = "multi_thread")]
async fn two_instances_on_postgres_deliver_200_queued_messages_exactly_once() {
    let Some(db) = reset_testkit::TestDb::postgres().await else {
        return;
    };
    two_instances_deliver_200_exactly_once(db).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn two_instances_on_mysql_deliver_200_queued_messages_exactly_once() {
    let Some(db) = reset_testkit::TestDb::mysql().await else {
        return;
    };
    two_instances_deliver_200_exactly_once(db).await;
}

/// 200 messages queued before two instances start on one database: each delivered once (the
/// claim's `FOR UPDATE SKIP LOCKED` and lease keep the instances off each other's rows).
async fn two_instances_deliver_200_exactly_once(db: reset_testkit::TestDb) {
    let Some(sink) = SmtpSink::start(0).await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();

    // Queue 200 reset requests before any worker runs, through the library.
    let settings = reset_server::settings::Settings {
        database_url: db.url().to_owned(),
        data_dir: dir.path().join("data"),
        limit_request_per_identifier: 0,
        limit_request_per_ip: 0,
        ..Default::default()
    };
    let store = reset_server::wiring::store(&settings).await.unwrap();
    store.migrate().await.unwrap();
    let service = reset_server::wiring::service(&settings, store.clone())
        .await
        .unwrap();
    for i in 0..200 {
        let input = reset_core::UserInput {
            username: format!("user{i}"),
            emails: vec![format!("user{i}@example.com")],
            password: None,
            phone: None,
            locale: None,
            org_id: None,
        };
        let new = service.prepare_user(input).await.unwrap();
        store.create_user(service.now(), new).await.unwrap();
        let request = reset_core::RequestInput {
            username: Some(format!("user{i}")),
            ..Default::default()
        };
        service
            .request(request, &reset_core::ClientContext::default())
            .await
            .unwrap();
    }
    service.settle().await;
    assert_eq!(
        store
            .outbox_list(Some("pending"), 1000)
            .await
            .unwrap()
            .len(),
        200
    );

    let instance = |name: &str| {
        let port = free_port();
        let mut c = command(dir.path(), Some(db.url()), port);
        c.env("RESET_MAIL_TRANSPORT", "smtp")
            .env("RESET_SMTP_URL", format!("smtp://127.0.0.1:{}", sink.port))
            .env("RESET_LOG", "reset_mail=info");
        (c, name.to_owned(), port)
    };
    let (a, b) = (instance("a"), instance("b"));
    let (first, second) = tokio::join!(
        Server::start(a.0, dir.path(), &a.1, a.2),
        Server::start(b.0, dir.path(), &b.1, b.2)
    );
    let received = sink.wait_for(200, 60).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let received = if received.len() == 200 {
        sink.received()
    } else {
        received
    };
    let ids: HashSet<String> = received
        .iter()
        .map(|raw| {
            let mail = mailparse::parse_mail(raw).unwrap();
            mail.headers
                .iter()
                .find(|h| h.get_key_ref().eq_ignore_ascii_case("Message-ID"))
                .map(|h| h.get_value())
                .unwrap()
        })
        .collect();
    assert_eq!(received.len(), 200, "each message once, none twice");
    assert_eq!(ids.len(), 200);
    assert!(
        store
            .outbox_list(Some("pending"), 1000)
            .await
            .unwrap()
            .is_empty()
    );
    drop((first, second));
    let delivered_by = |name: &str| {
        std::fs::read_to_string(dir.path().join(format!("{name}.log")))
            .unwrap_or_default()
            .matches("outbox: delivered")
            .count()
    };
    eprintln!(
        "instance a delivered {}, instance b {}",
        delivered_by("a"),
        delivered_by("b")
    );
}

/// An instance whose poll is a minute away, on `db` (or SQLite), sending to `sink`.
fn slow_polling(
    dir: &std::path::Path,
    db: Option<&str>,
    sink: &SmtpSink,
    port: u16,
) -> std::process::Command {
    let mut c = command(dir, db, port);
    c.env("RESET_MAIL_TRANSPORT", "smtp")
        .env("RESET_SMTP_URL", format!("smtp://127.0.0.1:{}", sink.port))
        .env("RESET_OUTBOX_POLL_MS", "60000");
    c
}

/// A request's message leaves at once, not at the next poll: the store wakes its own
/// process's worker when it queues (polling a minute apart, the mail still arrives in seconds).
#[tokio::test(flavor = "multi_thread")]
async fn a_queued_message_wakes_the_worker() {
    let Some(sink) = SmtpSink::start(0).await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    add_alice(command(dir.path(), None, 0));
    let port = free_port();
    let server = Server::start(
        slow_polling(dir.path(), None, &sink, port),
        dir.path(),
        "a",
        port,
    )
    .await;
    // The worker's first round ran at start-up; from here only a wake-up delivers in time.
    tokio::time::sleep(Duration::from_millis(300)).await;
    for n in 1..=3 {
        request_alice(&format!("http://127.0.0.1:{port}")).await;
        assert_eq!(
            sink.wait_for(n, 10).await.len(),
            n,
            "message {n} left at once"
        );
    }
    drop(server);
}

/// On PostgreSQL a message queued by another instance wakes this one too (`LISTEN`/`NOTIFY`):
/// here the message is queued through the library, by a process with no worker at all.
#[tokio::test(flavor = "multi_thread")]
async fn another_instances_message_wakes_the_worker_on_postgres() {
    let Some(db) = reset_testkit::TestDb::postgres().await else {
        return;
    };
    let Some(sink) = SmtpSink::start(0).await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    add_alice(command(dir.path(), Some(db.url()), 0));
    let port = free_port();
    let server = Server::start(
        slow_polling(dir.path(), Some(db.url()), &sink, port),
        dir.path(),
        "a",
        port,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _instance = common::request_alice_in_process(reset_server::settings::Settings {
        database_url: db.url().to_owned(),
        data_dir: dir.path().join("data"),
        ..Default::default()
    })
    .await;
    assert_eq!(
        sink.wait_for(1, 10).await.len(),
        1,
        "the other instance's message left at once"
    );
    drop(server);
}

/// An unknown account's request queues decoys (its message and webhook event, so the work after
/// it costs what a known account's does); the worker renders and marks them but nothing
/// leaves: the SMTP server and the webhook receiver see only the known account's, and the
/// metrics and `outbox list` count only those.
#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_accounts_decoys_reach_no_one() {
    let Some(sink) = SmtpSink::start(0).await else {
        return;
    };
    let receiver = Receiver::start(0).await;
    let dir = tempfile::tempdir().unwrap();
    let (port, metrics_port) = (free_port(), free_port());
    let configured = || {
        let mut c = command(dir.path(), None, port);
        c.env("RESET_MAIL_TRANSPORT", "smtp")
            .env("RESET_SMTP_URL", format!("smtp://127.0.0.1:{}", sink.port))
            .env("RESET_WEBHOOK_URLS", receiver.url("/hooks"))
            .env("RESET_WEBHOOK_SECRET", HOOK_SECRET)
            .env("RESET_METRICS_BIND", format!("127.0.0.1:{metrics_port}"));
        c
    };
    add_alice(configured());
    let _server = Server::start(configured(), dir.path(), "server", port).await;
    let base = format!("http://127.0.0.1:{port}");
    for body in [
        serde_json::json!({"email": "nobody@example.com"}),
        serde_json::json!({"username": "nobody", "delivery": "code"}),
    ] {
        assert_eq!(post(&base, "/v1/password-reset/request", body).await, 202);
    }
    request_alice(&base).await;

    // The worker takes the queue oldest first: once alice's message and event arrived, the
    // decoys queued before them were claimed too.
    let mail = sink.wait_for(1, 10).await;
    assert!(
        eventually(10, || !receiver.delivered("/hooks").is_empty()).await,
        "{:?}",
        receiver.calls()
    );
    let store = store_in(dir.path()).await;
    let far = chrono::Utc::now() + chrono::Duration::days(1);
    let mut left = usize::MAX;
    for _ in 0..50 {
        // Anything still unsent (a decoy the worker has not marked yet) would be claimed here.
        left = store.claim_outbox(far, 100, 1).await.unwrap().len();
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(left, 0, "every decoy was marked sent");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sink.wait_for(1, 1).await.len(), 1, "alice's message only");
    assert!(
        String::from_utf8_lossy(&mail[0]).contains("alice@example.com"),
        "the mail went to alice"
    );
    let hooks = receiver.calls();
    assert_eq!(hooks.len(), 1, "alice's event only: {hooks:?}");
    assert!(!hooks[0].body.contains("\"user_id\":\"\""), "{hooks:?}");

    let listed = run(configured(), &["outbox", "list"]);
    assert_eq!(listed.lines().count(), 2, "alice's two messages: {listed}");
    assert!(!listed.contains("nobody"), "{listed}");
    let stats = store.outbox_stats().await.unwrap();
    assert_eq!((stats.sent, stats.pending), (2, 0), "{stats:?}");
    assert_eq!(
        store.row_counts().await.unwrap().outbox,
        6,
        "alice's two rows and four decoys (a message and an event per unknown request)"
    );
    let metrics = reqwest::get(format!("http://127.0.0.1:{metrics_port}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "reset_outbox_delivered_total{channel=\"email\"} 1",
        "reset_outbox_delivered_total{channel=\"webhook\"} 1",
    ] {
        assert!(metrics.contains(line), "{line} in {metrics}");
    }
    // Registered at 0 from the start; the decoys moved neither.
    let moved: Vec<&str> = metrics
        .lines()
        .filter(|l| {
            l.starts_with("reset_outbox_failed_total") || l.starts_with("reset_outbox_dead_total")
        })
        .filter(|l| !l.ends_with(" 0"))
        .collect();
    assert!(moved.is_empty(), "{moved:?} in {metrics}");
}
