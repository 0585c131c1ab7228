//! Layers every request passes through: the request context (request id, error rendering, timeout,
//! one log line) and authentication of the asset API.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::auth::signature::{ALGORITHM, EMPTY_BODY_HASH, UNSIGNED_PAYLOAD, sha256_hex};
use crate::auth::{AuthError, Caller, SignedRequest};
use crate::error::{ApiError, ErrorCode, StatusPolicy};
use crate::faults::Request as FaultRequest;
use crate::ids::Hex32;
use crate::journal::Entry;
use crate::state::AppState;

/// The id of the request being handled (D12); also the `request_id` of an error body.
#[derive(Debug, Clone, Copy)]
pub struct RequestId(pub Hex32);

/// Gives the request its id, bounds its time, renders any [`ApiError`] into the ROMA body with the
/// status policy of its API, sets `X-Request-Id`, journals requests to the cloud API, and logs one
/// line (never a credential).
pub async fn request_context(State(app): State<AppState>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id = app.ids.requests.next_id();
    req.extensions_mut().insert(RequestId(request_id));
    let method = req.method().clone();
    let route = req.extensions().get::<MatchedPath>().cloned();
    let path = req.uri().path();
    let control = path.starts_with("/_emulator") || path == "/openapi.json";
    // D1 covers the asset operations; IAM and the control plane always answer catalog statuses.
    let policy = if path.starts_with("/v2/") {
        app.api_statuses
    } else {
        StatusPolicy::Catalog
    };
    let journaled = (app.journal.enabled() && !control).then(|| path.to_owned());
    let namespace = match journaled {
        Some(_) => namespace(&req),
        None => (None, None),
    };
    let timeout = Duration::from_millis(app.config.server.request_timeout_ms);
    let mut res = match refused_before_reading(&app, &mut req, route.as_ref()) {
        Some(err) => err.into_response(),
        None => match tokio::time::timeout(timeout, next.run(req)).await {
            Ok(res) => res,
            Err(_) => ApiError::new(
                ErrorCode::Timeout,
                "the request took longer than server.request_timeout_ms",
            )
            .into_response(),
        },
    };
    // Read before an error is rendered: rendering builds a new response without these extensions.
    let user = res.extensions().get::<Caller>().map(|c| c.user.clone());
    let mut error_code = None;
    let mut error_details = None;
    if let Some(err) = res.extensions_mut().remove::<ApiError>() {
        if err.code == ErrorCode::Internal {
            tracing::error!(request_id = %request_id, error = %err.details, "internal error");
        }
        // Keystone's answer to a wrong password carries no code.
        error_code = Some(err.wire_code().to_owned()).filter(|c| !c.is_empty());
        // A gateway body has no error_details (D13): what exactly was wrong goes to the log line.
        if err.code != ErrorCode::Internal {
            error_details = Some(err.details.to_string());
        }
        let sent = ApiError {
            details: internal_hidden(&err),
            ..err
        };
        res = super::respond::render(&sent, policy, request_id.as_str());
    }
    if let Ok(v) = HeaderValue::from_str(request_id.as_str()) {
        res.headers_mut().insert("x-request-id", v);
    }
    let route_str = route.as_ref().map_or("(no route)", MatchedPath::as_str);
    let operation = route.as_ref().and_then(|r| super::operation(&method, r.as_str()));
    if let Some(path) = journaled {
        app.journal.record(Entry {
            time: app.clock.now(),
            method: method_name(&method),
            path,
            operation,
            user,
            project_id: namespace.0,
            instance_id: namespace.1,
            status: res.status().as_u16(),
            error_code: error_code.clone(),
            request_id,
        });
    }
    // Bounded labels: an operation id, else the route template, else "unmatched".
    let label = match (operation, &route) {
        (Some(op), _) => op.id().into(),
        (None, Some(route)) => route.as_str().to_owned().into(),
        (None, None) => "unmatched".into(),
    };
    app.metrics
        .request(label, res.status().as_u16(), started.elapsed());
    tracing::info!(
        method = %method,
        route = route_str,
        operation = operation.map_or("", crate::operation::Operation::id),
        status = res.status().as_u16(),
        error_code = error_code.as_deref().unwrap_or_default(),
        error_details = error_details.as_deref().unwrap_or_default(),
        latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        request_id = %request_id,
        "request"
    );
    res
}

