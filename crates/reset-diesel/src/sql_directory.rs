//! A user directory over an application's own table, in its own PostgreSQL, MySQL/MariaDB or
//! SQLite database: the statements that find an account and set its password are settings,
//! with named parameters (`:username`, `:email`, `:id`, `:password`) that are always bound,
//! never spliced into the SQL. The new password is stored in the scheme the application's
//! logins check (Django's `pbkdf2_sha256`, bcrypt, argon2id).
//!
//! The find statements return the columns `id`, `username` and `email` as text (cast an
//! integer id: `CAST(id AS TEXT)`, or `CAST(id AS CHAR)` on MySQL); `email` may be NULL. They
//! may also return `locale` (the language messages are sent in) and `phone` (for SMS).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::sql_types::{Nullable, Text};
use reset_core::store::User;
use reset_core::{
    AccountLookup, PasswordChange, PasswordScheme, SessionsEnded, StoreError, UserDirectory,
};

use crate::connect::{ConnectError, DatabaseUrl};

/// The statements, with their named parameters.
#[derive(Debug, Clone)]
pub struct SqlStatements {
    /// Finds an account by `:username` (normalised: NFKC, lower case).
    pub find_by_username: String,
    /// Finds an account by `:email` (lower case).
    pub find_by_email: String,
    /// Finds an account by `:id`.
    pub find_by_id: String,
    /// Stores `:password` (encoded in the scheme) for `:id`.
    pub set_password: String,
}

/// Why the directory cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SqlDirectoryError {
    /// The database URL.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// A statement uses a parameter that is not its own.
    #[error("the {statement} statement {sql:?} may use {allowed}; it uses :{name}")]
    Parameter {
        /// Which statement.
        statement: &'static str,
        /// Its SQL.
        sql: String,
        /// The parameters it may use.
        allowed: &'static str,
        /// The one it may not.
        name: String,
    },
    /// A statement lacks the parameter it needs.
    #[error("the {statement} statement {sql:?} must use :{needed}")]
    Missing {
        /// Which statement.
        statement: &'static str,
        /// Its SQL.
        sql: String,
        /// The parameter.
        needed: &'static str,
    },
}

/// Which placeholders the backend takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Placeholders {
    /// `$1`, `$2`, … (PostgreSQL).
    Numbered,
    /// `?` (MySQL, SQLite).
    Question,
}

/// A statement with its named parameters replaced by placeholders, and their names in order.
#[derive(Debug, Clone)]
struct Prepared {
    sql: String,
    names: Vec<String>,
}

/// Replaces `:name` (outside quotes; not PostgreSQL's `::type` casts) by placeholders.
fn prepare(sql: &str, placeholders: Placeholders) -> Prepared {
    let mut out = String::with_capacity(sql.len());
    let mut names = Vec::new();
    let mut chars = sql.chars().peekable();
    let mut quote: Option<char> = None;
    let mut previous = ' ';
    while let Some(c) = chars.next() {
        if let Some(q) = quote {
            out.push(c);
            if c == q {
                quote = None;
            }
        } else if c == '\'' || c == '"' || c == '`' {
            quote = Some(c);
            out.push(c);
        } else if c == ':'
            && previous != ':'
            && chars
                .peek()
                .is_some_and(|n| n.is_ascii_alphabetic() || *n == '_')
        {
            let mut name = String::new();
            while let Some(&n) = chars.peek() {
                if n.is_ascii_alphanumeric() || n == '_' {
                    name.push(n);
                    chars.next();
                } else {
                    break;
                }
            }
            names.push(name);
            match placeholders {
                Placeholders::Numbered => out.push_str(&format!("${}", names.len())),
                Placeholders::Question => out.push('?'),
            }
            previous = 'x';
            continue;
        } else {
            out.push(c);
        }
        previous = c;
    }
    Prepared { sql: out, names }
}

