//! ValidateRomaApp: `GET /v2/{project_id}/instances/{instance_id}/validate-apps`.
//! <https://support.huaweicloud.com/intl/en-us/api-roma/ValidateRomaApp.html>

use axum::extract::Request;
use axum::http::Method;
use serde_json::{Value, json};

use crate::api::extract::query;
use crate::api::route::{Api, BodyClass, Call, OperationFuture, OperationRoute};
use crate::api::schema::{asset_params, ok};
use crate::app::App;
use crate::operation::Operation;

/// Its route.
pub static ROUTE: OperationRoute = OperationRoute {
    operation: Operation::ValidateRomaApp,
    api: Api::Asset,
    template: "/v2/{project_id}/instances/{instance_id}/validate-apps",
    method: Method::GET,
    body: BodyClass::None,
    call,
    openapi,
};

#[derive(Debug, Default, serde::Deserialize)]
struct Lookup {
    name: Option<String>,
    id: Option<String>,
    key: Option<String>,
}

/// Reads the caller, the namespace and the query: `{id, name, remark}` of the application with
/// that name, id and key (each when given; at least one), else not found.
fn call<'a>(app: &'a App, call: Call<'a>, req: Request) -> OperationFuture<'a> {
    Box::pin(async move {
        let scope = (call.caller()?, call.scope()?).1;
        let q: Lookup = query(req.uri())?;
        fn given(v: &Option<String>) -> Option<&str> {
            v.as_deref().filter(|s| !s.is_empty())
        }
        let (name, id, key) = (given(&q.name), given(&q.id), given(&q.key));
        if name.is_none() && id.is_none() && key.is_none() {
            return Err(crate::error::ApiError::invalid(
                "name, id or key: one is required",
            ));
        }
        let found = app.jobs.find_app(&scope, name, id, key)?;
        let remark = found.info.as_ref().map_or("", |i| i.remark.as_str());
        crate::api::pipeline::respond::json(&json!({"id": found.id, "name": found.name, "remark": remark}))
    })
}

fn openapi() -> Value {
    let mut parameters = asset_params(&crate::api::schema::NAMESPACE);
    for name in ["name", "id", "key"] {
        parameters.push(crate::api::schema::param(
            name,
            "query",
            false,
            "Matched exactly; at least one of name, id and key.",
        ));
    }
    json!({"operationId": Operation::ValidateRomaApp, "tags": ["APP_MANAGEMENT"], "parameters": parameters,
        "responses": ok("200", "The application found.", Some("ValidateRomaAppResponse"))})
}
