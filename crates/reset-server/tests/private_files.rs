//! What stores secrets is created private whatever the umask: the data and mail folders `0700`,
//! the SQLite database, the generated key and every mail file `0600`.

#![allow(clippy::unwrap_used)]
#![cfg(unix)]

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Command;

use reset_testkit::process::{free_port, newest_mail};

mod common;
use common::{Server, add_alice, command, request_alice};

/// `command` run by a shell whose umask is `000`: a careless umask must not open anything up.
fn under_umask_000(c: &Command) -> Command {
    let mut sh = Command::new("sh");
    sh.arg("-c")
        .arg("umask 000 && exec \"$0\" \"$@\"")
        .arg(c.get_program())
        .args(c.get_args())
        .env_clear();
    for (k, v) in c.get_envs() {
        if let Some(v) = v {
            sh.env(k, v);
        }
    }
    if let Some(d) = c.get_current_dir() {
        sh.current_dir(d);
    }
    sh
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test(flavor = "multi_thread")]
async fn files_that_hold_secrets_are_private_whatever_the_umask() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    add_alice(under_umask_000(&command(dir.path(), None, port)));
    let _server = Server::start(
        under_umask_000(&command(dir.path(), None, port)),
        dir.path(),
        "server",
        port,
    )
    .await;
    request_alice(&format!("http://127.0.0.1:{port}")).await;
    newest_mail(&dir.path().join("data/mail")).await;

    let data = dir.path().join("data");
    assert_eq!(mode(&data), 0o700, "data folder");
    assert_eq!(mode(&data.join("mail")), 0o700, "mail folder");
    for file in ["reset.db", "secret.key"] {
        assert_eq!(mode(&data.join(file)), 0o600, "{file}");
    }
    for entry in std::fs::read_dir(&data).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            assert_eq!(mode(&path), 0o600, "{}", path.display());
        }
    }
    let mails: Vec<_> = std::fs::read_dir(data.join("mail"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(!mails.is_empty());
    for mail in mails {
        assert_eq!(mode(&mail), 0o600, "{}", mail.display());
    }
}