fn check(
    statement: &'static str,
    sql: &str,
    prepared: &Prepared,
    allowed: &'static [&'static str],
    needed: &'static str,
) -> Result<(), SqlDirectoryError> {
    if let Some(name) = prepared
        .names
        .iter()
        .find(|n| !allowed.contains(&n.as_str()))
    {
        return Err(SqlDirectoryError::Parameter {
            statement,
            sql: sql.to_owned(),
            allowed: match allowed {
                ["username"] => ":username",
                ["email"] => ":email",
                ["id"] => ":id",
                _ => ":id and :password",
            },
            name: name.clone(),
        });
    }
    if !prepared.names.iter().any(|n| n == needed) {
        return Err(SqlDirectoryError::Missing {
            statement,
            sql: sql.to_owned(),
            needed,
        });
    }
    Ok(())
}

/// An account row as the find statements return it: `id`, `username`, `email`, and, when the
/// statement selects them, `locale` and `phone` (a column that is absent reads as NULL).
#[derive(Debug)]
struct Row {
    id: String,
    username: String,
    email: Option<String>,
    locale: Option<String>,
    phone: Option<String>,
}

impl<DB> diesel::deserialize::QueryableByName<DB> for Row
where
    DB: diesel::backend::Backend,
    String: diesel::deserialize::FromSql<Text, DB>,
    Option<String>: diesel::deserialize::FromSql<Nullable<Text>, DB>,
{
    fn build<'a>(row: &impl diesel::row::NamedRow<'a, DB>) -> diesel::deserialize::Result<Self> {
        use diesel::row::NamedRow;
        let text = |name: &str| NamedRow::get::<Text, String>(row, name);
        let nullable = |name: &str| NamedRow::get::<Nullable<Text>, Option<String>>(row, name);
        // Only a column the statement does not select counts as NULL (diesel's words for it);
        // a present column of the wrong type still fails the query.
        let optional = |name: &str| match nullable(name) {
            Err(e) if e.to_string().ends_with("was not present in query") => Ok(None),
            other => other,
        };
        Ok(Self {
            id: text("id")?,
            username: text("username")?,
            email: nullable("email")?,
            locale: optional("locale")?.filter(|v| !v.is_empty()),
            phone: optional("phone")?.filter(|v| !v.is_empty()),
        })
    }
}

enum Connection {
    #[cfg(feature = "postgres")]
    Pg(diesel_async::pooled_connection::deadpool::Pool<crate::backend::pg::Conn>),
    #[cfg(feature = "mysql")]
    Mysql(diesel_async::pooled_connection::deadpool::Pool<crate::backend::mysql::Conn>),
    #[cfg(feature = "sqlite")]
    Sqlite(std::path::PathBuf),
}

/// Runs `statement` with `values` bound on the directory's connection, ending with
/// `.$method(connection)` (`load::<Row>`, `execute`): the one body for every backend, which
/// differ only in their query type and in SQLite being synchronous.
macro_rules! on_connection {
    ($self:ident, $statement:ident, $values:ident, $($method:tt)+) => {{
        let (sql, binds) = ($statement.sql.clone(), binds($statement, $values));
        match &$self.connection {
            #[cfg(feature = "postgres")]
            Connection::Pg(pool) => {
                use diesel_async::RunQueryDsl as _;
                let mut conn = pool.get().await.map_err(unavailable)?;
                boxed::<diesel::pg::Pg>(sql, binds).$($method)+(&mut *conn).await.map_err(failed)
            }
            #[cfg(feature = "mysql")]
            Connection::Mysql(pool) => {
                use diesel_async::RunQueryDsl as _;
                let mut conn = pool.get().await.map_err(unavailable)?;
                boxed::<diesel::mysql::Mysql>(sql, binds).$($method)+(&mut *conn).await.map_err(failed)
            }
            #[cfg(feature = "sqlite")]
            Connection::Sqlite(path) => {
                use diesel::RunQueryDsl as _;
                sqlite(path, move |conn| boxed::<diesel::sqlite::Sqlite>(sql, binds).$($method)+(conn)).await
            }
        }
    }};
}

/// Accounts in an application's own table.
pub struct SqlDirectory {
    connection: Connection,
    by_username: Prepared,
    by_email: Prepared,
    by_id: Prepared,
    set: Prepared,
    scheme: PasswordScheme,
}

