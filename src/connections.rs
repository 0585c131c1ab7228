//! The connection layer under the router: accepting, per-connection limits, and shutdown. No rule
//! of the API lives here; what it guards is the process itself.
//!
//! - A request head must arrive within `[server] header_read_timeout_ms`, counted from when the
//!   connection opens or goes idle after a response (hyper's header-read timer), so silent,
//!   slow-header and idle keep-alive connections are all closed.
//! - At most `[server] max_connections` connections are open. At the cap, a new connection
//!   closes the oldest *idle* one (no request in flight), so a flood of silent connections cannot
//!   lock out a health probe; when every connection is busy the new one is answered
//!   `503 EMULATOR.0503` and closed.
//! - Requests hyper itself refuses (a garbage request line, a URI over 64 KiB, too many headers)
//!   get the ROMA error body, not hyper's empty one ([`RewriteIo`]).
//! - Accept errors (out of file descriptors) are logged, and accepting pauses briefly.
//! - On shutdown the listener closes at once, idle connections close, in-flight requests get
//!   `[server] shutdown_grace_s` to finish, and whatever is left is then dropped.

use std::collections::BTreeMap;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

/// Serves `router` on `listener` until `shutdown` turns true, then drains for `grace`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    app: AppState,
    mut shutdown: watch::Receiver<bool>,
) {
    let limits = &app.config.server;
    let max = limits.max_connections;
    let header_timeout = Duration::from_millis(limits.header_read_timeout_ms);
    let grace = Duration::from_secs(limits.shutdown_grace_s);
    let open: Arc<Mutex<BTreeMap<u64, Arc<Conn>>>> = Arc::default();
    let mut tasks = JoinSet::new();
    let mut next_id = 0u64;
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
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
        let conn = Arc::new(Conn::default());
        let admitted = {
            let mut open = open.lock().unwrap_or_else(PoisonError::into_inner);
            if open.len() >= max {
                let idle = open
                    .iter()
                    .find(|(_, c)| c.in_flight.load(Ordering::Acquire) == 0)
                    .map(|(id, _)| *id);
                if let Some(evicted) = idle.and_then(|id| open.remove(&id)) {
                    evicted.evict.notify_one();
                }
            }
            let admitted = open.len() < max;
            if admitted {
                next_id += 1;
                open.insert(next_id, conn.clone());
            }
            admitted
        };
        if !admitted {
            let answer = raw_error(
                &app,
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::Unavailable,
                "server.max_connections connections are open and all are busy",
            );
            tasks.spawn(refuse(stream, answer));
            continue;
        }
        let id = next_id;
        let (router, app, open, shutdown) = (router.clone(), app.clone(), open.clone(), shutdown.clone());
        tasks.spawn(async move {
            serve_connection(stream, router, &app, &conn, header_timeout, shutdown).await;
            open.lock().unwrap_or_else(PoisonError::into_inner).remove(&id);
        });
    }
    drop(listener);
    let drained = tokio::time::timeout(grace, async { while tasks.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        tracing::warn!(
            left = tasks.len(),
            "shutdown grace passed; dropping the connections left"
        );
        tasks.abort_all();
    }
}

/// Resolves once shutdown has begun.
pub async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// One connection's bookkeeping: requests in flight, and the signal that evicts it.
#[derive(Debug, Default)]
struct Conn {
    in_flight: AtomicUsize,
    evict: Notify,
}

/// Counts a request in flight for as long as it lives (dropped futures included).
struct InFlight(Arc<Conn>);

