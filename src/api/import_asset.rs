//! ImportAsset: `POST /v2/{project_id}/instances/{instance_id}/assets/import` (multipart).
//! <https://support.huaweicloud.com/intl/en-us/api-roma/ImportAsset.html>

use axum::extract::Request;
use axum::http::Method;
use serde_json::{Value, json};

use crate::api::dto::{ImportQuery, JobCreated};
use crate::api::extract::{Upload, query, upload};
use crate::api::pipeline::respond::json;
use crate::api::route::{Api, BodyClass, Call, OperationFuture, OperationRoute};
use crate::api::schema::{NAMESPACE, asset_params, job_created, param};
use crate::api::summaries;
use crate::app::App;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::jobs::{FailPlan, ImportOptions, Scope};
use crate::operation::Operation;

/// Checks the uploaded package and starts a job that adds its assets to the instance.
pub async fn import_asset(
    app: &App,
    caller: &Caller,
    scope: Scope,
    query: ImportQuery,
    plan: Option<FailPlan>,
    upload: Upload,
    call: &Call<'_>,
) -> Result<JobCreated, ApiError> {
    let options = ImportOptions::parse(
        query.kind.as_deref(),
        query.mode.as_deref(),
        query.prefix.as_deref(),
        query.datasource_overwrite.as_deref(),
    )
    .map_err(ApiError::invalid)?;
    call.summarize(|s| {
        s.kind = Some(options.mode.as_str().to_owned());
        s.prefix = Some(options.prefix.clone());
    });
    summaries::upload(
        call,
        app.config.journal.summaries,
        &upload.file_name,
        &upload.bytes,
    );
    let plan = plan.or(call.fault_point(app, Operation::ImportAsset).await?);
    let job_id = app.jobs.import(
        &caller.user,
        scope,
        &upload.file_name,
        &upload.bytes,
        options,
        plan,
    )?;
    summaries::job_created(call, &job_id);
    Ok(JobCreated { job_id })
}

/// Its route.
pub static ROUTE: OperationRoute = OperationRoute {
    operation: Operation::ImportAsset,
    api: Api::Asset,
    template: "/v2/{project_id}/instances/{instance_id}/assets/import",
    method: Method::POST,
    body: BodyClass::Large,
    call,
    openapi,
};

/// Reads the caller, the namespace, the query and the upload, in the order the API checks them.
fn call<'a>(app: &'a App, mut call: Call<'a>, req: Request) -> OperationFuture<'a> {
    Box::pin(async move {
        let plan = call.plan.take();
        let (caller, scope) = (call.caller()?, call.scope()?);
        let query = query(req.uri())?;
        let upload = upload(req).await?;
        json(&import_asset(app, caller, scope, query, plan, upload, &call).await?)
    })
}

fn openapi() -> Value {
    let mut params = asset_params(&NAMESPACE);
    params.push(
        json!({"name": "type", "in": "query", "required": false, "schema": {"enum": ["AddNew", "Merge"]}}),
    );
    params.push(
        json!({"name": "mode", "in": "query", "required": false, "schema": {"enum": ["AddNew", "Merge"]}}),
    );
    params.push(param("prefix", "query", false, "Prepended to application names."));
    params.push(
        json!({"name": "datasource_overwrite", "in": "query", "required": false, "schema": {"enum": ["true", "false"]}}),
    );
    json!({"operationId": Operation::ImportAsset, "tags": ["ASSET_MANAGEMENT"],
        "parameters": params,
        "requestBody": {"required": true, "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["ImportAssetRequestBody"],
            "properties": {"ImportAssetRequestBody": {"type": "string", "format": "binary", "description": "The asset package (.zip); a part named `file` is accepted too."}}}}}},
        "responses": job_created()})
}
