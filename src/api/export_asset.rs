//! ExportAsset: `POST /v2/{project_id}/instances/{instance_id}/assets/export`.
//! <https://support.huaweicloud.com/intl/en-us/api-roma/ExportAsset.html>

use axum::Json;
use axum::extract::State;

use crate::api::dto::{InstancePath, JobCreated};
use crate::api::extract::{ApiPath, JsonBody, PlannedFailure};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::jobs::{AssetSelection, Scope};
use crate::state::AppState;

/// Starts an export job of the selected apps and tasks.
pub async fn export_asset(
    State(app): State<AppState>,
    caller: Caller,
    ApiPath(path): ApiPath<InstancePath>,
    PlannedFailure(plan): PlannedFailure,
    JsonBody(body): JsonBody,
) -> Result<Json<JobCreated>, ApiError> {
    let scope = Scope::new(&path.project_id, &path.instance_id).map_err(ApiError::invalid)?;
    let selection = AssetSelection::from_json(&body)?;
    let job_id = app.jobs.export(&caller.user, scope, selection, plan)?;
    Ok(Json(JobCreated { job_id }))
}
