//! Everything a Zitadel route answers besides success, as one error type: each variant has its
//! HTTP status, gRPC code and stable reason once, and is written in either of the dialect's two
//! shapes, a `google.rpc.Status` on the REST paths ([`ZitadelError::rest`]) or a Connect error
//! on the Connect paths ([`ZitadelError::connect`]). Both shapes answer with the same status.

use base64::Engine as _;
use reset_core::{ResetError, Violation};
use serde::Serialize;
use utoipa::ToSchema;

use crate::request_body::BodyError;
use crate::response::ApiResponse;

/// The gRPC status codes this dialect answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// 3 `INVALID_ARGUMENT`: a bad body, field or secret (400, and 415).
    InvalidArgument,
    /// 4 `DEADLINE_EXCEEDED`: the body was late (408).
    DeadlineExceeded,
    /// 5 `NOT_FOUND`: no such user or path (404).
    NotFound,
    /// 9 `FAILED_PRECONDITION`: the user is not in a state that allows it (400).
    FailedPrecondition,
    /// 7 `PERMISSION_DENIED`: the token lacks the scope (403).
    PermissionDenied,
    /// 8 `RESOURCE_EXHAUSTED`: a limit or the body size (413, 429).
    ResourceExhausted,
    /// 12 `UNIMPLEMENTED`: a method not served (405; Connect's unknown method, 404).
    Unimplemented,
    /// 13 `INTERNAL`: our fault (500).
    Internal,
    /// 14 `UNAVAILABLE`: a dependency is unavailable for now (503).
    Unavailable,
    /// 16 `UNAUTHENTICATED`: no credential, or a bad one (401).
    Unauthenticated,
}

impl Code {
    /// The number, as Zitadel's REST gateway writes it.
    pub fn number(self) -> i32 {
        match self {
            Self::InvalidArgument => 3,
            Self::DeadlineExceeded => 4,
            Self::NotFound => 5,
            Self::FailedPrecondition => 9,
            Self::PermissionDenied => 7,
            Self::ResourceExhausted => 8,
            Self::Unimplemented => 12,
            Self::Internal => 13,
            Self::Unavailable => 14,
            Self::Unauthenticated => 16,
        }
    }

    /// The name, as the Connect protocol writes it.
    pub fn connect_name(self) -> &'static str {
        match self {
            Self::InvalidArgument => "invalid_argument",
            Self::DeadlineExceeded => "deadline_exceeded",
            Self::NotFound => "not_found",
            Self::FailedPrecondition => "failed_precondition",
            Self::PermissionDenied => "permission_denied",
            Self::ResourceExhausted => "resource_exhausted",
            Self::Unimplemented => "unimplemented",
            Self::Internal => "internal",
            Self::Unavailable => "unavailable",
            Self::Unauthenticated => "unauthenticated",
        }
    }
}

