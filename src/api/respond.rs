//! The one place an [`ApiError`] becomes a response: its status under the request's policy, the
//! ROMA (or gateway, or IAM) JSON body, and `Content-Type: application/json`.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, StatusPolicy};

/// The complete response for `err`: status, JSON body, content type.
pub fn render(err: &ApiError, policy: StatusPolicy, request_id: &str) -> Response {
    let bytes = err.body_bytes(request_id);
    let mut res = (err.status(policy), bytes).into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    res
}

impl IntoResponse for ApiError {
    /// A placeholder carrying the error; the request pipeline replaces it by [`render`] with the
    /// request id and the status policy of the route.
    fn into_response(self) -> Response {
        let mut res = self.code.catalog_status().into_response();
        res.extensions_mut().insert(self);
        res
    }
}
