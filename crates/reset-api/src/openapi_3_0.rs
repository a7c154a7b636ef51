//! The OpenAPI 3.0.3 rendition of the 3.1 document, for generators that read 3.0 only
//! (progenitor, older openapi-generator templates). Derived by code from the very document
//! `GET /openapi.json` serves, committed as `openapi/reset.v1.openapi-3.0.json` and served at
//! `GET /openapi-3.0.json`.
//!
//! 3.1 schemas are JSON Schema 2020-12; 3.0 schemas are a dialect of draft 4 with `nullable`.
//! The conversion rewrites what our document uses and drops what 3.0 cannot say:
//! - `type: [X, "null"]` becomes `type: X, nullable: true`;
//! - `oneOf`/`anyOf` with a `{"type": "null"}` branch loses the branch and gains
//!   `nullable: true`; a single `$ref` left beside it becomes `allOf: [{$ref}]` (3.0 ignores
//!   siblings of `$ref`, `nullable` included), a single inline schema is merged in;
//! - `const: v` becomes `enum: [v]`, a schema's `examples: [a, …]` becomes `example: a`, a
//!   numeric `exclusiveMinimum`/`exclusiveMaximum` becomes the bound plus `true`;
//! - 3.1-only keywords (`$schema`, `$id`, `contentMediaType`, `prefixItems`, …) are dropped, as
//!   are `info.license.identifier`, `info.summary`, `webhooks` and `jsonSchemaDialect`.

use serde_json::{Value, json};

/// The version the rendition declares.
pub const VERSION: &str = "3.0.3";

/// JSON Schema keywords that 3.0 does not know and that have no 3.0 spelling.
const DROPPED: [&str; 16] = [
    "$schema",
    "$id",
    "$anchor",
    "$defs",
    "$comment",
    "contentMediaType",
    "contentEncoding",
    "contentSchema",
    "prefixItems",
    "unevaluatedProperties",
    "unevaluatedItems",
    "dependentRequired",
    "dependentSchemas",
    "propertyNames",
    "patternProperties",
    "if",
];

/// Converts an OpenAPI 3.1 document to 3.0.3.
pub fn convert(doc: &Value) -> Value {
    let mut doc = doc.clone();
    let Some(root) = doc.as_object_mut() else {
        return doc;
    };
    root.insert("openapi".into(), Value::String(VERSION.into()));
    root.remove("webhooks");
    root.remove("jsonSchemaDialect");
    if let Some(info) = root.get_mut("info").and_then(Value::as_object_mut) {
        info.remove("summary");
        if let Some(license) = info.get_mut("license").and_then(Value::as_object_mut) {
            license.remove("identifier");
        }
    }
    if let Some(components) = root.get_mut("components").and_then(Value::as_object_mut) {
        components.remove("pathItems");
        if let Some(schemas) = components.get_mut("schemas").and_then(Value::as_object_mut) {
            schemas.values_mut().for_each(schema);
        }
    }
    if let Some(paths) = root.get_mut("paths") {
        schemas_within(paths);
    }
    if let Some(components) = root.get_mut("components").and_then(Value::as_object_mut) {
        for (key, value) in components.iter_mut() {
            if key != "schemas" {
                schemas_within(value);
            }
        }
    }
    doc
}

