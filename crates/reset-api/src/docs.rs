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
