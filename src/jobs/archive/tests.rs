//! Tests of `archive`.

use super::*;
use crate::jobs::asset::Content;

fn sample() -> Package {
    let app = Asset {
        id: "a1".into(),
        name: "orders".into(),
        content: Content::from_value(&serde_json::json!({"k": [1, 2]})),
        info: None,
    };
    let task = Asset {
        id: "t1".into(),
        name: "sync".into(),
        content: Content::from_value(&serde_json::json!("x")),
        info: None,
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
