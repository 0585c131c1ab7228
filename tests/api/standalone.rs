//! The repository stands alone: no file points at a path beside it, and every decision the code
//! cites (`D1`, ...) is defined in the repository's own `docs/decisions.md`.

use std::path::{Path, PathBuf};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            if ![
                "target",
                "corpus",
                "artifacts",
                ".venv",
                ".venv-contract",
                "node_modules",
            ]
            .contains(&name.as_str())
            {
                files(&path, out);
            }
        } else {
            out.push(path);
        }
    }
}

#[test]
fn no_test_script_or_build_step_reads_outside_the_repository() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut all = Vec::new();
    for dir in ["src", "tests", "scripts", ".ci", "fuzz", "container"] {
        files(&root.join(dir), &mut all);
    }
    all.extend(
        ["Cargo.toml", "Dockerfile", "build.rs"]
            .iter()
            .map(|f| root.join(f)),
    );
    // The shared folder beside the clone in any form, or a path literal that starts by leaving its
    // base (the shape of `concat!(env!("CARGO_MANIFEST_DIR"), "/<up>/x")`). Zip-slip test names stay.
    // (Spelled in pieces, so that this file does not name what it looks for.)
    let outside = [concat!("..", "/", "shared"), concat!("\"/", "..")];
    let mut offenders = Vec::new();
    for file in all {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        if file.ends_with("standalone.rs") {
            continue;
        }
        for (n, line) in text.lines().enumerate() {
            if outside.iter().any(|o| line.contains(o)) && !line.trim_start().starts_with("//") {
                offenders.push(format!("{}:{}: {line}", file.display(), n + 1));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "paths outside the repository:\n{}",
        offenders.join("\n")
    );
}

/// Every text file of the repository a reader or a build sees (not build output, fetched packages or
/// fuzz inputs).
fn repository_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut all = Vec::new();
    for dir in [
        "src",
        "tests",
        "scripts",
        ".ci",
        "fuzz",
        "container",
        "docs",
        "examples",
        "benches",
    ] {
        files(&root.join(dir), &mut all);
    }
    for file in [
        "Cargo.toml",
        "Dockerfile",
        "README.md",
        "ARCHITECTURE.md",
        "CONTRIBUTING.md",
        "config.example.toml",
        ".dockerignore",
    ] {
        all.push(root.join(file));
    }
    all
}

#[test]
fn no_file_points_outside_the_repository() {
    // Spelled in pieces, so that this file does not name what it looks for.
    let beside = [concat!("..", "/", "shared"), concat!("shared", "/", "spec")];
    let offenders: Vec<String> = repository_files()
        .iter()
        .filter(|f| !f.ends_with("standalone.rs"))
        .filter_map(|f| std::fs::read_to_string(f).ok().map(|text| (f, text)))
        .flat_map(|(f, text)| {
            text.lines()
                .enumerate()
                .filter(|(_, line)| beside.iter().any(|b| line.contains(b)))
                .map(|(n, line)| format!("{}:{}: {line}", f.display(), n + 1))
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(
        offenders.is_empty(),
        "files point beside the repository:\n{}",
        offenders.join("\n")
    );
}

#[test]
fn every_decision_the_code_cites_is_defined_in_docs_decisions() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let decisions = std::fs::read_to_string(root.join("docs/decisions.md")).expect("docs/decisions.md");
    let defined = |n: &str| decisions.lines().any(|l| l.starts_with(&format!("## D{n}:")));
    let mut undefined = Vec::new();
    let mut cited = 0;
    for file in repository_files() {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        for (n, line) in text.lines().enumerate() {
            let bytes = line.as_bytes();
            for (i, _) in line.match_indices('D') {
                let before = i.checked_sub(1).map(|j| bytes[j]);
                let digits: String = line[i + 1..].chars().take_while(char::is_ascii_digit).collect();
                let after = bytes.get(i + 1 + digits.len()).copied();
                let word = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_');
                if digits.is_empty() || digits.len() > 2 || word(before) || word(after) {
                    continue;
                }
                cited += 1;
                if !defined(&digits) {
                    undefined.push(format!("{}:{}: D{digits}", file.display(), n + 1));
                }
            }
        }
    }
    assert!(cited > 50, "the decisions are cited ({cited} citations found)");
    assert!(
        undefined.is_empty(),
        "cited but not defined in docs/decisions.md:\n{}",
        undefined.join("\n")
    );
}
