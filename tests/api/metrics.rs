//! `GET /_emulator/metrics`, scraped and read back with a Prometheus text parser.

use serde_json::json;

use crate::helpers::{TOKEN, assert_job_created, spawn_app};

async fn scrape(app: &crate::helpers::TestApp) -> prometheus_parse::Scrape {
    let res = app
        .client
        .get(app.url("/_emulator/metrics"))
        .send()
        .await
        .expect("scrape");
    assert_eq!(res.status(), 200);
    let content_type = res.headers()["content-type"].to_str().expect("type").to_owned();
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    let text = res.text().await.expect("text");
    let lines = text.lines().map(|l| Ok(l.to_owned()));
    prometheus_parse::Scrape::parse(lines).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn value(scrape: &prometheus_parse::Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    let sample = scrape
        .samples
        .iter()
        .find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .unwrap_or_else(|| {
            panic!(
                "no {name} {labels:?} in {:?}",
                scrape.samples.iter().map(|s| &s.metric).collect::<Vec<_>>()
            )
        });
    match sample.value {
        prometheus_parse::Value::Counter(v)
        | prometheus_parse::Value::Gauge(v)
        | prometheus_parse::Value::Untyped(v) => v,
        prometheus_parse::Value::Histogram(ref buckets) => buckets.last().map_or(0.0, |b| b.count),
        ref other => panic!("{name}: {other:?}"),
    }
}

#[tokio::test]
async fn metrics_count_requests_latency_jobs_faults_journal_archives_and_snapshot_age() {
    let app = spawn_app().await;
    assert_job_created(app.export_one(TOKEN).await).await;
    assert_eq!(
        app.job(TOKEN, "p1", "i1", "0123").await.status(),
        404,
        "no such job"
    );
    let (status, _) = app
        .control_post(
            "/_emulator/faults",
            json!({"operation": "DeleteAsset", "status": 503, "times": 1}),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(
        app.delete(TOKEN, "p1", "i1", r#"{"apps": [{"id": "a"}]}"#)
            .await
            .status(),
        503
    );
    let scrape = scrape(&app).await;
    let requests = "roma_emulator_requests_total";
    assert_eq!(
        value(
            &scrape,
            requests,
            &[("operation", "ExportAsset"), ("status", "200")]
        ),
        1.0
    );
    assert_eq!(
        value(
            &scrape,
            requests,
            &[("operation", "CheckAssetJobStatus"), ("status", "404")]
        ),
        1.0
    );
    assert_eq!(
        value(
            &scrape,
            requests,
            &[("operation", "DeleteAsset"), ("status", "503")]
        ),
        1.0
    );
    assert_eq!(
        value(
            &scrape,
            "roma_emulator_request_duration_seconds_count",
            &[("operation", "ExportAsset")]
        ),
        1.0
    );
    assert_eq!(
        value(
            &scrape,
            "roma_emulator_faults_fired_total",
            &[("operation", "DeleteAsset")]
        ),
        1.0
    );
    assert_eq!(
        value(
            &scrape,
            "roma_emulator_jobs",
            &[("type", "exportAsset"), ("status", "Running")]
        ),
        1.0
    );
    assert_eq!(
        value(
            &scrape,
            "roma_emulator_jobs",
            &[("type", "importAsset"), ("status", "Running")]
        ),
        0.0
    );
    assert_eq!(value(&scrape, "roma_emulator_journal_entries", &[]), 3.0);
    assert_eq!(value(&scrape, "roma_emulator_archives", &[]), 0.0);
    assert_eq!(value(&scrape, "roma_emulator_archive_bytes", &[]), 0.0);
    assert_eq!(value(&scrape, "roma_emulator_snapshot_age_seconds", &[]), -1.0);
}
