//! IAM's queries (#29): the projects a caller sees and the validation of an issued token, in
//! Keystone's shapes (D27), and the gateway's answer to an undeclared access key (D19).

use roma_emulator::auth::signature::EMPTY_BODY_HASH;
use roma_emulator::config::{AuthMode, ClockMode, Config, ProjectConfig, Secret, UserConfig};
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_roma_error, issue_token, sdk_date, sign, spawn_app_with};

fn config(c: &mut Config) {
    c.auth.mode = AuthMode::Strict;
    c.clock.mode = ClockMode::Virtual;
    c.auth.users = vec![
        UserConfig {
            name: "alice".into(),
            token: Some(Secret::new("alice-static")),
            password: Some(Secret::new("alice-pw")),
            domain: Some("alice".into()),
            ..Default::default()
        },
        UserConfig {
            name: "bob".into(),
            token: Some(Secret::new("bob-static")),
            projects: Some(vec!["p2".into()]),
            ..Default::default()
        },
    ];
    c.auth.projects = vec![
        ProjectConfig {
            id: "p1".into(),
            name: "ae-ad-1".into(),
        },
        ProjectConfig {
            id: "p2".into(),
            name: "cn-north-4".into(),
        },
    ];
}

async fn get(app: &TestApp, path: &str, token: Option<&str>, subject: Option<&str>) -> reqwest::Response {
    let mut req = app.client.get(app.url(path));
    if let Some(t) = token {
        req = req.header("X-Auth-Token", t);
    }
    if let Some(s) = subject {
        req = req.header("X-Subject-Token", s);
    }
    req.send().await.expect("request")
}

async fn json_of(res: reqwest::Response, status: u16) -> Value {
    let got = res.status().as_u16();
    let body: Value = res.json().await.expect("JSON");
    assert_eq!(got, status, "{body}");
    body
}

