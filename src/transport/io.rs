//! [`ConnIo`]: a connection's TCP stream as hyper sees it. It keeps the connection's phase up to
//! date, closes a client that stops reading, and stands in for hyper's own refusals.
//!
//! - **Write timeout.** A write that cannot progress for `[server] write_timeout_ms` fails, so a
//!   client that stops reading loses its connection and the response's memory is freed.
//! - **hyper's refusals.** hyper answers a request it cannot parse (a garbage request line, a
//!   request target over 64 KiB, a head over its buffer or with too many headers) on its own, with
//!   an empty body, and closes. It writes on its own only then, so a write made while no request
//!   is being served ([`ConnState::between_requests`]) is that refusal: it is swallowed and the
//!   same status goes out with the ROMA error body instead. Every other byte is passed through
//!   exactly as hyper wrote it; no response byte is ever looked at to decide this.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::conn::ConnState;
use super::stall::Stall;

/// Builds the complete response that replaces a refusal of hyper's with this status.
pub type Refusal = Arc<dyn Fn(u16) -> Vec<u8> + Send + Sync>;

/// The stream of one connection.
pub struct ConnIo {
    inner: TcpStream,
    conn: Arc<ConnState>,
    /// The write timeout, armed while a write cannot progress.
    stall: Stall,
    refusal: Refusal,
    /// The replacement of hyper's refusal, and how much of it is written.
    replacing: Option<(Vec<u8>, usize)>,
}

impl Drop for ConnIo {
    /// A wire fault's `reset`: a zero linger makes the close a TCP reset.
    fn drop(&mut self) {
        if self.conn.resets_on_close() {
            let _ = socket2::SockRef::from(&self.inner).set_linger(Some(Duration::ZERO));
        }
    }
}

impl ConnIo {
    /// Wraps `inner`; `refusal` builds the answer that replaces one of hyper's.
    pub fn new(inner: TcpStream, conn: Arc<ConnState>, write_timeout: Duration, refusal: Refusal) -> Self {
        Self {
            inner,
            conn,
            stall: Stall::new(write_timeout),
            refusal,
            replacing: None,
        }
    }

    /// Writes to the socket; a write that stays blocked past the write timeout fails.
    fn write_timed(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.inner).poll_write(cx, buf) {
            Poll::Pending if self.stall.expired(cx) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client read nothing for server.write_timeout_ms",
            ))),
            Poll::Pending => Poll::Pending,
            done => {
                self.stall.progressed();
                done
            }
        }
    }

    /// Writes what is left of the replacement; ready once it is all out.
    fn write_replacement(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            let Some((bytes, written)) = self.replacing.take() else {
                return Poll::Ready(Ok(()));
            };
            if written == bytes.len() {
                self.replacing = Some((bytes, written));
                return Poll::Ready(Ok(()));
            }
            let n = match self.write_timed(cx, &bytes[written..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => {
                    self.replacing = Some((bytes, written));
                    return Poll::Pending;
                }
            };
            self.replacing = Some((bytes, written + n));
        }
    }
}

/// The status of hyper's own refusal (its status line is `HTTP/1.1 NNN ...`); 400 if unreadable.
fn refusal_status(buf: &[u8]) -> u16 {
    buf.get(9..12)
        .and_then(|d| std::str::from_utf8(d).ok())
        .and_then(|d| d.parse().ok())
        .unwrap_or(400)
}

impl AsyncRead for ConnIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.conn.is_evicted() {
            // The end of the stream: hyper closes the connection.
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        let read = Pin::new(&mut self.inner).poll_read(cx, buf);
        match &read {
            Poll::Ready(Ok(())) if buf.filled().len() > before => self.conn.bytes_read(),
            _ => self.conn.read_nothing(),
        }
        read
    }
}

impl AsyncWrite for ConnIo {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if self.replacing.is_none() && self.conn.between_requests() && !buf.is_empty() {
            let answer = (self.refusal)(refusal_status(buf));
            self.replacing = Some((answer, 0));
        }
        if self.replacing.is_some() {
            // hyper's bytes count as written; the replacement goes out instead.
            ready!(self.write_replacement(cx))?;
            return Poll::Ready(Ok(buf.len()));
        }
        self.write_timed(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.write_replacement(cx))?;
        ready!(Pin::new(&mut self.inner).poll_flush(cx))?;
        self.conn.flushed();
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.write_replacement(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
