//! The retention sweep deletes the file transport's `.eml` files once they are older than the
//! delivered-mail retention (they hold links and codes), and only those.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, SystemTime};

use reset_testkit::process::free_port;

mod common;
use common::{Server, command, eventually};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweep_deletes_old_mail_files() {
    let dir = tempfile::tempdir().unwrap();
    let mail = dir.path().join("data/mail");
    std::fs::create_dir_all(&mail).unwrap();
    for name in ["old.eml", "fresh.eml", "notes.txt"] {
        std::fs::write(mail.join(name), b"x").unwrap();
    }
    let eight_days_ago = SystemTime::now() - Duration::from_secs(8 * 86_400);
    for name in ["old.eml", "notes.txt"] {
        std::fs::File::options()
            .write(true)
            .open(mail.join(name))
            .and_then(|f| f.set_modified(eight_days_ago))
            .unwrap();
    }
    let port = free_port();
    let mut serve = command(dir.path(), None, port);
    serve
        .env("RESET_RETENTION_SENT_DAYS", "7")
        .env("RESET_SWEEP_INTERVAL_SECS", "1");
    let _server = Server::start(serve, dir.path(), "server", port).await;
    assert!(
        eventually(5, || !mail.join("old.eml").exists()).await,
        "the old mail file is deleted"
    );
    assert!(mail.join("fresh.eml").exists());
    assert!(mail.join("notes.txt").exists(), "only .eml files");
}
