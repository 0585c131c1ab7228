//! Step 1, context: the one record of a request, built once from its head and what the route
//! table matched, and read by every later step (request id, route, operation, path parameters,
//! namespace, caller, start time, error).

use std::sync::Arc;
use std::time::Instant;

use axum::extract::Request;
use axum::http::Method;

use crate::api::route::{Answer, Api, BodyClass, Params, Resolved, Route};
use crate::app::App;
use crate::error::{ApiError, StatusPolicy};
use crate::ids::Hex32;
use crate::operation::Operation;
use crate::scope::{Scope, UserId};

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

/// The record of one request; `'t` is the route table's.
#[derive(Debug)]
pub struct Exchange<'t> {
    /// Its id, sent back as `X-Request-Id`.
    pub id: Hex32,
    /// When the pipeline took it.
    pub started: Instant,
    /// Its method.
    pub method: Method,
    /// The route it matched, if any.
    pub route: Option<&'t Route>,
    /// What answers its method on that route, if the route takes the method.
    pub answer: Option<&'t Answer>,
    /// The API of the route (or of the path, when no route has it).
    pub api: Api,
    /// The path's parameters.
    pub params: Params,
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
    /// What its operation noted for the journal (its summary, its body's transfer).
    pub notes: crate::api::pipeline::notes::Notes,
    /// For a path no route has, or a method its route does not take: the nearest route.
    pub hint: Option<String>,
    /// What a fault does to it on the wire.
    pub wire: Option<crate::faults::Wire>,
}

impl<'t> Exchange<'t> {
    /// The record of `req`, which resolved to `resolved`.
    pub fn begin(app: &App, req: &Request, resolved: Resolved<'t>) -> Self {
        let started = Instant::now();
        let operation = resolved.operation();
        let Resolved {
            route,
            answer,
            api,
            params,
        } = resolved;
        let namespace = match (params.get("project_id"), params.get("instance_id")) {
            (Some(project), Some(instance)) => Some(namespace(project, instance)),
            _ => None,
        };
        Exchange {
            id: app.ids.requests.next_id(),
            started,
            method: req.method().clone(),
            route,
            answer,
            api,
            params,
            operation,
            policy: api.policy(app),
            namespace,
            journaled: (app.journal.enabled() && api.journaled()).then(|| req.uri().path().to_owned()),
            caller: None,
            error: None,
            notes: crate::api::pipeline::notes::Notes::default(),
            hint: None,
            wire: None,
        }
    }

    /// The template of its route, if it matched one.
    pub fn template(&self) -> Option<&'static str> {
        self.route.map(|r| r.template)
    }

    /// The body its route takes (a JSON one's bound when no route has the path).
    pub fn body(&self) -> BodyClass {
        self.route.map_or(BodyClass::Json, |r| r.body)
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

/// The namespace of the path parameters `project_id` and `instance_id`, as the path gave them.
fn namespace(project: &str, instance: &str) -> Namespace {
    // Borrowed from the path unless a segment has escapes: no copy on the common path.
    fn decoded(segment: &str) -> Option<std::borrow::Cow<'_, str>> {
        percent_encoding::percent_decode_str(segment).decode_utf8().ok()
    }
    let (Some(project), Some(instance)) = (decoded(project), decoded(instance)) else {
        return Namespace::Undecodable;
    };
    match Scope::new(&project, &instance) {
        Ok(scope) => Namespace::Valid(scope),
        Err(why) => Namespace::Invalid {
            project: project.into_owned(),
            instance: instance.into_owned(),
            why,
        },
    }
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
        let valid = namespace("p1", "i1");
        assert!(matches!(valid, Namespace::Valid(_)));
        assert_eq!(ids(&valid), some("p1", "i1"));
        assert_eq!(ids(&namespace("my%20project", "%C3%BC")), some("my project", "ü"));
        assert!(matches!(namespace("p1", "%FF"), Namespace::Undecodable));
        match namespace(&"p".repeat(65), "i") {
            Namespace::Invalid { why, project, .. } => {
                assert!(why.starts_with("project_id"), "{why}");
                assert_eq!(project.len(), 65);
            }
            other => panic!("expected Invalid, got {other:?}"),
        }
        assert!(matches!(namespace("p", "a%2Fb"), Namespace::Invalid { .. }));
    }
}
