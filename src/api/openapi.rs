//! `GET /openapi.json`: an OpenAPI 3.1 description of every endpoint, built once. Response schemas
//! are closed (`additionalProperties: false`), and a test checks real responses against them.

use std::sync::LazyLock;

use axum::Json;
use serde_json::{Value, json};

use super::schema::{json_content, ok, param, path_params, schema, status_enum};

/// The document.
pub static DOCUMENT: LazyLock<Value> = LazyLock::new(build);

/// `GET /openapi.json`.
pub async fn openapi() -> Json<&'static Value> {
    Json(&DOCUMENT)
}

fn nullable(t: &str) -> Value {
    json!({"type": [t, "null"]})
}

fn build() -> Value {
    let mut job_filters: Vec<Value> = ["user", "project_id", "instance_id"]
        .iter()
        .map(|n| param(n, "query", false, "Filter."))
        .collect();
    job_filters.push(json!({"name": "type", "in": "query", "required": false, "schema": {"enum": ["exportAsset", "importAsset", "deleteAsset"]}}));
    job_filters.push(json!({"name": "status", "in": "query", "required": false, "schema": status_enum()}));
    let page_limit = json!({"name": "limit", "in": "query", "required": false, "description": "A page's size (default 100).", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}});
    job_filters.push(page_limit.clone());
    job_filters.push(json!({"name": "cursor", "in": "query", "required": false, "description": "The next_cursor of the page before.", "schema": {"type": "string", "pattern": "^[0-9]{1,19}$"}}));
    let mut request_filters: Vec<Value> = ["user", "project_id", "instance_id"]
        .iter()
        .map(|n| param(n, "query", false, "Filter."))
        .collect();
    request_filters.push(json!({"name": "status", "in": "query", "required": false, "description": "Only answers of this HTTP status.", "schema": {"type": "integer", "minimum": 100, "maximum": 599}}));
    request_filters.push(page_limit);
    request_filters.push(json!({"name": "offset", "in": "query", "required": false, "description": "The next_offset of the page before.", "schema": {"type": "integer", "minimum": 0}}));
    let mut document = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "roma-emulator",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "A local emulator of the Huawei Cloud ROMA Connect asset API, IAM password tokens, and the emulator's control plane."
        },
        "paths": {
            "/_emulator/health": {"get": {"operationId": "EmulatorHealth", "tags": ["emulator"],
                "responses": ok("200", "Serving.", Some("Health"))}},
            "/_emulator/state": {
                "get": {"operationId": "EmulatorStateExport", "tags": ["emulator"],
                    "parameters": [{"name": "include", "in": "query", "required": false, "description": "token_key: the export holds the token-sealing key (to move a stub whole).", "schema": {"enum": ["token_key"]}}],
                    "responses": ok("200", "The whole state, without secrets unless include asks for the token key.", Some("Snapshot"))},
                "put": {"operationId": "EmulatorStateImport", "tags": ["emulator"],
                    "requestBody": {"required": true, "content": json_content("Snapshot")},
                    "responses": ok("200", "Restored (a bad snapshot changes nothing).", Some("Restored"))}},
            "/_emulator/bundle": {"get": {"operationId": "EmulatorBundle", "tags": ["emulator"],
                "parameters": [param("project_id", "query", true, "The namespace's project."), param("instance_id", "query", false, "Its instance.")],
                "responses": ok("200", "The repro bundle of one namespace: a snapshot of its jobs, archives, catalog, journal and faults, with `bundle` (what it was taken of and under).", Some("Snapshot"))}},
            "/_emulator/state/save": {"post": {"operationId": "EmulatorStateSave", "tags": ["emulator"],
                "responses": ok("200", "Written to [state] file (409 when none is configured).", Some("Saved"))}},
            "/_emulator/metrics": {"get": {"operationId": "EmulatorMetrics", "tags": ["emulator"],
                "responses": {"200": {"description": "Metrics in the OpenMetrics text format.",
                    "content": {"application/openmetrics-text": {"schema": {"type": "string"}}}}}}},
            "/_emulator/ready": {"get": {"operationId": "EmulatorReady", "tags": ["emulator"],
                "responses": ok("200", "Taking work (503 EMULATOR.0503 while shutting down).", Some("Health"))}},
            "/_emulator/reset": {"post": {"operationId": "EmulatorReset", "tags": ["emulator"],
                "parameters": [param("project_id", "query", false, "Only this project."), param("instance_id", "query", false, "Only this instance.")],
                "responses": ok("200", "Reset.", Some("Reset"))}},
            "/_emulator/jobs": {"get": {"operationId": "EmulatorListJobs", "tags": ["emulator"],
                "parameters": job_filters,
                "responses": ok("200", "One page, oldest first, with the total and the next page's cursor.", Some("ControlJobs"))}},
            "/_emulator/jobs/{job_id}": {"get": {"operationId": "EmulatorShowJob", "tags": ["emulator"],
                "parameters": path_params(&["job_id"]), "responses": ok("200", "Any user's job.", Some("ControlJob"))}},
            "/_emulator/jobs/{job_id}/wait": {"get": {"operationId": "EmulatorWaitJob", "tags": ["emulator"],
                "parameters": [param("job_id", "path", true, "The job."),
                    {"name": "status", "in": "query", "required": false, "description": "Left out: any end.", "schema": status_enum()},
                    {"name": "timeout_ms", "in": "query", "required": false, "description": "Default 5000; at most server.request_timeout_ms - 100.", "schema": {"type": "integer", "minimum": 0, "maximum": 29_900}}],
                "responses": ok("200", "The job, once it reached the status (408 EMULATOR.0408 at the timeout).", Some("ControlJob"))}},
            "/_emulator/jobs/{job_id}/complete": {"post": {"operationId": "EmulatorCompleteJob", "tags": ["emulator"],
                "parameters": path_params(&["job_id"]), "responses": ok("200", "Ended successfully.", Some("ControlJob"))}},
            "/_emulator/jobs/{job_id}/fail": {"post": {"operationId": "EmulatorFailJob", "tags": ["emulator"],
                "parameters": path_params(&["job_id"]),
                "requestBody": {"required": false, "content": json_content("FailBody")},
                "responses": ok("200", "Failed.", Some("ControlJob"))}},
            "/_emulator/clock": {
                "get": {"operationId": "EmulatorShowClock", "tags": ["emulator"], "responses": ok("200", "The time.", Some("Clock"))},
                "post": {"operationId": "EmulatorMoveClock", "tags": ["emulator"],
                    "requestBody": {"required": true, "content": json_content("ClockMove")},
                    "responses": ok("200", "Moved; every due job change applied.", Some("Clock"))}},
            "/_emulator/requests": {
                "get": {"operationId": "EmulatorListRequests", "tags": ["emulator"],
                    "parameters": request_filters,
                    "responses": ok("200", "One page, newest first, with the total and the next page's offset.", Some("Requests"))},
                "delete": {"operationId": "EmulatorClearRequests", "tags": ["emulator"], "responses": ok("204", "Cleared.", None)}},
            "/_emulator/requests/unmatched": {"get": {"operationId": "EmulatorListUnmatched", "tags": ["emulator"],
                "parameters": [param("project_id", "query", false, "Only this project's."), param("instance_id", "query", false, "Only this instance's."),
                    {"name": "limit", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1, "maximum": 1000}}],
                "responses": ok("200", "The newest requests no route answered, each with its hint.", Some("Unmatched"))}},
            "/_emulator/verify/report": {"get": {"operationId": "EmulatorVerifyReport", "tags": ["emulator"],
                "parameters": [param("project_id", "query", true, "The namespace's project."), param("instance_id", "query", false, "Its instance."),
                    {"name": "max_polls_after_end", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 0}}],
                "responses": ok("200", "The built-in expectations of the namespace.", Some("Report"))}},
            "/_emulator/verify": {"post": {"operationId": "EmulatorVerify", "tags": ["emulator"],
                "requestBody": {"required": true, "content": json_content("Expectation")},
                "responses": {
                    "200": {"description": "The count holds.", "content": json_content("Verdict")},
                    "409": {"description": "The count does not hold: the nearest requests, nearest first.", "content": json_content("Verdict")},
                    "default": {"description": "A bad expectation (400), or the journal is off (409 EMULATOR.0409).", "content": json_content("ErrorBody")}}}},
            "/_emulator/faults": {
                "get": {"operationId": "EmulatorListFaults", "tags": ["emulator"], "responses": ok("200", "Oldest first.", Some("Faults"))},
                "post": {"operationId": "EmulatorAddFault", "tags": ["emulator"],
                    "requestBody": {"required": true, "content": json_content("FaultSpec")},
                    "responses": ok("201", "Added.", Some("Fault"))},
                "delete": {"operationId": "EmulatorClearFaults", "tags": ["emulator"], "responses": ok("204", "Cleared.", None)}},
            "/_emulator/faults/{fault_id}": {"delete": {"operationId": "EmulatorRemoveFault", "tags": ["emulator"],
                "parameters": path_params(&["fault_id"]), "responses": ok("204", "Removed.", None)}},
            "/_emulator/lockouts": {"get": {"operationId": "EmulatorListLockouts", "tags": ["emulator"],
                "responses": ok("200", "The access keys locked now ([auth] ak_lockout).", Some("Lockouts"))}},
            "/_emulator/lockouts/{access_key}": {"delete": {"operationId": "EmulatorLiftLockout", "tags": ["emulator"],
                "parameters": path_params(&["access_key"]), "responses": ok("204", "The key's lock is lifted (404 ROMA.00110006 when it is not locked).", None)}},
            "/_emulator/errors": {"get": {"operationId": "EmulatorListErrors", "tags": ["emulator"],
                "responses": ok("200", "The catalog.", Some("Errors"))}},
            "/openapi.json": {"get": {"operationId": "EmulatorOpenApi", "tags": ["emulator"],
                "responses": {"200": {"description": "This document.", "content": {"application/json": {"schema": {"type": "object"}}}}}}}
        },
        "components": {"schemas": all_schemas()}
    });
    // Apart: one `json!` has a recursion limit.
    if let (Some(paths), Value::Object(users)) = (document["paths"].as_object_mut(), user_paths()) {
        paths.extend(users);
    }
    // Each operation's entry, from its own file.
    for op in crate::api::OPERATIONS {
        let method = op.method.as_str().to_ascii_lowercase();
        document["paths"][op.template][method] = (op.openapi)();
    }
    document
}

