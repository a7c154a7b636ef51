//! The committed document matches the code, and the document's operations match the routes.
//! Regenerate after a deliberate change with `UPDATE_OPENAPI=1 cargo test -p reset-api --test openapi`
//! (or `just openapi`), and review the diff: it is the API's changelog.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::PathBuf;

/// Compares `generated` with the committed `openapi/{file}`, or writes it there with
/// `UPDATE_OPENAPI=1`; a difference fails with a unified diff and `hint`.
fn assert_committed(file: &str, generated: &str, what: &str, hint: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../openapi")
        .join(file);
    if std::env::var("UPDATE_OPENAPI").is_ok_and(|v| v == "1") {
        std::fs::write(&path, generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != generated {
        let diff = similar::TextDiff::from_lines(committed.as_str(), generated)
            .unified_diff()
            .context_radius(3)
            .header(&format!("openapi/{file} (committed)"), "the code")
            .to_string();
        panic!("{what} changed:\n\n{diff}\n{hint}");
    }
}

#[test]
fn committed_document_matches_the_code() {
    assert_committed(
        "reset.v1.json",
        &reset_api::openapi::document_json(),
        "the API document",
        "If the change is deliberate, run `UPDATE_OPENAPI=1 cargo test -p reset-api --test openapi` \
         (or `just openapi`), commit the document and add a line to openapi/CHANGELOG.md; \
         removing or renaming anything is a breaking change for generated clients.",
    );
}

/// The 3.0.3 rendition is derived from the same document; it drifts with it.
#[test]
fn committed_3_0_rendition_matches_the_code() {
    assert_committed(
        "reset.v1.openapi-3.0.json",
        &reset_api::openapi::document_3_0_json(),
        "the API document's 3.0.3 rendition",
        "Run `UPDATE_OPENAPI=1 cargo test -p reset-api --test openapi` (or `just openapi`) \
         and commit both documents.",
    );
}

#[test]
fn the_3_0_rendition_uses_3_0_keywords_only() {
    let text = reset_api::openapi::document_3_0_json();
    assert!(!text.contains("\"null\""), "no null type is left");
    assert!(!text.contains("\"const\""));
    assert!(!text.contains("\"identifier\""));
}

#[test]
fn the_3_0_rendition_has_the_same_operations_and_schemas() {
    let v31: serde_json::Value =
        serde_json::from_str(&reset_api::openapi::document_json()).unwrap();
    let v30: serde_json::Value =
        serde_json::from_str(&reset_api::openapi::document_3_0_json()).unwrap();
    assert_eq!(v30["openapi"], "3.0.3");
    let keys = |v: &serde_json::Value| -> BTreeSet<String> {
        v.as_object().unwrap().keys().cloned().collect()
    };
    assert_eq!(keys(&v30["paths"]), keys(&v31["paths"]));
    assert_eq!(
        keys(&v30["components"]["schemas"]),
        keys(&v31["components"]["schemas"])
    );
    assert_eq!(v30["servers"], v31["servers"]);
}

/// Every problem body is listed under `application/json` too, for generators that type only
/// that media type; the router answers with it when `Accept` asks for it.
#[test]
fn every_problem_is_also_listed_as_application_json() {
    let doc: serde_json::Value =
        serde_json::from_str(&reset_api::openapi::document_json()).unwrap();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            for (status, response) in op["responses"].as_object().unwrap() {
                let content = &response["content"];
                if let Some(problem) = content.get("application/problem+json") {
                    assert_eq!(
                        content.get("application/json"),
                        Some(problem),
                        "{method} {path} {status}"
                    );
                }
            }
        }
    }
}

/// No two string enums share a value: openapi-generator's Go client (default options) declares
/// each value as a package-level constant.
#[test]
fn no_two_enums_share_a_value() {
    let doc: serde_json::Value =
        serde_json::from_str(&reset_api::openapi::document_json()).unwrap();
    let mut seen = std::collections::BTreeMap::new();
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
        for value in schema["enum"].as_array().into_iter().flatten() {
            let value = value.as_str().unwrap().to_uppercase();
            if let Some(other) = seen.insert(value.clone(), name.clone()) {
                panic!("{value} is in both {other} and {name}");
            }
        }
    }
}

#[test]
fn names_a_default_server() {
    let doc: serde_json::Value =
        serde_json::from_str(&reset_api::openapi::document_json()).unwrap();
    assert_eq!(doc["servers"][0]["url"], "http://127.0.0.1:8080");
}

#[test]
fn every_route_is_documented_and_every_operation_routed() {
    let doc: serde_json::Value =
        serde_json::from_str(&reset_api::openapi::document_json()).unwrap();
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(move |m| (m.to_uppercase(), path.clone()))
        })
        .collect();
    let routed: BTreeSet<(String, String)> = reset_api::Api::routes()
        .into_iter()
        .map(|(m, p)| (m.to_owned(), p))
        .collect();
    assert_eq!(documented, routed);
}

#[test]
fn every_operation_is_complete() {
    let doc: serde_json::Value =
        serde_json::from_str(&reset_api::openapi::document_json()).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let at = format!("{method} {path}");
            assert!(op["operationId"].is_string(), "{at}: operationId");
            assert!(op["summary"].is_string(), "{at}: summary");
            assert!(
                op["tags"].as_array().is_some_and(|t| !t.is_empty()),
                "{at}: tags"
            );
            let needs_token =
                ["administration", "users", "zitadel"].contains(&op["tags"][0].as_str().unwrap());
            let bearer = op["security"]
                .as_array()
                .is_some_and(|s| !s.is_empty() && s.iter().all(|r| r["bearer"].is_array()));
            assert_eq!(
                bearer, needs_token,
                "{at}: bearer security where (and only where) it applies"
            );
            for (status, response) in op["responses"].as_object().unwrap() {
                assert!(
                    response["description"]
                        .as_str()
                        .is_some_and(|d| !d.is_empty()),
                    "{at} {status}: description"
                );
                for (media, content) in response["content"].as_object().into_iter().flatten() {
                    assert!(
                        content["schema"].is_object(),
                        "{at} {status} {media}: schema"
                    );
                    assert!(
                        !content["example"].is_null() || content["examples"].is_object(),
                        "{at} {status} {media}: an example of its own"
                    );
                }
                if status == "429" {
                    assert!(
                        response["headers"]["Retry-After"].is_object(),
                        "{at}: Retry-After"
                    );
                }
            }
        }
    }
}
