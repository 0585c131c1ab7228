//! The assets a request selects: the body of ExportAsset and DeleteAsset in every dialect of
//! decision D3, with the 100-item limit of D4. Pure: bytes in, [`AssetSelection`] or a reason out.

use serde::Deserialize;

use crate::json::{Keys, Shallow, StrOrList, StrOrObject};

/// At most this many apps and tasks together (D4).
pub const MAX_ITEMS: usize = 100;
/// Longest id or name accepted in a body.
pub const MAX_ID_LEN: usize = 128;

/// How a request names an application.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, Deserialize)]
pub enum AppRef {
    /// By id: `{"id": ...}` or `{"app_id": ...}` items.
    Id(String),
    /// By name: the seed's `"apps": "<application name>"`.
    Name(String),
}

impl AppRef {
    /// The id or name as given.
    pub fn as_str(&self) -> &str {
        match self {
            AppRef::Id(s) | AppRef::Name(s) => s,
        }
    }
}

/// The apps and tasks a request selects, deduplicated, in request order.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct AssetSelection {
    /// Applications.
    pub apps: Vec<AppRef>,
    /// Task ids.
    pub tasks: Vec<String>,
}

/// Why a body was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelectionError {
    /// The body is malformed; the text names the parameter.
    Invalid(String),
    /// The body is empty or selects nothing.
    NothingToOperate(&'static str),
}

/// The body of ExportAsset and DeleteAsset as read, before the rules: only `apps` and `tasks` are
/// kept, each list stops past [`MAX_ITEMS`] items, and a repeated key is refused.
#[derive(Debug, Deserialize)]
struct Body {
    #[serde(default)]
    apps: Option<StrOrList<StrOrObject<ItemKeys>, MAX_ITEMS>>,
    #[serde(default)]
    tasks: Option<StrOrList<StrOrObject<ItemKeys>, MAX_ITEMS>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct ItemKeys;
impl Keys for ItemKeys {
    const KEYS: &'static [&'static str] = &["id", "app_id", "task_id"];
}

type Item = StrOrObject<ItemKeys>;

impl AssetSelection {
    /// Parses and validates a request body.
    pub fn from_json(body: &[u8]) -> Result<Self, SelectionError> {
        Self::read(body).map(|(selection, _)| selection)
    }

    /// Parses and validates a request body; also says how it named the applications (D3):
    /// `name` (the seed's string), `id` or `app_id` (the key of the first item), or `ids` (plain
    /// id strings).
    pub fn read(body: &[u8]) -> Result<(Self, &'static str), SelectionError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Err(SelectionError::NothingToOperate("the request body is empty"));
        }
        // A derived struct would also take an array, positionally; only an object is a body.
        if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(invalid("body: expected a JSON object with apps and tasks"));
        }
        let body: Body = serde_json::from_slice(body).map_err(|e| {
            let what = if e.is_data() {
                "expected a JSON object with apps and tasks:"
            } else {
                "not valid JSON:"
            };
            SelectionError::Invalid(format!("body: {what} {e}"))
        })?;
        let (apps, dialect) = parse_apps(body.apps)?;
        let tasks = parse_tasks(body.tasks)?;
        let total = apps.len() + tasks.len();
        if total > MAX_ITEMS {
            return Err(SelectionError::Invalid(format!(
                "apps, tasks: at most {MAX_ITEMS} applications and tasks together, got {total}"
            )));
        }
        if total == 0 {
            return Err(SelectionError::NothingToOperate(
                "no application or task selected",
            ));
        }
        let selection = Self {
            apps: dedup(apps),
            tasks: dedup(tasks),
        };
        Ok((selection, dialect))
    }

    /// How many assets are selected.
    pub fn len(&self) -> usize {
        self.apps.len() + self.tasks.len()
    }

    /// Whether nothing is selected.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn invalid(s: &str) -> SelectionError {
    SelectionError::Invalid(s.to_owned())
}

fn parse_apps(
    apps: Option<StrOrList<Item, MAX_ITEMS>>,
) -> Result<(Vec<AppRef>, &'static str), SelectionError> {
    match apps {
        None | Some(StrOrList::Null) => Err(invalid("apps: required")),
        Some(StrOrList::Str(name)) => {
            let name = name.trim();
            if name.is_empty() {
                return Ok((Vec::new(), "name"));
            }
            check_len("apps", name)?;
            let allowed = |c: char| c.is_alphanumeric() || "-_. ()".contains(c);
            if !name.chars().all(allowed) {
                return Err(invalid(
                    "apps: an application name has only letters, digits, spaces and - _ . ( )",
                ));
            }
            Ok((vec![AppRef::Name(name.to_owned())], "name"))
        }
        Some(StrOrList::List(items)) => {
            let mut dialect = "id";
            let apps = items
                .into_iter()
                .enumerate()
                .map(|(i, item)| {
                    let (id, key) = item_id(item, "apps", i, "app_id")?;
                    if i == 0 {
                        dialect = key.unwrap_or("ids");
                    }
                    Ok(AppRef::Id(id))
                })
                .collect::<Result<_, _>>()?;
            Ok((apps, dialect))
        }
        Some(StrOrList::Other(_)) => Err(invalid(
            "apps: expected an application name or an array of {\"id\": \"...\"}",
        )),
    }
}

