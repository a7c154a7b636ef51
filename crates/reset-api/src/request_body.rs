//! Request bodies: size (413), a body that could not be read (400), media type (415), then
//! JSON into a DTO (400). Each API turns a [`BodyError`] into its own error shape.

use serde::de::DeserializeOwned;

use crate::problem::{INVALID_REQUEST, PAYLOAD_TOO_LARGE, Problem, UNSUPPORTED_MEDIA_TYPE};
use crate::request::{ApiRequest, Body, MAX_BODY_BYTES};

/// Why a body was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyError {
    /// Over [`MAX_BODY_BYTES`] (413).
    TooLarge,
    /// The connection failed while the body was read (400).
    Unreadable,
    /// Not `application/json`; holds the content type sent, if any (415).
    NotJson(Option<String>),
    /// Not JSON, or not the DTO's shape; holds serde's explanation (400).
    Invalid(String),
}

/// Whether the request's `Content-Type` is `expected` (case aside; parameters such as
/// `charset` allowed).
pub(crate) fn media_type_is(req: &ApiRequest, expected: &str) -> bool {
    req.header("content-type")
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|mt| mt.trim().eq_ignore_ascii_case(expected))
}

fn is_json(req: &ApiRequest) -> bool {
    media_type_is(req, "application/json")
}

/// The body as `T`.
pub fn read<T: DeserializeOwned>(req: &ApiRequest) -> Result<T, BodyError> {
    let bytes = match &req.body {
        Body::TooLarge => return Err(BodyError::TooLarge),
        Body::Bytes(b) if b.len() > MAX_BODY_BYTES => return Err(BodyError::TooLarge),
        Body::Unreadable => return Err(BodyError::Unreadable),
        Body::Bytes(b) => b,
    };
    if !is_json(req) {
        return Err(BodyError::NotJson(
            req.header("content-type").map(str::to_owned),
        ));
    }
    serde_json::from_slice(bytes).map_err(|e| BodyError::Invalid(e.to_string()))
}

/// The body as `T`, or the v1 problem for why not.
pub fn parse<T: DeserializeOwned>(req: &ApiRequest) -> Result<T, Problem> {
    read(req).map_err(Problem::from)
}

impl From<BodyError> for Problem {
    fn from(e: BodyError) -> Self {
        match e {
            BodyError::TooLarge => Problem::new(
                PAYLOAD_TOO_LARGE,
                format!("The body is over {MAX_BODY_BYTES} bytes."),
            ),
            BodyError::Unreadable => Problem::new(INVALID_REQUEST, "The body could not be read."),
            BodyError::NotJson(_) => {
                Problem::new(UNSUPPORTED_MEDIA_TYPE, "Send the body as application/json.")
            }
            BodyError::Invalid(e) => {
                Problem::new(INVALID_REQUEST, format!("The body is not valid: {e}."))
            }
        }
    }
}
