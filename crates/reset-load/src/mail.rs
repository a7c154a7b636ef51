//! The outbox worker at its default settings, delivering to `.eml` files in a folder of its
//! own, as a server started with `RESET_MAIL_DIR` does.

use std::sync::Arc;

use reset_mail::{Couriers, MailTransport, Renderer};

use crate::server::Server;

/// A running worker; [`MailWorker::stop`] lets it finish its round.
pub struct MailWorker {
    /// Where the messages are written.
    pub dir: tempfile::TempDir,
    pub options: reset_mail::worker::WorkerOptions,
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl MailWorker {
    pub fn start(server: &Server) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let transport = MailTransport::file(dir.path().to_owned(), "Load <load@localhost>")?;
        let options = reset_mail::worker::WorkerOptions::default();
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(reset_mail::worker::run(
            server.store.clone(),
            Couriers::mail(transport),
            Arc::new(Renderer::new(None)?),
            options,
            stopped,
        ));
        Ok(Self {
            dir,
            options,
            stop,
            task,
        })
    }

    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}