impl InFlight {
    fn new(conn: Arc<Conn>) -> Self {
        conn.in_flight.fetch_add(1, Ordering::AcqRel);
        Self(conn)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

async fn serve_connection(
    stream: TcpStream,
    router: Router,
    app: &AppState,
    conn: &Arc<Conn>,
    header_timeout: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let service = TowerToHyperService::new(router);
    let counted = conn.clone();
    let service = hyper::service::service_fn(move |req| {
        let guard = InFlight::new(counted.clone());
        let fut = hyper::service::Service::call(&service, req);
        async move {
            let mut res = fut.await;
            drop(guard);
            // The gateway keys an API by method and path (D2): a wrong method is "no such API",
            // with no `Allow` header (axum adds one to its method-not-allowed answers).
            if let Ok(res) = &mut res {
                res.headers_mut().remove(axum::http::header::ALLOW);
            }
            res
        }
    });
    let io = TokioIo::new(RewriteIo::new(stream, app.clone()));
    let served = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .writev(false)
        .serve_connection(io, service);
    tokio::pin!(served);
    let mut draining = false;
    loop {
        tokio::select! {
            res = served.as_mut() => {
                if let Err(e) = res {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            () = conn.evict.notified() => {
                tracing::debug!("idle connection closed to admit a new one (server.max_connections)");
                return;
            }
            () = stopped(&mut shutdown), if !draining => {
                draining = true;
                served.as_mut().graceful_shutdown();
            }
        }
    }
}

async fn refuse(mut stream: TcpStream, answer: Vec<u8>) {
    let _ = tokio::time::timeout(Duration::from_secs(1), stream.write_all(&answer)).await;
    let _ = stream.shutdown().await;
}

/// A complete HTTP/1.1 error response with the ROMA body, closing the connection.
fn raw_error(app: &AppState, status: StatusCode, code: ErrorCode, details: &str) -> Vec<u8> {
    let request_id = app.ids.requests.next_id();
    let body = ApiError::new(code, details.to_owned()).body_bytes(request_id.as_str());
    let mut out = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nx-request-id: {request_id}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(&body);
    out
}

/// The connection's stream, with one change: a response hyper writes on its own for a request it
/// could not parse (its head has no `x-request-id`, which every response of the router carries)
/// is replaced by the same status with the ROMA error body.
struct RewriteIo {
    inner: TcpStream,
    app: AppState,
    /// A replacement still being written, and how much of it is written.
    pending: Option<(Vec<u8>, usize)>,
}

impl RewriteIo {
    fn new(inner: TcpStream, app: AppState) -> Self {
        Self {
            inner,
            app,
            pending: None,
        }
    }

    /// The ROMA version of hyper's own error response `buf`, if it is one.
    fn replacement(&self, buf: &[u8]) -> Option<Vec<u8>> {
        let rest = buf.strip_prefix(b"HTTP/1.1 ")?;
        let status = std::str::from_utf8(rest.get(..3)?).ok()?.parse::<u16>().ok()?;
        // Most writes are successes of the router: they are let through without looking further.
        if status < 400 {
            return None;
        }
        let head_end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
        let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
        if head.contains("\r\nx-request-id:") {
            return None;
        }
        let status = StatusCode::from_u16(status).ok()?;
        let details = match status {
            StatusCode::URI_TOO_LONG => "the request target is too long",
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => "too many headers, or a header block too large",
            StatusCode::HTTP_VERSION_NOT_SUPPORTED => "only HTTP/1.1 and HTTP/1.0 are served",
            _ => "the request is not valid HTTP/1.1 (request line or headers)",
        };
        Some(raw_error(&self.app, status, ErrorCode::MalformedRequest, details))
    }

    /// Writes what is left of a replacement; ready once it is all written.
    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some((bytes, written)) = &mut self.pending {
            if *written == bytes.len() {
                self.pending = None;
                break;
            }
            match Pin::new(&mut self.inner).poll_write(cx, &bytes[*written..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => *written += n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncRead for RewriteIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for RewriteIo {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        std::task::ready!(self.drain(cx))?;
        if let Some(replacement) = self.replacement(buf) {
            self.pending = Some((replacement, 0));
            // hyper's bytes count as written; the replacement goes out instead.
            let _ = self.drain(cx)?;
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        std::task::ready!(self.drain(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        std::task::ready!(self.drain(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
