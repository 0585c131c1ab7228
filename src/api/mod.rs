//! The HTTP surface: the route table on one screen, the request pipeline, and one file per
//! operation.

pub mod check_asset_job_status;
pub mod control;
pub mod delete_asset;
pub mod download_asset_archive;
pub mod dto;
pub mod export_asset;
pub mod extract;
pub mod import_asset;
pub mod keystone_create_user_token_by_password;
pub mod openapi;
pub mod pipeline;

use axum::Router;
use axum::extract::Request;
use axum::http::Method;
use axum::response::Response;
use axum::routing::{MethodRouter, get};

use crate::error::{ApiError, ErrorCode};
use crate::jobs;
use crate::operation::Operation;
use crate::state::AppState;

const EXPORT: &str = "/v2/{project_id}/instances/{instance_id}/assets/export";
const IMPORT: &str = "/v2/{project_id}/instances/{instance_id}/assets/import";
const DELETE: &str = "/v2/{project_id}/instances/{instance_id}/assets/delete";
const JOB: &str = "/v2/{project_id}/instances/{instance_id}/assets/jobs/{job_id}";
const ARCHIVE: &str = "/v2/{project_id}/instances/{instance_id}/assets/archives/{archive_id}";
const TOKENS: &str = "/v3/auth/tokens";

/// Marks a request that arrived on a connection admitted into a probe slot (every regular
/// connection was busy): only `/_emulator/health` and `/_emulator/ready` are served to it.
#[derive(Debug, Clone, Copy)]
pub struct ProbeSlot;

/// The address a request came from (set by the transport): who an anonymous large body is
/// counted against.
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub std::net::IpAddr);

/// The paths a probe slot serves.
pub const PROBES: [&str; 2] = ["/_emulator/health", "/_emulator/ready"];

/// Whether a request is a health or readiness probe (what a probe slot serves).
pub fn is_probe(method: &Method, path: &str) -> bool {
    *method == Method::GET && PROBES.contains(&path)
}

/// The largest JSON body any JSON operation needs: 100 ids of 128 characters with their keys
/// fit many times over. Bodies over it are `APIG.0201` (413) before they are read.
pub const MAX_JSON_BODY: usize = 64 * 1024;

/// The body limit of a route: ImportAsset (an asset package) and `PUT /_emulator/state` (a
/// snapshot) take `[server] max_body_bytes`, every other operation at most [`MAX_JSON_BODY`].
pub fn body_limit(app: &AppState, route: Option<&str>) -> usize {
    let max = app.config.server.max_body_bytes;
    match route {
        Some(IMPORT | control::STATE) => max,
        _ => MAX_JSON_BODY.min(max),
    }
}

/// Whether `route` takes a large body (`[server] max_body_bytes`, one of `max_large_bodies`).
pub fn takes_large_body(route: Option<&str>) -> bool {
    matches!(route, Some(IMPORT | control::STATE))
}

/// Who answers a route: one of the cloud's operations, which the pipeline calls itself (no
/// extractor pass, no boxed service a request), or one of axum's method routers (the control
/// plane, the probes, the OpenAPI document).
pub enum Answer {
    /// The operation, answered for its one method.
    Operation(Operation),
    /// axum's router answers (boxed: the method router is large, the operation one byte).
    Router(Box<MethodRouter<AppState>>),
}

/// The route and method of `operation`.
pub const fn route_of(operation: Operation) -> (&'static str, Method) {
    match operation {
        Operation::ExportAsset => (EXPORT, Method::POST),
        Operation::ImportAsset => (IMPORT, Method::POST),
        Operation::DeleteAsset => (DELETE, Method::POST),
        Operation::CheckAssetJobStatus => (JOB, Method::GET),
        Operation::DownloadAssetArchive => (ARCHIVE, Method::GET),
        Operation::KeystoneCreateUserTokenByPassword => (TOKENS, Method::POST),
    }
}

