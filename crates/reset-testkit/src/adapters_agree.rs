//! The adapters answer with the same bytes: one script of requests (every route of v1, the
//! admin API and each dialect, every error path, malformed requests that frameworks like to
//! answer on their own) run against each
//! adapter on its own fresh store, and the answers compared step by step.

use futures::stream;
use serde_json::json;

use crate::db::TestDb;
use crate::server::{Reply, Spawn, TestServer};

/// An adapter under comparison.
#[derive(Clone, Copy)]
pub struct Adapter {
    /// The adapter's name, as failure messages give it.
    pub name: &'static str,
    /// How the adapter serves the API.
    pub spawn: Spawn,
    /// Where `spawn` mounts the API (`""` for the root).
    pub prefix: &'static str,
}

/// Headers whose values must agree (frameworks may add others, such as `date`).
const HEADERS: &[&str] = &[
    "content-type",
    "cache-control",
    "retry-after",
    "allow",
    "x-content-type-options",
    "referrer-policy",
    "x-frame-options",
    "www-authenticate",
    "content-security-policy",
    "content-language",
];

fn essential(r: &Reply) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut headers: Vec<(String, String)> = r
        .headers
        .iter()
        .filter(|(n, _)| HEADERS.contains(&n.as_str()))
        .cloned()
        .collect();
    headers.sort();
    (r.status, headers, r.body.clone())
}

/// An answer for a failure message, its body as text where it is text.
fn readable(e: &(u16, Vec<(String, String)>, Vec<u8>)) -> (u16, &[(String, String)], String) {
    (e.0, &e.1, String::from_utf8_lossy(&e.2).into_owned())
}

