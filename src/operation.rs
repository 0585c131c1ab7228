//! The cloud operations the emulator answers, as one type: routing, faults, the journal, metrics
//! and the OpenAPI document all name an operation through [`Operation`], never through a string.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A cloud operation (its id is the API Explorer's `operationId`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Operation {
    /// `POST /v2/{project_id}/instances/{instance_id}/assets/export`.
    ExportAsset,
    /// `POST /v2/{project_id}/instances/{instance_id}/assets/import`.
    ImportAsset,
    /// `POST /v2/{project_id}/instances/{instance_id}/assets/delete`.
    DeleteAsset,
    /// `GET /v2/{project_id}/instances/{instance_id}/assets/jobs/{job_id}`.
    CheckAssetJobStatus,
    /// `GET /v2/{project_id}/instances/{instance_id}/assets/archives/{archive_id}`.
    DownloadAssetArchive,
    /// `POST /v3/auth/tokens`.
    KeystoneCreateUserTokenByPassword,
    /// POST `/v2/{project_id}/instances/{instance_id}/apps`.
    CreateRomaApp,
    /// GET `/v2/{project_id}/instances/{instance_id}/apps`.
    ListRomaApp,
    /// GET `/v2/{project_id}/instances/{instance_id}/apps/{app_id}`.
    CheckRomaAppDetails,
    /// PUT `/v2/{project_id}/instances/{instance_id}/apps/{app_id}`.
    UpdateRomaApp,
    /// DELETE `/v2/{project_id}/instances/{instance_id}/apps/{app_id}`.
    DeleteRomaApp,
    /// GET `/v2/{project_id}/instances/{instance_id}/validate-apps`.
    ValidateRomaApp,
    /// GET `/v2/{project_id}/instances`.
    CheckRomaInstanceListV2,
    /// GET `/v2/{project_id}/fdi/instances/{instance_id}/tasks`.
    ListTasks,
    /// GET `/v2/{project_id}/fdi/instances/{instance_id}/tasks/{task_id}`.
    ShowTask,
    /// DELETE `/v2/{project_id}/fdi/instances/{instance_id}/tasks/{task_id}`.
    DeleteTask,
    /// IAM GET `/v3/projects`.
    KeystoneListProjects,
    /// IAM GET `/v3/auth/projects`.
    KeystoneListAuthProjects,
    /// IAM GET `/v3/auth/tokens`.
    KeystoneValidateToken,
}

impl Operation {
    /// Every operation, in the order the documents list them.
    pub const ALL: [Operation; 19] = [
        Operation::ExportAsset,
        Operation::ImportAsset,
        Operation::DeleteAsset,
        Operation::CheckAssetJobStatus,
        Operation::DownloadAssetArchive,
        Operation::KeystoneCreateUserTokenByPassword,
        Operation::CreateRomaApp,
        Operation::ListRomaApp,
        Operation::CheckRomaAppDetails,
        Operation::UpdateRomaApp,
        Operation::DeleteRomaApp,
        Operation::ValidateRomaApp,
        Operation::CheckRomaInstanceListV2,
        Operation::ListTasks,
        Operation::ShowTask,
        Operation::DeleteTask,
        Operation::KeystoneListProjects,
        Operation::KeystoneListAuthProjects,
        Operation::KeystoneValidateToken,
    ];

    /// The operation id, e.g. `ExportAsset`.
    pub const fn id(self) -> &'static str {
        match self {
            Operation::ExportAsset => "ExportAsset",
            Operation::ImportAsset => "ImportAsset",
            Operation::DeleteAsset => "DeleteAsset",
            Operation::CheckAssetJobStatus => "CheckAssetJobStatus",
            Operation::DownloadAssetArchive => "DownloadAssetArchive",
            Operation::KeystoneCreateUserTokenByPassword => "KeystoneCreateUserTokenByPassword",
            Operation::CreateRomaApp => "CreateRomaApp",
            Operation::ListRomaApp => "ListRomaApp",
            Operation::CheckRomaAppDetails => "CheckRomaAppDetails",
            Operation::UpdateRomaApp => "UpdateRomaApp",
            Operation::DeleteRomaApp => "DeleteRomaApp",
            Operation::ValidateRomaApp => "ValidateRomaApp",
            Operation::CheckRomaInstanceListV2 => "CheckRomaInstanceListV2",
            Operation::ListTasks => "ListTasks",
            Operation::ShowTask => "ShowTask",
            Operation::DeleteTask => "DeleteTask",
            Operation::KeystoneListProjects => "KeystoneListProjects",
            Operation::KeystoneListAuthProjects => "KeystoneListAuthProjects",
            Operation::KeystoneValidateToken => "KeystoneValidateToken",
        }
    }

    /// The operation with this id.
    pub fn parse(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|op| op.id() == id)
    }

    /// Whether it creates an asset job (and so a fault on it may take `fail_job`).
    pub const fn creates_job(self) -> bool {
        matches!(
            self,
            Operation::ExportAsset | Operation::ImportAsset | Operation::DeleteAsset
        )
    }

    /// Whether it is answered without a caller (the one operation that makes credentials).
    pub const fn anonymous(self) -> bool {
        matches!(self, Operation::KeystoneCreateUserTokenByPassword)
    }

    /// The ids of [`Operation::ALL`], comma-separated (for error details).
    pub fn list() -> String {
        Self::ALL.map(Operation::id).join(", ")
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl Serialize for Operation {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

impl<'de> Deserialize<'de> for Operation {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let id = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&id).ok_or_else(|| {
            serde::de::Error::custom(format!("unknown operation {id:?}; one of {}", Self::list()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_text_and_json() {
        for op in Operation::ALL {
            assert_eq!(Operation::parse(op.id()), Some(op));
            let json = serde_json::to_string(&op).expect("serializes");
            assert_eq!(serde_json::from_str::<Operation>(&json).expect("reads back"), op);
        }
        assert_eq!(Operation::parse("exportAsset"), None);
        assert!(serde_json::from_str::<Operation>("\"Nope\"").is_err());
    }
}