/// The paths of the users added at run time (D19).
fn user_paths() -> Value {
    json!({
            "/_emulator/users": {
                "get": {"operationId": "EmulatorListUsers", "tags": ["emulator"],
                    "responses": ok("200", "Every user, configured and added at run time, without secrets.", Some("Users"))},
                "post": {"operationId": "EmulatorAddUser", "tags": ["emulator"],
                    "requestBody": {"required": true, "content": json_content("UserSpec")},
                    "responses": ok("201", "Added (D19).", Some("UserAdded"))}},
            "/_emulator/users/{name}": {"delete": {"operationId": "EmulatorRemoveUser", "tags": ["emulator"],
                "parameters": path_params(&["name"]), "responses": ok("204", "Removed (404 for a configured or unknown name).", None)}}
    })
}

/// The schemas of the journal's summaries and refusals, and of verification.
fn diagnostics_schemas() -> Value {
    json!({
        "Unmatched": {"type": "object", "additionalProperties": false, "required": ["requests"], "properties": {
            "requests": {"type": "array", "items": {"type": "object", "additionalProperties": false,
                "required": ["time", "method", "path", "status", "request_id", "hint"], "properties": request_properties()}}}},
        "Summary": crate::api::schema::summary(),
        "Refusal": {"type": "object", "required": ["rule", "field", "error_code"],
            "description": "Besides these, the facts of the cause by name (blocking_job, consumed_by, consumed_at, cause, project_id, instance_id, retention_s, gone_at), all strings.",
            "properties": {"rule": {"type": "string"}, "field": nullable("string"), "error_code": {"type": "string"}, "details": {"type": "string"}},
            "additionalProperties": {"type": "string"}},
        "Report": {"type": "object", "additionalProperties": false,
            "required": ["project_id", "instance_id", "max_polls_after_end", "summaries", "clean", "findings"], "properties": {
            "project_id": {"type": "string"}, "instance_id": nullable("string"), "max_polls_after_end": {"type": "integer"},
            "summaries": {"type": "boolean"}, "clean": {"type": "boolean"},
            "findings": {"type": "object", "additionalProperties": false, "required": ["archives_downloaded_twice", "exports_never_downloaded",
                "jobs_never_polled", "jobs_polled_after_end", "refused_by_auth"], "properties": {
                "archives_downloaded_twice": {"type": "array", "items": {"type": "object", "additionalProperties": false,
                    "required": ["archive_id", "request_id", "consumed_by"],
                    "properties": {"archive_id": {"type": "string"}, "request_id": hex32(), "consumed_by": nullable("string")}}},
                "exports_never_downloaded": {"type": "array", "items": {"type": "object", "additionalProperties": false,
                    "required": ["archive_id", "expired_at"], "properties": {"archive_id": hex32(), "expired_at": nullable("string")}}},
                "jobs_never_polled": {"type": "array", "items": {"type": "object", "additionalProperties": false,
                    "required": ["job_id", "operation", "request_id"],
                    "properties": {"job_id": {"type": "string"}, "operation": nullable("string"), "request_id": hex32()}}},
                "jobs_polled_after_end": {"type": "array", "items": {"type": "object", "additionalProperties": false,
                    "required": ["job_id", "polls_after_end"], "properties": {"job_id": {"type": "string"}, "polls_after_end": {"type": "integer"}}}},
                "refused_by_auth": {"type": "array", "items": {"type": "object", "additionalProperties": false,
                    "required": ["request_id", "operation", "error_code", "details"], "properties": {
                    "request_id": hex32(), "operation": nullable("string"), "error_code": {"type": "string"}, "details": nullable("string")}}}}}}},
        "Expectation": {"type": "object", "additionalProperties": false, "required": ["project_id", "operation"], "properties": {
            "project_id": {"type": "string"}, "instance_id": {"type": "string"}, "operation": {"type": "string"},
            "where": {"type": "object", "maxProperties": 4, "additionalProperties": where_value(),
                "description": "Summary fields, and method, path, http_status, error_code, caller. A list matches when the request's holds every item given."},
            "count": {"type": "object", "additionalProperties": false, "properties": {
                "eq": {"type": "integer", "minimum": 0}, "min": {"type": "integer", "minimum": 0}, "max": {"type": "integer", "minimum": 0}}}}},
        "Verdict": {"type": "object", "additionalProperties": false, "required": ["matched"], "properties": {
            "matched": {"type": "integer", "minimum": 0},
            "near_misses": {"type": "array", "maxItems": 3, "items": {"type": "object", "additionalProperties": false,
                "required": ["request_id", "operation", "request", "http_status", "differences"], "properties": {
                "request_id": hex32(), "operation": nullable("string"), "request": {"type": "string"}, "http_status": {"type": "integer"},
                "hint": {"type": "string"},
                "differences": {"type": "array", "items": {"type": "object", "additionalProperties": false, "required": ["field", "expected", "actual"],
                    "properties": {"field": {"type": "string"}, "expected": {}, "actual": {}}}}}}}}}
    })
}

