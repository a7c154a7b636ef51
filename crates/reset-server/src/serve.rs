//! `serve`: the HTTP server, the outbox worker, and graceful shutdown on SIGINT/SIGTERM.

use std::future::Future;

use anyhow::Context as _;
use reset_api::Api;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::settings::Settings;
use crate::wiring;
use reset_mail::worker;

/// Serves until SIGINT or SIGTERM; in-flight requests finish first.
pub async fn serve(settings: Settings) -> anyhow::Result<()> {
    let store = wiring::store(&settings).await?;
    if settings.migrate_on_start {
        let applied = store.migrate().await?;
        if applied > 0 {
            tracing::info!(applied, "migrations applied");
        }
    }
    let service = wiring::service(&settings, store.clone())?;
    let api = wiring::api(&settings, service.clone())?;
    let couriers = wiring::couriers(&settings)?;
    if settings.mail_transport == "log" {
        tracing::warn!(
            "mail_transport = log prints every message, reset links and codes included, to stderr: for development only"
        );
    }

    let (stop_worker, stopped) = watch::channel(false);
    let worker = tokio::spawn(worker::run(
        store.clone(),
        couriers,
        std::sync::Arc::new(wiring::renderer(&settings)?),
        wiring::worker_options(&settings),
        stopped,
    ));

    let listener = TcpListener::bind(&settings.bind)
        .await
        .with_context(|| format!("binding {}", settings.bind))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, framework = %settings.framework, database = %wiring::redact(&settings.database_url), "listening");
    run_framework(&settings.framework, listener, api, shutdown_signal()).await?;

    tracing::info!("shutting down");
    // Accepted reset requests are written before the worker stops.
    service.settle().await;
    let _ = stop_worker.send(true);
    let _ = worker.await;
    Ok(())
}

/// Serves `api` on `listener` with the named framework until `shutdown` resolves.
pub async fn run_framework(
    framework: &str,
    listener: TcpListener,
    api: Api,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    match framework {
        #[cfg(feature = "axum")]
        "axum" => Ok(reset_axum::serve(listener, api, shutdown).await?),
        #[cfg(feature = "actix")]
        "actix" => Ok(reset_actix::serve(listener, api, shutdown).await?),
        #[cfg(feature = "warp")]
        "warp" => Ok(reset_warp::serve(listener, api, shutdown).await?),
        other => anyhow::bail!(
            "framework {other:?} is not built into this server (available: {})",
            FRAMEWORKS.join(", ")
        ),
    }
}

/// The frameworks compiled into this binary (cargo features `axum`, `actix`, `warp`).
pub const FRAMEWORKS: &[&str] = &[
    #[cfg(feature = "actix")]
    "actix",
    #[cfg(feature = "axum")]
    "axum",
    #[cfg(feature = "warp")]
    "warp",
];

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
