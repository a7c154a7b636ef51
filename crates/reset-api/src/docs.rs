//! `GET /docs`: Swagger UI over this server's own `/openapi.json`, from assets vendored into
//! the binary (`assets/swagger-ui/`), so the reference works with no internet. Every URL is
//! relative, so it works under any mount prefix.

use bytes::Bytes;

use crate::problem::{NOT_FOUND, Problem};
use crate::response::ApiResponse;

const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Password reset API</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="docs/swagger-ui-bundle.js"></script>
<script src="docs/init.js"></script>
</body>
</html>
"#;

/// Swagger UI sets inline styles and shows `data:` images; everything else comes from here.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'";

const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "swagger-ui.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/swagger-ui/swagger-ui.css"),
    ),
    (
        "swagger-ui-bundle.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/swagger-ui/swagger-ui-bundle.js"),
    ),
    (
        "init.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/swagger-ui/init.js"),
    ),
];

/// `GET /docs`.
pub fn page() -> ApiResponse {
    ApiResponse::bytes(
        200,
        "text/html; charset=utf-8",
        Bytes::from_static(PAGE.as_bytes()),
    )
    .with_header("content-security-policy", CSP)
}

/// `GET /docs/{asset}`.
pub fn asset(name: Option<&str>) -> ApiResponse {
    match ASSETS.iter().find(|(n, _, _)| Some(*n) == name) {
        Some((_, content_type, body)) => {
            ApiResponse::bytes(200, content_type, Bytes::from_static(body))
        }
        None => Problem::new(NOT_FOUND, "There is no such asset.").into_response(),
    }
}

/// The reference's operations in the OpenAPI document: stubs that only carry its attributes.
#[allow(dead_code)]
pub(crate) mod openapi {
    use crate::problem::Problem;

    /// The interactive reference (Swagger UI, served from vendored assets: no CDN, no internet).
    #[utoipa::path(get, path = "/docs", tag = "operations", operation_id = "docs",
        responses((status = 200, description = "The Swagger UI page.", content_type = "text/html; charset=utf-8", body = String, example = "<!doctype html>…")))]
    pub(crate) fn docs_page() {}

    /// The reference's assets: `swagger-ui.css`, `swagger-ui-bundle.js`, `init.js`.
    #[utoipa::path(get, path = "/docs/{asset}", tag = "operations", operation_id = "docsAsset",
        params(("asset" = String, Path, description = "`swagger-ui.css`, `swagger-ui-bundle.js` or `init.js`.")),
        responses(
            (status = 200, description = "The asset (CSS or JavaScript).", content_type = "text/javascript; charset=utf-8", body = String, example = "window.addEventListener(…)"),
            (status = 404, description = "`not_found`: no such asset.", body = Problem, content_type = "application/problem+json",
                example = json!({"type": "about:blank", "title": "Not found", "status": 404, "detail": "There is no such asset.", "code": "not_found", "id": "5c2e8f1a-3d4b-4a6c-9e7f-1b0d2c3e4f04"}))
        ))]
    pub(crate) fn docs_asset() {}
}
