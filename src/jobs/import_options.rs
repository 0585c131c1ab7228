//! The options of ImportAsset (D10): mode, name prefix, data-source overwrite.

use std::sync::Arc;

use super::asset::Asset;
use super::asset::TypedAsset;
use super::job::ResourceType;

/// How an import treats assets that already exist (D10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum ImportMode {
    /// New assets only: an asset whose id exists already fails the job (nothing is changed).
    #[default]
    AddNew,
    /// New assets are added and existing ones replaced.
    Merge,
}

impl ImportMode {
    /// Its name, as the query spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            ImportMode::AddNew => "AddNew",
            ImportMode::Merge => "Merge",
        }
    }
}

/// The options of an import (D10).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImportOptions {
    /// AddNew or Merge.
    pub mode: ImportMode,
    /// Prepended to each application's name.
    pub prefix: String,
    /// Accepted and recorded; the emulator keeps no data sources, so it changes nothing.
    pub datasource_overwrite: bool,
}

impl ImportOptions {
    /// Parses the query of ImportAsset: `type` or `mode`, `prefix`, `datasource_overwrite`.
    pub fn parse(
        kind: Option<&str>,
        mode: Option<&str>,
        prefix: Option<&str>,
        datasource_overwrite: Option<&str>,
    ) -> Result<Self, String> {
        let mode = match (kind, mode) {
            (Some(a), Some(b)) if a != b => return Err("type, mode: give one, or the same value".into()),
            (Some(v), _) | (None, Some(v)) => match v {
                "AddNew" => ImportMode::AddNew,
                "Merge" => ImportMode::Merge,
                _ => return Err(format!("type: expected AddNew or Merge, got {v:?}")),
            },
            (None, None) => ImportMode::AddNew,
        };
        let prefix = prefix.unwrap_or_default();
        if prefix.chars().count() > 64 || !prefix.chars().all(|c| c.is_alphanumeric() || "-_. ".contains(c)) {
            return Err("prefix: at most 64 letters, digits, spaces and - _ .".into());
        }
        let datasource_overwrite = match datasource_overwrite {
            None | Some("false") => false,
            Some("true") => true,
            Some(v) => return Err(format!("datasource_overwrite: expected true or false, got {v:?}")),
        };
        Ok(Self {
            mode,
            prefix: prefix.to_owned(),
            datasource_overwrite,
        })
    }
}

impl ImportOptions {
    /// The package's assets as they will be stored: applications renamed with the prefix. Done
    /// before the registry lock is taken, so the lock never waits on copying assets.
    pub fn apply_prefix(&self, assets: Vec<TypedAsset>) -> Vec<TypedAsset> {
        if self.prefix.is_empty() {
            return assets;
        }
        assets
            .into_iter()
            .map(|(kind, asset)| match kind {
                ResourceType::Application => {
                    let mut renamed = Asset::clone(&asset);
                    renamed.name = format!("{}{}", self.prefix, asset.name);
                    (kind, Arc::new(renamed))
                }
                ResourceType::Task => (kind, asset),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_options_parse_both_dialects() {
        assert_eq!(
            ImportOptions::parse(None, None, None, None),
            Ok(ImportOptions::default())
        );
        let m = ImportOptions::parse(Some("Merge"), None, Some("x-"), Some("true")).expect("cur");
        assert_eq!(
            (m.mode, m.prefix.as_str(), m.datasource_overwrite),
            (ImportMode::Merge, "x-", true)
        );
        assert_eq!(
            ImportOptions::parse(None, Some("Merge"), None, None).map(|o| o.mode),
            Ok(ImportMode::Merge)
        );
        for bad in [
            ImportOptions::parse(Some("Replace"), None, None, None),
            ImportOptions::parse(Some("Merge"), Some("AddNew"), None, None),
            ImportOptions::parse(None, None, Some("../x"), None),
            ImportOptions::parse(None, None, None, Some("yes")),
        ] {
            assert!(bad.is_err());
        }
    }
}
