//! The part of a call before answer (§2.2): `queued` → `initiated` → `ringing` → answered, busy,
//! no-answer or failed, with delays from the scenario scaled by the speed factor. A REST
//! `Status=canceled` (or `completed`) in this phase cancels the call; a REST redirect replaces the
//! TwiML that will run at answer.

use super::call::CallCtx;
use super::record::EndReason;
use super::registry::Control;
use crate::config::CpsMode;
use crate::scenario::DialOutcome;
use common::call::CallStatus;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};

/// How the dial went.
pub(crate) enum DialResult {
    /// The callee picked up.
    Answered,
    /// The call ended before answer.
    Ended(EndReason, CallStatus),
}

/// Waits until `deadline` while serving REST requests; `Err` when the call ended meanwhile.
async fn wait_until(
    ctx: &mut CallCtx,
    control: &mut mpsc::Receiver<Control>,
    deadline: Instant,
) -> Result<(), DialResult> {
    loop {
        tokio::select! {
            _ = sleep_until(deadline) => return Ok(()),
            _ = ctx.state.shutdown.cancelled() => return Err(DialResult::Ended(EndReason::Shutdown, CallStatus::Canceled)),
            Some(c) = control.recv() => match c {
                Control::End { done, .. } => {
                    ctx.pending_ack = Some(done);
                    return Err(DialResult::Ended(EndReason::RestCanceled, CallStatus::Canceled));
                }
                Control::Redirect { source, done } => {
                    ctx.twiml = source;
                    ctx.entry.update(|r| r.redirects += 1);
                    // The REST handler may have given up waiting; the redirect still applies.
                    let _ = done.send(());
                }
            },
        }
    }
}

async fn wait(
    ctx: &mut CallCtx,
    control: &mut mpsc::Receiver<Control>,
    d: Duration,
) -> Result<(), DialResult> {
    wait_until(ctx, control, Instant::now() + d).await
}

/// Runs the dial.
pub(crate) async fn dial(ctx: &mut CallCtx, control: &mut mpsc::Receiver<Control>) -> DialResult {
    match dial_inner(ctx, control).await {
        Ok(()) => DialResult::Answered,
        Err(ended) => ended,
    }
}

async fn dial_inner(ctx: &mut CallCtx, control: &mut mpsc::Receiver<Control>) -> Result<(), DialResult> {
    let s = ctx.scenario.clone();
    if ctx.state.config.cps_mode == CpsMode::Queue
        && let Some(slot) = ctx.state.cps.reserve(&ctx.account_sid)
    {
        wait_until(ctx, control, slot).await?;
    }
    let queue = ctx.state.scaled(s.queue_ms);
    wait(ctx, control, queue).await?;
    ctx.set_status(CallStatus::Initiated, vec![]);
    let initiate = ctx.state.scaled(s.initiate_ms);
    wait(ctx, control, initiate).await?;
    if s.dial == DialOutcome::Failed {
        return Err(DialResult::Ended(EndReason::Failed, CallStatus::Failed));
    }
    ctx.set_status(CallStatus::Ringing, vec![]);
    let timeout = ctx.state.scaled(u64::from(ctx.req.timeout_secs) * 1000);
    let ring = ctx.state.scaled(s.ring_ms);
    if s.dial == DialOutcome::NoAnswer || ring >= timeout {
        wait(ctx, control, timeout).await?;
        return Err(DialResult::Ended(EndReason::NoAnswer, CallStatus::NoAnswer));
    }
    wait(ctx, control, ring).await?;
    if s.dial == DialOutcome::Busy {
        return Err(DialResult::Ended(EndReason::Busy, CallStatus::Busy));
    }
    Ok(())
}
