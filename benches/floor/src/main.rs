//! The floor of `scripts/bench.sh`: the cheapest server that answers the benchmark's two requests
//! the way the emulator does on the wire. `POST .../assets/export` reads the body and answers a fixed
//! `{"job_id": ...}`; `GET .../assets/jobs/{job_id}` answers a fixed finished-job body. No checks,
//! no state, no log: what is left of a request is axum, hyper, tokio and the kernel.
//!
//! Usage: `roma-floor 127.0.0.1:PORT` (prints `listening on ADDR` once bound).

use axum::Router;
use axum::body::Bytes;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};

const JOB_CREATED: &str = r#"{"job_id":"cd97e95b94fdd3c3299311bc5f3b30eb"}"#;
const JOB_STATUS: &str = r#"{"id":"cd97e95b94fdd3c3299311bc5f3b30eb","type":"exportAsset","status":"Success","progress_percent":1.0,"begin_time":"2026-11-27T20:27:03Z","end_time":"2026-11-27T20:27:05Z","archive_id":"0cf579860e8ce2601c7e7024ddf06677"}"#;

async fn export(body: Bytes) -> impl IntoResponse {
    std::hint::black_box(body);
    ([(header::CONTENT_TYPE, "application/json")], JOB_CREATED)
}

async fn job() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], JOB_STATUS)
}

#[tokio::main]
async fn main() {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:0".to_owned());
    let app = Router::new()
        .route("/v2/{project_id}/instances/{instance_id}/assets/export", post(export))
        .route("/v2/{project_id}/instances/{instance_id}/assets/jobs/{job_id}", get(job));
    let listener = tokio::net::TcpListener::bind(&addr).await.expect("bind");
    println!("listening on {}", listener.local_addr().expect("local address"));
    axum::serve(listener, app).await.expect("serve");
}
