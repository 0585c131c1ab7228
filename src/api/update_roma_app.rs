//! UpdateRomaApp: `PUT /v2/{project_id}/instances/{instance_id}/apps/{app_id}`.
//! <https://support.huaweicloud.com/intl/en-us/api-roma/UpdateRomaApp.html>

use axum::extract::Request;
use axum::http::Method;
use serde_json::{Value, json};

use crate::api::catalog;
use crate::api::extract::{json_body, parse_json, path_text};
use crate::api::route::{Api, BodyClass, Call, OperationFuture, OperationRoute};
use crate::api::schema::{asset_params, ok};
use crate::app::App;
use crate::operation::Operation;

/// Its route.
pub static ROUTE: OperationRoute = OperationRoute {
    operation: Operation::UpdateRomaApp,
    api: Api::Asset,
    template: "/v2/{project_id}/instances/{instance_id}/apps/{app_id}",
    method: Method::PUT,
    body: BodyClass::Json,
    call,
    openapi,
};

/// Reads the caller, the namespace, the app id and the `UpdateAppReq` body: the application.
fn call<'a>(app: &'a App, call: Call<'a>, req: Request) -> OperationFuture<'a> {
    Box::pin(async move {
        let (caller, scope) = (call.caller()?, call.scope()?);
        let id = path_text(call.param("app_id")?, "app_id")?;
        let body = json_body(req).await?;
        let changed = app
            .jobs
            .update_app(&caller.user, &scope, &id, parse_json(&body)?)?;
        crate::api::pipeline::respond::json(&catalog::app(&changed, &caller.user))
    })
}

fn openapi() -> Value {
    json!({"operationId": Operation::UpdateRomaApp, "tags": ["APP_MANAGEMENT"],
        "parameters": asset_params(&["project_id", "instance_id", "app_id"]),
        "requestBody": {"required": true, "content": crate::api::schema::json_content("UpdateAppReq")},
        "responses": ok("200", "The application as changed.", Some("ServerAppInfo"))})
}
