//! Where rendered messages go.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use reset_core::Channel;
use reset_core::store::OutboxMessage;

use crate::render::Rendered;

/// Why a message was not delivered: retried later, unless it is permanent (see
/// [`DeliveryError::is_permanent`]).
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// A sender or recipient address that does not parse.
    #[error("invalid address: {0}")]
    Address(String),
    /// The message could not be put together (a template, a body, a missing event).
    #[error("cannot build the message: {0}")]
    Build(String),
    /// The transport failed for now (no connection, a timeout, an outage or a configuration
    /// to fix): retried.
    #[error("the transport failed: {0}")]
    Transport(String),
    /// The other side refused this message for good (the mailbox does not exist, the request
    /// itself is malformed): trying again cannot help. Refusals that a fixed configuration would
    /// turn around (credentials, relaying, a missing endpoint) stay retryable.
    #[error("refused: {0}")]
    Refused(String),
    /// No transport is configured for the message's channel.
    #[error("no transport for channel {0}")]
    NoChannel(&'static str),
}

impl DeliveryError {
    /// Whether trying again cannot help (a bad address, a broken template, no transport, a
    /// refusal): such a message goes to the dead-letter state at once.
    pub fn is_permanent(&self) -> bool {
        !matches!(self, Self::Transport(_))
    }

    /// An SMTP client error: permanent only when the recipient's mailbox is refused (550,
    /// 551, 553); an authentication or relaying refusal (535, 530, 554 …) is the operator's to
    /// fix, and the message waits for it.
    fn smtp(e: &lettre::transport::smtp::Error) -> Self {
        let code = e.status().map(|c| c.to_string());
        if matches!(code.as_deref(), Some("550" | "551" | "553")) {
            Self::Refused(e.to_string())
        } else {
            Self::Transport(e.to_string())
        }
    }
}

impl From<crate::render::RenderError> for DeliveryError {
    fn from(e: crate::render::RenderError) -> Self {
        Self::Build(e.to_string())
    }
}

/// A configured mail transport.
#[derive(Clone)]
pub enum MailTransport {
    /// One `.eml` file per message (`{outbox id}.eml`) in a folder; the folder is `0700` and
    /// each file `0600` (they hold live links).
    File {
        /// The folder the files are written to.
        dir: PathBuf,
        /// The sender of every message.
        from: Mailbox,
    },
    /// The whole message on standard error (development only: it shows the secret).
    Log {
        /// The sender of every message.
        from: Mailbox,
    },
    /// An SMTP server (`smtp://host:port`, `smtps://…`, `smtp://…?tls=required`, credentials in
    /// the URL's user and password). A message counts as sent once the server accepted it.
    Smtp {
        /// The pooled SMTP client.
        transport: AsyncSmtpTransport<Tokio1Executor>,
        /// The sender of every message.
        from: Mailbox,
    },
}

/// Deletes the file transport's `.eml` files in `dir` last written before `older_than` (they
/// hold links and codes; the retention sweep calls this with the delivered-mail retention).
/// How many were deleted; a file that vanished meanwhile is no error.
pub fn prune_mail_files(dir: &Path, older_than: SystemTime) -> std::io::Result<usize> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let mut deleted = 0;
    for entry in entries {
        let entry = entry?;
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "eml") {
            continue;
        }
        let written = match entry.metadata().and_then(|m| m.modified()) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        if written < older_than {
            match std::fs::remove_file(&path) {
                Ok(()) => deleted += 1,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(deleted)
}

/// Whether an SMTP URL carries credentials that could go over an unencrypted connection.
fn credentials_in_clear(url: &str) -> Result<bool, DeliveryError> {
    let parsed = url::Url::parse(url)
        .map_err(|e| DeliveryError::Transport(format!("invalid SMTP URL: {e}")))?;
    let credentials = !parsed.username().is_empty() || parsed.password().is_some();
    let encrypted = parsed.scheme() == "smtps"
        || parsed
            .query_pairs()
            .any(|(k, v)| k == "tls" && v == "required");
    Ok(credentials && !encrypted)
}

impl std::fmt::Debug for MailTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::File { dir, .. } => f
                .debug_struct("File")
                .field("dir", dir)
                .finish_non_exhaustive(),
            Self::Log { .. } => f.write_str("Log"),
            Self::Smtp { .. } => f.write_str("Smtp"),
        }
    }
}

impl MailTransport {
    /// The folder of the file transport (`None` for the others): its `.eml` files hold links
    /// and codes, so the retention sweep prunes them (see [`prune_mail_files`]).
    pub fn file_dir(&self) -> Option<&Path> {
        match self {
            Self::File { dir, .. } => Some(dir),
            _ => None,
        }
    }

    /// The file transport; creates `dir` (owner-only) when missing.
    pub fn file(dir: PathBuf, from: &str) -> Result<Self, DeliveryError> {
        reset_core::private_fs::create_dir_all(&dir)
            .map_err(|e| DeliveryError::Transport(format!("{}: {e}", dir.display())))?;
        Ok(Self::File {
            dir,
            from: mailbox(from)?,
        })
    }

    /// The log transport (development only: messages, secrets included, go to standard error).
    pub fn log(from: &str) -> Result<Self, DeliveryError> {
        Ok(Self::Log {
            from: mailbox(from)?,
        })
    }

