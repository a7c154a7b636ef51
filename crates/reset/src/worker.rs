//! [`Worker`]: what runs beside the routes (the outbox worker and the retention sweep), and
//! the shutdown that loses nothing accepted.

use std::sync::Arc;

use reset_core::ResetService;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The background half of a built API. Call [`Worker::shutdown`] after the HTTP server
/// stopped. Dropping it instead (`let (api, _) = …`) stops nothing: delivery and the sweep go on
/// until the runtime ends, but then nothing waits for the reset requests already answered 202.
#[derive(Debug)]
#[must_use = "call Worker::shutdown after the server stopped, so that accepted requests are written"]
pub struct Worker {
    service: ResetService,
    /// Shared with the tasks, so that dropping the `Worker` does not close the channel (a
    /// closed channel would stop them).
    stop: Arc<watch::Sender<bool>>,
    tasks: Vec<JoinHandle<()>>,
}

impl Worker {
    pub(crate) fn new(
        service: ResetService,
        stop: Arc<watch::Sender<bool>>,
        tasks: Vec<JoinHandle<()>>,
    ) -> Self {
        Self {
            service,
            stop,
            tasks,
        }
    }

    /// A receiver that turns `true` when [`Worker::shutdown`] begins, for more background work
    /// that should stop with it.
    pub fn stopping(&self) -> watch::Receiver<bool> {
        self.stop.subscribe()
    }

    /// Writes every accepted reset request (answered 202, not yet in the database), then lets
    /// the outbox worker finish its round and stops it, and the sweep.
    pub async fn shutdown(self) {
        let pending = self.service.pending_issues();
        if pending > 0 {
            tracing::info!(pending, "draining accepted reset requests");
        }
        self.service.settle().await;
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// The file transport's folder and how long its files are kept (the delivered-mail retention).
#[derive(Debug)]
pub(crate) struct MailFiles {
    pub(crate) dir: std::path::PathBuf,
    pub(crate) keep: std::time::Duration,
}

/// The retention sweep, every `interval` until `stop` says so; with the file transport, its
/// `.eml` files older than the delivered-mail retention go too (they hold links and codes).
pub(crate) async fn sweep_every(
    service: ResetService,
    mail_files: Option<MailFiles>,
    interval: std::time::Duration,
    mut stop: watch::Receiver<bool>,
) {
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
                    tracing::warn!(error = %e, "retention sweep: cannot delete old mail files");
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