/// A value a `where` compares: text, a number, a flag or a list of texts.
fn where_value() -> Value {
    json!({"type": ["string", "integer", "boolean", "array", "null"], "items": {"type": "string"}, "maxItems": 4})
}

/// The fields of a journal entry.
fn request_properties() -> Value {
    json!({"time": {"type": "string", "format": "date-time"}, "method": {"type": "string"}, "path": {"type": "string"},
        "operation": nullable("string"), "user": nullable("string"), "project_id": nullable("string"), "instance_id": nullable("string"),
        "status": {"type": "integer"}, "error_code": nullable("string"), "request_id": hex32(),
        "summary": schema("Summary"), "refusal": schema("Refusal"), "hint": {"type": "string"}, "wire_fault": {"type": "string"}})
}

fn text(min: u64, max: u64) -> Value {
    json!({"type": "string", "minLength": min, "maxLength": max})
}

fn hex32() -> Value {
    json!({"type": "string", "pattern": "^[0-9a-f]{32}$"})
}

fn all_schemas() -> Value {
    let mut all = schemas();
    if let Some(all) = all.as_object_mut() {
        for more in [
            state_schemas(),
            crate::api::catalog::schemas(),
            diagnostics_schemas(),
        ] {
            if let Value::Object(more) = more {
                all.extend(more);
            }
        }
    }
    all
}

