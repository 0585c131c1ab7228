//! Reading a request into typed values whose refusals are ROMA error bodies, never axum's
//! plain-text rejections: the path ids, queries and bodies of the operations (called by each
//! operation's `call`), and the extractors of the control plane's handlers.

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::{Uri, header};
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ErrorCode};
use crate::jobs::JobError;
use crate::scope::check_path_id;

/// The error of a request body that stopped arriving: it sent nothing for
/// `[server] body_read_timeout_ms` (the transport's read timeout), or a large body fell under
/// `[server] min_upload_bytes_per_s`. Answered `EMULATOR.0408`.
#[derive(Debug, Clone, Copy)]
pub enum BodyStalled {
    /// Nothing arrived for `body_read_timeout_ms`.
    Silent,
    /// `bytes` arrived in `elapsed_ms`, under the floor of `rate` bytes a second.
    TooSlow {
        /// Bytes of the body received.
        bytes: u64,
        /// Since its permit was given.
        elapsed_ms: u64,
        /// `[server] min_upload_bytes_per_s`.
        rate: u64,
    },
}

impl std::fmt::Display for BodyStalled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Silent => f.write_str("the request body sent nothing for server.body_read_timeout_ms"),
            Self::TooSlow {
                bytes,
                elapsed_ms,
                rate,
            } => write!(
                f,
                "the upload sent {bytes} bytes in {elapsed_ms} ms, under server.min_upload_bytes_per_s ({rate} bytes a second after server.min_upload_grace_ms)"
            ),
        }
    }
}

impl std::error::Error for BodyStalled {}

/// Whether `err`, through any wrapping, comes from a stalled body.
pub fn is_stalled(err: &(dyn std::error::Error + 'static)) -> bool {
    caused_by::<BodyStalled>(err)
}

/// The refusal of a body that could not be read: stalled, over `limit_name`, or malformed.
pub fn body_error(err: &(dyn std::error::Error + 'static), too_large: bool, limit_name: &str) -> ApiError {
    if let Some(stalled) = cause::<BodyStalled>(err) {
        ApiError::new(ErrorCode::BodyStalled, stalled.to_string())
    } else if too_large {
        ApiError::new(
            ErrorCode::RequestTooLarge,
            format!("the request body is larger than {limit_name}"),
        )
    } else {
        ApiError::invalid(format!("body: {err}"))
    }
}

/// The one path parameter of a control route (`job_id`, `fault_id`, `name`, `access_key`), as
/// the pipeline matched it (see [`PathParam`]), percent-decoded; not UTF-8 once decoded is
/// `ROMA.13000`.
#[derive(Debug)]
pub struct ApiPath(pub String);

/// The last parameter of the matched route, handed by the pipeline to a control handler.
#[derive(Debug, Clone)]
pub struct PathParam {
    /// Its name in the template.
    pub name: &'static str,
    /// Its value as the path gave it.
    pub raw: Box<str>,
}

impl<S: Send + Sync> FromRequestParts<S> for ApiPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let param = parts
            .extensions
            .get::<PathParam>()
            .ok_or_else(|| ApiError::new(ErrorCode::Internal, "a route without a path parameter"))?;
        decoded(&param.raw, param.name).map(|v| ApiPath(v.into_owned()))
    }
}

/// A path parameter percent-decoded, as axum's path parameters are.
fn decoded<'v>(raw: &'v str, name: &str) -> Result<std::borrow::Cow<'v, str>, ApiError> {
    percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map_err(|_| ApiError::invalid(format!("path: Invalid UTF-8 in `{name}`")))
}

/// Query parameters; a rejection is `ROMA.13000`.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        query(&parts.uri).map(ApiQuery)
    }
}

