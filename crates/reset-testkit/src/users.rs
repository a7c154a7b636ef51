//! The user API's scenarios (`/v1/users`): create, read, update, delete and list the built-in
//! directory's accounts under `users:read` / `users:write`; a disabled account is an unknown
//! one to every self-service path; another directory answers `directory_managed`.

use serde_json::{Value, json};

use crate::db::TestDb;
use crate::server::{Reply, Spawn, TestServer};

const READ: &str = "users:read";
const WRITE: &str = "users:write";
const REQUEST: &str = "/v1/password-reset/request";
const VERIFY: &str = "/v1/password-reset/verify";

impl TestServer {
    /// Sends `method path` with the admin credential `auth` and, when given, a JSON body.
    pub async fn admin_call(
        &self,
        auth: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Reply {
        let (content_type, bytes) = match body {
            Some(b) => (Some("application/json"), b.to_string().into_bytes()),
            None => (None, Vec::new()),
        };
        self.send(method, path, content_type, bytes, &[("authorization", auth)])
            .await
    }
}

fn assert_problem(r: &Reply, status: u16, code: &str) {
    assert_eq!(r.status, status, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    assert_eq!(r.code(), code, "{}", String::from_utf8_lossy(&r.body));
}

/// Create, read, change, list page by page and delete; each refusal in its problem; each change
/// one audit event.
pub async fn user_api_round_trip(db: TestDb, spawn: Spawn) {
    let s = TestServer::start(db, spawn).await;
    let rw = s.admin_token(&[READ, WRITE]).await;
    let created = s
        .admin_call(
            &rw,
            "POST",
            "/v1/users",
            Some(json!({"username": "Alice", "emails": ["Alice@Example.com"], "locale": "de"})),
        )
        .await;
    assert_eq!(created.status, 201, "{}", String::from_utf8_lossy(&created.body));
    let alice = created.json();
    let id = alice["id"].as_str().expect("id").to_owned();
    assert_eq!(created.header("location"), Some(format!("/v1/users/{id}").as_str()));
    assert_eq!(alice["username"], "alice");
    assert_eq!(alice["emails"], json!(["alice@example.com"]));
    assert_eq!(alice["locale"], "de");
    assert_eq!(alice["phone"], Value::Null);
    assert_eq!(alice["disabled"], false);
    assert_eq!(alice["has_password"], false);
    assert!(alice.get("password_hash").is_none());

    // Taken names, bad values, unknown fields.
    for (body, status, code) in [
        (json!({"username": "alice"}), 409, "conflict"),
        (json!({"username": "alice2", "emails": ["ALICE@example.com"]}), 409, "conflict"),
        (json!({"username": "bob", "emails": ["not an address"]}), 400, "invalid_request"),
        (json!({"username": "bob", "emails": ["b@example.com", "B@example.com"]}), 400, "invalid_request"),
        (json!({"username": "bob", "locale": ""}), 400, "invalid_request"),
        (json!({"username": "bob", "password": "x"}), 400, "invalid_request"),
        (json!({"emails": []}), 400, "invalid_request"),
    ] {
        let r = s.admin_call(&rw, "POST", "/v1/users", Some(body.clone())).await;
        assert_problem(&r, status, code);
    }

    let read = s.admin_call(&rw, "GET", &format!("/v1/users/{id}"), None).await;
    assert_eq!(read.status, 200);
    assert_eq!(read.json(), alice);

    // A change: the addresses replaced, the phone set, the locale removed.
    let changed = s
        .admin_call(
            &rw,
            "PATCH",
            &format!("/v1/users/{id}"),
            Some(json!({"emails": ["a1@example.com", "a2@example.com"], "phone": "+15550100", "locale": null})),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", String::from_utf8_lossy(&changed.body));
    let changed = changed.json();
    assert_eq!(changed["emails"], json!(["a1@example.com", "a2@example.com"]));
    assert_eq!((changed["phone"].clone(), changed["locale"].clone()), (json!("+15550100"), Value::Null));
    assert_eq!(changed["sequence"], alice["sequence"].as_i64().expect("sequence") + 1);
    // The old address is free again; a taken one is refused.
    s.admin_call(&rw, "POST", "/v1/users", Some(json!({"username": "bob", "emails": ["alice@example.com"]})))
        .await;
    let r = s
        .admin_call(&rw, "PATCH", &format!("/v1/users/{id}"), Some(json!({"emails": ["alice@example.com"]})))
        .await;
    assert_problem(&r, 409, "conflict");
    let r = s
        .admin_call(&rw, "PATCH", &format!("/v1/users/{id}"), Some(json!({"username": "x"})))
        .await;
    assert_problem(&r, 400, "invalid_request");
    let r = s
        .admin_call(&rw, "PATCH", &format!("/v1/users/{id}"), Some(json!({})))
        .await;
    assert_problem(&r, 400, "invalid_request");
    let r = s
        .admin_call(&rw, "PATCH", "/v1/users/no-such-user", Some(json!({"locale": "en"})))
        .await;
    assert_problem(&r, 404, "user_not_found");

    // Pages of one, oldest first, until the token runs out.
    s.admin_call(&rw, "POST", "/v1/users", Some(json!({"username": "carol"}))).await;
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let path = match &token {
            Some(t) => format!("/v1/users?page_size=1&page_token={t}"),
            None => "/v1/users?page_size=1".to_owned(),
        };
        let page = s.admin_call(&rw, "GET", &path, None).await;
        assert_eq!(page.status, 200, "{}", String::from_utf8_lossy(&page.body));
        let page = page.json();
        for u in page["users"].as_array().expect("users") {
            seen.push(u["username"].as_str().expect("username").to_owned());
        }
        match page["next_page_token"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
        assert!(seen.len() <= 3, "paging must end: {seen:?}");
    }
    assert_eq!(seen, ["alice", "bob", "carol"]);
    let all = s.admin_call(&rw, "GET", "/v1/users", None).await.json();
    assert_eq!(all["users"].as_array().map(Vec::len), Some(3));
    assert_eq!(all["next_page_token"], Value::Null);
    for bad in ["page_size=0", "page_size=1001", "page_size=x", "page_token=%01", "limit=5"] {
        let r = s.admin_call(&rw, "GET", &format!("/v1/users?{bad}"), None).await;
        assert_problem(&r, 400, "invalid_request");
    }

    let gone = s.admin_call(&rw, "DELETE", &format!("/v1/users/{id}"), None).await;
    assert_eq!(gone.status, 204);
    assert!(gone.body.is_empty());
    for (method, path) in [("GET", format!("/v1/users/{id}")), ("DELETE", format!("/v1/users/{id}"))] {
        assert_problem(&s.admin_call(&rw, method, &path, None).await, 404, "user_not_found");
    }
    let kinds = s.store.audit_kinds(&id).await.expect("audit");
    assert_eq!(kinds, ["user_created", "user_updated", "user_deleted"]);
}

/// Each route needs its scope; no credential is 401; a wrong one counts against the address's
/// attempt limit as every admin route's does.
pub async fn user_api_scopes(db: TestDb, spawn: Spawn) {
    let s = TestServer::start(db, spawn).await;
    let id = s.user("dora", &["dora@example.com"]).await;
    let read = s.admin_token(&[READ]).await;
    let write = s.admin_token(&[WRITE]).await;
    let password = s.admin_token(&["password:reset", "password:write"]).await;
    let user = format!("/v1/users/{id}");
    let calls: [(&str, &str, Option<Value>, &str); 5] = [
        ("POST", "/v1/users", Some(json!({"username": "eve"})), WRITE),
        ("GET", "/v1/users", None, READ),
        ("GET", &user, None, READ),
        ("PATCH", &user, Some(json!({"locale": "en"})), WRITE),
        ("DELETE", &user, None, WRITE),
    ];
    for (method, path, body, needs) in calls {
        let r = s.send(method, path, body.as_ref().map(|_| "application/json"), body.as_ref().map(|b| b.to_string().into_bytes()).unwrap_or_default(), &[]).await;
        assert_problem(&r, 401, "credential_required");
        let r = s.admin_call("Bearer rst_wrong", method, path, body.clone()).await;
        assert_problem(&r, 401, "authentication_failed");
        for token in [&read, &write, &password] {
            if (token == &read && needs == READ) || (token == &write && needs == WRITE) {
                continue;
            }
            let r = s.admin_call(token, method, path, body.clone()).await;
            assert_problem(&r, 403, "forbidden");
            assert!(r.json()["detail"].as_str().is_some_and(|d| d.contains(needs)));
        }
    }
    // Nothing of that changed the account.
    let r = s.admin_call(&read, "GET", &user, None).await;
    assert_eq!((r.status, r.json()["sequence"].clone()), (200, json!(1)));
}

/// A disabled account gets what an unknown one gets (the same answer, no message), its live
/// link stops working, and an administrator cannot issue it one; enabled again, it resets.
/// Changing its address also ends a link sent to the old one.
pub async fn disabled_account_is_unknown(db: TestDb, spawn: Spawn) {
    let s = TestServer::start(db, spawn).await;
    let rw = s.admin_token(&[READ, WRITE, "password:reset"]).await;
    let id = s.user("finn", &["finn@example.com"]).await;
    s.post(REQUEST, json!({"email": "finn@example.com"})).await;
    let token = s.last_token("finn@example.com").await;
    let sent = s.messages().await.len();

    let r = s.admin_call(&rw, "PATCH", &format!("/v1/users/{id}"), Some(json!({"disabled": true}))).await;
    assert_eq!((r.status, r.json()["disabled"].clone()), (200, json!(true)));
    let live = s.post(VERIFY, json!({"token": token})).await;
    assert_problem(&live, 400, "invalid_token");
    for (disabled, unknown) in [
        (json!({"email": "finn@example.com"}), json!({"email": "ghost@example.com"})),
        (json!({"username": "finn", "delivery": "code"}), json!({"username": "ghost", "delivery": "code"})),
    ] {
        let a = s.post(REQUEST, disabled).await;
        let b = s.post(REQUEST, unknown).await;
        assert_eq!(a.comparable(), b.comparable());
    }
    let a = s.post(VERIFY, json!({"username": "finn", "code": "123456"})).await;
    let b = s.post(VERIFY, json!({"username": "ghost2", "code": "123456"})).await;
    assert_eq!(a.comparable(), b.comparable());
    assert_eq!(s.messages().await.len(), sent, "no message for a disabled account");
    let r = s
        .admin_call(&rw, "POST", &format!("/v1/users/{id}/password-reset"), Some(json!({"send_link": {}})))
        .await;
    assert_problem(&r, 409, "conflict");
    // Zitadel's answer for a user that is not active.
    let r = s
        .post_as(&rw, &crate::admin::z_reset(&id), json!({"sendLink": {}}))
        .await;
    crate::admin::assert_grpc(&r, 400, 9, "USER_NOT_ACTIVE");

    let r = s.admin_call(&rw, "PATCH", &format!("/v1/users/{id}"), Some(json!({"disabled": false}))).await;
    assert_eq!(r.status, 200);
    s.post(REQUEST, json!({"email": "finn@example.com"})).await;
    let fresh = s.last_token("finn@example.com").await;
    assert_ne!(fresh, token);
    assert_eq!(s.post(VERIFY, json!({"token": fresh})).await.status, 200);
    assert_problem(&s.post(VERIFY, json!({"token": token})).await, 400, "invalid_token");

    // A new address: the link sent to the old one is dead.
    let r = s
        .admin_call(&rw, "PATCH", &format!("/v1/users/{id}"), Some(json!({"emails": ["finn@example.org"]})))
        .await;
    assert_eq!(r.status, 200);
    assert_problem(&s.post(VERIFY, json!({"token": fresh})).await, 400, "invalid_token");
    // Deleted: a link issued before is dead too, and the account is unknown.
    s.post(REQUEST, json!({"email": "finn@example.org"})).await;
    let last = s.last_token("finn@example.org").await;
    assert_eq!(s.admin_call(&rw, "DELETE", &format!("/v1/users/{id}"), None).await.status, 204);
    assert_problem(&s.post(VERIFY, json!({"token": last})).await, 400, "invalid_token");
}

/// With another directory in front of the store, the user API refuses: accounts are managed
/// where they live.
pub async fn user_api_needs_the_builtin_directory(db: TestDb, spawn: Spawn) {
    fn elsewhere(
        store: std::sync::Arc<reset_diesel::DieselStore>,
    ) -> std::sync::Arc<dyn reset_core::UserDirectory> {
        store
    }
    let s = TestServer::start_with_directory(db, spawn, elsewhere).await;
    let rw = s.admin_token(&[READ, WRITE]).await;
    let id = s.user("gus", &["gus@example.com"]).await;
    for (method, path, body) in [
        ("POST", "/v1/users".to_owned(), Some(json!({"username": "hal"}))),
        ("GET", "/v1/users".to_owned(), None),
        ("GET", format!("/v1/users/{id}"), None),
        ("PATCH", format!("/v1/users/{id}"), Some(json!({"disabled": true}))),
        ("DELETE", format!("/v1/users/{id}"), None),
    ] {
        let r = s.admin_call(&rw, method, &path, body).await;
        assert_problem(&r, 409, "directory_managed");
    }
}
