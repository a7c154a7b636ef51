//! Response rows that several operations share, written once per error shape: each shape's
//! documentation (`v1/openapi.rs`, `pages/openapi.rs`, `dialects/openapi.rs`) declares its
//! repeated rows (405, 413, 415, 429, 500, …) as a type implementing
//! [`IntoResponses`](utoipa::IntoResponses), which an operation lists in its `responses(…)`
//! beside the rows of its own; a row listed after one of these replaces it. Examples are not written here: the document's `Examples` modifier
//! ([`crate::openapi`]) takes each one from the very error the code answers with.
//!
//! A leaf: it knows utoipa's types, none of the shapes.

use std::collections::BTreeMap;

use utoipa::openapi::{
    ContentBuilder, HeaderBuilder, Ref, RefOr, Response, ResponseBuilder, schema::Schema,
};
use utoipa::{PartialSchema, ToSchema};

/// An operation's responses by status, as [`IntoResponses`](utoipa::IntoResponses) gives them.
pub(crate) type Rows = BTreeMap<String, RefOr<Response>>;

/// One shared row: its status, its description, whether it carries `Retry-After`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Row {
    status: u16,
    description: &'static str,
    retry_after: bool,
}

impl Row {
    pub(crate) const fn new(status: u16, description: &'static str) -> Self {
        Self {
            status,
            description,
            retry_after: false,
        }
    }

    /// With `Retry-After` (seconds to wait).
    pub(crate) const fn retry_after(mut self) -> Self {
        self.retry_after = true;
        self
    }
}

/// `rows`, each with a body of the component schema `T` as `media`, as
/// [`IntoResponses::responses`](utoipa::IntoResponses::responses) gives them.
pub(crate) fn rows<T: ToSchema>(media: &str, rows: &[Row]) -> Rows {
    build(media, Ref::from_schema_name(T::name()).into(), rows)
}

/// `rows`, each with an HTML page for a body.
pub(crate) fn page_rows(rows: &[Row]) -> Rows {
    build("text/html; charset=utf-8", String::schema(), rows)
}

fn build(media: &str, schema: RefOr<Schema>, rows: &[Row]) -> Rows {
    rows.iter()
        .map(|row| {
            let mut response = ResponseBuilder::new().description(row.description);
            if row.retry_after {
                response = response.header(
                    "Retry-After",
                    HeaderBuilder::new()
                        .schema(Some(u64::schema()))
                        .description(Some("Seconds to wait."))
                        .build(),
                );
            }
            let content = ContentBuilder::new().schema(Some(schema.clone())).build();
            let response = response.content(media, content).build();
            (row.status.to_string(), RefOr::T(response))
        })
        .collect()
}
