//! The browser pages over HTTP: the form, its errors in three languages, the result, the
//! "this wasn't me" confirmation, and the headers that keep them safe.

use serde_json::json;

use crate::db::TestDb;
use crate::server::{Reply, Spawn, TestServer};

const STRONG: &str = "violet tractor melts quietly";
const FORM: Option<&str> = Some("application/x-www-form-urlencoded");

fn html(r: &Reply, status: u16) -> String {
    assert_eq!(r.status, status, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(r.header("referrer-policy"), Some("no-referrer"));
    let csp = r.header("content-security-policy").expect("CSP");
    assert!(
        csp.starts_with("default-src 'none'; style-src 'sha256-"),
        "{csp}"
    );
    assert!(csp.contains("form-action 'self'") && csp.contains("frame-ancestors 'none'"));
    let page = String::from_utf8(r.body.clone()).expect("UTF-8");
    assert!(
        !page.contains("<script") && !page.contains("http://") && !page.contains("https://"),
        "no scripts, no third-party resources"
    );
    page
}

fn form_body(fields: &[(&str, &str)]) -> Vec<u8> {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish()
        .into_bytes()
}

async fn get_lang(s: &TestServer, path: &str, lang: &str) -> Reply {
    s.send("GET", path, None, Vec::new(), &[("accept-language", lang)])
        .await
}

async fn post_form(s: &TestServer, path: &str, lang: &str, fields: &[(&str, &str)]) -> Reply {
    s.send(
        "POST",
        path,
        FORM,
        form_body(fields),
        &[("accept-language", lang)],
    )
    .await
}

/// The link's form, shown without using the token; errors re-show it in the page's language;
/// the right password changes it once.
pub async fn reset_page(db: TestDb, spawn: Spawn) {
    let s = TestServer::start(db, spawn).await;
    s.user("alice", &["alice@example.com"]).await;
    assert_eq!(
        s.post("/v1/password-reset/request", json!({"username": "alice"}))
            .await
            .status,
        202
    );
    let token = s.last_token("alice@example.com").await;
    let path = format!("/reset-password?token={token}");

    for (lang, expect) in [
        ("en-GB,en;q=0.9", "Choose a new password"),
        ("ja-JP,ja;q=0.9", "新しいパスワードの設定"),
        ("fr, de;q=0.8", "Neues Passwort wählen"),
    ] {
        let page = html(&get_lang(&s, &path, lang).await, 200);
        assert!(page.contains(expect), "{lang}: {page}");
        assert!(
            page.contains(r#"<label for="new_password">"#)
                && page.contains(r#"<label for="confirm_password">"#)
        );
        assert!(page.contains(&format!(r#"name="token" value="{token}""#)));
        assert!(page.contains(r#"action="reset-password""#));
        assert!(page.contains(r#"minlength="8""#) && !page.contains("{n}"));
    }

    let mismatch = post_form(
        &s,
        "/reset-password",
        "en",
        &[
            ("token", &token),
            ("new_password", STRONG),
            ("confirm_password", "something else"),
        ],
    )
    .await;
    assert!(html(&mismatch, 422).contains("The two passwords are not the same."));
    assert!(html(&get_lang(&s, &path, "en").await, 200).contains("At least 8 characters."));
    let weak = post_form(
        &s,
        "/reset-password",
        "de",
        &[
            ("token", &token),
            ("new_password", "alice123"),
            ("confirm_password", "alice123"),
        ],
    )
    .await;
    let page = html(&weak, 422);
    assert!(
        page.contains("Bitte wählen Sie ein anderes Passwort") && page.contains("Benutzernamen"),
        "{page}"
    );
    let weak_ja = post_form(
        &s,
        "/reset-password",
        "ja",
        &[
            ("token", &token),
            ("new_password", "password"),
            ("confirm_password", "password"),
        ],
    )
    .await;
    assert!(html(&weak_ja, 422).contains("推測されやすすぎます"));

    let done = post_form(
        &s,
        "/reset-password",
        "en",
        &[
            ("token", &token),
            ("new_password", STRONG),
            ("confirm_password", STRONG),
        ],
    )
    .await;
    assert!(html(&done, 200).contains("Your password has been changed."));
    let again = post_form(
        &s,
        "/reset-password",
        "en",
        &[
            ("token", &token),
            ("new_password", STRONG),
            ("confirm_password", STRONG),
        ],
    )
    .await;
    assert!(html(&again, 400).contains("This link does not work"));
    assert_eq!(get_lang(&s, &path, "en").await.status, 400);
    assert_eq!(get_lang(&s, "/reset-password", "en").await.status, 400);
    let xss = get_lang(&s, "/reset-password?token=%22%3E%3Cscript%3E", "en").await;
    assert!(!String::from_utf8_lossy(&xss.body).contains("\"><script>"));

    let json_body = s
        .send(
            "POST",
            "/reset-password",
            Some("application/json"),
            b"{}".to_vec(),
            &[],
        )
        .await;
    assert_eq!(json_body.status, 415);
}

/// "This wasn't me": the link asks first; the button kills the request's secrets.
pub async fn cancel_page(db: TestDb, spawn: Spawn) {
    let s = TestServer::start(db, spawn).await;
    s.user("alice", &["alice@example.com"]).await;
    let r = s
        .post(
            "/v1/password-reset/request",
            json!({"username": "alice", "delivery": "code"}),
        )
        .await;
    assert_eq!(r.status, 202);
    let m = s.last_message_to("alice@example.com").await;
    let code = m.payload.code.clone().expect("code");
    let cancel = m.payload.cancel_link.expect("cancel link");
    let token = cancel.split("token=").nth(1).expect("token").to_owned();

    let confirm = html(
        &get_lang(&s, &format!("/reset-password/cancel?token={token}"), "en").await,
        200,
    );
    assert!(confirm.contains(r#"action="cancel""#) && confirm.contains("Cancel the request"));
    let verify = json!({"username": "alice", "code": code});
    assert_eq!(
        s.post("/v1/password-reset/verify", verify.clone())
            .await
            .status,
        200,
        "showing the page cancels nothing"
    );

    let done = post_form(&s, "/reset-password/cancel", "en", &[("token", &token)]).await;
    assert!(html(&done, 200).contains("The request is cancelled."));
    assert_eq!(
        s.post("/v1/password-reset/verify", verify).await.code(),
        "code_incorrect"
    );
    let unknown = post_form(&s, "/reset-password/cancel", "en", &[("token", "nope")]).await;
    assert_eq!(unknown.status, 200, "the same page whatever the token");
}
