//! The router: builds an [`Api`] ([`Api::new`]), answers with it ([`Api::handle`]), and holds the
//! route table (one list of method, path and route) and the 404/405 answers, in v1's shape or,
//! under a dialect's prefix, in the dialect's. The top of the crate: a request walks from an
//! adapter to here, to a handler, to the core; nothing below imports this module.

use bytes::Bytes;
use reset_core::ResetService;

use crate::api::{Api, ApiOptions, Document, PeerAddress, Surface};
use crate::dialects::{forgot_password, misskey, unleash, zitadel};
use crate::mounts::{Dialect, Dialects};
use crate::problem::{INTERNAL_ERROR, METHOD_NOT_ALLOWED, NOT_FOUND, PROBLEM_JSON, Problem};
use crate::request::{ApiRequest, Body, read_body};
use crate::response::ApiResponse;
use crate::{docs, metrics, openapi, pages, telemetry, v1};

impl Api {
    /// The API over `service`, on the runtime it is built on (see [`Api::handle_on_home`]). It
    /// installs no metrics recorder: the host application's stays its own (see
    /// [`install_prometheus`](crate::install_prometheus) for `GET /metrics`).
    pub fn new(service: ResetService, options: ApiOptions) -> Self {
        let document = Document {
            openapi: Bytes::from(openapi::document_json()),
            openapi_3_0: Bytes::from(openapi::document_3_0_json()),
        };
        Api::assemble(service, options, document)
    }

    /// Answers one request. Never panics on input; every failure is a response.
    pub async fn handle(&self, req: ApiRequest) -> ApiResponse {
        let mut response = dispatch(self, &req).await;
        if req.method == "HEAD" {
            response.body = Bytes::new();
        }
        response
    }

    /// [`Api::handle`], run on the runtime the API was built on. For frameworks that give each
    /// worker a runtime of its own (actix-web): database connections and background work then
    /// live on the one runtime that outlasts the workers.
    pub async fn handle_on_home(&self, req: ApiRequest) -> ApiResponse {
        let Some(home) = self.home().cloned() else {
            return self.handle(req).await;
        };
        let api = self.clone();
        match home.spawn(async move { api.handle(req).await }).await {
            Ok(response) => response,
            Err(e) => {
                tracing::error!(error = %e, "request task failed");
                Problem::new(INTERNAL_ERROR, "Something went wrong on our side.").into_response()
            }
        }
    }

    /// [`read_body`] within the body deadline (`limits().body_timeout`); when the body is late,
    /// the answer to send instead: [`Api::body_timeout_response`] for the request's `path`
    /// (below the mount point, as [`ApiRequest::path`]).
    pub async fn read_body<B: bytes::Buf, E>(
        &self,
        path: &str,
        chunks: impl futures_util::Stream<Item = Result<B, E>> + Unpin,
    ) -> Result<Body, ApiResponse> {
        tokio::time::timeout(self.limits().body_timeout, read_body(chunks))
            .await
            .map_err(|_| self.body_timeout_response(path))
    }

    /// 408 for a body that did not arrive in time on `path`, in the shape the route there
    /// answers its other errors in (a dialect's, a page, or v1's `request_timeout` problem;
    /// where no route matches, the dialect whose prefix holds the path, as for a 404); the
    /// connection closes after it.
    pub fn body_timeout_response(&self, path: &str) -> ApiResponse {
        late_body(self, path)
    }

    /// The (method, path) pairs served with every dialect at its default prefix: the paths of
    /// the OpenAPI document.
    pub fn routes() -> Vec<(&'static str, String)> {
        let dialects = Dialects::default();
        PUBLIC
            .iter()
            .map(|e| match e.at {
                None => (e.method, e.path.to_owned()),
                Some(d) => (e.method, dialects.mount(d).path(e.path)),
            })
            .collect()
    }
}

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
    OpenApi30,
    MisskeyRequest,
    MisskeyReset,
    ForgotSendEmail,
    ForgotCheckCode,
    ForgotResetPassword,
    UnleashPassword,
    UnleashValidate,
    UnleashValidatePassword,
    UnleashPasswordEmail,
    AdminPasswordReset,
    AdminPassword,
    UserCreate,
    UserList,
    UserRead,
    UserUpdate,
    UserDelete,
    ZitadelPasswordReset,
    ZitadelPassword,
    ZitadelConnectPasswordReset,
    ZitadelConnectSetPassword,
    PageForm,
    PageSubmit,
    PageCancelForm,
    PageCancelSubmit,
    Docs,
    DocsAsset,
}

