//! CheckAssetJobStatus: `GET /v2/{project_id}/instances/{instance_id}/assets/jobs/{job_id}`.
//! <https://support.huaweicloud.com/intl/en-us/api-roma/CheckAssetJobStatus.html>

use axum::extract::Request;
use axum::http::Method;
use serde_json::{Value, json};

use crate::api::dto::AssetJobStatus;
use crate::api::extract::path_id;
use crate::api::pipeline::respond::json;
use crate::api::route::{Api, BodyClass, Call, OperationFuture, OperationRoute};
use crate::api::schema::{asset_params, ok};
use crate::app::App;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::jobs::JobId;
use crate::operation::Operation;
use crate::scope::Scope;

/// A job's progress, visible only to its user under its own project and instance.
pub fn check_asset_job_status(
    app: &App,
    caller: &Caller,
    scope: &Scope,
    job_id: JobId,
) -> Result<AssetJobStatus, ApiError> {
    let job = app.jobs.job(&caller.user, scope, job_id)?;
    Ok(AssetJobStatus::new(&job, app.config.api.dialect))
}

/// Its route.
pub static ROUTE: OperationRoute = OperationRoute {
    operation: Operation::CheckAssetJobStatus,
    api: Api::Asset,
    template: "/v2/{project_id}/instances/{instance_id}/assets/jobs/{job_id}",
    method: Method::GET,
    body: BodyClass::None,
    call,
    openapi,
};

/// Reads the caller, the namespace and the job id, in the order the API checks them.
fn call<'a>(app: &'a App, call: Call<'a>, _: Request) -> OperationFuture<'a> {
    Box::pin(async move {
        let (caller, scope) = (call.caller()?, call.scope()?);
        let id = path_id(call.param("job_id")?, "job_id", crate::jobs::job_not_found)?;
        call.summarize(|s| s.job_id = Some(id.to_string()));
        call.fault_point(app, Operation::CheckAssetJobStatus).await?;
        let status = check_asset_job_status(app, caller, &scope, id)?;
        call.summarize(|s| s.status = Some(status.status.to_string()));
        json(&status)
    })
}

fn openapi() -> Value {
    json!({"operationId": Operation::CheckAssetJobStatus, "tags": ["ASSET_MANAGEMENT"],
        "parameters": asset_params(&["project_id", "instance_id", "job_id"]),
        "responses": ok("200", "The job.", Some("AssetJobStatus"))})
}
