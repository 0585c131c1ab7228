//! Extractors whose rejections are ROMA error bodies, never axum's plain-text ones.

use axum::body::Bytes;
use axum::extract::multipart::MultipartError;
use axum::extract::{FromRequest, FromRequestParts, Multipart, Path, Query, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use crate::api::pipeline::context::Namespace;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorCode};
use crate::jobs::{ArchiveId, FailPlan, JobError, JobId, archive_not_found, job_not_found};
use crate::scope::{Scope, check_path_id};

/// The error of a request body that sent nothing for `[server] body_read_timeout_ms` (the
/// transport's read timeout); answered `EMULATOR.0408`.
#[derive(Debug, Clone, Copy)]
pub struct BodyStalled;

impl std::fmt::Display for BodyStalled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the request body sent nothing for server.body_read_timeout_ms")
    }
}

impl std::error::Error for BodyStalled {}

/// Whether `err`, through any wrapping, comes from a stalled body.
pub fn is_stalled(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(err);
    while let Some(e) = cause {
        if e.is::<BodyStalled>() {
            return true;
        }
        cause = e.source();
    }
    false
}

/// The refusal of a body that could not be read: stalled, over `limit_name`, or malformed.
pub fn body_error(err: &(dyn std::error::Error + 'static), too_large: bool, limit_name: &str) -> ApiError {
    if is_stalled(err) {
        ApiError::new(ErrorCode::BodyStalled, BodyStalled.to_string())
    } else if too_large {
        ApiError::new(
            ErrorCode::RequestTooLarge,
            format!("the request body is larger than {limit_name}"),
        )
    } else {
        ApiError::invalid(format!("body: {err}"))
    }
}

/// Path parameters; a rejection is `ROMA.13000`.
#[derive(Debug)]
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| ApiPath(v))
            .map_err(|e| ApiError::invalid(format!("path: {}", e.body_text())))
    }
}

/// Query parameters; a rejection is `ROMA.13000`.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| ApiQuery(v))
            .map_err(|e| ApiError::invalid(format!("query: {}", e.body_text())))
    }
}

/// The caller the authentication layer found.
impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| ApiError::new(ErrorCode::Internal, "route without the authentication layer"))
    }
}

/// The project and instance of the path, parsed once by the pipeline's context step; a bad one
/// is `ROMA.13000` naming the field.
impl<S: Send + Sync> FromRequestParts<S> for Scope {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        match parts.extensions.get::<Namespace>() {
            Some(Namespace::Valid(scope)) => Ok(scope.clone()),
            Some(Namespace::Invalid { why, .. }) => Err(ApiError::invalid(why.clone())),
            Some(Namespace::Undecodable) => Err(ApiError::invalid(
                "path: project_id and instance_id must be UTF-8 once percent-decoded",
            )),
            None => Err(ApiError::new(ErrorCode::Internal, "route without a namespace")),
        }
    }
}

/// The `job_id` of the path: a bad path id is `ROMA.13000`; one that cannot name a job (not an
/// id this emulator hands out) is not found, as an unknown one is.
#[derive(Debug)]
pub struct PathJob(pub JobId);

impl<S: Send + Sync> FromRequestParts<S> for PathJob {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        path_id(parts, state, "job_id", job_not_found).await.map(PathJob)
    }
}

/// The `archive_id` of the path, checked as [`PathJob`] is.
#[derive(Debug)]
pub struct PathArchive(pub ArchiveId);

impl<S: Send + Sync> FromRequestParts<S> for PathArchive {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        path_id(parts, state, "archive_id", archive_not_found)
            .await
            .map(PathArchive)
    }
}

async fn path_id<S: Send + Sync>(
    parts: &mut Parts,
    state: &S,
    name: &str,
    not_found: fn(&str) -> JobError,
) -> Result<crate::ids::Hex32, ApiError> {
    let params = RawPathParams::from_request_parts(parts, state)
        .await
        .map_err(|e| ApiError::invalid(format!("path: {}", e.body_text())))?;
    let Some((_, value)) = params.iter().find(|(key, _)| *key == name) else {
        return Err(ApiError::new(
            ErrorCode::Internal,
            format!("route without {name}"),
        ));
    };
    check_path_id(name, value).map_err(ApiError::invalid)?;
    value.parse().map_err(|()| not_found(value).into())
}

/// A JSON request body, as bytes: empty is `ROMA.13001`, a Content-Type other than
/// `application/json` is `ROMA.13000`, over the size limit is `APIG.0201` (413). Parsing is left to
/// the domain, which knows which field is wrong.
#[derive(Debug)]
pub struct JsonBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .eq_ignore_ascii_case("application/json")
            });
        let bytes = body_bytes(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::new(
                ErrorCode::NothingToOperate,
                "the request body is empty",
            ));
        }
        if json != Some(true) {
            return Err(ApiError::invalid("Content-Type: expected application/json"));
        }
        Ok(JsonBody(bytes))
    }
}

/// The whole body, within the configured limit.
pub async fn body_bytes<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|e| {
        body_error(
            &e,
            e.status() == StatusCode::PAYLOAD_TOO_LARGE,
            "server.max_body_bytes",
        )
    })
}

/// The package of ImportAsset: the multipart part `ImportAssetRequestBody` (or `file`).
/// Not multipart is `ROMA.13000`, no such part is `ROMA.13001`, over the size limit `APIG.0201` (413).
#[derive(Debug)]
pub struct Upload {
    /// The part's file name (empty if none was given).
    pub file_name: String,
    /// The file.
    pub bytes: Bytes,
}

/// The multipart part names an upload may use: the SDK's, and the common `file`.
pub const UPLOAD_PARTS: [&str; 2] = ["ImportAssetRequestBody", "file"];

impl<S: Send + Sync> FromRequest<S> for Upload {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let mut multipart = Multipart::from_request(req, state)
            .await
            .map_err(|_| ApiError::invalid("Content-Type: expected multipart/form-data with a boundary"))?;
        let multipart_error = |e: MultipartError| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE || is_stalled(&e) {
                body_error(&e, true, "server.max_body_bytes")
            } else {
                ApiError::invalid(format!("body: malformed multipart ({})", e.body_text()))
            }
        };
        while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
            if !field.name().is_some_and(|n| UPLOAD_PARTS.contains(&n)) {
                continue;
            }
            let file_name = field.file_name().unwrap_or_default().to_owned();
            let bytes = field.bytes().await.map_err(multipart_error)?;
            return Ok(Upload { file_name, bytes });
        }
        Err(ApiError::new(
            ErrorCode::NothingToOperate,
            "ImportAssetRequestBody: the multipart part is required",
        ))
    }
}

/// The raw body, within the size limit (for bodies whose errors are not the asset API's).
#[derive(Debug)]
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        body_bytes(req, state).await.map(RawBody)
    }
}

/// The failure a fault planned for the job this request creates (put there by the fault layer).
#[derive(Debug, Default)]
pub struct PlannedFailure(pub Option<FailPlan>);

impl<S: Send + Sync> FromRequestParts<S> for PlannedFailure {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(PlannedFailure(parts.extensions.remove::<FailPlan>()))
    }
}

/// Parses a JSON body of the control plane; malformed is `ROMA.13000`.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::invalid(format!("body: {e}")))
}
