//! Validation of v12 write bodies against DVV's official beta `OpenAPI` document. Each
//! validator is compiled on first use and cached for the process, so startup stays
//! instant and the compile cost is paid once per schema.

use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

static DOCUMENT: LazyLock<Value> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../../ptv/v12/openapi-beta.json"))
        .expect("the bundled v12 OpenAPI document is valid JSON")
});

static VALIDATORS: LazyLock<Mutex<HashMap<&'static str, Arc<jsonschema::Validator>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

fn validator(name: &'static str) -> Arc<jsonschema::Validator> {
    if let Some(v) = VALIDATORS
        .lock()
        .expect("validator cache poisoned")
        .get(name)
    {
        return v.clone();
    }
    // Compiled outside the lock: two racing first uses compile twice, nobody waits.
    let root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": format!("#/components/schemas/{name}"),
        "components": DOCUMENT["components"],
    });
    let compiled = Arc::new(
        jsonschema::validator_for(&root)
            .unwrap_or_else(|e| panic!("official v12 schema {name} does not compile: {e}")),
    );
    VALIDATORS
        .lock()
        .expect("validator cache poisoned")
        .entry(name)
        .or_insert(compiled)
        .clone()
}

/// (JSON pointer, message) for each violation of schema `name`.
pub(crate) fn violations(name: &'static str, instance: &Value) -> Vec<(String, String)> {
    let validator = validator(name);
    let mut out: Vec<(String, String)> = validator
        .iter_errors(instance)
        .map(|e| {
            let path = e.instance_path().to_string();
            (
                if path.is_empty() {
                    "/".to_owned()
                } else {
                    path
                },
                e.to_string(),
            )
        })
        .collect();
    out.dedup();
    out
}

/// Whether a schema with this name exists in the document.
pub(crate) fn exists(name: &str) -> bool {
    DOCUMENT["components"]["schemas"].get(name).is_some()
}
