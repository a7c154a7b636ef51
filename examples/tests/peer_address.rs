//! No silent trap: routes mounted without the framework's connect info (so without the
//! client's address, and so without the limits per address) answer 500 naming the fix, unless
//! the embedder chose to run without addresses.

#![allow(clippy::unwrap_used)]

async fn serve_without_connect_info(builder: reset::Builder) -> (String, reset::Worker) {
    let (api, worker) = builder.build().await.unwrap();
    let app = axum::Router::new().nest("/auth", reset_axum::router(api));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    // `axum::serve(listener, app)`: no `into_make_service_with_connect_info`.
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, worker)
}

fn builder(dir: &std::path::Path) -> reset::Builder {
    reset::Builder::new()
        .database_url(format!("sqlite://{}", dir.join("reset.db").display()))
        .key(reset::SecretKey::new(vec![7; 32]).unwrap())
}

async fn request(base: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{base}/auth/v1/password-reset/request"))
        .header("content-type", "application/json")
        .body(r#"{"username":"someone"}"#)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_client_address_names_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let (base, worker) = serve_without_connect_info(builder(dir.path())).await;
    let r = request(&base).await;
    assert_eq!(r.status(), 500);
    let body: serde_json::Value = r.json().await.unwrap();
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains("into_make_service_with_connect_info") && detail.contains("NotNeeded"),
        "{body}"
    );
    worker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_addresses_when_chosen() {
    let dir = tempfile::tempdir().unwrap();
    let (base, worker) =
        serve_without_connect_info(builder(dir.path()).without_peer_addresses()).await;
    assert_eq!(request(&base).await.status(), 202);
    worker.shutdown().await;
}