/// Converts every `schema` (of a parameter, header or media type) below `value`.
fn schemas_within(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if key == "schema" {
                    schema(v);
                } else {
                    schemas_within(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(schemas_within),
        _ => {}
    }
}

fn is_null_branch(branch: &Value) -> bool {
    branch.get("type").and_then(Value::as_str) == Some("null")
        && branch.as_object().is_some_and(|b| b.len() == 1)
}

/// Converts one schema, and the schemas inside it.
fn schema(value: &mut Value) {
    let Some(s) = value.as_object_mut() else {
        return;
    };
    for key in DROPPED {
        s.remove(key);
    }
    s.remove("then");
    s.remove("else");

    let mut nullable = false;
    match s.get("type").cloned() {
        Some(Value::Array(types)) => {
            let rest: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
            nullable = rest.len() < types.len();
            s.remove("type");
            match rest.as_slice() {
                [] => {}
                [one] => {
                    s.insert("type".into(), one.clone());
                }
                many => {
                    let branches = many.iter().map(|t| json!({ "type": t })).collect();
                    s.insert("anyOf".into(), Value::Array(branches));
                }
            }
        }
        Some(Value::String(t)) if t == "null" => {
            s.remove("type");
            nullable = true;
        }
        _ => {}
    }

    for key in ["oneOf", "anyOf"] {
        let Some(Value::Array(branches)) = s.remove(key) else {
            continue;
        };
        let (nulls, mut rest): (Vec<Value>, Vec<Value>) =
            branches.into_iter().partition(is_null_branch);
        if !nulls.is_empty() {
            nullable = true;
        }
        if nulls.is_empty() || rest.len() > 1 {
            s.insert(key.into(), Value::Array(rest));
            continue;
        }
        let Some(Value::Object(mut only)) = rest.pop() else {
            continue;
        };
        if let Some(reference) = only.remove("$ref") {
            // A `$ref`'s siblings (its description) move to the wrapper.
            for (k, v) in only {
                s.entry(k).or_insert(v);
            }
            let all_of = s.entry("allOf").or_insert_with(|| Value::Array(Vec::new()));
            if let Some(all_of) = all_of.as_array_mut() {
                all_of.insert(0, json!({ "$ref": reference }));
            }
        } else {
            for (k, v) in only {
                s.entry(k).or_insert(v);
            }
            // The merged branch may itself be 3.1.
            let mut merged = Value::Object(std::mem::take(s));
            schema(&mut merged);
            if let Value::Object(m) = merged {
                *s = m;
            }
        }
    }
    if nullable {
        s.insert("nullable".into(), Value::Bool(true));
    }

    if let Some(v) = s.remove("const") {
        s.insert("enum".into(), Value::Array(vec![v]));
    }
    if let Some(Value::Array(examples)) = s.get("examples").cloned() {
        s.remove("examples");
        if let Some(first) = examples.into_iter().next() {
            s.entry("example").or_insert(first);
        }
    }
    for (exclusive, bound) in [
        ("exclusiveMinimum", "minimum"),
        ("exclusiveMaximum", "maximum"),
    ] {
        if let Some(n) = s.get(exclusive).filter(|v| v.is_number()).cloned() {
            s.insert(bound.into(), n);
            s.insert(exclusive.into(), Value::Bool(true));
        }
    }

    if let Some(Value::Object(properties)) = s.get_mut("properties") {
        properties.values_mut().for_each(schema);
    }
    for key in ["items", "additionalProperties", "not"] {
        if let Some(v) = s.get_mut(key).filter(|v| v.is_object()) {
            schema(v);
        }
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        if let Some(Value::Array(branches)) = s.get_mut(key) {
            branches.iter_mut().for_each(schema);
        }
    }
}

/// The rendition as served and committed: pretty JSON with a final newline.
pub fn to_json(doc: &Value) -> String {
    let mut json = serde_json::to_string_pretty(doc).unwrap_or_else(|_| "{}".to_owned());
    json.push('\n');
    json
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn in_schema(s: Value) -> Value {
        let doc = json!({"openapi": "3.1.0", "components": {"schemas": {"S": s}}});
        convert(&doc)["components"]["schemas"]["S"].clone()
    }

    #[test]
    fn declares_3_0_3_and_drops_license_identifier() {
        let doc = json!({
            "openapi": "3.1.0",
            "info": {"title": "t", "version": "1", "summary": "s",
                "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"}},
            "webhooks": {}, "jsonSchemaDialect": "x", "paths": {}
        });
        let out = convert(&doc);
        assert_eq!(out["openapi"], "3.0.3");
        assert_eq!(
            out["info"],
            json!({"title": "t", "version": "1", "license": {"name": "Apache-2.0"}})
        );
        assert!(out.get("webhooks").is_none() && out.get("jsonSchemaDialect").is_none());
    }

    #[test]
    fn a_type_list_with_null_becomes_nullable() {
        assert_eq!(
            in_schema(json!({"type": ["string", "null"], "maxLength": 3})),
            json!({"type": "string", "maxLength": 3, "nullable": true})
        );
        assert_eq!(
            in_schema(json!({"type": ["integer", "string"]})),
            json!({"anyOf": [{"type": "integer"}, {"type": "string"}]})
        );
    }

    #[test]
    fn a_ref_beside_null_becomes_all_of_and_nullable() {
        assert_eq!(
            in_schema(json!({"oneOf": [
                {"$ref": "#/components/schemas/Channel", "description": "d"},
                {"type": "null"}
            ]})),
            json!({"description": "d", "allOf": [{"$ref": "#/components/schemas/Channel"}], "nullable": true})
        );
        assert_eq!(
            in_schema(json!({"anyOf": [{"type": "null"}, {"$ref": "#/components/schemas/X"}]})),
            json!({"allOf": [{"$ref": "#/components/schemas/X"}], "nullable": true})
        );
    }

    #[test]
    fn an_inline_branch_beside_null_is_merged() {
        assert_eq!(
            in_schema(json!({"oneOf": [
                {"type": "array", "items": {"type": ["string", "null"]}},
                {"type": "null"}
            ]})),
            json!({"type": "array", "items": {"type": "string", "nullable": true}, "nullable": true})
        );
    }

    #[test]
    fn several_branches_beside_null_stay_a_one_of() {
        assert_eq!(
            in_schema(
                json!({"oneOf": [{"type": "string"}, {"type": "integer"}, {"type": "null"}]})
            ),
            json!({"oneOf": [{"type": "string"}, {"type": "integer"}], "nullable": true})
        );
    }

    #[test]
    fn const_examples_and_exclusive_bounds_use_3_0_spellings() {
        assert_eq!(
            in_schema(json!({"const": "a", "examples": ["a", "b"], "$schema": "x"})),
            json!({"enum": ["a"], "example": "a"})
        );
        assert_eq!(
            in_schema(json!({"type": "integer", "exclusiveMinimum": 0})),
            json!({"type": "integer", "minimum": 0, "exclusiveMinimum": true})
        );
    }

    #[test]
    fn nested_schemas_and_schemas_in_paths_are_converted() {
        let doc = json!({
            "openapi": "3.1.0",
            "paths": {"/x": {"post": {
                "parameters": [{"name": "p", "in": "query", "schema": {"type": ["string", "null"]}}],
                "responses": {"200": {"description": "ok",
                    "headers": {"H": {"schema": {"type": ["integer", "null"]}}},
                    "content": {"application/json": {
                        "schema": {"type": "object", "properties": {
                            "type": {"type": "string"},
                            "a": {"type": "object", "properties": {"b": {"type": ["boolean", "null"]}}}
                        }},
                        "examples": {"one": {"value": {"type": "x"}}}
                    }}
                }}
            }}}
        });
        let out = convert(&doc);
        let op = &out["paths"]["/x"]["post"];
        assert_eq!(
            op["parameters"][0]["schema"],
            json!({"type": "string", "nullable": true})
        );
        let ok = &op["responses"]["200"];
        assert_eq!(
            ok["headers"]["H"]["schema"],
            json!({"type": "integer", "nullable": true})
        );
        let media = &ok["content"]["application/json"];
        assert_eq!(
            media["schema"]["properties"]["type"],
            json!({"type": "string"})
        );
        assert_eq!(
            media["schema"]["properties"]["a"]["properties"]["b"],
            json!({"type": "boolean", "nullable": true})
        );
        // A media type's `examples` map is 3.0 too, and stays.
        assert_eq!(media["examples"]["one"]["value"]["type"], "x");
    }
}