/// A Zitadel error. The `Display` text is the `message`; causes of internal errors go to the
/// log, never into it.
#[derive(Debug, thiserror::Error)]
pub enum ZitadelError {
    /// `INVALID_REQUEST`: a bad body or field, both `sendLink` and `returnCode`, no address for
    /// the channel, a wrong `currentPassword`; the text says what.
    #[error("{0}")]
    InvalidRequest(String),
    /// `INVALID_TOKEN`: the secret is unknown, expired, used, superseded or cancelled.
    #[error("The code is invalid or expired")]
    InvalidToken,
    /// `CODE_INCORRECT`: a wrong code, or no live code for the user.
    #[error("The code is incorrect")]
    CodeIncorrect,
    /// The policy refuses the password; the message joins every reason.
    #[error("Password is too weak: {}", crate::problem::violation_messages(.0))]
    WeakPassword(Vec<Violation>),
    /// `INVALID_URL_TEMPLATE`: `urlTemplate` is malformed or leads off the allowed origins.
    #[error("urlTemplate refused: {0}")]
    InvalidUrlTemplate(String),
    /// `CREDENTIAL_REQUIRED`: no `Authorization` header.
    #[error("Authorization header missing")]
    CredentialRequired,
    /// `AUTHENTICATION_FAILED`: the credential is malformed, unknown or revoked.
    #[error("Token invalid")]
    AuthenticationFailed,
    /// `PERMISSION_DENIED`: the token lacks the named scope.
    #[error("The token lacks the scope {0}")]
    PermissionDenied(&'static str),
    /// `USER_NOT_FOUND`: no such user.
    #[error("User could not be found")]
    UserNotFound,
    /// `USER_NOT_ACTIVE`: the user is switched off (as Zitadel answers for an inactive user).
    #[error("User is not active: {0}")]
    NotActive(String),
    /// A path under the REST prefix that is not served.
    #[error("Not found")]
    NotFound,
    /// A method of the Connect service that is not served: 404, as a Connect server answers an
    /// unknown procedure, with the code a Connect client reads from that 404.
    #[error("Method not found")]
    UnknownMethod,
    /// `METHOD_NOT_ALLOWED`: a known path with another method.
    #[error("Method not allowed")]
    MethodNotAllowed,
    /// The body did not arrive within the server's body timeout; the connection closes.
    #[error("The request body did not arrive in time")]
    RequestTimeout,
    /// `PAYLOAD_TOO_LARGE`: a body over 64 KiB.
    #[error("The request body is too large")]
    PayloadTooLarge,
    /// `UNSUPPORTED_MEDIA_TYPE`: a body that is not JSON (gRPC, binary protobuf); the content
    /// type sent, if any.
    #[error(
        "Content type {} is not served here; send application/json",
        .0.as_deref().unwrap_or("(none)")
    )]
    UnsupportedMediaType(Option<String>),
    /// `ATTEMPTS_EXHAUSTED`: the code's tries are spent.
    #[error("The code has had all its tries; request a new one")]
    AttemptsExhausted {
        /// Seconds to wait, sent as `Retry-After`.
        retry_after_secs: u64,
    },
    /// `RATE_LIMITED`: a rate limit, failed credentials included.
    #[error("Too many requests")]
    RateLimited {
        /// Seconds to wait, sent as `Retry-After`.
        retry_after_secs: u64,
    },
    /// `INTERNAL`: our fault; the cause went to the log, never to the answer.
    #[error("Internal error")]
    Internal,
    /// `UNAVAILABLE`: a dependency the answer needs is unavailable for now; nothing was changed.
    #[error("Temporarily unavailable")]
    Unavailable {
        /// Seconds to wait, sent as `Retry-After`.
        retry_after_secs: u64,
    },
}

impl From<BodyError> for ZitadelError {
    fn from(e: BodyError) -> Self {
        match e {
            BodyError::TooLarge => Self::PayloadTooLarge,
            BodyError::NotJson(ct) => Self::UnsupportedMediaType(ct),
            // serde's explanation may quote a value (a password), so it stays out of the answer.
            BodyError::Unreadable | BodyError::Invalid(_) => {
                Self::InvalidRequest("The request body is not valid".into())
            }
        }
    }
}

impl From<ResetError> for ZitadelError {
    fn from(e: ResetError) -> Self {
        match e {
            ResetError::InvalidRequest(detail) => Self::InvalidRequest(detail),
            ResetError::InvalidToken => Self::InvalidToken,
            ResetError::CodeIncorrect { .. } => Self::CodeIncorrect,
            ResetError::AttemptsExhausted { retry_after_secs } => {
                Self::AttemptsExhausted { retry_after_secs }
            }
            ResetError::RateLimited { retry_after_secs } => Self::RateLimited { retry_after_secs },
            ResetError::WeakPassword { violations } => Self::WeakPassword(violations),
            ResetError::CredentialRequired => Self::CredentialRequired,
            ResetError::AuthenticationFailed => Self::AuthenticationFailed,
            ResetError::Forbidden(scope) => Self::PermissionDenied(scope),
            ResetError::UserNotFound => Self::UserNotFound,
            ResetError::Conflict(why) => Self::NotActive(why),
            ResetError::InvalidUrlTemplate(why) => Self::InvalidUrlTemplate(why),
            ResetError::Unavailable { retry_after_secs } => Self::Unavailable { retry_after_secs },
            ResetError::Store(_) | ResetError::Hashing(_) | ResetError::DirectoryManaged => {
                tracing::error!(error = %e, "internal error (zitadel)");
                Self::Internal
            }
        }
    }
}

/// Zitadel's REST error body (a `google.rpc.Status`).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ZitadelError, example = json!({"code": 5, "message": "User could not be found", "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "USER_NOT_FOUND"}]}))]
pub struct ErrorBody {
    /// The gRPC status: 3 INVALID_ARGUMENT, 4 DEADLINE_EXCEEDED, 5 NOT_FOUND, 7 PERMISSION_DENIED,
    /// 8 RESOURCE_EXHAUSTED, 12 UNIMPLEMENTED, 13 INTERNAL, 14 UNAVAILABLE, 16 UNAUTHENTICATED.
    pub code: i32,
    /// What happened, for people.
    pub message: String,
    /// One `google.rpc.ErrorInfo` with our stable reason.
    pub details: Vec<ErrorDetail>,
}

