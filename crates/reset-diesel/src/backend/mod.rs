//! The queries expanded once per backend.

/// The imports every expansion of the query macros needs.
///
/// `[async]`, `[.await]` and `awaited` for diesel-async connections (PostgreSQL, MySQL); `[]`,
/// `[]` and `blocking` for a synchronous connection run whole on the SQLite writer thread (see
/// `sqlite_writer`: calls that queue together share one commit, each in its own savepoint; no
/// thread hop per statement). The last names the module of `crate::queries::hooks` whose traits
/// the backend's connection implements.
macro_rules! query_prelude {
    ([$($async:tt)*], [$($aw:tt)*], $run:path, $hooks:ident) => {
        #[allow(unused_imports)]
        use diesel::prelude::*;
        use diesel::result::QueryResult;
        #[allow(unused_imports)]
        use diesel::sql_types::{BigInt, Integer};
        #[allow(unused_imports)]
        use $run;
        use reset_core::admin_token::{AdminToken, NewAdminToken};
        #[allow(unused_imports)]
        use reset_core::identity::AccountLookup;
        use reset_core::message::{Channel, EventDelivery, MessageKind, MessagePayload};
        use reset_core::counters::{Counters, HitAsk, TryAsk, hit_keys, plan_hits};
        use reset_core::rate_limit::{CounterHit, CounterState, Limit};
        use reset_core::store::{
            AccountChange, CodeTry, Completion, NewUser, OutboxStats,
            Retention, SecretKind, SecretRecord, Swept, User,
        };

        #[allow(unused_imports)]
        use crate::queries::hooks::$hooks::{Counters as _, Statements as _};
        use crate::{DECOY_ID, DEFAULT_ORG};
        use crate::queries::limits::{LockFor, counter_rows};
        use crate::queries::outbox::SECRET_KINDS;
        use crate::rows::{
            AccountFields, AdminTokenRow, OutboxEntry, RowCounts, SecretRow, UserRow, change_names,
            email_values, ms, new_id, payload_text, user_values,
        };
        use crate::schema::{
            admin_tokens, audit_events, outbox, password_history, rate_limits, reset_secrets,
            user_emails, users,
        };

        admin_queries!(Conn, [$($async)*], [$($aw)*]);
        audit_queries!(Conn, [$($async)*], [$($aw)*]);
        limit_queries!(Conn, [$($async)*], [$($aw)*]);
        meta_queries!(Conn, [$($async)*], [$($aw)*]);
        outbox_queries!(Conn, [$($async)*], [$($aw)*]);
        secret_queries!(Conn, [$($async)*], [$($aw)*]);
        user_queries!(Conn, [$($async)*], [$($aw)*]);
    };
}

#[cfg(any(feature = "postgres", feature = "mysql"))]
mod batch;
#[cfg(feature = "mysql")]
pub mod mysql;
#[cfg(feature = "mysql")]
pub mod mysql_batches;
#[cfg(feature = "mysql")]
mod mysql_counters;
#[cfg(feature = "mysql")]
mod mysql_find;
#[cfg(feature = "mysql")]
pub(crate) mod mysql_hits;
#[cfg(feature = "mysql")]
mod mysql_issue;
#[cfg(feature = "mysql")]
mod mysql_script;
#[cfg(feature = "mysql")]
pub mod mysql_target;
#[cfg(feature = "postgres")]
pub mod pg;
#[cfg(feature = "sqlite")]
pub mod sqlite;
#[cfg(feature = "sqlite")]
mod sqlite_writer;
#[cfg(any(feature = "postgres", feature = "mysql"))]
mod swap;

/// Tells each caller's span how many calls shared its batch (`db.operation.batch.size`), for
/// the spans that declare it (the issue's `store issue`); other spans ignore it. The size is
/// the load of the moment, the same for a known and an unknown account.
pub(crate) fn record_batch_size(spans: &[tracing::Span]) {
    for span in spans {
        span.record("db.operation.batch.size", spans.len());
    }
}
