//! DownloadAssetArchive: `GET /v2/{project_id}/instances/{instance_id}/assets/archives/{archive_id}`.
//! <https://support.huaweicloud.com/intl/en-us/api-roma/DownloadAssetArchive.html>

use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::jobs::ArchiveId;
use crate::scope::Scope;
use crate::state::AppState;

/// The asset package, exactly once; afterwards the archive is not found.
pub fn download_asset_archive(
    app: &AppState,
    caller: &Caller,
    scope: &Scope,
    archive_id: ArchiveId,
) -> Result<Response, ApiError> {
    let zip = app.jobs.take_archive(&caller.user, scope, archive_id)?;
    let disposition = format!("attachment; filename=\"roma-assets-{archive_id}.zip\"");
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        zip,
    )
        .into_response())
}
