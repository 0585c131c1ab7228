//! The route table: every path the emulator answers, each with its facts (its API, its body
//! class, its methods and what answers each), matched once a request by one matcher (matchit,
//! the one axum's router uses). What a request matched (the route, the answer for its method, the
//! path's parameters) is kept in its record (`pipeline::context::Exchange`), so no later step
//! reads the path again by position or prefix.
//!
//! A wrong method is decided here and nowhere else ([`Table::resolve`]); `pipeline::respond`
//! shapes its answer (the gateway's 404, D2, with no `Allow` header).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::extract::Request;
use axum::handler::Handler;
use axum::http::Method;
use axum::response::Response;

use crate::app::App;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorCode, StatusPolicy};
use crate::jobs::FailPlan;
use crate::operation::Operation;
use crate::scope::Scope;

/// The API a route belongs to: who checks its caller, which status policy its errors take, and
/// whether the journal records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// The cloud's asset operations: namespaced, authenticated (AK/SK or a token), D1's statuses.
    Asset,
    /// IAM, and any path outside `/v2/` and `/_emulator` that no route has: catalog statuses.
    Iam,
    /// The control plane: behind `[emulator] admin_token` when one is set, never journaled.
    Control,
    /// `/_emulator/health` and `/_emulator/ready`: served to anyone, and on a probe slot.
    Probe,
    /// The metrics and the OpenAPI document: served to anyone, never journaled.
    Open,
}

impl Api {
    /// The API of a path no route has, by its first segment.
    pub fn of_unmatched(path: &str) -> Api {
        if path.starts_with("/v2/") {
            Api::Asset
        } else if path.starts_with("/_emulator") {
            Api::Control
        } else {
            Api::Iam
        }
    }

    /// The status policy of its errors: D1 for the asset API (`[api] error_statuses`), catalog
    /// statuses elsewhere.
    pub fn policy(self, app: &App) -> StatusPolicy {
        match self {
            Api::Asset => app.api_statuses,
            Api::Iam | Api::Control | Api::Probe | Api::Open => StatusPolicy::Catalog,
        }
    }

    /// Whether the journal records its requests (what a tenant asked, not the control plane).
    pub fn journaled(self) -> bool {
        matches!(self, Api::Asset | Api::Iam)
    }
}

/// The body a route takes, which bounds what is read of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyClass {
    /// None is needed; one is read within [`MAX_JSON_BODY`] all the same.
    None,
    /// A JSON document: at most [`MAX_JSON_BODY`].
    Json,
    /// An asset package or a snapshot: at most `[server] max_body_bytes`, holding one of
    /// `[server] max_large_bodies` permits while it is read.
    Large,
}

/// The largest JSON body any JSON operation needs: 100 ids of 128 characters with their keys
/// fit many times over. Bodies over it are `APIG.0201` (413) before they are read.
pub const MAX_JSON_BODY: usize = 64 * 1024;

impl BodyClass {
    /// The most of a body read for it.
    pub fn limit(self, app: &App) -> usize {
        let max = app.config.server.max_body_bytes;
        match self {
            BodyClass::Large => max,
            BodyClass::None | BodyClass::Json => MAX_JSON_BODY.min(max),
        }
    }
}

/// What the pipeline's steps found, handed to an operation.
#[derive(Debug)]
pub struct Call<'a> {
    /// Who the authentication step found (every asset operation has one).
    pub caller: Option<Caller>,
    /// The project and instance of the path, when the route has them.
    pub namespace: Option<&'a crate::api::pipeline::context::Namespace>,
    /// The path's parameters.
    pub params: &'a Params,
    /// The job failure a fault planned.
    pub plan: Option<FailPlan>,
    /// The request's id.
    pub request_id: crate::ids::Hex32,
    /// A fault cuts the download and keeps its archive.
    pub keep_archive: bool,
    /// What the operation notes for the journal.
    pub notes: &'a crate::api::pipeline::notes::Notes,
}

impl Call<'_> {
    /// Notes what the request meant, for the journal.
    pub fn summarize(&self, change: impl FnOnce(&mut crate::journal::Summary)) {
        self.notes.summary(change);
    }

    /// The second fault point (rules with a `where`), once the summary is noted and before the
    /// operation acts: the job failure a rule plans, or the error it answers.
    pub async fn fault_point(&self, app: &App, operation: Operation) -> Result<Option<FailPlan>, ApiError> {
        crate::api::pipeline::faults::after_summary(app, self, operation).await
    }

    /// Whether a fault keeps the archive of a cut download (at either fault point).
    pub fn keeps_archive(&self) -> bool {
        self.keep_archive || self.notes.wire().is_some_and(|w| w.keep_archive)
    }

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
            crate::api::pipeline::context::Namespace::scope,
        )
    }

    /// The path parameter `name` as the path gave it (not decoded).
    pub fn param(&self, name: &str) -> Result<&str, ApiError> {
        self.params
            .get(name)
            .ok_or_else(|| ApiError::new(ErrorCode::Internal, format!("a route without {{{name}}}")))
    }
}

