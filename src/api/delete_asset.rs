//! DeleteAsset: `POST /v2/{project_id}/instances/{instance_id}/assets/delete`.
//! <https://support.huaweicloud.com/intl/en-us/api-roma/DeleteAsset.html>

use crate::api::dto::JobCreated;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::jobs::{AssetSelection, FailPlan, Scope};
use crate::state::AppState;

/// Starts a job that removes the selected apps and tasks from the instance. Body as ExportAsset's.
pub fn delete_asset(
    app: &AppState,
    caller: &Caller,
    scope: Scope,
    plan: Option<FailPlan>,
    body: &[u8],
) -> Result<JobCreated, ApiError> {
    let selection = AssetSelection::from_json(body)?;
    let job_id = app.jobs.delete(&caller.user, scope, selection, plan)?;
    Ok(JobCreated { job_id })
}
