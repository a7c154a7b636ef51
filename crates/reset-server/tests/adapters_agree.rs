//! actix-web, axum and warp answer every scripted request with the same status, headers that
//! matter and body bytes, on SQLite and on PostgreSQL.

use reset_testkit::TestDb;
use reset_testkit::adapters_agree::{Adapter, assert_adapters_agree};

fn axum(l: tokio::net::TcpListener, api: reset_api::Api) {
    tokio::spawn(reset_axum::serve(l, api, std::future::pending()));
}

fn actix(l: tokio::net::TcpListener, api: reset_api::Api) {
    tokio::spawn(reset_actix::serve(l, api, std::future::pending()));
}

fn warp(l: tokio::net::TcpListener, api: reset_api::Api) {
    tokio::spawn(reset_warp::serve(l, api, std::future::pending()));
}

/// Each framework's way of mounting under a prefix, as a host application would.
fn axum_under_auth(l: tokio::net::TcpListener, api: reset_api::Api) {
    let app = axum::Router::new().nest("/auth", reset_axum::router(api));
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move { axum::serve(l, app).await });
}

fn actix_under_auth(l: tokio::net::TcpListener, api: reset_api::Api) {
    use actix_web::{App, HttpServer, web};
    let server = HttpServer::new(move || {
        App::new().service(web::scope("/auth").configure(reset_actix::configure(api.clone())))
    })
    .workers(1)
    .disable_signals()
    .listen(l.into_std().expect("std listener"))
    .expect("listen")
    .run();
    tokio::spawn(server);
}

fn warp_under_auth(l: tokio::net::TcpListener, api: reset_api::Api) {
    use warp::Filter as _;
    tokio::spawn(
        warp::serve(warp::path("auth").and(reset_warp::routes(api)))
            .incoming(l)
            .run(),
    );
}

const ADAPTERS: &[Adapter] = &[
    Adapter {
        name: "axum",
        spawn: axum,
        prefix: "",
    },
    Adapter {
        name: "actix",
        spawn: actix,
        prefix: "",
    },
    Adapter {
        name: "warp",
        spawn: warp,
        prefix: "",
    },
    Adapter {
        name: "axum under /auth",
        spawn: axum_under_auth,
        prefix: "/auth",
    },
    Adapter {
        name: "actix under /auth",
        spawn: actix_under_auth,
        prefix: "/auth",
    },
    Adapter {
        name: "warp under /auth",
        spawn: warp_under_auth,
        prefix: "/auth",
    },
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sqlite() {
    assert_adapters_agree(ADAPTERS, || async { Some(TestDb::sqlite()) }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres() {
    assert_adapters_agree(ADAPTERS, TestDb::postgres).await;
}
