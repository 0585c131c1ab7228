//! Authentication as Huawei Cloud does it: IAM tokens, AK/SK signatures, one set of users.

use roma_emulator::auth::signature::sha256_hex;
use roma_emulator::config::{AuthMode, Config, ProjectConfig, Secret, UserConfig};
use serde_json::{Value, json};

use crate::helpers::{TOKEN, TestApp, assert_job_created, assert_roma_error, sdk_date, sign, spawn_app_with};

const AK: &str = "HPUAEXAMPLEAK1234567";
const SK: &str = "ExampleSecretKey0123456789abcdefghijklmnop";
const BODY: &str = r#"{"apps": [{"id": "app-1"}], "tasks": [{"id": "task-1"}]}"#;

fn alice() -> UserConfig {
    UserConfig {
        name: "alice".into(),
        token: Some(Secret::new("alice-static-token")),
        password: Some(Secret::new("alice-password")),
        domain: Some("acme".into()),
        access_key: Some(AK.into()),
        secret_key: Some(Secret::new(SK)),
        projects: None,
    }
}

fn with_alice(c: &mut Config) {
    c.auth.users = vec![alice()];
    // IAM names a region's default project after the region.
    c.auth.projects = vec![ProjectConfig {
        id: "p1".into(),
        name: "cn-north-4".into(),
    }];
}

fn password_body(user: &str, password: &str) -> Value {
    json!({"auth": {"identity": {"methods": ["password"],
        "password": {"user": {"name": user, "password": password, "domain": {"name": "acme"}}}},
        "scope": {"project": {"name": "cn-north-4"}}}})
}

async fn get_token(app: &TestApp, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url("/v3/auth/tokens"))
        .header("Content-Type", "application/json;charset=utf8")
        .json(body)
        .send()
        .await
        .expect("request")
}

/// ExportAsset signed with AK/SK; `tamper` edits the request after signing.
async fn signed_export(
    app: &TestApp,
    ak: &str,
    sk: &str,
    date: &str,
    tamper: Option<&str>,
) -> reqwest::Response {
    let host = app.server.local_addr().to_string();
    let path = "/v2/p1/instances/i1/assets/export";
    let headers = [
        ("content-type", "application/json;charset=utf-8"),
        ("host", host.as_str()),
        ("x-project-id", "p1"),
        ("x-sdk-date", date),
    ];
    let authorization = sign(ak, sk, "POST", path, "", &headers, &sha256_hex(BODY.as_bytes()));
    let mut req = app
        .client
        .post(app.url(path))
        .header("Content-Type", "application/json;charset=utf-8")
        .header("X-Project-Id", "p1")
        .header("X-Sdk-Date", date)
        .header("Authorization", authorization);
    req = match tamper {
        Some("body") => req.body(BODY.replace("app-1", "app-2")),
        Some("drop-header") => {
            // Rebuild without X-Project-Id, which was signed.
            let authorization = sign(ak, sk, "POST", path, "", &headers, &sha256_hex(BODY.as_bytes()));
            app.client
                .post(app.url(path))
                .header("Content-Type", "application/json;charset=utf-8")
                .header("X-Sdk-Date", date)
                .header("Authorization", authorization)
                .body(BODY)
        }
        _ => req.body(BODY),
    };
    req.send().await.expect("request")
}