/// One served (method, path): at the root, or below a dialect's prefix when that dialect is
/// mounted. `HEAD` is served wherever `GET` is.
struct Entry {
    method: &'static str,
    /// The dialect whose prefix `path` follows; `None`: `path` is the whole path.
    at: Option<Dialect>,
    path: &'static str,
    route: Route,
}

const fn root(method: &'static str, path: &'static str, route: Route) -> Entry {
    Entry {
        method,
        at: None,
        path,
        route,
    }
}

const fn under(dialect: Dialect, method: &'static str, path: &'static str, route: Route) -> Entry {
    Entry {
        method,
        at: Some(dialect),
        path,
        route,
    }
}

/// Every public route; a dialect's are served while it is mounted. When two entries match a
/// request, the first wins.
const PUBLIC: &[Entry] = &[
    root("POST", "/v1/password-reset/request", Route::Request),
    root("POST", "/v1/password-reset/verify", Route::Verify),
    root("POST", "/v1/password-reset/complete", Route::Complete),
    root("POST", "/v1/password-reset/cancel", Route::Cancel),
    root("GET", "/healthz", Route::Healthz),
    root("GET", "/readyz", Route::Readyz),
    root("GET", "/openapi.json", Route::OpenApi),
    root("GET", "/openapi-3.0.json", Route::OpenApi30),
    root("GET", "/docs", Route::Docs),
    root("GET", "/docs/{asset}", Route::DocsAsset),
    root(
        "POST",
        "/v1/users/{user_id}/password-reset",
        Route::AdminPasswordReset,
    ),
    root("POST", "/v1/users/{user_id}/password", Route::AdminPassword),
    // Each path's methods in alphabetical order, as the OpenAPI document and `Allow` list them.
    root("GET", "/v1/users", Route::UserList),
    root("POST", "/v1/users", Route::UserCreate),
    root("DELETE", "/v1/users/{user_id}", Route::UserDelete),
    root("GET", "/v1/users/{user_id}", Route::UserRead),
    root("PATCH", "/v1/users/{user_id}", Route::UserUpdate),
    root("GET", "/reset-password", Route::PageForm),
    root("POST", "/reset-password", Route::PageSubmit),
    root("GET", "/reset-password/cancel", Route::PageCancelForm),
    root("POST", "/reset-password/cancel", Route::PageCancelSubmit),
    under(
        Dialect::Misskey,
        "POST",
        "/request-reset-password",
        Route::MisskeyRequest,
    ),
    under(
        Dialect::Misskey,
        "POST",
        "/reset-password",
        Route::MisskeyReset,
    ),
    under(
        Dialect::ForgotPassword,
        "POST",
        "/sendEmail",
        Route::ForgotSendEmail,
    ),
    under(
        Dialect::ForgotPassword,
        "POST",
        "/checkCode",
        Route::ForgotCheckCode,
    ),
    under(
        Dialect::ForgotPassword,
        "POST",
        "/resetPassword",
        Route::ForgotResetPassword,
    ),
    under(
        Dialect::Zitadel,
        "POST",
        "/users/{userId}/password_reset",
        Route::ZitadelPasswordReset,
    ),
    under(
        Dialect::Zitadel,
        "POST",
        "/users/{userId}/password",
        Route::ZitadelPassword,
    ),
    under(
        Dialect::ZitadelConnect,
        "POST",
        "/PasswordReset",
        Route::ZitadelConnectPasswordReset,
    ),
    under(
        Dialect::ZitadelConnect,
        "POST",
        "/SetPassword",
        Route::ZitadelConnectSetPassword,
    ),
    under(
        Dialect::Unleash,
        "POST",
        "/password",
        Route::UnleashPassword,
    ),
    under(Dialect::Unleash, "GET", "/validate", Route::UnleashValidate),
    under(
        Dialect::Unleash,
        "POST",
        "/validate-password",
        Route::UnleashValidatePassword,
    ),
    under(
        Dialect::Unleash,
        "POST",
        "/password-email",
        Route::UnleashPasswordEmail,
    ),
];