/// Every route, in one list: the pipeline's route table and axum's router are built from it.
pub fn routes(app: &AppState) -> Vec<(&'static str, Answer)> {
    let mut routes: Vec<(&'static str, Answer)> = Operation::ALL
        .into_iter()
        .map(|op| (route_of(op).0, Answer::Operation(op)))
        .collect();
    routes.extend([
        (
            "/_emulator/health",
            Answer::Router(Box::new(get(control::health))),
        ),
        ("/_emulator/ready", Answer::Router(Box::new(get(control::ready)))),
        (
            "/_emulator/metrics",
            Answer::Router(Box::new(get(control::metrics))),
        ),
        ("/openapi.json", Answer::Router(Box::new(get(openapi::openapi)))),
    ]);
    routes.extend(
        control::routes(app)
            .into_iter()
            .map(|(t, r)| (t, Answer::Router(Box::new(r)))),
    );
    routes
}

/// A route as the pipeline matched it.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    /// Its template (what the log line and the metrics name).
    pub template: &'static str,
    /// The operation, when the route is one (whatever the request's method).
    pub operation: Option<Operation>,
}

/// The route table the pipeline matches every path against (matchit, as axum's router does).
#[derive(Debug, Default)]
pub struct RouteTable(matchit::Router<Route>);

impl RouteTable {
    /// The route of `path`, if any.
    pub fn at(&self, path: &str) -> Option<Route> {
        self.0.at(path).ok().map(|m| *m.value)
    }
}

/// The whole emulator as one service: the pipeline, which answers the cloud's operations itself
/// and hands every other route to axum's router (tests may drive it with `oneshot`).
pub fn router(app: AppState) -> pipeline::Pipeline {
    let mut table = matchit::Router::new();
    let mut others = Router::new();
    for (template, answer) in routes(&app) {
        let operation = match answer {
            Answer::Operation(op) => Some(op),
            Answer::Router(method_router) => {
                others = others.route(template, *method_router);
                None
            }
        };
        // The list is ours and fixed: a clash is a programming error every test would show.
        table
            .insert(template, Route { template, operation })
            .unwrap_or_else(|e| panic!("route {template}: {e}"));
    }
    let others = others
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(app.clone());
    pipeline::Pipeline::new(app, RouteTable(table), others)
}

/// Calls `operation`: its inputs read in the order the API checks them (caller, namespace, path
/// id, query, body).
pub async fn dispatch(
    app: &AppState,
    operation: Operation,
    mut call: pipeline::Call<'_>,
    req: Request,
) -> Result<Response, ApiError> {
    use extract::{json_body, path_id, query, read_body, upload};
    use pipeline::respond::json;
    let plan = call.plan.take();
    // Every asset operation checks its caller and namespace first.
    let who = || Ok::<_, ApiError>((call.caller()?, call.scope()?));
    Ok(match operation {
        Operation::ExportAsset => {
            let (caller, scope) = who()?;
            let body = json_body(req).await?;
            json(&export_asset::export_asset(app, caller, scope, plan, &body)?)?
        }
        Operation::DeleteAsset => {
            let (caller, scope) = who()?;
            let body = json_body(req).await?;
            json(&delete_asset::delete_asset(app, caller, scope, plan, &body)?)?
        }
        Operation::CheckAssetJobStatus => {
            let (caller, scope) = who()?;
            let id = path_id(req.uri().path(), "job_id", jobs::job_not_found)?;
            json(&check_asset_job_status::check_asset_job_status(
                app, caller, &scope, id,
            )?)?
        }
        Operation::DownloadAssetArchive => {
            let (caller, scope) = who()?;
            let id = path_id(req.uri().path(), "archive_id", jobs::archive_not_found)?;
            download_asset_archive::download_asset_archive(app, caller, &scope, id)?
        }
        Operation::ImportAsset => {
            let (caller, scope) = who()?;
            let query = query(req.uri())?;
            let upload = upload(req).await?;
            json(&import_asset::import_asset(
                app, caller, scope, query, plan, upload,
            )?)?
        }
        Operation::KeystoneCreateUserTokenByPassword => {
            let query = query(req.uri())?;
            let (parts, body) = req.into_parts();
            let body = read_body(body).await?;
            keystone_create_user_token_by_password::keystone_create_user_token_by_password(
                app,
                &parts.headers,
                query,
                &body,
            )?
        }
    })
}

/// The refusal of a path no route has.
async fn route_not_found() -> ApiError {
    ApiError::new(ErrorCode::RouteNotFound, "no API has this path")
}

/// The refusal of a method a path does not take (the gateway's 404 too, D2).
pub fn method_not_allowed_error() -> ApiError {
    ApiError::new(ErrorCode::MethodNotAllowed, "this path does not take this method")
}

async fn method_not_allowed() -> ApiError {
    method_not_allowed_error()
}
