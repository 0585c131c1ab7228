//! DeleteAsset: `POST /v2/{project_id}/instances/{instance_id}/assets/delete`.
//! <https://support.huaweicloud.com/intl/en-us/api-roma/DeleteAsset.html>

use axum::Json;
use axum::extract::State;

use crate::api::dto::JobCreated;
use crate::api::extract::{JsonBody, PlannedFailure};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::jobs::{AssetSelection, Scope};
use crate::state::AppState;

/// Starts a job that removes the selected apps and tasks from the instance. Body as ExportAsset's.
pub async fn delete_asset(
    State(app): State<AppState>,
    caller: Caller,
    scope: Scope,
    PlannedFailure(plan): PlannedFailure,
    JsonBody(body): JsonBody,
) -> Result<Json<JobCreated>, ApiError> {
    let selection = AssetSelection::from_json(&body)?;
    let job_id = app.jobs.delete(&caller.user, scope, selection, plan)?;
    Ok(Json(JobCreated { job_id }))
}
