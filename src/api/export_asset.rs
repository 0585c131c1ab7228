//! ExportAsset: `POST /v2/{project_id}/instances/{instance_id}/assets/export`.
//! <https://support.huaweicloud.com/intl/en-us/api-roma/ExportAsset.html>

use axum::extract::Request;
use axum::http::Method;
use serde_json::{Value, json};

use crate::api::dto::JobCreated;
use crate::api::extract::json_body;
use crate::api::pipeline::respond::json;
use crate::api::route::{Api, BodyClass, Call, OperationFuture, OperationRoute};
use crate::api::schema::{NAMESPACE, asset_params, job_created, selection_body};
use crate::api::summaries;
use crate::app::App;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::jobs::{AssetSelection, FailPlan, Scope};
use crate::operation::Operation;

/// Starts an export job of the selected apps and tasks.
pub async fn export_asset(
    app: &App,
    caller: &Caller,
    scope: Scope,
    plan: Option<FailPlan>,
    body: &[u8],
    call: &Call<'_>,
) -> Result<JobCreated, ApiError> {
    let (selection, dialect) = AssetSelection::read(body)?;
    summaries::selection(call, &selection, dialect);
    let plan = plan.or(call.fault_point(app, Operation::ExportAsset).await?);
    let job_id = app.jobs.export(&caller.user, scope, selection, plan)?;
    summaries::job_created(call, &job_id);
    Ok(JobCreated { job_id })
}

/// Its route.
pub static ROUTE: OperationRoute = OperationRoute {
    operation: Operation::ExportAsset,
    api: Api::Asset,
    template: "/v2/{project_id}/instances/{instance_id}/assets/export",
    method: Method::POST,
    body: BodyClass::Json,
    call,
    openapi,
};

/// Reads the caller, the namespace and the JSON body, in the order the API checks them.
fn call<'a>(app: &'a App, mut call: Call<'a>, req: Request) -> OperationFuture<'a> {
    Box::pin(async move {
        let plan = call.plan.take();
        let (caller, scope) = (call.caller()?, call.scope()?);
        let body = json_body(req).await?;
        json(&export_asset(app, caller, scope, plan, &body, &call).await?)
    })
}

fn openapi() -> Value {
    json!({"operationId": Operation::ExportAsset, "tags": ["ASSET_MANAGEMENT"],
        "parameters": asset_params(&NAMESPACE), "requestBody": selection_body(), "responses": job_created()})
}