/// A method's name, borrowed when it is a standard one.
fn method_name(method: &Method) -> std::borrow::Cow<'static, str> {
    const STANDARD: [&str; 7] = ["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS"];
    match STANDARD.iter().find(|name| **name == method.as_str()) {
        Some(name) => (*name).into(),
        None => method.as_str().to_owned().into(),
    }
}

/// What is refused before a byte of the body is read (so no `100 Continue` is sent for it): any
/// request but a probe on a probe slot, a `HEAD` of the asset API (the gateway keys an API by
/// method and path, and a `HEAD` of an archive must not consume it), a declared `Content-Length`
/// over the operation's limit, and a large body when `[server] max_large_bodies` are being read.
/// Otherwise the body is bounded by that limit, however it is sent (chunked too).
fn refused_before_reading(
    app: &AppState,
    req: &mut Request,
    route: Option<&MatchedPath>,
) -> Option<ApiError> {
    if req.extensions().get::<super::ProbeSlot>().is_some()
        && !super::is_probe(req.method(), req.uri().path())
    {
        return Some(ApiError::new(
            ErrorCode::Unavailable,
            "every connection is busy (server.max_connections); this one is kept for health probes",
        ));
    }
    if let Some(err) = over_gateway_limits(req) {
        return Some(err);
    }
    // A HEAD of the asset API is a wrong method like any other (the gateway keys an API by method
    // and path), and must not consume an archive.
    if req.method() == Method::HEAD && req.uri().path().starts_with("/v2/") {
        return Some(ApiError::new(
            ErrorCode::MethodNotAllowed,
            "this path does not take this method",
        ));
    }
    let route = route.map(MatchedPath::as_str);
    let limit = super::body_limit(app, route);
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if let Some(len) = declared.filter(|len| *len > limit as u64) {
        return Some(ApiError::new(
            ErrorCode::RequestTooLarge,
            format!("the body is {len} bytes; this operation accepts at most {limit}"),
        ));
    }
    // A large body holds one of a few permits while it is read, so memory stays bounded by
    // max_large_bodies × max_body_bytes whatever the tenants send.
    let sends_body = matches!(*req.method(), Method::POST | Method::PUT) && declared != Some(0);
    let permit = if super::takes_large_body(route) && sends_body {
        match app.large_bodies.clone().try_acquire_owned() {
            Ok(permit) => Some(permit),
            Err(_) => return Some(super::large_bodies_busy()),
        }
    } else {
        None
    };
    // A declared length within the limit is enforced by hyper (the body ends there); only a body
    // without one (chunked) needs counting while it is read.
    if declared.is_none() || permit.is_some() {
        let body = std::mem::take(req.body_mut());
        let body = http_body_util::BodyExt::map_frame(body, move |frame| {
            let _held = &permit;
            frame
        });
        *req.body_mut() = match declared {
            None => Body::new(http_body_util::Limited::new(body, limit)),
            Some(_) => Body::new(body),
        };
    }
    None
}

/// The gateway's limits on a request head: a URI of at most 32 KB, each header at most 32 KB and
/// all of them at most 128 KB. hyper's own limits are set above these (see `transport`), so
/// these answers are the gateway's.
pub const MAX_URI: usize = 32 * 1024;
/// See [`MAX_URI`].
pub const MAX_HEADER: usize = 32 * 1024;
/// See [`MAX_URI`].
pub const MAX_HEADERS_TOTAL: usize = 128 * 1024;

fn over_gateway_limits(req: &Request) -> Option<ApiError> {
    let uri = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if uri > MAX_URI {
        return Some(ApiError::new(
            ErrorCode::UriTooLarge,
            format!("the request URI is {uri} bytes; the gateway takes at most {MAX_URI}"),
        ));
    }
    let mut total = 0;
    for (name, value) in req.headers() {
        let size = name.as_str().len() + value.len();
        total += size;
        if size > MAX_HEADER || total > MAX_HEADERS_TOTAL {
            return Some(ApiError::new(
                ErrorCode::HeadersTooLarge,
                format!(
                    "a header of {size} bytes, or {total} bytes of headers so far; the gateway takes {MAX_HEADER} a header, {MAX_HEADERS_TOTAL} in all"
                ),
            ));
        }
    }
    None
}