#[tokio::test]
async fn a_password_gets_a_201_token_that_authenticates_as_the_user() {
    let app = spawn_app_with(with_alice).await;
    let res = get_token(&app, &password_body("alice", "alice-password")).await;
    assert_eq!(res.status(), 201);
    let token = res.headers()["x-subject-token"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(token.starts_with("MII"), "{token}");
    let body: Value = res.json().await.expect("JSON");
    let t = &body["token"];
    assert_eq!(t["methods"], json!(["password"]));
    assert_eq!(t["user"]["name"], "alice");
    assert_eq!(t["user"]["domain"]["name"], "acme");
    assert_eq!(t["project"]["name"], "cn-north-4");
    assert_eq!(t["project"]["id"], "p1", "the configured project of that name");
    assert!(t.get("domain").is_none(), "project scope only");
    for field in ["expires_at", "issued_at"] {
        let v = t[field].as_str().expect(field);
        assert!(
            v.ends_with('Z') && v.contains('.'),
            "{field} with microseconds: {v}"
        );
    }
    let issued = roma_emulator::clock::Timestamp::parse_rfc3339(t["issued_at"].as_str().unwrap_or_default());
    let expires =
        roma_emulator::clock::Timestamp::parse_rfc3339(t["expires_at"].as_str().unwrap_or_default());
    assert_eq!(
        expires.zip(issued).map(|(e, i)| e.since(i).as_secs()),
        Some(86_400),
        "default 24 h"
    );

    assert_job_created(app.export_one(&token).await).await;
    // The static token and the AK/SK of the same user are the same user (D9 across all three).
    assert_roma_error(app.export_one("alice-static-token").await, 403, "ROMA.10012").await;
    assert_roma_error(
        signed_export(&app, AK, SK, &sdk_date(0), None).await,
        403,
        "ROMA.10012",
    )
    .await;
}

#[tokio::test]
async fn scopes_and_nocatalog_shape_the_token_body() {
    let app = spawn_app_with(with_alice).await;
    let mut body = password_body("alice", "alice-password");
    body["auth"]["scope"] = json!({"domain": {"name": "acme"}});
    let res = app
        .client
        .post(app.url("/v3/auth/tokens?nocatalog=true"))
        .header("Content-Type", "application/json")
        .json(&body)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 201);
    let t: Value = res.json().await.expect("JSON");
    assert_eq!(t["token"]["domain"]["name"], "acme");
    assert!(
        t["token"].get("project").is_none() && t["token"].get("catalog").is_none(),
        "{t}"
    );
}

#[tokio::test]
async fn a_wrong_password_user_or_domain_gets_no_token() {
    let app = spawn_app_with(with_alice).await;
    let mut wrong_domain = password_body("alice", "alice-password");
    wrong_domain["auth"]["identity"]["password"]["user"]["domain"]["name"] = json!("other");
    for body in [
        password_body("alice", "guess"),
        password_body("mallory", "alice-password"),
        wrong_domain,
    ] {
        let res = get_token(&app, &body).await;
        assert!(res.headers().get("x-subject-token").is_none());
        assert_eq!(res.status(), 401);
        assert!(res.headers().contains_key("x-request-id"));
        let err: Value = res.json().await.expect("JSON");
        // Keystone's body, as IAM documents it (D14).
        assert_eq!(
            err,
            json!({"error": {"code": 401, "message": "The username or password is wrong.", "title": "Unauthorized"}})
        );
    }
    let malformed = get_token(&app, &json!({"auth": {"identity": {"methods": ["password"]}}})).await;
    assert_eq!(malformed.status(), 400);
    let body: Value = malformed.json().await.expect("JSON");
    assert_eq!(
        body,
        json!({"error_code": "IAM.0007", "error_msg": "Request parameter auth.identity.password.user.name is invalid."})
    );
    let not_json = app
        .client
        .post(app.url("/v3/auth/tokens"))
        .body("{")
        .send()
        .await
        .expect("request");
    assert_eq!(not_json.status(), 400);
    let body: Value = not_json.json().await.expect("JSON");
    assert_eq!(
        body,
        json!({"error_code": "IAM.0011", "error_msg": "Request body is invalid."})
    );
}

