//! A PostgreSQL URL read as libpq reads it, and connections made from it.
//!
//! tokio-postgres reads the URL (several hosts, `target_session_attrs`, `connect_timeout`, …);
//! this module takes out what it does not know and does itself:
//!
//! - `sslmode` (`disable`, `prefer` (the default), `require`, `verify-ca`, `verify-full`) and
//!   `sslrootcert` (a PEM file, or `system`): see [`SslMode`] and [`super::tls`].
//! - `pgbouncer=true`: the URL reaches PostgreSQL through a pooler in transaction mode (PgBouncer
//!   before 1.21 keeps no prepared statement across transactions). Connections then keep no
//!   statement cache, and the store runs each call inside a transaction ([`Pooling`]).

use std::path::PathBuf;
use std::str::FromStr as _;

use diesel::ConnectionError;
use diesel_async::{AsyncConnection as _, SimpleAsyncConnection as _};
use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;
use tokio_postgres_rustls::MakeRustlsConnect;

use super::conn::Conn;
use super::tls::{self, Checks};

/// libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    /// No TLS.
    Disable,
    /// TLS when the server offers it; the certificate is not checked (libpq's default).
    Prefer,
    /// TLS or no connection; the certificate is checked only when `sslrootcert` is given (as
    /// `verify-ca` then, as libpq does).
    Require,
    /// TLS with a certificate whose chain ends at `sslrootcert` (or a public root).
    VerifyCa,
    /// As `verify-ca`, and the certificate names the host connected to.
    VerifyFull,
}

/// How calls may use a connection taken from the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pooling {
    /// A connection is one server session (PostgreSQL itself, or a pooler in session mode).
    Session,
    /// A pooler in transaction mode (`pgbouncer=true`): only a transaction keeps one server
    /// connection, so every call runs inside one and no prepared statement outlives it.
    Transaction,
}

/// Why a PostgreSQL URL cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// `sslmode` has a value libpq does not know.
    #[error("sslmode={0:?}: use disable, prefer, require, verify-ca or verify-full")]
    SslMode(String),
    /// `pgbouncer` is neither true nor false.
    #[error("pgbouncer={0:?}: use true (a pooler in transaction mode) or false")]
    Pgbouncer(String),
    /// `sslrootcert` names a file that cannot be read or holds no certificate.
    #[error("sslrootcert {path}: {reason}")]
    RootCert {
        /// The file.
        path: PathBuf,
        /// What was wrong with it.
        reason: String,
    },
    /// tokio-postgres refused the rest of the URL.
    #[error("{0}")]
    Url(String),
    /// rustls refused the configuration.
    #[error("TLS configuration: {0}")]
    Tls(String),
}

/// A PostgreSQL URL, ready to connect.
#[derive(Clone)]
pub struct Target {
    config: tokio_postgres::Config,
    tls: MakeRustlsConnect,
    ssl_mode: SslMode,
    pooling: Pooling,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("hosts", &self.config.get_hosts())
            .field("ssl_mode", &self.ssl_mode)
            .field("pooling", &self.pooling)
            .finish_non_exhaustive()
    }
}

impl Target {
    /// Reads `url` (`postgres://…` or `postgresql://…`).
    pub fn parse(url: &str) -> Result<Self, TargetError> {
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let mut ssl_mode = SslMode::Prefer;
        let mut root_cert = None;
        let mut pooling = Pooling::Session;
        let mut rest = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = percent_encoding::percent_decode_str(value).decode_utf8_lossy();
            match key {
                "sslmode" => {
                    ssl_mode = match &*value {
                        "disable" => SslMode::Disable,
                        "prefer" | "allow" => SslMode::Prefer,
                        "require" => SslMode::Require,
                        "verify-ca" => SslMode::VerifyCa,
                        "verify-full" => SslMode::VerifyFull,
                        other => return Err(TargetError::SslMode(other.to_owned())),
                    }
                }
                "sslrootcert" => root_cert = Some(value.into_owned()),
                "pgbouncer" => {
                    pooling = match &*value {
                        "true" | "1" | "on" => Pooling::Transaction,
                        "false" | "0" | "off" => Pooling::Session,
                        other => return Err(TargetError::Pgbouncer(other.to_owned())),
                    }
                }
                _ => rest.push(pair),
            }
        }
        let rebuilt = if rest.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", rest.join("&"))
        };
        let mut config = tokio_postgres::Config::from_str(&rebuilt)
            .map_err(|e| TargetError::Url(e.to_string()))?;
        config.ssl_mode(match ssl_mode {
            SslMode::Disable => tokio_postgres::config::SslMode::Disable,
            SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
            _ => tokio_postgres::config::SslMode::Require,
        });
        let roots = match root_cert.as_deref() {
            None | Some("system") => None,
            Some(path) => Some(read_roots(path.into())?),
        };
        let checks = match (ssl_mode, roots) {
            (SslMode::Disable | SslMode::Prefer, _) | (SslMode::Require, None) => Checks::Nothing,
            (SslMode::Require | SslMode::VerifyCa, roots) => {
                Checks::Chain(roots.unwrap_or_else(tls::public_roots))
            }
            (SslMode::VerifyFull, roots) => {
                Checks::ChainAndName(roots.unwrap_or_else(tls::public_roots))
            }
        };
        let tls = tls::client_config(checks).map_err(|e| TargetError::Tls(e.to_string()))?;
        Ok(Self {
            config,
            tls: MakeRustlsConnect::new(tls),
            ssl_mode,
            pooling,
        })
    }

    /// How pooled connections may be used.
    pub fn pooling(&self) -> Pooling {
        self.pooling
    }

    /// A new connection: to the first host that answers (and, with
    /// `target_session_attrs=read-write`, accepts writes), over TLS as `sslmode` says. Behind a
    /// transaction pooler, its statement cache is off.
    pub async fn establish(&self) -> diesel::ConnectionResult<Conn> {
        let (client, connection) = self
            .config
            .connect(self.tls.clone())
            .await
            .map_err(|e| ConnectionError::BadConnection(explain(self.ssl_mode, &e)))?;
        if self.pooling == Pooling::Session {
            return Conn::try_from_client_and_connection(client, connection).await;
        }
        // Behind a transaction pooler even diesel-async's set-up (`SET TIME ZONE`, `SET
        // CLIENT_ENCODING`, prepared statements) must run in a transaction. The connection is
        // driven here (it ends when the client is dropped), so the `BEGIN` can go first; the
        // pooler passes the settings on (it tracks both parameters for each client).
        tokio::spawn(async move {
            let _ = connection.await;
        });
        client
            .batch_execute("BEGIN")
            .await
            .map_err(|e| ConnectionError::BadConnection(explain(self.ssl_mode, &e)))?;
        let mut conn = Conn::try_from(client).await?;
        conn.batch_execute("COMMIT")
            .await
            .map_err(ConnectionError::CouldntSetupConfiguration)?;
        conn.set_prepared_statement_cache_size(diesel::connection::CacheSize::Disabled);
        Ok(conn)
    }
}

