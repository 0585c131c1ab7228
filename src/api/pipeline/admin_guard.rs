//! The admin guard of the control plane: with `[emulator] admin_token` set, its routes need
//! `Authorization: Bearer <admin_token>`. A route layer of the control routes only, so a wrong
//! method there is still answered 405.

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

/// Lets the request through when no admin token is set or it carries the right one.
pub async fn require_admin(State(app): State<AppState>, req: Request, next: Next) -> Response {
    if let Some(token) = &app.config.emulator.admin_token {
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| crate::auth::signature::strip_scheme(v.trim(), "Bearer"))
            .map(str::trim)
            .unwrap_or_default();
        if !crate::auth::same_secret(given.as_bytes(), token.expose()) {
            return ApiError::new(
                ErrorCode::AdminUnauthorized,
                "Authorization: Bearer <admin_token> is missing or wrong",
            )
            .into_response();
        }
    }
    next.run(req).await
}
