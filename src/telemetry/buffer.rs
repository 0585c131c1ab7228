//! The log's line buffer and its writer thread: a request never waits on stderr (see the module
//! above). Lines are appended in memory and written out in batches by one thread.

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

/// The most bytes of log lines held for the writer thread; past it lines are dropped and counted.
pub const MAX_PENDING: usize = 1 << 20;

/// How long the end of `main` waits for pending lines to be written.
pub const FLUSH_DEADLINE: Duration = Duration::from_secs(2);

#[derive(Debug, Default)]
struct Pending {
    bytes: Vec<u8>,
    /// The writer thread is waiting for lines (only then is it woken).
    idle: bool,
    /// The writer thread is letting lines gather (it is woken when [`GATHER_BYTES`] are pending).
    gathering: bool,
    closed: bool,
    /// Lines dropped since the writer last caught up.
    dropped: u64,
    /// The writer thread has finished.
    done: bool,
}

/// What the subscriber's writers and the writer thread share: the pending lines and two signals.
#[derive(Debug, Default)]
struct Handoff {
    pending: Mutex<Pending>,
    /// Lines arrived, or the buffer closed.
    lines: Condvar,
    /// The writer thread finished.
    finished: Condvar,
}

impl Handoff {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The subscriber's writer: appends each formatted line to the pending buffer, or drops it.
#[derive(Debug, Clone)]
pub struct LineBuffer(Arc<Handoff>);

impl LineBuffer {
    /// A buffer written to `out` by a new thread, and the guard that drains it.
    pub fn spawn<W: Write + Send + 'static>(out: W) -> (Self, LogGuard) {
        let shared = Arc::new(Handoff::default());
        let spawned = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("roma-emulator-log".into())
                .spawn(move || {
                    write_out(&shared, out);
                    shared.lock().done = true;
                    shared.finished.notify_all();
                })
        };
        if spawned.is_err() {
            shared.lock().done = true;
        }
        let guard = LogGuard {
            shared: shared.clone(),
        };
        (Self(shared), guard)
    }

    /// How many lines were dropped and not yet reported.
    pub fn dropped(&self) -> u64 {
        self.0.lock().dropped
    }

    /// Appends what `line` writes straight into the pending buffer (no copy of its own), or drops
    /// it and counts it when it does not fit.
    pub fn append(&self, line: impl FnOnce(&mut Vec<u8>)) {
        let mut pending = self.0.lock();
        let before = pending.bytes.len();
        if !pending.closed {
            line(&mut pending.bytes);
            let len = pending.bytes.len();
            if len <= MAX_PENDING {
                if pending.idle {
                    pending.idle = false;
                    self.0.lines.notify_one();
                } else if pending.gathering && before < GATHER_BYTES && len >= GATHER_BYTES {
                    self.0.lines.notify_one();
                }
                return;
            }
        }
        pending.bytes.truncate(before);
        pending.dropped += 1;
        drop(pending);
        crate::metrics::LOG_LINES_DROPPED.inc();
    }

    /// Drops one line, counted.
    fn drop_line(&self) {
        self.0.lock().dropped += 1;
        crate::metrics::LOG_LINES_DROPPED.inc();
    }
}

impl Write for LineBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if buf.len() > MAX_PENDING {
            // Never copied in only to be cut off again.
            self.drop_line();
            return Ok(buf.len());
        }
        self.append(|bytes| bytes.extend_from_slice(buf));
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
/// line would cost a context switch a request (measured: more CPU than writing synchronously), and
/// at 2 ms the wake-ups and writes still cost about 3% of the CPU of an export under load.
pub const GATHER: Duration = Duration::from_millis(10);

/// Pending bytes that end the gathering early: a burst is written out well before the buffer is
/// full, so a longer [`GATHER`] drops no more lines than a short one.
pub const GATHER_BYTES: usize = MAX_PENDING / 4;