/// Runs the script on every adapter (each on a database from `db`) and panics, naming the step
/// and both answers, at the first difference.
pub async fn assert_adapters_agree<F, Fut>(adapters: &[Adapter], db: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Option<TestDb>>,
{
    let mut transcripts = Vec::new();
    for adapter in adapters {
        let Some(db) = db().await else { return };
        let mut server = TestServer::start(db, adapter.spawn).await;
        server.base.push_str(adapter.prefix);
        transcripts.push((adapter.name, script(&server).await));
    }
    let Some(((first_name, first), rest)) = transcripts.split_first() else {
        return;
    };
    for (name, transcript) in rest {
        assert_eq!(first.len(), transcript.len());
        for ((step, a), (_, b)) in first.iter().zip(transcript) {
            let (ea, eb) = (essential(a), essential(b));
            assert!(
                ea == eb,
                "adapters disagree on {step}:\n  {first_name}: {:?}\n  {name}: {:?}",
                readable(&ea),
                readable(&eb)
            );
        }
    }
}

const JSON: Option<&str> = Some("application/json");

/// The requests, in order, each with a label that names it in a failure.
async fn script(s: &TestServer) -> Vec<(String, Reply)> {
    let mut out = Vec::new();
    let mut step = |label: &str, r: Reply| out.push((label.to_owned(), r));
    let body = |v: serde_json::Value| v.to_string().into_bytes();

    for (method, path) in [
        ("GET", "/healthz"),
        ("HEAD", "/healthz"),
        ("GET", "/readyz"),
        ("GET", "/openapi.json"),
        ("HEAD", "/openapi.json"),
        ("GET", "/openapi-3.0.json"),
        ("GET", "/nope"),
        ("GET", "/v1/password-reset/request"),
        ("PUT", "/v1/password-reset/request"),
        ("DELETE", "/healthz"),
        ("PATCH", "/v1/password-reset/verify"),
        ("OPTIONS", "/v1/password-reset/verify"),
        ("PURGE", "/healthz"),
        ("GET", "/healthz/"),
        ("GET", "/healthz?x=1"),
        ("POST", "/v1/password-reset/request/"),
        ("POST", "/v1/password-reset/%72equest"),
        ("POST", "/V1/password-reset/request"),
    ] {
        step(
            &format!("{method} {path}"),
            s.send(
                method,
                path,
                JSON,
                body(json!({"email": "a@example.com"})),
                &[],
            )
            .await,
        );
    }

    let request = "/v1/password-reset/request";
    for (label, ct, raw) in [
        (
            "request, valid",
            JSON,
            body(json!({"email": "a@example.com"})),
        ),
        (
            "request, charset parameter",
            Some("application/json; charset=utf-8"),
            body(json!({"email": "b@example.com"})),
        ),
        (
            "request, upper-case media type",
            Some("Application/JSON"),
            body(json!({"email": "c@example.com"})),
        ),
        (
            "request, text/plain",
            Some("text/plain"),
            body(json!({"email": "a@example.com"})),
        ),
        (
            "request, +json media type",
            Some("application/merge-patch+json"),
            body(json!({"email": "a@example.com"})),
        ),
        (
            "request, no content type",
            None,
            body(json!({"email": "a@example.com"})),
        ),
        ("request, empty body", JSON, Vec::new()),
        ("request, malformed JSON", JSON, b"{\"email\": ".to_vec()),
        ("request, not UTF-8", JSON, vec![0xff, 0xfe, 0x7b]),
        ("request, JSON array", JSON, b"[]".to_vec()),
        (
            "request, unknown field",
            JSON,
            body(json!({"email": "a@example.com", "admin": true})),
        ),
        ("request, wrong type", JSON, body(json!({"email": 42}))),
        (
            "request, nothing to name an account",
            JSON,
            body(json!({"delivery": "link"})),
        ),
        (
            "request, bad delivery",
            JSON,
            body(json!({"email": "a@example.com", "delivery": "fax"})),
        ),
        (
            "request, NUL in username",
            JSON,
            body(json!({"username": "a\u{0}b"})),
        ),
        ("request, 64 KiB + 1", JSON, vec![b' '; 64 * 1024 + 1]),
        ("request, exactly 64 KiB", JSON, {
            let mut b = br#"{"email":"d@example.com"}"#.to_vec();
            b.resize(64 * 1024, b' ');
            b
        }),
    ] {
        step(label, s.send("POST", request, ct, raw, &[]).await);
    }
    // An oversized body sent chunked, with no Content-Length to refuse it up front.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..70).map(|_| Ok(vec![b' '; 1024])).collect();
    let r = s
        .http
        .post(format!("{}{request}", s.base))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(stream::iter(chunks)))
        .send()
        .await
        .expect("chunked request");
    step("request, 70 KiB chunked", Reply::read(r).await);

    s.user("zoe", &["zoe@example.com"]).await;
    step(
        "request, known account",
        s.post(request, json!({"username": "zoe"})).await,
    );
    let token = s.last_token("zoe@example.com").await;
    let verify = "/v1/password-reset/verify";
    let complete = "/v1/password-reset/complete";
    step(
        "verify, live token",
        s.post(verify, json!({"token": token})).await,
    );
    step(
        "verify, unknown token",
        s.post(verify, json!({"token": "A".repeat(43)})).await,
    );
    step(
        "verify, code for an unknown account",
        s.post(verify, json!({"username": "ghost", "code": "123456"}))
            .await,
    );
    step(
        "verify, short code",
        s.post(verify, json!({"username": "ghost", "code": "123"}))
            .await,
    );
    step(
        "verify, token and code",
        s.post(verify, json!({"token": token, "code": "123456"}))
            .await,
    );
    step(
        "complete, weak password",
        s.post(complete, json!({"token": token, "new_password": "zoe"}))
            .await,
    );
    step(
        "complete, no password",
        s.post(complete, json!({"token": token})).await,
    );
    step(
        "complete, good password",
        s.post(
            complete,
            json!({"token": token, "new_password": "violet tractor melts quietly"}),
        )
        .await,
    );
    step(
        "complete, used token",
        s.post(
            complete,
            json!({"token": token, "new_password": "violet tractor melts quietly"}),
        )
        .await,
    );
    step(
        "cancel, unknown token",
        s.post("/v1/password-reset/cancel", json!({"token": "nope"}))
            .await,
    );
    dialect_and_admin_steps(s, &mut step).await;
    for i in 0..6 {
        step(
            &format!("request #{i} for one identifier"),
            s.post(request, json!({"email": "limit@example.com"})).await,
        );
    }
    out
}

