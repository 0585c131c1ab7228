//! [`Stall`]: the timer both of the transport's timeouts use: armed when an operation cannot make
//! progress, reset whenever it does, expired once it has stalled for the whole timeout.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::Sleep;

/// How long an operation may go without progress.
#[derive(Debug)]
pub struct Stall {
    timeout: Duration,
    since: Option<Pin<Box<Sleep>>>,
}

impl Stall {
    /// A stall timer of `timeout`, not armed.
    pub fn new(timeout: Duration) -> Self {
        Self { timeout, since: None }
    }

    /// The operation made progress: disarms the timer.
    pub fn progressed(&mut self) {
        self.since = None;
    }

    /// The operation is pending: arms the timer if it is not, and tells whether the timeout has
    /// passed since it was armed (registering `cx` to be woken when it does).
    pub fn expired(&mut self, cx: &mut Context<'_>) -> bool {
        let timeout = self.timeout;
        let since = self
            .since
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        matches!(since.as_mut().poll(cx), Poll::Ready(()))
    }
}