/// The writer thread: woken by the first line after it went idle, it lets lines gather for
/// [`GATHER`] (or until [`GATHER_BYTES`] are pending, or the buffer closes), then takes everything
/// pending at once and writes it, until closed and empty. After lines were dropped, the next write
/// says how many.
fn write_out(shared: &Handoff, mut out: impl Write) {
    let mut batch = Vec::new();
    loop {
        let dropped = {
            let mut pending = shared.lock();
            while pending.bytes.is_empty() && pending.dropped == 0 && !pending.closed {
                pending.idle = true;
                pending = shared.lines.wait(pending).unwrap_or_else(PoisonError::into_inner);
            }
            if pending.bytes.is_empty() && pending.dropped == 0 {
                return;
            }
            if !pending.closed {
                pending.gathering = true;
                pending = shared
                    .lines
                    .wait_timeout_while(pending, GATHER, |p| p.bytes.len() < GATHER_BYTES && !p.closed)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
                pending.gathering = false;
            }
            std::mem::swap(&mut pending.bytes, &mut batch);
            std::mem::take(&mut pending.dropped)
        };
        if dropped > 0 {
            let _ = writeln!(
                out,
                "roma-emulator: {dropped} log lines were dropped: stderr did not take them in time (roma_emulator_log_lines_dropped_total)"
            );
        }
        // A failing stderr (closed pipe) must not stop the server: the lines are dropped.
        let _ = out.write_all(&batch).and_then(|()| out.flush());
        batch.clear();
        if batch.capacity() > 4 * MAX_PENDING {
            batch = Vec::new();
        }
    }
}

/// Writes out the pending lines when dropped (the end of `main`), waiting at most
/// [`FLUSH_DEADLINE`]; lines logged after it are dropped.
#[derive(Debug)]
pub struct LogGuard {
    shared: Arc<Handoff>,
}

impl LogGuard {
    /// Closes the buffer and waits at most `deadline` for the writer to finish; true if it did.
    pub fn close(&self, deadline: Duration) -> bool {
        let mut pending = self.shared.lock();
        pending.closed = true;
        self.shared.lines.notify_one();
        let until = std::time::Instant::now() + deadline;
        while !pending.done {
            let left = until.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return false;
            }
            pending = self
                .shared
                .finished
                .wait_timeout(pending, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
    }
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        self.close(FLUSH_DEADLINE);
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

    /// A sink that never takes a byte: a stuck log pipe. It says when the writer thread is in it.
    struct Stuck(Arc<(Mutex<bool>, Condvar)>, Arc<std::sync::atomic::AtomicBool>);

    impl Write for Stuck {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.1.store(true, std::sync::atomic::Ordering::SeqCst);
            let (released, cv) = &*self.0;
            let mut released = released.lock().unwrap_or_else(PoisonError::into_inner);
            while !*released {
                released = cv.wait(released).unwrap_or_else(PoisonError::into_inner);
            }
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_stuck_sink_costs_dropped_lines_never_a_wait_and_the_guard_gives_up_in_time() {
        let gate = Arc::new((Mutex::new(false), Condvar::new()));
        let entered = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (mut writer, guard) = LineBuffer::spawn(Stuck(gate.clone(), entered.clone()));
        let line = vec![b'x'; 1024];
        let dropped_before = crate::metrics::LOG_LINES_DROPPED.get();
        let started = std::time::Instant::now();
        // 64 MiB into a 1 MiB buffer that is never written out: no call may wait.
        for _ in 0..64 * 1024 {
            let _ = writer.write_all(&line);
        }
        // At most two buffers' worth were taken (one stuck in the sink, one pending); every other
        // line was dropped and counted.
        let dropped = crate::metrics::LOG_LINES_DROPPED.get() - dropped_before;
        assert!(
            dropped >= 64 * 1024 - 2 * 1024 - 2,
            "lines past the buffer are dropped and counted: {dropped}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "logging never waits for the sink"
        );
        // Once the writer thread is stuck in the sink it takes nothing more, so what is dropped
        // from now on waits, counted, for the line that will report it. (Before, the thread may
        // still take the count gathered so far, which it reports then.)
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !entered.load(std::sync::atomic::Ordering::SeqCst) && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        for _ in 0..2 * 1024 + 1 {
            let _ = writer.write_all(&line);
        }
        assert!(writer.dropped() > 0, "the writer counts what it will report");
        let closed_at = std::time::Instant::now();
        assert!(
            !guard.close(Duration::from_millis(200)),
            "the sink never took the lines"
        );
        assert!(closed_at.elapsed() < Duration::from_secs(5));
        // Release the sink so the thread ends.
        *gate.0.lock().unwrap_or_else(PoisonError::into_inner) = true;
        gate.1.notify_all();
    }

    #[test]
    fn after_dropping_lines_the_writer_says_how_many() {
        let sink = Slow::default();
        let (mut writer, guard) = LineBuffer::spawn(sink.clone());
        let line = vec![b'y'; MAX_PENDING / 2 + 1];
        for _ in 0..4 {
            let _ = writer.write_all(&line);
        }
        drop(guard);
        let text =
            String::from_utf8_lossy(&sink.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned();
        assert!(
            text.contains("log lines were dropped"),
            "{}",
            &text[..text.len().min(200)]
        );
    }
}