#[tokio::test]
async fn an_expired_token_gets_apig_0307() {
    let app = spawn_app_with(|c| {
        with_alice(c);
        c.auth.token_ttl_s = 0;
    })
    .await;
    let res = get_token(&app, &password_body("alice", "alice-password")).await;
    let token = res.headers()["x-subject-token"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let err = assert_roma_error(app.export_one(&token).await, 401, "APIG.0307").await;
    assert_eq!(err["error_msg"], "The token must be updated.");
    // Change the seal's last hex digit (to one it is not), so the token no longer verifies.
    let flipped = if token.ends_with('0') { '1' } else { '0' };
    let forged = format!("{}{flipped}", &token[..token.len() - 1]);
    assert_ne!(forged, token);
    assert_roma_error(app.export_one(&forged).await, 403, "ROMA.1002").await;
}

#[tokio::test]
async fn a_good_signature_is_the_user_and_every_bad_one_is_apig_0301() {
    let app = spawn_app_with(with_alice).await;
    let now = sdk_date(0);
    let ok = signed_export(&app, AK, SK, &now, None).await;
    assert_job_created(ok).await;

    // Strict: in open mode an undeclared key is checked against itself instead (D19).
    let other = spawn_app_with(|c| {
        with_alice(c);
        c.auth.mode = AuthMode::Strict;
    })
    .await;
    let cases = vec![
        (
            "unknown AK",
            signed_export(&other, "AKUNKNOWN", SK, &now, None).await,
            "ak not exist",
        ),
        (
            "wrong SK",
            signed_export(&other, AK, "wrong-secret", &now, None).await,
            "verify aksk signature fail",
        ),
        (
            "tampered body",
            signed_export(&other, AK, SK, &now, Some("body")).await,
            "verify aksk signature fail",
        ),
        (
            "signed header missing",
            signed_export(&other, AK, SK, &now, Some("drop-header")).await,
            "x-project-id",
        ),
        (
            "date 16 min late",
            signed_export(&other, AK, SK, &sdk_date(-16 * 60), None).await,
            "15 minutes",
        ),
        (
            "date 16 min early",
            signed_export(&other, AK, SK, &sdk_date(16 * 60), None).await,
            "15 minutes",
        ),
    ];
    // The gateway's body (D13): error_msg says it; which check failed goes to the log line.
    for (what, res, detail) in cases {
        let err = assert_roma_error(res, 401, "APIG.0301").await;
        let msg = err["error_msg"].as_str().unwrap_or_default();
        let expected = if detail == "ak not exist" {
            "Incorrect IAM authentication information: Get secretKey failed,ak:AKUNKNOWN,err:ak not exist"
                .to_owned()
        } else {
            "Incorrect IAM authentication information: verify aksk signature fail".to_owned()
        };
        assert_eq!(msg, expected, "{what}");
        assert!(!err.to_string().contains(SK), "{what}: no secret in the answer");
    }
    let within = signed_export(&other, AK, SK, &sdk_date(-14 * 60), None).await;
    assert_job_created(within).await;
}

#[tokio::test]
async fn catalog_statuses_make_auth_failures_401() {
    let app = spawn_app_with(|c| {
        with_alice(c);
        c.api.error_statuses = roma_emulator::config::ErrorStatuses::Catalog;
    })
    .await;
    assert_roma_error(
        signed_export(&app, AK, "bad", &sdk_date(0), None).await,
        401,
        "APIG.0301",
    )
    .await;
}

#[tokio::test]
async fn open_mode_still_verifies_signatures() {
    let app = spawn_app_with(|c| {
        with_alice(c);
        c.auth.mode = AuthMode::Open;
    })
    .await;
    assert_job_created(app.export_one(TOKEN).await).await;
    assert_roma_error(
        signed_export(&app, "ANY-AK", "ANY-SK", &sdk_date(0), None).await,
        401,
        "APIG.0301",
    )
    .await;
}

#[tokio::test]
async fn a_signed_multipart_import_uses_the_unsigned_payload() {
    let app = spawn_app_with(|c| {
        with_alice(c);
        c.jobs.duration_ms = 0;
    })
    .await;
    let pkg = app.export_and_download(TOKEN, "i1", BODY).await;
    let boundary = "af9daa0b08bb4f1890710c161ac3bd19";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"ImportAssetRequestBody\"; filename=\"asset.zip\"\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&pkg);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let host = app.server.local_addr().to_string();
    let content_type = format!("multipart/form-data; boundary={boundary}");
    let date = sdk_date(0);
    let path = "/v2/p1/instances/i2/assets/import";
    let headers = [
        ("content-type", content_type.as_str()),
        ("host", host.as_str()),
        ("x-project-id", "p1"),
        ("x-sdk-content-sha256", "UNSIGNED-PAYLOAD"),
        ("x-sdk-date", date.as_str()),
    ];
    let authorization = sign(AK, SK, "POST", path, "type=Merge", &headers, "UNSIGNED-PAYLOAD");
    let res = app
        .client
        .post(app.url(&format!("{path}?type=Merge")))
        .header("Content-Type", content_type.as_str())
        .header("X-Project-Id", "p1")
        .header("X-Sdk-Content-Sha256", "UNSIGNED-PAYLOAD")
        .header("X-Sdk-Date", date.as_str())
        .header("Authorization", authorization)
        .body(body)
        .send()
        .await
        .expect("request");
    let job = assert_job_created(res).await;
    assert_eq!(
        app.job_json("alice-static-token", "p1", "i2", &job).await["status"],
        "Success"
    );
}

#[tokio::test]
async fn a_user_limited_to_projects_gets_roma_1006_elsewhere() {
    let app = spawn_app_with(|c| {
        let mut user = alice();
        user.projects = Some(vec!["p1".into()]);
        c.auth.users = vec![user];
    })
    .await;
    assert_job_created(app.export("alice-static-token", "p1", "i1", BODY).await).await;
    let err = assert_roma_error(
        app.export("alice-static-token", "p2", "i1", BODY).await,
        403,
        "ROMA.1006",
    )
    .await;
    assert!(err["error_details"].as_str().unwrap_or_default().contains("p2"));
    assert_roma_error(
        app.job("alice-static-token", "p2", "i1", "x").await,
        403,
        "ROMA.1006",
    )
    .await;
}

#[tokio::test]
async fn with_ak_lockout_six_bad_signatures_lock_the_key_for_five_minutes() {
    let app = spawn_app_with(|c| {
        with_alice(c);
        c.auth.ak_lockout = true;
        c.clock.mode = roma_emulator::config::ClockMode::Virtual;
    })
    .await;
    let locked = "Incorrect IAM authentication information: AK access failed to reach the limit,forbidden.";
    for _ in 0..5 {
        let err = assert_roma_error(
            signed_export(&app, AK, "wrong", &sdk_date(0), None).await,
            401,
            "APIG.0301",
        )
        .await;
        assert_ne!(err["error_msg"], locked, "five failures are only failures");
    }
    assert_roma_error(
        signed_export(&app, AK, "wrong", &sdk_date(0), None).await,
        401,
        "APIG.0301",
    )
    .await;
    let err = assert_roma_error(
        signed_export(&app, AK, SK, &sdk_date(0), None).await,
        401,
        "APIG.0301",
    )
    .await;
    assert_eq!(
        err["error_msg"], locked,
        "the sixth locked the key: a good signature is refused"
    );
    let (status, _) = app
        .control_post("/_emulator/clock", json!({"advance_ms": 299_000}))
        .await;
    assert_eq!(status, 200);
    let err = assert_roma_error(
        signed_export(&app, AK, SK, &sdk_date(0), None).await,
        401,
        "APIG.0301",
    )
    .await;
    assert_eq!(err["error_msg"], locked, "still locked after 4:59");
    app.control_post("/_emulator/clock", json!({"advance_ms": 1_000}))
        .await;
    assert_job_created(signed_export(&app, AK, SK, &sdk_date(0), None).await).await;
    // Locked again, and lifted by a reset.
    for _ in 0..6 {
        signed_export(&app, AK, "wrong", &sdk_date(0), None).await;
    }
    let res = app
        .control(reqwest::Method::POST, "/_emulator/reset")
        .send()
        .await
        .expect("reset");
    assert_eq!(res.status(), 200);
    assert_job_created(signed_export(&app, AK, SK, &sdk_date(0), None).await).await;
}

#[tokio::test]
async fn without_ak_lockout_bad_signatures_never_lock_a_key() {
    let app = spawn_app_with(with_alice).await;
    for _ in 0..10 {
        signed_export(&app, AK, "wrong", &sdk_date(0), None).await;
    }
    assert_job_created(signed_export(&app, AK, SK, &sdk_date(0), None).await).await;
}

#[tokio::test]
async fn with_a_signature_and_a_token_the_signature_is_what_counts() {
    let app = spawn_app_with(with_alice).await;
    let date = sdk_date(0);
    let host = app.server.local_addr().to_string();
    let path = "/v2/p1/instances/i1/assets/export";
    let headers = [
        ("content-type", "application/json"),
        ("host", host.as_str()),
        ("x-sdk-date", date.as_str()),
    ];
    let send = |sk: &'static str, token: &'static str| {
        let authorization = sign(AK, sk, "POST", path, "", &headers, &sha256_hex(BODY.as_bytes()));
        app.client
            .post(app.url(path))
            .header("Content-Type", "application/json")
            .header("X-Sdk-Date", date.as_str())
            .header("X-Auth-Token", token)
            .header("Authorization", authorization)
            .body(BODY)
            .send()
    };
    // A good token does not rescue a bad signature...
    let res = send("wrong-secret", "alice-static-token").await.expect("request");
    assert_roma_error(res, 401, "APIG.0301").await;
    // ...and a bad token does not spoil a good one.
    assert_job_created(send(SK, "not-a-token").await.expect("request")).await;
}

/// Sends a signed export head declaring a body of `length` bytes and no body; returns what the
/// server answered within `wait` (empty if nothing).
async fn signed_head_without_body(app: &TestApp, ak: &str, date: &str, length: usize) -> String {
    let host = app.server.local_addr().to_string();
    let path = "/v2/p1/instances/i1/assets/export";
    let headers = [("host", host.as_str()), ("x-sdk-date", date)];
    let authorization = sign(ak, SK, "POST", path, "", &headers, &sha256_hex(b"x"));
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nX-Sdk-Date: {date}\r\nAuthorization: {authorization}\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    );
    let (answer, _) = crate::helpers::raw_exchange(
        app.server.local_addr(),
        head.as_bytes(),
        std::time::Duration::from_secs(3),
    )
    .await;
    answer
}

