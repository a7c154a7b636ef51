//! The code-based forgot-password API (`docs/compat.md`, section 2) replayed, with its 12 tries and its enumeration switch.

use serde_json::json;

use super::common::{STRONG, assert_json};
use crate::db::TestDb;
use crate::server::{Spawn, TestServer, test_config};

const FP: &str = "/api/auth/forgotPassword";

/// The forgot-password seed, answer by answer.
pub async fn forgot_password_seed(db: TestDb, spawn: Spawn) {
    let s = TestServer::start(db, spawn).await;
    s.user("st.huber", &["huber@example.com", "stefan@example.org"])
        .await;
    s.user("no.mail", &[]).await;
    let unknown = json!({"msg": "Unknown username", "error_code": "unknown_username"});
    let incorrect = json!({"msg": "The code is incorrect", "error_code": "code_incorrect"});
    let no_code = json!({"msg": "There was no code for a password reset requested"});

    assert_json(
        &s.post(&format!("{FP}/sendEmail"), json!({"username": "nobody"}))
            .await,
        404,
        unknown.clone(),
    );
    assert_json(
        &s.post(&format!("{FP}/sendEmail"), json!({"username": "no.mail"}))
            .await,
        400,
        json!({"msg": "There are no email addresses for this account", "error_code": "no_email_addresses"}),
    );
    assert_json(
        &s.post(
            &format!("{FP}/checkCode"),
            json!({"username": "st.huber", "code": "482901"}),
        )
        .await,
        400,
        no_code.clone(),
    );
    assert_json(
        &s.post(
            &format!("{FP}/checkCode"),
            json!({"username": "nobody", "code": "482901"}),
        )
        .await,
        404,
        unknown.clone(),
    );

    assert_json(
        &s.post(&format!("{FP}/sendEmail"), json!({"username": "st.huber"}))
            .await,
        200,
        json!({"msg": "Sent"}),
    );
    let code = s.last_code("huber@example.com").await;
    assert_eq!(
        s.last_code("stefan@example.org").await,
        code,
        "the code goes to every address"
    );
    assert_eq!(code.len(), 6);
    let wrong = if code == "000000" { "000001" } else { "000000" };
    assert_json(
        &s.post(
            &format!("{FP}/checkCode"),
            json!({"username": "st.huber", "code": wrong}),
        )
        .await,
        400,
        incorrect.clone(),
    );
    for _ in 0..2 {
        assert_json(
            &s.post(
                &format!("{FP}/checkCode"),
                json!({"username": "st.huber", "code": code}),
            )
            .await,
            200,
            json!({"msg": "Code correct", "success_code": "code_correct"}),
        );
    }
    let weak = s
        .post(
            &format!("{FP}/resetPassword"),
            json!({"username": "st.huber", "code": code, "new_password": "huber"}),
        )
        .await;
    assert_eq!(weak.status, 400);
    assert_eq!(weak.json()["error_code"], "weak_password");
    assert_json(
        &s.post(
            &format!("{FP}/resetPassword"),
            json!({"username": "st.huber", "code": code, "new_password": "NewPassword1234!"}),
        )
        .await,
        200,
        json!({"msg": "Changed password successful"}),
    );
    assert_json(
        &s.post(
            &format!("{FP}/resetPassword"),
            json!({"username": "st.huber", "code": code, "new_password": STRONG}),
        )
        .await,
        400,
        no_code,
    );
    assert_json(
        &s.post(
            &format!("{FP}/resetPassword"),
            json!({"username": "nobody", "code": code, "new_password": STRONG}),
        )
        .await,
        404,
        unknown,
    );
    assert_json(
        &s.post(&format!("{FP}/sendEmail"), json!({"username": ""}))
            .await,
        400,
        json!({"msg": "Invalid request", "error_code": "invalid_request"}),
    );
}

/// After 12 tries (wrong, on check and reset alike) the code is dead: `rate_limit_exceeded`,
/// even for the right code; a new code helps.
pub async fn forgot_password_twelve_tries(db: TestDb, spawn: Spawn) {
    let s = TestServer::start(db, spawn).await;
    s.user("st.huber", &["huber@example.com"]).await;
    assert_eq!(
        s.post(&format!("{FP}/sendEmail"), json!({"username": "st.huber"}))
            .await
            .status,
        200
    );
    let code = s.last_code("huber@example.com").await;
    let wrong = if code == "000000" { "000001" } else { "000000" };
    let incorrect = json!({"msg": "The code is incorrect", "error_code": "code_incorrect"});
    for i in 0..12 {
        let path = if i % 2 == 0 {
            "checkCode"
        } else {
            "resetPassword"
        };
        let r = s
            .post(
                &format!("{FP}/{path}"),
                json!({"username": "st.huber", "code": wrong, "new_password": STRONG}),
            )
            .await;
        assert_json(&r, 400, incorrect.clone());
    }
    let exceeded = json!({"msg": "Rate limit exceeded", "error_code": "rate_limit_exceeded"});
    assert_json(
        &s.post(
            &format!("{FP}/checkCode"),
            json!({"username": "st.huber", "code": code}),
        )
        .await,
        400,
        exceeded,
    );
    assert_eq!(
        s.post(&format!("{FP}/sendEmail"), json!({"username": "st.huber"}))
            .await
            .status,
        200
    );
    let fresh = s.last_code("huber@example.com").await;
    assert_eq!(
        s.post(
            &format!("{FP}/checkCode"),
            json!({"username": "st.huber", "code": fresh})
        )
        .await
        .status,
        200
    );
}

/// With the switch on, an unknown username is answered as a known one.
pub async fn forgot_password_hides_unknown(db: TestDb, spawn: Spawn) {
    let options = reset_api::ApiOptions {
        dialects: reset_api::dialects::Dialects {
            forgot_password_hide_unknown: true,
            ..Default::default()
        },
        ..Default::default()
    };
    let s = TestServer::start_with(db, spawn, test_config(), options).await;
    s.user("st.huber", &["huber@example.com"]).await;
    let incorrect = json!({"msg": "The code is incorrect", "error_code": "code_incorrect"});
    for user in ["st.huber", "nobody"] {
        assert_json(
            &s.post(&format!("{FP}/sendEmail"), json!({"username": user}))
                .await,
            200,
            json!({"msg": "Sent"}),
        );
    }
    assert_eq!(
        s.messages().await.len(),
        1,
        "only the known account gets a code"
    );
    for user in ["st.huber", "nobody"] {
        let r = s
            .post(
                &format!("{FP}/checkCode"),
                json!({"username": user, "code": "999999"}),
            )
            .await;
        if user == "st.huber" && s.last_code("huber@example.com").await == "999999" {
            continue;
        }
        assert_json(&r, 400, incorrect.clone());
    }
}