/// The path parameter `name` (`job_id`, `archive_id`), given `raw` and percent-decoded: a bad
/// path id is `ROMA.13000`; one that cannot name a job or archive (not an id this emulator hands
/// out) is not found, as an unknown one is.
pub fn path_id(
    raw: &str,
    name: &str,
    not_found: fn(&str) -> JobError,
) -> Result<crate::ids::Hex32, ApiError> {
    let value = decoded(raw, name)?;
    check_path_id(name, &value).map_err(ApiError::invalid)?;
    value.parse().map_err(|()| not_found(&value).into())
}

/// The path parameter `name` as text, percent-decoded and checked as every path id is (1..64
/// characters, no control character, `/` or `\\`): a bad one is `ROMA.13000`.
pub fn path_text(raw: &str, name: &str) -> Result<String, ApiError> {
    let value = decoded(raw, name)?;
    check_path_id(name, &value).map_err(ApiError::invalid)?;
    Ok(value.into_owned())
}

/// A JSON request body, as bytes: empty is `ROMA.13001`, a Content-Type other than
/// `application/json` is `ROMA.13000`, over the size limit is `APIG.0201` (413). Parsing is left to
/// the domain, which knows which field is wrong.
pub async fn json_body(req: Request) -> Result<Bytes, ApiError> {
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
    let bytes = read_body(req.into_body()).await?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::new(
            ErrorCode::NothingToOperate,
            "the request body is empty",
        ));
    }
    if json != Some(true) {
        return Err(ApiError::invalid("Content-Type: expected application/json"));
    }
    Ok(bytes)
}

/// The whole body. The pipeline's body step has bounded it already (by its declared length, or
/// by counting it): over the bound is `APIG.0201` (413).
pub async fn read_body(body: Body) -> Result<Bytes, ApiError> {
    match http_body_util::BodyExt::collect(body).await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) => {
            let too_large = caused_by::<http_body_util::LengthLimitError>(&e);
            Err(body_error(&e, too_large, "server.max_body_bytes"))
        }
    }
}

/// Whether `err`, through any wrapping, comes from an `E`.
fn caused_by<E: std::error::Error + 'static>(err: &(dyn std::error::Error + 'static)) -> bool {
    cause::<E>(err).is_some()
}

/// The `E` that `err` comes from, through any wrapping.
fn cause<'e, E: std::error::Error + 'static>(err: &'e (dyn std::error::Error + 'static)) -> Option<&'e E> {
    let mut cause = Some(err);
    while let Some(e) = cause {
        if let Some(found) = e.downcast_ref::<E>() {
            return Some(found);
        }
        cause = e.source();
    }
    None
}

/// The query of `uri`; a rejection is `ROMA.13000`.
pub fn query<T: DeserializeOwned>(uri: &Uri) -> Result<T, ApiError> {
    Query::<T>::try_from_uri(uri)
        .map(|Query(v)| v)
        .map_err(|e| ApiError::invalid(format!("query: {}", e.body_text())))
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

/// The upload of an ImportAsset request, read with `multer` (the pipeline's body step bounds the
/// body).
pub async fn upload(req: Request) -> Result<Upload, ApiError> {
    let boundary = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| multer::parse_boundary(v).ok())
        .ok_or_else(|| ApiError::invalid("Content-Type: expected multipart/form-data with a boundary"))?;
    let mut multipart = multer::Multipart::new(req.into_body().into_data_stream(), boundary);
    let multipart_error = |e: multer::Error| {
        if caused_by::<http_body_util::LengthLimitError>(&e) || is_stalled(&e) {
            body_error(&e, true, "server.max_body_bytes")
        } else {
            ApiError::invalid(format!("body: malformed multipart ({e})"))
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

/// The raw body, within the size limit (for bodies whose errors are not the asset API's).
#[derive(Debug)]
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, _: &S) -> Result<Self, ApiError> {
        read_body(req.into_body()).await.map(RawBody)
    }
}

/// Parses a JSON body of the control plane; malformed is `ROMA.13000`.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::invalid(format!("body: {e}")))
}
