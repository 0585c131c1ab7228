//! Every refusal the emulator can answer: one [`ErrorCode`] catalog (code, statuses, meaning) and
//! one [`ApiError`] that becomes the ROMA error body
//! `{"error_code", "error_msg", "error_details", "request_id"}` ([`ApiError::body_bytes`]), and the
//! conversions of every domain error ([`JobError`], [`AuthError`]) into it, side by side. No HTTP
//! here beyond the status numbers: `api::respond` turns an error into a response, in one place.

use std::borrow::Cow;

use serde::Serialize;

use crate::auth::{AuthError, UserError};
use crate::jobs::{JobError, SelectionError};

macro_rules! catalog {
    ($( $(#[$doc:meta])* $variant:ident => ($code:literal, $catalog:literal, $documented:literal, $msg:literal, $meaning:literal), )*) => {
        /// An error code the emulator can answer, with its statuses and meaning.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
        pub enum ErrorCode { $( $(#[$doc])* $variant, )* }

        impl ErrorCode {
            /// Every code, in catalog order (the README table and `/_emulator/errors` come from this).
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),*];

            /// The wire code, e.g. `ROMA.13000`.
            pub fn code(self) -> &'static str { match self { $(ErrorCode::$variant => $code),* } }

            /// The status under `[api] error_statuses = "catalog"` (and always on the control plane).
            pub fn catalog_status(self) -> Status {
                match self { $(ErrorCode::$variant => status($catalog)),* }
            }

            /// The status under the default `error_statuses = "documented"` (D1).
            pub fn documented_status(self) -> Status {
                match self { $(ErrorCode::$variant => status($documented)),* }
            }

            /// The `error_msg` this code answers with.
            pub fn message(self) -> &'static str { match self { $(ErrorCode::$variant => $msg),* } }

            /// When the emulator answers this code.
            pub fn meaning(self) -> &'static str { match self { $(ErrorCode::$variant => $meaning),* } }
        }
    };
}

fn status(code: u16) -> Status {
    Status::new(code)
}

/// An HTTP status, as a number: the HTTP layer (`api::pipeline::respond`) makes it a status line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Status(u16);

impl Status {
    /// `code`, or 500 when it is no HTTP status (100 to 999).
    pub const fn new(code: u16) -> Self {
        if code >= 100 && code <= 999 {
            Status(code)
        } else {
            Status(500)
        }
    }

    /// The number.
    pub const fn as_u16(self) -> u16 {
        self.0
    }
}

catalog! {
    /// No `X-Auth-Token` (and no AK/SK signature).
    // error_msg: the ROMA error-code page, api-roma ErrorCode_server
    // (https://support.huaweicloud.com/intl/en-us/api-roma/ErrorCode_server.html).
    MissingToken => ("ROMA.1000", 400, 403, "No token is available in the request.",
        "The request has no X-Auth-Token header (or an empty one) and no AK/SK signature."),
    /// The token is unknown or malformed.
    BadToken => ("ROMA.1002", 400, 403, "Incorrect token in the request.",
        "The token is not valid UTF-8 text, or (auth.mode = \"strict\") is not a configured or issued token."),
    /// The IAM token has expired.
    // error_msg: the API Gateway error-code table (https://support.huaweicloud.com/intl/en-us/usermanual-apig/apig-ug-180530090.html).
    TokenExpired => ("APIG.0307", 401, 401, "The token must be updated.",
        "An IAM token issued by POST /v3/auth/tokens has expired (auth.token_ttl_s)."),
    /// AK/SK signature verification failed.
    SignatureInvalid => ("APIG.0301", 401, 401, "Incorrect IAM authentication information: verify aksk signature fail",
        "An AK/SK-signed request whose access key is unknown, whose signature does not match, which lacks a signed header, or whose X-Sdk-Date is more than 15 minutes off."),
    /// The user may not use this project.
    ProjectForbidden => ("ROMA.1006", 400, 403, "You do not have the permissions required to perform this operation.",
        "The user's `projects` list does not include the project in the path, or an issued IAM token's scope does not cover it (D16: another project, or a domain-scoped token)."),
    /// A parameter is invalid; `error_details` names it.
    InvalidParameter => ("ROMA.13000", 400, 403, "Invalid parameters.",
        "A path segment, header, query parameter or body field is invalid (wrong type, too long, too many items, bad JSON, wrong Content-Type); error_details names it."),
    /// No body, or a body that selects nothing.
    NothingToOperate => ("ROMA.13001", 400, 403, "No request body is available.",
        "The body is empty, or it selects no application and no task."),
    /// A job could not be created (a capacity limit).
    JobCreationFailed => ("ROMA.10010", 400, 403, "Failed to create the task.",
        "The job could not be created because a capacity limit was reached (jobs.max_jobs), or CreateRomaApp would pass a limit of [catalog] (max_assets_per_instance, max_bytes_per_instance, max_instances)."),
    /// The upload is not a zip.
    NotAZip => ("ROMA.10011", 400, 403, "Failed to decompress the file.",
        "The imported file is not a readable zip archive."),
    /// A job of this kind is already Running for this user (D9).
    JobRunning => ("ROMA.10012", 400, 403, "An asset management task is running.",
        "The user already has a Running job of the same type (export, import or delete), in any project or instance."),
    /// The package file name breaks the rules.
    // The page's text is longer than the 128 characters its own body table allows; it is sent whole.
    BadPackageName => ("ROMA.10013", 400, 403, "Only .zip files are supported. The file name must start with a letter or digit. Among all the special characters, only the plus sign (+), minus sign (-), and underscore (_) are allowed.",
        "The imported file's name does not end in .zip, does not start with a letter or digit, or has special characters other than + - _."),
    /// The job or archive does not exist here, or the archive was already downloaded.
    // error_msg: with the id, as ROMA's pages write it ("… Check whether the resource ID 1 is correct.").
    NotFound => ("ROMA.00110006", 404, 404, "The resource does not exist. Check whether the resource ID <id> is correct.",
        "The job or archive does not exist, belongs to another user, project or instance, has expired, or (archives) was already downloaded."),
    /// The instance is unknown (strict catalog only).
    // error_msg: with the ids, as ROMA's pages write it.
    // Catalog status 500: the error-code examples of DownloadDevices and DeleteService (D2).
    InstanceNotFound => ("ROMA.00110002", 500, 404, "The instance does not exist. project_id: <project_id>, instance_id: <instance_id>",
        "catalog.strict = true and the instance in the path is not configured (every operation of the instance, the asset GETs and the catalog operations included)."),
    /// No such API.
    // error_msg: the API Gateway error-code table (https://support.huaweicloud.com/intl/en-us/usermanual-apig/apig-ug-180530090.html).
    RouteNotFound => ("APIG.0101", 404, 404, "The API does not exist or has not been published in the environment.",
        "No endpoint has this path."),
    /// The path exists, the method does not: the gateway keys an API by method and path (D2).
    MethodNotAllowed => ("APIG.0101", 404, 404, "The API does not exist.",
        "The path exists but not with this HTTP method (no 405, no Allow header: the gateway keys an API by method and path, D2)."),
    /// The body is over the limit.
    RequestTooLarge => ("APIG.0201", 413, 413, "Request entity too large.",
        "The request body is larger than server.max_body_bytes."),
    /// The gateway's flow control refused the request (`[gateway]`).
    // error_msg: Huawei Cloud's FAQ "How Do I Handle the Error APIG.0308?"; the answer names the
    // policy and the limit ("...: policy user over ratelimit,limit:5,time:1 second").
    Throttled => ("APIG.0308", 429, 429, "The throttling threshold has been reached",
        "More requests than [gateway] rate_per_user_per_s (a user's, to the asset API) or rate_per_address_per_s (an address's, without a user: IAM token requests), beyond [gateway] burst, on the emulator's clock. Retry-After says when to retry; the official SDKs retry 429 only."),
    /// The request took too long.
    Timeout => ("APIG.0201", 504, 504, "Backend timeout.",
        "Handling the request took longer than server.request_timeout_ms."),
    /// A token request whose body is not JSON, or not an object (D14: IAM's own body).
    // error_msg: IAM's error-code table (https://support.huaweicloud.com/intl/en-us/api-iam/iam_02_0006.html).
    IamBodyInvalid => ("IAM.0011", 400, 400, "Request body is invalid.",
        "POST /v3/auth/tokens: the body is not a JSON object. Answered in IAM's body, {\"error_code\", \"error_msg\"}."),
    /// A token request one of whose fields is missing or wrong (D14: IAM's own body).
    IamInvalidParameter => ("IAM.0007", 400, 400, "Request parameter is invalid.",
        "POST /v3/auth/tokens: a field of the password method is missing or of the wrong type; error_msg names it (\"Request parameter auth.identity.methods is invalid.\"). Answered in IAM's body."),
    /// A token request with a wrong user, password or domain (D14: Keystone's body).
    // No code: Keystone's body has none, and IAM's table gives IAM.0004 to a 404 ("Could not find …").
    IamAuthFailed => ("", 401, 401, "The username or password is wrong.",
        "POST /v3/auth/tokens: the user is not configured, has no password, the password is wrong, or the domain does not match. No token is issued. Answered in Keystone's body, {\"error\": {\"code\": 401, \"message\", \"title\": \"Unauthorized\"}} (iam_30_0001), with no IAM code on the wire."),
    /// An IAM query without a good caller token (D14: Keystone's body).
    IamUnauthorized => ("", 401, 401, "The request you have made requires authentication.",
        "GET /v3/projects, /v3/auth/projects or /v3/auth/tokens: X-Auth-Token is missing, unknown, forged or expired (an AK/SK signature problem is the gateway's APIG.0301). Answered in Keystone's body with no IAM code on the wire."),
    /// KeystoneValidateToken of a token that is not good (D14: Keystone's body).
    IamTokenNotFound => ("", 404, 404, "Could not find token.",
        "GET /v3/auth/tokens: X-Subject-Token is missing, was not issued by POST /v3/auth/tokens of this emulator (or its token key), has expired, or its user was deleted or changed (D21). Answered in Keystone's body."),
    /// A fault injected through the control plane.
    InjectedFault => ("ROMA.00000101", 500, 500, "Injected fault",
        "A fault added with POST /_emulator/faults matched the request: it answers the status and error_code the fault names (ROMA.00000101 unless given)."),
    /// The control plane needs the admin token.
    AdminUnauthorized => ("EMULATOR.0401", 401, 401, "The emulator's control plane needs the admin token",
        "[emulator] admin_token is set and the request to /_emulator/* lacks `Authorization: Bearer <admin_token>` (health is always open)."),
    /// A wait ended before the job reached the status.
    WaitTimeout => ("EMULATOR.0408", 408, 408, "The job did not reach the status in time",
        "GET /_emulator/jobs/{id}/wait: timeout_ms passed before the job reached the status asked for."),
    /// A request body stopped arriving.
    BodyStalled => ("EMULATOR.0408", 408, 408, "The request body stopped arriving",
        "The request body sent nothing for server.body_read_timeout_ms (a stalled upload), or a large body fell under server.min_upload_bytes_per_s after server.min_upload_grace_ms (a trickle; its permit is freed). The connection is closed."),
    /// The control-plane action does not fit the state.
    Conflict => ("EMULATOR.0409", 409, 409, "The emulator is not in a state that allows this",
        "Completing or failing a job that is not Running, moving a clock that is not virtual, or adding a user whose name, access key or token is taken (or past 1000 users added at run time)."),
    /// Not served now: the connection cap is reached with every connection busy, or shutdown.
    Unavailable => ("EMULATOR.0503", 503, 503, "The emulator cannot take this request now",
        "Every one of the server.max_connections connections is busy and this one was admitted into a slot kept for health probes (only /_emulator/health and /ready are served there; the connection is closed), the probe slots are busy too, no large-body permit came within server.large_body_wait_ms (every one of server.max_large_bodies held, or this caller's one), or a long-poll wait was cut short because the emulator is shutting down."),
    /// A request hyper could not parse.
    MalformedRequest => ("EMULATOR.0400", 400, 400, "The request is not valid HTTP/1.1",
        "The request line or headers cannot be parsed (garbage, another HTTP version). The connection is closed."),
    /// The request URI is over the gateway's limit.
    UriTooLarge => ("APIG.0201", 414, 414, "Request URI too large.",
        "The request URI (path and query) is over 32 KB, the gateway's limit."),
    /// The request headers are over the gateway's limits.
    HeadersTooLarge => ("APIG.0201", 494, 494, "Request headers too large.",
        "One request header is over 32 KB, or all of them together over 128 KB (the gateway's limits), or there are more than 1000."),
    /// A bug in the emulator; details are logged, never sent.
    // error_msg: the API Gateway table's 500 row of APIG.0201 (no final period there).
    Internal => ("APIG.0201", 500, 500, "An unexpected error occurred",
        "An unexpected failure inside the emulator (a bug: please report it with the log line of this request_id)."),
}

/// The catalog as a Markdown table (the README's error-code table is this text, checked by a test).
pub fn markdown_table() -> String {
    let mut out = String::from(
        "| error_code | status (documented) | status (catalog) | error_msg | when |\n|---|---|---|---|---|\n",
    );
    for code in ErrorCode::ALL {
        let wire = match code.code() {
            "" => "(none: Keystone's body)".to_owned(),
            c => format!("`{c}`"),
        };
        out.push_str(&format!(
            "| {wire} | {} | {} | {} | {} |\n",
            code.documented_status().as_u16(),
            code.catalog_status().as_u16(),
            code.message(),
            code.meaning()
        ));
    }
    out
}

/// Where an error is rendered: the asset API follows `[api] error_statuses`; the control plane always
/// uses catalog statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusPolicy {
    /// The documented statuses (D1, `error_statuses = "documented"`).
    Documented,
    /// The catalog's statuses (`error_statuses = "catalog"`, and always the control plane's).
    Catalog,
}

/// A refusal: a code and the specific details. Handlers return it; the request pipeline renders it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {details}", code.code())]
pub struct ApiError {
    /// The catalog entry.
    pub code: ErrorCode,
    /// What exactly is wrong (goes to `error_details`; at most 128 characters are sent).
    pub details: Cow<'static, str>,
    /// An injected fault's own status and code, instead of the catalog's.
    pub injected: Option<(Status, Box<str>)>,
    /// An `error_msg` of its own, where the real service varies it (an unknown AK names the AK).
    pub message: Option<Cow<'static, str>>,
    /// Seconds for a `Retry-After` header (a throttled request).
    pub retry_after_s: Option<u64>,
    /// What is known of the cause, for the journal (never sent).
    pub cause: Option<Box<Cause>>,
}

/// The error body: ROMA's four fields, or the gateway's three (`APIG.*` codes have no
/// `error_details`, D13).
#[derive(Debug, Serialize)]
pub struct ErrorBody<'a> {
    /// e.g. `ROMA.13000`.
    pub error_code: &'a str,
    /// The summary: the text of the official error-code table.
    pub error_msg: &'a str,
    /// What exactly is wrong (ROMA codes only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_details: Option<&'a str>,
    /// Equals the `X-Request-Id` header.
    pub request_id: &'a str,
}

impl ApiError {
    /// `ROMA.00110006` for `id`, its `error_msg` naming the id as ROMA's pages do.
    pub fn not_found(id: &str, details: impl Into<Cow<'static, str>>) -> Self {
        let mut err = Self::new(ErrorCode::NotFound, details);
        err.message = Some(
            format!("The resource does not exist. Check whether the resource ID {id} is correct.").into(),
        );
        err
    }

    /// An error with these details.
    pub fn new(code: ErrorCode, details: impl Into<Cow<'static, str>>) -> Self {
        Self {
            code,
            details: details.into(),
            injected: None,
            message: None,
            retry_after_s: None,
            cause: None,
        }
    }

    /// The answer of an injected fault: this status and code, whatever the policy.
    pub fn injected(status: u16, code: &str) -> Self {
        let status = Status::new(status);
        Self {
            code: ErrorCode::InjectedFault,
            details: "injected by POST /_emulator/faults".into(),
            injected: Some((status, code.into())),
            message: None,
            retry_after_s: None,
            cause: None,
        }
    }

    /// The wire code (an injected fault's own, or the catalog's).
    pub fn wire_code(&self) -> &str {
        self.injected.as_ref().map_or(self.code.code(), |(_, c)| c)
    }

    /// `ROMA.13000` naming the parameter.
    pub fn invalid(details: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidParameter, details)
    }

    /// The status this error gets under `policy`.
    pub fn status(&self, policy: StatusPolicy) -> Status {
        if let Some((status, _)) = &self.injected {
            return *status;
        }
        match policy {
            StatusPolicy::Documented => self.code.documented_status(),
            StatusPolicy::Catalog => self.code.catalog_status(),
        }
    }

    /// Whether this is a gateway error (`APIG.*`), whose body has no `error_details` (D13).
    pub fn is_gateway(&self) -> bool {
        self.wire_code().starts_with("APIG.")
    }

    /// The `error_msg`: the catalog's text (sent whole, as the tables write it), or its own.
    pub fn message(&self) -> &str {
        self.message
            .as_deref()
            .map_or(self.code.message(), |m| clip_to(m, 256))
    }

    /// The JSON error body for `request_id`.
    pub fn body_bytes(&self, request_id: &str) -> Vec<u8> {
        // IAM answers in its own shapes (D14); the request id is in the X-Request-Id header.
        match self.code {
            ErrorCode::IamAuthFailed | ErrorCode::IamUnauthorized | ErrorCode::IamTokenNotFound
                if self.injected.is_none() =>
            {
                let (code, title) = match self.code {
                    ErrorCode::IamTokenNotFound => (404, "Not Found"),
                    _ => (401, "Unauthorized"),
                };
                let body =
                    serde_json::json!({"error": {"code": code, "message": self.message(), "title": title}});
                return serde_json::to_vec(&body).unwrap_or_default();
            }
            ErrorCode::IamBodyInvalid | ErrorCode::IamInvalidParameter if self.injected.is_none() => {
                let body = serde_json::json!({"error_code": self.wire_code(), "error_msg": self.message()});
                return serde_json::to_vec(&body).unwrap_or_default();
            }
            _ => {}
        }
        let details = if self.details.is_empty() {
            self.code.message()
        } else {
            &self.details
        };
        let body = ErrorBody {
            error_code: clip(self.wire_code()),
            error_msg: self.message(),
            error_details: (!self.is_gateway()).then(|| clip(details)),
            request_id: clip(request_id),
        };
        serde_json::to_vec(&body).unwrap_or_default()
    }
}

