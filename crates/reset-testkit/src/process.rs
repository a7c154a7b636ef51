//! Helpers for tests that run a program as a user would: wait for it to be ready, read the
//! mail it wrote.

use std::path::Path;
use std::time::Duration;

/// Polls `url` until it answers 200 (up to 10 s); `false` if it never did.
pub async fn wait_ready(http: &reqwest::Client, url: &str) -> bool {
    for _ in 0..200 {
        if http.get(url).send().await.is_ok_and(|r| r.status() == 200) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// The decoded text of the newest `.eml` file in `dir`, waiting up to 5 s for one to appear.
pub async fn newest_mail(dir: &Path) -> String {
    for _ in 0..100 {
        if let Ok(entries) = std::fs::read_dir(dir) {
            let mut files: Vec<_> = entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                .collect();
            files.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
            if let Some(newest) = files.last() {
                let raw = std::fs::read(newest).expect("mail file");
                return text_part(&raw);
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no mail in {}", dir.display());
}

/// The decoded `text/plain` part of a raw mail (the whole body when it is not multipart).
pub fn text_part(raw: &[u8]) -> String {
    let mail = mailparse::parse_mail(raw).expect("a mail");
    let part = mail
        .parts()
        .find(|p| p.ctype.mimetype == "text/plain")
        .unwrap_or(&mail);
    part.get_body().expect("a text body")
}

/// The decoded `text/html` part of a raw mail, if it has one.
pub fn html_part(raw: &[u8]) -> Option<String> {
    let mail = mailparse::parse_mail(raw).ok()?;
    let part = mail.parts().find(|p| p.ctype.mimetype == "text/html")?;
    part.get_body().ok()
}

/// The token of the first line of `mail` that starts with `link_prefix` (`…?token=`).
pub fn token_after(mail: &str, link_prefix: &str) -> String {
    let line = mail
        .lines()
        .find(|l| l.starts_with(link_prefix))
        .unwrap_or_else(|| panic!("no {link_prefix} in:\n{mail}"));
    line[link_prefix.len()..].trim().to_owned()
}

/// A real SMTP server for tests: aiosmtpd (PyPI) writing what it accepts to a Maildir.
pub struct SmtpSink {
    child: Option<std::process::Child>,
    pub port: u16,
    dir: tempfile::TempDir,
}

impl SmtpSink {
    /// Starts the server on `port` (0: a free one); `None`, loudly, when aiosmtpd is not
    /// installed (`python3 -m pip install aiosmtpd`), except with `CI=true`, where that panics.
    pub async fn start(port: u16) -> Option<Self> {
        let installed = std::process::Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .status()
            .is_ok_and(|s| s.success());
        if !installed {
            assert!(
                !crate::db::strict(),
                "aiosmtpd is not installed and CI=true"
            );
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr(),
                "\n*** SKIPPED an SMTP test: aiosmtpd is not installed (python3 -m pip install aiosmtpd) ***\n"
            );
            return None;
        }
        let port = if port == 0 { free_port() } else { port };
        let mut sink = Self {
            child: None,
            port,
            dir: tempfile::tempdir().expect("temp dir"),
        };
        sink.resume().await;
        Some(sink)
    }

    /// (Re)starts the server process on the same port and Maildir.
    pub async fn resume(&mut self) {
        let child = std::process::Command::new("python3")
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{}", self.port),
                "-c",
                "aiosmtpd.handlers.Mailbox",
            ])
            .arg(self.dir.path().join("maildir"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start aiosmtpd");
        self.child = Some(child);
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("aiosmtpd did not start on port {}", self.port);
    }

    /// Stops the server (the Maildir stays).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The raw messages received so far.
    pub fn received(&self) -> Vec<Vec<u8>> {
        let Ok(entries) = std::fs::read_dir(self.dir.path().join("maildir/new")) else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter_map(|e| std::fs::read(e.path()).ok())
            .collect()
    }

    /// Waits up to `secs` seconds for at least `n` messages.
    pub async fn wait_for(&self, n: usize, secs: u64) -> Vec<Vec<u8>> {
        for _ in 0..secs * 20 {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.received()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A free TCP port on the loopback interface.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}
