//! ExportAsset as the seed and decisions D1–D12 describe it.

use futures::future::join_all;
use roma_emulator::config::{AuthMode, ErrorStatuses, Secret, UserConfig};

use crate::helpers::{TOKEN, assert_job_created, assert_roma_error, spawn_app, spawn_app_with};

#[tokio::test]
async fn export_returns_a_job_id_for_every_body_dialect() {
    let app = spawn_app_with(|c| c.jobs.duration_ms = 0).await;
    let bodies = vec![
        (
            r#"{"apps": "my app", "tasks": [{"task_id": "t1"}]}"#,
            "seed: apps as a name, task_id items",
        ),
        (
            r#"{"apps": [{"id": "app-1"}], "tasks": [{"id": "task-1"}]}"#,
            "current: id items (the SDK)",
        ),
        (
            r#"{"apps": [{"app_id": "app-1"}]}"#,
            "zh OLD: app_id items, no tasks",
        ),
        (r#"{"apps": [], "tasks": [{"id": "task-1"}]}"#, "tasks only"),
    ];
    for (body, what) in bodies {
        let res = app.export(TOKEN, "p1", "i1", body).await;
        assert_eq!(res.status().as_u16(), 200, "{what}");
        assert_job_created(res).await;
    }
}

#[tokio::test]
async fn export_refuses_bad_bodies_with_roma_codes() {
    let app = spawn_app().await;
    let many: Vec<String> = (0..101).map(|i| format!(r#"{{"id":"a{i}"}}"#)).collect();
    let too_many = format!(r#"{{"apps":[{}]}}"#, many.join(","));
    let split: Vec<String> = (0..51).map(|i| format!(r#"{{"id":"x{i}"}}"#)).collect();
    let too_many_together = format!(r#"{{"apps":[{0}],"tasks":[{0}]}}"#, split.join(","));
    let cases = vec![
        ("", "ROMA.13001", "empty body"),
        (r#"{"apps": []}"#, "ROMA.13001", "nothing selected"),
        ("{\"apps\": ", "ROMA.13000", "malformed JSON"),
        (r#"{"tasks": [{"id": "t"}]}"#, "ROMA.13000", "apps missing"),
        (r#"{"apps": 3}"#, "ROMA.13000", "apps of the wrong type"),
        (r#"{"apps": [{"id": 3}]}"#, "ROMA.13000", "id of the wrong type"),
        (too_many.as_str(), "ROMA.13000", "101 apps"),
        (too_many_together.as_str(), "ROMA.13000", "51 apps + 51 tasks"),
    ];
    for (body, code, what) in cases {
        let res = app.export(TOKEN, "p1", "i1", body).await;
        let err = assert_roma_error(res, 403, code).await;
        if code == "ROMA.13000" {
            let details = err["error_details"].as_str().unwrap_or_default();
            assert!(
                details.contains("apps") || details.contains("body"),
                "{what}: {details}"
            );
        }
    }
}

#[tokio::test]
async fn export_refuses_missing_and_wrong_content_types() {
    let app = spawn_app().await;
    let url = app.url("/v2/p1/instances/i1/assets/export");
    let body = r#"{"apps": [{"id": "a"}]}"#;
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let mut req = app.client.post(&url).header("X-Auth-Token", TOKEN).body(body);
        if let Some(ct) = content_type {
            req = req.header("Content-Type", ct);
        }
        let err = assert_roma_error(req.send().await.expect("request"), 403, "ROMA.13000").await;
        assert!(
            err["error_details"]
                .as_str()
                .unwrap_or_default()
                .contains("Content-Type"),
            "{content_type:?}"
        );
    }
}

#[tokio::test]
async fn export_checks_the_token_and_path_lengths() {
    let app = spawn_app().await;
    let url = app.url("/v2/p1/instances/i1/assets/export");
    let body = r#"{"apps": [{"id": "a"}]}"#;
    let no_token = app
        .client
        .post(&url)
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await;
    assert_roma_error(no_token.expect("request"), 403, "ROMA.1000").await;

    // The gateway refuses a header over 32 KB before ROMA's own limit of 100000 characters is
    // reached: an X-Auth-Token that long gets the gateway's answer.
    let long_token = "t".repeat(40_000);
    let res = app.export(&long_token, "p1", "i1", body).await;
    let err = assert_roma_error(res, 494, "APIG.0201").await;
    assert_eq!(err["error_msg"], "Request headers too large.");
    assert_eq!(
        app.export(&"t".repeat(30_000), "p1", "i1", body).await.status(),
        200
    );

    let long = "x".repeat(65);
    let cases = [
        (long.as_str(), "i1", "project_id"),
        ("p1", long.as_str(), "instance_id"),
        ("", "i1", "project_id"),
    ];
    for (project, instance, name) in cases {
        let err = assert_roma_error(
            app.export("other", project, instance, body).await,
            403,
            "ROMA.13000",
        )
        .await;
        assert!(
            err["error_details"]
                .as_str()
                .unwrap_or_default()
                .starts_with(name),
            "{err}"
        );
    }
    let max = "x".repeat(64);
    assert_eq!(app.export("third", &max, &max, body).await.status(), 200);
}

#[tokio::test]
async fn only_one_of_100_concurrent_exports_of_one_user_is_accepted() {
    let app = spawn_app().await;
    let results = join_all((0..100).map(|i| {
        let app = &app;
        async move {
            app.export(
                TOKEN,
                &format!("p{}", i % 7),
                &format!("i{}", i % 3),
                r#"{"apps": [{"id": "a"}]}"#,
            )
            .await
        }
    }))
    .await;
    let mut accepted = 0;
    for res in results {
        if res.status().as_u16() == 200 {
            accepted += 1;
            assert_job_created(res).await;
        } else {
            assert_roma_error(res, 403, "ROMA.10012").await;
        }
    }
    assert_eq!(accepted, 1);
}

#[tokio::test]
async fn a_user_may_export_again_once_the_job_has_ended() {
    let app = spawn_app_with(|c| c.jobs.duration_ms = 0).await;
    assert_job_created(app.export_one(TOKEN).await).await;
    assert_job_created(app.export_one(TOKEN).await).await;
}

#[tokio::test]
async fn users_are_independent_while_a_job_runs() {
    let app = spawn_app().await;
    assert_job_created(app.export_one("alice-token").await).await;
    assert_job_created(app.export_one("bob-token").await).await;
    assert_roma_error(app.export_one("alice-token").await, 403, "ROMA.10012").await;
}

#[tokio::test]
async fn strict_mode_knows_only_configured_tokens_and_they_name_one_user() {
    let app = spawn_app_with(|c| {
        c.auth.mode = AuthMode::Strict;
        c.auth.users = vec![
            UserConfig {
                name: "alice".into(),
                token: Some(Secret::new("alice-1")),
                ..Default::default()
            },
            UserConfig {
                name: "bob".into(),
                token: Some(Secret::new("bob-1")),
                ..Default::default()
            },
        ];
    })
    .await;
    assert_roma_error(app.export_one("who-knows").await, 403, "ROMA.1002").await;
    assert_job_created(app.export_one("alice-1").await).await;
    assert_job_created(app.export_one("bob-1").await).await;
    assert_roma_error(app.export_one("alice-1").await, 403, "ROMA.10012").await;
}

#[tokio::test]
async fn catalog_statuses_replace_403_when_configured() {
    let app = spawn_app_with(|c| c.api.error_statuses = ErrorStatuses::Catalog).await;
    assert_roma_error(app.export(TOKEN, "p1", "i1", "").await, 400, "ROMA.13001").await;
    assert_job_created(app.export_one(TOKEN).await).await;
    assert_roma_error(app.export_one(TOKEN).await, 400, "ROMA.10012").await;
    let res = app
        .client
        .post(app.url("/v2/p1/instances/i1/assets/export"))
        .send()
        .await
        .expect("request");
    assert_roma_error(res, 400, "ROMA.1000").await;
}

/// D20: a placeholder left in the path (an SDK's `{project_id}` when the credentials carry no
/// project id) is refused with a hint, never served as a project of that name.
#[tokio::test]
async fn a_placeholder_in_the_path_is_refused_with_a_hint() {
    let app = spawn_app().await;
    let body = r#"{"apps": [{"id": "a"}]}"#;
    let res = app.export(TOKEN, "{project_id}", "i1", body).await;
    let err = assert_roma_error(res, 403, "ROMA.13000").await;
    let details = err["error_details"].as_str().expect("details");
    assert!(
        details.starts_with("project_id: {project_id} is a placeholder"),
        "{details}"
    );
    assert!(details.contains("without a project id"), "{details}");
    let res = app.export(TOKEN, "p1", "{instance_id}", body).await;
    let err = assert_roma_error(res, 403, "ROMA.13000").await;
    assert!(
        err["error_details"]
            .as_str()
            .is_some_and(|d| d.starts_with("instance_id: {instance_id}"))
    );
    let res = app.job(TOKEN, "p1", "i1", "{job_id}").await;
    assert_roma_error(res, 403, "ROMA.13000").await;
}
