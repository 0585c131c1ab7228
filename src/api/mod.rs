//! The HTTP surface: the route table on one screen, the request pipeline, and one file per
//! operation.

pub mod check_asset_job_status;
pub mod control;
pub mod delete_asset;
pub mod download_asset_archive;
pub mod dto;
pub mod export_asset;
pub mod extract;
pub mod import_asset;
pub mod keystone_create_user_token_by_password;
pub mod openapi;
pub mod pipeline;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::Method;
use axum::routing::{get, post};
use tower::ServiceBuilder;

use crate::error::{ApiError, ErrorCode};
use crate::operation::Operation;
use crate::state::AppState;

const EXPORT: &str = "/v2/{project_id}/instances/{instance_id}/assets/export";
const IMPORT: &str = "/v2/{project_id}/instances/{instance_id}/assets/import";
const DELETE: &str = "/v2/{project_id}/instances/{instance_id}/assets/delete";
const JOB: &str = "/v2/{project_id}/instances/{instance_id}/assets/jobs/{job_id}";
const ARCHIVE: &str = "/v2/{project_id}/instances/{instance_id}/assets/archives/{archive_id}";
const TOKENS: &str = "/v3/auth/tokens";

/// Marks a request that arrived on a connection admitted into a probe slot (every regular
/// connection was busy): only `/_emulator/health` and `/_emulator/ready` are served to it.
#[derive(Debug, Clone, Copy)]
pub struct ProbeSlot;

/// The paths a probe slot serves.
pub const PROBES: [&str; 2] = ["/_emulator/health", "/_emulator/ready"];

/// Whether a request is a health or readiness probe (what a probe slot serves).
pub fn is_probe(method: &Method, path: &str) -> bool {
    *method == Method::GET && PROBES.contains(&path)
}

/// The refusal when `[server] max_large_bodies` large bodies are being read or written.
pub fn large_bodies_busy() -> ApiError {
    ApiError::new(
        ErrorCode::Unavailable,
        "server.max_large_bodies large bodies are being read or written; try again shortly",
    )
}

/// The largest JSON body any JSON operation needs: 100 ids of 128 characters with their keys
/// fit many times over. Bodies over it are `APIG.0201` (413) before they are read.
pub const MAX_JSON_BODY: usize = 64 * 1024;

/// The body limit of a route: ImportAsset (an asset package) and `PUT /_emulator/state` (a
/// snapshot) take `[server] max_body_bytes`, every other operation at most [`MAX_JSON_BODY`].
pub fn body_limit(app: &AppState, route: Option<&str>) -> usize {
    let max = app.config.server.max_body_bytes;
    match route {
        Some(IMPORT | control::STATE) => max,
        _ => MAX_JSON_BODY.min(max),
    }
}

/// Whether `route` takes a large body (`[server] max_body_bytes`, one of `max_large_bodies`).
pub fn takes_large_body(route: Option<&str>) -> bool {
    matches!(route, Some(IMPORT | control::STATE))
}

/// The cloud's operation id of a route (for the journal and faults).
pub fn operation(method: &Method, route: &str) -> Option<Operation> {
    match (method.as_str(), route) {
        ("POST", EXPORT) => Some(Operation::ExportAsset),
        ("POST", IMPORT) => Some(Operation::ImportAsset),
        ("POST", DELETE) => Some(Operation::DeleteAsset),
        ("GET", JOB) => Some(Operation::CheckAssetJobStatus),
        ("GET", ARCHIVE) => Some(Operation::DownloadAssetArchive),
        ("POST", TOKENS) => Some(Operation::KeystoneCreateUserTokenByPassword),
        _ => None,
    }
}

/// The whole emulator as a router (tests may drive it with `oneshot`).
pub fn router(app: AppState) -> Router {
    let assets = Router::new()
        .route(EXPORT, post(export_asset::export_asset))
        .route(IMPORT, post(import_asset::import_asset))
        .route(DELETE, post(delete_asset::delete_asset))
        .route(JOB, get(check_asset_job_status::check_asset_job_status))
        .route(ARCHIVE, get(download_asset_archive::download_asset_archive));
    let iam = Router::new().route(
        TOKENS,
        post(keystone_create_user_token_by_password::keystone_create_user_token_by_password),
    );
    Router::new()
        .merge(assets)
        .merge(iam)
        .merge(control::router(app.clone()))
        .route("/_emulator/health", get(control::health))
        .route("/_emulator/ready", get(control::ready))
        .route("/_emulator/metrics", get(control::metrics))
        .route("/openapi.json", get(openapi::openapi))
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // One stack, outermost first: each separate `Router::layer` call would box every route
        // once more, and each boxing level is a clone and an allocation a request. The pipeline
        // runs inside routing, so it sees the matched route.
        .layer(
            ServiceBuilder::new()
                .layer(pipeline::PipelineLayer(app.clone()))
                .layer(DefaultBodyLimit::max(app.config.server.max_body_bytes)),
        )
        .with_state(app)
}

async fn route_not_found() -> ApiError {
    ApiError::new(ErrorCode::RouteNotFound, "no API has this path")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(ErrorCode::MethodNotAllowed, "this path does not take this method")
}
