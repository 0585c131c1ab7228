//! IAM KeystoneCreateUserTokenByPassword: `POST /v3/auth/tokens` (password method).
//! <https://support.huaweicloud.com/intl/en-us/api-iam/iam_30_0001.html>

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::api::dto::{IdName, TokenBody, TokenProject, TokenQuery, TokenResponse, TokenUser};
use crate::api::extract::{ApiQuery, RawBody};
use crate::auth::{AuthError, PasswordAuth, TokenScope};
use crate::error::ApiError;
use crate::state::AppState;

/// Issues a token for a configured user's password: 201, the token in `X-Subject-Token`.
pub async fn keystone_create_user_token_by_password(
    State(app): State<AppState>,
    ApiQuery(query): ApiQuery<TokenQuery>,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    let auth = PasswordAuth::from_json(&body).map_err(AuthError::IamInvalid)?;
    let issued = app.auth.issue(&auth)?;
    let domain = || IdName {
        id: stable_id("domain", &issued.domain),
        name: issued.domain.clone(),
    };
    let (project, scoped_domain) = match &auth.scope {
        TokenScope::Project { id, name } => {
            let name = name.clone().or_else(|| id.clone()).unwrap_or_default();
            let id = id.clone().unwrap_or_else(|| stable_id("project", &name));
            (
                Some(TokenProject {
                    domain: domain(),
                    id,
                    name,
                }),
                None,
            )
        }
        // Without a scope IAM issues a domain-scoped token (D14), as with one.
        TokenScope::Domain { .. } | TokenScope::Unscoped => (None, Some(domain())),
    };
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
            catalog: query.nocatalog.filter(|v| !v.is_empty()).is_none().then(Vec::new),
            roles: vec![IdName {
                id: stable_id("role", "te_admin"),
                name: "te_admin".to_owned(),
            }],
        },
    };
    let mut res = (StatusCode::CREATED, Json(body)).into_response();
    let token = HeaderValue::from_str(&issued.token)
        .map_err(|e| ApiError::new(crate::error::ErrorCode::Internal, e.to_string()))?;
    res.headers_mut().insert("x-subject-token", token);
    Ok(res)
}

/// A 32-hex id that is the same for the same name on every run.
fn stable_id(kind: &str, name: &str) -> String {
    crate::ids::to_hex(&Sha256::digest(format!("{kind}:{name}").as_bytes())[..16])
}