fn parse_tasks(tasks: Option<StrOrList<Item, MAX_ITEMS>>) -> Result<Vec<String>, SelectionError> {
    match tasks {
        None | Some(StrOrList::Null) => Ok(Vec::new()),
        Some(StrOrList::List(items)) => items
            .into_iter()
            .enumerate()
            .map(|(i, item)| item_id(item, "tasks", i, "task_id").map(|(id, _)| id))
            .collect(),
        Some(_) => Err(invalid("tasks: expected an array of {\"id\": \"...\"}")),
    }
}

/// The id of `"..."` (the Go SDK's plain app ids), `{"id": ...}` or `{"<alt>": ...}`, moved out of
/// the parsed body (no copy), and the key that held it (none for a plain id).
fn item_id(
    item: Item,
    field: &str,
    i: usize,
    alt: &'static str,
) -> Result<(String, Option<&'static str>), SelectionError> {
    let (key, value) = match item {
        // Plain ids are the Go SDK's form for applications only (D3).
        StrOrObject::Str(id) if alt == "app_id" => (None, Shallow::Str(id)),
        mut item @ StrOrObject::Object(..) => {
            let key = match (item.get("id").is_some(), item.get(alt).is_some()) {
                (true, true) => {
                    return Err(SelectionError::Invalid(format!(
                        "{field}[{i}]: give one of id and {alt}, not both"
                    )));
                }
                (true, false) => "id",
                (false, true) => alt,
                (false, false) => {
                    return Err(SelectionError::Invalid(format!("{field}[{i}].id: required")));
                }
            };
            let value = item.take(key).unwrap_or(Shallow::Null);
            (Some(key), value)
        }
        StrOrObject::Str(_) | StrOrObject::Other(_) => {
            return Err(SelectionError::Invalid(format!(
                "{field}[{i}]: expected {{\"id\": \"...\"}}"
            )));
        }
    };
    // The parameter's name is spelled out only for an error: a valid item costs no allocation
    // beyond its id.
    let name = || match key {
        Some(key) => format!("{field}[{i}].{key}"),
        None => format!("{field}[{i}]"),
    };
    let Shallow::Str(id) = value else {
        return Err(SelectionError::Invalid(format!("{}: expected a string", name())));
    };
    if id.is_empty() {
        return Err(SelectionError::Invalid(format!("{}: must not be empty", name())));
    }
    if id.chars().count() > MAX_ID_LEN || id.chars().any(char::is_control) {
        check_len(&name(), &id)?;
        check_text(&name(), &id)?;
    }
    Ok((id, key))
}

/// No control characters in an id or name: they could not be sent back in a path or a log line.
pub fn check_text(name: &str, s: &str) -> Result<(), SelectionError> {
    if s.chars().any(char::is_control) {
        return Err(SelectionError::Invalid(format!(
            "{name}: must not contain control characters"
        )));
    }
    Ok(())
}

fn check_len(name: &str, s: &str) -> Result<(), SelectionError> {
    if s.chars().count() > MAX_ID_LEN {
        return Err(SelectionError::Invalid(format!(
            "{name}: at most {MAX_ID_LEN} characters"
        )));
    }
    Ok(())
}

