//! The conformance macro's list of scenarios is written by hand; this test fails when a
//! scenario (a `pub async fn NAME(db: TestDb, spawn: Spawn)` in the testkit's sources) is missing
//! from it, or when the list names one that does not exist, so no scenario is silently skipped.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::Path;

fn sources(dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(std::fs::read_to_string(&path).unwrap());
        }
    }
}

/// Every free `pub async fn NAME(db: TestDb, spawn: Spawn)` in the sources (methods, indented,
/// are not scenarios).
fn defined() -> BTreeSet<String> {
    let mut texts = Vec::new();
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut texts,
    );
    texts
        .iter()
        .flat_map(|t| t.lines())
        .filter_map(|l| {
            let rest = l.strip_prefix("pub async fn ")?;
            let (name, args) = rest.split_once('(')?;
            let args: String = args.chars().filter(|c| !c.is_whitespace()).collect();
            args.starts_with("db:TestDb,spawn:Spawn)")
                .then(|| name.to_owned())
        })
        .collect()
}

/// The names in `conformance_suite!`'s list.
fn listed() -> BTreeSet<String> {
    let lib =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
    let start = lib.find("@each $spawn,").unwrap() + "@each $spawn,".len();
    let end = start + lib[start..].find(");").unwrap();
    lib[start..end]
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_scenario_is_in_the_conformance_list() {
    let (defined, listed) = (defined(), listed());
    assert!(defined.len() > 50, "found only {defined:?}");
    let missing: Vec<_> = defined.difference(&listed).collect();
    let unknown: Vec<_> = listed.difference(&defined).collect();
    assert!(
        missing.is_empty(),
        "scenarios not in conformance_suite!: {missing:?}"
    );
    assert!(unknown.is_empty(), "listed but not defined: {unknown:?}");
}