/// At most 128 characters, the documented limit of every error body field.
fn clip(s: &str) -> &str {
    clip_to(s, 128)
}

fn clip_to(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

impl From<JobError> for ApiError {
    fn from(e: JobError) -> Self {
        let code = match &e {
            JobError::Invalid(_) => ErrorCode::InvalidParameter,
            JobError::NothingToOperate(_) => ErrorCode::NothingToOperate,
            JobError::Running(..) => ErrorCode::JobRunning,
            JobError::NotFound { .. } => ErrorCode::NotFound,
            JobError::InstanceNotFound { .. } => ErrorCode::InstanceNotFound,
            JobError::Capacity(_) => ErrorCode::JobCreationFailed,
            JobError::NotAZip(_) => ErrorCode::NotAZip,
            JobError::BadPackageName(_) => ErrorCode::BadPackageName,
            JobError::NotRunning(_) => ErrorCode::Conflict,
            JobError::Internal(_) => ErrorCode::Internal,
        };
        let mut err = ApiError::new(code, e.to_string());
        err.cause = cause::of_job(&e).map(Box::new);
        // ROMA's pages write these two with the ids (e.g. DeleteService's examples).
        err.message = match &e {
            JobError::NotFound { id, details, .. } => {
                let mut err = ApiError::not_found(id, details.clone());
                err.cause = cause::of_job(&e).map(Box::new);
                return err;
            }
            JobError::InstanceNotFound { project, instance } => Some(
                format!("The instance does not exist. project_id: {project}, instance_id: {instance}").into(),
            ),
            _ => None,
        };
        err
    }
}

impl From<SelectionError> for ApiError {
    fn from(e: SelectionError) -> Self {
        JobError::from(e).into()
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        let code = match e {
            AuthError::Missing => ErrorCode::MissingToken,
            AuthError::TooLong => ErrorCode::InvalidParameter,
            AuthError::BadToken(_) => ErrorCode::BadToken,
            AuthError::Expired(_) => ErrorCode::TokenExpired,
            AuthError::Signature(_) => ErrorCode::SignatureInvalid,
            AuthError::ProjectForbidden(_) | AuthError::OutOfScope(_) => ErrorCode::ProjectForbidden,
            AuthError::IamInvalid(ref m) if m.starts_with("body:") => ErrorCode::IamBodyInvalid,
            AuthError::IamInvalid(_) => ErrorCode::IamInvalidParameter,
            AuthError::WrongPassword => ErrorCode::IamAuthFailed,
        };
        let mut err = ApiError::new(code, e.to_string());
        if let (ErrorCode::IamInvalidParameter, AuthError::IamInvalid(m)) = (code, &e) {
            let field = m.split(':').next().unwrap_or_default();
            err.message = Some(format!("Request parameter {field} is invalid.").into());
        }
        // The gateway names an unknown AK in error_msg (its FAQ's example of the answer).
        if let AuthError::Signature(text) = &e
            && (text.starts_with("Get secretKey failed") || text.starts_with("AK access failed"))
        {
            err.message = Some(format!("Incorrect IAM authentication information: {text}").into());
        }
        err
    }
}

impl From<UserError> for ApiError {
    fn from(e: UserError) -> Self {
        match e {
            UserError::Invalid(m) => ApiError::invalid(m),
            UserError::Conflict(m) => ApiError::new(ErrorCode::Conflict, m),
            UserError::NotFound(ref name) => ApiError::not_found(name, e.to_string()),
        }
    }
}

mod cause;
pub use cause::Cause;

#[cfg(test)]
mod tests;