/// The `project_id` and `instance_id` of the request's matched path, if its route has them.
fn namespace(req: &Request) -> (Option<String>, Option<String>) {
    match req.extensions().get::<MatchedPath>() {
        Some(route) => route_namespace(route.as_str(), req.uri().path()),
        None => (None, None),
    }
}

/// The `project_id` and `instance_id` of `path`, matched by `route`, if the route has them, read
/// straight from the path and percent-decoded as axum's path parameters are (no extraction).
fn route_namespace(route: &str, path: &str) -> (Option<String>, Option<String>) {
    if !route.starts_with("/v2/{project_id}/instances/{instance_id}/") {
        return (None, None);
    }
    let mut segments = path.split('/').skip(2);
    let decoded = |segment: Option<&str>| {
        percent_encoding::percent_decode_str(segment?)
            .decode_utf8()
            .ok()
            .map(std::borrow::Cow::into_owned)
    };
    let project = decoded(segments.next());
    let instance = decoded(segments.nth(1));
    match (project, instance) {
        (Some(p), Some(i)) => (Some(p), Some(i)),
        _ => (None, None),
    }
}

/// Internal details go to the log only.
fn internal_hidden(err: &ApiError) -> std::borrow::Cow<'static, str> {
    if err.code == ErrorCode::Internal {
        "see the emulator's log for this request_id".into()
    } else {
        err.details.clone()
    }
}

/// Authenticates a request of the asset API (an AK/SK signature when the request carries one,
/// else `X-Auth-Token`), checks the user's project list, puts the [`crate::auth::Caller`] into
/// the request, then applies faults as [`inject_faults`] does. One layer for both: each `from_fn`
/// layer costs a clone of what it wraps and a boxed future a request.
pub async fn authenticate(State(app): State<AppState>, req: Request, next: Next) -> Response {
    match authenticated(&app, req).await {
        Ok((req, caller)) => {
            let mut res = faults_then(&app, req, next).await;
            // Handed back for the journal, which sits outside this layer.
            res.extensions_mut().insert(caller);
            res
        }
        Err(e) => e.into_response(),
    }
}

async fn authenticated(app: &AppState, mut req: Request) -> Result<(Request, Caller), ApiError> {
    let signed = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| crate::auth::signature::strip_scheme(v.trim_start(), ALGORITHM).is_some());
    let caller = if signed {
        let (parts, body) = req.into_parts();
        let headers = &parts.headers;
        let lookup = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let authorization = lookup("authorization").unwrap_or_default();
        // The access key, the lock, the date and the signed headers are checked before a byte
        // of the body is read: a refused request costs no buffer.
        let signer = app.auth.signer(authorization, &lookup)?;
        let (payload_hash, body) = payload_hash(
            headers,
            signer.signed_headers(),
            body,
            app.config.server.max_body_bytes,
        )
        .await?;
        let signed = SignedRequest {
            authorization,
            method: parts.method.as_str(),
            path: parts.uri.path(),
            query: parts.uri.query().unwrap_or_default(),
            header: &lookup,
            payload_hash: &payload_hash,
        };
        let caller = app.auth.verify_signature(&signer, &signed)?;
        req = Request::from_parts(parts, body);
        caller
    } else {
        app.auth
            .token(req.headers().get("x-auth-token").map(HeaderValue::as_bytes))?
    };
    if (caller.projects.is_some() || caller.scope.is_some())
        && let (Some(project), _) = namespace(&req)
    {
        // D16: a token serves its scope only, checked before any rule of the operation.
        if let Some(why) = caller.out_of_scope(&project) {
            return Err(AuthError::OutOfScope(why).into());
        }
        if !caller.may_use(&project) {
            return Err(AuthError::ProjectForbidden(project).into());
        }
    }
    req.extensions_mut().insert(caller.clone());
    Ok((req, caller))
}

