//! Step 4, faults: the first matching fault rule answers late, answers an error, or lets the
//! request through with a planned job failure; and what it does on the wire, which
//! `respond::finish` and the transport apply. Costs nothing while no rule exists.

use super::context::Exchange;
use crate::app::App;
use crate::error::ApiError;
use crate::faults::{Request as FaultRequest, Wire};
use crate::jobs::FailPlan;
use crate::operation::Operation;

/// The job failure a rule plans for this request, or the error a rule answers it with; and the
/// rule's wire effect, whichever.
pub async fn apply(
    app: &App,
    exchange: &Exchange<'_>,
    operation: Operation,
) -> (Result<Option<FailPlan>, ApiError>, Option<Wire>) {
    if app.faults.is_empty() {
        return (Ok(None), None);
    }
    let request = FaultRequest {
        operation,
        user: exchange.caller.as_deref(),
        project_id: exchange.project(),
        instance_id: exchange.instance(),
        summary: None,
    };
    let Some(effect) = app.faults.check(&request, || app.ids.draws.next_unit()) else {
        return (Ok(None), None);
    };
    app.metrics.fault_fired(operation);
    if let Some(delay) = effect.delay {
        tokio::time::sleep(delay).await;
    }
    if let Some((status, code)) = effect.error {
        return (Err(ApiError::injected(status, &code)), effect.wire);
    }
    (Ok(effect.fail_job), effect.wire)
}

/// The second fault point, which an operation reaches once it has noted what its request asks
/// and before it acts on it: the rules with a `where` (see `faults::FaultSpec::conditions`). The
/// job failure a rule plans, or the error it answers; its wire effect goes to the request's notes.
pub async fn after_summary(
    app: &App,
    call: &crate::api::route::Call<'_>,
    operation: Operation,
) -> Result<Option<FailPlan>, ApiError> {
    if app.faults.is_empty() {
        return Ok(None);
    }
    let Some(summary) = call.notes.summary_now() else {
        return Ok(None);
    };
    let request = FaultRequest {
        operation,
        user: call.caller.as_ref().map(|c| &*c.user),
        project_id: call.namespace.and_then(|ns| ns.project()),
        instance_id: call.namespace.and_then(|ns| ns.instance()),
        summary: Some(&summary),
    };
    let Some(effect) = app.faults.check(&request, || app.ids.draws.next_unit()) else {
        return Ok(None);
    };
    app.metrics.fault_fired(operation);
    if let Some(wire) = effect.wire {
        call.notes.set_wire(wire);
    }
    if let Some(delay) = effect.delay {
        tokio::time::sleep(delay).await;
    }
    if let Some((status, code)) = effect.error {
        return Err(ApiError::injected(status, &code));
    }
    Ok(effect.fail_job)
}
