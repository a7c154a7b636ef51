#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

// The client, its types (`types::…`) and one method per operation, from the OpenAPI 3.0.3
// rendition of the API document (progenitor reads 3.0 only). The document is committed and
// drift-tested in reset-api, so a build of this crate always matches the served API.
progenitor::generate_api!(
    spec = "../../openapi/reset.v1.openapi-3.0.json",
    interface = Builder,
    tags = Separate,
);