/// An operation's future: what it answers, borrowing the state and the call.
pub type OperationFuture<'a> = Pin<Box<dyn Future<Output = Result<Response, ApiError>> + Send + 'a>>;

/// How an operation is called: it reads its own inputs from the request.
pub type OperationFn = for<'a> fn(&'a App, Call<'a>, Request) -> OperationFuture<'a>;

/// One cloud operation's route, declared in the operation's own file.
#[derive(Debug)]
pub struct OperationRoute {
    /// The operation.
    pub operation: Operation,
    /// Its API (asset or IAM).
    pub api: Api,
    /// Its path template, in matchit's syntax (`{name}` a segment).
    pub template: &'static str,
    /// Its one method.
    pub method: Method,
    /// The body it takes.
    pub body: BodyClass,
    /// Answers it, once the pipeline's steps have run.
    pub call: OperationFn,
    /// Its OpenAPI operation object.
    pub openapi: fn() -> serde_json::Value,
}

/// A control handler's future.
pub type HandlerFuture = Pin<Box<dyn Future<Output = Response> + Send>>;

/// A handler of the control plane, an axum handler with its extractors, erased.
#[derive(Clone)]
pub struct Endpoint(Arc<dyn Fn(Request, App) -> HandlerFuture + Send + Sync>);

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Endpoint")
    }
}

impl Endpoint {
    /// `handler` as an endpoint.
    pub fn new<H: Handler<T, App>, T: 'static>(handler: H) -> Self {
        Endpoint(Arc::new(move |req, app| Box::pin(handler.clone().call(req, app))))
    }

    /// Answers `req`.
    pub fn call(&self, req: Request, app: App) -> HandlerFuture {
        (self.0)(req, app)
    }
}

/// What answers one method of a route.
#[derive(Debug, Clone)]
pub enum Answer {
    /// A cloud operation, called by the pipeline after authentication, flow control and faults.
    Operation(&'static OperationRoute),
    /// A handler of the control plane (its own extractors read the request).
    Handler(Endpoint),
}

/// A route: a path template with its facts.
#[derive(Debug)]
pub struct Route {
    /// Its template (what the log line, the metrics and the OpenAPI document name).
    pub template: &'static str,
    /// Its API.
    pub api: Api,
    /// The body it takes (whichever method).
    pub body: BodyClass,
    /// Its methods, and what answers each.
    pub methods: Vec<(Method, Answer)>,
}

impl Route {
    /// The route of a cloud operation.
    pub fn operation(op: &'static OperationRoute) -> Self {
        Route {
            template: op.template,
            api: op.api,
            body: op.body,
            methods: vec![(op.method.clone(), Answer::Operation(op))],
        }
    }

    /// `op` answers its method on this route too (an operation of the same path and API).
    pub fn add_operation(&mut self, op: &'static OperationRoute) {
        debug_assert_eq!(self.api, op.api, "{}", op.template);
        if op.body != BodyClass::None {
            self.body = op.body;
        }
        self.methods.push((op.method.clone(), Answer::Operation(op)));
    }

    /// A route of `api` with no method yet (add them with [`Route::get`] and the others).
    pub fn new(api: Api, template: &'static str) -> Self {
        Route {
            template,
            api,
            body: BodyClass::None,
            methods: Vec::new(),
        }
    }

    /// It takes a large body.
    #[must_use]
    pub fn large_body(mut self) -> Self {
        self.body = BodyClass::Large;
        self
    }

    /// `method` is answered by `handler`.
    #[must_use]
    pub fn on<H: Handler<T, App>, T: 'static>(mut self, method: Method, handler: H) -> Self {
        if self.body == BodyClass::None && method != Method::GET && method != Method::DELETE {
            self.body = BodyClass::Json;
        }
        self.methods
            .push((method, Answer::Handler(Endpoint::new(handler))));
        self
    }

    /// `GET` is answered by `handler` (and `HEAD` too, without the body, on the emulator's own routes).
    #[must_use]
    pub fn get<H: Handler<T, App>, T: 'static>(self, handler: H) -> Self {
        self.on(Method::GET, handler)
    }

    /// `POST` is answered by `handler`.
    #[must_use]
    pub fn post<H: Handler<T, App>, T: 'static>(self, handler: H) -> Self {
        self.on(Method::POST, handler)
    }

    /// `PUT` is answered by `handler`.
    #[must_use]
    pub fn put<H: Handler<T, App>, T: 'static>(self, handler: H) -> Self {
        self.on(Method::PUT, handler)
    }

    /// `DELETE` is answered by `handler`.
    #[must_use]
    pub fn delete<H: Handler<T, App>, T: 'static>(self, handler: H) -> Self {
        self.on(Method::DELETE, handler)
    }

    /// What answers `method`: its own entry; for a `HEAD`, the `GET`'s on the emulator's own
    /// routes (hyper sends no body), and none on the cloud's (the gateway keys an API by method and
    /// path, and a `HEAD` of an archive must not consume it).
    fn answer(&self, method: &Method) -> Option<&Answer> {
        let find = |m: &Method| self.methods.iter().find(|(have, _)| have == m).map(|(_, a)| a);
        match find(method) {
            Some(answer) => Some(answer),
            None if *method == Method::HEAD && !matches!(self.api, Api::Asset | Api::Iam) => {
                find(&Method::GET)
            }
            None => None,
        }
    }
}

