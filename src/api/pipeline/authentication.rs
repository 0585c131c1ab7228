//! Step 3, authentication of the cloud's operations (all but the token request): an AK/SK signature when the request carries one, else
//! `X-Auth-Token`; then the token's scope and the user's project list (D16). A large body's permit
//! is taken here, once the caller is known: for the user, or, for an AK/SK body whose signature
//! needs the body's bytes, for the address until the signature is checked.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, header};

use super::context::{Exchange, Namespace};
use crate::app::App;
use crate::auth::signature::{ALGORITHM, EMPTY_BODY_HASH, UNSIGNED_PAYLOAD, sha256_hex};
use crate::auth::{Caller, SignedRequest};
use crate::error::ApiError;

/// The caller of `req`, and `req` with its body handed back when the signature read it.
pub async fn authenticate(
    app: &App,
    exchange: &Exchange<'_>,
    req: Request,
) -> Result<(Request, Caller), ApiError> {
    let signed = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| crate::auth::signature::strip_scheme(v.trim_start(), ALGORITHM).is_some());
    let large = super::large_body::wanted(exchange, &req);
    let (mut req, caller, held) = if signed {
        signed_caller(app, req, large).await?
    } else {
        let token = req.headers().get("x-auth-token").map(HeaderValue::as_bytes);
        let caller = app.auth.token(token)?;
        (req, caller, false)
    };
    // A path id that is no valid id (D20's placeholders too) is refused by the handler's `Scope`.
    if (caller.projects.is_some() || caller.scope.is_some())
        && let Some(Namespace::Valid(scope)) = &exchange.namespace
    {
        // D16: a token serves its scope only, checked before any rule of the operation.
        caller.check_project(scope.project.as_str())?;
    }
    if large && !held {
        let user = super::context::by_user(&caller.user);
        req = super::large_body::hold(app, req, &user).await?;
    }
    Ok((req, caller))
}

/// The caller of a signed request, the request, and whether its body already holds a large
/// body's permit (taken for its address when `large` and the signature needs the body's bytes).
async fn signed_caller(app: &App, req: Request, large: bool) -> Result<(Request, Caller, bool), ApiError> {
    let anonymous = super::context::by_address(&req);
    let (parts, body) = req.into_parts();
    let headers = &parts.headers;
    let lookup = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let authorization = lookup("authorization").unwrap_or_default();
    // The access key, the lock, the date and the signed headers are checked before a byte of the
    // body is read: a refused request costs no buffer.
    let signer = app.auth.signer(authorization, &lookup)?;
    let unsigned = unsigned_payload(headers, signer.signed_headers());
    let held = large && !unsigned;
    let (payload_hash, body) = if held {
        // Its signature needs its bytes: it is read for its address, and keeps that permit.
        let permit = super::large_body::permit(app, &anonymous).await?;
        let body = super::large_body::under_floor(app, body);
        let (hash, body) = payload_hash(false, body, app.config.server.max_body_bytes).await?;
        (hash, super::large_body::holding(body, permit))
    } else {
        payload_hash(unsigned, body, app.config.server.max_body_bytes).await?
    };
    let signed = SignedRequest {
        authorization,
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or_default(),
        header: &lookup,
        payload_hash: &payload_hash,
    };
    let caller = app.auth.verify_signature(&signer, &signed)?;
    Ok((Request::from_parts(parts, body), caller, held))
}

/// Whether the request *signs* `X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD` (see [`payload_hash`]).
fn unsigned_payload(headers: &HeaderMap, signed_headers: &str) -> bool {
    headers
        .get("x-sdk-content-sha256")
        .is_some_and(|v| v.as_bytes() == UNSIGNED_PAYLOAD.as_bytes())
        && signed_headers
            .split(';')
            .any(|h| h.trim().eq_ignore_ascii_case("x-sdk-content-sha256"))
}

/// Step 9 of the signature: the SHA-256 of the body, which is read (within the body limit) and
/// handed back for the handler. The one exception is the SDKs' documented rule: a request that
/// *signs* `X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD` uses that literal instead (multipart uploads).
/// Any other `X-Sdk-Content-Sha256` value is ignored: the hash is always computed from the body.
async fn payload_hash(unsigned_payload: bool, body: Body, limit: usize) -> Result<(String, Body), ApiError> {
    if unsigned_payload {
        return Ok((UNSIGNED_PAYLOAD.to_owned(), body));
    }
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|e| {
        let stalled = crate::api::extract::is_stalled(&e);
        crate::api::extract::body_error(&e, !stalled, "this operation accepts")
    })?;
    let hash = if bytes.is_empty() {
        EMPTY_BODY_HASH.to_owned()
    } else {
        sha256_hex(&bytes)
    };
    Ok((hash, Body::from(bytes)))
}
