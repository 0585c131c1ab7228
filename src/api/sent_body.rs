//! How a response body is sent: an archive in frames of [`CHUNK`] bytes ([`Chunks`]), and any
//! body metered ([`Metered`]): counted into the journal's [`Transfer`] (how many bytes went out,
//! whether the body was complete), and as a wire fault says (stalled after the head, cut after a
//! number of bytes; the connection is then aborted, as a dropped link would leave it).

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Bytes;
use hyper::body::{Body, Frame, SizeHint};

use crate::faults::Wire;
use crate::journal::Transfer;

/// What is sent a frame: large enough to cost nothing, small enough that a client that stops
/// reading leaves `bytes_sent` short of the whole (the connection's buffers fill).
pub const CHUNK: usize = 64 * 1024;

/// `bytes` in frames of [`CHUNK`].
#[derive(Debug)]
pub struct Chunks {
    bytes: Bytes,
}

impl Chunks {
    /// `bytes`, to be sent a chunk at a time.
    pub fn new(bytes: Bytes) -> Self {
        Self { bytes }
    }
}

impl Body for Chunks {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if self.bytes.is_empty() {
            return Poll::Ready(None);
        }
        let n = CHUNK.min(self.bytes.len());
        Poll::Ready(Some(Ok(Frame::data(self.bytes.split_to(n)))))
    }

    fn is_end_stream(&self) -> bool {
        self.bytes.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.bytes.len() as u64)
    }
}

/// The error that ends a cut body (hyper then drops the connection).
#[derive(Debug, thiserror::Error)]
#[error("the body was cut by a fault (cut_after_bytes)")]
pub struct Cut;

/// A body sent after `stall`, only its first `cut` bytes (then [`Cut`]), counted into `transfer`.
pub struct Metered {
    inner: axum::body::Body,
    stall: Option<Pin<Box<tokio::time::Sleep>>>,
    left: Option<u64>,
    cut_done: bool,
    transfer: Option<Arc<Transfer>>,
}

impl Metered {
    /// `inner`, stalled and cut as `wire` says, counted into `transfer`.
    pub fn new(inner: axum::body::Body, wire: Option<&Wire>, transfer: Option<Arc<Transfer>>) -> Self {
        Self {
            inner,
            stall: wire
                .and_then(|w| w.stall)
                .map(|d| Box::pin(tokio::time::sleep(d))),
            left: wire.and_then(|w| w.cut_after_bytes),
            cut_done: false,
            transfer,
        }
    }

    fn ended(&self) -> Poll<Option<Result<Frame<Bytes>, <Self as Body>::Error>>> {
        if let Some(transfer) = &self.transfer {
            transfer.completed();
        }
        Poll::Ready(None)
    }

    fn cut(&mut self) -> Poll<Option<Result<Frame<Bytes>, <Self as Body>::Error>>> {
        self.cut_done = true;
        Poll::Ready(Some(Err(Box::new(Cut))))
    }

    /// `data` goes out; `whole` when it is all of the frame (nothing was cut from it). The body is
    /// complete once the inner one has ended: hyper may not poll again after its last frame.
    fn sent(&self, data: Bytes, whole: bool) -> Poll<Option<Result<Frame<Bytes>, <Self as Body>::Error>>> {
        if let Some(transfer) = &self.transfer {
            transfer.sent(data.len());
            if whole && self.inner.is_end_stream() {
                transfer.completed();
            }
        }
        Poll::Ready(Some(Ok(Frame::data(data))))
    }
}

impl Body for Metered {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if let Some(stall) = &mut self.stall {
            if stall.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.stall = None;
        }
        if self.cut_done {
            return Poll::Ready(None);
        }
        let frame = match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(None) => return self.ended(),
            Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(Box::new(e)))),
            Poll::Ready(Some(Ok(frame))) => frame,
        };
        let data = match frame.into_data() {
            Ok(data) => data,
            Err(trailers) => return Poll::Ready(Some(Ok(trailers))),
        };
        let Some(left) = self.left else {
            return self.sent(data, true);
        };
        // More body than the cut lets through: what fits goes, then the error.
        let keep = usize::try_from(left).unwrap_or(usize::MAX).min(data.len());
        if keep == 0 && !data.is_empty() {
            return self.cut();
        }
        self.left = Some(left - keep as u64);
        let whole = keep == data.len();
        if !whole {
            self.left = Some(0);
        }
        self.sent(data.slice(..keep), whole)
    }

    fn is_end_stream(&self) -> bool {
        self.cut_done || (self.stall.is_none() && self.inner.is_end_stream())
    }

    fn size_hint(&self) -> SizeHint {
        // The whole length, cut or not: a cut body is short of its Content-Length.
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn send(bytes: &Bytes, cut: Option<u64>) -> (usize, bool, (u64, bool)) {
        let transfer = Arc::new(Transfer::default());
        let wire = Wire {
            cut_after_bytes: cut,
            ..Wire::default()
        };
        let inner = axum::body::Body::new(Chunks::new(bytes.clone()));
        let mut body = Metered::new(inner, Some(&wire), Some(transfer.clone()));
        let (mut got, mut failed) = (0, false);
        while let Some(frame) = body.frame().await {
            match frame {
                Ok(f) => got += f.into_data().map_or(0, |d| d.len()),
                Err(_) => failed = true,
            }
        }
        (got, failed, transfer.read())
    }

    #[tokio::test]
    async fn it_counts_what_it_sends_and_stops_at_a_cut() {
        let bytes = Bytes::from(vec![7u8; 3 * CHUNK + 5]);
        let whole = bytes.len();
        assert_eq!(send(&bytes, None).await, (whole, false, (whole as u64, true)));
        let n = CHUNK + 10;
        assert_eq!(send(&bytes, Some(n as u64)).await, (n, true, (n as u64, false)));
        assert_eq!(
            send(&bytes, Some(whole as u64)).await,
            (whole, false, (whole as u64, true)),
            "a cut at the end cuts nothing"
        );
        assert_eq!(send(&bytes, Some(0)).await, (0, true, (0, false)));
    }
}
