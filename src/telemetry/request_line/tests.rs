use std::sync::{Arc, Mutex, PoisonError};

use super::*;
use crate::telemetry::{json_lines, text_lines};

/// What a subscriber wrote.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap_or_else(PoisonError::into_inner).clone()).unwrap_or_default()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
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

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

fn filter() -> tracing_subscriber::EnvFilter {
    tracing_subscriber::EnvFilter::new("info")
}

/// Lines of every shape the log meets: plain, no route, and details that need escaping (quotes,
/// a backslash, control characters, an escape sequence, non-ASCII, a C1 control, DEL).
fn lines() -> Vec<RequestLine<'static>> {
    let ok = RequestLine {
        method: "POST",
        route: "/v2/{project_id}/instances/{instance_id}/assets/export",
        operation: "ExportAsset",
        status: 200,
        error_code: "",
        error_details: "",
        latency_us: 94,
        request_id: "8875cad156cb4c94be6736e59c22cb19",
    };
    let details = [
        "apps: required",
        r#"apps[0].id: "x\y" is not an id"#,
        "line\nbreak\ttab\r\u{0}nul",
        "\u{1b}[31mred\u{1b}[0m and \u{7}bell",
        "ünïcødé ✓ 漢字 \u{85} \u{7f} \u{200b}",
        "it's 'quoted'",
    ];
    let mut lines = vec![
        ok,
        RequestLine {
            method: "GET",
            route: "(no route)",
            operation: "",
            status: 404,
            error_code: "APIG.0101",
            error_details: "no API has this path",
            latency_us: 0,
            request_id: "f7dc483f1ee4433e86de5f622aa9ea95",
        },
        RequestLine {
            method: "BREW",
            latency_us: u64::MAX,
            status: 599,
            ..ok
        },
    ];
    lines.extend(details.iter().map(|d| RequestLine {
        status: 400,
        error_code: "ROMA.13000",
        error_details: d,
        ..ok
    }));
    lines
}

/// The line `tracing-subscriber` writes for `line`, and the instants just before and after.
fn through_tracing(line: &RequestLine<'_>, json: bool) -> (Duration, String, Duration) {
    let captured = Captured::default();
    let before = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    if json {
        let subscriber = json_lines(filter(), captured.clone()).finish();
        tracing::subscriber::with_default(subscriber, || line.log_through_tracing());
    } else {
        let subscriber = text_lines(filter(), captured.clone(), false).finish();
        tracing::subscriber::with_default(subscriber, || line.log_through_tracing());
    }
    let after = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    (before, captured.text(), after)
}

/// The timestamp's place in a line and the line's text without it.
fn split_timestamp(line: &str, json: bool) -> (String, String) {
    let start = if json { "{\"timestamp\":\"".len() } else { 0 };
    let end = start + "2026-11-29T12:25:44.152746Z".len();
    (
        line[start..end].to_owned(),
        format!("{}{}", &line[..start], &line[end..]),
    )
}

#[test]
fn the_direct_line_is_byte_for_byte_what_tracing_subscriber_writes_text_and_json() {
    for json in [false, true] {
        for line in lines() {
            let (before, expected, after) = through_tracing(&line, json);
            let mut direct = Vec::new();
            if json {
                line.write_json(&mut direct, before);
            } else {
                line.write_text(&mut direct, before);
            }
            let direct = String::from_utf8(direct).expect("utf-8");
            assert!(expected.ends_with('\n') && direct.ends_with('\n'), "{expected:?}");
            let (theirs, expected_rest) = split_timestamp(&expected, json);
            let (ours, direct_rest) = split_timestamp(&direct, json);
            assert_eq!(direct_rest, expected_rest, "json={json}");
            // Their timestamp was taken between `before` (ours) and `after`: same text format.
            let mut late = Vec::new();
            timestamp(&mut late, after);
            let late = String::from_utf8(late).expect("utf-8");
            assert!(
                ours <= theirs && theirs <= late,
                "{ours} <= {theirs} <= {late} (json={json})"
            );
        }
    }
}

#[test]
fn json_lines_parse_back_to_their_fields() {
    for line in lines() {
        let mut out = Vec::new();
        line.write_json(&mut out, Duration::from_secs(1_796_041_543));
        let value: serde_json::Value = serde_json::from_slice(&out).expect("one JSON object");
        assert_eq!(value["error_details"], line.error_details);
        assert_eq!(value["latency_us"], line.latency_us);
        assert_eq!(value["timestamp"], "2026-11-30T12:25:43.000000Z");
    }
}

#[test]
fn timestamps_are_rfc3339_to_the_microsecond_across_seconds_days_and_leap_years() {
    let cases = [
        (0, 0, "1970-01-01T00:00:00.000000Z"),
        (951_782_400, 1_000, "2000-02-29T00:00:00.000001Z"),
        (4_107_542_399, 999_999_000, "2100-02-28T23:59:59.999999Z"),
        (4_107_542_400, 0, "2100-03-01T00:00:00.000000Z"),
        (LAST_SECOND, 999_999_999, "9999-12-31T23:59:59.999999Z"),
        (1_796_041_543, 152_746_321, "2026-11-30T12:25:43.152746Z"),
        // The same second again (the cached prefix), then the next one.
        (1_796_041_543, 7_000, "2026-11-30T12:25:43.000007Z"),
        (1_796_041_544, 0, "2026-11-30T12:25:44.000000Z"),
    ];
    for (secs, nanos, expected) in cases {
        let mut out = Vec::new();
        timestamp(&mut out, Duration::new(secs, nanos));
        assert_eq!(String::from_utf8_lossy(&out), expected, "{secs}.{nanos:09}");
    }
}
