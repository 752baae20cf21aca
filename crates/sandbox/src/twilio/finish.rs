//! The end of a call: final status and duration in the record, the terminal status callback
//! (with `CallDuration`, `SipResponseCode` and the recording fields), then the recording is
//! stored and its `completed` callback sent — in that order (§2.2, §2.4).

use super::call::CallCtx;
use super::callbacks::Callback;
use super::record::{EndReason, RecordingSummary};
use super::recording::{Recorder, StoredRecording, media_url};
use chrono::{DateTime, Utc};
use common::call::CallStatus;

fn kv(k: &str, v: impl Into<String>) -> (String, String) {
    (k.to_owned(), v.into())
}

/// Parameters of a recording status callback.
pub(crate) fn recording_params(
    ctx: &CallCtx,
    sid: &str,
    status: &str,
    duration: Option<u64>,
    start: DateTime<Utc>,
) -> Vec<(String, String)> {
    let mut p = vec![
        kv("AccountSid", &ctx.account_sid),
        kv("CallSid", &ctx.sid),
        kv("RecordingChannels", ctx.req.recording_channels.to_string()),
    ];
    if let Some(d) = duration {
        p.push(kv("RecordingDuration", d.to_string()));
    }
    p.extend([
        kv("RecordingSid", sid),
        kv("RecordingSource", "OutboundAPI"),
        kv("RecordingStartTime", start.to_rfc2822()),
        kv("RecordingStatus", status),
        kv("RecordingTrack", "both"),
        kv("RecordingUrl", media_url(&ctx.state.base_url, &ctx.account_sid, sid)),
    ]);
    p
}

fn sip_code(status: CallStatus) -> &'static str {
    match status {
        CallStatus::Busy => "486",
        CallStatus::NoAnswer => "480",
        CallStatus::Canceled => "487",
        CallStatus::Failed => "404",
        _ => "200",
    }
}

/// Records the end of the call and sends the final callbacks.
pub(crate) fn finish(ctx: &mut CallCtx, reason: EndReason, status: CallStatus, recorder: Option<Recorder>) {
    let now = Utc::now();
    let duration = ctx.answered_at.map(|t| t.elapsed().as_secs_f64().ceil() as u64);
    let recording = recorder.map(|rec| {
        let secs = rec.duration_secs();
        let sid = rec.sid.clone();
        let started = rec.started;
        let status = if secs == 0 { "absent" } else { "completed" };
        ctx.state.recordings.put(StoredRecording {
            sid: sid.clone(),
            account_sid: ctx.account_sid.clone(),
            call_sid: ctx.sid.clone(),
            status,
            start_time: started,
            updated: now,
            duration_secs: Some(secs),
            channels: rec.channels,
            wav: rec.into_wav(),
        });
        (sid, secs, started, status)
    });
    ctx.entry.update(|r| {
        r.end_reason = Some(reason);
        r.end_time = Some(now);
        r.duration_secs = duration;
        if let Some((sid, secs, _, status)) = &recording {
            r.recording = Some(RecordingSummary {
                sid: sid.clone(),
                status: (*status).to_owned(),
                duration_secs: Some(*secs),
            });
        }
    });
    let mut extra = vec![
        kv("CallDuration", duration.unwrap_or(0).to_string()),
        kv("Duration", duration.map_or(0, |d| d.div_ceil(60)).to_string()),
        kv("SipResponseCode", sip_code(status)),
    ];
    if let Some((sid, secs, _, "completed")) = &recording {
        extra.push(kv("RecordingDuration", secs.to_string()));
        extra.push(kv("RecordingSid", sid));
        extra.push(kv("RecordingUrl", media_url(&ctx.state.base_url, &ctx.account_sid, sid)));
    }
    ctx.set_status(status, extra);
    tracing::info!(call_sid = %ctx.sid, ?reason, status = %status, "call ended");
    if let Some(done) = ctx.pending_ack.take() {
        // The REST handler may have stopped waiting; the call has ended either way.
        let _ = done.send(());
    }
    if let Some((sid, secs, started, status)) = recording
        && let Some(hook) = ctx.req.recording_callback.clone().filter(|_| ctx.req.wants_recording(status))
    {
        let duration = (status == "completed").then_some(secs);
        let params = recording_params(ctx, &sid, status, duration, started);
        ctx.callbacks.send(Callback { kind: "recording", hook, params });
    }
}
