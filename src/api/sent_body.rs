//! A response body that counts what it sends ([`SentBody`]): the archive's, so the journal can
//! say how many bytes went out and whether the body was complete, and a wire fault can cut it
//! after a number of bytes (the connection is then aborted, as a dropped link would leave it).

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Bytes;
use hyper::body::{Body, Frame, SizeHint};

use crate::journal::Transfer;

/// What is sent a frame: large enough to cost nothing, small enough that a client that stops
/// reading leaves `bytes_sent` short of the whole (the connection's buffers fill).
const CHUNK: usize = 64 * 1024;

/// A body of `bytes`, sent in chunks, counted into a [`Transfer`], optionally cut.
#[derive(Debug)]
pub struct SentBody {
    bytes: Bytes,
    at: usize,
    /// Where the body stops short (a wire fault's `cut_after_bytes`).
    cut: Option<usize>,
    /// Whether it has: the error went out, nothing follows.
    cut_done: bool,
    transfer: Arc<Transfer>,
}

/// The error that ends a cut body (hyper then closes the connection).
#[derive(Debug, thiserror::Error)]
#[error("the body was cut after {0} bytes by a fault")]
pub struct Cut(usize);

impl SentBody {
    /// `bytes`, counted into `transfer`, cut after `cut` bytes when given.
    pub fn new(bytes: Bytes, transfer: Arc<Transfer>, cut: Option<usize>) -> Self {
        Self {
            bytes,
            at: 0,
            cut,
            cut_done: false,
            transfer,
        }
    }

    fn end(&self) -> usize {
        self.cut.map_or(self.bytes.len(), |n| n.min(self.bytes.len()))
    }
}

impl Body for SentBody {
    type Data = Bytes;
    type Error = Cut;

    fn poll_frame(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Cut>>> {
        if self.cut_done {
            return Poll::Ready(None);
        }
        let end = self.end();
        if self.at >= end {
            return match self.cut {
                Some(n) if n < self.bytes.len() => {
                    self.cut_done = true;
                    Poll::Ready(Some(Err(Cut(n))))
                }
                _ => {
                    self.transfer.completed();
                    Poll::Ready(None)
                }
            };
        }
        let next = (self.at + CHUNK).min(end);
        let chunk = self.bytes.slice(self.at..next);
        self.at = next;
        self.transfer.sent(chunk.len());
        if next == self.bytes.len() {
            self.transfer.completed();
        }
        Poll::Ready(Some(Ok(Frame::data(chunk))))
    }

    fn is_end_stream(&self) -> bool {
        self.cut_done || (self.cut.is_none() && self.at >= self.bytes.len())
    }

    fn size_hint(&self) -> SizeHint {
        // The whole length, cut or not: a cut body is short of its Content-Length.
        SizeHint::with_exact(
            u64::try_from(self.bytes.len() - self.at.min(self.bytes.len())).unwrap_or(u64::MAX),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn it_counts_what_it_sends_and_stops_at_a_cut() {
        let bytes = Bytes::from(vec![7u8; 3 * CHUNK + 5]);
        let transfer = Arc::new(Transfer::default());
        let whole = SentBody::new(bytes.clone(), transfer.clone(), None);
        let got = whole.collect().await.expect("whole").to_bytes();
        assert_eq!(
            (got.len(), transfer.read()),
            (bytes.len(), (bytes.len() as u64, true))
        );

        let transfer = Arc::new(Transfer::default());
        let mut cut = SentBody::new(bytes, transfer.clone(), Some(CHUNK + 10));
        let mut got = 0;
        let mut failed = false;
        while let Some(frame) = cut.frame().await {
            match frame {
                Ok(f) => got += f.into_data().map_or(0, |d| d.len()),
                Err(_) => failed = true,
            }
        }
        assert!(failed, "a cut body ends with an error");
        assert_eq!((got, transfer.read()), (CHUNK + 10, ((CHUNK + 10) as u64, false)));
    }
}
