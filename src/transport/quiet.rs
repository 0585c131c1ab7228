//! [`Quiet`]: a future that is polled again only once it has been woken. A connection waits for
//! its request, its eviction and the shutdown at once (`select!`), and every turn of the
//! connection polled all three; a pending `tokio::sync::Notify` wait takes its list's lock on
//! every poll. The two rare signals are wrapped in `Quiet`, which costs an atomic read a turn.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use futures_util::task::AtomicWaker;

/// Wraps `inner`: see the module documentation.
pub fn quiet<F: Future>(inner: F) -> Quiet<F> {
    Quiet {
        inner: Box::pin(inner),
        signal: Arc::new(Signal {
            woken: AtomicBool::new(true),
            task: AtomicWaker::new(),
        }),
    }
}

/// A future polled only when its own wake-up came (and on its first poll).
pub struct Quiet<F> {
    inner: Pin<Box<F>>,
    signal: Arc<Signal>,
}

/// The waker `inner` is given: it notes the wake-up and passes it on to the task.
struct Signal {
    woken: AtomicBool,
    task: AtomicWaker,
}

impl Wake for Signal {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.task.wake();
    }
}

impl<F: Future> Future for Quiet<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // Registered before the flag is read: a wake-up in between still wakes the task.
        self.signal.task.register(cx.waker());
        if !self.signal.woken.swap(false, Ordering::AcqRel) {
            return Poll::Pending;
        }
        let waker = Waker::from(self.signal.clone());
        self.inner.as_mut().poll(&mut Context::from_waker(&waker))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    use super::*;

    /// Counts its polls, then waits for `notify`.
    async fn counted(polls: &AtomicUsize, notify: &tokio::sync::Notify) {
        let notified = notify.notified();
        tokio::pin!(notified);
        std::future::poll_fn(|cx| {
            polls.fetch_add(1, Ordering::Relaxed);
            notified.as_mut().poll(cx)
        })
        .await;
    }

    #[tokio::test]
    async fn the_inner_future_is_polled_only_when_woken_and_still_completes() {
        let (polls, notify) = (AtomicUsize::new(0), tokio::sync::Notify::new());
        let mut waiting = quiet(counted(&polls, &notify));
        let noop = Waker::noop();
        let mut cx = Context::from_waker(noop);
        for _ in 0..5 {
            assert!(Pin::new(&mut waiting).poll(&mut cx).is_pending());
        }
        assert_eq!(polls.load(Ordering::Relaxed), 1, "only the first poll reached it");
        notify.notify_waiters();
        tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("the wake-up reaches the task");
        assert_eq!(polls.load(Ordering::Relaxed), 2);
    }
}
