//! Who acts and where: the ids a path carries, parsed once at the edge into types, so that the
//! rules below never see an unchecked `project_id` or `instance_id`.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize};

/// Longest `project_id` / `instance_id` (and job or archive id) the documents allow.
pub const MAX_PATH_ID: usize = 64;

/// Who a job belongs to: a configured user's name, or the name an open-mode token gets.
pub type UserId = Arc<str>;

/// Checks a path id: 1..64 characters; no control character, no `/` or `\\` (a decoded `%2F`
/// would otherwise let a namespace reach across the path structure), not `.` or `..`, and not a
/// placeholder an SDK or a template left unfilled, such as `{project_id}` (D20).
pub fn check_path_id(name: &str, value: &str) -> Result<(), String> {
    if value.len() >= 2 && value.starts_with('{') && value.ends_with('}') {
        // error_details carries at most 128 characters: the hint stays short.
        let hint = if name == "project_id" {
            "were the credentials built without a project id?"
        } else {
            "was the request built without it?"
        };
        return Err(format!("{name}: {value} is a placeholder, not a value; {hint}"));
    }
    let n = value.chars().count();
    if n == 0 || n > MAX_PATH_ID {
        return Err(format!("{name}: must be 1..{MAX_PATH_ID} characters, got {n}"));
    }
    if value.chars().any(|c| c.is_control() || c == '/' || c == '\\') || value == "." || value == ".." {
        return Err(format!(
            "{name}: must not contain control characters, / or \\, nor be . or .."
        ));
    }
    Ok(())
}

macro_rules! path_id {
    ($(#[$doc:meta])* $name:ident, $field:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(Arc<str>);

        impl $name {
            /// The id, if it is a valid path id (the error names the field).
            pub fn parse(value: &str) -> Result<Self, String> {
                check_path_id($field, value)?;
                Ok(Self(value.into()))
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The id as shared text (a reference count, no copy).
            pub fn shared(&self) -> Arc<str> {
                self.0.clone()
            }
        }

        impl Deref for $name {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Self::parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

path_id!(
    /// A `project_id`: 1..64 characters, no control character, `/` or `\`.
    ProjectId,
    "project_id"
);
path_id!(
    /// An `instance_id`: 1..64 characters, no control character, `/` or `\`.
    InstanceId,
    "instance_id"
);

path_id!(
    /// A `job_id` of a path: 1..64 characters, no control character, `/` or `\`.
    JobId,
    "job_id"
);
path_id!(
    /// An `archive_id` of a path: 1..64 characters, no control character, `/` or `\`.
    ArchiveId,
    "archive_id"
);

/// Where a job lives: a project and an instance.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Scope {
    /// The project id of the path.
    pub project: ProjectId,
    /// The instance id of the path.
    pub instance: InstanceId,
}

impl Scope {
    /// Checks the documented limits (1..64 characters each) and builds the scope.
    pub fn new(project: &str, instance: &str) -> Result<Self, String> {
        Ok(Self {
            project: ProjectId::parse(project)?,
            instance: InstanceId::parse(instance)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_ids_are_checked_when_parsed_and_when_read_back() {
        assert!(Scope::new("p", "i").is_ok());
        assert!(Scope::new("", "i").expect_err("empty").starts_with("project_id"));
        assert!(
            Scope::new("p", "a/b")
                .expect_err("slash")
                .starts_with("instance_id")
        );
        assert!(ProjectId::parse(&"x".repeat(65)).is_err());
        assert!(InstanceId::parse("..").is_err());
        let scope: Result<Scope, _> = serde_json::from_str(r#"{"project": "p", "instance": "../x"}"#);
        assert!(scope.is_err(), "a snapshot's scope is checked as it is read");
    }
}
