//! ExportAsset: `POST /v2/{project_id}/instances/{instance_id}/assets/export`.
//! <https://support.huaweicloud.com/intl/en-us/api-roma/ExportAsset.html>

use crate::api::dto::JobCreated;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::jobs::{AssetSelection, FailPlan, Scope};
use crate::state::AppState;

/// Starts an export job of the selected apps and tasks.
pub fn export_asset(
    app: &AppState,
    caller: &Caller,
    scope: Scope,
    plan: Option<FailPlan>,
    body: &[u8],
) -> Result<JobCreated, ApiError> {
    let selection = AssetSelection::from_json(body)?;
    let job_id = app.jobs.export(&caller.user, scope, selection, plan)?;
    Ok(JobCreated { job_id })
}
