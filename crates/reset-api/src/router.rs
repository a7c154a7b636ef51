//! The route table: one list of (method, path, handler), and the 404/405 answers.

use crate::api::Api;
use crate::problem::{METHOD_NOT_ALLOWED, NOT_FOUND, Problem};
use crate::request::ApiRequest;
use crate::response::ApiResponse;
use crate::v1;

/// What a route does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Request,
    Verify,
    Complete,
    Cancel,
    Healthz,
    Readyz,
    Metrics,
    OpenApi,
}

/// Every route the API serves. `HEAD` is served wherever `GET` is.
const ROUTES: &[(&str, &str, Route)] = &[
    ("POST", "/v1/password-reset/request", Route::Request),
    ("POST", "/v1/password-reset/verify", Route::Verify),
    ("POST", "/v1/password-reset/complete", Route::Complete),
    ("POST", "/v1/password-reset/cancel", Route::Cancel),
    ("GET", "/healthz", Route::Healthz),
    ("GET", "/readyz", Route::Readyz),
    ("GET", "/metrics", Route::Metrics),
    ("GET", "/openapi.json", Route::OpenApi),
];

/// The (method, path) pairs served, for adapters' and tests' use.
pub fn routes() -> impl Iterator<Item = (&'static str, &'static str)> {
    ROUTES.iter().map(|(m, p, _)| (*m, *p))
}

pub(crate) async fn dispatch(api: &Api, req: &ApiRequest) -> ApiResponse {
    let method = if req.method == "HEAD" {
        "GET"
    } else {
        req.method.as_str()
    };
    let on_path: Vec<&(&str, &str, Route)> =
        ROUTES.iter().filter(|(_, p, _)| *p == req.path).collect();
    let pattern = on_path.first().map_or("unmatched", |(_, p, _)| *p);
    let response = answer(api, req, method, &on_path).await;
    crate::metrics::record_response(pattern, response.status);
    response
}

async fn answer(
    api: &Api,
    req: &ApiRequest,
    method: &str,
    on_path: &[&(&str, &str, Route)],
) -> ApiResponse {
    let Some((_, _, route)) = on_path.iter().find(|(m, _, _)| *m == method) else {
        if on_path.is_empty() {
            return Problem::new(NOT_FOUND, "There is no such route.").into_response();
        }
        let mut allow: Vec<&str> = on_path.iter().map(|(m, _, _)| *m).collect();
        if allow.contains(&"GET") {
            allow.push("HEAD");
        }
        let allow = allow.join(", ");
        return Problem::new(
            METHOD_NOT_ALLOWED,
            format!("{} is not allowed here; use {allow}.", req.method),
        )
        .into_response()
        .with_header("allow", allow);
    };
    let result = match route {
        Route::Request => v1::self_service::request(api, req).await,
        Route::Verify => v1::self_service::verify(api, req).await,
        Route::Complete => v1::self_service::complete(api, req).await,
        Route::Cancel => v1::self_service::cancel(api, req).await,
        Route::Healthz => Ok(v1::ops::healthz()),
        Route::Readyz => v1::ops::readyz(api).await,
        Route::Metrics => Ok(crate::metrics::render(api).await),
        Route::OpenApi => Ok(v1::ops::openapi(api)),
    };
    result.unwrap_or_else(Problem::into_response)
}
