//! Account-free password estimates (zxcvbn for a page that checks on every keystroke) on a
//! thread of their own, apart from the argon2 permits.
//!
//! A crafted password keeps zxcvbn busy for milliseconds, and such checks need no secret, so a
//! few addresses could otherwise keep every hashing permit busy and stall each `complete`. Here
//! they run one at a time on one thread at the lowest scheduling priority (nice 19): when the
//! cores are contended the argon2 threads get them, and idle cores still serve the estimates at
//! full speed. At most [`QUEUED`] wait; past that the check is answered 503 with `Retry-After`.

use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};

use crate::error::ResetError;

/// Estimates that may wait for the thread; more are refused at once.
pub const QUEUED: usize = 32;

type Job = Box<dyn FnOnce() + Send>;

/// The estimate thread's door. Cheap to clone; the thread ends when the last clone is dropped.
#[derive(Clone)]
pub struct Estimates {
    jobs: SyncSender<Job>,
}

impl std::fmt::Debug for Estimates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Estimates")
    }
}

impl Estimates {
    /// Starts the thread (at start-up: one per service).
    pub fn start() -> Self {
        let (jobs, queue) = sync_channel::<Job>(QUEUED);
        let started = std::thread::Builder::new()
            .name("reset-estimates".into())
            .spawn(move || {
                use thread_priority::{ThreadPriority, set_current_thread_priority};
                if let Err(e) = set_current_thread_priority(ThreadPriority::Min) {
                    tracing::warn!(error = ?e, "password estimates run at normal priority");
                }
                while let Ok(job) = queue.recv() {
                    // A panicking estimate fails its own request (its answer is dropped: 503),
                    // not the thread every later check needs.
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                }
            });
        if let Err(e) = started {
            // Without the thread every estimate answers 503; the rest of the service works.
            tracing::error!(error = %e, "cannot start the password-estimate thread");
        }
        Self { jobs }
    }

    /// Runs `work` on the estimate thread: 503 (`Unavailable`) when [`QUEUED`] already wait.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ResetError> {
        let busy = || ResetError::Unavailable {
            retry_after_secs: 1,
        };
        let (done, answer) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = done.send(work());
        });
        match self.jobs.try_send(job) {
            Ok(()) => answer.await.map_err(|_| busy()),
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                metrics::counter!("reset_password_estimates_refused_total").increment(1);
                Err(busy())
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::password::{HasherConfig, PasswordHasher};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_flood_of_estimates_neither_waits_forever_nor_holds_the_hashers() {
        let estimates = Estimates::start();
        // The thread is held busy, and its queue filled.
        let (release, held) = std::sync::mpsc::channel::<()>();
        let busy = estimates.clone();
        let first = tokio::spawn(async move { busy.run(move || held.recv().is_ok()).await });
        tokio::time::sleep(Duration::from_millis(50)).await;
        let mut waiting = Vec::new();
        for _ in 0..QUEUED {
            let e = estimates.clone();
            waiting.push(tokio::spawn(async move { e.run(|| 1).await }));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(matches!(
            estimates.run(|| 1).await,
            Err(ResetError::Unavailable { .. })
        ));
        // argon2 still runs at once: the estimates hold none of its permits.
        let hasher =
            PasswordHasher::new(HasherConfig::default(), Arc::new(crate::OsSecretRng)).unwrap();
        let hashed = tokio::time::timeout(Duration::from_secs(10), hasher.hash("a password"))
            .await
            .expect("a hash while every estimate waits");
        assert!(hashed.is_ok());
        release.send(()).unwrap();
        assert!(first.await.unwrap().unwrap());
        for w in waiting {
            assert_eq!(w.await.unwrap().unwrap(), 1);
        }
    }
}