/// The metrics listener's one route. `/metrics` is not in [`PUBLIC`]: its outbox and delivery
/// series move only when a real account is asked for, so it is served apart, off the public
/// listener (see [`Api::metrics_only`]).
const METRICS: &[Entry] = &[root("GET", "/metrics", Route::Metrics)];

/// A route of the table that matches a request's path: its entry, the prefix it is mounted
/// under (`""` at the root; no trailing slash) and its raw path parameters.
struct Matched<'a> {
    entry: &'static Entry,
    prefix: &'a str,
    params: Vec<String>,
}

impl Matched<'_> {
    /// The route's whole path pattern, as counted in the metrics.
    fn pattern(&self) -> String {
        format!("{}{}", self.prefix, self.entry.path)
    }
}

/// The entries whose path matches `path`, in table order.
fn on_path<'a>(api: &'a Api, path: &str) -> Vec<Matched<'a>> {
    let table = match api.surface() {
        Surface::Public => PUBLIC,
        Surface::Metrics => METRICS,
    };
    table
        .iter()
        .filter_map(|entry| {
            let prefix = match entry.at {
                None => "",
                Some(d) => {
                    let (_, mount) = api.mounts().iter().find(|(at, _)| *at == d)?;
                    mount.prefix.trim_end_matches('/')
                }
            };
            let params = captures(prefix, entry.path, path)?;
            Some(Matched {
                entry,
                prefix,
                params,
            })
        })
        .collect()
}

async fn dispatch(api: &Api, req: &ApiRequest) -> ApiResponse {
    let method = if req.method == "HEAD" {
        "GET"
    } else {
        req.method.as_str()
    };
    let on_path = on_path(api, &req.path);
    let pattern = on_path.first().map(Matched::pattern);
    let dialect = on_path
        .first()
        .and_then(|m| m.entry.at)
        .map_or("v1", Dialect::name);
    let response = telemetry::observe(req, pattern.as_deref(), dialect, async {
        if let Some(refused) = without_peer(api, req) {
            return refused;
        }
        negotiate(req, answer(api, req, method, &on_path).await)
    })
    .await;
    metrics::record_response(
        pattern.unwrap_or_else(|| "unmatched".to_owned()),
        response.status,
    );
    response
}

/// The answer to a request that came without the client's address where one is required (see
/// [`PeerAddress`]): a configuration error of the embedder's, named with its fix, never a
/// request served with the per-address limits silently off.
fn without_peer(api: &Api, req: &ApiRequest) -> Option<ApiResponse> {
    if req.peer.is_some() || api.peer_address() == PeerAddress::NotNeeded {
        return None;
    }
    const FIX: &str = "The reset routes got a request without the client's address, so the \
        limits per address cannot apply. Serve them with the framework's connect info (axum: \
        into_make_service_with_connect_info::<SocketAddr>(); each adapter's serve() does it), or \
        set ApiOptions::peer_address to PeerAddress::NotNeeded to run without those limits.";
    static LOGGED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if !LOGGED.swap(true, std::sync::atomic::Ordering::Relaxed) {
        tracing::error!("{FIX}");
    }
    Some(Problem::new(INTERNAL_ERROR, FIX).into_response())
}

