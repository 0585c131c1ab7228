//! The HTTP surface: the route table on one screen, the layers, and one file per operation.

pub mod check_asset_job_status;
pub mod control;
pub mod delete_asset;
pub mod download_asset_archive;
pub mod dto;
pub mod export_asset;
pub mod extract;
pub mod import_asset;
pub mod keystone_create_user_token_by_password;
pub mod middleware;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};
use tower_http::catch_panic::CatchPanicLayer;

use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

/// The whole emulator as a router (tests may drive it with `oneshot`).
pub fn router(app: AppState) -> Router {
    let asset = "/v2/{project_id}/instances/{instance_id}/assets";
    Router::new()
        .route(&format!("{asset}/export"), post(export_asset::export_asset))
        .route(&format!("{asset}/import"), post(import_asset::import_asset))
        .route(&format!("{asset}/delete"), post(delete_asset::delete_asset))
        .route(
            &format!("{asset}/jobs/{{job_id}}"),
            get(check_asset_job_status::check_asset_job_status),
        )
        .route(
            &format!("{asset}/archives/{{archive_id}}"),
            get(download_asset_archive::download_asset_archive),
        )
        .route_layer(from_fn_with_state(app.clone(), middleware::authenticate))
        .route(
            "/v3/auth/tokens",
            post(keystone_create_user_token_by_password::keystone_create_user_token_by_password),
        )
        .route("/_emulator/health", get(control::health))
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(app.config.server.max_body_bytes))
        .layer(CatchPanicLayer::custom(middleware::panic_to_error))
        .layer(from_fn_with_state(app.clone(), middleware::request_context))
        .with_state(app)
}

async fn route_not_found() -> ApiError {
    ApiError::new(ErrorCode::RouteNotFound, "no API has this path")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(ErrorCode::MethodNotAllowed, "this path does not take this method")
}