    /// The SMTP transport for `url` (connections are pooled and opened on first use).
    ///
    /// A URL with credentials must say that the connection is encrypted (`smtps://`, or
    /// `smtp://…?tls=required` for STARTTLS), else it is refused here: plain `smtp://` and
    /// `tls=opportunistic` (which an attacker on the path can strip) would send the password
    /// in clear. `allow_plaintext_auth` lifts that, for a relay on the same host.
    pub fn smtp(url: &str, from: &str, allow_plaintext_auth: bool) -> Result<Self, DeliveryError> {
        if !allow_plaintext_auth && credentials_in_clear(url)? {
            return Err(DeliveryError::Transport(
                "the SMTP URL has credentials but no TLS: use smtps:// or ?tls=required \
                 (or allow plaintext authentication explicitly)"
                    .into(),
            ));
        }
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| DeliveryError::Transport(format!("invalid SMTP URL: {e}")))?
            .build();
        Ok(Self::Smtp {
            transport,
            from: mailbox(from)?,
        })
    }

    fn from(&self) -> &Mailbox {
        match self {
            Self::File { from, .. } | Self::Log { from } | Self::Smtp { from, .. } => from,
        }
    }

    /// The message as it would be sent to `to`.
    fn build(
        &self,
        message: &OutboxMessage,
        rendered: &Rendered,
        to: Mailbox,
    ) -> Result<Message, DeliveryError> {
        Message::builder()
            .from(self.from().clone())
            .to(to)
            .subject(rendered.subject.clone())
            .message_id(Some(format!("<{}@reset.local>", message.id)))
            .multipart(MultiPart::alternative_plain_html(
                rendered.text.clone(),
                rendered.html.clone(),
            ))
            .map_err(|e| DeliveryError::Build(e.to_string()))
    }

    /// A decoy's dry run of [`Self::send`]: the message is built and formatted as for
    /// sending (to the sender's own address: a decoy has none), then dropped.
    pub fn dry_run(
        &self,
        message: &OutboxMessage,
        rendered: &Rendered,
    ) -> Result<(), DeliveryError> {
        let email = self.build(message, rendered, self.from().clone())?;
        std::hint::black_box(email.formatted());
        Ok(())
    }

    /// Delivers one message.
    pub async fn send(
        &self,
        message: &OutboxMessage,
        rendered: &Rendered,
    ) -> Result<(), DeliveryError> {
        if message.channel != Channel::Email {
            return Err(DeliveryError::NoChannel(message.channel.as_str()));
        }
        let email = self.build(message, rendered, mailbox(&message.recipient)?)?;
        match self {
            Self::File { dir, .. } => {
                let path = dir.join(format!("{}.eml", message.id));
                let bytes = email.formatted();
                tokio::task::spawn_blocking(move || {
                    reset_core::private_fs::write(&path, &bytes)
                        .map_err(|e| format!("{}: {e}", path.display()))
                })
                .await
                .map_err(|e| DeliveryError::Transport(e.to_string()))?
                .map_err(DeliveryError::Transport)?;
            }
            Self::Smtp { transport, .. } => {
                transport
                    .send(email)
                    .await
                    .map_err(|e| DeliveryError::smtp(&e))?;
            }
            Self::Log { .. } => {
                let raw = String::from_utf8_lossy(&email.formatted()).into_owned();
                eprintln!("----- mail (log transport) -----\n{raw}\n----- end of mail -----");
            }
        }
        Ok(())
    }
}

fn mailbox(address: &str) -> Result<Mailbox, DeliveryError> {
    address
        .parse()
        .map_err(|_| DeliveryError::Address(address.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FROM: &str = "Reset <no-reply@example.com>";

    #[test]
    fn prunes_old_mail_files_only() {
        let dir = tempfile::tempdir().expect("dir");
        for name in ["old.eml", "new.eml", "old.txt"] {
            std::fs::write(dir.path().join(name), b"x").expect("write");
        }
        let old = SystemTime::now() - std::time::Duration::from_secs(8 * 86_400);
        for name in ["old.eml", "old.txt"] {
            std::fs::File::options()
                .write(true)
                .open(dir.path().join(name))
                .and_then(|f| f.set_modified(old))
                .expect("set mtime");
        }
        let cut = SystemTime::now() - std::time::Duration::from_secs(7 * 86_400);
        assert_eq!(prune_mail_files(dir.path(), cut).expect("prune"), 1);
        assert!(!dir.path().join("old.eml").exists());
        assert!(dir.path().join("new.eml").exists());
        assert!(dir.path().join("old.txt").exists(), "only .eml files");
        assert_eq!(
            prune_mail_files(&dir.path().join("missing"), cut).expect("no folder"),
            0
        );
    }

    #[tokio::test]
    async fn credentials_need_tls_unless_allowed() {
        for refused in [
            "smtp://user:secret@mail.example.com:587",
            "smtp://user@mail.example.com",
            "smtp://user:secret@mail.example.com?tls=opportunistic",
        ] {
            assert!(
                MailTransport::smtp(refused, FROM, false).is_err(),
                "{refused}"
            );
            assert!(
                MailTransport::smtp(refused, FROM, true).is_ok(),
                "{refused}"
            );
        }
        for fine in [
            "smtp://127.0.0.1:2525",
            "smtp://user:secret@mail.example.com:587?tls=required",
            "smtps://user:secret@mail.example.com",
        ] {
            assert!(MailTransport::smtp(fine, FROM, false).is_ok(), "{fine}");
        }
    }
}
