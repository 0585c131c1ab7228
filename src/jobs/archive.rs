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
mod tests {
    use super::*;
    use crate::jobs::asset::Content;

    fn sample() -> Package {
        let app = Asset {
            id: "a1".into(),
            name: "orders".into(),
            content: Content::from_value(&serde_json::json!({"k": [1, 2]})),
        };
        let task = Asset {
            id: "t1".into(),
            name: "sync".into(),
            content: Content::from_value(&serde_json::json!("x")),
        };
        Package {
            source: Source {
                project_id: "p".into(),
                instance_id: "A".into(),
            },
            exported_at: "2024-01-01T12:00:00Z".into(),
            job_id: "j".into(),
            assets: vec![
                (ResourceType::Application, Arc::new(app)),
                (ResourceType::Task, Arc::new(task)),
            ],
        }
    }

    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, bytes) in entries {
            zip.start_file(*name, SimpleFileOptions::default())
                .expect("entry");
            zip.write_all(bytes).expect("write");
        }
        zip.finish().expect("zip").into_inner()
    }

    #[test]
    fn a_package_round_trips() {
        let bytes = build(&sample()).expect("build");
        assert_eq!(parse(&bytes), Ok(sample()));
    }

    #[test]
    fn hostile_or_foreign_uploads_are_refused() {
        let manifest = br#"{"format":"roma-emulator-asset-package","version":1,"source":{"project_id":"p","instance_id":"i"},"exported_at":"t","job_id":"j","assets":[{"type":"application","id":"a","name":"a","path":"../evil.json"}]}"#;
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"PK\x03\x04 not really".to_vec(), "not a zip"),
            (b"hello".to_vec(), "not a zip"),
            (zip_of(&[("readme.txt", b"hi")]), "manifest.json is missing"),
            (zip_of(&[("manifest.json", b"{}")]), "manifest.json:"),
            (zip_of(&[("manifest.json", br#"{"format":"other","version":1,"source":{"project_id":"p","instance_id":"i"},"exported_at":"t","job_id":"j","assets":[]}"#)]), "is not"),
            (zip_of(&[("manifest.json", manifest), ("../evil.json", b"{}")]), "escapes"),
            (zip_of(&[("manifest.json", manifest)]), "missing"),
        ];
        for (bytes, expected) in cases {
            let err = parse(&bytes).expect_err(expected);
            assert!(err.to_string().contains(expected), "{expected}: {err}");
        }
    }

    fn manifest_with(assets: &str) -> String {
        format!(
            r#"{{"format":"roma-emulator-asset-package","version":1,"source":{{"project_id":"p","instance_id":"i"}},"exported_at":"t","job_id":"j","assets":[{assets}]}}"#
        )
    }

    #[test]
    fn packages_that_could_not_be_used_again_are_refused() {
        let entry = |id: &str, name: &str| {
            format!(r#"{{"type":"task","id":"{id}","name":"{name}","path":"tasks/1.json"}}"#)
        };
        let doc = |id: &str| format!(r#"{{"id":"{id}","name":"n","content":{{}}}}"#);
        let long = "x".repeat(10_000);
        // The zip writer refuses a repeated name, so the second one is renamed in the bytes.
        let mut two_manifests = zip_of(&[
            ("manifest.json", manifest_with(&entry("a", "n")).as_bytes()),
            ("tasks/1.json", doc("a").as_bytes()),
            ("manifest.jsoX", manifest_with(&entry("b", "n")).as_bytes()),
        ]);
        for i in 0..two_manifests.len() - 13 {
            if &two_manifests[i..i + 13] == b"manifest.jsoX" {
                two_manifests[i + 12] = b'n';
            }
        }
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (
                zip_of(&[("manifest.json", manifest_with("").as_bytes())]),
                "no asset",
            ),
            (
                zip_of(&[
                    ("manifest.json", manifest_with(&entry(&long, "n")).as_bytes()),
                    ("tasks/1.json", doc(&long).as_bytes()),
                ]),
                "1..128 characters",
            ),
            (
                zip_of(&[
                    (
                        "manifest.json",
                        manifest_with(&entry("a", r"bad\u0007name")).as_bytes(),
                    ),
                    ("tasks/1.json", doc("a").as_bytes()),
                ]),
                "control characters",
            ),
            (two_manifests, "manifest.json"),
            (
                zip_of(&[
                    (
                        "manifest.json",
                        manifest_with(&format!("{},{}", entry("a", "n"), entry("a", "m"))).as_bytes(),
                    ),
                    ("tasks/1.json", doc("a").as_bytes()),
                ]),
                "appears twice",
            ),
        ];
        for (bytes, expected) in cases {
            let err = parse(&bytes).expect_err(expected);
            assert!(err.to_string().contains(expected), "{expected}: {err}");
        }
    }

    #[test]
    fn content_is_kept_as_its_text_not_as_a_tree() {
        // A document of tiny objects cost ~100x its size as a Value tree; as text it costs its size.
        let content = format!("[{}{{}}]", "{},".repeat(300_000));
        let entry = r#"{"type":"task","id":"a","name":"n","path":"tasks/1.json"}"#;
        let doc = format!(r#"{{"id":"a","name":"n","content":{content}}}"#);
        let bytes = zip_of(&[
            ("manifest.json", manifest_with(entry).as_bytes()),
            ("tasks/1.json", doc.as_bytes()),
        ]);
        let package = parse(&bytes).expect("parses");
        assert_eq!(package.assets[0].1.content.get(), content);
    }

    #[test]
    fn a_zip_bomb_is_cut_off() {
        let zeros = vec![0u8; (MAX_UNPACKED_BYTES + 10) as usize];
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        zip.start_file("manifest.json", opts).expect("entry");
        zip.write_all(&zeros).expect("write");
        let bytes = zip.finish().expect("zip").into_inner();
        assert!(bytes.len() < 1024 * 1024, "compressed small");
        assert!(matches!(parse(&bytes), Err(PackageError::NotAZip(m)) if m.contains("more than")));
    }

    #[test]
    fn file_names_follow_the_rule() {
        for ok in ["asset.zip", "A1+b-c_d.zip", "9.zip", "资产.zip"] {
            assert!(check_file_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "asset.tar",
            "_x.zip",
            ".zip",
            "a b.zip",
            "a.b.zip",
            "../a.zip",
            "asset.ZIP.exe",
            "",
        ] {
            assert!(check_file_name(bad).is_err(), "{bad}");
        }
    }
}