impl std::fmt::Debug for SqlDirectory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlDirectory")
            .field("scheme", &self.scheme)
            .finish_non_exhaustive()
    }
}

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(format!("SQL directory: {e}"))
}

fn failed(e: diesel::result::Error) -> StoreError {
    crate::errors::query(e)
}

impl SqlDirectory {
    /// A directory over `url`'s database (`postgres://…`, `mysql://…` or `sqlite://…`, TLS
    /// options as for the store) with these statements; the new password stored as `scheme`
    /// encodes it.
    pub fn new(
        url: &str,
        statements: &SqlStatements,
        scheme: PasswordScheme,
        max_connections: usize,
    ) -> Result<Self, SqlDirectoryError> {
        let url = DatabaseUrl::parse(url)?;
        let placeholders = match url {
            DatabaseUrl::Postgres(_) => Placeholders::Numbered,
            _ => Placeholders::Question,
        };
        let connection = connection(&url, max_connections)?;
        let s = statements;
        let by_username = prepare(&s.find_by_username, placeholders);
        check(
            "find_by_username",
            &s.find_by_username,
            &by_username,
            &["username"],
            "username",
        )?;
        let by_email = prepare(&s.find_by_email, placeholders);
        check(
            "find_by_email",
            &s.find_by_email,
            &by_email,
            &["email"],
            "email",
        )?;
        let by_id = prepare(&s.find_by_id, placeholders);
        check("find_by_id", &s.find_by_id, &by_id, &["id"], "id")?;
        let set = prepare(&s.set_password, placeholders);
        check(
            "set_password",
            &s.set_password,
            &set,
            &["id", "password"],
            "password",
        )?;
        check(
            "set_password",
            &s.set_password,
            &set,
            &["id", "password"],
            "id",
        )?;
        Ok(Self {
            connection,
            by_username,
            by_email,
            by_id,
            set,
            scheme,
        })
    }

    /// Runs `statement` with `values` (by name) and returns its rows.
    async fn rows(
        &self,
        statement: &Prepared,
        values: &[(&str, &str)],
    ) -> Result<Vec<Row>, StoreError> {
        on_connection!(self, statement, values, load::<Row>)
    }

    /// Runs `statement` with `values`; how many rows it changed.
    async fn execute(
        &self,
        statement: &Prepared,
        values: &[(&str, &str)],
    ) -> Result<usize, StoreError> {
        on_connection!(self, statement, values, execute)
    }

    /// The one account `statement` finds (none for several: an identifier naming two accounts
    /// names neither).
    async fn one(
        &self,
        statement: &Prepared,
        values: &[(&str, &str)],
    ) -> Result<Option<User>, StoreError> {
        let mut rows = self.rows(statement, values).await?;
        if rows.len() > 1 {
            tracing::warn!(
                count = rows.len(),
                "SQL directory: an identifier matches several accounts; treated as none"
            );
            return Ok(None);
        }
        Ok(rows.pop().and_then(user))
    }
}

/// The values of `statement`'s parameters, in its order.
fn binds(statement: &Prepared, values: &[(&str, &str)]) -> Vec<String> {
    statement
        .names
        .iter()
        .map(|n| {
            values
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| (*v).to_owned())
                .unwrap_or_default()
        })
        .collect()
}

/// `sql` with `binds` bound as text, in order.
fn boxed<DB>(
    sql: String,
    binds: Vec<String>,
) -> diesel::query_builder::BoxedSqlQuery<'static, DB, diesel::query_builder::SqlQuery>
where
    DB: diesel::backend::Backend + diesel::sql_types::HasSqlType<Text>,
    String: diesel::serialize::ToSql<Text, DB>,
{
    let mut query = diesel::sql_query(sql).into_boxed::<DB>();
    for value in binds {
        query = query.bind::<Text, _>(value);
    }
    query
}