/// A `google.rpc.ErrorInfo` in a `google.rpc.Status`'s `details`, carrying our stable reason.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ZitadelErrorDetail)]
pub struct ErrorDetail {
    /// Always `type.googleapis.com/google.rpc.ErrorInfo`.
    #[serde(rename = "@type")]
    pub type_: &'static str,
    /// Our stable reason, such as `CODE_INCORRECT` or `WEAK_PASSWORD`.
    pub reason: &'static str,
}

/// A Connect error (`application/json`), as Zitadel's Connect API answers.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ZitadelConnectError, example = json!({"code": "not_found", "message": "User could not be found", "details": [{"type": "google.rpc.ErrorInfo", "value": "Cg5VU0VSX05PVF9GT1VORA", "debug": {"reason": "USER_NOT_FOUND"}}]}))]
pub struct ConnectErrorBody {
    /// `invalid_argument`, `deadline_exceeded`, `not_found`, `permission_denied`, `resource_exhausted`,
    /// `unimplemented`, `internal`, `unavailable` or `unauthenticated`.
    pub code: &'static str,
    /// What happened, for people.
    pub message: String,
    /// One `google.rpc.ErrorInfo` with our stable reason.
    pub details: Vec<ConnectErrorDetail>,
}

/// A `google.rpc.ErrorInfo` carrying our stable reason.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ZitadelConnectErrorDetail)]
pub struct ConnectErrorDetail {
    /// Always `google.rpc.ErrorInfo`.
    #[serde(rename = "type")]
    pub type_: &'static str,
    /// The `ErrorInfo` in binary protobuf, base64 without padding.
    pub value: String,
    /// The same for people: `{"reason": …}`.
    pub debug: ReasonDebug,
}

/// The readable form of a Connect error detail (`debug`).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ZitadelConnectErrorReason)]
pub struct ReasonDebug {
    /// Our stable reason, such as `CODE_INCORRECT` or `WEAK_PASSWORD`.
    pub reason: &'static str,
}

impl ZitadelError {
    /// The error answered at `status`, for the OpenAPI document's examples (of both doors).
    pub(crate) fn example(status: u16) -> Option<Self> {
        Some(match status {
            400 => Self::InvalidRequest("The request body is not valid".into()),
            401 => Self::AuthenticationFailed,
            403 => Self::PermissionDenied("password:reset"),
            404 => Self::UserNotFound,
            405 => Self::MethodNotAllowed,
            408 => Self::RequestTimeout,
            413 => Self::PayloadTooLarge,
            415 => Self::UnsupportedMediaType(Some("application/proto".into())),
            429 => Self::RateLimited {
                retry_after_secs: 60,
            },
            500 => Self::Internal,
            503 => Self::Unavailable {
                retry_after_secs: 60,
            },
            _ => return None,
        })
    }

    /// HTTP status, gRPC code and reason.
    fn kind(&self) -> (u16, Code, &'static str) {
        use Code::*;
        match self {
            Self::InvalidRequest(_) => (400, InvalidArgument, "INVALID_REQUEST"),
            Self::InvalidToken => (400, InvalidArgument, "INVALID_TOKEN"),
            Self::CodeIncorrect => (400, InvalidArgument, "CODE_INCORRECT"),
            Self::WeakPassword(_) => (400, InvalidArgument, "WEAK_PASSWORD"),
            Self::InvalidUrlTemplate(_) => (400, InvalidArgument, "INVALID_URL_TEMPLATE"),
            Self::CredentialRequired => (401, Unauthenticated, "CREDENTIAL_REQUIRED"),
            Self::AuthenticationFailed => (401, Unauthenticated, "AUTHENTICATION_FAILED"),
            Self::PermissionDenied(_) => (403, PermissionDenied, "PERMISSION_DENIED"),
            Self::UserNotFound => (404, NotFound, "USER_NOT_FOUND"),
            Self::NotActive(_) => (400, FailedPrecondition, "USER_NOT_ACTIVE"),
            Self::NotFound => (404, NotFound, "NOT_FOUND"),
            Self::UnknownMethod => (404, Unimplemented, "NOT_FOUND"),
            Self::MethodNotAllowed => (405, Unimplemented, "METHOD_NOT_ALLOWED"),
            Self::RequestTimeout => (408, DeadlineExceeded, "REQUEST_TIMEOUT"),
            Self::PayloadTooLarge => (413, ResourceExhausted, "PAYLOAD_TOO_LARGE"),
            Self::UnsupportedMediaType(_) => (415, InvalidArgument, "UNSUPPORTED_MEDIA_TYPE"),
            Self::AttemptsExhausted { .. } => (429, ResourceExhausted, "ATTEMPTS_EXHAUSTED"),
            Self::RateLimited { .. } => (429, ResourceExhausted, "RATE_LIMITED"),
            Self::Internal => (500, Internal, "INTERNAL"),
            Self::Unavailable { .. } => (503, Unavailable, "UNAVAILABLE"),
        }
    }

