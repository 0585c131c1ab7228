//! A shared stub's tenants cannot reach one another through what one of them leaves behind (#27):
//! a token outlives neither its user nor a change of the user's credentials.

use crate::helpers::*;
use roma_emulator::config::AuthMode;
use serde_json::json;

/// A strict emulator whose jobs end as they are made.
async fn strict_app() -> TestApp {
    spawn_app_with(|c| {
        c.auth.mode = AuthMode::Strict;
        c.jobs.duration_ms = 0;
    })
    .await
}

/// Deletes the runtime user `ci`; the status.
async fn delete_ci(app: &TestApp) -> u16 {
    app.control(reqwest::Method::DELETE, "/_emulator/users/ci")
        .send()
        .await
        .expect("request")
        .status()
        .as_u16()
}

/// Finding 3: team A's `ci` takes a token and is deleted; team B adds its own `ci`. A's token
/// must not serve B's `ci`: not its job, not its one-time archive, not a new export.
#[tokio::test]
async fn a_token_dies_with_its_user_and_never_serves_the_next_user_of_the_name() {
    let app = strict_app().await;
    let base = app.server.base_url();
    let (status, body) = app
        .control_post("/_emulator/users", json!({"name": "ci", "password": "team-a"}))
        .await;
    assert_eq!(status, 201, "{body}");
    let a_token = issue_token(&app.client, &base, "ci", "team-a", "p1").await;
    assert_job_created(
        app.export(&a_token, "p1", "inst-a", r#"{"apps":[{"id":"x"}]}"#)
            .await,
    )
    .await;

    assert_eq!(delete_ci(&app).await, 204);
    let (status, body) = app
        .control_post(
            "/_emulator/users",
            json!({"name": "ci", "token": "team-b-static"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let job = assert_job_created(
        app.export("team-b-static", "p1", "inst-a", r#"{"apps":[{"id":"y"}]}"#)
            .await,
    )
    .await;
    let archive = app.job_json("team-b-static", "p1", "inst-a", &job).await["archive_id"]
        .as_str()
        .expect("archive id")
        .to_owned();

    assert_roma_error(app.job(&a_token, "p1", "inst-a", &job).await, 403, "ROMA.1002").await;
    let stolen = app.download(&a_token, "p1", "inst-a", &archive).await;
    assert_roma_error(stolen, 403, "ROMA.1002").await;
    let blocked = app
        .export(&a_token, "p1", "inst-a", r#"{"apps":[{"id":"z"}]}"#)
        .await;
    assert_roma_error(blocked, 403, "ROMA.1002").await;
    let res = app.download("team-b-static", "p1", "inst-a", &archive).await;
    assert_eq!(res.status(), 200, "B's archive is still B's to download once");
}

/// A user re-made with another password is another incarnation: the old token is refused; one
/// re-made with the very same secrets is the same holder and keeps it.
#[tokio::test]
async fn a_token_follows_its_users_credentials() {
    let app = strict_app().await;
    let base = app.server.base_url();
    let remake = |password: &'static str| {
        let app = &app;
        async move {
            delete_ci(app).await;
            let (status, body) = app
                .control_post("/_emulator/users", json!({"name": "ci", "password": password}))
                .await;
            assert_eq!(status, 201, "{body}");
        }
    };
    remake("one").await;
    let token = issue_token(&app.client, &base, "ci", "one", "p1").await;
    remake("one").await;
    assert_job_created(
        app.export(&token, "p1", "inst-a", r#"{"apps":[{"id":"x"}]}"#)
            .await,
    )
    .await;
    remake("two").await;
    assert_roma_error(
        app.export(&token, "p1", "inst-a", r#"{"apps":[{"id":"x"}]}"#)
            .await,
        403,
        "ROMA.1002",
    )
    .await;
}

/// Finding 4, through `PUT /_emulator/state`: runtime users that clash with the configuration
/// (which wins) are left out and named in `warnings`; the others are restored.
#[tokio::test]
async fn a_put_state_leaves_out_runtime_users_the_config_declares_and_says_so() {
    let app = spawn_app_with(|c| {
        c.auth.mode = AuthMode::Strict;
        c.auth.users.push(roma_emulator::config::UserConfig {
            name: "bob".into(),
            token: Some(roma_emulator::config::Secret::new("bob-config")),
            ..Default::default()
        });
    })
    .await;
    let mut state = app.control_json("/_emulator/state").await;
    state["users"] = json!([
        {"name": "bob", "token": "bob-state"},
        {"name": "zed", "token": "bob-config"},
        {"name": "amy", "token": "amy-state"}
    ]);
    let res = app.put_state(&state).await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.expect("JSON");
    let warnings = body["warnings"].as_array().expect("warnings");
    assert_eq!(warnings.len(), 2, "{body}");
    assert!(warnings[0].as_str().is_some_and(|w| w.contains("bob")), "{body}");
    assert!(warnings[1].as_str().is_some_and(|w| w.contains("zed")), "{body}");
    let users = app.control_json("/_emulator/users").await;
    let names: Vec<&str> = users["users"]
        .as_array()
        .expect("users")
        .iter()
        .filter_map(|u| u["name"].as_str())
        .collect();
    assert_eq!(names, ["bob", "amy"], "{users}");
    let export = app
        .export("bob-state", "p1", "i1", r#"{"apps":[{"id":"a"}]}"#)
        .await;
    assert_roma_error(export, 403, "ROMA.1002").await;
}

/// Finding 8: a state exported from a stub with one `[auth] token_key` and imported into a stub
/// with another loses its open-mode tenants (their names are keyed); the import says so, naming
/// the key. `?include=token_key` exports the key, and a stub started on that export as its state
/// file serves the same tenants.
#[tokio::test]
async fn a_state_moved_under_another_token_key_says_so_and_include_token_key_moves_it_whole() {
    let keyed = |key: &'static str| {
        move |c: &mut roma_emulator::Config| {
            c.jobs.duration_ms = 0;
            c.auth.token_key = Some(roma_emulator::config::Secret::new(key));
        }
    };
    let a = spawn_app_with(keyed("key-a")).await;
    let job = assert_job_created(a.export_one("tenant-token").await).await;
    let plain = a.control_json("/_emulator/state").await;
    assert!(plain.get("token_key").is_none(), "no key unless asked for");
    let fingerprint = plain["token_key_fingerprint"]
        .as_str()
        .expect("fingerprint")
        .to_owned();
    assert_eq!(fingerprint.len(), 16);

    let b = spawn_app_with(keyed("key-b")).await;
    let res = b.put_state(&plain).await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.expect("JSON");
    let warning = body["warnings"][0].as_str().unwrap_or_default();
    assert!(
        warning.contains("[auth] token_key") && warning.contains(&fingerprint),
        "{body}"
    );
    assert_eq!(b.job("tenant-token", "p1", "i1", &job).await.status(), 404);

    // The same stub again under its own key: no warning.
    let res = a.put_state(&plain).await;
    let body: serde_json::Value = res.json().await.expect("JSON");
    assert_eq!(body["warnings"], json!([]), "{body}");

    let whole = a.control_json("/_emulator/state?include=token_key").await;
    let key = whole["token_key"].as_str().expect("token_key").to_owned();
    assert_eq!(key.len(), 64, "{key}");
    let dir = std::env::temp_dir().join(format!("roma-emulator-{}-moved", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("state.json");
    std::fs::write(&file, whole.to_string()).expect("write");
    let moved = spawn_app_with(|c| {
        c.jobs.duration_ms = 0;
        c.state.file = Some(file.clone());
    })
    .await;
    assert_eq!(moved.job("tenant-token", "p1", "i1", &job).await.status(), 200);
    let bad = a
        .control(reqwest::Method::GET, "/_emulator/state?include=users")
        .send()
        .await
        .expect("GET");
    assert_roma_error(bad, 400, "ROMA.13000").await;
    drop(moved);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `?include=token_key` is behind the admin token when one is set.
#[tokio::test]
async fn the_token_key_export_needs_the_admin_token() {
    let app =
        spawn_app_with(|c| c.emulator.admin_token = Some(roma_emulator::config::Secret::new("admin"))).await;
    let res = app
        .client
        .get(app.url("/_emulator/state?include=token_key"))
        .send()
        .await
        .expect("GET");
    assert_roma_error(res, 401, "EMULATOR.0401").await;
}
