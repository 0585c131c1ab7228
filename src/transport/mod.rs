//! The transport: accepting connections, admitting them into the table, serving each with hyper,
//! and shutting down. No rule of the API lives here; what it guards is the process itself, so that
//! no tenant of a shared stub can freeze it or lock the others out.
//!
//! - [`fd`]: the open-file limit is raised to the hard limit, the cap kept below it, and the
//!   accept loop holds one permit a socket, so `accept` never fails for want of a descriptor.
//! - [`table`]: at most `[server] max_connections` regular connections; at the cap a newcomer
//!   evicts the oldest *Idle* one, else takes one of the
//!   [`table::PROBE_SLOTS`] slots kept for `/_emulator/health` and `/ready`, else is answered
//!   `503 EMULATOR.0503` and closed.
//! - [`conn`]: what each connection is doing, as a state machine its stream, its service and its
//!   response body keep up to date: busy from the first byte of a head to the last byte of the
//!   response.
//! - [`io`]: the stream: the write timeout (`[server] write_timeout_ms`) and hyper's own refusals,
//!   recognised by the connection's phase and answered with the ROMA body.
//! - [`body`]: the request body's read timeout (`[server] body_read_timeout_ms`) and the response
//!   body that marks the end of a response.
//! - A head must arrive within `[server] header_read_timeout_ms` (hyper's timer), one second on a
//!   probe slot.
//! - [`probes`]: `[server] probe_listen`, a port of its own that serves only the probes, so no
//!   flood of the main port delays them.
//! - On shutdown the listener closes at once, idle connections close, in-flight requests get
//!   `[server] shutdown_grace_s` to finish, and whatever is left is then dropped.

pub mod body;
pub mod conn;
pub mod fd;
pub mod io;
pub mod probes;
pub mod stall;
pub mod table;

use std::sync::Arc;
use std::time::Duration;

use crate::api::pipeline::Pipeline;
use crate::faults::wire::Hangup;
use axum::http::{HeaderValue, StatusCode, header};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use self::body::{Finishing, TimedBody};
use self::io::{ConnIo, Refusal};
use self::table::{Connections, Slot};
use crate::app::App;
use crate::error::{ApiError, ErrorCode};

/// The most headers a request may have (hyper refuses more; the gateway counts bytes, not
/// headers, and 1000 headers of the smallest size fit in its 128 KB).
pub const MAX_HEADERS: usize = 1000;

/// How long a newcomer that found every slot busy waits for one before it is refused.
pub const WAIT_FOR_SLOT: Duration = Duration::from_millis(500);

/// How long a connection in a probe slot may take to send its head.
pub const PROBE_HEAD_TIMEOUT: Duration = Duration::from_secs(1);

/// The limits a connection is served with.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Regular connections at once (already kept below the open-file limit).
    pub max_connections: usize,
    /// `[server] header_read_timeout_ms`.
    pub header_read: Duration,
    /// `[server] body_read_timeout_ms`.
    pub body_read: Duration,
    /// `[server] write_timeout_ms`.
    pub write: Duration,
    /// `[server] shutdown_grace_s`.
    pub grace: Duration,
}

impl Limits {
    /// The limits of `app`'s `[server]` section, with the connection cap `max_connections`.
    pub fn new(app: &App, max_connections: usize) -> Self {
        let server = &app.config.server;
        Self {
            max_connections,
            header_read: Duration::from_millis(server.header_read_timeout_ms),
            body_read: Duration::from_millis(server.body_read_timeout_ms),
            write: Duration::from_millis(server.write_timeout_ms),
            grace: Duration::from_secs(server.shutdown_grace_s),
        }
    }
}

