//! The configuration's unit tests: defaults, loading, variables, validation.
use std::path::Path;

use super::*;

#[test]
fn empty_file_gives_the_defaults() {
    let c = Config::from_toml("").expect("empty config");
    assert_eq!(c.server.listen, "127.0.0.1:8080");
    assert_eq!(c.jobs.duration_ms, 2000);
    assert_eq!(c.auth.mode, AuthMode::Open);
    assert_eq!(c.api.error_statuses, ErrorStatuses::Documented);
}

#[test]
fn errors_name_the_key() {
    let cases = vec![
        (
            "[jobs]\nduration_ms = \"slow\"\n",
            "jobs.duration_ms",
            "wrong type",
        ),
        ("[jobs]\nduraton_ms = 5\n", "jobs.duraton_ms", "unknown key"),
        (
            "[api]\nerror_statuses = \"loud\"\n",
            "api.error_statuses",
            "unknown variant",
        ),
        ("[jobs]\nduration_ms = = 5\n", "jobs.duration_ms", "syntax"),
        (
            "[[auth.users]]\nname = \"\"\n",
            "auth.users[0].name",
            "validation",
        ),
        ("[jobs]\nduration_ms = 99999999999\n", "jobs.duration_ms", "range"),
        (
            "[auth]\ntoken_ttl_s = 300000000000\n",
            "auth.token_ttl_s",
            "overflowing ttl",
        ),
        (
            "[jobs]\nretention_s = 300000000000\n",
            "jobs.retention_s",
            "overflowing retention",
        ),
        ("[auth]\ntoken_key = \"short\"\n", "auth.token_key", "weak key"),
        (
            "[[instances]]\nid = \"i\"\n[[instances.tasks]]\nid = \"t\"\nremark = \"r\"\n",
            "instances[0].tasks[0].remark",
            "a task's remark",
        ),
        (
            "[[instances]]\nid = \"i\"\n[[instances.apps]]\nid = \"a\"\nkey = \"short\"\n",
            "instances[0].apps[0].key",
            "a short key",
        ),
    ];
    for (text, key, what) in cases {
        let err = Config::from_toml(text).expect_err(what);
        assert_eq!(err.key, key, "{what}: {err}");
    }
    let unknown = Config::from_toml("[jobs]\nduraton_ms = 5\n").expect_err("unknown");
    assert!(unknown.message.contains("duraton_ms"), "{unknown}");
}

fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn env_overrides_the_file_and_is_checked() {
    let c = Config::from_toml_and_env(
        "[jobs]\nduration_ms = 5\n",
        vars(&[
            ("ROMA_EMULATOR_JOBS_DURATION_MS", "7"),
            ("ROMA_EMULATOR_LISTEN", "0.0.0.0:9000"),
            ("UNRELATED", "x"),
        ]),
    )
    .expect("env");
    assert_eq!(c.jobs.duration_ms, 7);
    assert_eq!(c.server.listen, "0.0.0.0:9000");
    let err =
        Config::from_toml_and_env("", vars(&[("ROMA_EMULATOR_AUTH_MODE", "loose")])).expect_err("bad mode");
    assert_eq!(err.key, "ROMA_EMULATOR_AUTH_MODE");
    let err = Config::from_toml_and_env("", vars(&[("ROMA_EMULATOR_JOBS_MAX_JOBS", "many")]))
        .expect_err("bad number");
    assert_eq!(err.key, "ROMA_EMULATOR_JOBS_MAX_JOBS");
    let both = vars(&[
        ("ROMA_EMULATOR_LOG", "warn"),
        ("ROMA_EMULATOR_LOG_LEVEL", "debug"),
    ]);
    assert_eq!(
        Config::from_toml_and_env("", both).expect("both").log.level,
        "debug",
        "the full name wins"
    );
}

#[test]
fn every_key_of_the_env_table_is_set_by_its_variable() {
    let sample = |entry: &env::EnvKey| match (entry.key, entry.kind) {
        ("server.listen", _) => "127.0.0.1:9999",
        ("server.probe_listen", _) => "127.0.0.1:9998",
        ("server.public_url", _) => "https://roma.example.test",
        ("api.error_statuses", _) => "catalog",
        ("api.dialect", _) => "current",
        ("jobs.progression", _) => "manual",
        ("auth.mode", _) => "strict",
        ("auth.token_key", _) => "a-token-key-of-at-least-32-characters",
        ("log.level", _) => "debug",
        ("log.format", _) => "json",
        ("state.file", _) => "/tmp/state.json",
        ("emulator.admin_token", _) => "admin",
        ("clock.mode", _) => "virtual",
        ("journal.summaries", _) => "false",
        (_, env::Kind::Integer) => "3",
        (_, env::Kind::Boolean) => "true",
        (_, env::Kind::Text) => "x",
    };
    for entry in env::ENV_KEYS {
        let var = entry.var();
        let config = Config::from_toml_and_env("", vars(&[(var.as_str(), sample(entry))]))
            .unwrap_or_else(|e| panic!("{var}: {e}"));
        assert_ne!(config, Config::default(), "{var} changes {}", entry.key);
        if let Some(alias) = entry.alias {
            let by_alias = Config::from_toml_and_env("", vars(&[(alias, sample(entry))])).expect("alias");
            assert_eq!(by_alias, config, "{alias} sets {}", entry.key);
        }
    }
}

#[test]
fn syntax_errors_name_the_line_and_column_and_show_it() {
    let err = Config::from_toml("[jobs]\nduration_ms = = 5\n").expect_err("syntax");
    assert!(err.message.contains("line 2, column"), "{err}");
    assert!(err.message.contains("duration_ms = = 5"), "{err}");
    let missing = Config::load(Some(Path::new("/nonexistent/roma.toml")), Vec::new()).expect_err("missing");
    assert_eq!(
        missing.to_string().lines().next(),
        Some("config file /nonexistent/roma.toml: cannot read it: No such file or directory (os error 2)")
    );
}

#[test]
fn secrets_do_not_debug_print() {
    let c = Config::from_toml("[[auth.users]]\nname = \"alice\"\ntoken = \"hunter2\"\n").expect("config");
    assert!(!format!("{c:?}").contains("hunter2"));
}

#[test]
fn load_names_the_file() {
    let err = Config::load(Some(Path::new("/nonexistent/roma.toml")), Vec::new()).expect_err("missing");
    assert!(err.to_string().contains("/nonexistent/roma.toml"), "{err}");
}
