//! DownloadAssetArchive: `GET /v2/{project_id}/instances/{instance_id}/assets/archives/{archive_id}`.
//! <https://support.huaweicloud.com/intl/en-us/api-roma/DownloadAssetArchive.html>

use axum::extract::Request;
use axum::http::{Method, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::api::extract::path_id;
use crate::api::route::{Api, BodyClass, Call, OperationFuture, OperationRoute};
use crate::api::schema::{asset_params, json_content};
use crate::api::sent_body::Chunks;
use crate::operation::Operation;

use crate::app::App;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::jobs::ArchiveId;
use crate::scope::Scope;

/// The asset package, exactly once; afterwards the archive is not found. `call` names the
/// request (the archive's consumer) and counts the body's bytes for the journal.
pub fn download_asset_archive(
    app: &App,
    call: &Call<'_>,
    caller: &Caller,
    scope: &Scope,
    archive_id: ArchiveId,
) -> Result<Response, ApiError> {
    let zip = app.jobs.take_archive(
        &caller.user,
        scope,
        archive_id,
        Some(call.request_id),
        call.keeps_archive(),
    )?;
    // Counted as it is sent (`pipeline::respond` meters it), for the journal.
    call.notes.transfer();
    let body = Chunks::new(zip.into());
    let disposition = format!("attachment; filename=\"roma-assets-{archive_id}.zip\"");
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        axum::body::Body::new(body),
    )
        .into_response())
}

/// Its route.
pub static ROUTE: OperationRoute = OperationRoute {
    operation: Operation::DownloadAssetArchive,
    api: Api::Asset,
    template: "/v2/{project_id}/instances/{instance_id}/assets/archives/{archive_id}",
    method: Method::GET,
    body: BodyClass::None,
    call,
    openapi,
};

/// Reads the caller, the namespace and the archive id, in the order the API checks them.
fn call<'a>(app: &'a App, call: Call<'a>, _: Request) -> OperationFuture<'a> {
    Box::pin(async move {
        let (caller, scope) = (call.caller()?, call.scope()?);
        let id = path_id(
            call.param("archive_id")?,
            "archive_id",
            crate::jobs::archive_not_found,
        )?;
        call.summarize(|s| s.archive_id = Some(id.to_string()));
        call.fault_point(app, Operation::DownloadAssetArchive).await?;
        download_asset_archive(app, &call, caller, &scope, id)
    })
}

fn openapi() -> Value {
    json!({"operationId": Operation::DownloadAssetArchive, "tags": ["ASSET_MANAGEMENT"],
        "parameters": asset_params(&["project_id", "instance_id", "archive_id"]),
        "responses": {
            "200": {"description": "The asset package, once.", "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}}},
            "default": {"description": "A refusal.", "content": json_content("ErrorBody")}}})
}
