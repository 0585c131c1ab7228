//! CheckAssetJobStatus: `GET /v2/{project_id}/instances/{instance_id}/assets/jobs/{job_id}`.
//! <https://support.huaweicloud.com/intl/en-us/api-roma/CheckAssetJobStatus.html>

use crate::api::dto::AssetJobStatus;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::jobs::JobId;
use crate::scope::Scope;
use crate::state::AppState;

/// A job's progress, visible only to its user under its own project and instance.
pub fn check_asset_job_status(
    app: &AppState,
    caller: &Caller,
    scope: &Scope,
    job_id: JobId,
) -> Result<AssetJobStatus, ApiError> {
    let job = app.jobs.job(&caller.user, scope, job_id)?;
    Ok(AssetJobStatus::new(&job, app.config.api.dialect))
}
