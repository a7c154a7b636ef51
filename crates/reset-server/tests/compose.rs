//! docker-compose.yml and the Dockerfile, checked without a Docker engine: every `RESET_*`
//! variable they set is one the server knows, and every framework they name is built in.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;

fn repo_file(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The `RESET_*` names in `text`.
fn variables(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with("RESET_") && w.len() > "RESET_".len())
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_variable_in_compose_and_dockerfile_is_a_server_setting() {
    let out = std::process::Command::new(common::BIN)
        .arg("--help")
        .output()
        .unwrap();
    let help = variables(&String::from_utf8(out.stdout).unwrap());
    for file in ["docker-compose.yml", "Dockerfile"] {
        let used = variables(&repo_file(file));
        assert!(!used.is_empty(), "{file} sets no RESET_* variable");
        let unknown: Vec<&String> = used.difference(&help).collect();
        assert!(
            unknown.is_empty(),
            "{file} sets variables the server does not know: {unknown:?}"
        );
    }
}

#[test]
fn compose_names_only_built_in_frameworks_and_existing_files() {
    let compose = repo_file("docker-compose.yml");
    for line in compose.lines().map(str::trim) {
        if let Some(framework) = line.strip_prefix("RESET_FRAMEWORK:") {
            let framework = framework.trim();
            assert!(
                reset_server::serve::FRAMEWORKS.contains(&framework),
                "{framework}"
            );
        }
    }
    assert!(
        compose.contains("build: ."),
        "the servers are built from the repo's Dockerfile"
    );
    assert!(repo_file("Dockerfile").contains("cargo build --release --locked -p reset-server"));
    assert!(
        compose.contains("axllent/mailpit") && compose.contains("\"8025:8025\""),
        "Mailpit's web UI is published"
    );
}
