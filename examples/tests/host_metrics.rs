//! The host's metrics stay the host's: an axum application that installed its own `metrics`
//! recorder keeps it after mounting the reset routes, even when the builder is asked for ours
//! (ours are then counted in the host's recorder, beside its own series).

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};

/// The host application's recorder: remembers the names registered with it.
#[derive(Clone, Default)]
struct HostRecorder(Arc<Mutex<BTreeSet<String>>>);

impl HostRecorder {
    fn saw(&self, key: &Key) {
        self.0.lock().unwrap().insert(key.name().to_owned());
    }

    fn names(&self) -> BTreeSet<String> {
        self.0.lock().unwrap().clone()
    }
}

impl Recorder for HostRecorder {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        self.saw(key);
        Counter::noop()
    }
    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        self.saw(key);
        Gauge::noop()
    }
    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        self.saw(key);
        Histogram::noop()
    }
}

async fn host_route() -> &'static str {
    metrics::counter!("host_pages_total").increment(1);
    "hello"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_with_its_own_recorder_keeps_its_series() {
    let recorder = HostRecorder::default();
    metrics::set_global_recorder(recorder.clone()).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let (api, worker) = reset::Builder::new()
        .database_url(format!(
            "sqlite://{}",
            dir.path().join("reset.db").display()
        ))
        .key(reset::SecretKey::new(vec![7; 32]).unwrap())
        .mail(reset::MailTransport::file(dir.path().join("mail"), "App <a@example.com>").unwrap())
        .metrics(true)
        .build()
        .await
        .unwrap();
    assert!(
        !reset::api::install_prometheus(),
        "the host's recorder was not replaced"
    );
    let app = axum::Router::new()
        .route("/", axum::routing::get(host_route))
        .nest("/auth", reset_axum::router(api));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });

    let http = reqwest::Client::new();
    assert_eq!(
        http.get(format!("{base}/")).send().await.unwrap().status(),
        200
    );
    let r = http
        .post(format!("{base}/auth/v1/password-reset/request"))
        .header("content-type", "application/json")
        .body(r#"{"username":"someone"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    assert_eq!(
        http.get(format!("{base}/")).send().await.unwrap().status(),
        200
    );

    let names = recorder.names();
    assert!(names.contains("host_pages_total"), "{names:?}");
    assert!(
        names.contains("reset_http_responses_total"),
        "ours count in the host's recorder: {names:?}"
    );
    worker.shutdown().await;
}
