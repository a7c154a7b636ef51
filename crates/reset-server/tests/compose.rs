//! docker-compose.yml and the Dockerfile, checked without a Docker engine: the compose file
//! parses; every service it names exists; every file it builds from exists; every `RESET_*`
//! variable is a server setting; frameworks are built in; ports, hosts and healthchecks line up
//! with the server's configuration.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;

use yaml_rust2::{Yaml, YamlLoader};

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

/// A mapping with YAML merge keys (`<<: *anchor`) applied, recursively.
fn merged(y: &Yaml) -> Yaml {
    match y {
        Yaml::Hash(h) => {
            let mut out = yaml_rust2::yaml::Hash::new();
            if let Some(Yaml::Hash(base)) = h.get(&Yaml::String("<<".into())).map(merged) {
                out.extend(base);
            }
            for (k, v) in h {
                if k.as_str() != Some("<<") {
                    let v = match (out.get(k), merged(v)) {
                        (Some(Yaml::Hash(old)), Yaml::Hash(new)) => {
                            let mut both = old.clone();
                            both.extend(new);
                            Yaml::Hash(both)
                        }
                        (_, new) => new,
                    };
                    out.insert(k.clone(), v);
                }
            }
            Yaml::Hash(out)
        }
        Yaml::Array(a) => Yaml::Array(a.iter().map(merged).collect()),
        other => other.clone(),
    }
}

fn compose() -> Yaml {
    let docs = YamlLoader::load_from_str(&repo_file("docker-compose.yml")).expect("valid YAML");
    merged(&docs[0])
}

fn env(service: &Yaml, name: &str) -> Option<String> {
    service["environment"][name].as_str().map(str::to_owned)
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
fn the_services_line_up() {
    let doc = compose();
    let services = doc["services"].as_hash().expect("services");
    let names: BTreeSet<&str> = services.keys().filter_map(Yaml::as_str).collect();
    for needed in [
        "postgres",
        "mailpit",
        "migrate",
        "seed",
        "server-axum",
        "server-actix",
        "server-warp",
    ] {
        assert!(names.contains(needed), "no service {needed}");
    }
    let dockerfile = repo_file("Dockerfile");
    assert!(dockerfile.contains("cargo build --release --locked -p reset-server"));
    assert!(dockerfile.contains("RESET_BIND=0.0.0.0:8080"));
    // Non-root by number (so Kubernetes' runAsNonRoot can check it), and no curl.
    let runtime = &dockerfile[dockerfile.rfind("FROM ").unwrap()..];
    assert!(runtime.contains("\nUSER 10001:10001\n"), "{runtime}");
    assert!(!runtime.contains("curl"), "{runtime}");
    assert!(runtime.contains(r#"CMD ["reset-server", "healthcheck"]"#));
    let mut frameworks = BTreeSet::new();
    for (name, service) in services {
        let name = name.as_str().unwrap();
        for dep in service["depends_on"].as_hash().into_iter().flatten() {
            assert!(
                names.contains(dep.0.as_str().unwrap()),
                "{name} depends on a missing service"
            );
        }
        if service["build"].as_str() == Some(".") {
            assert!(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("../../Dockerfile")
                    .exists()
            );
        }
        if !name.starts_with("server-") {
            continue;
        }
        assert_eq!(
            service["depends_on"]["migrate"]["condition"].as_str(),
            Some("service_completed_successfully"),
            "{name} starts after the one migration run"
        );
        assert_eq!(
            env(service, "RESET_MIGRATE_ON_START").as_deref(),
            Some("false"),
            "{name}"
        );
        let framework = env(service, "RESET_FRAMEWORK").expect("RESET_FRAMEWORK");
        assert!(
            reset_server::serve::FRAMEWORKS.contains(&framework.as_str()),
            "{framework}"
        );
        assert_eq!(name, format!("server-{framework}"));
        frameworks.insert(framework);
        let ports: Vec<&str> = service["ports"]
            .as_vec()
            .unwrap()
            .iter()
            .filter_map(Yaml::as_str)
            .collect();
        let published = ports[0].split_once(':').expect("HOST:CONTAINER");
        assert_eq!(
            published.1, "8080",
            "{name}: the container listens on RESET_BIND's port"
        );
        if let Some(bind) = env(service, "RESET_METRICS_BIND") {
            let port = bind.rsplit_once(':').expect("HOST:PORT").1;
            assert!(
                port != "8080" && ports.iter().all(|p| !p.ends_with(&format!(":{port}"))),
                "{name}: /metrics tells accounts apart; its port {port} must not be published"
            );
        }
        assert_eq!(
            env(service, "RESET_PUBLIC_URL").unwrap(),
            format!("http://localhost:{}", published.0),
            "{name}: links point at the published port"
        );
        let db = env(service, "RESET_DATABASE_URL").unwrap();
        assert!(
            db.starts_with("postgres://") && db.contains("@postgres:5432/"),
            "{db}"
        );
        assert_eq!(
            env(service, "RESET_SMTP_URL").unwrap(),
            "smtp://mailpit:1025"
        );
        assert_eq!(env(service, "RESET_MAIL_TRANSPORT").unwrap(), "smtp");
        let key = env(service, "RESET_SECRET_KEY").unwrap();
        assert!(
            reset_core::SecretKey::from_base64(&key).is_ok(),
            "{name}: a usable key"
        );
        let health: Vec<&str> = service["healthcheck"]["test"]
            .as_vec()
            .unwrap()
            .iter()
            .filter_map(Yaml::as_str)
            .collect();
        assert_eq!(
            health,
            ["CMD", "reset-server", "healthcheck"],
            "{name}: the binary's own check of /readyz (the image has no curl)"
        );
    }
    assert_eq!(frameworks.len(), 3, "one service per framework");
    let mailpit = &doc["services"]["mailpit"];
    assert!(
        mailpit["image"]
            .as_str()
            .unwrap()
            .starts_with("axllent/mailpit")
    );
    assert!(
        mailpit["ports"]
            .as_vec()
            .unwrap()
            .iter()
            .any(|p| p.as_str() == Some("8025:8025")),
        "Mailpit's UI is published"
    );
    // The MariaDB profile: its own database, migration run, seed and server.
    for name in [
        "mariadb",
        "mariadb-migrate",
        "mariadb-seed",
        "mariadb-server",
    ] {
        let service = &doc["services"][name];
        assert_eq!(service["profiles"][0].as_str(), Some("mariadb"), "{name}");
    }
    let maria = merged(&doc["services"]["mariadb-server"]);
    let db = env(&maria, "RESET_DATABASE_URL").unwrap();
    assert!(
        db.starts_with("mysql://") && db.contains("@mariadb:3306/"),
        "{db}"
    );
    assert_eq!(
        maria["depends_on"]["mariadb-migrate"]["condition"].as_str(),
        Some("service_completed_successfully")
    );
    assert_eq!(
        env(&maria, "RESET_PUBLIC_URL").unwrap(),
        "http://localhost:8083"
    );
    assert_eq!(maria["ports"][0].as_str(), Some("8083:8080"));
    for name in ["mariadb-migrate", "mariadb-seed"] {
        assert_eq!(
            env(&doc["services"][name], "RESET_DATABASE_URL"),
            Some(db.clone())
        );
    }
    let migrate = &doc["services"]["migrate"];
    assert_eq!(migrate["command"][0].as_str(), Some("migrate"));
    let seed = &doc["services"]["seed"];
    assert!(seed["entrypoint"].as_vec().unwrap().iter().any(|a| {
        a.as_str()
            .is_some_and(|a| a.contains("user add --username demo"))
    }));
}
