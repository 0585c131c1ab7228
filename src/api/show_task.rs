//! ShowTask: `GET /v2/{project_id}/fdi/instances/{instance_id}/tasks/{task_id}`.
//! <https://support.huaweicloud.com/intl/en-us/api-roma/ShowTask.html>

use axum::extract::Request;
use axum::http::Method;
use serde_json::{Value, json};

use crate::api::catalog;
use crate::api::extract::path_text;
use crate::api::route::{Api, BodyClass, Call, OperationFuture, OperationRoute};
use crate::api::schema::{asset_params, ok};
use crate::app::App;
use crate::operation::Operation;

/// Its route.
pub static ROUTE: OperationRoute = OperationRoute {
    operation: Operation::ShowTask,
    api: Api::Asset,
    template: "/v2/{project_id}/fdi/instances/{instance_id}/tasks/{task_id}",
    method: Method::GET,
    body: BodyClass::None,
    call,
    openapi,
};

/// Reads the caller, the namespace and the task id: the task.
fn call<'a>(app: &'a App, call: Call<'a>, _: Request) -> OperationFuture<'a> {
    Box::pin(async move {
        let scope = (call.caller()?, call.scope()?).1;
        let id = path_text(call.param("task_id")?, "task_id")?;
        let found = app.jobs.task(&scope, &id)?;
        crate::api::pipeline::respond::json(&catalog::task(&found, &scope))
    })
}

fn openapi() -> Value {
    json!({"operationId": Operation::ShowTask, "tags": ["FDI_TASK_MANAGEMENT"],
        "parameters": asset_params(&["project_id", "instance_id", "task_id"]),
        "responses": ok("200", "The task.", Some("ShowTaskResponse"))})
}
