//! Statements sent as text (the protocol of `Conn::batch_execute`), several in one round trip,
//! their values written into them as literals: MySQL's writes of an issue batch and of counters
//! (`mysql_issue.rs`, `mysql_counters.rs`).
//!
//! Bound, each such statement was a prepare, an execute and a close, and none could be cached:
//! its text varies with the number of rows. MariaDB spent as long preparing a batch's big
//! inserts as executing them, and a batch ran about ten of them.
//!
//! No value can end its literal early or be read as anything but itself:
//! - A string without backslashes and control characters is quoted, its quotes doubled. A
//!   backslash is the only other character special inside quotes, and only without `sql_mode`'s
//!   `NO_BACKSLASH_ESCAPES`, so the literal reads the same in every mode (the connection's
//!   own, set in `mysql_target.rs`, leaves it out). The connection's
//!   character set is utf8mb4 (`mysql_target.rs` sets it), in which no byte of a multi-byte
//!   character is a quote or a backslash; the literal takes the connection's collation, which
//!   `mysql_target.rs` pins to the columns' own, `utf8mb4_bin`.
//! - Any other string is a hex literal with its character set and collation named
//!   (`_utf8mb4 X'…' COLLATE utf8mb4_bin`): hex digits only. Quotes are used where they can be
//!   because MariaDB reads them faster (7.5 against 11.8 ms for a batch's 256 secrets).
//! - Numbers are Rust's integers printed; nothing else is written.

use std::fmt::Write as _;

/// A value written as a literal (see the module's doc).
pub trait Literal {
    /// Appends the literal to `sql`.
    fn write(&self, sql: &mut String);
}

impl Literal for str {
    /// Quoted, its quotes doubled, when it holds no backslash and no control character: read
    /// the same with and without `NO_BACKSLASH_ESCAPES`. Otherwise a hex literal.
    fn write(&self, sql: &mut String) {
        if self.bytes().any(|b| b == b'\\' || b.is_ascii_control()) {
            sql.push_str("_utf8mb4 X'");
            sql.push_str(&hex::encode(self));
            sql.push_str("' COLLATE utf8mb4_bin");
        } else {
            sql.push('\'');
            sql.push_str(&self.replace('\'', "''"));
            sql.push('\'');
        }
    }
}

impl Literal for String {
    fn write(&self, sql: &mut String) {
        self.as_str().write(sql);
    }
}

impl Literal for i64 {
    fn write(&self, sql: &mut String) {
        let _ = write!(sql, "{self}");
    }
}

impl Literal for i32 {
    fn write(&self, sql: &mut String) {
        let _ = write!(sql, "{self}");
    }
}

impl Literal for bool {
    fn write(&self, sql: &mut String) {
        sql.push_str(if *self { "TRUE" } else { "FALSE" });
    }
}

impl<T: Literal> Literal for Option<T> {
    fn write(&self, sql: &mut String) {
        match self {
            Some(v) => v.write(sql),
            None => sql.push_str("NULL"),
        }
    }
}

/// Statements as text, each ended by `;`, for one `batch_execute`: the server runs them in
/// order and stops at the first that fails, whose error the call returns.
#[derive(Debug, Default)]
pub struct Script {
    sql: String,
}

