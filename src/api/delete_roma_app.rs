//! DeleteRomaApp: `DELETE /v2/{project_id}/instances/{instance_id}/apps/{app_id}`.
//! <https://support.huaweicloud.com/intl/en-us/api-roma/DeleteRomaApp.html>

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
    operation: Operation::DeleteRomaApp,
    api: Api::Asset,
    template: "/v2/{project_id}/instances/{instance_id}/apps/{app_id}",
    method: Method::DELETE,
    body: BodyClass::None,
    call,
    openapi,
};

/// Reads the caller, the namespace and the app id: 204.
fn call<'a>(app: &'a App, call: Call<'a>, _: Request) -> OperationFuture<'a> {
    Box::pin(async move {
        let scope = (call.caller()?, call.scope()?).1;
        let id = path_text(call.param("app_id")?, "app_id")?;
        app.jobs.delete_app(&scope, &id)?;
        Ok(catalog::no_content())
    })
}

fn openapi() -> Value {
    json!({"operationId": Operation::DeleteRomaApp, "tags": ["APP_MANAGEMENT"],
        "parameters": asset_params(&["project_id", "instance_id", "app_id"]),
        "responses": ok("204", "Deleted.", None)})
}
