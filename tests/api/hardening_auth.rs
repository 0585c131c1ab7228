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
