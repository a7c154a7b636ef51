//! The route table: one list of (method, path, handler), and the 404/405 answers.

use crate::api::Api;
use crate::dialects::{Dialect, Dialects, forgot_password, misskey, unleash, zitadel};
use crate::pages;
use crate::problem::{METHOD_NOT_ALLOWED, NOT_FOUND, PROBLEM_JSON, Problem};
use crate::request::ApiRequest;
use crate::response::ApiResponse;
use crate::v1;

/// What a route does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
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

impl Route {
    /// The dialect a route belongs to, for answers given in its shape.
    fn dialect(self) -> Option<Dialect> {
        match self {
            Self::MisskeyRequest | Self::MisskeyReset => Some(Dialect::Misskey),
            Self::ForgotSendEmail | Self::ForgotCheckCode | Self::ForgotResetPassword => {
                Some(Dialect::ForgotPassword)
            }
            Self::UnleashPassword
            | Self::UnleashValidate
            | Self::UnleashValidatePassword
            | Self::UnleashPasswordEmail => Some(Dialect::Unleash),
            Self::ZitadelPasswordReset | Self::ZitadelPassword => Some(Dialect::Zitadel),
            Self::ZitadelConnectPasswordReset | Self::ZitadelConnectSetPassword => {
                Some(Dialect::ZitadelConnect)
            }
            _ => None,
        }
    }
}

/// One served (method, path).
pub(crate) type Entry = (&'static str, String, Route);

/// Every route the API serves with these dialects. `HEAD` is served wherever `GET` is.
pub(crate) fn table(dialects: &Dialects) -> Vec<Entry> {
    let mut t: Vec<Entry> = [
        ("POST", "/v1/password-reset/request", Route::Request),
        ("POST", "/v1/password-reset/verify", Route::Verify),
        ("POST", "/v1/password-reset/complete", Route::Complete),
        ("POST", "/v1/password-reset/cancel", Route::Cancel),
        ("GET", "/healthz", Route::Healthz),
        ("GET", "/readyz", Route::Readyz),
        ("GET", "/openapi.json", Route::OpenApi),
        ("GET", "/openapi-3.0.json", Route::OpenApi30),
        ("GET", "/docs", Route::Docs),
        ("GET", "/docs/{asset}", Route::DocsAsset),
        (
            "POST",
            "/v1/users/{user_id}/password-reset",
            Route::AdminPasswordReset,
        ),
        ("POST", "/v1/users/{user_id}/password", Route::AdminPassword),
        ("GET", "/reset-password", Route::PageForm),
        ("POST", "/reset-password", Route::PageSubmit),
        ("GET", "/reset-password/cancel", Route::PageCancelForm),
        ("POST", "/reset-password/cancel", Route::PageCancelSubmit),
    ]
    .into_iter()
    .map(|(m, p, r)| (m, p.to_owned(), r))
    .collect();
    let mut mount = |on: &crate::dialects::Mount, routes: &[(&'static str, &str, Route)]| {
        if on.enabled {
            t.extend(routes.iter().map(|(m, p, r)| (*m, on.path(p), *r)));
        }
    };
    mount(
        &dialects.misskey,
        &[
            ("POST", "/request-reset-password", Route::MisskeyRequest),
            ("POST", "/reset-password", Route::MisskeyReset),
        ],
    );
    mount(
        &dialects.forgot_password,
        &[
            ("POST", "/sendEmail", Route::ForgotSendEmail),
            ("POST", "/checkCode", Route::ForgotCheckCode),
            ("POST", "/resetPassword", Route::ForgotResetPassword),
        ],
    );
    mount(
        &dialects.zitadel,
        &[
            (
                "POST",
                "/users/{userId}/password_reset",
                Route::ZitadelPasswordReset,
            ),
            ("POST", "/users/{userId}/password", Route::ZitadelPassword),
        ],
    );
    mount(
        &dialects.zitadel_connect(),
        &[
            ("POST", "/PasswordReset", Route::ZitadelConnectPasswordReset),
            ("POST", "/SetPassword", Route::ZitadelConnectSetPassword),
        ],
    );
    mount(
        &dialects.unleash,
        &[
            ("POST", "/password", Route::UnleashPassword),
            ("GET", "/validate", Route::UnleashValidate),
            ("POST", "/validate-password", Route::UnleashValidatePassword),
            ("POST", "/password-email", Route::UnleashPasswordEmail),
        ],
    );
    t
}

/// The metrics listener's one route. `/metrics` is not in [`table`]: its outbox and delivery
/// series move only when a real account is asked for, so it is served apart, off the public
/// listener (see [`Api::metrics_only`]).
pub(crate) fn metrics_table() -> Vec<Entry> {
    vec![("GET", "/metrics".to_owned(), Route::Metrics)]
}

/// The (method, path) pairs served with every dialect at its default prefix: the paths of the
/// OpenAPI document.
pub fn routes() -> Vec<(&'static str, String)> {
    table(&Dialects::default())
        .into_iter()
        .map(|(m, p, _)| (m, p))
        .collect()
}

pub(crate) async fn dispatch(api: &Api, req: &ApiRequest) -> ApiResponse {
    let method = if req.method == "HEAD" {
        "GET"
    } else {
        req.method.as_str()
    };
    let on_path: Vec<(&Entry, Vec<String>)> = api
        .table()
        .iter()
        .filter_map(|e| captures(&e.1, &req.path).map(|c| (e, c)))
        .collect();
    let pattern = on_path.first().map_or("unmatched", |(e, _)| e.1.as_str());
    let response = negotiate(req, answer(api, req, method, &on_path).await);
    crate::metrics::record_response(pattern, response.status);
    response
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

/// The raw (still percent-encoded) values of `pattern`'s `{…}` segments when `path` matches
/// it; a parameter matches one non-empty segment.
fn captures(pattern: &str, path: &str) -> Option<Vec<String>> {
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

async fn answer(
    api: &Api,
    req: &ApiRequest,
    method: &str,
    on_path: &[(&Entry, Vec<String>)],
) -> ApiResponse {
    let Some(((_, _, route), params)) = on_path.iter().find(|(e, _)| e.0 == method) else {
        if on_path.is_empty() {
            return match api.dialects().owner(&req.path) {
                Some(dialect) => dialect.not_found(),
                None => Problem::new(NOT_FOUND, "There is no such route.").into_response(),
            };
        }
        let mut allow: Vec<&str> = on_path.iter().map(|(e, _)| e.0).collect();
        if allow.contains(&"GET") {
            allow.push("HEAD");
        }
        let allow = allow.join(", ");
        if let Some(dialect) = on_path[0].0.2.dialect() {
            return dialect.method_not_allowed().with_header("allow", allow);
        }
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
        Route::ZitadelPasswordReset => Ok(zitadel::password_reset(api, req, param(params)).await),
        Route::ZitadelPassword => Ok(zitadel::set_password(api, req, param(params)).await),
        Route::ZitadelConnectPasswordReset => Ok(zitadel::connect::password_reset(api, req).await),
        Route::ZitadelConnectSetPassword => Ok(zitadel::connect::set_password(api, req).await),
        Route::Docs => Ok(crate::docs::page()),
        Route::DocsAsset => Ok(crate::docs::asset(param(params).as_deref())),
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
