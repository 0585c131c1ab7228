//! CheckAssetJobStatus: `GET /v2/{project_id}/instances/{instance_id}/assets/jobs/{job_id}`.
//! <https://support.huaweicloud.com/intl/en-us/api-roma/CheckAssetJobStatus.html>

use axum::Json;
use axum::extract::State;

use crate::api::dto::{AssetJobStatus, JobPath};
use crate::api::extract::ApiPath;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::scope::Scope;
use crate::scope::check_path_id;
use crate::state::AppState;

/// A job's progress, visible only to its user under its own project and instance.
pub async fn check_asset_job_status(
    State(app): State<AppState>,
    caller: Caller,
    ApiPath(path): ApiPath<JobPath>,
) -> Result<Json<AssetJobStatus>, ApiError> {
    let scope = Scope::new(&path.project_id, &path.instance_id).map_err(ApiError::invalid)?;
    check_path_id("job_id", &path.job_id).map_err(ApiError::invalid)?;
    let job = app.jobs.job(&caller.user, &scope, &path.job_id)?;
    Ok(Json(AssetJobStatus::new(&job, app.config.api.dialect)))
}
