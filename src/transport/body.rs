//! The two bodies the transport wraps: a request body that must keep arriving
//! ([`TimedBody`], `[server] body_read_timeout_ms`), and a response body that tells the connection
//! when it has ended ([`Finishing`]).

use std::error::Error as StdError;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Bytes;
use hyper::body::{Body, Frame, SizeHint};

use super::conn::ConnState;
use super::stall::Stall;
use crate::api::extract::BodyStalled;

/// A request body that fails with [`BodyStalled`] when no frame arrives for its timeout.
pub struct TimedBody<B> {
    inner: B,
    stall: Stall,
}

impl<B> TimedBody<B> {
    /// Wraps `inner`.
    pub fn new(inner: B, timeout: Duration) -> Self {
        Self {
            inner,
            stall: Stall::new(timeout),
        }
    }
}

impl<B> Body for TimedBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    type Data = Bytes;
    type Error = Box<dyn StdError + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Pending if self.stall.expired(cx) => Poll::Ready(Some(Err(Box::new(BodyStalled::Silent)))),
            Poll::Pending => Poll::Pending,
            Poll::Ready(frame) => {
                self.stall.progressed();
                Poll::Ready(frame.map(|f| f.map_err(Into::into)))
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

/// A response body that marks its connection Finishing once it has ended or is dropped, so the
/// connection stays busy until hyper has taken its last byte.
pub struct Finishing {
    inner: axum::body::Body,
    conn: Arc<ConnState>,
}

impl Finishing {
    /// Wraps `inner` for `conn`.
    pub fn new(inner: axum::body::Body, conn: Arc<ConnState>) -> Self {
        Self { inner, conn }
    }
}

impl Drop for Finishing {
    fn drop(&mut self) {
        self.conn.body_done();
    }
}

impl Body for Finishing {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let frame = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(None) = frame {
            self.conn.body_done();
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
