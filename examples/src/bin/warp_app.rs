//! A warp application with its own users, and the reset routes mounted under `/auth`.
//! `cargo run -p reset-examples --bin warp-app`, then see the README's "Embedding" section.

use reset_examples::{HostUsers, Login, port, setup};
use warp::Filter as _;
use warp::http::StatusCode;

async fn login(users: HostUsers, body: Login) -> Result<StatusCode, warp::Rejection> {
    Ok(if users.login(&body.username, &body.password).await {
        StatusCode::OK
    } else {
        StatusCode::UNAUTHORIZED
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let port = port();
    let (users, api, worker) = setup(port).await?;
    let login = warp::path("login")
        .and(warp::path::end())
        .and(warp::post())
        .and(warp::any().map(move || users.clone()))
        .and(warp::body::json())
        .and_then(login);
    let routes = login.or(warp::path("auth").and(reset_warp::routes(api.clone())));
    println!("warp-app on http://127.0.0.1:{port} (reset routes under /auth)");
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    warp::serve(routes)
        .incoming(listener)
        .graceful(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .run()
        .await;
    // Reset requests already answered 202 are written before the process ends.
    worker.shutdown().await;
    Ok(())
}
