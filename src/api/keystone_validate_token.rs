//! IAM KeystoneValidateToken: `GET /v3/auth/tokens` (`X-Auth-Token` the caller's, `X-Subject-Token`
//! the token checked; `nocatalog`).
//! <https://support.huaweicloud.com/intl/en-us/api-iam/iam_30_0004.html>

use axum::extract::Request;
use axum::http::Method;
use serde_json::{Value, json};

use crate::api::dto::TokenQuery;
use crate::api::extract::query;
use crate::api::keystone_create_user_token_by_password::token_response;
use crate::api::route::{Api, BodyClass, Call, OperationFuture, OperationRoute};
use crate::app::App;
use crate::error::{ApiError, ErrorCode};
use crate::operation::Operation;

/// Its route.
pub static ROUTE: OperationRoute = OperationRoute {
    operation: Operation::KeystoneValidateToken,
    api: Api::Iam,
    template: "/v3/auth/tokens",
    method: Method::GET,
    body: BodyClass::None,
    call,
    openapi,
};

/// Reads the caller, the subject token and the query: 200, the token's body (as POST answered
/// it) and the token in `X-Subject-Token`; a subject token that is not good is Keystone's 404.
fn call<'a>(app: &'a App, call: Call<'a>, req: Request) -> OperationFuture<'a> {
    Box::pin(async move {
        call.caller()?;
        let q: TokenQuery = query(req.uri())?;
        let subject = req
            .headers()
            .get("x-subject-token")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| ApiError::new(ErrorCode::IamTokenNotFound, "X-Subject-Token is missing"))?;
        let issued = app
            .auth
            .inspect(subject)
            .map_err(|e| ApiError::new(ErrorCode::IamTokenNotFound, e.to_string()))?;
        let wants_catalog = q.nocatalog.filter(|v| !v.is_empty()).is_none();
        token_response(
            app,
            req.headers(),
            &issued,
            wants_catalog,
            axum::http::StatusCode::OK,
        )
    })
}

fn openapi() -> Value {
    let mut parameters = crate::api::schema::asset_auth();
    parameters.push(crate::api::schema::param(
        "X-Subject-Token",
        "header",
        true,
        "The token to validate.",
    ));
    parameters.push(crate::api::schema::param(
        "nocatalog",
        "query",
        false,
        "Any non-empty value leaves `catalog` out.",
    ));
    json!({"operationId": Operation::KeystoneValidateToken, "tags": ["IAM"], "parameters": parameters,
        "responses": {
            "200": {"description": "The token's body; the token is in the X-Subject-Token header.",
                "headers": {"X-Subject-Token": {"schema": {"type": "string"}}},
                "content": crate::api::schema::json_content("TokenResponse")},
            "401": {"description": "No good caller token: Keystone's error body (D14).", "content": crate::api::schema::json_content("KeystoneError")},
            "404": {"description": "The subject token is not good: Keystone's error body (D14).", "content": crate::api::schema::json_content("KeystoneError")},
            "default": {"description": "A refusal of the gateway (AK/SK, body limit, fault).", "content": crate::api::schema::json_content("ErrorBody")}}})
}