#[tokio::test]
async fn an_unknown_or_locked_key_or_a_stale_date_is_refused_before_the_body_is_read() {
    let app = spawn_app_with(|c| {
        with_alice(c);
        c.auth.mode = AuthMode::Strict;
        c.auth.ak_lockout = true;
    })
    .await;
    // The body never comes: only an answer given before reading it arrives in time.
    let unknown = signed_head_without_body(&app, "NO-SUCH-AK", &sdk_date(0), 60_000).await;
    assert!(
        unknown.starts_with("HTTP/1.1 "),
        "no answer before the body: {unknown:?}"
    );
    assert!(unknown.contains("ak not exist"), "{unknown}");
    let stale = signed_head_without_body(&app, AK, &sdk_date(-3600), 60_000).await;
    assert!(stale.contains("APIG.0301"), "{stale:?}");
    for _ in 0..6 {
        signed_export(&app, AK, "wrong", &sdk_date(0), None).await;
    }
    let locked = signed_head_without_body(&app, AK, &sdk_date(0), 60_000).await;
    assert!(locked.contains("APIG.0301"), "{locked:?}");
}

#[tokio::test]
async fn one_locked_access_key_is_listed_and_lifted_without_touching_other_tenants() {
    let app = spawn_app_with(|c| {
        with_alice(c);
        c.auth.ak_lockout = true;
        c.jobs.progression = roma_emulator::config::Progression::Manual;
    })
    .await;
    // Another tenant's job, which lifting the lock must leave alone.
    let other = assert_job_created(app.export_one(TOKEN).await).await;
    for _ in 0..6 {
        signed_export(&app, AK, "wrong", &sdk_date(0), None).await;
    }
    let listed = app.control_json("/_emulator/lockouts").await;
    assert_eq!(listed["lockouts"][0]["access_key"], AK, "{listed}");
    assert!(listed["lockouts"][0]["locked_until"].is_string(), "{listed}");
    let lift = |ak: &str| {
        app.control(reqwest::Method::DELETE, &format!("/_emulator/lockouts/{ak}"))
            .send()
    };
    assert_eq!(lift(AK).await.expect("lift").status(), 204);
    assert_eq!(
        app.control_json("/_emulator/lockouts").await["lockouts"],
        json!([])
    );
    assert_job_created(signed_export(&app, AK, SK, &sdk_date(0), None).await).await;
    assert_roma_error(lift(AK).await.expect("lift"), 404, "ROMA.00110006").await;
    assert_eq!(app.job_json(TOKEN, "p1", "i1", &other).await["status"], "Running");
}

