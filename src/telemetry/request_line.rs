//! The request line: one `info` line a request, the log's hot path. It is written straight into
//! the log buffer, field by field, with no `fmt` machinery on the common path: strings that need
//! no escaping are copied as they are, numbers go through `itoa`, and the timestamp's date and time
//! are formatted once a second per thread (within a second only the microseconds change).
//!
//! The line is byte for byte what `tracing-subscriber` writes for the same event (text without
//! colours, or JSON), so nothing that reads the log can tell: the tests format both ways and
//! compare. It carries the same fields as before and never a credential. When the log is in
//! colour (a terminal), or the process's subscriber is not `main`'s (a library user's own), the
//! line goes through `tracing` as any other.

use std::cell::Cell;
use std::io::Write;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::LineBuffer;

/// The target of the request line, for filters (`RUST_LOG=roma_emulator::api::pipeline=warn`):
/// the module that logs it.
pub const TARGET: &str = "roma_emulator::api::pipeline::respond";

/// The fields of one request line.
#[derive(Debug, Clone, Copy)]
pub struct RequestLine<'a> {
    /// The request's method.
    pub method: &'a str,
    /// The matched route template, or `(no route)`.
    pub route: &'a str,
    /// The operation id, or empty.
    pub operation: &'a str,
    /// The response status.
    pub status: u16,
    /// The error code sent, or empty.
    pub error_code: &'a str,
    /// What exactly was wrong, or empty (never a credential, never an internal detail).
    pub error_details: &'a str,
    /// From the request's head to its response.
    pub latency_us: u64,
    /// The request id sent in `X-Request-Id`.
    pub request_id: &'a str,
}

/// Where `main`'s subscriber writes, and how: set once by [`super::init`].
struct Direct {
    buffer: LineBuffer,
    json: bool,
}

static DIRECT: OnceLock<Direct> = OnceLock::new();

/// Lets request lines bypass the formatter of `main`'s subscriber, which writes to `buffer`
/// (as JSON when `json`) without colours.
pub(super) fn write_directly(buffer: LineBuffer, json: bool) {
    let _ = DIRECT.set(Direct { buffer, json });
}

impl RequestLine<'_> {
    /// Logs the line at `info` under [`TARGET`], if the filter lets it through.
    pub fn log(&self) {
        if !tracing::enabled!(target: TARGET, tracing::Level::INFO) {
            return;
        }
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .ok()
            .filter(|d| d.as_secs() <= LAST_SECOND);
        match (DIRECT.get(), since_epoch) {
            (Some(direct), Some(now)) => direct.buffer.append(|out| {
                if direct.json {
                    self.write_json(out, now);
                } else {
                    self.write_text(out, now);
                }
            }),
            _ => self.log_through_tracing(),
        }
    }

    /// The same line as an ordinary `tracing` event.
    fn log_through_tracing(&self) {
        tracing::info!(
            target: TARGET,
            method = %self.method,
            route = self.route,
            operation = self.operation,
            status = self.status,
            error_code = self.error_code,
            error_details = self.error_details,
            latency_us = self.latency_us,
            request_id = %self.request_id,
            "request"
        );
    }

    /// `tracing-subscriber`'s text line: `%` fields as they are, `&str` fields quoted as `Debug`.
    fn write_text(&self, out: &mut Vec<u8>, now: Duration) {
        timestamp(out, now);
        out.extend_from_slice(b"  INFO request method=");
        out.extend_from_slice(self.method.as_bytes());
        for (name, value) in [(&b" route="[..], self.route), (b" operation=", self.operation)] {
            out.extend_from_slice(name);
            debug_str(out, value);
        }
        out.extend_from_slice(b" status=");
        out.extend_from_slice(itoa::Buffer::new().format(self.status).as_bytes());
        out.extend_from_slice(b" error_code=");
        debug_str(out, self.error_code);
        out.extend_from_slice(b" error_details=");
        debug_str(out, self.error_details);
        out.extend_from_slice(b" latency_us=");
        out.extend_from_slice(itoa::Buffer::new().format(self.latency_us).as_bytes());
        out.extend_from_slice(b" request_id=");
        out.extend_from_slice(self.request_id.as_bytes());
        out.push(b'\n');
    }

    /// `tracing-subscriber`'s JSON line, flattened: timestamp, level, message, then the fields.
    fn write_json(&self, out: &mut Vec<u8>, now: Duration) {
        out.extend_from_slice(b"{\"timestamp\":\"");
        timestamp(out, now);
        out.extend_from_slice(b"\",\"level\":\"INFO\",\"message\":\"request\"");
        for (name, value) in [
            (&b",\"method\":"[..], self.method),
            (b",\"route\":", self.route),
            (b",\"operation\":", self.operation),
        ] {
            out.extend_from_slice(name);
            json_str(out, value);
        }
        out.extend_from_slice(b",\"status\":");
        out.extend_from_slice(itoa::Buffer::new().format(self.status).as_bytes());
        out.extend_from_slice(b",\"error_code\":");
        json_str(out, self.error_code);
        out.extend_from_slice(b",\"error_details\":");
        json_str(out, self.error_details);
        out.extend_from_slice(b",\"latency_us\":");
        out.extend_from_slice(itoa::Buffer::new().format(self.latency_us).as_bytes());
        out.extend_from_slice(b",\"request_id\":");
        json_str(out, self.request_id);
        out.extend_from_slice(b"}\n");
    }
}

/// Printable ASCII that neither `Debug` nor JSON escapes: copied as it is.
fn plain(s: &str) -> bool {
    s.bytes()
        .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
}

/// `s` as `{:?}` writes it.
fn debug_str(out: &mut Vec<u8>, s: &str) {
    if plain(s) {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        let _ = write!(out, "{s:?}");
    }
}

/// `s` as a JSON string, as `serde_json` writes it.
fn json_str(out: &mut Vec<u8>, s: &str) {
    if plain(s) {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        let _ = serde_json::to_writer(&mut *out, s);
    }
}

/// The instants whose timestamps are written here: 1970 to 9999 (`tracing-subscriber` signs a
/// year outside those, and a clock there is broken anyway: such a line goes through `tracing`).
const LAST_SECOND: u64 = 253_402_300_799;

thread_local! {
    /// The second last formatted on this thread, and its `YYYY-MM-DDTHH:MM:SS.` text.
    static SECOND: Cell<(u64, [u8; 20])> = const { Cell::new((u64::MAX, [0; 20])) };
}

/// `now` as `tracing-subscriber`'s `SystemTime` timer writes it, `2026-11-29T12:25:44.152746Z`:
/// the date and time formatted once a second per thread, then the microseconds.
fn timestamp(out: &mut Vec<u8>, since_epoch: Duration) {
    let (secs, micros) = (since_epoch.as_secs(), since_epoch.subsec_micros());
    let (cached, mut prefix) = SECOND.get();
    if cached != secs {
        let text = humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(secs)).to_string();
        // `YYYY-MM-DDTHH:MM:SSZ`: all but the `Z`, then the point.
        prefix[..19].copy_from_slice(&text.as_bytes()[..19]);
        prefix[19] = b'.';
        SECOND.set((secs, prefix));
    }
    out.extend_from_slice(&prefix);
    let mut digits = [b'0'; 6];
    let mut rest = micros;
    for digit in digits.iter_mut().rev() {
        *digit = b'0' + u8::try_from(rest % 10).unwrap_or(0);
        rest /= 10;
    }
    out.extend_from_slice(&digits);
    out.push(b'Z');
}

#[cfg(test)]
mod tests;
