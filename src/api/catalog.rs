//! What the catalog operations share on the wire: the SDK models' shapes of an application
//! (`ServerAppInfo`), a task (`BriefTaskRespBean`, `TaskBasicRsp`) and an instance
//! (`RomaInstanceCheckListRespInstances`), the paging parameters, and their OpenAPI pieces.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::schema::param;
use crate::auth::iam::stable_id;
use crate::clock::Timestamp;
use crate::error::ApiError;
use crate::jobs::catalog::Page;
use crate::jobs::{AppInfo, Asset};
use crate::scope::Scope;

/// The paging parameters of the list operations.
#[derive(Debug, Default, Deserialize)]
pub struct Paging {
    /// From which item (0 and up).
    pub offset: Option<String>,
    /// How many (1 and up; more than 999 returns 999).
    pub limit: Option<String>,
}

/// The default page size of the list operations (D26).
pub const DEFAULT_LIMIT: usize = 10;

impl Paging {
    /// `(offset, limit)`: a value that is not a whole number, a negative offset (unless `lenient`,
    /// which reads it as 0, as CheckRomaInstanceListV2 documents) or a limit under 1 is `ROMA.13000`.
    pub fn read(&self, lenient: bool) -> Result<(usize, usize), ApiError> {
        let number = |name: &str, v: &str| {
            v.trim()
                .parse::<i64>()
                .map_err(|_| ApiError::invalid(format!("{name}: {v:?} is not a whole number")))
        };
        let offset = match self.offset.as_deref() {
            None | Some("") => 0,
            Some(v) => match number("offset", v)? {
                n if n < 0 && lenient => 0,
                n if n < 0 => return Err(ApiError::invalid("offset: 0 or more")),
                n => usize::try_from(n).unwrap_or(usize::MAX),
            },
        };
        let limit = match self.limit.as_deref() {
            None | Some("") => DEFAULT_LIMIT,
            Some(v) => match number("limit", v)? {
                n if n < 1 => return Err(ApiError::invalid("limit: 1 or more")),
                n => usize::try_from(n).unwrap_or(usize::MAX),
            },
        };
        Ok((offset, limit.min(crate::jobs::catalog::apps::MAX_PAGE)))
    }
}

/// A boolean query parameter (`true` or `false`, any case).
pub fn flag(name: &str, v: Option<&str>) -> Result<Option<bool>, ApiError> {
    match v.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(v) => Err(ApiError::invalid(format!("{name}: {v:?} is not true or false"))),
    }
}

fn time(t: Timestamp) -> String {
    t.rfc3339_seconds()
}

fn user(name: Option<&str>) -> Value {
    name.map_or(
        Value::Null,
        |n| json!({"user_id": stable_id("user", n), "user_name": n}),
    )
}

/// An application as `ServerAppInfo` (what CreateRomaApp, CheckRomaAppDetails, UpdateRomaApp and
/// ListRomaApp answer). One without a record (configured, or from a package without one) shows
/// its id as its key and the Unix epoch as its times (D26).
pub fn app(app: &Asset, caller: &str) -> Value {
    let unrecorded;
    let info = match app.info.as_deref() {
        Some(info) => info,
        None => {
            unrecorded = AppInfo::unrecorded(&app.id);
            &unrecorded
        }
    };
    json!({
        "id": app.id,
        "name": app.name,
        "remark": info.remark,
        "roles": ["read", "access", "delete", "modify", "admin"],
        "create_time": time(info.create_time),
        "update_time": time(info.update_time),
        "created_user": user(info.created_user.as_deref()),
        "last_updated_user": user(info.last_updated_user.as_deref()),
        "owner": info.created_user.as_deref().is_none_or(|u| u == caller),
        "key": info.key,
        "favorite": info.favorite,
    })
}

/// A page of applications (ListRomaApp).
pub fn apps(page: &Page, caller: &str) -> Value {
    let apps: Vec<Value> = page.items.iter().map(|a| app(a, caller)).collect();
    json!({"total": page.total, "size": apps.len(), "apps": apps})
}

/// A task as `BriefTaskRespBean` (ListTasks).
pub fn brief_task(task: &Asset, scope: &Scope) -> Value {
    json!({
        "task_id": task.id,
        "task_name": task.name,
        "task_type": "realtime",
        "status": 0,
        "created_date": "1970-01-01",
        "last_modified_time": 0,
        "execute_status": "UNSTARTED",
        "source_instance_id": scope.instance.as_str(),
        "target_instance_id": scope.instance.as_str(),
    })
}

