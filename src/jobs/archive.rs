//! The asset package: a zip holding `manifest.json` and one JSON document per application and task.
//! A pure codec: assets in, bytes out, and back, with limits against hostile uploads.
//!
//! ```text
//! manifest.json        {"format": "roma-emulator-asset-package", "version": 1, "source": {...},
//!                       "exported_at": "...", "job_id": "...", "assets": [{"type", "id", "name", "path"}]}
//! apps/0001.json       {"id": "...", "name": "...", "content": {...}}
//! tasks/0001.json      ...
//! ```

use std::io::{Cursor, Read, Write};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use zip::write::SimpleFileOptions;

use super::asset::Asset;
use super::asset::TypedAsset;
use super::job::ResourceType;
use super::selection::{MAX_ID_LEN, MAX_ITEMS};

/// The `format` of our manifest.
pub const FORMAT: &str = "roma-emulator-asset-package";
/// The package format version this emulator writes and reads.
pub const VERSION: u32 = 1;
/// The most a package may unpack to, in all (each document is parsed without building a tree, so
/// this is also about what an import holds in memory).
pub const MAX_UNPACKED_BYTES: u64 = 16 * 1024 * 1024;
/// The most entries a package may have.
pub const MAX_ENTRIES: usize = 1000;

/// Where a package came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// Project of the export (shared with the job's scope).
    pub project_id: Arc<str>,
    /// Instance of the export.
    pub instance_id: Arc<str>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    format: String,
    version: u32,
    source: Source,
    exported_at: String,
    job_id: String,
    assets: Vec<ManifestEntry>,
}

#[derive(Debug, Serialize, Deserialize)]
struct ManifestEntry {
    #[serde(rename = "type")]
    kind: ResourceType,
    id: String,
    name: String,
    path: String,
}

/// A package's contents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Package {
    /// Where it was exported from.
    pub source: Source,
    /// When (RFC 3339).
    pub exported_at: String,
    /// The export job.
    pub job_id: String,
    /// Its applications and tasks, in manifest order.
    pub assets: Vec<TypedAsset>,
}

/// Why bytes are not a package.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PackageError {
    /// Not a readable zip (or it unpacks to too much).
    #[error("{0}")]
    NotAZip(String),
    /// A zip, but not an asset package of ours.
    #[error("{0}")]
    Invalid(String),
    /// A package of ours that holds no asset.
    #[error("the package holds no asset")]
    Empty,
}

/// Builds the zip of `package`.
pub fn build(package: &Package) -> Result<Vec<u8>, std::io::Error> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let mut entries = Vec::with_capacity(package.assets.len());
    let (mut apps, mut tasks) = (0, 0);
    for (kind, asset) in &package.assets {
        let path = match kind {
            ResourceType::Application => {
                apps += 1;
                format!("apps/{apps:04}.json")
            }
            ResourceType::Task => {
                tasks += 1;
                format!("tasks/{tasks:04}.json")
            }
        };
        zip.start_file(path.as_str(), options)
            .map_err(std::io::Error::other)?;
        zip.write_all(&serde_json::to_vec_pretty(asset.as_ref())?)?;
        entries.push(ManifestEntry {
            kind: *kind,
            id: asset.id.clone(),
            name: asset.name.clone(),
            path,
        });
    }
    let manifest = Manifest {
        format: FORMAT.to_owned(),
        version: VERSION,
        source: package.source.clone(),
        exported_at: package.exported_at.clone(),
        job_id: package.job_id.clone(),
        assets: entries,
    };
    zip.start_file("manifest.json", options)
        .map_err(std::io::Error::other)?;
    zip.write_all(&serde_json::to_vec_pretty(&manifest)?)?;
    Ok(zip.finish().map_err(std::io::Error::other)?.into_inner())
}

