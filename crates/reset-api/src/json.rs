//! Request bodies: media type (415), size (413), then JSON into a DTO (400).

use serde::de::DeserializeOwned;

use crate::problem::{INVALID_REQUEST, PAYLOAD_TOO_LARGE, Problem, UNSUPPORTED_MEDIA_TYPE};
use crate::request::{ApiRequest, Body, MAX_BODY_BYTES};

/// Whether the request says its body is `application/json` (parameters such as `charset` allowed).
fn is_json(req: &ApiRequest) -> bool {
    req.header("content-type")
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|mt| mt.trim().eq_ignore_ascii_case("application/json"))
}

/// The body as `T`, or the v1 problem for why not.
pub fn parse<T: DeserializeOwned>(req: &ApiRequest) -> Result<T, Problem> {
    let bytes = match &req.body {
        Body::TooLarge => {
            return Err(Problem::new(
                PAYLOAD_TOO_LARGE,
                format!("The body is over {} bytes.", MAX_BODY_BYTES),
            ));
        }
        Body::Bytes(b) if b.len() > MAX_BODY_BYTES => {
            return Err(Problem::new(
                PAYLOAD_TOO_LARGE,
                format!("The body is over {} bytes.", MAX_BODY_BYTES),
            ));
        }
        Body::Unreadable => {
            return Err(Problem::new(INVALID_REQUEST, "The body could not be read."));
        }
        Body::Bytes(b) => b,
    };
    if !is_json(req) {
        return Err(Problem::new(
            UNSUPPORTED_MEDIA_TYPE,
            "Send the body as application/json.",
        ));
    }
    serde_json::from_slice(bytes)
        .map_err(|e| Problem::new(INVALID_REQUEST, format!("The body is not valid: {e}.")))
}
