//! Step 3b, the gateway's flow control (`[gateway]`, off by default): a user's requests to the
//! asset API, once authenticated, and an address's requests without a user (IAM token requests)
//! take one from their bucket; an empty bucket is `429 APIG.0308` with `Retry-After`.

use axum::extract::Request;

use super::context::{by_address, by_user};
use crate::app::App;
use crate::error::{ApiError, ErrorCode};
use crate::throttle::Throttle;

/// Takes `user`'s request (or, without one, `req`'s address's) from its bucket.
pub fn check(app: &App, req: &Request, user: Option<&str>) -> Result<(), ApiError> {
    let (throttle, policy) = match user {
        Some(_) => (&app.gateway.per_user, "user"),
        None => (&app.gateway.per_address, "ip"),
    };
    // Off (the default): nothing is looked at, so the request path pays nothing for it.
    let Some(throttle) = throttle else {
        return Ok(());
    };
    let caller = user.map_or_else(|| by_address(req), by_user);
    throttle
        .take(&caller, app.clock.now())
        .map_err(|wait| refusal(throttle, policy, &caller, wait))
}

fn refusal(throttle: &Throttle, policy: &str, caller: &str, wait: std::time::Duration) -> ApiError {
    let limit = throttle.rate();
    let mut err = ApiError::new(
        ErrorCode::Throttled,
        format!("{caller} is over {limit} requests a second ([gateway])"),
    );
    err.message = Some(
        format!("The throttling threshold has been reached: policy {policy} over ratelimit,limit:{limit},time:1 second")
            .into(),
    );
    err.retry_after_s = Some(wait.as_secs_f64().ceil().max(1.0) as u64);
    err
}
