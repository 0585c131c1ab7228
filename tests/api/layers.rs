//! The layer rules of ARCHITECTURE.md, checked by reading the `crate::` and `super::` paths of
//! every source file: no import up the stack, no circle between modules (or between the files of
//! one folder), no HTTP in the domain and base layers, and no configuration in the domain.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The stack, top first. Within a layer a module may use only the modules listed after it, so
/// the order is the allowed direction and no circle can form.
const STACK: &[(&str, &[&str])] = &[
    ("process", &["ctl", "client", "probe"]),
    ("transport", &["server", "transport"]),
    ("http", &["api"]),
    (
        "app",
        &["control", "app", "settings", "persist", "telemetry", "metrics"],
    ),
    (
        "domain",
        &[
            "error", "faults", "journal", "jobs", "auth", "permits", "throttle",
        ],
    ),
    (
        "base",
        &[
            "config",
            "operation",
            "scope",
            "secret",
            "clock",
            "ids",
            "json",
            "recent",
        ],
    ),
];

/// Crates that are HTTP: only the transport and HTTP layers (and the process) may use them.
const HTTP_CRATES: &[&str] = &[
    "axum",
    "hyper",
    "hyper_util",
    "tower",
    "tower_http",
    "http_body_util",
    "http",
];

fn rank(module: &str) -> Option<(usize, usize)> {
    STACK
        .iter()
        .enumerate()
        .find_map(|(layer, (_, modules))| modules.iter().position(|m| *m == module).map(|i| (layer, i)))
}

fn layer_name(module: &str) -> &'static str {
    rank(module).map_or("?", |(layer, _)| STACK[layer].0)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The text without comments (line and doc comments; string literals are rare enough here).
fn code(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("//") {
            Some(i) if !line[..i].contains('"') => &line[..i],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The first path segments after each `prefix::`, including each item of a `prefix::{a, b::c}`
/// group.
fn paths_after(code: &str, prefix: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let needle = format!("{prefix}::");
    let mut rest = code;
    while let Some(i) = rest.find(&needle) {
        let before = rest[..i].chars().next_back();
        rest = &rest[i + needle.len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0usize;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        found.insert(first_segment(&item));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                item.push(c);
            }
            found.insert(first_segment(&item));
        } else {
            found.insert(first_segment(rest));
        }
    }
    found.remove("");
    found
}

fn first_segment(s: &str) -> String {
    s.trim_start()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

struct Source {
    /// e.g. `["jobs", "registry"]`; `mod.rs` is its folder's module.
    module: Vec<String>,
    is_index: bool,
    code: String,
}

fn sources() -> Vec<Source> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files
        .into_iter()
        .filter_map(|path| {
            let rel = path.strip_prefix(&src).expect("under src").with_extension("");
            let mut module: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
            let is_index = module.last().is_some_and(|m| m == "mod");
            if is_index {
                module.pop();
            }
            // The binary and the library root may name any module.
            if module == ["main"] || module == ["lib"] {
                return None;
            }
            let text = std::fs::read_to_string(&path).expect("read");
            Some(Source {
                module,
                is_index,
                code: code(&text),
            })
        })
        .collect()
}

#[test]
fn every_module_has_a_layer_and_imports_only_below_it() {
    let mut violations = Vec::new();
    for source in sources() {
        let me = source.module[0].as_str();
        let Some(my_rank) = rank(me) else {
            violations.push(format!(
                "src/{me}: no layer in STACK (add it to ARCHITECTURE.md and here)"
            ));
            continue;
        };
        for used in paths_after(&source.code, "crate") {
            if used == me {
                continue;
            }
            match rank(&used) {
                Some(r) if r > my_rank => {}
                Some(_) => violations.push(format!(
                    "{} ({}) uses crate::{used} ({}): up the stack or against the order of its layer",
                    source.module.join("/"),
                    layer_name(me),
                    layer_name(&used)
                )),
                None => {}
            }
        }
        let layer = layer_name(me);
        if layer == "domain" || layer == "base" {
            for krate in HTTP_CRATES {
                if !paths_after(&source.code, krate).is_empty() {
                    violations.push(format!(
                        "{} ({layer}) uses {krate}: no HTTP below the API",
                        source.module.join("/")
                    ));
                }
            }
        }
        if layer == "domain" && paths_after(&source.code, "crate").contains("config") {
            violations.push(format!(
                "{} (domain) uses crate::config: the composition root (settings.rs) builds its settings",
                source.module.join("/")
            ));
        }
    }
    assert!(
        violations.is_empty(),
        "layer rules broken:\n{}",
        violations.join("\n")
    );
}

/// Within a folder, the files use one another without a circle (`mod.rs` only re-exports).
#[test]
fn the_files_of_a_folder_form_no_circle() {
    let mut graphs: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for source in sources() {
        if source.is_index || source.module.len() < 2 {
            continue;
        }
        let folder = source.module[..source.module.len() - 1].join("::");
        let me = source.module.last().expect("file").clone();
        // Unit tests may reach any sibling.
        let code = source.code.split("#[cfg(test)]").next().unwrap_or_default();
        let mut uses = paths_after(code, "super");
        uses.extend(paths_after(code, &format!("crate::{folder}")));
        let siblings = graphs.entry(folder).or_default();
        uses.remove(&me);
        siblings.entry(me).or_default().extend(uses);
    }
    let mut circles = Vec::new();
    for (folder, graph) in &graphs {
        for start in graph.keys() {
            // Depth-first from `start`: a path back to it is a circle.
            let mut stack = vec![(start.clone(), vec![start.clone()])];
            let mut seen = BTreeSet::new();
            while let Some((node, path)) = stack.pop() {
                for next in graph.get(&node).into_iter().flatten() {
                    if next == start {
                        circles.push(format!("{folder}: {} -> {start}", path.join(" -> ")));
                    } else if graph.contains_key(next) && seen.insert(next.clone()) {
                        let mut longer = path.clone();
                        longer.push(next.clone());
                        stack.push((next.clone(), longer));
                    }
                }
            }
        }
    }
    assert!(
        circles.is_empty(),
        "circles between files:\n{}",
        circles.join("\n")
    );
}

#[test]
fn the_layer_reader_sees_grouped_and_nested_imports() {
    let sample = "use crate::{a, b::{c, d}, e::f};\nlet x = crate::g::h(); // crate::comment\nmy_crate::nope";
    let found = paths_after(&code(sample), "crate");
    assert_eq!(
        found,
        ["a", "b", "e", "g"].into_iter().map(String::from).collect()
    );
}

/// ARCHITECTURE.md's map matches the files: every path it names under `src/` exists, and every
/// module of the stack is in its table (so a rename, such as `state` to `app`, shows there).
#[test]
fn the_architecture_page_names_the_files_that_exist() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let page = std::fs::read_to_string(root.join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let mut missing = Vec::new();
    for quoted in page.split('`').skip(1).step_by(2) {
        if let Some(path) = quoted.strip_prefix("src/")
            && !path.contains(['<', ' '])
            && !root.join("src").join(path).exists()
        {
            missing.push(format!("src/{path}: named, no such file"));
        }
    }
    for (_, modules) in STACK {
        for module in *modules {
            let named = [format!("`{module}`"), format!("`{module}/`")];
            if !named.iter().any(|n| page.contains(n.as_str())) {
                missing.push(format!("{module}: in the stack, not in ARCHITECTURE.md's table"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md is out of date:\n{}",
        missing.join("\n")
    );
}