impl Script {
    /// Appends SQL text written here (never a value: see [`Literal`]).
    pub fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    /// `head (…), (…);`, a tuple of literals per item (nothing when there are none): an
    /// `INSERT … VALUES`.
    pub fn insert<T>(&mut self, head: &str, items: &[T], row: impl Fn(&mut Row<'_>, &T)) {
        if items.is_empty() {
            return;
        }
        self.sql.push_str(head);
        for (i, item) in items.iter().enumerate() {
            self.sql.push_str(if i == 0 { " (" } else { ", (" });
            row(&mut Row::new(&mut self.sql, None), item);
            self.sql.push(')');
        }
        self.sql.push_str(";\n");
    }

    /// `SELECT a AS x, b AS y UNION ALL SELECT c, d …`: the items as a derived table with the
    /// named columns (at least one item).
    pub fn derived<T>(&mut self, columns: &[&str], items: &[T], row: impl Fn(&mut Row<'_>, &T)) {
        for (i, item) in items.iter().enumerate() {
            self.sql.push_str(if i == 0 {
                "SELECT "
            } else {
                " UNION ALL SELECT "
            });
            let names = (i == 0).then_some(columns);
            row(&mut Row::new(&mut self.sql, names), item);
        }
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.sql.is_empty()
    }

    /// The script's text.
    pub fn text(&self) -> &str {
        &self.sql
    }
}

/// `SELECT ? AS a, ? AS b … UNION ALL SELECT ?, ? …`: `rows` rows of the named columns, as a
/// derived table of bound values (for a prepared statement: [`Script::derived`] with a
/// placeholder for every value).
pub fn values_table(columns: &[&str], rows: usize) -> String {
    /// A bound value's place.
    struct Placeholder;
    impl Literal for Placeholder {
        fn write(&self, sql: &mut String) {
            sql.push('?');
        }
    }
    let mut table = Script::default();
    table.derived(columns, &vec![(); rows], |r, ()| {
        for _ in columns {
            r.v(&Placeholder);
        }
    });
    table.sql
}

/// One row's literals, comma-separated (and named, in a derived table's first row).
pub struct Row<'a> {
    sql: &'a mut String,
    names: Option<&'a [&'a str]>,
    at: usize,
}

impl<'a> Row<'a> {
    fn new(sql: &'a mut String, names: Option<&'a [&'a str]>) -> Self {
        Self { sql, names, at: 0 }
    }

    /// Appends a value.
    pub fn v(&mut self, value: &(impl Literal + ?Sized)) -> &mut Self {
        if self.at > 0 {
            self.sql.push_str(", ");
        }
        value.write(self.sql);
        if let Some(name) = self.names.and_then(|n| n.get(self.at)) {
            self.sql.push_str(" AS ");
            self.sql.push_str(name);
        }
        self.at += 1;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn literal(s: &str) -> String {
        let mut sql = String::new();
        s.write(&mut sql);
        sql
    }

    #[test]
    fn a_quote_is_doubled_and_anything_escapable_is_hex() {
        assert_eq!(literal("it's"), "'it''s'");
        assert_eq!(literal("'; DROP TABLE x; --"), "'''; DROP TABLE x; --'");
        assert_eq!(literal("é 😀"), "'é 😀'");
        for nasty in [
            "a\\",
            "\\'; DROP TABLE users; --",
            "nul\0",
            "line\n",
            "\u{7f}",
        ] {
            let sql = literal(nasty);
            let hex = sql
                .strip_prefix("_utf8mb4 X'")
                .and_then(|s| s.strip_suffix("' COLLATE utf8mb4_bin"))
                .expect("a hex literal");
            assert!(hex.bytes().all(|b| b.is_ascii_hexdigit()));
            assert_eq!(hex::decode(hex).expect("hex"), nasty.as_bytes());
        }
    }

    #[test]
    fn a_table_of_bound_values() {
        assert_eq!(
            values_table(&["a", "b"], 2),
            "SELECT ? AS a, ? AS b UNION ALL SELECT ?, ?"
        );
    }

    #[test]
    fn an_insert_and_a_derived_table() {
        let mut s = Script::default();
        s.insert(
            "INSERT INTO t (a, b) VALUES",
            &[(1i64, None::<i32>), (2, Some(3))],
            |r, x| {
                r.v(&x.0).v(&x.1);
            },
        );
        s.push("SELECT * FROM (");
        s.derived(&["k", "on"], &[("", true), ("é", false)], |r, x| {
            r.v(x.0).v(&x.1);
        });
        s.push(") AS d;");
        assert_eq!(
            s.text(),
            "INSERT INTO t (a, b) VALUES (1, NULL), (2, 3);\n\
             SELECT * FROM (SELECT '' AS k, TRUE AS on \
             UNION ALL SELECT 'é', FALSE) AS d;"
        );
        let mut empty = Script::default();
        empty.insert("INSERT INTO t (a) VALUES", &[] as &[i64], |r, x| {
            r.v(x);
        });
        assert!(empty.is_empty());
    }
}