/// A problem answers as `application/json` (the same body) when the request's `Accept` asks
/// for `application/json` and not for `application/problem+json`: generators that type only
/// `application/json` (the document lists problems under both) then get typed errors. Without
/// `Accept`, or with `*/*` or problem+json, the answer stays problem+json.
fn negotiate(req: &ApiRequest, mut response: ApiResponse) -> ApiResponse {
    let Some(at) = response
        .headers
        .iter()
        .position(|(n, v)| *n == "content-type" && v == PROBLEM_JSON)
    else {
        return response;
    };
    let (mut json, mut problem) = (false, false);
    for range in req.header_all("accept").flat_map(|v| v.split(',')) {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let refused = parts.any(|p| {
            p.trim()
                .strip_prefix("q=")
                .and_then(|q| q.trim().parse::<f32>().ok())
                .is_some_and(|q| q <= 0.0)
        });
        if refused {
            continue;
        }
        json |= media == "application/json";
        problem |= media == PROBLEM_JSON;
    }
    if json && !problem {
        response.headers[at].1 = "application/json".to_owned();
    }
    response
}

/// The raw (still percent-encoded) values of the `{…}` segments of the pattern `prefix` +
/// `suffix` when `path` matches it; a parameter matches one non-empty segment. `suffix` starts
/// with `/`.
fn captures(prefix: &str, suffix: &str, path: &str) -> Option<Vec<String>> {
    if !prefix.contains('{') && !suffix.contains('{') {
        return (path.strip_prefix(prefix)? == suffix).then(Vec::new);
    }
    // The segments of `prefix` + `suffix`, without building it.
    let (mut p, mut s) = (
        prefix.split('/').chain(suffix.split('/').skip(1)),
        path.split('/'),
    );
    let mut values = Vec::new();
    loop {
        match (p.next(), s.next()) {
            (None, None) => return Some(values),
            (Some(want), Some(got)) if want.starts_with('{') && want.ends_with('}') => {
                if got.is_empty() {
                    return None;
                }
                values.push(got.to_owned());
            }
            (Some(want), Some(got)) if want == got => {}
            _ => return None,
        }
    }
}

/// 404 for a path under a dialect's prefix that it does not serve, in the dialect's shape.
fn not_found(dialect: Dialect) -> ApiResponse {
    match dialect {
        Dialect::Misskey => misskey::not_found(),
        Dialect::ForgotPassword => forgot_password::not_found(),
        Dialect::Unleash => unleash::not_found(),
        Dialect::Zitadel => zitadel::not_found(),
        Dialect::ZitadelConnect => zitadel::connect::not_found(),
    }
}

/// 408 for a body that did not arrive on `path` in time, in the shape the route there answers its
/// other errors in: a dialect's (by the route matched, else, as for a 404, by the prefix that
/// holds the path), a page, or v1's problem. The connection closes after it.
fn late_body(api: &Api, path: &str) -> ApiResponse {
    let dialect = match on_path(api, path).first() {
        Some(m) if is_page(m.entry.route) => {
            return pages::request_timeout().with_header("connection", "close");
        }
        Some(m) => m.entry.at,
        None => api.dialects().owner(path),
    };
    match dialect {
        Some(d) => request_timeout(d).with_header("connection", "close"),
        None => crate::connections::body_timeout_response(),
    }
}

fn is_page(route: Route) -> bool {
    matches!(
        route,
        Route::PageForm | Route::PageSubmit | Route::PageCancelForm | Route::PageCancelSubmit
    )
}

/// 408 in a dialect's shape.
fn request_timeout(dialect: Dialect) -> ApiResponse {
    match dialect {
        Dialect::Misskey => misskey::request_timeout(),
        Dialect::ForgotPassword => forgot_password::request_timeout(),
        Dialect::Unleash => unleash::request_timeout(),
        Dialect::Zitadel => zitadel::request_timeout(),
        Dialect::ZitadelConnect => zitadel::connect::request_timeout(),
    }
}

/// 405 in a dialect's shape (the caller adds `Allow`).
fn method_not_allowed(dialect: Dialect) -> ApiResponse {
    match dialect {
        Dialect::Misskey => misskey::method_not_allowed(),
        Dialect::ForgotPassword => forgot_password::method_not_allowed(),
        Dialect::Unleash => unleash::method_not_allowed(),
        Dialect::Zitadel => zitadel::method_not_allowed(),
        Dialect::ZitadelConnect => zitadel::connect::method_not_allowed(),
    }
}

