//! The emulator's own control plane under `/_emulator` (not part of the ROMA API): health, reset,
//! jobs, waiting, manual progression, the clock, the request journal, faults and the error catalog.
//! Each handler parses, calls [`crate::control::Control`], and shapes the answer.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::api::dto::{
    ClockBody, ClockView, ControlJob, ControlJobs, DEFAULT_PAGE, ErrorView, ErrorsView, FailBody, FaultsView,
    Health, JobsQuery, MAX_PAGE, RequestView, RequestsQuery, RequestsView, ResetQuery, WaitQuery,
};
use crate::api::extract::{ApiPath, ApiQuery, RawBody, parse_json};
use crate::api::route::{Api, Route};
use crate::app::App;
use crate::clock::Timestamp;
use crate::control::{Control, WaitFor};
use crate::error::{ApiError, ErrorCode};
use crate::faults::FaultSpec;
use crate::jobs::{JobFilter, JobKind, PublicStatus, ReasonSpec};

mod credentials;
mod diagnostics;
mod state;

/// The control routes (all but the probes, the metrics and the document), behind the admin token
/// when one is set.
pub fn routes() -> Vec<Route> {
    let route = |template| Route::new(Api::Control, template);
    vec![
        route("/_emulator/reset").post(reset),
        route("/_emulator/jobs").get(jobs),
        route("/_emulator/jobs/{job_id}").get(job),
        route("/_emulator/jobs/{job_id}/wait").get(wait),
        route("/_emulator/jobs/{job_id}/complete").post(complete),
        route("/_emulator/jobs/{job_id}/fail").post(fail),
        route("/_emulator/clock").get(clock).post(move_clock),
        route("/_emulator/requests").get(requests).delete(clear_requests),
        route("/_emulator/requests/unmatched").get(diagnostics::unmatched),
        route("/_emulator/verify").post(diagnostics::verify),
        route("/_emulator/verify/report").get(diagnostics::report),
        route("/_emulator/faults")
            .get(faults)
            .post(add_fault)
            .delete(clear_faults),
        route("/_emulator/faults/{fault_id}").delete(remove_fault),
        route("/_emulator/errors").get(errors),
        route("/_emulator/users")
            .get(credentials::users)
            .post(credentials::add_user),
        route("/_emulator/users/{name}").delete(credentials::remove_user),
        route("/_emulator/lockouts").get(credentials::lockouts),
        route("/_emulator/lockouts/{access_key}").delete(credentials::lift_lockout),
        route("/_emulator/state")
            .large_body()
            .get(state::export_state)
            .put(state::import_state),
        route("/_emulator/state/save").post(state::save_state),
        route("/_emulator/bundle").get(state::export_bundle),
    ]
}

fn control(app: &App) -> Control {
    Control::new(app.clone())
}

fn job_json(app: &App, view: &crate::jobs::JobView) -> Json<ControlJob> {
    Json(ControlJob::new(view, app.config.api.dialect))
}

