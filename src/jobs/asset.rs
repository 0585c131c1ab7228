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
    /// What the cloud's application API keeps beside the id and name (an application made by
    /// CreateRomaApp, or imported from a package that carries it); `None` for configured assets,
    /// tasks and placeholders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info: Option<Box<AppInfo>>,
}

/// What ROMA's application API (CreateRomaApp, UpdateRomaApp) keeps of an application beside its
/// id and name. The secret is not kept: no emulated operation reads it back (D26).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppInfo {
    /// Its description.
    #[serde(default)]
    pub remark: String,
    /// Its access key (unique in its instance).
    pub key: String,
    /// Whether it is a favourite (listed first).
    #[serde(default)]
    pub favorite: bool,
    /// When it was created, on the emulator's clock.
    pub create_time: crate::clock::Timestamp,
    /// When it was last changed.
    pub update_time: crate::clock::Timestamp,
    /// The user who created it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_user: Option<String>,
    /// The user who changed it last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated_user: Option<String>,
}

impl AppInfo {
    /// The record of an application the emulator did not see made (configured, or from a package
    /// without one): `key`, no remark, no users, dated the Unix epoch (D26).
    pub fn unrecorded(key: &str) -> Self {
        Self {
            remark: String::new(),
            key: key.to_owned(),
            favorite: false,
            create_time: crate::clock::Timestamp(0),
            update_time: crate::clock::Timestamp(0),
            created_user: None,
            last_updated_user: None,
        }
    }

    /// What its strings weigh.
    fn weight(&self) -> usize {
        let user = |u: &Option<String>| u.as_ref().map_or(0, String::len);
        self.remark.len() + self.key.len() + user(&self.created_user) + user(&self.last_updated_user)
    }
}

impl Asset {
    /// A declared asset (`[[instances.apps]]`, `[[instances.tasks]]`): an empty name is its id.
    pub fn new(id: &str, name: &str, content: &serde_json::Value) -> Self {
        Self {
            id: id.to_owned(),
            name: if name.is_empty() { id } else { name }.to_owned(),
            content: Content::from_value(content),
            info: None,
        }
    }

    /// A stand-in for an asset the catalog lacks (non-strict catalogs).
    pub fn placeholder(id: &str, name: &str) -> Self {
        Self {
            id: id.to_owned(),
            name: name.to_owned(),
            content: PLACEHOLDER.clone(),
            info: None,
        }
    }

    /// The length of the asset's compact JSON (`{"id":...,"name":...,"content":...}`), counted
    /// without writing it: the content is kept as compact JSON text, so only the two strings'
    /// escapes need counting (every export counts its assets).
    pub fn json_len(&self) -> u64 {
        let punctuation = r#"{"id":,"name":,"content":}"#.len();
        // An application record is rare and small: it is written to be counted.
        let info = self.info.as_ref().map_or(0, |info| {
            r#","info":"#.len() + serde_json::to_vec(info).map_or(0, |v| v.len())
        });
        (punctuation + json_str_len(&self.id) + json_str_len(&self.name) + self.content.get().len() + info)
            as u64
    }

    /// What the asset weighs against `[catalog] max_bytes_per_instance`.
    pub fn weight(&self) -> u64 {
        let info = self.info.as_ref().map_or(0, |i| i.weight());
        (self.id.len() + self.name.len() + self.content.get().len() + info) as u64
    }
}

/// An asset with its kind, as exported or imported.
pub type TypedAsset = (ResourceType, Arc<Asset>);

/// The length of `s` as a JSON string, quotes included, escaped as `serde_json` escapes it: `"`,
/// `\` and the control characters with a short form take two bytes, other control characters six
/// (`\u00XX`), everything else (non-ASCII included) as it is.
fn json_str_len(s: &str) -> usize {
    2 + s
        .bytes()
        .map(|b| match b {
            b'"' | b'\\' | b'\x08' | b'\t' | b'\n' | b'\x0c' | b'\r' => 2,
            0..0x20 => 6,
            _ => 1,
        })
        .sum::<usize>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_len_is_the_length_serde_json_writes() {
        let every_ascii: String = (0u8..0x80).map(char::from).collect();
        let strings = [
            "",
            "app-1",
            "quote \" and backslash \\",
            "ünïcødé ✓ 漢字 \u{85} \u{2028}",
            every_ascii.as_str(),
        ];
        let contents = [
            serde_json::json!({}),
            serde_json::json!({"nested": {"list": [1, 2.5, "x\ny"]}, "s": "\u{1}"}),
            serde_json::Value::Null,
        ];
        for id in strings {
            for name in strings {
                for content in &contents {
                    let asset = Asset::new(id, name, content);
                    let written = serde_json::to_vec(&asset).map(|v| v.len()).unwrap_or(0);
                    assert_eq!(asset.json_len(), written as u64, "{asset:?}");
                }
            }
        }
        let mut with_info = Asset::new("a", "b \"c\"", &serde_json::json!({}));
        with_info.info = Some(Box::new(AppInfo {
            remark: "line\nbreak".into(),
            key: "k".into(),
            favorite: true,
            create_time: crate::clock::Timestamp(1),
            update_time: crate::clock::Timestamp(2),
            created_user: Some("ü".into()),
            last_updated_user: None,
        }));
        let written = serde_json::to_vec(&with_info).map(|v| v.len()).unwrap_or(0);
        assert_eq!(with_info.json_len(), written as u64);
        let placeholder = Asset::placeholder("a\tb", "\u{1f}");
        let written = serde_json::to_vec(&placeholder).map(|v| v.len()).unwrap_or(0);
        assert_eq!(placeholder.json_len(), written as u64);
    }
}
