//! Wire types, named and spelled as the real cloud's JSON.

use serde::{Deserialize, Serialize};

use crate::jobs::JobId;

/// `{project_id}/instances/{instance_id}` of the asset API paths.
#[derive(Debug, Deserialize)]
pub struct InstancePath {
    /// Project id (1..64 characters, checked by the domain).
    pub project_id: String,
    /// Instance id (1..64 characters).
    pub instance_id: String,
}

/// The answer of ExportAsset, ImportAsset and DeleteAsset.
#[derive(Debug, Serialize)]
pub struct JobCreated {
    /// The new job's id (32 lowercase hex characters).
    pub job_id: JobId,
}

/// `GET /_emulator/health`.
#[derive(Debug, Serialize)]
pub struct Health {
    /// Always `ok` once requests are served.
    pub status: &'static str,
}
