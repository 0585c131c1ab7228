//! The emulator's own control plane under `/_emulator` (not part of the ROMA API).

use axum::Json;

use crate::api::dto::Health;

/// `GET /_emulator/health`: 200 `{"status": "ok"}` once requests are served.
pub async fn health() -> Json<Health> {
    Json(Health { status: "ok" })
}
