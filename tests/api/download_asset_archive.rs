//! DownloadAssetArchive: exactly once, only for its owner, a real zip.

use futures::future::join_all;
use roma_emulator::jobs::archive;

use crate::helpers::{TOKEN, assert_job_created, assert_roma_error, spawn_app_with};

async fn finished_export(app: &crate::helpers::TestApp) -> (String, String) {
    let job = assert_job_created(app.export_one(TOKEN).await).await;
    let status = app.job_json(TOKEN, "p1", "i1", &job).await;
    (job, status["archive_id"].as_str().expect("archive_id").to_owned())
}

#[tokio::test]
async fn the_archive_downloads_once_then_the_job_shows_finished() {
    let app = spawn_app_with(|c| c.jobs.duration_ms = 0).await;
    let (job, archive_id) = finished_export(&app).await;
    let res = app.download(TOKEN, "p1", "i1", &archive_id).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/zip");
    let disposition = res.headers()["content-disposition"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert_eq!(
        disposition,
        format!("attachment; filename=\"roma-assets-{archive_id}.zip\"")
    );
    let bytes = res.bytes().await.expect("bytes");
    let package = archive::parse(&bytes).expect("a package");
    assert_eq!(package.assets.len(), 1);
    assert_eq!(package.assets[0].1.id, "app-1");
    assert_eq!(
        (&*package.source.project_id, &*package.source.instance_id),
        ("p1", "i1")
    );
    assert_eq!(package.job_id, job);

    let err = assert_roma_error(
        app.download(TOKEN, "p1", "i1", &archive_id).await,
        404,
        "ROMA.00110006",
    )
    .await;
    assert!(
        err["error_details"]
            .as_str()
            .unwrap_or_default()
            .contains("already downloaded")
    );
    let status = app.job_json(TOKEN, "p1", "i1", &job).await;
    assert_eq!(status["status"], "Finished");
    assert!(status.get("archive_id").is_none(), "{status}");
}

#[tokio::test]
async fn of_20_concurrent_downloads_exactly_one_gets_the_bytes() {
    let app = spawn_app_with(|c| c.jobs.duration_ms = 0).await;
    let (_, archive_id) = finished_export(&app).await;
    let responses = join_all((0..20).map(|_| app.download(TOKEN, "p1", "i1", &archive_id))).await;
    let mut got = 0;
    for res in responses {
        if res.status() == 200 {
            got += 1;
            assert!(archive::parse(&res.bytes().await.expect("bytes")).is_ok());
        } else {
            assert_roma_error(res, 404, "ROMA.00110006").await;
        }
    }
    assert_eq!(got, 1);
}

#[tokio::test]
async fn another_users_or_another_projects_archive_is_not_visible_and_stays_downloadable() {
    let app = spawn_app_with(|c| c.jobs.duration_ms = 0).await;
    let (_, archive_id) = finished_export(&app).await;
    assert_roma_error(
        app.download("intruder", "p1", "i1", &archive_id).await,
        404,
        "ROMA.00110006",
    )
    .await;
    assert_roma_error(
        app.download(TOKEN, "p2", "i1", &archive_id).await,
        404,
        "ROMA.00110006",
    )
    .await;
    assert_roma_error(
        app.download(TOKEN, "p1", "i9", &archive_id).await,
        404,
        "ROMA.00110006",
    )
    .await;
    assert_eq!(
        app.download(TOKEN, "p1", "i1", &archive_id).await.status(),
        200,
        "the owner still gets it"
    );
}
