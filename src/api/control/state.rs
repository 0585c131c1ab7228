//! `/_emulator/state`: export (streamed), import, save.

use std::io::Write;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use hyper::body::Frame;
use serde_json::json;
use tokio::sync::mpsc;

use crate::api::dto::StateQuery;
use crate::api::extract::ApiQuery;
use crate::api::pipeline::large_body;
use crate::app::App;
use crate::error::{ApiError, ErrorCode};

/// The size of a slice of the export handed to hyper.
const SLICE: usize = 64 * 1024;
/// Slices written ahead of the reader.
const AHEAD: usize = 4;

/// `GET /_emulator/state`: the whole state as the snapshot format, without any secret (no token
/// key: with it anyone could mint tokens) unless `?include=token_key` asks for the key (behind the
/// admin token when one is set, as all of `/_emulator`), to move a stub whole.
///
/// The snapshot is captured on a blocking thread, counted, and written out as it is serialised, a
/// slice at a time, at most [`AHEAD`] slices ahead of the reader: the answer costs the snapshot and
/// a few slices, never a second full copy as text. It holds one of `[server] max_large_bodies` permits
/// until its last byte is taken (or a slow reader is cut off by `write_timeout_ms`, which stops
/// the writer too), so slow readers cannot pile up copies.
pub async fn export_state(
    State(app): State<App>,
    ApiQuery(query): ApiQuery<StateQuery>,
    req: Request,
) -> Result<Response, ApiError> {
    let secrets = match query.include.as_deref() {
        None => crate::persist::Secrets::None,
        Some("token_key") => crate::persist::Secrets::TokenKey,
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "include: expected token_key, got {other:?}"
            )));
        }
    };
    let who = crate::api::pipeline::context::by_address(&req);
    streamed(app, who, move |app| {
        crate::persist::Snapshot::capture(&app.parts(), secrets)
    })
    .await
}

/// The query of `GET /_emulator/bundle`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleQuery {
    project_id: Option<String>,
    instance_id: Option<String>,
}

/// `GET /_emulator/bundle?project_id=&instance_id=`: the repro bundle of one namespace (see
/// `persist::bundle`), streamed as the state export is.
pub async fn export_bundle(
    State(app): State<App>,
    ApiQuery(query): ApiQuery<BundleQuery>,
    req: Request,
) -> Result<Response, ApiError> {
    let project = query
        .project_id
        .ok_or_else(|| ApiError::invalid("project_id: required (a bundle is of one namespace)"))?;
    let instance = query.instance_id;
    let who = crate::api::pipeline::context::by_address(&req);
    streamed(app, who, move |app| {
        crate::persist::Snapshot::bundle(&app.parts(), &app.config, &project, instance.as_deref())
    })
    .await
}

/// The snapshot `capture` takes, captured on a blocking thread and streamed (see [`export_state`]).
async fn streamed(
    app: App,
    who: String,
    capture: impl FnOnce(&App) -> crate::persist::Snapshot + Send + 'static,
) -> Result<Response, ApiError> {
    let permit = large_body::permit(&app, &who).await?;
    let (tx, rx) = mpsc::channel(AHEAD);
    let (length_tx, length_rx) = tokio::sync::oneshot::channel();
    tokio::task::spawn_blocking(move || {
        let snapshot = capture(&app);
        // Serialised twice, once only to count: the answer keeps its Content-Length (clients show
        // progress and know it is whole) without a copy of the text.
        let mut counted = Counted(0);
        if serde_json::to_writer(&mut counted, &snapshot).is_err() || length_tx.send(counted.0).is_err() {
            return;
        }
        let mut out = Slices {
            tx,
            buf: Vec::with_capacity(SLICE),
        };
        let written = serde_json::to_writer(&mut out, &snapshot).map_err(std::io::Error::from);
        match written.and_then(|()| out.flush()) {
            Ok(()) => {}
            // The reader went away: nothing to tell.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            Err(e) => {
                tracing::error!(error = %e, "writing the state export failed");
                let _ = out.tx.blocking_send(Err(e));
            }
        }
    });
    let length = length_rx
        .await
        .map_err(|_| ApiError::new(ErrorCode::Internal, "the state could not be serialised"))?;
    let body = Streamed {
        rx,
        left: length,
        _permit: permit,
    };
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        axum::body::Body::new(body),
    )
        .into_response())
}

/// A writer that hands what is written to the answer a slice at a time, waiting while the
/// reader is [`AHEAD`] slices behind.
struct Slices {
    tx: mpsc::Sender<std::io::Result<Bytes>>,
    buf: Vec<u8>,
}

impl Slices {
    fn send(&mut self) -> std::io::Result<()> {
        let slice = std::mem::replace(&mut self.buf, Vec::with_capacity(SLICE));
        self.tx
            .blocking_send(Ok(Bytes::from(slice)))
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::BrokenPipe))
    }
}

impl Write for Slices {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        if self.buf.len() >= SLICE {
            self.send()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() { Ok(()) } else { self.send() }
    }
}

/// A writer that only counts.
struct Counted(u64);

impl Write for Counted {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0 += bytes.len() as u64;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The answer: the slices as they come, holding the large-body permit until it ends or is dropped.
struct Streamed {
    rx: mpsc::Receiver<std::io::Result<Bytes>>,
    /// Bytes still to come.
    left: u64,
    _permit: crate::permits::LargeBodyPermit,
}

impl hyper::body::Body for Streamed {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let polled = self.rx.poll_recv(cx);
        if let Poll::Ready(Some(Ok(slice))) = &polled {
            self.left = self.left.saturating_sub(slice.len() as u64);
        }
        polled.map(|slice| slice.map(|s| s.map(Frame::data)))
    }

    fn is_end_stream(&self) -> bool {
        self.left == 0
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        hyper::body::SizeHint::with_exact(self.left)
    }
}

/// `PUT /_emulator/state`: replaces the running state by a snapshot (validated first: a bad one
/// changes nothing; the running token key stays).
pub async fn import_state(State(app): State<App>, req: Request) -> Result<Json<serde_json::Value>, ApiError> {
    let body = if large_body::sends_body(&req) {
        let caller = crate::api::pipeline::context::by_address(&req);
        large_body::hold(&app, req, &caller).await?.into_body()
    } else {
        req.into_body()
    };
    let body = crate::api::extract::read_body(body).await?;
    // Parsing and checking a large snapshot is heavy work: a blocking thread does it.
    let restored = tokio::task::spawn_blocking(move || {
        let snapshot = crate::persist::Snapshot::from_json(&body, app.config.catalog.max_instances)?;
        let jobs = snapshot.registry.jobs.len();
        snapshot.apply(&app.parts()).map(|warnings| (jobs, warnings))
    })
    .await
    .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?
    .map_err(|e| ApiError::invalid(format!("body: {e}")))?;
    let (jobs, warnings) = restored;
    for warning in &warnings {
        tracing::warn!("PUT /_emulator/state: {warning}");
    }
    Ok(Json(json!({"restored": {"jobs": jobs}, "warnings": warnings})))
}

/// `POST /_emulator/state/save`: writes the state file now (409 when none is configured).
pub async fn save_state(State(app): State<App>) -> Result<Json<serde_json::Value>, ApiError> {
    if app.config.state.file.is_none() {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "no [state] file is configured",
        ));
    }
    let saver = app.clone();
    let written = tokio::task::spawn_blocking(move || saver.save(true))
        .await
        .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?
        .map_err(|e| ApiError::new(ErrorCode::Internal, e))?;
    Ok(Json(
        json!({"saved": app.config.state.file, "bytes": written.unwrap_or(0)}),
    ))
}
