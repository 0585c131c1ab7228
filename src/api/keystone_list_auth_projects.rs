//! IAM KeystoneListAuthProjects: `GET /v3/auth/projects`, the projects the caller may use.
//! <https://support.huaweicloud.com/intl/en-us/api-iam/iam_06_0005.html>

use axum::extract::Request;
use axum::http::Method;
use serde_json::{Value, json};

use crate::api::iam_projects::{ProjectQuery, listed};
use crate::api::route::{Api, BodyClass, Call, OperationFuture, OperationRoute};
use crate::app::App;
use crate::operation::Operation;

/// Its route.
pub static ROUTE: OperationRoute = OperationRoute {
    operation: Operation::KeystoneListAuthProjects,
    api: Api::Iam,
    template: "/v3/auth/projects",
    method: Method::GET,
    body: BodyClass::None,
    call,
    openapi,
};

/// Reads the caller: the projects it may use, in Keystone's shape.
fn call<'a>(app: &'a App, call: Call<'a>, req: Request) -> OperationFuture<'a> {
    Box::pin(async move {
        let caller = call.caller()?;
        let mine = app.auth.usable_projects(caller);
        listed(
            app,
            &req,
            caller,
            mine,
            &ProjectQuery::default(),
            "/v3/auth/projects",
        )
    })
}

fn openapi() -> Value {
    json!({"operationId": Operation::KeystoneListAuthProjects, "tags": ["IAM"],
        "parameters": crate::api::schema::asset_auth(),
        "responses": crate::api::iam_projects::responses("The projects the caller may use.")})
}