/// `work` on a fresh connection to the SQLite file, off the runtime's threads.
#[cfg(feature = "sqlite")]
async fn sqlite<T: Send + 'static>(
    path: &std::path::Path,
    work: impl FnOnce(&mut diesel::SqliteConnection) -> diesel::QueryResult<T> + Send + 'static,
) -> Result<T, StoreError> {
    let path = path.to_string_lossy().into_owned();
    tokio::task::spawn_blocking(move || {
        use diesel::Connection as _;
        let mut conn = diesel::SqliteConnection::establish(&path).map_err(unavailable)?;
        work(&mut conn).map_err(failed)
    })
    .await
    .map_err(unavailable)?
}

fn user(row: Row) -> Option<User> {
    User::from_directory(row.id, &row.username, row.email, row.locale, row.phone)
}

#[allow(unused_variables)] // `max_connections` with SQLite alone
fn connection(url: &DatabaseUrl, max_connections: usize) -> Result<Connection, ConnectError> {
    #[cfg(any(feature = "postgres", feature = "mysql"))]
    use diesel_async::pooled_connection::RecyclingMethod;
    match url {
        #[cfg(feature = "postgres")]
        DatabaseUrl::Postgres(u) => {
            let target = crate::backend::pg::Target::parse(u)?;
            crate::connect::pool(u, target, max_connections, RecyclingMethod::Fast)
                .map(Connection::Pg)
        }
        #[cfg(feature = "mysql")]
        DatabaseUrl::Mysql(u) => {
            let target = crate::backend::mysql_target::Target::parse(u)?;
            crate::connect::pool(u, target, max_connections, RecyclingMethod::Verified)
                .map(Connection::Mysql)
        }
        #[cfg(feature = "sqlite")]
        DatabaseUrl::Sqlite(path) => Ok(Connection::Sqlite(path.clone())),
        #[allow(unreachable_patterns)]
        other => Err(ConnectError::NotBuilt(other.backend())),
    }
}

#[async_trait]
impl UserDirectory for SqlDirectory {
    async fn find(&self, lookup: &AccountLookup) -> Result<Option<User>, StoreError> {
        let found = match (&lookup.username, &lookup.email) {
            (Some(u), _) => self.one(&self.by_username, &[("username", u)]).await?,
            (None, Some(e)) => self.one(&self.by_email, &[("email", e)]).await?,
            (None, None) => None,
        };
        // Both names given: both must belong to the one account.
        Ok(found.filter(|user| {
            lookup
                .email
                .as_ref()
                .is_none_or(|e| user.emails.contains(e))
        }))
    }

    async fn by_id(&self, id: &str) -> Result<Option<User>, StoreError> {
        self.one(&self.by_id, &[("id", id)]).await
    }

    async fn set_password(
        &self,
        id: &str,
        change: &PasswordChange<'_>,
        _at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let scheme = self.scheme;
        let password = scheme
            .encode_off_runtime(change)
            .await
            .map_err(|e| StoreError::Query(e.to_string()))?;
        let changed = self
            .execute(&self.set, &[("id", id), ("password", &password)])
            .await?;
        if changed == 1 {
            Ok(())
        } else {
            Err(StoreError::Query(format!(
                "SQL directory: set_password changed {changed} rows, not one"
            )))
        }
    }

    /// The application's table keeps no sessions here: the application ends its own (on the
    /// `password.changed` webhook, or where it checks logins).
    async fn revoke_sessions(&self, _id: &str) -> Result<SessionsEnded, StoreError> {
        Ok(SessionsEnded::NoneKept)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_parameters_become_placeholders() {
        let p = prepare(
            "SELECT CAST(id AS TEXT) AS id, username, email FROM auth_user WHERE lower(username) = :username AND note <> ':nope' AND x::text = :username",
            Placeholders::Numbered,
        );
        assert_eq!(
            p.sql,
            "SELECT CAST(id AS TEXT) AS id, username, email FROM auth_user WHERE lower(username) = $1 AND note <> ':nope' AND x::text = $2"
        );
        assert_eq!(p.names, ["username", "username"]);
        let p = prepare(
            "UPDATE t SET password = :password WHERE id = :id",
            Placeholders::Question,
        );
        assert_eq!(p.sql, "UPDATE t SET password = ? WHERE id = ?");
        assert_eq!(p.names, ["password", "id"]);
    }
}
