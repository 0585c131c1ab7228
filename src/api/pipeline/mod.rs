//! The request pipeline: the one service every request goes through ([`Pipeline`]), running
//! single-purpose steps over one [`context::Exchange`] record. Steps are plain async functions,
//! not layers of their own: each layer costs a clone of what it wraps and a boxed future a
//! request. The route table ([`crate::api::route::Table`]) is matched once, when the record is
//! made; a cloud operation is called with what the steps found ([`Call`]), a control handler
//! with its path parameter.
//!
//! 1. [`context`]: the record (request id, route, answer, parameters, namespace, start time).
//! 2. [`body_limit`]: refusals before the body is read; the body's bound.
//! 3. no answer for the path or its method: the gateway's 404 ([`respond::no_api`]).
//! 4. [`authentication`]: the caller of every cloud operation but the token request (IAM's
//!    queries refuse a bad token in Keystone's body), and then its large body's permit
//!    ([`large_body`]); or the [`admin_guard`] of a control route.
//!    Then [`throttle`]: the gateway's flow control, for the user (or the address of a request
//!    without one).
//! 5. [`faults`]: the first matching fault rule.
//! 6. the operation (or control handler), within `[server] request_timeout_ms` together with
//!    steps 3 to 5.
//! 7. [`respond`]: the error body, `X-Request-Id`, journal, metrics, log line.

pub mod admin_guard;
pub mod authentication;
pub mod body_limit;
pub mod context;
pub mod faults;
pub mod large_body;
pub mod notes;
pub mod respond;
pub mod throttle;

use std::convert::Infallible;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::Request;
use axum::response::Response;
use futures_util::FutureExt;
use tower::Service;

use crate::api::extract::PathParam;
pub use crate::api::route::Call;
use crate::api::route::{Answer, Api, Table};
use crate::app::App;
use crate::error::{ApiError, ErrorCode};
use context::Exchange;

/// The emulator as one service (see the module documentation).
#[derive(Debug, Clone)]
pub struct Pipeline {
    app: App,
    routes: Arc<Table>,
}

impl Pipeline {
    /// The pipeline over `routes`.
    pub fn new(app: App, routes: Table) -> Self {
        Self {
            app,
            routes: Arc::new(routes),
        }
    }

    /// Whether `req` is a probe (what a probe slot serves).
    pub fn is_probe(&self, req: &Request) -> bool {
        let resolved = self.routes.resolve(req.method(), req.uri().path());
        resolved.api == Api::Probe && req.method() == axum::http::Method::GET
    }
}

impl Service<Request> for Pipeline {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { Ok(this.answer(req).await) })
    }
}

impl Pipeline {
    /// Runs a request through the steps (see the module documentation). The transport awaits
    /// this directly: its future lives in the connection's, not in a box of its own.
    pub async fn answer(self, mut req: Request) -> Response {
        let app = &self.app;
        let resolved = self.routes.resolve(req.method(), req.uri().path());
        let mut exchange = Exchange::begin(app, &req, resolved);
        let outcome = match body_limit::check(app, &mut req, &exchange) {
            Err(err) => Err(err),
            Ok(()) => {
                // From the exchange's start: no second reading of the clock.
                let deadline = tokio::time::Instant::from_std(exchange.started)
                    + Duration::from_millis(app.config.server.request_timeout_ms);
                let steps = AssertUnwindSafe(handle(app, &self.routes, &mut exchange, req)).catch_unwind();
                match tokio::time::timeout_at(deadline, steps).await {
                    Ok(Ok(outcome)) => outcome,
                    Ok(Err(panic)) => Err(respond::panicked(&*panic)),
                    Err(_) => Err(ApiError::new(
                        ErrorCode::Timeout,
                        "the request took longer than server.request_timeout_ms",
                    )),
                }
            }
        };
        respond::finish(app, exchange, outcome)
    }
}

/// Steps 3 to 6.
async fn handle(
    app: &App,
    routes: &Table,
    exchange: &mut Exchange<'_>,
    mut req: Request,
) -> Result<Response, ApiError> {
    let Some(answer) = exchange.answer else {
        let hint = crate::api::hints::hint(routes, exchange.route, req.method(), req.uri().path());
        if let Some(hint) = &hint {
            tracing::info!(request_id = %exchange.id, hint = %hint, "no route answers this request");
        }
        exchange.hint = hint;
        return Err(respond::no_api(exchange));
    };
    let op = match answer {
        Answer::Operation(op) => op,
        Answer::Handler(endpoint) => {
            if exchange.api == Api::Control {
                admin_guard::check(app, &req)?;
            }
            if let Some((name, raw)) = exchange.params.last() {
                req.extensions_mut().insert(PathParam {
                    name,
                    raw: raw.into(),
                });
            }
            return Ok(endpoint.call(req, app.clone()).await);
        }
    };
    let mut caller = None;
    if !op.operation.anonymous() {
        let authenticated = authentication::authenticate(app, exchange, req).await;
        // IAM's own queries refuse a caller token in Keystone's body (D14); AK/SK stays the gateway's.
        let (authenticated, found) = authenticated.map_err(|e| match (op.api, e.code) {
            (Api::Iam, ErrorCode::MissingToken | ErrorCode::BadToken | ErrorCode::TokenExpired) => {
                ApiError::new(ErrorCode::IamUnauthorized, e.details)
            }
            _ => e,
        })?;
        req = authenticated;
        exchange.caller = Some(found.user.clone());
        caller = Some(found);
    }
    throttle::check(app, &req, caller.as_ref().map(|c| &*c.user))?;
    let (plan, wire) = faults::apply(app, exchange, op.operation).await;
    exchange.wire = wire;
    let plan = plan?;
    let call = Call {
        keep_archive: wire.is_some_and(|w| w.keep_archive),
        caller,
        namespace: exchange.namespace.as_ref(),
        params: &exchange.params,
        plan,
        request_id: exchange.id,
        notes: &exchange.notes,
    };
    (op.call)(app, call, req).await
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::extract::Request;
    use tower::Service;

    use crate::api::route::{Api, Route, Table};
    use crate::app::App;
    use crate::config::Config;

    async fn boom() -> &'static str {
        panic!("the secret details")
    }

    #[tokio::test]
    async fn a_panicking_handler_gets_an_internal_error_body_and_a_journal_entry() {
        let app = App::new(Config::default());
        let table = Table::new(vec![Route::new(Api::Iam, "/boom").get(boom)]);
        let mut router = super::Pipeline::new(app.clone(), table);
        let req = Request::get("/boom").body(Body::empty()).expect("request");
        let res = router.call(req).await.expect("infallible");
        assert_eq!(res.status(), 500);
        let request_id = res.headers()["x-request-id"].to_str().expect("id").to_owned();
        let body = axum::body::to_bytes(res.into_body(), 4096).await.expect("body");
        let body: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
        assert_eq!(body["request_id"], request_id.as_str());
        assert_eq!(body["error_code"], "APIG.0201", "{body}");
        assert!(!body.to_string().contains("secret"), "{body}");
        let journal = app.journal.all();
        let entry = journal.last().expect("journaled");
        assert_eq!((entry.status, entry.request_id.to_string()), (500, request_id));
    }
}
