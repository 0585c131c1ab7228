//! CreateRomaApp: `POST /v2/{project_id}/instances/{instance_id}/apps`.
//! <https://support.huaweicloud.com/intl/en-us/api-roma/CreateRomaApp.html>

use axum::extract::Request;
use axum::http::Method;
use serde_json::{Value, json};

use crate::api::catalog;
use crate::api::extract::{json_body, parse_json};
use crate::api::route::{Api, BodyClass, Call, OperationFuture, OperationRoute};
use crate::api::schema::{asset_params, ok};
use crate::app::App;
use crate::operation::Operation;

/// Its route.
pub static ROUTE: OperationRoute = OperationRoute {
    operation: Operation::CreateRomaApp,
    api: Api::Asset,
    template: "/v2/{project_id}/instances/{instance_id}/apps",
    method: Method::POST,
    body: BodyClass::Json,
    call,
    openapi,
};

/// Reads the caller, the namespace and the `CreateAppReq` body: 201 and the application.
fn call<'a>(app: &'a App, call: Call<'a>, req: Request) -> OperationFuture<'a> {
    Box::pin(async move {
        let (caller, scope) = (call.caller()?, call.scope()?);
        let body = json_body(req).await?;
        let made = app.jobs.create_app(&caller.user, &scope, parse_json(&body)?)?;
        catalog::created(&catalog::app(&made, &caller.user))
    })
}

fn openapi() -> Value {
    json!({"operationId": Operation::CreateRomaApp, "tags": ["APP_MANAGEMENT"],
        "parameters": asset_params(&crate::api::schema::NAMESPACE),
        "requestBody": {"required": true, "content": crate::api::schema::json_content("CreateAppReq")},
        "responses": ok("201", "The application (D26).", Some("ServerAppInfo"))})
}
