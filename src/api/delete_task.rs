//! DeleteTask: `DELETE /v2/{project_id}/fdi/instances/{instance_id}/tasks/{task_id}`.
//! <https://support.huaweicloud.com/intl/en-us/api-roma/DeleteTask.html>

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
    operation: Operation::DeleteTask,
    api: Api::Asset,
    template: "/v2/{project_id}/fdi/instances/{instance_id}/tasks/{task_id}",
    method: Method::DELETE,
    body: BodyClass::None,
    call,
    openapi,
};

/// Reads the caller, the namespace and the task id: 204.
fn call<'a>(app: &'a App, call: Call<'a>, _: Request) -> OperationFuture<'a> {
    Box::pin(async move {
        let scope = (call.caller()?, call.scope()?).1;
        let id = path_text(call.param("task_id")?, "task_id")?;
        app.jobs.delete_task(&scope, &id)?;
        Ok(catalog::no_content())
    })
}

fn openapi() -> Value {
    json!({"operationId": Operation::DeleteTask, "tags": ["FDI_TASK_MANAGEMENT"],
        "parameters": asset_params(&["project_id", "instance_id", "task_id"]),
        "responses": ok("204", "Deleted.", None)})
}
