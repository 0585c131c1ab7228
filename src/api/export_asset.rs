//! ExportAsset: `POST /v2/{project_id}/instances/{instance_id}/assets/export`.
//! <https://support.huaweicloud.com/intl/en-us/api-roma/ExportAsset.html>

use axum::Json;
use axum::extract::State;

use crate::api::dto::JobCreated;
use crate::api::extract::{JsonBody, PlannedFailure};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::jobs::{AssetSelection, Scope};
use crate::state::AppState;

/// Starts an export job of the selected apps and tasks.
pub async fn export_asset(
    State(app): State<AppState>,
    caller: Caller,
    scope: Scope,
    PlannedFailure(plan): PlannedFailure,
    JsonBody(body): JsonBody,
) -> Result<Json<JobCreated>, ApiError> {
    let selection = AssetSelection::from_json(&body)?;
    let job_id = app.jobs.export(&caller.user, scope, selection, plan)?;
    Ok(Json(JobCreated { job_id }))
}
