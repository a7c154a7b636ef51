//! A reset through every dialect changes the password where the accounts live: for a server
//! that serves the dialects at their default prefixes (`reset-server` over any directory).
//! Each scenario makes its own account through the [`Host`], follows the dialect's own flow
//! from the message to the new password, and asks the host's login whether the new password
//! now works (and the old secret no longer does).

use serde_json::json;

use crate::http_suite::{Host, Outcome, Suite, check, code_in, token_in};

/// A password the default policy accepts.
const NEW: &str = "copper lantern drifts eastward 7";

/// Every scenario, by name.
pub const SCENARIOS: &[&str] = &["misskey", "forgot_password", "unleash", "zitadel"];

/// Runs every scenario against `host` (the server's root URL as its base); `admin` is an
/// `Authorization` value with `password:reset` for Zitadel's routes. Panics naming the first
/// scenario that fails.
pub async fn run(host: &dyn Host, admin: &str) {
    for name in SCENARIOS {
        let suite = Suite::new(host);
        let outcome = match *name {
            "misskey" => misskey(&suite).await,
            "forgot_password" => forgot_password(&suite).await,
            "unleash" => unleash(&suite).await,
            "zitadel" => zitadel(&suite, admin).await,
            other => Err(format!("no scenario {other}")),
        };
        if let Err(why) = outcome {
            panic!("dialect scenario {name} failed: {why}");
        }
    }
}

/// The new password logs in (when the host can tell, it must say yes).
async fn logs_in(suite: &Suite<'_>, username: &str) -> Outcome {
    match suite.host.logs_in(username, NEW).await {
        Some(ok) => check(ok, || {
            format!("{username}: the new password does not log in")
        }),
        None => Err("the host cannot check a login; this suite needs it".into()),
    }
}

/// Misskey: `request-reset-password` with both names, the mailed link's token to
/// `reset-password`.
async fn misskey(suite: &Suite<'_>) -> Outcome {
    let (username, email) = suite.account("misskey").await;
    let a = suite
        .post(
            "/api/request-reset-password",
            json!({"username": username, "email": email}),
        )
        .await?;
    check(a.status == 204, || format!("request: {a:?}"))?;
    let token = token_in(&suite.message(&email, 1).await?, "reset-password?token=")?;
    let done = json!({"token": token, "password": NEW});
    let a = suite.post("/api/reset-password", done.clone()).await?;
    check(a.status == 204, || format!("reset: {a:?}"))?;
    logs_in(suite, &username).await?;
    let again = suite.post("/api/reset-password", done).await?;
    check(again.status == 400, || {
        format!("the token again: {again:?}")
    })
}

/// forgot-password: `sendEmail` by username, the mailed code to `checkCode` and
/// `resetPassword`.
async fn forgot_password(suite: &Suite<'_>) -> Outcome {
    const FP: &str = "/api/auth/forgotPassword";
    let (username, email) = suite.account("forgot").await;
    let a = suite
        .post(&format!("{FP}/sendEmail"), json!({"username": username}))
        .await?;
    check(a.status == 200, || format!("sendEmail: {a:?}"))?;
    let code = code_in(&suite.message(&email, 1).await?)?;
    let a = suite
        .post(
            &format!("{FP}/checkCode"),
            json!({"username": username, "code": code}),
        )
        .await?;
    check(a.status == 200, || format!("checkCode: {a:?}"))?;
    let done = json!({"username": username, "code": code, "new_password": NEW});
    let a = suite
        .post(&format!("{FP}/resetPassword"), done.clone())
        .await?;
    check(a.status == 200, || format!("resetPassword: {a:?}"))?;
    logs_in(suite, &username).await?;
    let again = suite.post(&format!("{FP}/resetPassword"), done).await?;
    check(again.status == 400, || format!("the code again: {again:?}"))
}

/// Unleash: `password-email`, the mailed link's token to `password`.
async fn unleash(suite: &Suite<'_>) -> Outcome {
    let (username, email) = suite.account("unleash").await;
    let a = suite
        .post("/auth/reset/password-email", json!({"email": email}))
        .await?;
    check(a.status == 200, || format!("password-email: {a:?}"))?;
    let token = token_in(&suite.message(&email, 1).await?, "reset-password?token=")?;
    let done = json!({"token": token, "password": NEW});
    let a = suite.post("/auth/reset/password", done.clone()).await?;
    check(a.status == 200, || format!("password: {a:?}"))?;
    logs_in(suite, &username).await?;
    let again = suite.post("/auth/reset/password", done).await?;
    check(again.status.is_client_error(), || {
        format!("the token again: {again:?}")
    })
}

/// Zitadel v2 (REST): an administrator's `password_reset` with `returnCode`, the code to
/// `password`.
async fn zitadel(suite: &Suite<'_>, admin: &str) -> Outcome {
    let (username, _) = suite.account("zitadel").await;
    let id = suite
        .host
        .account_id(&username)
        .await
        .ok_or("the host cannot tell an account's id; Zitadel's routes need it")?;
    let a = suite
        .post_as(
            admin,
            &format!("/v2/users/{id}/password_reset"),
            json!({"returnCode": {}}),
        )
        .await?;
    check(a.status == 200, || format!("password_reset: {a:?}"))?;
    let code = a.body["verificationCode"]
        .as_str()
        .ok_or_else(|| format!("no verificationCode in {a:?}"))?
        .to_owned();
    let done = json!({"newPassword": {"password": NEW}, "verificationCode": code});
    let a = suite
        .post_as(admin, &format!("/v2/users/{id}/password"), done.clone())
        .await?;
    check(a.status == 200, || format!("password: {a:?}"))?;
    logs_in(suite, &username).await?;
    let again = suite
        .post_as(admin, &format!("/v2/users/{id}/password"), done)
        .await?;
    check(again.status == 400, || format!("the code again: {again:?}"))
}
