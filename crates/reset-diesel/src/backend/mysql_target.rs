//! A MySQL/MariaDB URL read as MySQL's client reads its TLS options, and connections made
//! from it.
//!
//! mysql_async reads the URL; this module takes out `ssl-mode` (`DISABLED`, `PREFERRED` (the
//! default, as MySQL's client), `REQUIRED`, `VERIFY_CA`, `VERIFY_IDENTITY`) and `ssl-ca` (a PEM
//! file), which it does not know, and gives mysql_async the matching TLS options.

use std::path::PathBuf;

use diesel::ConnectionError;
use diesel_async::SimpleAsyncConnection as _;
use mysql_async::{DriverError, Opts, OptsBuilder, SslOpts};

use super::mysql::Conn;

/// MySQL's `--ssl-mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    /// No TLS.
    Disabled,
    /// TLS when the server offers it; the certificate is not checked.
    Preferred,
    /// TLS or no connection; the certificate is checked only when `ssl-ca` is given (as
    /// `VERIFY_CA` then, as MySQL's client does).
    Required,
    /// TLS with a certificate whose chain ends at `ssl-ca` (or a public root).
    VerifyCa,
    /// As `VERIFY_CA`, and the certificate names the host connected to.
    VerifyIdentity,
}

/// Why a MySQL URL cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// `ssl-mode` has a value MySQL's client does not know.
    #[error("ssl-mode={0:?}: use DISABLED, PREFERRED, REQUIRED, VERIFY_CA or VERIFY_IDENTITY")]
    SslMode(String),
    /// mysql_async refused the rest of the URL.
    #[error("{0}")]
    Url(String),
}

/// A MySQL URL, ready to connect.
#[derive(Debug, Clone)]
pub struct Target {
    opts: Opts,
    ssl_mode: SslMode,
    ca: Option<PathBuf>,
}