fn ids(body: &Value) -> Vec<String> {
    body["projects"]
        .as_array()
        .expect("projects")
        .iter()
        .map(|p| p["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn projects_are_listed_in_keystones_shape_filtered_and_paged() {
    let app = spawn_app_with(config).await;
    let all = json_of(get(&app, "/v3/projects", Some("alice-static"), None).await, 200).await;
    assert_eq!(ids(&all), ["p1", "p2"], "{all}");
    let p = &all["projects"][0];
    assert_eq!(
        (
            p["name"].as_str(),
            p["enabled"].as_bool(),
            p["is_domain"].as_bool()
        ),
        (Some("ae-ad-1"), Some(true), Some(false))
    );
    assert!(
        p["links"]["self"]
            .as_str()
            .is_some_and(|l| l.ends_with("/v3/projects/p1")),
        "{p}"
    );
    assert!(
        all["links"]["self"]
            .as_str()
            .is_some_and(|l| l.ends_with("/v3/projects")),
        "{all}"
    );
    // The SDKs find a region's project id by its name.
    let by_name = json_of(
        get(&app, "/v3/projects?name=cn-north-4", Some("alice-static"), None).await,
        200,
    )
    .await;
    assert_eq!(ids(&by_name), ["p2"]);
    let page2 = json_of(
        get(&app, "/v3/projects?page=2&per_page=1", Some("alice-static"), None).await,
        200,
    )
    .await;
    assert_eq!(ids(&page2), ["p2"]);
    let domain = p["domain_id"].as_str().expect("domain id");
    let other = json_of(
        get(
            &app,
            "/v3/projects?domain_id=elsewhere",
            Some("alice-static"),
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(ids(&other), Vec::<String>::new());
    let mine = json_of(
        get(
            &app,
            &format!("/v3/projects?domain_id={domain}"),
            Some("alice-static"),
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(ids(&mine).len(), 2);
    for bad in ["per_page=0", "per_page=5001", "page=x", "enabled=perhaps"] {
        let res = get(&app, &format!("/v3/projects?{bad}"), Some("alice-static"), None).await;
        let body = json_of(res, 400).await;
        assert_eq!(body["error_code"], "IAM.0007", "{bad}: {body}");
    }
    // bob may use p2 only.
    let bobs = json_of(
        get(&app, "/v3/auth/projects", Some("bob-static"), None).await,
        200,
    )
    .await;
    assert_eq!(ids(&bobs), ["p2"]);
    // A project-scoped token: its one project.
    let token = issue_token(&app.client, &app.server.base_url(), "alice", "alice-pw", "p1").await;
    let scoped = json_of(get(&app, "/v3/auth/projects", Some(&token), None).await, 200).await;
    assert_eq!(ids(&scoped), ["p1"]);
}

#[tokio::test]
async fn iam_queries_without_a_good_token_get_keystones_401() {
    let app = spawn_app_with(config).await;
    for token in [None, Some("forged"), Some("MIIEMUnot.real")] {
        let res = get(&app, "/v3/projects", token, None).await;
        let body = json_of(res, 401).await;
        assert_eq!(body["error"]["title"], "Unauthorized", "{token:?}: {body}");
        assert_eq!(
            body["error"]["message"],
            "The request you have made requires authentication."
        );
    }
}

#[tokio::test]
async fn an_issued_token_validates_and_a_forged_expired_or_orphaned_one_does_not() {
    let app = spawn_app_with(config).await;
    let base = app.server.base_url();
    let token = issue_token(&app.client, &base, "alice", "alice-pw", "p1").await;
    let res = get(
        &app,
        "/v3/auth/tokens?nocatalog=1",
        Some("alice-static"),
        Some(&token),
    )
    .await;
    assert_eq!(
        res.headers()["x-subject-token"].to_str().ok(),
        Some(token.as_str())
    );
    let body = json_of(res, 200).await;
    assert_eq!(body["token"]["user"]["name"], "alice");
    assert_eq!(body["token"]["project"]["id"], "p1");
    assert_eq!(body["token"]["project"]["name"], "ae-ad-1");
    assert!(body["token"]["catalog"].is_null(), "nocatalog: {body}");
    let with_catalog = json_of(
        get(&app, "/v3/auth/tokens", Some(&token), Some(&token)).await,
        200,
    )
    .await;
    assert!(with_catalog["token"]["catalog"].is_array());

    for subject in [None, Some("alice-static"), Some("MIIEMUforged.sig")] {
        let res = get(&app, "/v3/auth/tokens", Some("alice-static"), subject).await;
        let body = json_of(res, 404).await;
        assert_eq!(body["error"]["title"], "Not Found", "{subject:?}: {body}");
    }
    // Expired on the emulator's clock (24 h by default).
    app.control_post("/_emulator/clock", json!({"advance_ms": 86_400_000u64}))
        .await;
    let expired = get(&app, "/v3/auth/tokens", Some("alice-static"), Some(&token)).await;
    assert_eq!(json_of(expired, 404).await["error"]["code"], 404);
}

/// D19: open mode takes an undeclared key signed with itself; signed with anything else it hears
/// the gateway's answer to a key it does not know.
#[tokio::test]
async fn an_undeclared_key_not_signed_with_itself_is_an_unknown_key() {
    let app = spawn_app_with(|_| {}).await;
    let date = sdk_date(0);
    let host = app.server.base_url().trim_start_matches("http://").to_owned();
    let headers = [("host", host.as_str()), ("x-sdk-date", date.as_str())];
    let path = "/v2/p1/instances/i1/apps";
    let signed_with = |sk: &'static str| {
        let authorization = sign("UNDECLARED", sk, "GET", path, "", &headers, EMPTY_BODY_HASH);
        app.client
            .get(app.url(path))
            .header("X-Sdk-Date", &date)
            .header("Authorization", authorization)
            .send()
    };
    let res = signed_with("another-secret").await.expect("request");
    let body = assert_roma_error(res, 401, "APIG.0301").await;
    assert_eq!(
        body["error_msg"],
        "Incorrect IAM authentication information: Get secretKey failed,ak:UNDECLARED,err:ak not exist"
    );
    let res = signed_with("UNDECLARED").await.expect("request");
    assert_eq!(res.status(), 200);
}
