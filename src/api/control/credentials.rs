//! The control plane's credentials: users added at run time (D19) and AK lockouts (D15).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::control;
use crate::api::extract::{ApiPath, RawBody, parse_json};
use crate::app::App;
use crate::error::ApiError;

/// `GET /_emulator/users`: every user, configured and added at run time, without secrets.
pub(super) async fn users(State(app): State<App>) -> Json<serde_json::Value> {
    Json(json!({ "users": control(&app).users() }))
}

/// `POST /_emulator/users`: adds a user at run time (D19); 201 with the user as listed.
pub(super) async fn add_user(State(app): State<App>, RawBody(body): RawBody) -> Result<Response, ApiError> {
    let user = control(&app).add_user(parse_json(&body)?)?;
    Ok((StatusCode::CREATED, Json(json!({ "user": user }))).into_response())
}

/// `DELETE /_emulator/users/{name}`: removes a user added at run time (204); 404 otherwise.
pub(super) async fn remove_user(
    State(app): State<App>,
    ApiPath(name): ApiPath,
) -> Result<StatusCode, ApiError> {
    control(&app).remove_user(&name)?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /_emulator/lockouts`: the access keys locked now (`[auth] ak_lockout`), with when each
/// lock ends.
pub(super) async fn lockouts(State(app): State<App>) -> Json<serde_json::Value> {
    let locked: Vec<serde_json::Value> = control(&app)
        .lockouts()
        .into_iter()
        .map(|(access_key, until)| json!({"access_key": access_key, "locked_until": until.rfc3339_millis()}))
        .collect();
    Json(json!({ "lockouts": locked }))
}

/// `DELETE /_emulator/lockouts/{access_key}`: lifts one key's lock (204), 404 when it is not locked.
pub(super) async fn lift_lockout(
    State(app): State<App>,
    ApiPath(access_key): ApiPath,
) -> Result<StatusCode, ApiError> {
    control(&app).lift_lockout(&access_key)?;
    Ok(StatusCode::NO_CONTENT)
}