/// `GET /_emulator/health`: 200 `{"status": "ok"}` once requests are served (never needs the admin token).
pub async fn health() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// `GET /_emulator/metrics`: the metrics in the OpenMetrics text format (never needs the admin
/// token: no label carries an id or a user).
pub async fn metrics(State(app): State<App>) -> Response {
    let text = app.render_metrics();
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// `GET /_emulator/ready`: 200 `{"status": "ready"}` while the emulator takes work; 503
/// `EMULATOR.0503` once it is shutting down (never needs the admin token).
pub async fn ready(State(app): State<App>) -> Result<Json<Health>, ApiError> {
    if *app.shutdown.borrow() {
        return Err(ApiError::new(
            ErrorCode::Unavailable,
            "the emulator is shutting down",
        ));
    }
    Ok(Json(Health { status: "ready" }))
}

/// `POST /_emulator/reset[?project_id=P&instance_id=I]`.
async fn reset(State(app): State<App>, ApiQuery(q): ApiQuery<ResetQuery>) -> Json<serde_json::Value> {
    let c = control(&app);
    if q.project_id.is_none() && q.instance_id.is_none() {
        c.reset();
        return Json(json!({"reset": "all"}));
    }
    c.reset_namespace(q.project_id.as_deref(), q.instance_id.as_deref());
    Json(json!({"reset": {"project_id": q.project_id, "instance_id": q.instance_id}}))
}

fn parse_status(s: &str) -> Result<PublicStatus, ApiError> {
    PublicStatus::parse(s).ok_or_else(|| ApiError::invalid(format!("status: unknown status {s:?}")))
}

/// `GET /_emulator/jobs?user=&project_id=&instance_id=&type=&status=&limit=&cursor=`: one page,
/// oldest first, with the total and the next page's cursor.
async fn jobs(
    State(app): State<App>,
    ApiQuery(q): ApiQuery<JobsQuery>,
) -> Result<Json<ControlJobs>, ApiError> {
    let filter = JobFilter {
        user: q.user,
        project: q.project_id,
        instance: q.instance_id,
        kind: q
            .kind
            .map(|k| {
                JobKind::parse(&k).ok_or_else(|| ApiError::invalid(format!("type: unknown job type {k:?}")))
            })
            .transpose()?,
        status: q.status.as_deref().map(parse_status).transpose()?,
    };
    let limit = page_limit(q.limit)?;
    let after = q
        .cursor
        .map(|c| {
            c.parse::<u64>().map_err(|_| {
                ApiError::invalid(format!(
                    "cursor: {c:?} is no cursor of this list (pass next_cursor)"
                ))
            })
        })
        .transpose()?;
    let page = control(&app).jobs_page(&filter, after, limit);
    let jobs = page
        .jobs
        .iter()
        .map(|v| ControlJob::new(v, app.config.api.dialect))
        .collect();
    Ok(Json(ControlJobs {
        jobs,
        total: page.total,
        next_cursor: page.next.map(|seq| seq.to_string()),
    }))
}

/// The page size `limit` asks for: 1..[`MAX_PAGE`], [`DEFAULT_PAGE`] when left out.
fn page_limit(limit: Option<usize>) -> Result<usize, ApiError> {
    match limit {
        None => Ok(DEFAULT_PAGE),
        Some(n @ 1..=MAX_PAGE) => Ok(n),
        Some(n) => Err(ApiError::invalid(format!(
            "limit: must be 1..{MAX_PAGE}, got {n}"
        ))),
    }
}

/// `GET /_emulator/jobs/{job_id}`: any user's job.
async fn job(State(app): State<App>, ApiPath(id): ApiPath) -> Result<Json<ControlJob>, ApiError> {
    Ok(job_json(&app, &control(&app).job(&id)?))
}

/// `GET /_emulator/jobs/{job_id}/wait?status=Success&timeout_ms=5000`: the job once it gets there, or 408.
async fn wait(
    State(app): State<App>,
    ApiPath(id): ApiPath,
    ApiQuery(q): ApiQuery<WaitQuery>,
) -> Result<Json<ControlJob>, ApiError> {
    let what = q
        .status
        .as_deref()
        .map(parse_status)
        .transpose()?
        .map_or(WaitFor::Ended, WaitFor::Status);
    let limit = app.config.server.request_timeout_ms.saturating_sub(100);
    let timeout_ms = q.timeout_ms.unwrap_or(5000);
    if timeout_ms > limit {
        return Err(ApiError::invalid(format!(
            "timeout_ms: at most {limit} (server.request_timeout_ms - 100)"
        )));
    }
    let job = control(&app)
        .wait(&id, what, Duration::from_millis(timeout_ms))
        .await?;
    Ok(job_json(&app, &job))
}

/// `POST /_emulator/jobs/{job_id}/complete`.
async fn complete(State(app): State<App>, ApiPath(id): ApiPath) -> Result<Json<ControlJob>, ApiError> {
    Ok(job_json(&app, &control(&app).complete(&id)?))
}

/// `POST /_emulator/jobs/{job_id}/fail` with optional `{"reasons": [...]}`.
async fn fail(
    State(app): State<App>,
    ApiPath(id): ApiPath,
    RawBody(body): RawBody,
) -> Result<Json<ControlJob>, ApiError> {
    let body: FailBody = if body.iter().all(u8::is_ascii_whitespace) {
        FailBody::default()
    } else {
        parse_json(&body)?
    };
    let reasons = ReasonSpec::to_reasons(body.reasons.as_deref()).map_err(ApiError::invalid)?;
    Ok(job_json(&app, &control(&app).fail(&id, reasons)?))
}

fn clock_view(c: &Control, now: Timestamp) -> Json<ClockView> {
    Json(ClockView {
        now: now.rfc3339_millis(),
        mode: if c.clock_is_virtual() { "virtual" } else { "real" },
    })
}

/// `GET /_emulator/clock`.
async fn clock(State(app): State<App>) -> Json<ClockView> {
    let c = control(&app);
    clock_view(&c, c.now())
}

/// `POST /_emulator/clock` with `{"advance_ms": N}` or `{"set": "<RFC 3339>"}` (virtual clock only).
async fn move_clock(State(app): State<App>, RawBody(body): RawBody) -> Result<Json<ClockView>, ApiError> {
    let body: ClockBody = parse_json(&body)?;
    let c = control(&app);
    let now = match (body.advance_ms, body.set) {
        (Some(ms), None) => c.advance(Duration::from_millis(ms))?,
        (None, Some(t)) => {
            let t = Timestamp::parse_rfc3339(&t)
                .ok_or_else(|| ApiError::invalid(format!("set: {t:?} is not an RFC 3339 time")))?;
            c.set_time(t)?
        }
        _ => return Err(ApiError::invalid("body: give exactly one of advance_ms and set")),
    };
    Ok(clock_view(&c, now))
}

/// `GET /_emulator/requests?limit=&offset=&project_id=&instance_id=&user=&status=`: one page,
/// newest first, with the total and the next page's offset.
async fn requests(
    State(app): State<App>,
    ApiQuery(q): ApiQuery<RequestsQuery>,
) -> Result<Json<RequestsView>, ApiError> {
    let limit = page_limit(q.limit)?;
    let offset = q.offset.unwrap_or(0);
    let filter = crate::journal::EntryFilter {
        project_id: q.project_id,
        instance_id: q.instance_id,
        user: q.user,
        status: q.status,
    };
    let (entries, total) = control(&app).requests_page(&filter, offset, limit);
    let next = offset.saturating_add(entries.len());
    Ok(Json(RequestsView {
        requests: entries.iter().map(|e| RequestView::from(&**e)).collect(),
        total,
        next_offset: (next < total).then_some(next),
    }))
}

/// `DELETE /_emulator/requests`.
async fn clear_requests(State(app): State<App>) -> StatusCode {
    control(&app).clear_requests();
    StatusCode::NO_CONTENT
}

/// `POST /_emulator/faults`: 201 with the fault and its id.
async fn add_fault(State(app): State<App>, RawBody(body): RawBody) -> Result<Response, ApiError> {
    let spec: FaultSpec = parse_json(&body)?;
    let fault = control(&app).add_fault(spec)?;
    Ok((StatusCode::CREATED, Json(fault)).into_response())
}

/// `GET /_emulator/faults`.
async fn faults(State(app): State<App>) -> Json<FaultsView> {
    Json(FaultsView {
        faults: control(&app).faults(),
    })
}

/// `DELETE /_emulator/faults`.
async fn clear_faults(State(app): State<App>) -> StatusCode {
    control(&app).clear_faults();
    StatusCode::NO_CONTENT
}

/// `DELETE /_emulator/faults/{fault_id}`.
async fn remove_fault(State(app): State<App>, ApiPath(id): ApiPath) -> Result<StatusCode, ApiError> {
    control(&app).remove_fault(&id)?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /_emulator/errors`: every code the emulator can answer.
async fn errors() -> Json<ErrorsView> {
    let errors = ErrorCode::ALL
        .iter()
        .map(|c| ErrorView {
            error_code: c.code(),
            status_documented: c.documented_status().as_u16(),
            status_catalog: c.catalog_status().as_u16(),
            error_msg: c.message(),
            meaning: c.meaning(),
        })
        .collect();
    Json(ErrorsView { errors })
}
