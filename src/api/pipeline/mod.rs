//! The request pipeline: one layer around every route ([`PipelineLayer`], a plain tower service),
//! running single-purpose steps over one [`context::Exchange`] record. Steps are plain async
//! functions, not layers of their own: each layer costs a clone of what it wraps and a boxed future
//! a request. (axum's `from_fn` would add a boxed `Next` and an extractor pass on top.)
//!
//! 1. [`context`]: the record (request id, operation, namespace, start time).
//! 2. [`body_limit`]: refusals before the body is read; the body's bound.
//! 3. [`authentication`]: the caller of an asset operation.
//! 4. [`faults`]: the first matching fault rule.
//! 5. the handler, within `[server] request_timeout_ms` together with steps 3 and 4.
//! 6. [`respond`]: the error body, `X-Request-Id`, journal, metrics, log line.
//!
//! The control plane's [`admin_guard`] is a route layer of its routes only.

pub mod admin_guard;
pub mod authentication;
pub mod body_limit;
pub mod context;
pub mod faults;
pub mod respond;

use std::convert::Infallible;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::Request;
use axum::response::Response;
use futures_util::FutureExt;
use tower::Service;

use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;
use context::Exchange;

/// Puts the pipeline around a route.
#[derive(Debug, Clone)]
pub struct PipelineLayer(pub AppState);

impl<S> tower::Layer<S> for PipelineLayer {
    type Service = Pipeline<S>;

    fn layer(&self, inner: S) -> Pipeline<S> {
        Pipeline {
            app: self.0.clone(),
            inner,
        }
    }
}

/// A route (`inner`) behind the pipeline.
#[derive(Debug, Clone)]
pub struct Pipeline<S> {
    app: AppState,
    inner: S,
}

impl<S> Service<Request> for Pipeline<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        // The service made ready goes with the request; its clone stays for the next one.
        let stays = self.inner.clone();
        let ready = std::mem::replace(&mut self.inner, stays);
        let app = self.app.clone();
        Box::pin(async move { Ok(run(app, req, ready).await) })
    }
}

/// Runs a request through the steps (see the module documentation); `route` answers it.
async fn run<S>(app: AppState, mut req: Request, route: S) -> Response
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    let mut exchange = Exchange::begin(&app, &req);
    if let Some(namespace) = &exchange.namespace {
        req.extensions_mut().insert(namespace.clone());
    }
    let outcome = match body_limit::check(&app, &mut req, &exchange) {
        Err(err) => Err(err),
        Ok(()) => {
            let timeout = Duration::from_millis(app.config.server.request_timeout_ms);
            let steps = AssertUnwindSafe(handle(&app, &mut exchange, req, route)).catch_unwind();
            match tokio::time::timeout(timeout, steps).await {
                Ok(Ok(outcome)) => outcome,
                Ok(Err(panic)) => Err(respond::panicked(&*panic)),
                Err(_) => Err(ApiError::new(
                    ErrorCode::Timeout,
                    "the request took longer than server.request_timeout_ms",
                )),
            }
        }
    };
    respond::finish(&app, exchange, outcome)
}

/// Steps 3 to 5.
async fn handle<S>(
    app: &AppState,
    exchange: &mut Exchange,
    mut req: Request,
    mut route: S,
) -> Result<Response, ApiError>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    if let Some(operation) = exchange.operation {
        if operation.is_asset() {
            let (authenticated, caller) = authentication::authenticate(app, exchange, req).await?;
            req = authenticated;
            exchange.caller = Some(caller.user.clone());
            req.extensions_mut().insert(caller);
        }
        if let Some(plan) = faults::apply(app, exchange, operation).await? {
            req.extensions_mut().insert(plan);
        }
    }
    let Ok(res) = route.call(req).await;
    Ok(res)
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
        let mut router = Router::new()
            .route("/boom", get(boom))
            .layer(super::PipelineLayer(app.clone()))
            .with_state(app.clone());
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
