//! What each operation notes of its request for the journal ([`crate::journal::Summary`]), from
//! the values it already read: no body is read twice, nothing secret is kept.

use crate::api::route::Call;
use crate::jobs::AssetSelection;

/// ExportAsset and DeleteAsset: the dialect, the apps and tasks and their counts.
pub fn selection(call: &Call<'_>, selection: &AssetSelection, dialect: &'static str) {
    call.summarize(|s| {
        let (apps, app_count) = crate::journal::Summary::ids(selection.apps.iter().map(|a| a.as_str()));
        let (tasks, task_count) = crate::journal::Summary::ids(selection.tasks.iter().map(String::as_str));
        s.dialect = Some(dialect.to_owned());
        (s.apps, s.app_count) = (Some(apps), Some(app_count));
        (s.tasks, s.task_count) = (Some(tasks), Some(task_count));
    });
}

/// The job a request created.
pub fn job_created(call: &Call<'_>, job_id: &crate::jobs::JobId) {
    call.summarize(|s| s.job_id = Some(job_id.to_string()));
}

/// ImportAsset's upload: the file's name, size and SHA-256 (hashed only when summaries are on).
pub fn upload(call: &Call<'_>, summaries: bool, file_name: &str, bytes: &[u8]) {
    if !summaries {
        return;
    }
    let digest = <sha2::Sha256 as sha2::Digest>::digest(bytes);
    call.summarize(|s| {
        s.file_name = Some(file_name.to_owned());
        s.file_size = Some(u64::try_from(bytes.len()).unwrap_or(u64::MAX));
        s.file_sha256 = Some(hex::encode(digest));
    });
}
