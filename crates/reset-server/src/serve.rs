//! `serve`: the HTTP server, the outbox worker, and graceful shutdown on SIGINT/SIGTERM.

use std::future::Future;

use anyhow::Context as _;
use reset_api::Api;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::settings::Settings;
use crate::wiring;

/// Serves until SIGINT or SIGTERM; in-flight requests finish first.
pub async fn serve(settings: Settings) -> anyhow::Result<()> {
    let couriers = wiring::couriers(&settings)?;
    if settings.mail_transport == "log" {
        tracing::warn!(
            "mail_transport = log prints every message, reset links and codes included, to stderr: for development only"
        );
    }

    if settings.dialect_forgot_password && !settings.forgot_password_hide_unknown {
        tracing::warn!(
            prefix = %settings.dialect_forgot_password_prefix,
            "the forgot-password dialect answers 404 for unknown usernames (its clients expect it), so it tells who has an account; set RESET_FORGOT_PASSWORD_HIDE_UNKNOWN=true to hide them, or RESET_DIALECT_FORGOT_PASSWORD=false to switch it off"
        );
    }

    if settings.dialect_forgot_password && settings.code_digits > 6 {
        tracing::warn!(
            code_digits = settings.code_digits,
            "the forgot-password dialect takes codes of 1 to 6 digits, as its clients send them: with longer codes its checkCode and resetPassword refuse every code"
        );
    }

    let (api, worker) = wiring::builder(&settings)?
        .database_url(&settings.database_url)
        .pool(reset_diesel::PoolOptions {
            max_connections: settings.db_max_connections,
            listen_url: settings.database_listen_url.clone(),
        })
        .couriers(couriers)
        .renderer(wiring::renderer(&settings)?)
        .metrics(settings.metrics_bind.is_some())
        .build()
        .await?;

    let listener = TcpListener::bind(&settings.bind)
        .await
        .with_context(|| format!("binding {}", settings.bind))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, framework = %settings.framework, database = %reset_diesel::redact_url(&settings.database_url), "listening");
    let metrics = match &settings.metrics_bind {
        Some(bind) => Some(
            serve_metrics(
                bind,
                settings.framework.clone(),
                api.metrics_only(),
                worker.stopping(),
            )
            .await?,
        ),
        None => None,
    };
    run_framework(&settings.framework, listener, api, shutdown_signal()).await?;

    tracing::info!("shutting down");
    // Accepted reset requests are written before the worker stops.
    worker.shutdown().await;
    tracing::info!("accepted reset requests written");
    if let Some(metrics) = metrics {
        let _ = metrics.await;
    }
    Ok(())
}

/// Binds `bind` and serves `api` (built with [`Api::metrics_only`]: `GET /metrics` and nothing
/// else) on it until `stop` says so. Never on the public listener: the outbox and delivery
/// series move only when a real account is asked for.
async fn serve_metrics(
    bind: &str,
    framework: String,
    api: Api,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let listener = TcpListener::bind(bind)
        .await
        .with_context(|| format!("binding metrics_bind {bind}"))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "metrics listening (GET /metrics only)");
    let shutdown = async move {
        let _ = stop.changed().await;
    };
    Ok(tokio::spawn(async move {
        if let Err(e) = run_framework(&framework, listener, api, shutdown).await {
            tracing::error!(error = %e, "the metrics listener failed");
        }
    }))
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
