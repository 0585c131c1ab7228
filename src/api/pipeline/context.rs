//! Step 1, context: the one record of a request, built once from its head and read by every
//! later step (request id, operation, namespace, caller, start time, error).

use std::sync::Arc;
use std::time::Instant;

use axum::extract::Request;
use axum::http::Method;

use crate::api::Route;
use crate::error::{ApiError, StatusPolicy};
use crate::ids::Hex32;
use crate::operation::Operation;
use crate::scope::{Scope, UserId};
use crate::state::AppState;

/// The `project_id` and `instance_id` of a namespaced path, percent-decoded as axum's path
/// parameters are, and parsed once: handlers take the [`Scope`] (see `api::extract`).
#[derive(Debug, Clone)]
pub enum Namespace {
    /// Both ids are valid.
    Valid(Scope),
    /// Decoded but refused; `why` names the field.
    Invalid {
        /// The decoded `project_id`.
        project: String,
        /// The decoded `instance_id`.
        instance: String,
        /// What is wrong, naming the field.
        why: String,
    },
    /// A segment is not UTF-8 once percent-decoded.
    Undecodable,
}

impl Namespace {
    /// The project id as the path gave it, if it could be decoded.
    pub fn project(&self) -> Option<&str> {
        match self {
            Namespace::Valid(scope) => Some(scope.project.as_str()),
            Namespace::Invalid { project, .. } => Some(project),
            Namespace::Undecodable => None,
        }
    }

    /// The scope it names; a bad one is `ROMA.13000` naming the field.
    pub fn scope(&self) -> Result<Scope, ApiError> {
        match self {
            Namespace::Valid(scope) => Ok(scope.clone()),
            Namespace::Invalid { why, .. } => Err(ApiError::invalid(why.clone())),
            Namespace::Undecodable => Err(ApiError::invalid(
                "path: project_id and instance_id must be UTF-8 once percent-decoded",
            )),
        }
    }

    /// The project and instance ids as the path gave them, shared (the journal keeps them).
    pub fn ids(&self) -> (Option<Arc<str>>, Option<Arc<str>>) {
        match self {
            Namespace::Valid(scope) => (Some(scope.project.shared()), Some(scope.instance.shared())),
            Namespace::Invalid {
                project, instance, ..
            } => (Some(project.as_str().into()), Some(instance.as_str().into())),
            Namespace::Undecodable => (None, None),
        }
    }

    /// The instance id as the path gave it, if it could be decoded.
    pub fn instance(&self) -> Option<&str> {
        match self {
            Namespace::Valid(scope) => Some(scope.instance.as_str()),
            Namespace::Invalid { instance, .. } => Some(instance),
            Namespace::Undecodable => None,
        }
    }
}

/// The record of one request.
#[derive(Debug)]
pub struct Exchange {
    /// Its id, sent back as `X-Request-Id`.
    pub id: Hex32,
    /// When the pipeline took it.
    pub started: Instant,
    /// Its method.
    pub method: Method,
    /// The route it matched, if any.
    pub route: Option<Route>,
    /// The cloud operation of the route and method, if it is one.
    pub operation: Option<Operation>,
    /// The status policy of its API (D1 for the asset API, catalog statuses elsewhere).
    pub policy: StatusPolicy,
    /// Its namespace, when the route has one.
    pub namespace: Option<Namespace>,
    /// Its path, when the journal records it.
    pub journaled: Option<String>,
    /// Who the authentication step found.
    pub caller: Option<UserId>,
    /// The error it is answered with, if any.
    pub error: Option<ApiError>,
}

/// The asset API's routes all start so; the namespace is their second and fourth segments.
const NAMESPACED: &str = "/v2/{project_id}/instances/{instance_id}/";

impl Exchange {
    /// The record of `req`, which matched `route`.
    pub fn begin(app: &AppState, req: &Request, route: Option<Route>) -> Self {
        let started = Instant::now();
        let path = req.uri().path();
        let control = path.starts_with("/_emulator") || path == "/openapi.json";
        // D1 covers the asset operations; IAM and the control plane always answer catalog statuses.
        let policy = if path.starts_with("/v2/") {
            app.api_statuses
        } else {
            StatusPolicy::Catalog
        };
        let operation = route
            .and_then(|r| r.operation)
            .filter(|op| crate::api::route_of(*op).1 == req.method());
        let namespace = route
            .filter(|r| r.template.starts_with(NAMESPACED))
            .map(|_| namespace(path));
        Exchange {
            id: app.ids.requests.next_id(),
            started,
            method: req.method().clone(),
            route,
            operation,
            policy,
            namespace,
            journaled: (app.journal.enabled() && !control).then(|| path.to_owned()),
            caller: None,
            error: None,
        }
    }

