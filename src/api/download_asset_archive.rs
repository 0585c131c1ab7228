//! DownloadAssetArchive: `GET /v2/{project_id}/instances/{instance_id}/assets/archives/{archive_id}`.
//! <https://support.huaweicloud.com/intl/en-us/api-roma/DownloadAssetArchive.html>

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::api::dto::ArchivePath;
use crate::api::extract::ApiPath;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::scope::Scope;
use crate::scope::check_path_id;
use crate::state::AppState;

/// The asset package, exactly once; afterwards the archive is not found.
pub async fn download_asset_archive(
    State(app): State<AppState>,
    caller: Caller,
    ApiPath(path): ApiPath<ArchivePath>,
) -> Result<Response, ApiError> {
    let scope = Scope::new(&path.project_id, &path.instance_id).map_err(ApiError::invalid)?;
    check_path_id("archive_id", &path.archive_id).map_err(ApiError::invalid)?;
    let zip = app.jobs.take_archive(&caller.user, &scope, &path.archive_id)?;
    let disposition = format!("attachment; filename=\"roma-assets-{}.zip\"", path.archive_id);
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        zip,
    )
        .into_response())
}
