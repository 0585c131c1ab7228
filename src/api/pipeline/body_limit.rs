//! Step 2, body limit: what is refused before a byte of the body is read (so no `100 Continue`
//! is sent for it), and the bound on the body of everything else.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{Method, header};

use crate::api::route::Api;

use super::context::Exchange;
use crate::app::App;
use crate::error::{ApiError, ErrorCode};

/// The gateway's limits on a request head: a URI of at most 32 KB, each header at most 32 KB and
/// all of them at most 128 KB. hyper's own limits are set above these (see `transport`), so
/// these answers are the gateway's.
pub const MAX_URI: usize = 32 * 1024;
/// See [`MAX_URI`].
pub const MAX_HEADER: usize = 32 * 1024;
/// See [`MAX_URI`].
pub const MAX_HEADERS_TOTAL: usize = 128 * 1024;

/// Refuses any request but a probe on a probe slot, a head over the gateway's limits, and a
/// declared `Content-Length` over the route's limit. Otherwise bounds the body by that limit,
/// however it is sent (chunked too).
pub fn check(app: &App, req: &mut Request, exchange: &Exchange<'_>) -> Result<(), ApiError> {
    if req.extensions().get::<crate::api::ProbeSlot>().is_some() && !is_probe(exchange) {
        return Err(ApiError::new(
            ErrorCode::Unavailable,
            "every connection is busy (server.max_connections); this one is kept for health probes",
        ));
    }
    over_gateway_limits(req)?;
    let limit = exchange.body().limit(app);
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if let Some(len) = declared.filter(|len| *len > limit as u64) {
        return Err(ApiError::new(
            ErrorCode::RequestTooLarge,
            format!("the body is {len} bytes; this operation accepts at most {limit}"),
        ));
    }
    // A declared length within the limit is enforced by hyper (the body ends there); only a body
    // without one (chunked) needs counting while it is read. A large body's permit is taken
    // later, once its caller is known (`large_body`).
    if declared.is_none() {
        let body = std::mem::take(req.body_mut());
        *req.body_mut() = Body::new(http_body_util::Limited::new(body, limit));
    }
    Ok(())
}

/// Whether the exchange is a probe (what a probe slot serves): a `GET` of health or readiness.
pub fn is_probe(exchange: &Exchange<'_>) -> bool {
    exchange.api == Api::Probe && exchange.method == Method::GET
}

fn over_gateway_limits(req: &Request) -> Result<(), ApiError> {
    let uri = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if uri > MAX_URI {
        return Err(ApiError::new(
            ErrorCode::UriTooLarge,
            format!("the request URI is {uri} bytes; the gateway takes at most {MAX_URI}"),
        ));
    }
    let mut total = 0;
    for (name, value) in req.headers() {
        let size = name.as_str().len() + value.len();
        total += size;
        if size > MAX_HEADER || total > MAX_HEADERS_TOTAL {
            return Err(ApiError::new(
                ErrorCode::HeadersTooLarge,
                format!(
                    "a header of {size} bytes, or {total} bytes of headers so far; the gateway takes {MAX_HEADER} a header, {MAX_HEADERS_TOTAL} in all"
                ),
            ));
        }
    }
    Ok(())
}
