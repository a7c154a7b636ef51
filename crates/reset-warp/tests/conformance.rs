//! The conformance suite against the warp adapter, on SQLite, PostgreSQL and MySQL.

fn spawn(listener: tokio::net::TcpListener, api: reset_api::Api) {
    tokio::spawn(reset_warp::serve(listener, api, std::future::pending()));
}

reset_testkit::conformance_suite!(spawn);
