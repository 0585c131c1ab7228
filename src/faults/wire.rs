//! Faults on the wire: what a client's retry logic meets when the network misbehaves. A fault
//! may close the connection with a TCP reset or with no answer at all, stall after the head, or
//! cut the body after a number of bytes. No HTTP here: the API layer and the transport apply
//! a [`Wire`].

use std::time::Duration;

use super::FaultSpec;
use crate::journal::Summary;
use crate::operation::Operation;

/// The most a body may be stalled.
pub const MAX_STALL_MS: u64 = 600_000;

/// What a matching fault does on the wire.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Wire {
    /// Close the connection with a TCP reset, answering nothing.
    pub reset: bool,
    /// Close the connection answering nothing.
    pub empty_response: bool,
    /// Send the head, then wait this long before the body.
    pub stall: Option<Duration>,
    /// Send this many bytes of the body, then drop the connection.
    pub cut_after_bytes: Option<u64>,
    /// A cut download leaves its archive in place.
    pub keep_archive: bool,
}

impl Wire {
    /// The wire effect of `spec` (none when it has none).
    pub fn of(spec: &FaultSpec) -> Option<Wire> {
        let wire = Wire {
            reset: spec.reset,
            empty_response: spec.empty_response,
            stall: spec.stall_ms.map(Duration::from_millis),
            cut_after_bytes: spec.cut_after_bytes,
            keep_archive: spec.keep_archive,
        };
        (wire != Wire::default()).then_some(wire)
    }

    /// In a few words, for the journal: `reset`, `empty_response`, `stall_ms=N, cut_after_bytes=N`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if self.reset {
            parts.push("reset".to_owned());
        }
        if self.empty_response {
            parts.push("empty_response".to_owned());
        }
        if let Some(stall) = self.stall {
            parts.push(format!("stall_ms={}", stall.as_millis()));
        }
        if let Some(n) = self.cut_after_bytes {
            parts.push(format!("cut_after_bytes={n}"));
        }
        if self.keep_archive {
            parts.push("keep_archive".to_owned());
        }
        parts.join(", ")
    }

    /// Whether the connection is closed instead of answered.
    pub fn drops_connection(&self) -> bool {
        self.reset || self.empty_response
    }
}

/// How a connection is closed instead of answered: the marker `pipeline::respond` leaves on the
/// response for the transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hangup {
    /// With a TCP reset.
    Reset,
    /// With nothing sent.
    Empty,
}

/// Checks the wire fields of `spec`; the error names the field.
pub fn validate(spec: &FaultSpec) -> Result<(), String> {
    if spec.reset && spec.empty_response {
        return Err("reset, empty_response: give one of them".into());
    }
    let drops = spec.reset || spec.empty_response;
    if drops && (spec.status.is_some() || spec.fail_job.is_some()) {
        return Err(
            "reset, empty_response: the connection closes unanswered, so not with status or fail_job".into(),
        );
    }
    if drops && (spec.stall_ms.is_some() || spec.cut_after_bytes.is_some()) {
        return Err("reset, empty_response: nothing is sent, so not with stall_ms or cut_after_bytes".into());
    }
    if spec.stall_ms.is_some_and(|s| s > MAX_STALL_MS) {
        return Err(format!("stall_ms: at most {MAX_STALL_MS}"));
    }
    if spec.keep_archive
        && (spec.cut_after_bytes.is_none() || spec.operation != Operation::DownloadAssetArchive)
    {
        return Err("keep_archive: only with cut_after_bytes on DownloadAssetArchive".into());
    }
    Ok(())
}

/// The summary fields a fault's `where` may name: what a request asks, not what it is answered
/// ([`Summary::ANSWERED`] come after the fault point).
pub fn request_fields() -> impl Iterator<Item = &'static str> {
    Summary::FIELDS
        .iter()
        .copied()
        .filter(|f| !Summary::ANSWERED.contains(f))
}

/// The operations that have a second fault point (they note their summary before acting).
const SUMMARISED: &[Operation] = &[
    Operation::ExportAsset,
    Operation::DeleteAsset,
    Operation::ImportAsset,
    Operation::CheckAssetJobStatus,
    Operation::DownloadAssetArchive,
];

/// Checks a fault's `where`; the error names the field.
pub fn validate_conditions(spec: &FaultSpec) -> Result<(), String> {
    if spec.conditions.is_empty() {
        return Ok(());
    }
    if !SUMMARISED.contains(&spec.operation) {
        return Err(format!(
            "where: only for ExportAsset, DeleteAsset, ImportAsset, CheckAssetJobStatus and DownloadAssetArchive, not {}",
            spec.operation.id()
        ));
    }
    if let Some(name) = spec
        .conditions
        .keys()
        .find(|n| !request_fields().any(|f| f == n.as_str()))
    {
        let fields: Vec<&str> = request_fields().collect();
        return Err(format!(
            "where.{name}: not a field of the request (one of {})",
            fields.join(", ")
        ));
    }
    if spec.operation.creates_job() && spec.conditions.contains_key("job_id") {
        return Err("where.job_id: the job is created after the fault point".into());
    }
    Ok(())
}

/// Whether `spec` has a wire effect.
pub fn has_effect(spec: &FaultSpec) -> bool {
    Wire::of(spec).is_some_and(|w| {
        w != Wire {
            keep_archive: true,
            ..Wire::default()
        }
    })
}
