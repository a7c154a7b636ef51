//! The builder's `Worker`: dropping it (`let (api, _) = …`) does not stop delivery; its
//! `shutdown` writes the requests already answered before delivery stops.

#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::Arc;

use reset_examples::HostUsers;
use reset_testkit::process::newest_mail;

async fn serve(api: reset::Api) -> String {
    let app = axum::Router::new().nest("/auth", reset_axum::router(api));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });
    base
}

fn builder(dir: &std::path::Path) -> reset::Builder {
    let users = HostUsers::open(&dir.join("app.db")).unwrap();
    reset::Builder::new()
        .database_url(format!("sqlite://{}", dir.join("reset.db").display()))
        .directory(Arc::new(users))
        .mail(reset::MailTransport::file(dir.join("mail"), "App <a@example.com>").unwrap())
        .key(reset::SecretKey::new(vec![7; 32]).unwrap())
        .worker_options(reset::mail::worker::WorkerOptions {
            poll: std::time::Duration::from_millis(50),
            ..Default::default()
        })
}

async fn request_alice(base: &str) {
    let r = reqwest::Client::new()
        .post(format!("{base}/auth/v1/password-reset/request"))
        .header("content-type", "application/json")
        .body(r#"{"username":"alice"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_worker_still_delivers() {
    let dir = tempfile::tempdir().unwrap();
    let (api, _) = builder(dir.path()).build().await.unwrap();
    let base = serve(api).await;
    request_alice(&base).await;
    let mail = newest_mail(&dir.path().join("mail")).await;
    assert!(mail.contains("reset-password?token="), "{mail}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_writes_what_was_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let (api, worker) = builder(dir.path()).build().await.unwrap();
    let service = api.service().clone();
    let base = serve(api).await;
    request_alice(&base).await;
    worker.shutdown().await;
    assert_eq!(
        service.pending_issues(),
        0,
        "the accepted request was written"
    );
}
