//! The pieces the OpenAPI document is built from, shared by the operations' entries (each in its
//! operation's file) and the control plane's (`openapi`).

use serde_json::{Value, json};

/// A reference to the component schema `name`.
pub fn schema(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// An `application/json` content of the schema `name`.
pub fn json_content(name: &str) -> Value {
    json!({"application/json": {"schema": schema(name)}})
}

/// The responses: `status` with `description` (and the schema `body`), and the ROMA error body otherwise.
pub fn ok(status: &str, description: &str, body: Option<&str>) -> Value {
    let mut responses = json!({
        "default": {"description": "A refusal: the ROMA error body (see GET /_emulator/errors).", "content": json_content("ErrorBody")}
    });
    let mut success = json!({"description": description});
    if let Some(body) = body {
        success["content"] = json_content(body);
    }
    responses[status] = success;
    responses
}

/// A string parameter.
pub fn param(name: &str, location: &str, required: bool, description: &str) -> Value {
    json!({"name": name, "in": location, "required": required, "description": description, "schema": {"type": "string"}})
}

/// Required path parameters of 1..64 characters.
pub fn path_params(names: &[&str]) -> Vec<Value> {
    names
        .iter()
        .map(|n| param(n, "path", true, "1..64 characters"))
        .collect()
}

/// The asset API's two ways to authenticate, as header parameters.
pub fn asset_auth() -> Vec<Value> {
    vec![
        param(
            "X-Auth-Token",
            "header",
            false,
            "A token (1..100000 characters); or sign the request with AK/SK instead.",
        ),
        param(
            "Authorization",
            "header",
            false,
            "SDK-HMAC-SHA256 Access=..., SignedHeaders=..., Signature=... (with X-Sdk-Date).",
        ),
    ]
}

/// The path parameters `names` and the asset API's authentication headers.
pub fn asset_params(names: &[&str]) -> Vec<Value> {
    let mut p = path_params(names);
    p.extend(asset_auth());
    p
}

/// A job status, in either spelling.
pub fn status_enum() -> Value {
    json!({"enum": ["Running", "Success", "Failed", "Finished", "RUNNING", "SUCCEEDED", "FAILED"]})
}

/// The path parameters of every namespaced operation.
pub const NAMESPACE: [&str; 2] = ["project_id", "instance_id"];

/// The body of ExportAsset and DeleteAsset.
pub fn selection_body() -> Value {
    json!({"required": true, "content": json_content("AssetSelection")})
}

/// The answer of an operation that creates a job.
pub fn job_created() -> Value {
    ok("200", "The job was created.", Some("JobCreated"))
}

/// A journal entry's `summary`: every field optional.
pub fn summary() -> Value {
    let text = || json!({"type": "string"});
    let count = || json!({"type": "integer", "minimum": 0});
    let ids = || json!({"type": "array", "maxItems": crate::journal::MAX_IDS, "items": {"type": "string"}});
    json!({"type": "object", "additionalProperties": false, "properties": {
        "dialect": {"enum": ["name", "id", "app_id", "ids"]}, "apps": ids(), "app_count": count(), "tasks": ids(), "task_count": count(),
        "type": {"enum": ["AddNew", "Merge"]}, "prefix": text(), "file_name": text(), "file_size": count(),
        "file_sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"}, "job_id": text(), "status": text(), "archive_id": text(),
        "bytes_sent": count(), "complete": {"type": "boolean"}, "user": text(), "scope": text()}})
}
