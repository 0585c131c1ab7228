//! Step 5, respond: the one place an [`ApiError`] becomes a response (its status under the
//! request's policy, the ROMA, gateway or IAM JSON body, `Content-Type: application/json`), then
//! `X-Request-Id`, the journal, the metrics and one log line (never a credential).

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::context::Exchange;
use crate::app::App;
use crate::error::{ApiError, ErrorCode, Status, StatusPolicy};
use crate::journal::{Entry, Refusal};
use crate::telemetry::RequestLine;

/// `X-Request-Id`, named once (a name given as text is parsed and copied a response).
static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The complete response for `err`: status, JSON body, content type.
pub fn render(err: &ApiError, policy: StatusPolicy, request_id: &str) -> Response {
    json_bytes(status_code(err.status(policy)), err.body_bytes(request_id).into())
}

/// The catalog's status as HTTP's.
pub fn status_code(status: Status) -> StatusCode {
    StatusCode::from_u16(status.as_u16()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// A `200` answer of `value` as JSON. Its bytes take one allocation of their exact size (written
/// on the stack first when they fit), and the header map has room for the `X-Request-Id` that
/// [`finish`] adds.
pub fn json<T: serde::Serialize>(value: &T) -> Result<Response, ApiError> {
    let mut stack = [0u8; 1024];
    let mut cursor = std::io::Cursor::new(&mut stack[..]);
    let bytes = match serde_json::to_writer(&mut cursor, value) {
        Ok(()) => {
            let written = usize::try_from(cursor.position()).unwrap_or(usize::MAX);
            Bytes::copy_from_slice(stack.get(..written).unwrap_or_default())
        }
        // Larger than the stack buffer (or not serialisable: the second attempt tells).
        Err(_) => serde_json::to_vec(value)
            .map_err(|e| ApiError::new(ErrorCode::Internal, format!("serialising the answer: {e}")))?
            .into(),
    };
    Ok(json_bytes(StatusCode::OK, bytes))
}

fn json_bytes(status: StatusCode, bytes: Bytes) -> Response {
    let mut res = Response::new(Body::from(bytes));
    *res.status_mut() = status;
    let headers = res.headers_mut();
    headers.reserve(2);
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    res
}

impl IntoResponse for ApiError {
    /// A placeholder carrying the error; [`finish`] replaces it by [`render`] with the request id
    /// and the status policy of the route.
    fn into_response(self) -> Response {
        let mut res = status_code(self.code.catalog_status()).into_response();
        res.extensions_mut().insert(self);
        res
    }
}

/// The refusal of a request the route table found no answer for: a path no route has, or a
/// method (or a `HEAD`) its route does not take. Both are the gateway's 404 `APIG.0101` (D2): the
/// gateway keys an API by method and path, so there is no 405 and no `Allow` header.
pub fn no_api(exchange: &Exchange<'_>) -> ApiError {
    if exchange.route.is_some() {
        ApiError::new(ErrorCode::MethodNotAllowed, "this path does not take this method")
    } else {
        ApiError::new(ErrorCode::RouteNotFound, "no API has this path")
    }
}

/// The response to send for `outcome`, with the exchange recorded.
pub fn finish(app: &App, mut exchange: Exchange<'_>, outcome: Result<Response, ApiError>) -> Response {
    let mut res = match outcome {
        Ok(mut res) => {
            exchange.error = res.extensions_mut().remove::<ApiError>();
            res
        }
        Err(err) => {
            exchange.error = Some(err);
            Response::default()
        }
    };
    let request_id = exchange.id.hex();
    if let Some(err) = &exchange.error {
        if err.code == ErrorCode::Internal {
            tracing::error!(request_id = %request_id, error = %err.details, "internal error");
            // Internal details go to the log only.
            let sent = ApiError {
                details: "see the emulator's log for this request_id".into(),
                ..err.clone()
            };
            res = render(&sent, exchange.policy, &request_id);
        } else {
            res = render(err, exchange.policy, &request_id);
        }
    }
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        res.headers_mut().insert(&X_REQUEST_ID, v);
    }
    if let Some(seconds) = exchange.error.as_ref().and_then(|e| e.retry_after_s) {
        res.headers_mut()
            .insert(axum::http::header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    let wire = exchange.wire.or_else(|| exchange.notes.wire());
    exchange.wire = wire;
    res = on_the_wire(res, wire.as_ref(), exchange.notes.metered());
    record(app, exchange, &request_id, res.status().as_u16());
    res
}

/// The answer as a wire fault sends it: marked for the transport to hang up, or its body stalled
/// and cut.
fn on_the_wire(
    mut res: Response,
    wire: Option<&crate::faults::Wire>,
    transfer: Option<Arc<crate::journal::Transfer>>,
) -> Response {
    use crate::faults::wire::Hangup;
    if let Some(wire) = wire.filter(|w| w.drops_connection()) {
        let hangup = if wire.reset { Hangup::Reset } else { Hangup::Empty };
        res.extensions_mut().insert(hangup);
        return res;
    }
    let shaped = wire.is_some_and(|w| w.stall.is_some() || w.cut_after_bytes.is_some());
    if shaped || transfer.is_some() {
        return res.map(|body| Body::new(crate::api::sent_body::Metered::new(body, wire, transfer)));
    }
    res
}

/// The journal entry, the metrics and the log line of a finished exchange.
fn record(app: &App, exchange: Exchange<'_>, request_id: &str, status: u16) {
    // Keystone's answer to a wrong password carries no code.
    let error_code = exchange
        .error
        .as_ref()
        .map(ApiError::wire_code)
        .filter(|c| !c.is_empty());
    // A gateway body has no error_details (D13): what exactly was wrong goes to the log line.
    let error_details = exchange
        .error
        .as_ref()
        .filter(|e| e.code != ErrorCode::Internal)
        .map(|e| &*e.details);
    let operation = exchange.operation;
    let elapsed = exchange.started.elapsed();
    let route = exchange.template();
    RequestLine {
        method: exchange.method.as_str(),
        route: route.unwrap_or("(no route)"),
        operation: operation.map_or("", crate::operation::Operation::id),
        status,
        error_code: error_code.unwrap_or_default(),
        error_details: error_details.unwrap_or_default(),
        latency_us: u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
        request_id,
    }
    .log();
    // Bounded labels: an operation id, else the route template, else "unmatched".
    let label = match (operation, route) {
        (Some(op), _) => op.id().into(),
        (None, Some(route)) => route.into(),
        (None, None) => "unmatched".into(),
    };
    app.metrics.request(label, status, elapsed);
    if let Some(path) = exchange.journaled {
        let (project_id, instance_id) = match &exchange.namespace {
            Some(ns) => ns.ids(),
            None => unmatched_namespace(&path),
        };
        let (summary, transfer) = exchange.notes.take();
        let summaries = app.config.journal.summaries;
        let refusal = exchange
            .error
            .as_ref()
            .map(|e| refusal(e, error_code.unwrap_or(e.code.code())));
        app.journal.record(Entry {
            summary: summary
                .filter(|_| summaries)
                .as_ref()
                .and_then(crate::journal::SummaryText::of),
            refusal,
            hint: exchange.hint,
            wire_fault: exchange.wire.map(|w| w.describe()),
            transfer: transfer.filter(|_| summaries),
            time: app.clock.now(),
            method: method_name(&exchange.method),
            path,
            operation,
            user: exchange.caller,
            project_id,
            instance_id,
            status,
            error_code: error_code.map(str::to_owned),
            request_id: exchange.id,
        });
    }
}

/// The project and instance a path no route has seems to name (`/v2/{project}/instances/{instance}/…`),
/// so its entry is found with the namespace's.
fn unmatched_namespace(path: &str) -> (Option<Arc<str>>, Option<Arc<str>>) {
    let Some(rest) = path.strip_prefix("/v2/") else {
        return (None, None);
    };
    let mut segments = rest.split('/');
    let project = segments.next().filter(|p| !p.is_empty()).map(Arc::from);
    let instance = match segments.next() {
        Some("instances") => segments.next().filter(|i| !i.is_empty()).map(Arc::from),
        _ => None,
    };
    (project, instance)
}

/// The journal's account of a refused request: the rule (the cause's, else the code's meaning),
/// the field at fault, the code, the details and the cause's facts.
fn refusal(err: &ApiError, code: &str) -> Box<Refusal> {
    let cause = err.cause.as_deref();
    let details =
        (err.code != ErrorCode::Internal && !err.details.is_empty()).then(|| err.details.to_string());
    Box::new(Refusal {
        rule: cause
            .and_then(|c| c.rule)
            .unwrap_or(err.code.meaning())
            .to_owned(),
        field: err.field_at_fault().map(String::from),
        error_code: code.to_owned(),
        details,
        facts: cause
            .map(|c| {
                c.facts
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), v.clone()))
                    .collect()
            })
            .unwrap_or_default(),
    })
}

