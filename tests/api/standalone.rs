//! The repository stands alone (issue 10): no test, script or build step reaches a path beside it.

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