fn schemas() -> Value {
    let reason = json!({"type": "object", "additionalProperties": false,
        "required": ["resource_type", "resource_name", "error_code", "error_msg"],
        "properties": {"resource_type": {"enum": ["application", "task"]}, "resource_name": text(1, 64), "error_code": text(1, 64), "error_msg": text(1, 64)}});
    let job_properties = json!({
        "id": hex32(),
        "type": {"enum": ["exportAsset", "importAsset", "deleteAsset"]},
        "status": {"enum": ["Running", "Success", "Failed", "Finished", "RUNNING", "SUCCEEDED", "FAILED"]},
        "progress_percent": {"type": "number", "minimum": 0, "maximum": 1},
        "begin_time": {"type": "string", "format": "date-time"},
        "end_time": {"type": "string", "format": "date-time"},
        "archive_id": hex32(),
        "reasons": {"type": "array", "minItems": 1, "maxItems": 10, "items": schema("AssetJobReason")}
    });
    let mut control_job_properties = job_properties.clone();
    for key in ["user", "project_id", "instance_id"] {
        control_job_properties[key] = json!({"type": "string"});
    }
    let id_name = json!({"type": "object", "additionalProperties": false, "required": ["id", "name"],
        "properties": {"id": {"type": "string"}, "name": {"type": "string"}}});
    let id = || json!({"type": "string", "minLength": 1, "maxLength": 128, "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]*$"});
    let item = |alt: &str| {
        json!({"type": "object", "minProperties": 1, "maxProperties": 1,
            "properties": {"id": id(), alt: id()}})
    };
    json!({
        "ErrorBody": {"type": "object", "additionalProperties": false,
            "description": "ROMA codes carry four fields; gateway codes (APIG.*) no error_details (D13). Only ROMA.10013's official error_msg is longer than 128.",
            "required": ["error_code", "error_msg", "request_id"],
            "properties": {"error_code": text(1, 128), "error_msg": text(1, 256), "error_details": text(1, 128), "request_id": text(1, 128)}},
        "JobCreated": {"type": "object", "additionalProperties": false, "required": ["job_id"], "properties": {"job_id": hex32()}},
        "AssetSelection": {"type": "object", "required": ["apps"],
            "description": "Every dialect of decision D3; at most 100 apps and tasks together.",
            "properties": {
                "apps": {"oneOf": [{"type": "string", "maxLength": 128, "pattern": "^[\\p{L}\\p{N} ()._-]*$", "description": "One application name (seed dialect)."},
                                   {"type": "array", "maxItems": 100, "items": {"oneOf": [id(), item("app_id")]}}]},
                "tasks": {"type": "array", "maxItems": 100, "items": item("task_id")}}},
        "AssetJobReason": reason,
        "AssetJobStatus": {"type": "object", "additionalProperties": false,
            "required": ["id", "type", "status", "progress_percent", "begin_time"], "properties": job_properties},
        "ControlJob": {"type": "object", "additionalProperties": false,
            "required": ["id", "type", "status", "progress_percent", "begin_time", "user", "project_id", "instance_id"],
            "properties": control_job_properties},
        "ControlJobs": {"type": "object", "additionalProperties": false, "required": ["jobs", "total", "next_cursor"],
            "properties": {"jobs": {"type": "array", "items": schema("ControlJob")}, "total": {"type": "integer", "minimum": 0},
                "next_cursor": nullable("string")}},
        "TokenRequest": {"type": "object", "required": ["auth"], "description": "IAM's password method.",
            "properties": {"auth": {"type": "object", "required": ["identity"], "properties": {
                "identity": {"type": "object", "required": ["methods", "password"], "properties": {
                    "methods": {"type": "array", "maxItems": 8, "contains": {"const": "password"}},
                    "password": {"type": "object", "required": ["user"], "properties": {"user": {
                        "type": "object", "required": ["name", "password", "domain"], "properties": {
                            "name": {"type": "string", "minLength": 1}, "password": {"type": "string", "minLength": 1},
                            "domain": {"type": "object", "properties": {"id": {"type": "string"}, "name": {"type": "string"}}}}}}}}},
                "scope": {"type": "object", "properties": {
                    "project": {"type": "object", "anyOf": [{"required": ["id"]}, {"required": ["name"]}],
                        "properties": {"id": {"type": "string"}, "name": {"type": "string"}}},
                    "domain": {"type": "object", "properties": {"id": {"type": "string"}, "name": {"type": "string"}}}}}}}}},
        "TokenResponse": {"type": "object", "additionalProperties": false, "required": ["token"], "properties": {"token": {
            "type": "object", "additionalProperties": false,
            "required": ["methods", "expires_at", "issued_at", "user", "roles"],
            "properties": {
                "methods": {"type": "array", "items": {"const": "password"}},
                "expires_at": {"type": "string", "format": "date-time"},
                "issued_at": {"type": "string", "format": "date-time"},
                "user": {"type": "object", "additionalProperties": false, "required": ["domain", "id", "name"],
                    "properties": {"domain": id_name, "id": {"type": "string"}, "name": {"type": "string"}, "password_expires_at": {"type": ["string", "null"]}}},
                "project": {"type": "object", "additionalProperties": false, "required": ["domain", "id", "name"],
                    "properties": {"domain": id_name, "id": {"type": "string"}, "name": {"type": "string"}}},
                "domain": id_name,
                "catalog": {"type": "array"},
                "roles": {"type": "array", "items": id_name}}}}},
        "Health": {"type": "object", "additionalProperties": false, "required": ["status"], "properties": {"status": {"enum": ["ok", "ready"]}}},
        "Reset": {"type": "object", "additionalProperties": false, "required": ["reset"], "properties": {"reset": {
            "oneOf": [{"const": "all"}, {"type": "object", "properties": {"project_id": nullable("string"), "instance_id": nullable("string")}}]}}},
        "FailBody": {"type": "object", "additionalProperties": false, "properties": {"reasons": {"type": "array", "maxItems": 10, "items": schema("ReasonSpec")}}},
        "ReasonSpec": {"type": "object", "additionalProperties": false, "properties": {
            "resource_type": {"enum": ["application", "task"]}, "resource_name": {"type": "string"}, "error_code": {"type": "string"}, "error_msg": {"type": "string"}}},
        "Clock": {"type": "object", "additionalProperties": false, "required": ["now", "mode"],
            "properties": {"now": {"type": "string", "format": "date-time"}, "mode": {"enum": ["real", "virtual"]}}},
        "ClockMove": {"type": "object", "additionalProperties": false, "description": "Exactly one of the two.",
            "oneOf": [{"required": ["advance_ms"], "not": {"required": ["set"]}}, {"required": ["set"], "not": {"required": ["advance_ms"]}}],
            "properties": {"advance_ms": {"type": "integer", "minimum": 0}, "set": {"type": "string", "format": "date-time", "pattern": "^(19[7-9][0-9]|[2-9][0-9]{3})-", "description": "1970 to 9999."}}},
        "Requests": {"type": "object", "additionalProperties": false, "required": ["requests", "total", "next_offset"], "properties": {
            "total": {"type": "integer", "minimum": 0}, "next_offset": {"type": ["integer", "null"], "minimum": 0},
            "requests": {"type": "array", "items": {
            "type": "object", "additionalProperties": false,
            "required": ["time", "method", "path", "operation", "user", "project_id", "instance_id", "status", "error_code", "request_id"],
            "properties": request_properties()}}}},
        "FaultSpec": fault_spec(false),
        "Fault": fault_spec(true),
        "Faults": {"type": "object", "additionalProperties": false, "required": ["faults"], "properties": {"faults": {"type": "array", "items": schema("Fault")}}},
        "Errors": {"type": "object", "additionalProperties": false, "required": ["errors"], "properties": {"errors": {"type": "array", "items": {
            "type": "object", "additionalProperties": false,
            "required": ["error_code", "status_documented", "status_catalog", "error_msg", "meaning"],
            "properties": {"error_code": {"type": "string"}, "status_documented": {"type": "integer"}, "status_catalog": {"type": "integer"},
                "error_msg": {"type": "string"}, "meaning": {"type": "string"}}}}}},
        "Lockouts": {"type": "object", "additionalProperties": false, "required": ["lockouts"], "properties": {"lockouts": {"type": "array", "items": {
            "type": "object", "additionalProperties": false, "required": ["access_key", "locked_until"],
            "properties": {"access_key": {"type": "string"}, "locked_until": {"type": "string", "format": "date-time"}}}}}}
    })
}