#[tokio::test]
async fn the_token_body_is_iams_a_domain_is_required_and_password_expiry_is_null() {
    let app = spawn_app_with(with_alice).await;
    let res = get_token(&app, &password_body("alice", "alice-password")).await;
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.expect("JSON");
    assert!(body["token"]["user"]["password_expires_at"].is_null(), "{body}");
    let mut no_domain = password_body("alice", "alice-password");
    let user = &mut no_domain["auth"]["identity"]["password"]["user"];
    user.as_object_mut().expect("user").remove("domain");
    let res = get_token(&app, &no_domain).await;
    assert_eq!(res.status(), 400);
    let err: Value = res.json().await.expect("JSON");
    assert_eq!(err["error_code"], "IAM.0007");
    assert_eq!(
        err["error_msg"],
        "Request parameter auth.identity.password.user.domain is invalid."
    );
}

#[tokio::test]
async fn a_token_serves_only_its_scope_checked_before_any_rule_of_the_operation() {
    let app = spawn_app_with(|c| {
        with_alice(c);
        c.jobs.progression = roma_emulator::config::Progression::Manual;
    })
    .await;
    let token = |scope: Value| {
        let mut body = password_body("alice", "alice-password");
        body["auth"]["scope"] = scope;
        let app = &app;
        async move {
            let res = get_token(app, &body).await;
            assert_eq!(res.status(), 201);
            res.headers()["x-subject-token"]
                .to_str()
                .expect("ascii")
                .to_owned()
        }
    };
    let p1 = token(json!({"project": {"id": "p1"}})).await;
    let domain = token(json!({"domain": {"name": "acme"}})).await;
    let unscoped = {
        let mut body = password_body("alice", "alice-password");
        body["auth"].as_object_mut().expect("auth").remove("scope");
        let res = get_token(&app, &body).await;
        res.headers()["x-subject-token"]
            .to_str()
            .expect("ascii")
            .to_owned()
    };
    // Alice has a Running export: a token out of its scope is refused for its scope, not for that.
    assert_job_created(app.export_one(&p1).await).await;
    let other_project = app.export(&p1, "p2", "i1", r#"{"apps": [{"id": "a"}]}"#).await;
    assert_roma_error(other_project, 403, "ROMA.1006").await;
    for global in [&domain, &unscoped] {
        assert_roma_error(app.export_one(global).await, 403, "ROMA.1006").await;
        assert_roma_error(app.job(global, "p1", "i1", "x").await, 403, "ROMA.1006").await;
    }
    let journal = app.control_json("/_emulator/requests?limit=1").await;
    assert_eq!(journal["requests"][0]["error_code"], "ROMA.1006", "{journal}");
    // Static tokens have no scope.
    assert_roma_error(app.export_one("alice-static-token").await, 403, "ROMA.10012").await;
}

#[tokio::test]
async fn the_token_catalog_points_at_the_emulator() {
    let app = spawn_app_with(with_alice).await;
    let res = get_token(&app, &password_body("alice", "alice-password")).await;
    let body: Value = res.json().await.expect("JSON");
    let catalog = body["token"]["catalog"].as_array().expect("catalog");
    let url = |kind: &str| {
        catalog
            .iter()
            .find(|s| s["type"] == kind)
            .and_then(|s| s["endpoints"][0]["url"].as_str())
            .map(str::to_owned)
    };
    let base = app.server.base_url();
    assert_eq!(url("roma"), Some(base.clone()), "{body}");
    assert_eq!(url("identity"), Some(format!("{base}/v3")), "{body}");
    let public = spawn_app_with(|c| {
        with_alice(c);
        c.server.public_url = Some("https://roma.staging.example".into());
    })
    .await;
    let res = get_token(&public, &password_body("alice", "alice-password")).await;
    let body: Value = res.json().await.expect("JSON");
    assert_eq!(
        body["token"]["catalog"][0]["endpoints"][0]["url"],
        "https://roma.staging.example"
    );
    let res = public
        .client
        .post(public.url("/v3/auth/tokens?nocatalog=true"))
        .json(&password_body("alice", "alice-password"))
        .send()
        .await
        .expect("token");
    let body: Value = res.json().await.expect("JSON");
    assert!(body["token"].get("catalog").is_none(), "{body}");
}

mod attacks {
    //! Hardening of authentication: issued tokens cannot be forged from anything a
    //! client sees, and a signature covers the body that is actually sent.

    use roma_emulator::auth::signature::sha256_hex;
    use roma_emulator::config::{AuthMode, Config, Secret, UserConfig};

    use crate::helpers::{TestApp, assert_job_created, assert_roma_error, sdk_date, sign, spawn_app_with};

    const AK: &str = "HPUAEXAMPLEAK1234567";
    const SK: &str = "ExampleSecretKey0123456789abcdefghijklmnop";
    const BODY: &str = r#"{"apps": [{"id": "app-1"}]}"#;
    const OTHER_BODY: &str = r#"{"apps": [{"id": "app-2"}]}"#;

    fn strict_alice(c: &mut Config) {
        c.auth.mode = AuthMode::Strict;
        c.auth.users = vec![UserConfig {
            name: "alice".into(),
            password: Some(Secret::new("alice-password")),
            access_key: Some(AK.into()),
            secret_key: Some(Secret::new(SK)),
            ..Default::default()
        }];
    }

    async fn issue(app: &TestApp) -> String {
        crate::helpers::issue_token(
            &app.client,
            &app.server.base_url(),
            "alice",
            "alice-password",
            "p1",
        )
        .await
    }

    #[tokio::test]
    async fn a_seed_does_not_give_the_key_that_seals_tokens() {
        // Two stubs with the same seed hand out the same ids, but a token of one is worthless at the
        // other: the sealing key is not derived from the seed (it was, and ids revealed the seed).
        let seeded = |c: &mut Config| {
            strict_alice(c);
            c.emulator.seed = Some(7);
        };
        let a = spawn_app_with(seeded).await;
        let b = spawn_app_with(seeded).await;
        let token = issue(&a).await;
        assert_job_created(a.export(&token, "p1", "i1", BODY).await).await;
        assert_roma_error(b.export(&token, "p1", "i1", BODY).await, 403, "ROMA.1002").await;
    }

    #[tokio::test]
    async fn a_configured_token_key_makes_tokens_valid_across_instances() {
        let keyed = |c: &mut Config| {
            strict_alice(c);
            c.auth.token_key = Some(Secret::new("a-token-key-of-at-least-32-characters!"));
        };
        let a = spawn_app_with(keyed).await;
        let b = spawn_app_with(keyed).await;
        let token = issue(&a).await;
        assert_job_created(b.export(&token, "p1", "i1", BODY).await).await;
    }

    #[tokio::test]
    async fn request_ids_do_not_repeat_across_unseeded_stubs() {
        let a = spawn_app_with(|_| {}).await;
        let b = spawn_app_with(|_| {}).await;
        let id = |app: &TestApp| {
            let url = app.url("/_emulator/health");
            let client = app.client.clone();
            async move {
                let res = client.get(url).send().await.expect("health");
                res.headers()["x-request-id"].to_str().expect("id").to_owned()
            }
        };
        assert_ne!(id(&a).await, id(&b).await);
    }

    /// An export signed over `signed_body`, with `extra` headers (name, value, signed?), sending `sent_body`.
    async fn signed_export(
        app: &TestApp,
        signed_hash: &str,
        extra: &[(&str, &str, bool)],
        sent_body: &str,
    ) -> reqwest::Response {
        let host = app.server.local_addr().to_string();
        let path = "/v2/p1/instances/i1/assets/export";
        let date = sdk_date(0);
        let mut headers = vec![
            ("content-type", "application/json"),
            ("host", host.as_str()),
            ("x-sdk-date", date.as_str()),
        ];
        headers.extend(
            extra
                .iter()
                .filter(|(_, _, signed)| *signed)
                .map(|(n, v, _)| (*n, *v)),
        );
        headers.sort();
        let authorization = sign(AK, SK, "POST", path, "", &headers, signed_hash);
        let mut req = app
            .client
            .post(app.url(path))
            .header("Content-Type", "application/json")
            .header("X-Sdk-Date", date.as_str())
            .header("Authorization", authorization);
        for (name, value, _) in extra {
            req = req.header(*name, *value);
        }
        req.body(sent_body.to_owned()).send().await.expect("request")
    }

    #[tokio::test]
    async fn an_unsigned_content_hash_header_cannot_swap_the_body() {
        let app = spawn_app_with(strict_alice).await;
        let hash = sha256_hex(BODY.as_bytes());
        // The captured request replays with another body and the original hash in a header.
        let replay = signed_export(&app, &hash, &[("x-sdk-content-sha256", &hash, false)], OTHER_BODY).await;
        assert_roma_error(replay, 401, "APIG.0301").await;
        // Even signed, a hash header is not trusted: only UNSIGNED-PAYLOAD is a documented value.
        let signed_hash_header =
            signed_export(&app, &hash, &[("x-sdk-content-sha256", &hash, true)], OTHER_BODY).await;
        assert_roma_error(signed_hash_header, 401, "APIG.0301").await;
        // UNSIGNED-PAYLOAD counts only when the header itself is signed.
        let unsigned = signed_export(
            &app,
            "UNSIGNED-PAYLOAD",
            &[("x-sdk-content-sha256", "UNSIGNED-PAYLOAD", false)],
            OTHER_BODY,
        )
        .await;
        assert_roma_error(unsigned, 401, "APIG.0301").await;
        // The honest request still passes.
        assert_job_created(signed_export(&app, &hash, &[], BODY).await).await;
    }
}

/// D19: in open mode an undeclared access key signs with itself as the secret key and names its
/// own user, so two keys are two users (one Running job each); strict mode still refuses it.
#[tokio::test]
async fn in_open_mode_an_undeclared_key_signed_with_itself_is_its_own_user() {
    let app = spawn_app_with(|c| {
        with_alice(c);
        c.auth.mode = AuthMode::Open;
        c.jobs.duration_ms = 60_000;
    })
    .await;
    let first =
        assert_job_created(signed_export(&app, "WORKER-1", "WORKER-1", &sdk_date(0), None).await).await;
    let second = signed_export(&app, "WORKER-2", "WORKER-2", &sdk_date(0), None).await;
    assert_job_created(second).await;
    let again = signed_export(&app, "WORKER-1", "WORKER-1", &sdk_date(0), None).await;
    assert_eq!(again.status(), 403, "WORKER-1 is one user with one Running job");
    let wrong = signed_export(&app, "WORKER-3", "not-the-key", &sdk_date(0), None).await;
    assert_roma_error(wrong, 401, "APIG.0301").await;
    let jobs = app.control_json("/_emulator/jobs").await;
    let owner = jobs["jobs"]
        .as_array()
        .and_then(|all| all.iter().find(|j| j["id"] == first.as_str()))
        .map(|j| j["user"].as_str().unwrap_or_default().to_owned())
        .expect("the first job is listed");
    assert!(
        owner.starts_with("token-") && !owner.contains("WORKER"),
        "keyed name: {owner}"
    );

    let strict = spawn_app_with(|c| {
        with_alice(c);
        c.auth.mode = AuthMode::Strict;
    })
    .await;
    let refused = signed_export(&strict, "WORKER-1", "WORKER-1", &sdk_date(0), None).await;
    let body = assert_roma_error(refused, 401, "APIG.0301").await;
    assert!(
        body["error_msg"]
            .as_str()
            .is_some_and(|m| m.contains("ak not exist")),
        "{body}"
    );
}

/// D19: users added at run time through the control plane sign like configured ones, are
/// listed without secrets, and stop working once removed.
#[tokio::test]
async fn users_added_at_run_time_sign_are_listed_without_secrets_and_can_be_removed() {
    let app = spawn_app_with(|c| {
        with_alice(c);
        c.auth.mode = AuthMode::Strict;
    })
    .await;
    let user = json!({"name": "worker-7", "access_key": "AK-W7", "secret_key": "SK-W7", "projects": ["p1"]});
    let (status, body) = app.control_post("/_emulator/users", user.clone()).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["user"]["origin"], "runtime");
    let (status, body) = app.control_post("/_emulator/users", user).await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (409, Some("EMULATOR.0409")),
        "{body}"
    );
    let (status, body) = app
        .control_post("/_emulator/users", json!({"name": "half", "access_key": "AK-H"}))
        .await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (400, Some("ROMA.13000")),
        "{body}"
    );

    assert_job_created(signed_export(&app, "AK-W7", "SK-W7", &sdk_date(0), None).await).await;
    let listed = app.control_json("/_emulator/users").await;
    let text = listed.to_string();
    assert!(text.contains("worker-7") && text.contains("alice"), "{text}");
    assert!(
        !text.contains("SK-W7") && !text.contains("alice-password"),
        "no secret listed: {text}"
    );

    let res = app
        .control(reqwest::Method::DELETE, "/_emulator/users/worker-7")
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 204);
    let res = app
        .control(reqwest::Method::DELETE, "/_emulator/users/alice")
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 404, "a configured user is not removed");
    let refused = signed_export(&app, "AK-W7", "SK-W7", &sdk_date(0), None).await;
    assert_roma_error(refused, 401, "APIG.0301").await;
}
