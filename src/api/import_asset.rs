//! ImportAsset: `POST /v2/{project_id}/instances/{instance_id}/assets/import` (multipart).
//! <https://support.huaweicloud.com/intl/en-us/api-roma/ImportAsset.html>

use crate::api::dto::{ImportQuery, JobCreated};
use crate::api::extract::Upload;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::jobs::{FailPlan, ImportOptions, Scope};
use crate::state::AppState;

/// Checks the uploaded package and starts a job that adds its assets to the instance.
pub fn import_asset(
    app: &AppState,
    caller: &Caller,
    scope: Scope,
    query: ImportQuery,
    plan: Option<FailPlan>,
    upload: Upload,
) -> Result<JobCreated, ApiError> {
    let options = ImportOptions::parse(
        query.kind.as_deref(),
        query.mode.as_deref(),
        query.prefix.as_deref(),
        query.datasource_overwrite.as_deref(),
    )
    .map_err(ApiError::invalid)?;
    let job_id = app.jobs.import(
        &caller.user,
        scope,
        &upload.file_name,
        &upload.bytes,
        options,
        plan,
    )?;
    Ok(JobCreated { job_id })
}
