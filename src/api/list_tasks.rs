//! ListTasks: `GET /v2/{project_id}/fdi/instances/{instance_id}/tasks`.
//! <https://support.huaweicloud.com/intl/en-us/api-roma/ListTasks.html>

use axum::extract::Request;
use axum::http::Method;
use serde_json::{Value, json};

use crate::api::catalog;
use crate::api::catalog::Paging;
use crate::api::extract::query;
use crate::api::route::{Api, BodyClass, Call, OperationFuture, OperationRoute};
use crate::api::schema::{asset_params, ok};
use crate::app::App;
use crate::jobs::catalog::TaskFilter;
use crate::operation::Operation;

/// Its route.
pub static ROUTE: OperationRoute = OperationRoute {
    operation: Operation::ListTasks,
    api: Api::Asset,
    template: "/v2/{project_id}/fdi/instances/{instance_id}/tasks",
    method: Method::GET,
    body: BodyClass::None,
    call,
    openapi,
};

/// The filters of ListTasks read here (the others are read and ignored: a task of the emulator
/// has no status, type or data source, D26).
#[derive(Debug, Default, serde::Deserialize)]
struct Filters {
    #[serde(flatten)]
    paging: Paging,
    name: Option<String>,
    task_id: Option<String>,
}

/// Reads the caller, the namespace and the query: a page of tasks.
fn call<'a>(app: &'a App, call: Call<'a>, req: Request) -> OperationFuture<'a> {
    Box::pin(async move {
        let scope = (call.caller()?, call.scope()?).1;
        let q: Filters = query(req.uri())?;
        let (offset, limit) = q.paging.read(false)?;
        let filter = TaskFilter {
            name: q.name.filter(|n| !n.is_empty()),
            task_id: q.task_id.filter(|n| !n.is_empty()),
        };
        let page = app.jobs.tasks(&scope, &filter, offset, limit)?;
        crate::api::pipeline::respond::json(&catalog::tasks(&page, &scope))
    })
}

fn openapi() -> Value {
    let mut parameters = asset_params(&crate::api::schema::NAMESPACE);
    parameters.extend(catalog::paging_params());
    parameters.push(crate::api::schema::param(
        "name",
        "query",
        false,
        "Part of the name.",
    ));
    parameters.push(crate::api::schema::param(
        "task_id",
        "query",
        false,
        "The task id.",
    ));
    json!({"operationId": Operation::ListTasks, "tags": ["FDI_TASK_MANAGEMENT"], "parameters": parameters,
        "responses": ok("200", "A page of tasks.", Some("ListTasksResponse"))})
}
