//! IAM KeystoneListProjects: `GET /v3/projects` (name, domain_id, enabled, page, per_page).
//! <https://support.huaweicloud.com/intl/en-us/api-iam/iam_06_0001.html>

use axum::extract::Request;
use axum::http::Method;
use serde_json::{Value, json};

use crate::api::extract::query;
use crate::api::iam_projects::{ProjectQuery, listed};
use crate::api::route::{Api, BodyClass, Call, OperationFuture, OperationRoute};
use crate::app::App;
use crate::operation::Operation;

/// Its route.
pub static ROUTE: OperationRoute = OperationRoute {
    operation: Operation::KeystoneListProjects,
    api: Api::Iam,
    template: "/v3/projects",
    method: Method::GET,
    body: BodyClass::None,
    call,
    openapi,
};

/// Reads the caller and the query: the projects, filtered and paged, in Keystone's shape.
fn call<'a>(app: &'a App, call: Call<'a>, req: Request) -> OperationFuture<'a> {
    Box::pin(async move {
        let caller = call.caller()?;
        let q: ProjectQuery = query(req.uri())?;
        let all = app.auth.projects();
        listed(app, &req, caller, all, &q, "/v3/projects")
    })
}

fn openapi() -> Value {
    json!({"operationId": Operation::KeystoneListProjects, "tags": ["IAM"],
        "parameters": crate::api::iam_projects::query_params(),
        "responses": crate::api::iam_projects::responses("The projects.")})
}
