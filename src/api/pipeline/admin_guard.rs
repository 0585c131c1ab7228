//! The admin guard of the control plane: with `[emulator] admin_token` set, its routes need
//! `Authorization: Bearer <admin_token>`. Checked for the control routes only, once the route
//! table found the method, so a wrong method there is answered as anywhere else.

use axum::extract::Request;
use axum::http::header;

use crate::app::App;
use crate::error::{ApiError, ErrorCode};

/// Lets the request through when no admin token is set or it carries the right one.
pub fn check(app: &App, req: &Request) -> Result<(), ApiError> {
    let Some(token) = &app.config.emulator.admin_token else {
        return Ok(());
    };
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| crate::auth::signature::strip_scheme(v.trim(), "Bearer"))
        .map(str::trim)
        .unwrap_or_default();
    if crate::auth::same_secret(given.as_bytes(), token.expose()) {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::AdminUnauthorized,
            "Authorization: Bearer <admin_token> is missing or wrong",
        ))
    }
}