/// Serves `router` on `listener` until `shutdown` turns true, then drains for the grace period.
pub async fn serve(
    listener: TcpListener,
    router: Pipeline,
    app: App,
    limits: Limits,
    mut shutdown: watch::Receiver<bool>,
) {
    let table = Connections::new(limits.max_connections);
    let refusal: Refusal = {
        let app = app.clone();
        Arc::new(move |status| hyper_refusal(&app, status))
    };
    // One permit a socket held, from accept to close: the descriptors in use stay within the
    // budget the cap was computed for, evicted and refused connections included.
    let sockets = Arc::new(Semaphore::new(fd::socket_budget(limits.max_connections)));
    let mut tasks = JoinSet::new();
    loop {
        let socket = tokio::select! {
            permit = sockets.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = stopped(&mut shutdown) => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => (stream, peer.ip()),
                Err(e) => {
                    tracing::error!(error = %e, "accepting a connection failed; pausing 100 ms");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = stopped(&mut shutdown) => break,
        };
        while tasks.try_join_next().is_some() {}
        let _ = stream.set_nodelay(true);
        let (router, refusal, shutdown) = (router.clone(), refusal.clone(), shutdown.clone());
        // No slot now: the newcomer waits briefly for one (probe slots free within microseconds
        // of their probe, idle connections become evictable after their grace). The socket
        // budget bounds how many wait; past it, newcomers wait in the kernel's backlog.
        let slot = table.admit();
        let (table, app) = (table.clone(), app.clone());
        tasks.spawn(async move {
            let slot = match slot {
                Some(slot) => Some(slot),
                None => table.admit_within(WAIT_FOR_SLOT).await,
            };
            match slot {
                Some(slot) => {
                    serve_connection(stream, peer, router, Arc::new(slot), limits, refusal, shutdown).await
                }
                None => {
                    let answer = raw_error(
                        &app,
                        StatusCode::SERVICE_UNAVAILABLE,
                        ErrorCode::Unavailable,
                        "every connection and every probe slot is busy (server.max_connections)",
                    );
                    refuse(stream, answer).await;
                }
            }
            drop(socket);
        });
    }
    drop(listener);
    let drained =
        tokio::time::timeout(limits.grace, async { while tasks.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        tracing::warn!(
            left = tasks.len(),
            "shutdown grace passed; dropping the connections left"
        );
        tasks.abort_all();
    }
}

pub use crate::app::stopped;

async fn serve_connection(
    stream: TcpStream,
    peer: std::net::IpAddr,
    router: Pipeline,
    slot: Arc<Slot>,
    limits: Limits,
    refusal: Refusal,
    mut shutdown: watch::Receiver<bool>,
) {
    let conn = slot.conn.clone();
    let probe_only = conn.probe_only();
    let service = {
        let slot = slot.clone();
        hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
            slot.conn.serving();
            let mut req = req.map(|b| axum::body::Body::new(TimedBody::new(b, limits.body_read)));
            req.extensions_mut().insert(crate::api::Peer(peer));
            let (router, slot) = (router.clone(), slot.clone());
            async move {
                // A request that is no probe, on a probe slot: it waits briefly for a regular
                // slot (flood connections pass their grace within milliseconds), else the API
                // layer answers 503.
                let probe_only = slot.conn.probe_only()
                    && (router.is_probe(&req) || !slot.promote_within(WAIT_FOR_SLOT).await);
                if probe_only {
                    req.extensions_mut().insert(crate::api::ProbeSlot);
                }
                let mut res = router.answer(req).await;
                // A wire fault closes the connection instead of answering: hyper drops it when
                // the service fails.
                if let Some(hangup) = res.extensions().get::<Hangup>().copied() {
                    if hangup == Hangup::Reset {
                        slot.conn.reset_on_close();
                    }
                    return Err(HungUp(hangup));
                }
                if probe_only {
                    res.headers_mut()
                        .insert(header::CONNECTION, HeaderValue::from_static("close"));
                }
                Ok::<_, HungUp>(res.map(|b| Finishing::new(b, slot.conn.clone())))
            }
        })
    };
    let header_read = if probe_only {
        limits.header_read.min(PROBE_HEAD_TIMEOUT)
    } else {
        limits.header_read
    };
    let io = TokioIo::new(ConnIo::new(stream, conn.clone(), limits.write, refusal));
    let served = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        // Above the gateway's limits, which the API layer answers (URI 32 KB, headers 128 KB):
        // hyper refuses only what is past these (a URI over 64 KiB, a head over 400 KiB).
        .max_headers(MAX_HEADERS)
        .header_read_timeout(header_read)
        .serve_connection(io, service);
    tokio::pin!(served);
    let mut evicted = std::pin::pin!(conn.wait_evicted());
    let mut stop = std::pin::pin!(stopped(&mut shutdown));
    let mut draining = false;
    loop {
        tokio::select! {
            res = served.as_mut() => {
                if let Err(e) = res {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            () = &mut evicted => {
                tracing::debug!("idle connection closed to admit a new one (server.max_connections)");
                return;
            }
            () = &mut stop, if !draining => {
                draining = true;
                served.as_mut().graceful_shutdown();
            }
        }
    }
}

/// The service's "error" when a wire fault hangs up: hyper then closes the connection unanswered.
#[derive(Debug, thiserror::Error)]
#[error("a fault hung up ({0:?})")]
struct HungUp(Hangup);

async fn refuse(mut stream: TcpStream, answer: Vec<u8>) {
    let _ = tokio::time::timeout(Duration::from_secs(1), stream.write_all(&answer)).await;
    let _ = stream.shutdown().await;
}

/// The answer that replaces hyper's own refusal with `status`: the gateway's for a URI or a head
/// too large (hyper's limits are above the gateway's, so only far larger ones reach hyper), else
/// `EMULATOR.0400` with hyper's status.
fn hyper_refusal(app: &App, status: u16) -> Vec<u8> {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    let (code, details) = match status {
        StatusCode::URI_TOO_LONG => (ErrorCode::UriTooLarge, "the request URI is over 64 KiB"),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => (
            ErrorCode::HeadersTooLarge,
            "the request head is over 400 KiB, or has more than 1000 headers",
        ),
        _ => (
            ErrorCode::MalformedRequest,
            "the request is not valid HTTP/1.1 (request line or headers)",
        ),
    };
    let status = if code == ErrorCode::MalformedRequest {
        status
    } else {
        crate::api::pipeline::respond::status_code(code.catalog_status())
    };
    raw_error(app, status, code, details)
}

/// A complete HTTP/1.1 error response with the ROMA body, closing the connection.
fn raw_error(app: &App, status: StatusCode, code: ErrorCode, details: &str) -> Vec<u8> {
    let request_id = app.ids.requests.next_id();
    let body = ApiError::new(code, details.to_owned()).body_bytes(&request_id.hex());
    // 494 (the gateway's "headers too large") has no standard reason phrase: nginx's is used.
    let reason = status
        .canonical_reason()
        .unwrap_or("Request Header Or Cookie Too Large");
    let mut out = format!(
        "HTTP/1.1 {} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nx-request-id: {request_id}\r\nconnection: close\r\n\r\n",
        status.as_u16(),
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(&body);
    out
}
