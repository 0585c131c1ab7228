//! CheckRomaInstanceListV2: `GET /v2/{project_id}/instances`.
//! <https://support.huaweicloud.com/intl/en-us/api-roma/CheckRomaInstanceListV2.html>

use axum::extract::Request;
use axum::http::Method;
use serde_json::{Value, json};

use crate::api::catalog;
use crate::api::catalog::Paging;
use crate::api::extract::{path_text, query};
use crate::api::route::{Api, BodyClass, Call, OperationFuture, OperationRoute};
use crate::api::schema::{asset_params, ok};
use crate::app::App;
use crate::operation::Operation;

/// Its route.
pub static ROUTE: OperationRoute = OperationRoute {
    operation: Operation::CheckRomaInstanceListV2,
    api: Api::Asset,
    template: "/v2/{project_id}/instances",
    method: Method::GET,
    body: BodyClass::None,
    call,
    openapi,
};

#[derive(Debug, Default, serde::Deserialize)]
struct Filters {
    #[serde(flatten)]
    paging: Paging,
    status: Option<String>,
}

/// Reads the caller and the project: a page of the project's instances (every one `RUNNING`).
fn call<'a>(app: &'a App, call: Call<'a>, req: Request) -> OperationFuture<'a> {
    Box::pin(async move {
        let caller = call.caller()?;
        let project = path_text(call.param("project_id")?, "project_id")?;
        // D16, as the authentication step checks a namespaced path (this one has no instance).
        caller.check_project(&project)?;
        let q: Filters = query(req.uri())?;
        let (offset, limit) = q.paging.read(true)?;
        let wanted = q.status.as_deref().filter(|s| !s.is_empty());
        let ids = app.jobs.instances(&project);
        let ids: Vec<&String> = ids
            .iter()
            .filter(|_| wanted.is_none_or(|s| s.eq_ignore_ascii_case("RUNNING")))
            .collect();
        let page: Vec<Value> = ids
            .iter()
            .skip(offset)
            .take(limit)
            .map(|id| catalog::instance(id, &project))
            .collect();
        crate::api::pipeline::respond::json(
            &json!({"total": ids.len(), "size": page.len(), "instances": page}),
        )
    })
}

fn openapi() -> Value {
    let mut parameters = asset_params(&["project_id"]);
    parameters.extend(catalog::paging_params());
    parameters.push(crate::api::schema::param(
        "status",
        "query",
        false,
        "Only instances of this status (every one is RUNNING).",
    ));
    json!({"operationId": Operation::CheckRomaInstanceListV2, "tags": ["INSTANCE_MANAGEMENT"], "parameters": parameters,
        "responses": ok("200", "A page of the project's instances.", Some("CheckRomaInstanceListV2Response"))})
}
