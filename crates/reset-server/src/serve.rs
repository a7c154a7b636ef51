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

    let (stop_worker, stopped) = watch::channel(false);
    let worker = tokio::spawn(worker::run(
        store.clone(),
        couriers,
        std::sync::Arc::new(wiring::renderer(&settings)?),
        wiring::worker_options(&settings),
        stopped,
    ));

    // The file transport's .eml files go with the outbox rows they came from.
    let mail_files = (settings.mail_transport == "file").then(|| MailFiles {
        dir: settings.mail_dir.clone(),
        keep: std::time::Duration::from_secs(service.config().retention.outbox_sent_secs),
    });
    let sweeper = tokio::spawn(sweep_every(
        service.clone(),
        mail_files,
        std::time::Duration::from_secs(settings.sweep_interval_secs),
        stop_worker.subscribe(),
    ));

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
                stop_worker.subscribe(),
            )
            .await?,
        ),
        None => None,
    };
    run_framework(&settings.framework, listener, api, shutdown_signal()).await?;

    tracing::info!("shutting down");
    // Accepted reset requests are written before the worker stops.
    let pending = service.pending_issues();
    if pending > 0 {
        tracing::info!(pending, "draining accepted reset requests");
    }
    service.settle().await;
    tracing::info!(drained = pending, "accepted reset requests written");
    let _ = stop_worker.send(true);
    let _ = worker.await;
    let _ = sweeper.await;
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

/// The file transport's folder and how long its files are kept (the delivered-mail retention).
struct MailFiles {
    dir: std::path::PathBuf,
    keep: std::time::Duration,
}

/// The retention sweep, every `interval` (none when it is zero) until `stop` says so; with the
/// file transport, its `.eml` files older than the delivered-mail retention go too.
async fn sweep_every(
    service: reset_core::ResetService,
    mail_files: Option<MailFiles>,
    interval: std::time::Duration,
    mut stop: watch::Receiver<bool>,
) {
    if interval.is_zero() {
        return;
    }
    loop {
        if let Some(files) = &mail_files {
            // A retention reaching past the epoch keeps every file.
            let cut = std::time::SystemTime::now()
                .checked_sub(files.keep)
                .unwrap_or(std::time::UNIX_EPOCH);
            let dir = files.dir.clone();
            match tokio::task::spawn_blocking(move || reset_mail::prune_mail_files(&dir, cut)).await
            {
                Ok(Ok(0)) => {}
                Ok(Ok(n)) => tracing::info!(files = n, "retention sweep: mail files deleted"),
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "retention sweep: cannot delete old mail files")
                }
                Err(e) => tracing::warn!(error = %e, "retention sweep: mail file task failed"),
            }
        }
        match service.sweep().await {
            Ok(swept) if swept.total() > 0 => tracing::info!(
                secrets = swept.secrets,
                rate_limits = swept.rate_limits,
                outbox = swept.outbox,
                audit = swept.audit,
                "retention sweep"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "retention sweep failed; trying again later"),
        }
        tokio::select! {
            () = tokio::time::sleep(interval) => {}
            _ = stop.changed() => return,
        }
    }
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
