//! `GET /healthz`, `GET /readyz`, `GET /openapi.json`, `GET /openapi-3.0.json`.

use crate::api::Api;
use crate::problem::{NOT_READY, Problem};
use crate::response::ApiResponse;
use crate::v1::wire::StatusResponse;

/// The process is up.
pub fn healthz() -> ApiResponse {
    ApiResponse::json(200, &StatusResponse { status: "ok" })
}

/// The database answers and every migration is applied.
pub async fn readyz(api: &Api) -> Result<ApiResponse, Problem> {
    match api.service().ready().await {
        Ok(()) => Ok(ApiResponse::json(200, &StatusResponse { status: "ready" })),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            Err(Problem::new(
                NOT_READY,
                "The database is unreachable or not migrated.",
            ))
        }
    }
}

/// The OpenAPI document, the same bytes as `openapi/reset.v1.json`.
pub fn openapi(api: &Api) -> ApiResponse {
    ApiResponse::bytes(200, "application/json", api.openapi_bytes())
}

/// Its OpenAPI 3.0.3 rendition, the same bytes as `openapi/reset.v1.openapi-3.0.json`.
pub fn openapi_3_0(api: &Api) -> ApiResponse {
    ApiResponse::bytes(200, "application/json", api.openapi_3_0_bytes())
}
