//! Helpers for tests that run a program as a user would: wait for it to be ready, read the
//! mail it wrote, and a real SMTP server for it to send to.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
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

/// A real SMTP server for tests, inside the test process: the `mailin` crate speaks the
/// protocol over a real TCP socket on loopback, and every message it accepts is kept. It can
/// refuse messages (550, permanent), go away (the port closes, open sessions die) and come back
/// on the same port, as a real mail server does. Nothing to install.
pub struct SmtpSink {
    /// The loopback port the server listens on (the same after `stop` and `resume`).
    pub port: u16,
    received: Arc<Mutex<Vec<Vec<u8>>>>,
    refusing: Arc<AtomicBool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl SmtpSink {
    /// Starts the server on `port` (0: a free one). Always `Some`: kept an `Option` so the
    /// callers read as they did when the sink was an external program.
    pub async fn start(port: u16) -> Option<Self> {
        let port = if port == 0 { free_port() } else { port };
        let mut sink = Self {
            port,
            received: Arc::default(),
            refusing: Arc::default(),
            task: None,
        };
        sink.resume().await;
        Some(sink)
    }

    /// (Re)starts listening on the same port.
    pub async fn resume(&mut self) {
        self.stop();
        let mut listener = None;
        for _ in 0..100 {
            match tokio::net::TcpListener::bind(("127.0.0.1", self.port)).await {
                Ok(l) => {
                    listener = Some(l);
                    break;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
        let listener =
            listener.unwrap_or_else(|| panic!("SMTP sink: port {} stays busy", self.port));
        let (received, refusing) = (self.received.clone(), self.refusing.clone());
        self.task = Some(tokio::spawn(async move {
            // Sessions live in the set, so stopping the server ends them too.
            let mut sessions = tokio::task::JoinSet::new();
            while let Ok((conn, peer)) = listener.accept().await {
                let handler = Collect {
                    received: received.clone(),
                    refusing: refusing.clone(),
                    message: Vec::new(),
                };
                sessions.spawn(smtp_session(conn, peer.ip(), handler));
            }
        }));
    }

    /// Goes away: the port closes and open sessions are cut (what was accepted stays).
    pub fn stop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }

    /// While `true`, every recipient is refused with 550 (a permanent failure).
    pub fn refuse(&self, refusing: bool) {
        self.refusing.store(refusing, Ordering::SeqCst);
    }

    /// The raw messages received so far.
    pub fn received(&self) -> Vec<Vec<u8>> {
        self.received
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
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

/// Keeps each accepted message.
struct Collect {
    received: Arc<Mutex<Vec<Vec<u8>>>>,
    refusing: Arc<AtomicBool>,
    message: Vec<u8>,
}

impl mailin::Handler for Collect {
    fn rcpt(&mut self, _to: &str) -> mailin::Response {
        if self.refusing.load(Ordering::SeqCst) {
            mailin::response::NO_MAILBOX
        } else {
            mailin::response::OK
        }
    }

    fn data_start(&mut self, _: &str, _: &str, _: bool, _: &[String]) -> mailin::Response {
        self.message.clear();
        mailin::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.message.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> mailin::Response {
        let message = std::mem::take(&mut self.message);
        self.received
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(message);
        mailin::response::OK
    }
}

/// One SMTP session: the greeting, then each line through `mailin`'s state machine.
async fn smtp_session(conn: tokio::net::TcpStream, peer: std::net::IpAddr, handler: Collect) {
    use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _};
    let (read, mut write) = conn.into_split();
    let mut read = tokio::io::BufReader::new(read);
    let mut session = mailin::SessionBuilder::new("reset-testkit").build(peer, handler);
    let send = |r: &mailin::Response| r.buffer().unwrap_or_default();
    if write.write_all(&send(&session.greeting())).await.is_err() {
        return;
    }
    let mut line = Vec::new();
    loop {
        line.clear();
        match read.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let response = session.process(&line);
        match response.action {
            mailin::Action::NoReply => {}
            mailin::Action::Close => {
                let _ = write.write_all(&send(&response)).await;
                return;
            }
            mailin::Action::Reply | mailin::Action::UpgradeTls => {
                if write.write_all(&send(&response)).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Whether unreachable services or missing programs must fail the run (CI) instead of skipping.
pub fn strict() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Whether this process runs as root.
pub fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// `program` run as `user` when this process is root (PostgreSQL, MariaDB and PgBouncer refuse
/// root), else as is.
pub fn command_as(user: &str, program: &str) -> std::process::Command {
    if is_root() {
        let mut c = std::process::Command::new("runuser");
        c.args(["-u", user, "--", program]);
        c
    } else {
        std::process::Command::new(program)
    }
}

/// A free TCP port on the loopback interface.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A child process killed (and reaped) when dropped, so a failing test leaves none behind.
pub struct KillOnDrop(pub std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
