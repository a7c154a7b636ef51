//! The connection type every PostgreSQL module works on. A leaf, so that the batches, the calls
//! and the connection targets need nothing of `pg` itself.

/// A PostgreSQL connection as diesel-async drives it.
pub type Conn = diesel_async::AsyncPgConnection;
