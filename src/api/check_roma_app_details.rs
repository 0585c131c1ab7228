//! CheckRomaAppDetails: `GET /v2/{project_id}/instances/{instance_id}/apps/{app_id}`.
//! <https://support.huaweicloud.com/intl/en-us/api-roma/CheckRomaAppDetails.html>

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
    operation: Operation::CheckRomaAppDetails,
    api: Api::Asset,
    template: "/v2/{project_id}/instances/{instance_id}/apps/{app_id}",
    method: Method::GET,
    body: BodyClass::None,
    call,
    openapi,
};

/// Reads the caller, the namespace and the app id: the application.
fn call<'a>(app: &'a App, call: Call<'a>, _: Request) -> OperationFuture<'a> {
    Box::pin(async move {
        let (caller, scope) = (call.caller()?, call.scope()?);
        let id = path_text(call.param("app_id")?, "app_id")?;
        let found = app.jobs.app(&scope, &id)?;
        crate::api::pipeline::respond::json(&catalog::app(&found, &caller.user))
    })
}

fn openapi() -> Value {
    json!({"operationId": Operation::CheckRomaAppDetails, "tags": ["APP_MANAGEMENT"],
        "parameters": asset_params(&["project_id", "instance_id", "app_id"]),
        "responses": ok("200", "The application.", Some("ServerAppInfo"))})
}