async fn answer(api: &Api, req: &ApiRequest, method: &str, on_path: &[Matched<'_>]) -> ApiResponse {
    let Some(Matched { entry, params, .. }) = on_path.iter().find(|m| m.entry.method == method)
    else {
        if on_path.is_empty() {
            return match api.dialects().owner(&req.path) {
                Some(dialect) => not_found(dialect),
                None => Problem::new(NOT_FOUND, "There is no such route.").into_response(),
            };
        }
        let mut allow: Vec<&str> = on_path.iter().map(|m| m.entry.method).collect();
        if allow.contains(&"GET") {
            allow.push("HEAD");
        }
        let allow = allow.join(", ");
        if let Some(dialect) = on_path[0].entry.at {
            return method_not_allowed(dialect).with_header("allow", allow);
        }
        return Problem::new(
            METHOD_NOT_ALLOWED,
            format!("{} is not allowed here; use {allow}.", req.method),
        )
        .into_response()
        .with_header("allow", allow);
    };
    let result = match entry.route {
        Route::Request => v1::self_service::request(api, req).await,
        Route::Verify => v1::self_service::verify(api, req).await,
        Route::Complete => v1::self_service::complete(api, req).await,
        Route::Cancel => v1::self_service::cancel(api, req).await,
        Route::Healthz => Ok(v1::ops::healthz()),
        Route::Readyz => v1::ops::readyz(api).await,
        Route::Metrics => Ok(metrics::render(api).await),
        Route::OpenApi => Ok(v1::ops::openapi(api)),
        Route::OpenApi30 => Ok(v1::ops::openapi_3_0(api)),
        Route::MisskeyRequest => Ok(misskey::request(api, req).await),
        Route::MisskeyReset => Ok(misskey::reset(api, req).await),
        Route::ForgotSendEmail => Ok(forgot_password::send_email(api, req).await),
        Route::ForgotCheckCode => Ok(forgot_password::check_code(api, req).await),
        Route::ForgotResetPassword => Ok(forgot_password::reset_password(api, req).await),
        Route::UnleashPassword => Ok(unleash::password(api, req).await),
        Route::UnleashValidate => Ok(unleash::validate(api, req).await),
        Route::UnleashValidatePassword => Ok(unleash::validate_password(api, req).await),
        Route::UnleashPasswordEmail => Ok(unleash::password_email(api, req).await),
        Route::AdminPasswordReset => v1::admin::password_reset(api, req, param(params)).await,
        Route::AdminPassword => v1::admin::set_password(api, req, param(params)).await,
        Route::UserCreate => v1::users::create(api, req).await,
        Route::UserList => v1::users::list(api, req).await,
        Route::UserRead => v1::users::read(api, req, param(params)).await,
        Route::UserUpdate => v1::users::update(api, req, param(params)).await,
        Route::UserDelete => v1::users::delete(api, req, param(params)).await,
        Route::ZitadelPasswordReset => Ok(zitadel::password_reset(api, req, param(params)).await),
        Route::ZitadelPassword => Ok(zitadel::set_password(api, req, param(params)).await),
        Route::ZitadelConnectPasswordReset => Ok(zitadel::connect::password_reset(api, req).await),
        Route::ZitadelConnectSetPassword => Ok(zitadel::connect::set_password(api, req).await),
        Route::Docs => Ok(docs::page()),
        Route::DocsAsset => Ok(docs::asset(param(params).as_deref())),
        Route::PageForm => Ok(pages::reset_form(api, req).await),
        Route::PageSubmit => Ok(pages::reset_submit(api, req).await),
        Route::PageCancelForm => Ok(pages::cancel_form(api, req).await),
        Route::PageCancelSubmit => Ok(pages::cancel_submit(api, req).await),
    };
    result.unwrap_or_else(Problem::into_response)
}

/// The route's one path parameter, percent-decoded (`None` when it is not UTF-8).
fn param(params: &[String]) -> Option<String> {
    let raw = params.first()?;
    percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .ok()
        .map(std::borrow::Cow::into_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::problem::INVALID_TOKEN;

    fn content_type(accept: &[&str]) -> String {
        let req = ApiRequest {
            method: "POST".into(),
            path: "/v1/password-reset/complete".into(),
            query: None,
            headers: accept
                .iter()
                .map(|v| ("accept".to_owned(), (*v).to_owned()))
                .collect(),
            body: crate::Body::Bytes(bytes::Bytes::new()),
            peer: None,
        };
        let problem = Problem::new(INVALID_TOKEN, "x").into_response();
        let body = problem.body.clone();
        let answered = negotiate(&req, problem);
        assert_eq!(answered.body, body, "the same body either way");
        answered
            .header("content-type")
            .unwrap_or_default()
            .to_owned()
    }

    #[test]
    fn problems_answer_application_json_only_when_asked_for_it_alone() {
        for (accept, expected) in [
            (&[][..], PROBLEM_JSON),
            (&["*/*"][..], PROBLEM_JSON),
            (&["application/problem+json"][..], PROBLEM_JSON),
            (
                &["application/json, application/problem+json"][..],
                PROBLEM_JSON,
            ),
            (
                &["application/json", "application/problem+json;q=0.5"][..],
                PROBLEM_JSON,
            ),
            (&["application/*"][..], PROBLEM_JSON),
            (&["application/json;q=0"][..], PROBLEM_JSON),
            (&["application/json"][..], "application/json"),
            (
                &["Application/JSON; charset=utf-8, */*;q=0.1"][..],
                "application/json",
            ),
            (
                &["application/json", "application/problem+json;q=0"][..],
                "application/json",
            ),
        ] {
            assert_eq!(content_type(accept), expected, "Accept: {accept:?}");
        }
    }

    /// The matching before routes knew their prefix: the whole pattern, built.
    fn captures_of_the_whole_pattern(pattern: &str, path: &str) -> Option<Vec<String>> {
        if !pattern.contains('{') {
            return (pattern == path).then(Vec::new);
        }
        let (mut p, mut s) = (pattern.split('/'), path.split('/'));
        let mut values = Vec::new();
        loop {
            match (p.next(), s.next()) {
                (None, None) => return Some(values),
                (Some(want), Some(got)) if want.starts_with('{') && want.ends_with('}') => {
                    if got.is_empty() {
                        return None;
                    }
                    values.push(got.to_owned());
                }
                (Some(want), Some(got)) if want == got => {}
                _ => return None,
            }
        }
    }

    #[test]
    fn a_prefix_and_a_suffix_match_as_their_concatenation() {
        let prefixes = ["", "/v2", "/a/b", "/{x}", "/v2{"];
        let suffixes = [
            "/healthz",
            "/users/{userId}/password",
            "/docs/{asset}",
            "/p",
        ];
        let paths = [
            "/healthz",
            "/v2/users/42/password",
            "/v2/users//password",
            "/v2/users/42/password/",
            "/a/b/docs/x.css",
            "/docs/x.css",
            "/docs/",
            "/q/p",
            "/{x}/p",
            "/v2{/p",
            "/v2/p",
            "",
            "/",
        ];
        for prefix in prefixes {
            for suffix in suffixes {
                for path in paths {
                    assert_eq!(
                        captures(prefix, suffix, path),
                        captures_of_the_whole_pattern(&format!("{prefix}{suffix}"), path),
                        "{prefix:?} + {suffix:?} on {path:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn other_answers_are_left_alone() {
        let req = ApiRequest {
            method: "GET".into(),
            path: "/healthz".into(),
            query: None,
            headers: vec![("accept".into(), "application/json".into())],
            body: crate::Body::Bytes(bytes::Bytes::new()),
            peer: None,
        };
        let page = ApiResponse::bytes(200, "text/html; charset=utf-8", bytes::Bytes::new());
        assert_eq!(negotiate(&req, page.clone()), page);
    }
}