/// tokio-postgres's error with its causes (the TLS verdict is a cause), and what to check.
fn explain(ssl_mode: SslMode, e: &tokio_postgres::Error) -> String {
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !message.contains(&cause_text) {
            message = format!("{message}: {cause_text}");
        }
        source = cause.source();
    }
    if message.contains("invalid peer certificate") {
        let check = match ssl_mode {
            SslMode::VerifyFull => {
                "sslmode=verify-full: the server's certificate must chain to sslrootcert and name the host in the URL"
            }
            _ => "sslmode=verify-ca: the server's certificate must chain to sslrootcert",
        };
        message = format!("{message} ({check})");
    } else if message.contains("server does not support TLS") {
        message = format!(
            "{message} (sslmode={}: the server has ssl = off; use sslmode=prefer or disable to connect without TLS)",
            match ssl_mode {
                SslMode::VerifyCa => "verify-ca",
                SslMode::VerifyFull => "verify-full",
                _ => "require",
            }
        );
    }
    message
}

/// The certificates of a PEM file, as trust roots.
fn read_roots(path: PathBuf) -> Result<RootCertStore, TargetError> {
    let error = |reason: String| TargetError::RootCert {
        path: path.clone(),
        reason,
    };
    let certs = CertificateDer::pem_file_iter(&path)
        .map_err(|e| error(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| error(e.to_string()))?;
    let mut roots = RootCertStore::empty();
    let (added, _ignored) = roots.add_parsable_certificates(certs);
    if added == 0 {
        return Err(error("no certificate in it".into()));
    }
    Ok(roots)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_libpq_reads() {
        let t = Target::parse("postgres://u@h1:5432,h2:5433/db?sslmode=verify-full&target_session_attrs=read-write&pgbouncer=true")
            .expect("a good URL");
        assert_eq!(t.ssl_mode, SslMode::VerifyFull);
        assert_eq!(t.pooling(), Pooling::Transaction);
        assert_eq!(t.config.get_hosts().len(), 2);
        assert_eq!(
            t.config.get_target_session_attrs(),
            tokio_postgres::config::TargetSessionAttrs::ReadWrite
        );
        let t = Target::parse("postgres://u@h/db").expect("a good URL");
        assert_eq!(
            (t.ssl_mode, t.pooling()),
            (SslMode::Prefer, Pooling::Session)
        );
        let e = Target::parse("postgres://u@h/db?sslmode=verify").expect_err("no such mode");
        assert!(e.to_string().contains("verify-full"), "{e}");
        let e =
            Target::parse("postgres://u@h/db?sslmode=require&sslrootcert=%2Fnonexistent%2Fca.pem")
                .expect_err("no such file");
        assert!(e.to_string().contains("/nonexistent/ca.pem"), "{e}");
        assert!(Target::parse("postgres://u@h/db?pgbouncer=maybe").is_err());
        // Options tokio-postgres knows pass through as they were written.
        let t = Target::parse("postgres://u@h/db?application_name=a%20b&sslmode=disable")
            .expect("a good URL");
        assert_eq!(t.config.get_application_name(), Some("a b"));
    }
}
