//! One application or task, and its content: any JSON, kept as text.

use std::sync::{Arc, LazyLock};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::job::ResourceType;

/// An asset's content: any JSON, kept as the text it came in (no tree is built, so it costs what
/// it weighs, and an imported asset is exported byte for byte as it was imported). Shared: a copy
/// of an asset (an export, a placeholder) copies no text.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Content(Arc<RawValue>);

/// The content of every placeholder, made once.
static PLACEHOLDER: LazyLock<Content> = LazyLock::new(|| {
    Content::from_value(&serde_json::json!({"placeholder": true, "generated_by": "roma-emulator"}))
});

impl Content {
    /// The content of a configured asset (compact JSON; `null` becomes `{}`).
    pub fn from_value(v: &serde_json::Value) -> Self {
        let empty = serde_json::Value::Object(serde_json::Map::new());
        let v = if v.is_null() { &empty } else { v };
        Self(Arc::from(
            serde_json::value::to_raw_value(v).unwrap_or_else(|_| RawValue::NULL.to_owned()),
        ))
    }

    /// Content from JSON text, if it is valid JSON.
    pub fn from_json(text: String) -> Option<Self> {
        RawValue::from_string(text).ok().map(|raw| Self(Arc::from(raw)))
    }

    /// The JSON text.
    pub fn get(&self) -> &str {
        self.0.get()
    }
}

impl PartialEq for Content {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

/// One application or task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Asset {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Free-form content.
    pub content: Content,
}

impl Asset {
    /// A declared asset (`[[instances.apps]]`, `[[instances.tasks]]`): an empty name is its id.
    pub fn new(id: &str, name: &str, content: &serde_json::Value) -> Self {
        Self {
            id: id.to_owned(),
            name: if name.is_empty() { id } else { name }.to_owned(),
            content: Content::from_value(content),
        }
    }

    /// A stand-in for an asset the catalog lacks (non-strict catalogs).
    pub fn placeholder(id: &str, name: &str) -> Self {
        Self {
            id: id.to_owned(),
            name: name.to_owned(),
            content: PLACEHOLDER.clone(),
        }
    }

    /// The length of the asset's compact JSON (`{"id":...,"name":...,"content":...}`), counted
    /// without writing it anywhere.
    pub fn json_len(&self) -> u64 {
        let mut counter = Counter(0);
        match serde_json::to_writer(&mut counter, self) {
            Ok(()) => counter.0,
            Err(_) => 0,
        }
    }

    /// What the asset weighs against `[catalog] max_bytes_per_instance`.
    pub fn weight(&self) -> u64 {
        (self.id.len() + self.name.len() + self.content.get().len()) as u64
    }
}

/// An asset with its kind, as exported or imported.
pub type TypedAsset = (ResourceType, Arc<Asset>);

/// A writer that only counts bytes.
struct Counter(u64);

impl std::io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