/// One scripted request: label, method, path, content type, body, `Authorization`.
type Step<'a> = (
    &'a str,
    &'a str,
    &'a str,
    Option<&'a str>,
    Vec<u8>,
    Option<&'a str>,
);

/// The dialects' and the admin API's answers that carry no random ids or dates: their
/// successes without bodies, and every kind of error in each shape.
async fn dialect_and_admin_steps(s: &TestServer, step: &mut impl FnMut(&str, Reply)) {
    let reset = s.admin_token(&["password:reset"]).await;
    let write = s.admin_token(&["password:write"]).await;
    let body = |v: serde_json::Value| v.to_string().into_bytes();
    let zoe = json!({"username": "zoe", "email": "zoe@example.com"});
    let steps: Vec<Step<'_>> = vec![
        (
            "misskey request",
            "POST",
            "/api/request-reset-password",
            JSON,
            body(zoe),
            None,
        ),
        (
            "misskey request, missing email",
            "POST",
            "/api/request-reset-password",
            JSON,
            body(json!({"username": "zoe"})),
            None,
        ),
        (
            "misskey request, text/plain",
            "POST",
            "/api/request-reset-password",
            Some("text/plain"),
            b"x".to_vec(),
            None,
        ),
        (
            "misskey reset, GET",
            "GET",
            "/api/reset-password",
            None,
            Vec::new(),
            None,
        ),
        (
            "misskey reset, bad token",
            "POST",
            "/api/reset-password",
            JSON,
            body(json!({"token": "nope", "password": "x"})),
            None,
        ),
        (
            "misskey reset, 64 KiB + 1",
            "POST",
            "/api/reset-password",
            JSON,
            vec![b' '; 64 * 1024 + 1],
            None,
        ),
        (
            "forgot sendEmail, unknown",
            "POST",
            "/api/auth/forgotPassword/sendEmail",
            JSON,
            body(json!({"username": "ghost"})),
            None,
        ),
        (
            "forgot sendEmail, known",
            "POST",
            "/api/auth/forgotPassword/sendEmail",
            JSON,
            body(json!({"username": "zoe"})),
            None,
        ),
        (
            "forgot checkCode, short code",
            "POST",
            "/api/auth/forgotPassword/checkCode",
            JSON,
            body(json!({"username": "zoe", "code": "12"})),
            None,
        ),
        (
            "forgot checkCode, letters",
            "POST",
            "/api/auth/forgotPassword/checkCode",
            JSON,
            body(json!({"username": "zoe", "code": "12ab56"})),
            None,
        ),
        (
            "forgot checkCode, malformed",
            "POST",
            "/api/auth/forgotPassword/checkCode",
            JSON,
            b"{".to_vec(),
            None,
        ),
        (
            "forgot resetPassword, text/plain",
            "POST",
            "/api/auth/forgotPassword/resetPassword",
            Some("text/plain"),
            b"x".to_vec(),
            None,
        ),
        (
            "forgot resetPassword, DELETE",
            "DELETE",
            "/api/auth/forgotPassword/resetPassword",
            None,
            Vec::new(),
            None,
        ),
        (
            "unleash validate, bad token",
            "GET",
            "/auth/reset/validate?token=nope",
            None,
            Vec::new(),
            None,
        ),
        (
            "unleash validate, no token",
            "GET",
            "/auth/reset/validate",
            None,
            Vec::new(),
            None,
        ),
        (
            "unleash validate, PUT",
            "PUT",
            "/auth/reset/validate",
            JSON,
            body(json!({})),
            None,
        ),
        (
            "unleash validate-password, accepted",
            "POST",
            "/auth/reset/validate-password",
            JSON,
            body(json!({"password": "violet tractor melts quietly"})),
            None,
        ),
        (
            "unleash validate-password, refused",
            "POST",
            "/auth/reset/validate-password",
            JSON,
            body(json!({"password": "Password1!"})),
            None,
        ),
        (
            "unleash validate-password, no password",
            "POST",
            "/auth/reset/validate-password",
            JSON,
            body(json!({})),
            None,
        ),
        (
            "unleash validate-password, GET",
            "GET",
            "/auth/reset/validate-password",
            None,
            Vec::new(),
            None,
        ),
        (
            "unleash password-email",
            "POST",
            "/auth/reset/password-email",
            JSON,
            body(json!({"email": "zoe@example.com"})),
            None,
        ),
        (
            "unleash password, xml",
            "POST",
            "/auth/reset/password",
            Some("application/xml"),
            b"<a/>".to_vec(),
            None,
        ),
        (
            "unleash password, bad token",
            "POST",
            "/auth/reset/password",
            JSON,
            body(json!({"token": "nope", "password": "x"})),
            None,
        ),
        (
            "admin reset, no credential",
            "POST",
            "/v1/users/ghost/password-reset",
            JSON,
            body(json!({"return_code": {}})),
            None,
        ),
        (
            "admin reset, wrong credential",
            "POST",
            "/v1/users/ghost/password-reset",
            JSON,
            body(json!({"return_code": {}})),
            Some("Bearer rst_wrong"),
        ),
        (
            "admin reset, no scope",
            "POST",
            "/v1/users/ghost/password-reset",
            JSON,
            body(json!({"return_code": {}})),
            Some(&write),
        ),
        (
            "admin reset, unknown user",
            "POST",
            "/v1/users/ghost/password-reset",
            JSON,
            body(json!({"return_code": {}})),
            Some(&reset),
        ),
        (
            "admin reset, bad user id",
            "POST",
            "/v1/users/%FF/password-reset",
            JSON,
            body(json!({"return_code": {}})),
            Some(&reset),
        ),
        (
            "admin reset, GET",
            "GET",
            "/v1/users/ghost/password-reset",
            None,
            Vec::new(),
            Some(&reset),
        ),
        (
            "admin password, no scope",
            "POST",
            "/v1/users/ghost/password",
            JSON,
            body(json!({"new_password": {"password": "x"}})),
            Some(&reset),
        ),
        (
            "admin password, unknown user",
            "POST",
            "/v1/users/ghost/password",
            JSON,
            body(json!({"new_password": {"password": "x"}})),
            Some(&write),
        ),
        (
            "zitadel reset, no credential",
            "POST",
            "/v2/users/ghost/password_reset",
            JSON,
            body(json!({"returnCode": {}})),
            None,
        ),
        (
            "zitadel reset, no scope",
            "POST",
            "/v2/users/ghost/password_reset",
            JSON,
            body(json!({"returnCode": {}})),
            Some(&write),
        ),
        (
            "zitadel reset, unknown user",
            "POST",
            "/v2/users/ghost/password_reset",
            JSON,
            body(json!({"returnCode": {}})),
            Some(&reset),
        ),
        (
            "zitadel reset, grpc",
            "POST",
            "/v2/users/ghost/password_reset",
            Some("application/grpc"),
            vec![0; 5],
            Some(&reset),
        ),
        (
            "zitadel reset, both",
            "POST",
            "/v2/users/ghost/password_reset",
            JSON,
            body(json!({"returnCode": {}, "sendLink": {}})),
            Some(&reset),
        ),
        (
            "zitadel password, GET",
            "GET",
            "/v2/users/ghost/password",
            None,
            Vec::new(),
            Some(&reset),
        ),
        ("docs", "GET", "/docs", None, Vec::new(), None),
        (
            "misskey, unknown path",
            "POST",
            "/api/nope",
            JSON,
            body(json!({})),
            None,
        ),
        (
            "zitadel, empty user id",
            "POST",
            "/v2/users//password_reset",
            JSON,
            body(json!({})),
            Some(&reset),
        ),
        ("docs asset", "GET", "/docs/init.js", None, Vec::new(), None),
        (
            "docs, unknown asset",
            "GET",
            "/docs/nope.js",
            None,
            Vec::new(),
            None,
        ),
        (
            "page, no token",
            "GET",
            "/reset-password",
            None,
            Vec::new(),
            None,
        ),
        (
            "page, bad token",
            "GET",
            "/reset-password?token=nope",
            None,
            Vec::new(),
            None,
        ),
        (
            "page, submit JSON",
            "POST",
            "/reset-password",
            JSON,
            body(json!({})),
            None,
        ),
        (
            "page, submit bad token",
            "POST",
            "/reset-password",
            Some("application/x-www-form-urlencoded"),
            b"token=nope&new_password=a&confirm_password=a".to_vec(),
            None,
        ),
        (
            "page, cancel without token",
            "GET",
            "/reset-password/cancel",
            None,
            Vec::new(),
            None,
        ),
        (
            "page, cancel confirm",
            "GET",
            "/reset-password/cancel?token=abc",
            None,
            Vec::new(),
            None,
        ),
        (
            "page, cancel submit",
            "POST",
            "/reset-password/cancel",
            Some("application/x-www-form-urlencoded"),
            b"token=nope".to_vec(),
            None,
        ),
        (
            "page, DELETE",
            "DELETE",
            "/reset-password",
            None,
            Vec::new(),
            None,
        ),
        (
            "zitadel password, unknown user",
            "POST",
            "/v2/users/ghost/password",
            JSON,
            body(json!({"newPassword": {"password": "x"}})),
            Some(&write),
        ),
        (
            "zitadel connect reset, no credential",
            "POST",
            "/zitadel.user.v2.UserService/PasswordReset",
            JSON,
            body(json!({"userId": "ghost", "sendLink": {}})),
            None,
        ),
        (
            "zitadel connect reset, unknown user",
            "POST",
            "/zitadel.user.v2.UserService/PasswordReset",
            JSON,
            body(json!({"user_id": "ghost", "send_link": {"notification_type": 1}})),
            Some(&reset),
        ),
        (
            "zitadel connect reset, no user id",
            "POST",
            "/zitadel.user.v2.UserService/PasswordReset",
            None,
            body(json!({"returnCode": {}})),
            Some(&reset),
        ),
        (
            "zitadel connect reset, binary protobuf",
            "POST",
            "/zitadel.user.v2.UserService/PasswordReset",
            Some("application/proto"),
            vec![0x0a, 0x01, b'x'],
            Some(&reset),
        ),
        (
            "zitadel connect reset, GET",
            "GET",
            "/zitadel.user.v2.UserService/PasswordReset",
            None,
            Vec::new(),
            Some(&reset),
        ),
        (
            "zitadel connect, unknown method",
            "POST",
            "/zitadel.user.v2.UserService/GetUserByID",
            JSON,
            body(json!({"userId": "ghost"})),
            Some(&reset),
        ),
        (
            "zitadel connect password, no scope",
            "POST",
            "/zitadel.user.v2.UserService/SetPassword",
            JSON,
            body(json!({"userId": "ghost", "newPassword": {"password": "x"}})),
            Some(&reset),
        ),
    ];
    for (label, method, path, ct, raw, auth) in steps {
        let extra: Vec<(&str, &str)> = auth.map(|a| ("authorization", a)).into_iter().collect();
        step(label, s.send(method, path, ct, raw, &extra).await);
    }
    // A Connect success: its dates come from the test clock, its body has no secret.
    let zed = s.user("zed", &["zed@example.com"]).await;
    let link = json!({"userId": zed, "sendLink": {"notificationType": "NOTIFICATION_TYPE_Email"}});
    step(
        "zitadel connect reset, send link",
        s.send(
            "POST",
            "/zitadel.user.v2.UserService/PasswordReset",
            JSON,
            body(link),
            &[("authorization", reset.as_str())],
        )
        .await,
    );
}