/// Step 9 of the signature: the SHA-256 of the body, which is read (within the body limit) and
/// handed back for the handler. The one exception is the SDKs' documented rule: a request that
/// *signs* `X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD` uses that literal instead (multipart uploads).
/// Any other `X-Sdk-Content-Sha256` value is ignored: the hash is always computed from the body.
async fn payload_hash(
    headers: &HeaderMap,
    signed_headers: &str,
    body: Body,
    limit: usize,
) -> Result<(String, Body), ApiError> {
    let unsigned_payload = headers
        .get("x-sdk-content-sha256")
        .is_some_and(|v| v.as_bytes() == UNSIGNED_PAYLOAD.as_bytes())
        && signed_headers
            .split(';')
            .any(|h| h.trim().eq_ignore_ascii_case("x-sdk-content-sha256"));
    if unsigned_payload {
        return Ok((UNSIGNED_PAYLOAD.to_owned(), body));
    }
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|e| {
        let stalled = super::extract::is_stalled(&e);
        super::extract::body_error(&e, !stalled, "this operation accepts")
    })?;
    let hash = if bytes.is_empty() {
        EMPTY_BODY_HASH.to_owned()
    } else {
        sha256_hex(&bytes)
    };
    Ok((hash, Body::from(bytes)))
}

/// Applies the first matching fault rule: answer late, answer an error, or let the request through
/// with a planned job failure. Costs nothing while no rule exists.
pub async fn inject_faults(State(app): State<AppState>, req: Request, next: Next) -> Response {
    faults_then(&app, req, next).await
}

async fn faults_then(app: &AppState, mut req: Request, next: Next) -> Response {
    if app.faults.is_empty() {
        return next.run(req).await;
    }
    let operation = req
        .extensions()
        .get::<MatchedPath>()
        .and_then(|route| super::operation(req.method(), route.as_str()));
    let Some(operation) = operation else {
        return next.run(req).await;
    };
    let (project, instance) = namespace(&req);
    let user = req.extensions().get::<Caller>().map(|c| c.user.clone());
    let target = FaultRequest {
        operation,
        user: user.as_deref(),
        project_id: project.as_deref(),
        instance_id: instance.as_deref(),
    };
    let Some(hit) = app.faults.check(&target, || app.ids.draws.next_unit()) else {
        return next.run(req).await;
    };
    app.metrics.fault_fired(operation);
    if let Some(delay) = hit.delay {
        tokio::time::sleep(delay).await;
    }
    if let Some((status, code)) = hit.error {
        return ApiError::injected(status, &code).into_response();
    }
    if let Some(plan) = hit.fail_job {
        req.extensions_mut().insert(plan);
    }
    next.run(req).await
}

/// With `[emulator] admin_token` set, the control plane needs `Authorization: Bearer <admin_token>`.
pub async fn require_admin(State(app): State<AppState>, req: Request, next: Next) -> Response {
    if let Some(token) = &app.config.emulator.admin_token {
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| crate::auth::signature::strip_scheme(v.trim(), "Bearer"))
            .map(str::trim)
            .unwrap_or_default();
        let same = crate::auth::same_secret(given.as_bytes(), token.expose());
        if !same {
            return ApiError::new(
                ErrorCode::AdminUnauthorized,
                "Authorization: Bearer <admin_token> is missing or wrong",
            )
            .into_response();
        }
    }
    next.run(req).await
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

#[cfg(test)]
mod tests {
    use super::route_namespace;

    #[test]
    fn the_namespace_is_read_from_the_path_of_a_namespaced_route_only() {
        let route = "/v2/{project_id}/instances/{instance_id}/assets/export";
        let some = |p: &str, i: &str| (Some(p.to_owned()), Some(i.to_owned()));
        assert_eq!(
            route_namespace(route, "/v2/p1/instances/i1/assets/export"),
            some("p1", "i1")
        );
        assert_eq!(
            route_namespace(route, "/v2/my%20project/instances/%C3%BC/assets/export"),
            some("my project", "ü")
        );
        assert_eq!(
            route_namespace(route, "/v2/p1/instances/%FF/assets/export"),
            (None, None)
        );
        assert_eq!(
            route_namespace("/v3/auth/tokens", "/v3/auth/tokens"),
            (None, None)
        );
    }
}
