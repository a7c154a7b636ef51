//! An axum application with its own users, and the reset routes mounted under `/auth`.
//! `cargo run -p reset-examples --bin axum-app`, then see the README's "Embedding" section.

use std::net::SocketAddr;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use reset_examples::{HostUsers, Login, port, setup};

async fn login(State(users): State<HostUsers>, Json(body): Json<Login>) -> StatusCode {
    if users.login(&body.username, &body.password).await {
        StatusCode::OK
    } else {
        StatusCode::UNAUTHORIZED
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let port = port();
    let (users, api, worker) = setup(port).await?;
    let app = Router::new()
        .route("/login", post(login))
        .with_state(users)
        .nest("/auth", reset_axum::router(api.clone()));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("axum-app on http://127.0.0.1:{port} (reset routes under /auth)");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    // Reset requests already answered 202 are written before the process ends.
    worker.shutdown().await;
    Ok(())
}
