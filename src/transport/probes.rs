//! The probe listener (`[server] probe_listen`): a second port that serves only
//! `/_emulator/health` and `/ready`, with a budget of its own, so a connection flood on the main
//! port (which fills its connection table and socket budget and leaves newcomers in the kernel's
//! backlog) never delays a probe (#27 finding 6).
//!
//! Each connection serves one request: it has [`PROBE_HEAD_TIMEOUT`] to send its head and two
//! seconds in all, and at most [`PROBE_CONNECTIONS`] are open at once; one more is closed at once.
//! Nothing else shares this accept loop, so a probe waits for nothing but the probes before it.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderValue, header};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

use super::PROBE_HEAD_TIMEOUT;
use crate::api::pipeline::Pipeline;

/// Probe connections open at once.
pub const PROBE_CONNECTIONS: usize = 64;

/// How long one probe connection may take in all.
const PROBE_CONNECTION_TIME: Duration = Duration::from_secs(2);

/// Serves the probes of `router` on `listener` until `shutdown` turns true.
pub async fn serve(listener: TcpListener, router: Pipeline, mut shutdown: watch::Receiver<bool>) {
    let budget = Arc::new(Semaphore::new(PROBE_CONNECTIONS));
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = super::stopped(&mut shutdown) => return,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                tracing::error!(error = %e, "accepting a probe connection failed; pausing 100 ms");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = budget.clone().try_acquire_owned() else {
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
                req.extensions_mut().insert(crate::api::ProbeSlot);
                req.extensions_mut().insert(crate::api::Peer(peer.ip()));
                let router = router.clone();
                async move {
                    let mut res = router.answer(req.map(axum::body::Body::new)).await;
                    res.headers_mut().remove(header::ALLOW);
                    res.headers_mut()
                        .insert(header::CONNECTION, HeaderValue::from_static("close"));
                    Ok::<_, Infallible>(res)
                }
            });
            let served = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .keep_alive(false)
                .header_read_timeout(PROBE_HEAD_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service);
            let _ = tokio::time::timeout(PROBE_CONNECTION_TIME, served).await;
            drop(permit);
        });
    }
}