/// The path parameters a request matched, as the path gave them (percent-encoded).
#[derive(Debug, Default, Clone)]
pub struct Params(Vec<(&'static str, Box<str>)>);

impl Params {
    /// The parameter `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| *n == name).map(|(_, v)| &**v)
    }

    /// The last parameter (a control route's id).
    pub fn last(&self) -> Option<(&'static str, &str)> {
        self.0.last().map(|(n, v)| (*n, &**v))
    }
}

/// What [`Table::resolve`] found for a request.
#[derive(Debug)]
pub struct Resolved<'t> {
    /// The route of the path, if any.
    pub route: Option<&'t Route>,
    /// What answers its method, if the route takes it.
    pub answer: Option<&'t Answer>,
    /// The API it belongs to (of the path's first segment when no route has it).
    pub api: Api,
    /// The path's parameters.
    pub params: Params,
}

impl Resolved<'_> {
    /// The operation answering it, if it is one.
    pub fn operation(&self) -> Option<Operation> {
        match self.answer {
            Some(Answer::Operation(op)) => Some(op.operation),
            _ => None,
        }
    }
}

/// Every route, matched by one matcher.
#[derive(Debug)]
pub struct Table {
    routes: Vec<Route>,
    matcher: matchit::Router<usize>,
    /// Each route's parameter names, from its template, in order.
    names: Vec<Vec<&'static str>>,
}

impl Table {
    /// The table of `routes`. The list is ours and fixed: a clash is a programming error every
    /// test would show, so it panics.
    pub fn new(routes: Vec<Route>) -> Self {
        let mut matcher = matchit::Router::new();
        let mut names = Vec::with_capacity(routes.len());
        for (i, route) in routes.iter().enumerate() {
            matcher
                .insert(route.template, i)
                .unwrap_or_else(|e| panic!("route {}: {e}", route.template));
            names.push(
                route
                    .template
                    .split('/')
                    .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
                    .collect(),
            );
        }
        Table {
            routes,
            matcher,
            names,
        }
    }

    /// The routes, in the order given.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// What answers `method` on `path`.
    pub fn resolve(&self, method: &Method, path: &str) -> Resolved<'_> {
        let Ok(found) = self.matcher.at(path) else {
            return Resolved {
                route: None,
                answer: None,
                api: Api::of_unmatched(path),
                params: Params::default(),
            };
        };
        let i = *found.value;
        let route = &self.routes[i];
        // matchit hands the values in the template's order.
        let params = Params(
            self.names[i]
                .iter()
                .zip(found.params.iter())
                .map(|(name, (_, value))| (*name, value.into()))
                .collect(),
        );
        Resolved {
            route: Some(route),
            answer: route.answer(method),
            api: route.api,
            params,
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::http::Method;

    use super::{Answer, Api, Table};
    use crate::operation::Operation;

    #[test]
    fn the_table_lists_every_operation_once_in_the_documents_order() {
        let ops: Vec<Operation> = crate::api::OPERATIONS.iter().map(|r| r.operation).collect();
        assert_eq!(ops, Operation::ALL);
    }

    #[test]
    fn one_resolution_decides_the_route_the_method_and_the_parameters() {
        let table = Table::new(crate::api::routes());
        let job = "/v2/p1/instances/i%201/assets/jobs/0123";
        let found = table.resolve(&Method::GET, job);
        assert_eq!(found.operation(), Some(Operation::CheckAssetJobStatus));
        assert_eq!(found.api, Api::Asset);
        let params: Vec<_> = ["project_id", "instance_id", "job_id"]
            .iter()
            .map(|n| found.params.get(n))
            .collect();
        assert_eq!(params, [Some("p1"), Some("i%201"), Some("0123")]);
        // A wrong method, and a HEAD, of the cloud's API: the route, no answer.
        for method in [Method::POST, Method::HEAD] {
            let wrong = table.resolve(&method, job);
            assert!(wrong.route.is_some() && wrong.answer.is_none(), "{method}");
        }
        // A HEAD of the emulator's own GET routes is the GET.
        let head = table.resolve(&Method::HEAD, "/_emulator/health");
        assert!(matches!(head.answer, Some(Answer::Handler(_))));
        assert_eq!(head.api, Api::Probe);
        assert_eq!(
            table
                .resolve(&Method::POST, "/_emulator/health")
                .answer
                .map(|_| ()),
            None
        );
        // No route: the API of the path's first segment.
        for (path, api) in [
            ("/v2/p/instances/i/asset/export", Api::Asset),
            ("/_emulator/nowhere", Api::Control),
            ("/nowhere", Api::Iam),
        ] {
            let none = table.resolve(&Method::GET, path);
            assert!(none.route.is_none(), "{path}");
            assert_eq!(none.api, api, "{path}");
        }
        let control = table.resolve(&Method::DELETE, "/_emulator/faults/f-1");
        assert_eq!(control.params.last(), Some(("fault_id", "f-1")));
        assert_eq!(control.api, Api::Control);
    }
}
