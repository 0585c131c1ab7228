//! ListRomaApp: `GET /v2/{project_id}/instances/{instance_id}/apps`.
//! <https://support.huaweicloud.com/intl/en-us/api-roma/ListRomaApp.html>

use axum::extract::Request;
use axum::http::Method;
use serde_json::{Value, json};

use crate::api::catalog;
use crate::api::catalog::{Paging, flag};
use crate::api::extract::query;
use crate::api::route::{Api, BodyClass, Call, OperationFuture, OperationRoute};
use crate::api::schema::{asset_params, ok};
use crate::app::App;
use crate::jobs::catalog::AppFilter;
use crate::operation::Operation;

/// Its route.
pub static ROUTE: OperationRoute = OperationRoute {
    operation: Operation::ListRomaApp,
    api: Api::Asset,
    template: "/v2/{project_id}/instances/{instance_id}/apps",
    method: Method::GET,
    body: BodyClass::None,
    call,
    openapi,
};

/// The filters of ListRomaApp (`auth_role` and `user_name` are read and ignored: every user has
/// every role on every application, D26).
#[derive(Debug, Default, serde::Deserialize)]
struct Filters {
    #[serde(flatten)]
    paging: Paging,
    name: Option<String>,
    favorite: Option<String>,
    owner: Option<String>,
}

/// Reads the caller, the namespace and the query: a page of applications.
fn call<'a>(app: &'a App, call: Call<'a>, req: Request) -> OperationFuture<'a> {
    Box::pin(async move {
        let (caller, scope) = (call.caller()?, call.scope()?);
        let q: Filters = query(req.uri())?;
        let (offset, limit) = q.paging.read(false)?;
        let filter = AppFilter {
            name: q.name.filter(|n| !n.is_empty()),
            favorite: flag("favorite", q.favorite.as_deref())?,
            owner: flag("owner", q.owner.as_deref())?,
            caller: caller.user.to_string(),
        };
        let page = app.jobs.apps(&scope, &filter, offset, limit)?;
        crate::api::pipeline::respond::json(&catalog::apps(&page, &caller.user))
    })
}

fn openapi() -> Value {
    let mut parameters = asset_params(&crate::api::schema::NAMESPACE);
    parameters.extend(catalog::paging_params());
    for (name, what) in [
        ("name", "Part of the name."),
        ("favorite", "true or false."),
        ("owner", "true: made by the caller; false: by others."),
        ("auth_role", "Read and ignored (D26)."),
        ("user_name", "Read and ignored (D26)."),
    ] {
        parameters.push(crate::api::schema::param(name, "query", false, what));
    }
    json!({"operationId": Operation::ListRomaApp, "tags": ["APP_MANAGEMENT"], "parameters": parameters,
        "responses": ok("200", "A page of applications, favourites first.", Some("ListRomaAppResponse"))})
}
