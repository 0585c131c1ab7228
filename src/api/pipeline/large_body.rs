//! Large bodies (ImportAsset uploads, `PUT /_emulator/state`): the permit, given only once the
//! caller is known, and the floor under an upload's rate (#27).
//!
//! - [`hold`] waits for one of `[server] max_large_bodies` permits for a caller (a user, or an
//!   address for what is anonymous: the control plane, and an AK/SK body whose signature needs its
//!   bytes; see `context::by_user` and `by_address`), at most one a caller (see `crate::permits`),
//!   and moves it into the body.
//! - [`Floor`], that body: after `min_upload_grace_ms` it must keep arriving at
//!   `min_upload_bytes_per_s` on average, counted from the grace's end; a trickle is ended with
//!   `EMULATOR.0408` and frees its permit. Stalls in between are the transport's
//!   `body_read_timeout_ms`, and everything is within `request_timeout_ms`.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{Method, header};
use hyper::body::{Frame, SizeHint};
use tokio::time::{Instant, Sleep};

use super::context::Exchange;
use crate::api::extract::BodyStalled;
use crate::app::App;
use crate::error::{ApiError, ErrorCode};
use crate::permits::{Busy, LargeBodyPermit};

/// Whether `req` sends a large body: a route that takes one, a method with a body, and a declared
/// length that is not 0.
pub fn wanted(exchange: &Exchange<'_>, req: &Request) -> bool {
    exchange.body() == crate::api::route::BodyClass::Large && sends_body(req)
}

/// Whether `req` may send a body at all (`POST`/`PUT` without `Content-Length: 0`).
pub fn sends_body(req: &Request) -> bool {
    let empty = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .is_some_and(|v| v.as_bytes().trim_ascii() == b"0");
    matches!(*req.method(), Method::POST | Method::PUT) && !empty
}

/// A permit for `caller`, or the `EMULATOR.0503` that says why there is none.
pub async fn permit(app: &App, caller: &str) -> Result<LargeBodyPermit, ApiError> {
    app.large_bodies.acquire(caller).await.map_err(|busy| {
        let why = match busy {
            Busy::Caller => {
                format!("{caller} holds a large body already (one a caller), past server.large_body_wait_ms")
            }
            Busy::All => {
                "server.max_large_bodies stayed busy past server.large_body_wait_ms; try again shortly"
                    .to_owned()
            }
        };
        ApiError::new(ErrorCode::Unavailable, why)
    })
}

/// `req` with its body holding a permit for `caller` and under the upload floor.
pub async fn hold(app: &App, mut req: Request, caller: &str) -> Result<Request, ApiError> {
    let permit = permit(app, caller).await?;
    let body = std::mem::take(req.body_mut());
    *req.body_mut() = holding(under_floor(app, body), permit);
    Ok(req)
}

/// `body` holding `permit` until it is dropped.
pub fn holding(body: Body, permit: LargeBodyPermit) -> Body {
    Body::new(http_body_util::BodyExt::map_frame(body, move |frame| {
        let _held = &permit;
        frame
    }))
}

/// `body` under the upload floor of `[server] min_upload_bytes_per_s`, from now.
pub fn under_floor(app: &App, body: Body) -> Body {
    let server = &app.config.server;
    Body::new(Floor {
        inner: body,
        rate: server.min_upload_bytes_per_s,
        start: Instant::now(),
        grace: Duration::from_millis(server.min_upload_grace_ms),
        bytes: 0,
        timer: None,
    })
}

/// A large body that fails with [`BodyStalled::TooSlow`] once it falls under the floor (see the
/// module documentation).
pub struct Floor {
    inner: Body,
    /// Bytes a second; 0 is no floor.
    rate: u64,
    start: Instant,
    grace: Duration,
    bytes: u64,
    /// When the bytes so far stop being enough, armed while the body waits.
    timer: Option<Pin<Box<Sleep>>>,
}

impl Floor {
    /// When the bytes received so far stop being enough: each byte buys `1/rate` s after the grace.
    fn due(&self) -> Instant {
        let bought = Duration::from_secs_f64(self.bytes as f64 / self.rate as f64);
        self.start + self.grace + bought
    }
}

impl hyper::body::Body for Floor {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                this.bytes += frame.data_ref().map_or(0, |d| d.len() as u64);
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(other) => Poll::Ready(other),
            Poll::Pending if this.rate == 0 => Poll::Pending,
            Poll::Pending => {
                let due = this.due();
                let timer = this
                    .timer
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(due)));
                if timer.deadline() != due {
                    timer.as_mut().reset(due);
                }
                if timer.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                let elapsed_ms = u64::try_from(this.start.elapsed().as_millis()).unwrap_or(u64::MAX);
                let slow = BodyStalled::TooSlow {
                    bytes: this.bytes,
                    elapsed_ms,
                    rate: this.rate,
                };
                Poll::Ready(Some(Err(axum::Error::new(slow))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