/// Reads a package, refusing anything unsafe or not ours.
pub fn parse(bytes: &[u8]) -> Result<Package, PackageError> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| PackageError::NotAZip(format!("not a zip archive ({e})")))?;
    if zip.has_duplicate_names() {
        return Err(PackageError::Invalid(
            "an entry name (manifest.json or a document) appears twice in the zip".into(),
        ));
    }
    if zip.len() > MAX_ENTRIES {
        return Err(PackageError::Invalid(format!("more than {MAX_ENTRIES} entries")));
    }
    for i in 0..zip.len() {
        let entry = zip
            .by_index_raw(i)
            .map_err(|e| PackageError::NotAZip(format!("entry {i}: {e}")))?;
        let name = entry
            .name()
            .map_err(|e| PackageError::NotAZip(format!("entry {i}: {e}")))?;
        let escapes = entry.enclosed_name().is_none()
            || name.starts_with('/')
            || name.contains('\\')
            || name.split('/').any(|part| part == "..");
        if escapes {
            return Err(PackageError::Invalid(format!(
                "entry name {name:?} escapes the package"
            )));
        }
    }
    let mut budget = MAX_UNPACKED_BYTES;
    let manifest: Manifest = read_json(&mut zip, "manifest.json", &mut budget)?;
    if manifest.format != FORMAT || manifest.version != VERSION {
        return Err(PackageError::Invalid(format!(
            "manifest.json: format {:?} version {} is not {FORMAT} version {VERSION}",
            manifest.format, manifest.version
        )));
    }
    if manifest.assets.is_empty() {
        return Err(PackageError::Empty);
    }
    if manifest.assets.len() > MAX_ITEMS {
        return Err(PackageError::Invalid(format!(
            "more than {MAX_ITEMS} applications and tasks"
        )));
    }
    let mut assets = Vec::with_capacity(manifest.assets.len());
    let mut ids = std::collections::HashSet::with_capacity(manifest.assets.len());
    for (i, entry) in manifest.assets.iter().enumerate() {
        check_text(&format!("manifest.json: assets[{i}].id"), &entry.id)?;
        check_text(&format!("manifest.json: assets[{i}].name"), &entry.name)?;
        if !ids.insert((entry.kind, entry.id.as_str())) {
            return Err(PackageError::Invalid(format!(
                "manifest.json: assets[{i}]: {} {:?} appears twice",
                entry.kind.as_str(),
                entry.id
            )));
        }
        let asset: Asset = read_json(&mut zip, &entry.path, &mut budget)?;
        if asset.id != entry.id {
            return Err(PackageError::Invalid(format!(
                "{}: id {:?} does not match the manifest",
                entry.path, asset.id
            )));
        }
        check_text(&format!("{}: name", entry.path), &asset.name)?;
        assets.push((entry.kind, Arc::new(asset)));
    }
    Ok(Package {
        source: manifest.source,
        exported_at: manifest.exported_at,
        job_id: manifest.job_id,
        assets,
    })
}

fn read_json<T: serde::de::DeserializeOwned>(
    zip: &mut zip::ZipArchive<Cursor<&[u8]>>,
    name: &str,
    budget: &mut u64,
) -> Result<T, PackageError> {
    let file = zip.by_name(name).map_err(|e| match e {
        zip::result::ZipError::FileNotFound => PackageError::Invalid(format!("{name} is missing")),
        e => PackageError::NotAZip(format!("{name}: {e}")),
    })?;
    let mut bytes = Vec::new();
    file.take(*budget + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| PackageError::NotAZip(format!("{name}: cannot decompress ({e})")))?;
    let used = bytes.len() as u64;
    if used > *budget {
        return Err(PackageError::NotAZip(format!(
            "the package unpacks to more than {MAX_UNPACKED_BYTES} bytes"
        )));
    }
    *budget -= used;
    serde_json::from_slice(&bytes).map_err(|e| PackageError::Invalid(format!("{name}: {e}")))
}

/// An id or name of a package: 1..128 characters, no control characters (the same rule as the ids
/// of request bodies, so every imported asset can be exported and deleted again).
fn check_text(what: &str, s: &str) -> Result<(), PackageError> {
    let n = s.chars().count();
    if n == 0 || n > MAX_ID_LEN {
        return Err(PackageError::Invalid(format!(
            "{what}: must be 1..{MAX_ID_LEN} characters, got {n}"
        )));
    }
    if s.chars().any(char::is_control) {
        return Err(PackageError::Invalid(format!(
            "{what}: must not contain control characters"
        )));
    }
    Ok(())
}

/// The package file-name rule: `.zip`, starting with a letter or digit, only `+ - _` as specials.
pub fn check_file_name(name: &str) -> Result<(), String> {
    let stem = name.strip_suffix(".zip").unwrap_or_default();
    let ok = stem.chars().next().is_some_and(char::is_alphanumeric)
        && stem.chars().all(|c| c.is_alphanumeric() || "+-_".contains(c));
    if ok {
        Ok(())
    } else {
        Err(format!("file name {name:?}"))
    }
}

#[cfg(test)]
mod tests;
