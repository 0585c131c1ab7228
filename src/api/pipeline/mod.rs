//! The request pipeline: the one service every request goes through ([`Pipeline`]), running
//! single-purpose steps over one [`context::Exchange`] record. Steps are plain async functions,
//! not layers of their own: each layer costs a clone of what it wraps and a boxed future a
//! request. The cloud's operations are called by the pipeline itself ([`crate::api::dispatch`]),
//! with what the steps found passed as arguments ([`Call`]), not through request extensions;
//! every other route goes to axum's router.
//!
//! 1. [`context`]: the record (request id, route, operation, namespace, start time).
//! 2. [`body_limit`]: refusals before the body is read; the body's bound.
//! 3. [`authentication`]: the caller of an asset operation, and then its large body's permit
//!    ([`large_body`]).
//!    Then [`throttle`]: the gateway's flow control, for the user (or the address of a request
//!    without one).
//! 4. [`faults`]: the first matching fault rule.
//! 5. the operation (or axum's router), within `[server] request_timeout_ms` together with steps
//!    3 and 4.
//! 6. [`respond`]: the error body, `X-Request-Id`, journal, metrics, log line.
//!
//! The control plane's [`admin_guard`] is a route layer of its routes only.

pub mod admin_guard;
pub mod authentication;
pub mod body_limit;
pub mod context;
pub mod faults;
pub mod large_body;
pub mod respond;
pub mod throttle;

use std::convert::Infallible;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::response::Response;
use futures_util::FutureExt;
use tower::Service;

use crate::api::RouteTable;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorCode};
use crate::jobs::FailPlan;
use crate::scope::Scope;
use crate::state::AppState;
use context::{Exchange, Namespace};

/// The emulator as one service (see the module documentation).
#[derive(Debug, Clone)]
pub struct Pipeline {
    app: AppState,
    routes: Arc<RouteTable>,
    /// What answers the routes that are no operation, and paths no route has.
    others: Router,
}

impl Pipeline {
    /// The pipeline over `routes`, handing what is no operation to `others`.
    pub fn new(app: AppState, routes: RouteTable, others: Router) -> Self {
        Self {
            app,
            routes: Arc::new(routes),
            others,
        }
    }
}

impl Service<Request> for Pipeline {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // axum's router is always ready.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { Ok(this.answer(req).await) })
    }
}

/// What the steps found, handed to the operation.
#[derive(Debug)]
pub struct Call<'a> {
    caller: Option<Caller>,
    namespace: Option<&'a Namespace>,
    /// The job failure a fault planned.
    pub plan: Option<FailPlan>,
}

impl Call<'_> {
    /// The caller (every asset operation has one).
    pub fn caller(&self) -> Result<&Caller, ApiError> {
        self.caller
            .as_ref()
            .ok_or_else(|| ApiError::new(ErrorCode::Internal, "an operation without a caller"))
    }

    /// The project and instance of the path; a bad one is `ROMA.13000` naming the field.
    pub fn scope(&self) -> Result<Scope, ApiError> {
        self.namespace.map_or_else(
            || {
                Err(ApiError::new(
                    ErrorCode::Internal,
                    "an operation without a namespace",
                ))
            },
            Namespace::scope,
        )
    }
}

impl Pipeline {
    /// Runs a request through the steps (see the module documentation). The transport awaits
    /// this directly: its future lives in the connection's, not in a box of its own.
    pub async fn answer(self, mut req: Request) -> Response {
        let app = &self.app;
        let route = self.routes.at(req.uri().path());
        let mut exchange = Exchange::begin(app, &req, route);
        let outcome = match body_limit::check(app, &mut req, &exchange) {
            Err(err) => Err(err),
            Ok(()) => {
                // From the exchange's start: no second reading of the clock.
                let deadline = tokio::time::Instant::from_std(exchange.started)
                    + Duration::from_millis(app.config.server.request_timeout_ms);
                let steps = AssertUnwindSafe(handle(app, &mut exchange, req, self.others)).catch_unwind();
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

/// Steps 3 to 5.
async fn handle(
    app: &AppState,
    exchange: &mut Exchange,
    mut req: Request,
    mut others: Router,
) -> Result<Response, ApiError> {
    let Some(operation) = exchange.operation else {
        // A path of an operation asked with another method is no API either (D2).
        if exchange.route.is_some_and(|r| r.operation.is_some()) {
            return Err(crate::api::method_not_allowed_error());
        }
        let Ok(res) = others.call(req).await;
        return Ok(res);
    };
    let mut caller = None;
    if operation.is_asset() {
        let (authenticated, found) = authentication::authenticate(app, exchange, req).await?;
        req = authenticated;
        exchange.caller = Some(found.user.clone());
        caller = Some(found);
    }
    throttle::check(app, &req, caller.as_ref().map(|c| &*c.user))?;
    let plan = faults::apply(app, exchange, operation).await?;
    let call = Call {
        caller,
        namespace: exchange.namespace.as_ref(),
        plan,
    };
    crate::api::dispatch(app, operation, call, req).await
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::extract::Request;
    use axum::routing::get;
    use tower::Service;

    use crate::config::Config;
    use crate::state::AppState;

    async fn boom() -> &'static str {
        panic!("the secret details")
    }

    #[tokio::test]
    async fn a_panicking_handler_gets_an_internal_error_body_and_a_journal_entry() {
        let app = AppState::new(Config::default());
        let others = Router::new().route("/boom", get(boom)).with_state(app.clone());
        let mut router = super::Pipeline::new(app.clone(), crate::api::RouteTable::default(), others);
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
