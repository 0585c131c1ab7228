//! Layers every request passes through: the request context (request id, error rendering, timeout,
//! one log line) and authentication of the asset API.

use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::auth::AuthError;
use crate::error::{ApiError, ErrorCode, StatusPolicy};
use crate::ids::Hex32;
use crate::state::AppState;

/// The id of the request being handled (D12); also the `request_id` of an error body.
#[derive(Debug, Clone, Copy)]
pub struct RequestId(pub Hex32);

/// Gives the request its id, bounds its time, renders any [`ApiError`] into the ROMA body with the
/// configured status policy, sets `X-Request-Id`, and logs one line (never a credential).
pub async fn request_context(State(app): State<AppState>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id = app.ids.requests.next_id();
    req.extensions_mut().insert(RequestId(request_id));
    let method = req.method().clone();
    let route = req.extensions().get::<MatchedPath>().cloned();
    let policy = if req.uri().path().starts_with("/_emulator") {
        StatusPolicy::Control
    } else {
        StatusPolicy::Api(app.config.api.error_statuses)
    };
    let timeout = Duration::from_millis(app.config.server.request_timeout_ms);
    let mut res = match tokio::time::timeout(timeout, next.run(req)).await {
        Ok(res) => res,
        Err(_) => ApiError::new(
            ErrorCode::Timeout,
            "the request took longer than server.request_timeout_ms",
        )
        .into_response(),
    };
    let mut error_code = "";
    if let Some(err) = res.extensions_mut().remove::<ApiError>() {
        if err.code == ErrorCode::Internal {
            tracing::error!(request_id = %request_id, error = %err.details, "internal error");
        }
        error_code = err.code.code();
        let sent = ApiError {
            details: internal_hidden(&err),
            ..err
        };
        res = sent.render(policy, request_id.as_str());
    }
    if let Ok(v) = HeaderValue::from_str(request_id.as_str()) {
        res.headers_mut().insert("x-request-id", v);
    }
    tracing::info!(
        method = %method,
        route = route.as_ref().map_or("(no route)", MatchedPath::as_str),
        status = res.status().as_u16(),
        error_code,
        latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        request_id = %request_id,
        "request"
    );
    res
}

/// Internal details go to the log only.
fn internal_hidden(err: &ApiError) -> std::borrow::Cow<'static, str> {
    if err.code == ErrorCode::Internal {
        "see the emulator's log for this request_id".into()
    } else {
        err.details.clone()
    }
}

/// Authenticates a request of the asset API and puts the [`crate::auth::Caller`] into its extensions.
pub async fn authenticate(State(app): State<AppState>, mut req: Request, next: Next) -> Response {
    let token = req.headers().get("x-auth-token").map(HeaderValue::as_bytes);
    match app.auth.token(token) {
        Ok(caller) => {
            req.extensions_mut().insert(caller);
            next.run(req).await
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        let code = match e {
            AuthError::Missing => ErrorCode::MissingToken,
            AuthError::TooLong => ErrorCode::InvalidParameter,
            AuthError::Bad(_) => ErrorCode::BadToken,
        };
        ApiError::new(code, e.to_string())
    }
}

/// A panic inside a handler becomes an `Internal` error instead of a dropped connection.
pub fn panic_to_error(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_owned());
    ApiError::new(ErrorCode::Internal, format!("handler panicked: {what}")).into_response()
}