/// A page of tasks (ListTasks).
pub fn tasks(page: &Page, scope: &Scope) -> Value {
    let entities: Vec<Value> = page.items.iter().map(|t| brief_task(t, scope)).collect();
    json!({"total": page.total, "size": entities.len(), "entities": entities})
}

/// A task as ShowTask answers it: `task` (`TaskBasicRsp`) and `task_detail`, the task's content
/// as JSON text.
pub fn task(task: &Asset, scope: &Scope) -> Value {
    json!({
        "task": {
            "task_id": task.id,
            "task_name": task.name,
            "task_type": "realtime",
            "status": "0",
            "project_id": scope.project.as_str(),
            "created_date": 0,
            "last_modified_date": 0,
            "description": "",
        },
        "task_detail": task.content.get(),
    })
}

/// An instance of `project` as `RomaInstanceCheckListRespInstances` (CheckRomaInstanceListV2).
pub fn instance(id: &str, project: &str) -> Value {
    json!({
        "id": id,
        "name": id,
        "description": "",
        "status": "RUNNING",
        "project_id": project,
        "charge_type": "postPaid",
        "create_time": time(Timestamp(0)),
        "update_time": time(Timestamp(0)),
        "enterprise_project_id": "0",
    })
}

/// The OpenAPI parameters of the paging query.
pub fn paging_params() -> [Value; 2] {
    [
        param("offset", "query", false, "From which item (0 and up)."),
        param(
            "limit",
            "query",
            false,
            "How many items (1 and up; default 10; more than 999 returns 999).",
        ),
    ]
}

/// 201 and `body` (CreateRomaApp).
pub fn created(body: &Value) -> Result<axum::response::Response, ApiError> {
    let mut res = crate::api::pipeline::respond::json(body)?;
    *res.status_mut() = axum::http::StatusCode::CREATED;
    Ok(res)
}

/// 204 with no body (the deletes).
pub fn no_content() -> axum::response::Response {
    axum::response::IntoResponse::into_response(axum::http::StatusCode::NO_CONTENT)
}

/// The component schemas of the catalog operations (the SDK models' fields).
pub fn schemas() -> Value {
    let s = || json!({"type": "string"});
    let user = json!({"oneOf": [{"type": "null"}, {"type": "object", "properties": {"user_id": s(), "user_name": s()}}]});
    let app = json!({"type": "object", "required": ["id", "name", "key"],
        "properties": {"id": s(), "name": s(), "remark": s(), "roles": {"type": "array", "items": s()},
            "create_time": s(), "update_time": s(), "created_user": user, "last_updated_user": user,
            "owner": {"type": "boolean"}, "key": s(), "favorite": {"type": "boolean"}}});
    let page = |items: &str, schema: Value| {
        json!({"type": "object", "required": ["total", "size", items],
            "properties": {"total": {"type": "integer", "minimum": 0}, "size": {"type": "integer", "minimum": 0},
                items: {"type": "array", "items": schema}}})
    };
    let task = json!({"type": "object", "required": ["task_id", "task_name"], "properties": {"task_id": s(), "task_name": s()}});
    let instance = json!({"type": "object", "required": ["id", "status", "project_id"],
        "properties": {"id": s(), "name": s(), "status": {"enum": ["RUNNING"]}, "project_id": s()}});
    let project = json!({"type": "object", "required": ["id", "name", "domain_id", "enabled", "links"],
        "properties": {"id": s(), "name": s(), "domain_id": s(), "enabled": {"type": "boolean"}, "links": {"type": "object"}}});
    json!({
        "CreateAppReq": {"type": "object", "required": ["name"],
            "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 64}, "remark": {"type": "string", "maxLength": 200},
                "key": {"type": "string", "minLength": 8, "maxLength": 64}, "secret": {"type": "string", "minLength": 8, "maxLength": 64},
                "favorite": {"type": "boolean"}}},
        "UpdateAppReq": {"type": "object",
            "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 64}, "remark": {"type": "string", "maxLength": 200},
                "favorite": {"type": "boolean"}}},
        "ServerAppInfo": app.clone(),
        "ListRomaAppResponse": page("apps", app),
        "ValidateRomaAppResponse": {"type": "object", "required": ["id", "name"], "properties": {"id": s(), "name": s(), "remark": s()}},
        "CheckRomaInstanceListV2Response": page("instances", instance),
        "ListTasksResponse": page("entities", task),
        "ShowTaskResponse": {"type": "object", "required": ["task"], "properties": {"task": {"type": "object"}, "task_detail": s()}},
        "KeystoneProjects": {"type": "object", "required": ["links", "projects"],
            "properties": {"links": {"type": "object"}, "projects": {"type": "array", "items": project}}},
    })
}
