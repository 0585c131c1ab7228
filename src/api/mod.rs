//! The HTTP surface: the route table on one screen ([`routes`]), the request pipeline, and one
//! file per operation, each declaring its route, its OpenAPI entry and how it reads its inputs.

pub mod catalog;
pub mod check_asset_job_status;
pub mod check_roma_app_details;
pub mod check_roma_instance_list_v2;
pub mod control;
pub mod create_roma_app;
pub mod delete_asset;
pub mod delete_roma_app;
pub mod delete_task;
pub mod download_asset_archive;
pub mod dto;
pub mod export_asset;
pub mod extract;
pub mod hints;
pub mod iam_projects;
pub mod import_asset;
pub mod keystone_create_user_token_by_password;
pub mod keystone_list_auth_projects;
pub mod keystone_list_projects;
pub mod keystone_validate_token;
pub mod list_roma_app;
pub mod list_tasks;
pub mod openapi;
pub mod pipeline;
pub mod route;
pub mod schema;
pub mod sent_body;
pub mod show_task;
pub mod summaries;
pub mod update_roma_app;
pub mod validate_roma_app;

use route::{Api, OperationRoute, Route, Table};

use crate::app::App;

/// Marks a request that arrived on a connection admitted into a probe slot (every regular
/// connection was busy): only `/_emulator/health` and `/_emulator/ready` are served to it.
#[derive(Debug, Clone, Copy)]
pub struct ProbeSlot;

/// The address a request came from (set by the transport): who an anonymous large body is
/// counted against.
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub std::net::IpAddr);

/// The cloud's operations, in the order the documents list them (each declared in its file).
pub static OPERATIONS: [&OperationRoute; 19] = [
    &export_asset::ROUTE,
    &import_asset::ROUTE,
    &delete_asset::ROUTE,
    &check_asset_job_status::ROUTE,
    &download_asset_archive::ROUTE,
    &keystone_create_user_token_by_password::ROUTE,
    &create_roma_app::ROUTE,
    &list_roma_app::ROUTE,
    &check_roma_app_details::ROUTE,
    &update_roma_app::ROUTE,
    &delete_roma_app::ROUTE,
    &validate_roma_app::ROUTE,
    &check_roma_instance_list_v2::ROUTE,
    &list_tasks::ROUTE,
    &show_task::ROUTE,
    &delete_task::ROUTE,
    &keystone_list_projects::ROUTE,
    &keystone_list_auth_projects::ROUTE,
    &keystone_validate_token::ROUTE,
];

/// Every route: the cloud's operations, the probes, the metrics, the OpenAPI document and the
/// control plane.
pub fn routes() -> Vec<Route> {
    // Operations of one path (CreateRomaApp and ListRomaApp, …) share its route, a method each.
    let mut routes: Vec<Route> = Vec::new();
    for op in OPERATIONS {
        match routes.iter_mut().find(|r| r.template == op.template) {
            Some(route) => route.add_operation(op),
            None => routes.push(Route::operation(op)),
        }
    }
    routes.extend([
        Route::new(Api::Probe, "/_emulator/health").get(control::health),
        Route::new(Api::Probe, "/_emulator/ready").get(control::ready),
        Route::new(Api::Open, "/_emulator/metrics").get(control::metrics),
        Route::new(Api::Open, "/openapi.json").get(openapi::openapi),
    ]);
    routes.extend(control::routes());
    routes
}

/// The whole emulator as one service: the pipeline over [`routes`] (tests may drive it with
/// `oneshot`).
pub fn router(app: App) -> pipeline::Pipeline {
    pipeline::Pipeline::new(app, Table::new(routes()))
}