    /// The headers that go with the error in either shape.
    fn with_headers(&self, response: ApiResponse) -> ApiResponse {
        match self {
            Self::CredentialRequired | Self::AuthenticationFailed => {
                response.with_header("www-authenticate", "Bearer")
            }
            Self::AttemptsExhausted { retry_after_secs }
            | Self::RateLimited { retry_after_secs }
            | Self::Unavailable { retry_after_secs } => {
                response.with_header("retry-after", retry_after_secs.to_string())
            }
            // Connect servers name what they take; harmless on the REST paths too.
            Self::UnsupportedMediaType(_) => {
                response.with_header("accept-post", "application/json")
            }
            _ => response,
        }
    }

    /// The answer on the REST paths: `{"code": <number>, "message", "details": [{"@type",
    /// "reason"}]}`.
    pub fn rest(self) -> ApiResponse {
        let (status, code, reason) = self.kind();
        let body = ErrorBody {
            code: code.number(),
            message: self.to_string(),
            details: vec![ErrorDetail {
                type_: "type.googleapis.com/google.rpc.ErrorInfo",
                reason,
            }],
        };
        self.with_headers(ApiResponse::json(status, &body))
    }

    /// The answer on the Connect paths: `{"code": <name>, "message", "details": [{"type",
    /// "value", "debug"}]}`, as `application/json`.
    pub fn connect(self) -> ApiResponse {
        let (status, code, reason) = self.kind();
        let body = ConnectErrorBody {
            code: code.connect_name(),
            message: self.to_string(),
            details: vec![ConnectErrorDetail {
                type_: "google.rpc.ErrorInfo",
                value: base64::engine::general_purpose::STANDARD_NO_PAD.encode(error_info(reason)),
                debug: ReasonDebug { reason },
            }],
        };
        self.with_headers(ApiResponse::json(status, &body))
    }
}

/// `google.rpc.ErrorInfo { reason }` in binary protobuf: field 1, length-delimited.
fn error_info(reason: &str) -> Vec<u8> {
    let mut out = vec![0x0a];
    let mut len = reason.len();
    while len >= 0x80 {
        // Seven bits at a time, low first, the high bit saying more follow.
        out.push((len as u8 & 0x7f) | 0x80);
        len >>= 7;
    }
    out.push(len as u8);
    out.extend_from_slice(reason.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn error_info_is_field_one_length_delimited() {
        assert_eq!(error_info("AB"), vec![0x0a, 2, b'A', b'B']);
        let long = "x".repeat(300);
        let encoded = error_info(&long);
        assert_eq!(&encoded[..3], &[0x0a, 0xac, 0x02]);
        assert_eq!(encoded.len(), 303);
    }

    #[test]
    fn both_shapes_answer_with_the_same_status_and_headers() {
        let rest = ZitadelError::RateLimited {
            retry_after_secs: 7,
        }
        .rest();
        let connect = ZitadelError::RateLimited {
            retry_after_secs: 7,
        }
        .connect();
        assert_eq!((rest.status, connect.status), (429, 429));
        assert_eq!(rest.headers, connect.headers);
        let body: serde_json::Value = serde_json::from_slice(&connect.body).unwrap();
        assert_eq!(body["code"], "resource_exhausted");
        assert_eq!(body["details"][0]["debug"]["reason"], "RATE_LIMITED");
        let rest: serde_json::Value = serde_json::from_slice(&rest.body).unwrap();
        assert_eq!(rest["code"], 8);
    }
}
