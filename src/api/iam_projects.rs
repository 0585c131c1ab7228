//! What KeystoneListProjects and KeystoneListAuthProjects share: Keystone's project list with its
//! `links`, the query's filters and pages, and their OpenAPI pieces.

use axum::extract::Request;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::keystone_create_user_token_by_password::base_url;
use crate::api::schema::{json_content, param};
use crate::app::App;
use crate::auth::iam::stable_id;
use crate::auth::{AuthError, Caller, Project};
use crate::error::ApiError;

/// The most projects one page holds (IAM's `per_page`: 1 to 5000).
pub const MAX_PER_PAGE: usize = 5000;

/// The query of KeystoneListProjects.
#[derive(Debug, Default, Deserialize)]
pub struct ProjectQuery {
    /// The exact name (a region's, for its default project).
    pub name: Option<String>,
    /// The caller's account id: another account has no project here.
    pub domain_id: Option<String>,
    /// `true`: every project (all are enabled); `false`: none.
    pub enabled: Option<String>,
    /// The page, from 1 (with `per_page`).
    pub page: Option<String>,
    /// Projects a page, 1 to 5000.
    pub per_page: Option<String>,
}

fn number(name: &str, v: Option<&str>, max: usize) -> Result<Option<usize>, ApiError> {
    let Some(v) = v.filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    match v.parse::<usize>() {
        Ok(n) if (1..=max).contains(&n) => Ok(Some(n)),
        _ => {
            Err(AuthError::IamInvalid(format!("{name}: {v:?} is not a whole number from 1 to {max}")).into())
        }
    }
}

/// Answers `projects` filtered and paged by `q`, in Keystone's shape, `path` its `self` link.
pub fn listed(
    app: &App,
    req: &Request,
    caller: &Caller,
    projects: Vec<Project>,
    q: &ProjectQuery,
    path: &str,
) -> Result<Response, ApiError> {
    let page = number("page", q.page.as_deref(), usize::MAX)?;
    let per_page = number("per_page", q.per_page.as_deref(), MAX_PER_PAGE)?;
    let enabled = crate::api::catalog::flag("enabled", q.enabled.as_deref())
        .map_err(|_| ApiError::from(AuthError::IamInvalid("enabled: true or false".into())))?;
    let domain_id = stable_id("domain", &app.auth.domain_of(&caller.user));
    let base = base_url(app, req.headers());
    let keep = |p: &Project| {
        q.name
            .as_deref()
            .filter(|n| !n.is_empty())
            .is_none_or(|n| n == p.name)
            && q.domain_id
                .as_deref()
                .filter(|d| !d.is_empty())
                .is_none_or(|d| d == domain_id)
            && enabled != Some(false)
    };
    let matching: Vec<&Project> = projects.iter().filter(|p| keep(p)).collect();
    let (skip, take) = match (page, per_page) {
        (None, None) => (0, MAX_PER_PAGE),
        (page, per_page) => {
            let per_page = per_page.unwrap_or(MAX_PER_PAGE);
            (
                page.unwrap_or(1).saturating_sub(1).saturating_mul(per_page),
                per_page,
            )
        }
    };
    let listed: Vec<Value> = matching
        .iter()
        .skip(skip)
        .take(take)
        .map(|p| {
            json!({
                "id": p.id, "name": p.name, "domain_id": domain_id, "description": "", "enabled": true,
                "parent_id": domain_id, "is_domain": false,
                "links": {"self": format!("{base}/v3/projects/{}", p.id)},
            })
        })
        .collect();
    let query = req.uri().query().map_or(String::new(), |q| format!("?{q}"));
    crate::api::pipeline::respond::json(&json!({
        "links": {"self": format!("{base}{path}{query}"), "previous": null, "next": null},
        "projects": listed,
    }))
}

/// The OpenAPI parameters of KeystoneListProjects.
pub fn query_params() -> Vec<Value> {
    let mut p = crate::api::schema::asset_auth();
    for (name, what) in [
        ("name", "The exact project name."),
        ("domain_id", "The caller's account id."),
        ("enabled", "true or false."),
        ("page", "From 1."),
        ("per_page", "1 to 5000."),
    ] {
        p.push(param(name, "query", false, what));
    }
    p
}

/// The OpenAPI responses of both lists.
pub fn responses(description: &str) -> Value {
    json!({
        "200": {"description": description, "content": json_content("KeystoneProjects")},
        "400": {"description": "A bad query parameter: IAM's error body (D14).", "content": json_content("IamError")},
        "401": {"description": "No good caller token: Keystone's error body (D14).", "content": json_content("KeystoneError")},
        "default": {"description": "A refusal of the gateway (AK/SK, fault).", "content": json_content("ErrorBody")}})
}
