//! The control plane's diagnostics: verification with near misses, and the requests that went
//! nowhere with their hints.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::{control, page_limit};
use crate::api::dto::RequestView;
use crate::api::extract::{ApiQuery, RawBody, parse_json};
use crate::app::App;
use crate::error::{ApiError, ErrorCode};
use crate::journal::verify::Expectation;

/// `POST /_emulator/verify`: 200 `{"matched"}` when the count holds, else 409 with the near
/// misses; 400 naming a bad field of the expectation; 409 `EMULATOR.0409` with the journal off.
pub(super) async fn verify(State(app): State<App>, RawBody(body): RawBody) -> Result<Response, ApiError> {
    let expectation: Expectation = parse_json(&body)?;
    expectation.validate().map_err(ApiError::invalid)?;
    if !app.journal.enabled() {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "journal.max_entries = 0: no request is recorded, so none can be verified",
        ));
    }
    let verdict = control(&app).verify(&expectation);
    let status = if verdict.holds {
        StatusCode::OK
    } else {
        StatusCode::CONFLICT
    };
    Ok((status, Json(verdict)).into_response())
}

/// The query of `GET /_emulator/requests/unmatched`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct UnmatchedQuery {
    project_id: Option<String>,
    instance_id: Option<String>,
    limit: Option<usize>,
}

/// `{"requests": [...]}` of `GET /_emulator/requests/unmatched`.
#[derive(Debug, Serialize)]
pub(super) struct Unmatched {
    requests: Vec<RequestView>,
}

/// `GET /_emulator/requests/unmatched?project_id=&instance_id=&limit=`: the newest requests no
/// route answered (a path no route has, or a method its route does not take), each with its hint.
pub(super) async fn unmatched(
    State(app): State<App>,
    ApiQuery(q): ApiQuery<UnmatchedQuery>,
) -> Result<Json<Unmatched>, ApiError> {
    let limit = page_limit(q.limit)?;
    let entries = control(&app).unmatched(q.project_id.as_deref(), q.instance_id.as_deref(), limit);
    let requests: Vec<RequestView> = entries.iter().map(|e| RequestView::from(&**e)).collect();
    Ok(Json(Unmatched { requests }))
}

/// The query of `GET /_emulator/verify/report`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ReportQuery {
    project_id: Option<String>,
    instance_id: Option<String>,
    max_polls_after_end: Option<usize>,
}

/// Polls of an ended job a report lets pass (a client that polls a few times more is fine).
pub const DEFAULT_MAX_POLLS_AFTER_END: usize = 3;

/// `GET /_emulator/verify/report?project_id=&instance_id=&max_polls_after_end=`: the built-in
/// expectations of a namespace (archives downloaded twice, exports never downloaded before
/// retention, jobs never polled, jobs polled after they ended more than N times, requests refused
/// by authentication) and whether it is `clean`.
pub(super) async fn report(
    State(app): State<App>,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> Result<Json<Report>, ApiError> {
    let project = q
        .project_id
        .ok_or_else(|| ApiError::invalid("project_id: required (a report is of one namespace)"))?;
    let max = q.max_polls_after_end.unwrap_or(DEFAULT_MAX_POLLS_AFTER_END);
    let findings = control(&app).report(&project, q.instance_id.as_deref(), max);
    Ok(Json(Report {
        project_id: project,
        instance_id: q.instance_id,
        max_polls_after_end: max,
        summaries: app.config.journal.summaries,
        clean: findings.is_clean(),
        findings,
    }))
}

/// The answer of `GET /_emulator/verify/report`.
#[derive(Debug, Serialize)]
pub(super) struct Report {
    project_id: String,
    instance_id: Option<String>,
    max_polls_after_end: usize,
    /// Whether job ids could be read (`[journal] summaries`).
    summaries: bool,
    /// Whether nothing was found.
    clean: bool,
    findings: crate::journal::report::Findings,
}