impl Target {
    /// Reads `url` (`mysql://…`).
    pub fn parse(url: &str) -> Result<Self, TargetError> {
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let mut ssl_mode = SslMode::Preferred;
        let mut ca = None;
        let mut rest = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = percent_encoding::percent_decode_str(value).decode_utf8_lossy();
            match key {
                "ssl-mode" | "ssl_mode" | "sslmode" => {
                    ssl_mode = match value.to_ascii_uppercase().replace('-', "_").as_str() {
                        "DISABLED" => SslMode::Disabled,
                        "PREFERRED" => SslMode::Preferred,
                        "REQUIRED" => SslMode::Required,
                        "VERIFY_CA" => SslMode::VerifyCa,
                        "VERIFY_IDENTITY" => SslMode::VerifyIdentity,
                        _ => return Err(TargetError::SslMode(value.into_owned())),
                    }
                }
                "ssl-ca" | "ssl_ca" => ca = Some(PathBuf::from(&*value)),
                _ => rest.push(pair),
            }
        }
        let rebuilt = if rest.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", rest.join("&"))
        };
        let opts = Opts::from_url(&rebuilt).map_err(|e| TargetError::Url(e.to_string()))?;
        if ssl_mode == SslMode::Required && ca.is_some() {
            ssl_mode = SslMode::VerifyCa;
        }
        Ok(Self { opts, ssl_mode, ca })
    }

    /// mysql_async's TLS options for the mode; `None` without TLS.
    fn ssl_opts(&self) -> Option<SslOpts> {
        let unchecked = matches!(self.ssl_mode, SslMode::Preferred | SslMode::Required);
        let opts = SslOpts::default()
            .with_danger_accept_invalid_certs(unchecked)
            .with_danger_skip_domain_validation(self.ssl_mode != SslMode::VerifyIdentity);
        match (self.ssl_mode, &self.ca) {
            (SslMode::Disabled, _) => None,
            (_, Some(ca)) => Some(
                opts.with_root_certs(vec![ca.clone().into()])
                    .with_disable_built_in_roots(true),
            ),
            (_, None) => Some(opts),
        }
    }

    /// A new connection, over TLS as `ssl-mode` says, in the session settings the queries
    /// assume: `READ COMMITTED` (each statement sees what committed before it, as on
    /// PostgreSQL; InnoDB's default `REPEATABLE READ` would pin a transaction's reads to its
    /// first one, and take gap locks), strict mode (a value that does not fit is an error, never
    /// silently cut), times in UTC.
    ///
    /// mysql_async's own statement cache is off, as diesel-async's `establish` turns it off:
    /// diesel keeps its prepared statements itself, and mysql_async's cache (32 by default)
    /// would close the ones it evicts under diesel's feet ("Unknown prepared statement handler"
    /// once a connection has run more than 32 distinct statements).
    pub async fn establish(&self) -> diesel::ConnectionResult<Conn> {
        let with = |ssl: Option<SslOpts>| {
            OptsBuilder::from_opts(self.opts.clone())
                .ssl_opts(ssl)
                .stmt_cache_size(0)
        };
        let conn = match mysql_async::Conn::new(with(self.ssl_opts())).await {
            // PREFERRED: a server without TLS is spoken to in the clear.
            Err(mysql_async::Error::Driver(DriverError::NoClientSslFlagFromServer))
                if self.ssl_mode == SslMode::Preferred =>
            {
                mysql_async::Conn::new(with(None)).await
            }
            other => other,
        }
        .map_err(|e| ConnectionError::BadConnection(self.explain(&e)))?;
        let mut conn = Conn::try_from(conn).await?;
        // `utf8mb4_bin` for the connection too, as every table is: bound values and the derived
        // tables built of them (`mysql_script::values_table`) compare and sort as the columns
        // do, so a counter upsert's `ORDER BY` is the primary key's order, the order every
        // writer locks counters in.
        conn.batch_execute(
            "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED; \
             SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ENGINE_SUBSTITUTION'; \
             SET time_zone = '+00:00'; \
             SET NAMES utf8mb4 COLLATE utf8mb4_bin",
        )
        .await
        .map_err(ConnectionError::CouldntSetupConfiguration)?;
        Ok(conn)
    }

    /// mysql_async's error, and what to check.
    fn explain(&self, e: &mysql_async::Error) -> String {
        let message = e.to_string();
        if matches!(
            e,
            mysql_async::Error::Driver(DriverError::NoClientSslFlagFromServer)
        ) {
            format!(
                "{message} (ssl-mode={:?}: the server has no TLS; use ssl-mode=PREFERRED or DISABLED to connect without it)",
                self.ssl_mode
            )
        } else if message.to_ascii_lowercase().contains("certificate") {
            let check = match self.ssl_mode {
                SslMode::VerifyIdentity => {
                    "ssl-mode=VERIFY_IDENTITY: the server's certificate must chain to ssl-ca and name the host in the URL"
                }
                _ => "ssl-mode=VERIFY_CA: the server's certificate must chain to ssl-ca",
            };
            format!("{message} ({check})")
        } else {
            message
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_the_mysql_client_reads() {
        let t =
            Target::parse("mysql://root@h:3306/db?ssl-mode=verify_identity").expect("a good URL");
        assert_eq!(t.ssl_mode, SslMode::VerifyIdentity);
        let t = Target::parse("mysql://root@h/db?ssl-mode=REQUIRED&ssl-ca=%2Fetc%2Fca.pem")
            .expect("a good URL");
        assert_eq!(t.ssl_mode, SslMode::VerifyCa);
        assert_eq!(t.ca, Some(PathBuf::from("/etc/ca.pem")));
        let t = Target::parse("mysql://root@h/db").expect("a good URL");
        assert_eq!(t.ssl_mode, SslMode::Preferred);
        assert!(Target::parse("mysql://root@h/db?ssl-mode=sometimes").is_err());
    }
}