/// The schemas of the state snapshot endpoints (apart: one `json!` has a recursion limit).
fn state_schemas() -> Value {
    json!({
        "Snapshot": {"type": "object", "required": ["format", "version", "registry"],
            "description": "The state snapshot format (versioned; see the README).",
            "properties": {"format": {"const": "roma-emulator-state"}, "version": {"type": "integer", "minimum": 1},
                "clock": {"type": "integer"}, "ids": {"type": "array", "items": {"type": "integer"}},
                "registry": {"type": "object", "required": ["last_seq", "jobs", "work", "archives", "catalog"]},
                "journal": {"type": "array"}, "faults": {"type": "array"},
                "bundle": {"type": "object", "description": "A repro bundle's project_id, instance_id, taken_at, seed and config (no secret)."}}},
        "IamError": {"type": "object", "additionalProperties": false, "required": ["error_code", "error_msg"],
            "properties": {"error_code": {"enum": ["IAM.0007", "IAM.0011"]}, "error_msg": {"type": "string"}}},
        "KeystoneError": {"type": "object", "additionalProperties": false, "required": ["error"],
            "properties": {"error": {"type": "object", "additionalProperties": false, "required": ["code", "message", "title"],
                "properties": {"code": {"enum": [401, 404]}, "message": {"type": "string"}, "title": {"enum": ["Unauthorized", "Not Found"]}}}}},
        "UserSpec": {"type": "object", "additionalProperties": false, "required": ["name"],
            "properties": {"name": text(1, 64), "access_key": text(1, 128), "secret_key": text(1, 128),
                "token": text(1, 100_000), "password": {"type": "string", "minLength": 1}, "domain": {"type": "string"},
                "projects": {"type": "array", "items": {"type": "string"}, "maxItems": 1000}}},
        "User": {"type": "object", "additionalProperties": false, "required": ["name", "access_key", "projects", "origin"],
            "properties": {"name": {"type": "string"}, "access_key": {"type": ["string", "null"]},
                "projects": {"type": ["array", "null"], "items": {"type": "string"}}, "origin": {"enum": ["config", "runtime"]}}},
        "Users": {"type": "object", "additionalProperties": false, "required": ["users"],
            "properties": {"users": {"type": "array", "items": {"$ref": "#/components/schemas/User"}}}},
        "UserAdded": {"type": "object", "additionalProperties": false, "required": ["user"],
            "properties": {"user": {"$ref": "#/components/schemas/User"}}},
        "Restored": {"type": "object", "additionalProperties": false, "required": ["restored", "warnings"],
            "properties": {"restored": {"type": "object", "properties": {"jobs": {"type": "integer"}}},
                "warnings": {"type": "array", "description": "What was left out or cannot match (a runtime user the configuration declares, another token key).", "items": {"type": "string"}}}},
        "Saved": {"type": "object", "additionalProperties": false, "required": ["saved", "bytes"],
            "properties": {"saved": {"type": "string"}, "bytes": {"type": "integer"}}}
    })
}

