//! Logging: one subscriber, installed by `main` only; `RUST_LOG` wins over `[log] level`. Lines go
//! to stderr (stdout carries only the `listening on` line), as text or one JSON object a line.
//!
//! A request never waits on stderr: a line is appended to a buffer in memory and a writer thread
//! writes whatever has gathered in one `write` (under load, many lines a syscall), at most
//! [`GATHER`] after the line was logged. The buffer holds
//! at most [`MAX_PENDING`] bytes; past that a request waits for the writer (no line is ever
//! dropped). [`LogGuard`], held by `main`, writes out everything still pending when it is dropped
//! at the end of a graceful shutdown, however long that takes. A crash (SIGKILL, an abort) loses
//! what was pending, at most [`MAX_PENDING`] bytes and usually the last few milliseconds of lines.
//! (`tracing-appender`'s non-blocking writer gives up after about a second at shutdown, and copies
//! every line into its own allocation; this one does neither.)

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::config::LogFormat;

/// The most bytes of log lines held for the writer thread before a request waits for it.
pub const MAX_PENDING: usize = 1 << 20;

/// Installs the log subscriber; keep the guard until the process ends.
pub fn init(level: &str, format: LogFormat) -> LogGuard {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let (writer, guard) = LineBuffer::spawn(std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_target(false);
    let _ = match format {
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init(),
    };
    guard
}

#[derive(Debug, Default)]
struct Pending {
    bytes: Vec<u8>,
    /// The writer thread is waiting for lines (only then is it woken).
    idle: bool,
    /// Requests wait for room (only then are they woken).
    full: bool,
    closed: bool,
}

#[derive(Debug, Default)]
struct Shared {
    pending: Mutex<Pending>,
    /// Lines arrived, or the buffer closed.
    lines: Condvar,
    /// The buffer was written out.
    room: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The subscriber's writer: appends each formatted line to the pending buffer.
#[derive(Debug, Clone)]
pub struct LineBuffer(Arc<Shared>);

impl LineBuffer {
    /// A buffer written to `out` by a new thread, and the guard that drains it.
    pub fn spawn<W: Write + Send + 'static>(out: W) -> (Self, LogGuard) {
        let shared = Arc::new(Shared::default());
        let thread = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("roma-emulator-log".into())
                .spawn(move || write_out(&shared, out))
                .ok()
        };
        let guard = LogGuard {
            shared: shared.clone(),
            thread,
        };
        (Self(shared), guard)
    }
}

impl Write for LineBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut pending = self.0.lock();
        while pending.bytes.len() >= MAX_PENDING && !pending.closed {
            pending.full = true;
            pending = self.0.room.wait(pending).unwrap_or_else(PoisonError::into_inner);
        }
        if pending.closed {
            // After the guard drained the buffer (a line logged during exit): straight out.
            drop(pending);
            return std::io::stderr().write(buf);
        }
        pending.bytes.extend_from_slice(buf);
        if pending.idle {
            pending.idle = false;
            self.0.lines.notify_one();
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for LineBuffer {
    type Writer = LineBuffer;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// How long the writer thread lets lines gather after the first one wakes it: waking it for every
/// line would cost a context switch a request (measured: more CPU than writing synchronously).
pub const GATHER: std::time::Duration = std::time::Duration::from_millis(2);

/// The writer thread: woken by the first line after it went idle, it lets lines gather for
/// [`GATHER`], then takes everything pending at once and writes it, until closed and empty.
fn write_out(shared: &Shared, mut out: impl Write) {
    let mut batch = Vec::new();
    loop {
        {
            let mut pending = shared.lock();
            while pending.bytes.is_empty() && !pending.closed {
                pending.idle = true;
                pending = shared.lines.wait(pending).unwrap_or_else(PoisonError::into_inner);
            }
            if pending.bytes.is_empty() {
                return;
            }
            if !pending.closed && !pending.full {
                drop(pending);
                std::thread::sleep(GATHER);
                pending = shared.lock();
            }
            std::mem::swap(&mut pending.bytes, &mut batch);
            if pending.full {
                pending.full = false;
                shared.room.notify_all();
            }
        }
        // A failing stderr (closed pipe) must not stop the server: the lines are dropped.
        let _ = out.write_all(&batch).and_then(|()| out.flush());
        batch.clear();
        if batch.capacity() > 4 * MAX_PENDING {
            batch = Vec::new();
        }
    }
}

/// Writes out every pending line when dropped (the end of `main`), then lets lines go straight to
/// stderr.
#[derive(Debug)]
pub struct LogGuard {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.lines.notify_one();
        self.shared.room.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sink that is slow, so lines pile up while it writes.
    #[derive(Clone, Default)]
    struct Slow(Arc<Mutex<Vec<u8>>>, Arc<Mutex<usize>>);

    impl Write for Slow {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            std::thread::sleep(std::time::Duration::from_millis(2));
            *self.1.lock().unwrap_or_else(PoisonError::into_inner) += 1;
            self.0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_line_is_written_in_order_by_the_time_the_guard_is_dropped() {
        let sink = Slow::default();
        let (writer, guard) = LineBuffer::spawn(sink.clone());
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let mut w = writer.clone();
                std::thread::spawn(move || {
                    for i in 0..5000 {
                        let _ = w.write_all(format!("thread {t} line {i}\n").as_bytes());
                    }
                })
            })
            .collect();
        for t in threads {
            let _ = t.join();
        }
        drop(guard);
        let text = String::from_utf8(sink.0.lock().unwrap_or_else(PoisonError::into_inner).clone())
            .unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 20_000, "no line is lost");
        for t in 0..4 {
            let own: Vec<&str> = lines
                .iter()
                .copied()
                .filter(|l| l.starts_with(&format!("thread {t} ")))
                .collect();
            let expected: Vec<String> = (0..5000).map(|i| format!("thread {t} line {i}")).collect();
            assert_eq!(own, expected, "each thread's lines stay in order");
        }
        let writes = *sink.1.lock().unwrap_or_else(PoisonError::into_inner);
        assert!(
            writes < 20_000 / 10,
            "lines are batched: {writes} writes for 20 000 lines"
        );
    }

    #[test]
    fn a_full_buffer_makes_the_logger_wait_instead_of_dropping_lines() {
        let sink = Slow::default();
        let (mut writer, guard) = LineBuffer::spawn(sink.clone());
        let line = vec![b'x'; 64 * 1024];
        // 64 MiB through a 1 MiB buffer: the writer must have waited many times.
        for _ in 0..1024 {
            let _ = writer.write_all(&line);
        }
        drop(guard);
        let written = sink.0.lock().unwrap_or_else(PoisonError::into_inner).len();
        assert_eq!(written, 1024 * line.len());
    }
}