/// The items without repeats, in order, in place. At most [`MAX_ITEMS`] items, so a linear scan
/// beats a hash set (no set or second vector to allocate, no item cloned).
fn dedup<T: Eq>(mut items: Vec<T>) -> Vec<T> {
    let mut kept = 0;
    for i in 0..items.len() {
        if !items[..kept].contains(&items[i]) {
            items.swap(kept, i);
            kept += 1;
        }
    }
    items.truncate(kept);
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<AssetSelection, SelectionError> {
        AssetSelection::from_json(s.as_bytes())
    }

    #[test]
    fn repeats_are_dropped_keeping_the_first_of_each_in_order() {
        let sel = parse(
            r#"{"apps": ["a", {"id": "b"}, {"app_id": "a"}, "c", "b"], "tasks": [{"id": "t"}, {"task_id": "t"}]}"#,
        )
        .expect("valid");
        let apps: Vec<&str> = sel.apps.iter().map(AppRef::as_str).collect();
        assert_eq!(apps, ["a", "b", "c"]);
        assert_eq!(sel.tasks, ["t"]);
        assert_eq!(dedup(vec![3, 1, 3, 3, 2, 1, 4]), [3, 1, 2, 4]);
    }

    #[test]
    fn accepts_every_dialect_of_d3() {
        let cases = vec![
            (
                r#"{"apps": "my app (v1)", "tasks": [{"task_id": "t1"}]}"#,
                vec![AppRef::Name("my app (v1)".into())],
                vec!["t1"],
            ),
            (
                r#"{"apps": [{"id": "a1"}], "tasks": [{"id": "t1"}]}"#,
                vec![AppRef::Id("a1".into())],
                vec!["t1"],
            ),
            (
                r#"{"apps": [{"app_id": "a1"}, {"app_id": "a2"}]}"#,
                vec![AppRef::Id("a1".into()), AppRef::Id("a2".into())],
                vec![],
            ),
            (
                r#"{"apps": [], "tasks": [{"id": "t1"}, {"id": "t1"}]}"#,
                vec![],
                vec!["t1"],
            ),
            (
                r#"{"apps": "", "tasks": [{"id": "t1"}], "extra": 1}"#,
                vec![],
                vec!["t1"],
            ),
            (
                r#"{"apps": ["a1", "a2"], "tasks": [{"task_id": "t1"}]}"#,
                vec![AppRef::Id("a1".into()), AppRef::Id("a2".into())],
                vec!["t1"],
            ),
        ];
        for (body, apps, tasks) in cases {
            let sel = parse(body).unwrap_or_else(|e| panic!("{body}: {e:?}"));
            assert_eq!(sel.apps, apps, "{body}");
            assert_eq!(sel.tasks, tasks, "{body}");
        }
    }

    #[test]
    fn refuses_bad_bodies_naming_the_parameter() {
        let cases = vec![
            ("{", "body"),
            ("[1]", "body"),
            (r#"{"tasks": [{"id": "t"}]}"#, "apps: required"),
            (r#"{"apps": 5}"#, "apps:"),
            (r#"{"apps": [5]}"#, "apps[0]"),
            (r#"{"apps": [], "tasks": ["t1"]}"#, "tasks[0]: expected"),
            (
                r#"{"apps": [], "tasks": [{"id": "t", "task_id": "u"}]}"#,
                "tasks[0]: give one",
            ),
            (r#"{"apps": [{"id": "a"}], "apps": "x"}"#, "body"),
            (r#"{"apps": [{"id": "a", "id": "b"}]}"#, "body"),
            (r#"{"apps": ["a\u0000b"]}"#, "apps[0]: must not contain control"),
            (r#"{"apps": [{"name": "x"}]}"#, "apps[0].id: required"),
            (r#"{"apps": [{"id": 7}]}"#, "apps[0].id: expected a string"),
            (
                r#"{"apps": [{"app_id": ""}]}"#,
                "apps[0].app_id: must not be empty",
            ),
            (r#"{"apps": "bad/name"}"#, "apps:"),
            (r#"{"apps": [], "tasks": {"id": "t"}}"#, "tasks:"),
            (
                r#"{"apps": [], "tasks": [{"task_id": null}]}"#,
                "tasks[0].task_id",
            ),
        ];
        for (body, what) in cases {
            match parse(body) {
                Err(SelectionError::Invalid(msg)) => assert!(msg.starts_with(what), "{body}: {msg}"),
                other => panic!("{body}: expected Invalid({what}), got {other:?}"),
            }
        }
        let long = format!(r#"{{"apps": [{{"id": "{}"}}]}}"#, "x".repeat(129));
        assert!(matches!(parse(&long), Err(SelectionError::Invalid(_))));
    }

    #[test]
    fn at_most_100_apps_and_tasks_together() {
        let body = |apps: usize, tasks: usize| {
            let a: Vec<String> = (0..apps).map(|i| format!(r#"{{"id":"a{i}"}}"#)).collect();
            let t: Vec<String> = (0..tasks).map(|i| format!(r#"{{"id":"t{i}"}}"#)).collect();
            format!(r#"{{"apps":[{}],"tasks":[{}]}}"#, a.join(","), t.join(","))
        };
        assert_eq!(parse(&body(50, 50)).map(|s| s.len()), Ok(100));
        assert_eq!(parse(&body(100, 0)).map(|s| s.len()), Ok(100));
        assert!(matches!(parse(&body(60, 41)), Err(SelectionError::Invalid(m)) if m.contains("101")));
        assert!(
            matches!(parse(&body(0, 5000)), Err(SelectionError::Invalid(m)) if m.contains("more than 100"))
        );
    }

    #[test]
    fn empty_or_nothing_selected_is_nothing() {
        for body in ["", "  \n", r#"{"apps": []}"#, r#"{"apps": "", "tasks": []}"#] {
            assert!(
                matches!(parse(body), Err(SelectionError::NothingToOperate(_))),
                "{body:?}"
            );
        }
    }
}
