//! IAM KeystoneCreateUserTokenByPassword: `POST /v3/auth/tokens` (password method).
//! <https://support.huaweicloud.com/intl/en-us/api-iam/iam_30_0001.html>

use axum::Json;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use serde_json::{Value, json};

use crate::api::extract::{query, read_body};
use crate::api::route::{Api, BodyClass, Call, OperationFuture, OperationRoute};
use crate::api::schema::{json_content, param};
use crate::operation::Operation;
use axum::response::{IntoResponse, Response};

use crate::api::dto::{IdName, TokenBody, TokenProject, TokenQuery, TokenResponse, TokenUser};
use crate::app::App;
use crate::auth::iam::{REGION, stable_id};
use crate::auth::{AuthError, IssuedToken, PasswordAuth};
use crate::error::ApiError;

/// Issues a token for a configured user's password: 201, the token in `X-Subject-Token`.
pub fn keystone_create_user_token_by_password(
    app: &App,
    headers: &HeaderMap,
    query: TokenQuery,
    body: &[u8],
    call: &Call<'_>,
) -> Result<Response, ApiError> {
    let auth = PasswordAuth::from_json(body).map_err(AuthError::IamInvalid)?;
    call.summarize(|s| {
        s.user = Some(auth.user.clone());
        s.scope = Some(auth.scope.describe());
    });
    let issued = app.auth.issue(&auth)?;
    let wants_catalog = query.nocatalog.filter(|v| !v.is_empty()).is_none();
    token_response(app, headers, &issued, wants_catalog, StatusCode::CREATED)
}

/// The token body of `issued` (D17) with the token in `X-Subject-Token`, answered with `status`:
/// POST's 201, and KeystoneValidateToken's 200.
pub fn token_response(
    app: &App,
    headers: &HeaderMap,
    issued: &IssuedToken,
    wants_catalog: bool,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let domain = || IdName {
        id: stable_id("domain", &issued.domain),
        name: issued.domain.clone(),
    };
    let project = issued.project.as_ref().map(|(id, name)| TokenProject {
        domain: domain(),
        id: id.clone(),
        name: name.clone(),
    });
    // Without a scope IAM issues a domain-scoped token (D14), as with one.
    let scoped_domain = project.is_none().then(domain);
    let body = TokenResponse {
        token: TokenBody {
            methods: ["password"],
            expires_at: issued.expires_at.rfc3339_micros(),
            issued_at: issued.issued_at.rfc3339_micros(),
            user: TokenUser {
                domain: domain(),
                id: stable_id("user", &issued.user),
                name: issued.user.clone(),
                password_expires_at: None,
            },
            project,
            domain: scoped_domain,
            catalog: wants_catalog.then(|| catalog(&base_url(app, headers))),
            roles: vec![IdName {
                id: stable_id("role", "te_admin"),
                name: "te_admin".to_owned(),
            }],
        },
    };
    let mut res = (status, Json(body)).into_response();
    let token = HeaderValue::from_str(&issued.token)
        .map_err(|e| ApiError::new(crate::error::ErrorCode::Internal, e.to_string()))?;
    res.headers_mut().insert("x-subject-token", token);
    Ok(res)
}

/// The URL the client reached the emulator at: `[server] public_url`, else `http://` and the
/// request's `Host` (else the address it listens on).
pub fn base_url(app: &App, headers: &HeaderMap) -> String {
    if let Some(url) = &app.config.server.public_url {
        return url.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_graphic()))
        .unwrap_or(app.config.server.listen.as_str());
    format!("http://{host}")
}

/// The service catalog (D17): ROMA Connect and IAM, both at the emulator, so an SDK or script that
/// finds its endpoints in the catalog talks to the emulator.
fn catalog(base: &str) -> Vec<serde_json::Value> {
    let service = |name: &str, kind: &str, region: &str, url: String| {
        json!({
            "endpoints": [{
                "id": stable_id("endpoint", name),
                "interface": "public",
                "region": region,
                "region_id": region,
                "url": url,
            }],
            "id": stable_id("service", name),
            "name": name,
            "type": kind,
        })
    };
    vec![
        service("roma", "roma", REGION, base.to_owned()),
        service("iam", "identity", "*", format!("{base}/v3")),
    ]
}

/// Its route.
pub static ROUTE: OperationRoute = OperationRoute {
    operation: Operation::KeystoneCreateUserTokenByPassword,
    api: Api::Iam,
    template: "/v3/auth/tokens",
    method: Method::POST,
    body: BodyClass::Json,
    call,
    openapi,
};

/// Reads the query and the body (IAM's own errors, not the asset API's).
fn call<'a>(app: &'a App, call: Call<'a>, req: Request) -> OperationFuture<'a> {
    Box::pin(async move {
        let query = query(req.uri())?;
        let (parts, body) = req.into_parts();
        let body = read_body(body).await?;
        keystone_create_user_token_by_password(app, &parts.headers, query, &body, &call)
    })
}

fn openapi() -> Value {
    json!({"operationId": Operation::KeystoneCreateUserTokenByPassword, "tags": ["IAM"],
        "parameters": [param("nocatalog", "query", false, "Any non-empty value leaves `catalog` out.")],
        "requestBody": {"required": true, "content": json_content("TokenRequest")},
        "responses": {
            "201": {"description": "The token is in the X-Subject-Token header.",
                "headers": {"X-Subject-Token": {"schema": {"type": "string"}}},
                "content": json_content("TokenResponse")},
            "400": {"description": "A malformed body: IAM's error body (D14).", "content": json_content("IamError")},
            "401": {"description": "Wrong user, password or domain: Keystone's error body (D14).", "content": json_content("KeystoneError")},
            "default": {"description": "A refusal of the gateway (body limit, fault).", "content": json_content("ErrorBody")}}})
}