fn fault_spec(stored: bool) -> Value {
    let mut properties = json!({
        "operation": {"enum": crate::operation::Operation::ALL},
        "times": {"type": "integer", "minimum": 1},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "error_code": text(1, 128),
        "user": {"type": "string"}, "project_id": {"type": "string"}, "instance_id": {"type": "string"},
        "probability": {"type": "number", "minimum": 0, "maximum": 1},
        "delay_ms": {"type": "integer", "minimum": 0, "maximum": 600_000},
        "fail_job": {"type": ["object", "null"], "additionalProperties": false, "required": ["at_progress"], "properties": {
            "at_progress": {"type": "number", "minimum": 0, "maximum": 1},
            "reasons": {"type": "array", "maxItems": 10, "items": schema("ReasonSpec")}}},
        "reset": {"type": "boolean"}, "empty_response": {"type": "boolean"},
        "stall_ms": {"type": "integer", "minimum": 0, "maximum": crate::faults::wire::MAX_STALL_MS},
        "cut_after_bytes": {"type": "integer", "minimum": 0}, "keep_archive": {"type": "boolean"},
        "where": {"type": "object", "maxProperties": 4, "propertyNames": {"enum": crate::faults::wire::request_fields().collect::<Vec<_>>()},
            "additionalProperties": where_value(),
            "description": "Summary fields of the request: the rule matches once the operation has read its request."}
    });
    let mut required = vec!["operation"];
    if stored {
        properties["id"] = hex32();
        properties["remaining"] = json!({"type": ["integer", "null"]});
        required.extend(["id", "remaining"]);
    }
    json!({"type": "object", "additionalProperties": false, "required": required, "properties": properties})
}
