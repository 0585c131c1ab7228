//! Logging: one subscriber, installed by `main` only; `RUST_LOG` wins over `[log] level`, and an
//! invalid filter in either stops startup. Lines go to stderr (stdout carries only the
//! `listening on` line), as text or one JSON object a line.
//!
//! **A request never waits on stderr.** A line is appended to a buffer in memory and a writer
//! thread writes whatever has gathered in one `write` (under load, many lines a syscall), at most
//! [`GATHER`] after the line was logged. The buffer holds at most [`MAX_PENDING`] bytes; a line
//! that does not fit is dropped and counted (`roma_emulator_log_lines_dropped_total`), and once
//! writing resumes one line says how many were dropped. A stub's availability matters more than
//! the completeness of its log: a stuck log shipper or a full container log pipe must not freeze
//! the requests of every tenant.
//!
//! The one line every request logs ([`RequestLine`]) skips the subscriber's formatter: it is
//! written straight into the same buffer, as the same line (`request_line`).
//!
//! [`LogGuard`], held by `main`, writes out what is pending when it is dropped at the end of a
//! graceful shutdown, waiting at most [`FLUSH_DEADLINE`]: a blocked stderr cannot hold the exit
//! (the state file is saved before). A crash (SIGKILL, an abort) loses what was pending, at most
//! [`MAX_PENDING`] bytes and usually the last few milliseconds of lines.

mod buffer;
mod request_line;

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::{DefaultFields, Format, Json, JsonFields};
use tracing_subscriber::fmt::{MakeWriter, SubscriberBuilder};

pub use self::buffer::{FLUSH_DEADLINE, GATHER, LineBuffer, LogGuard, MAX_PENDING};
pub use self::request_line::{RequestLine, TARGET};

use crate::config::LogFormat;

/// The filter for `level` (`[log] level`), unless `RUST_LOG` is set, which wins. An invalid
/// filter is an error naming where it came from.
pub fn filter(level: &str, rust_log: Option<&str>) -> Result<EnvFilter, String> {
    let (text, source) = match rust_log {
        Some(value) => (value, "RUST_LOG"),
        None => (level, "key `log.level` (or ROMA_EMULATOR_LOG)"),
    };
    check_levels(text)
        .and_then(|()| EnvFilter::try_new(text).map_err(|e| e.to_string()))
        .map_err(|e| format!("{source}: {text:?} is not a valid log filter: {e}"))
}

/// Each directive of a filter names a level: `info`, or `target=debug` (a bare word that is no
/// level, such as `inf` or `verbose`, would silently filter by a target of that name).
fn check_levels(text: &str) -> Result<(), String> {
    for directive in text.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        if directive.contains('[') {
            continue;
        }
        let level = directive.rsplit_once('=').map_or(directive, |(_, level)| level);
        if level.parse::<tracing_subscriber::filter::LevelFilter>().is_err() {
            return Err(format!(
                "{level:?} is not a level (trace, debug, info, warn, error, off)"
            ));
        }
    }
    Ok(())
}

/// Installs the log subscriber; keep the guard until the process ends.
pub fn init(level: &str, format: LogFormat) -> Result<LogGuard, String> {
    let rust_log = std::env::var("RUST_LOG").ok().filter(|v| !v.is_empty());
    let filter = filter(level, rust_log.as_deref())?;
    let (writer, guard) = LineBuffer::spawn(std::io::stderr());
    let installed = match format {
        LogFormat::Text => {
            let ansi = std::io::stderr().is_terminal();
            let installed = text_lines(filter, writer.clone(), ansi).try_init().is_ok();
            installed && !ansi
        }
        LogFormat::Json => json_lines(filter, writer.clone()).try_init().is_ok(),
    };
    // The request line is then written straight into the same buffer, as the same line.
    if installed {
        request_line::write_directly(writer, format == LogFormat::Json);
    }
    Ok(guard)
}

/// The text subscriber of [`init`].
fn text_lines<W>(
    filter: EnvFilter,
    writer: W,
    ansi: bool,
) -> SubscriberBuilder<DefaultFields, Format, EnvFilter, W>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    common_settings(filter, writer).with_ansi(ansi)
}

/// The JSON subscriber of [`init`]: one flat object a line.
fn json_lines<W>(filter: EnvFilter, writer: W) -> SubscriberBuilder<JsonFields, Format<Json>, EnvFilter, W>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    common_settings(filter, writer)
        .json()
        .flatten_event(true)
        .with_current_span(false)
}

/// What both subscribers share: the filter, the writer, no target.
fn common_settings<W>(filter: EnvFilter, writer: W) -> SubscriberBuilder<DefaultFields, Format, EnvFilter, W>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_target(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_filters_are_refused_naming_their_source() {
        assert!(filter("info", None).is_ok());
        assert!(filter("roma_emulator=debug,warn", None).is_ok());
        let bad = filter("verbose", None).expect_err("invalid level");
        assert!(bad.contains("log.level"), "{bad}");
        let bad = filter("roma_emulator=loud", None).expect_err("invalid level");
        assert!(bad.contains("log.level"), "{bad}");
        let bad = filter("info", Some("=[")).expect_err("invalid RUST_LOG");
        assert!(bad.contains("RUST_LOG"), "{bad}");
    }
}