    /// The template of its route, if it matched one.
    pub fn template(&self) -> Option<&'static str> {
        self.route.map(|r| r.template)
    }

    /// The project id of the path, when the route has one.
    pub fn project(&self) -> Option<&str> {
        self.namespace.as_ref().and_then(Namespace::project)
    }

    /// The instance id of the path, when the route has one.
    pub fn instance(&self) -> Option<&str> {
        self.namespace.as_ref().and_then(Namespace::instance)
    }
}

/// The namespace of a path whose route starts with [`NAMESPACED`], read straight from the path.
fn namespace(path: &str) -> Namespace {
    let mut segments = path.split('/').skip(2);
    // Borrowed from the path unless a segment has escapes: no copy on the common path.
    fn decoded(segment: Option<&str>) -> Option<std::borrow::Cow<'_, str>> {
        percent_encoding::percent_decode_str(segment?).decode_utf8().ok()
    }
    let project = decoded(segments.next());
    let instance = decoded(segments.nth(1));
    let (Some(project), Some(instance)) = (project, instance) else {
        return Namespace::Undecodable;
    };
    match shared_scope(&project, &instance) {
        Ok(scope) => Namespace::Valid(scope),
        Err(why) => Namespace::Invalid {
            project: project.into_owned(),
            instance: instance.into_owned(),
            why,
        },
    }
}

thread_local! {
    /// The last scope this thread parsed. A tenant's requests come in runs: reusing its ids (shared,
    /// immutable text) spares two allocations a request. One scope a worker thread, so bounded.
    static LAST_SCOPE: std::cell::RefCell<Option<Scope>> = const { std::cell::RefCell::new(None) };
}

/// [`Scope::new`], sharing the ids of the last scope this thread parsed when they are the same.
fn shared_scope(project: &str, instance: &str) -> Result<Scope, String> {
    LAST_SCOPE.with_borrow_mut(|last| {
        if let Some(scope) = last.as_ref()
            && scope.project.as_str() == project
            && scope.instance.as_str() == instance
        {
            return Ok(scope.clone());
        }
        let scope = Scope::new(project, instance)?;
        *last = Some(scope.clone());
        Ok(scope)
    })
}

/// Who `req` counts against, for the per-caller limits (a large body's permit, the gateway's
/// flow control), when nobody in it is authenticated: its address.
pub fn by_address(req: &axum::extract::Request) -> String {
    match req.extensions().get::<crate::api::Peer>() {
        Some(peer) => format!("address {}", peer.0),
        None => "address unknown".to_owned(),
    }
}

/// Who an authenticated user's requests count against, for the per-caller limits.
pub fn by_user(user: &str) -> String {
    format!("user {user}")
}

#[cfg(test)]
mod tests {
    use super::{Namespace, namespace};

    #[test]
    fn the_namespace_is_decoded_and_parsed_once() {
        let ids = |ns: &Namespace| (ns.project().map(str::to_owned), ns.instance().map(str::to_owned));
        let some = |p: &str, i: &str| (Some(p.to_owned()), Some(i.to_owned()));
        let valid = namespace("/v2/p1/instances/i1/assets/export");
        assert!(matches!(valid, Namespace::Valid(_)));
        assert_eq!(ids(&valid), some("p1", "i1"));
        // The same namespace again shares the ids; another gets its own.
        let (Namespace::Valid(first), Namespace::Valid(again), Namespace::Valid(other)) = (
            valid,
            namespace("/v2/p1/instances/i1/assets/jobs/x"),
            namespace("/v2/p1/instances/i2/assets/export"),
        ) else {
            panic!("valid namespaces");
        };
        assert!(std::sync::Arc::ptr_eq(
            &first.project.shared(),
            &again.project.shared()
        ));
        assert!(std::sync::Arc::ptr_eq(
            &first.instance.shared(),
            &again.instance.shared()
        ));
        assert_eq!((&*other.project, &*other.instance), ("p1", "i2"));
        assert!(!std::sync::Arc::ptr_eq(
            &first.instance.shared(),
            &other.instance.shared()
        ));
        assert_eq!(
            ids(&namespace("/v2/my%20project/instances/%C3%BC/assets/export")),
            some("my project", "ü")
        );
        assert!(matches!(
            namespace("/v2/p1/instances/%FF/assets/export"),
            Namespace::Undecodable
        ));
        let long = format!("/v2/{}/instances/i/assets/export", "p".repeat(65));
        match namespace(&long) {
            Namespace::Invalid { why, project, .. } => {
                assert!(why.starts_with("project_id"), "{why}");
                assert_eq!(project.len(), 65);
            }
            other => panic!("expected Invalid, got {other:?}"),
        }
        assert!(matches!(
            namespace("/v2/p/instances/a%2Fb/assets/export"),
            Namespace::Invalid { .. }
        ));
    }
}