/// A method's name, borrowed when it is a standard one.
fn method_name(method: &Method) -> std::borrow::Cow<'static, str> {
    const STANDARD: [&str; 7] = ["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS"];
    match STANDARD.iter().find(|name| **name == method.as_str()) {
        Some(name) => (*name).into(),
        None => method.as_str().to_owned().into(),
    }
}

/// The error of a step or handler that panicked: `Internal`, with what it said for the log.
pub fn panicked(panic: &(dyn std::any::Any + Send)) -> ApiError {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_owned());
    ApiError::new(ErrorCode::Internal, format!("handler panicked: {what}"))
}

#[cfg(test)]
mod tests {
    use super::json;

    #[tokio::test]
    async fn a_json_answer_is_serde_jsons_bytes_however_long() {
        for value in [
            serde_json::json!({"job_id": "0123"}),
            serde_json::json!({"reasons": ["x".repeat(600), "y".repeat(600)]}),
        ] {
            let res = json(&value).expect("serialisable");
            assert_eq!(res.status(), 200);
            assert_eq!(res.headers()["content-type"], "application/json");
            let body = axum::body::to_bytes(res.into_body(), 1 << 20)
                .await
                .expect("body");
            assert_eq!(body, serde_json::to_vec(&value).expect("bytes"));
        }
    }
}
