//! One simulated call: its context, creation, and the actor that runs it from `queued` to its
//! end (dial in `dial.rs`, the answered part in `live.rs`, the end in `finish.rs`).

use super::callbacks::{self, Callback, CallbackQueue};
use super::error::TwilioError;
use super::params::{CreateCall, TwimlSource};
use super::record::{CallRecord, CallRequest, StatusChange};
use super::registry::{CallEntry, Control, LiveGuard};
use super::{dial, finish, live};
use crate::config::{CpsMode, TwilioAccount};
use crate::scenario::Scenario;
use crate::state::AppState;
use chrono::Utc;
use common::call::{AnsweredBy, CallStatus};
use secrecy::SecretString;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

/// Everything a call's actor works with.
pub(crate) struct CallCtx {
    pub state: AppState,
    pub entry: Arc<CallEntry>,
    pub req: CreateCall,
    pub scenario: Arc<Scenario>,
    pub sid: String,
    pub account_sid: String,
    /// Signs every request of this call.
    pub token: SecretString,
    pub callbacks: CallbackQueue,
    /// The TwiML to run at answer (a redirect before answer replaces it).
    pub twiml: TwimlSource,
    /// When the call was answered.
    pub answered_at: Option<Instant>,
    /// Synchronous AMD result, added to the TwiML fetch and status callbacks.
    pub sync_answered_by: Option<AnsweredBy>,
    /// REST acknowledgement to send once the call's end is recorded.
    pub pending_ack: Option<oneshot::Sender<()>>,
    seq: u32,
}

fn kv(k: &str, v: impl Into<String>) -> (String, String) {
    (k.to_owned(), v.into())
}

impl CallCtx {
    /// The parameters Twilio sends on every voice request (§2.1), in alphabetical order.
    pub fn base_params(&self, call_status: &str) -> Vec<(String, String)> {
        let (to, from) = (self.req.to.as_str(), self.req.from.as_str());
        let mut p = vec![
            kv("AccountSid", &self.account_sid),
            kv("ApiVersion", "2010-04-01"),
            kv("CallSid", &self.sid),
            kv("CallStatus", call_status),
            kv("Called", to),
            kv("CalledCity", ""),
            kv("CalledCountry", "AU"),
            kv("Caller", from),
            kv("CallerCity", ""),
            kv("CallerCountry", "AU"),
            kv("Direction", "outbound-api"),
            kv("From", from),
            kv("FromCity", ""),
            kv("FromCountry", "AU"),
            kv("To", to),
            kv("ToCity", ""),
            kv("ToCountry", "AU"),
        ];
        if let Some(ab) = self.sync_answered_by {
            p.push(kv("AnsweredBy", ab.as_str()));
        }
        p
    }

    /// Records a status change and sends the status callback if its event is subscribed.
    pub fn set_status(&mut self, status: CallStatus, extra: Vec<(String, String)>) {
        let now = Utc::now();
        self.entry.update(|r| {
            if status != CallStatus::Initiated {
                r.status = status.as_str().to_owned();
            }
            r.status_history.push(StatusChange { status: status.as_str().to_owned(), at: now });
        });
        let event = match status {
            CallStatus::Queued => return,
            CallStatus::Initiated => "initiated",
            CallStatus::Ringing => "ringing",
            CallStatus::InProgress => "answered",
            _ => "completed",
        };
        let Some(hook) = self.req.status_callback.clone().filter(|_| self.req.wants_status(event)) else {
            return;
        };
        let mut params = self.base_params(status.as_str());
        params.extend(extra);
        params.push(kv("CallbackSource", "call-progress-events"));
        params.push(kv("SequenceNumber", self.seq.to_string()));
        params.push(kv("Timestamp", now.to_rfc2822()));
        self.seq += 1;
        self.callbacks.send(Callback { kind: "status", hook, params });
    }
}

/// Creates a call (after authentication): checks limits, registers it and starts its actor.
pub(crate) fn create(
    state: &AppState,
    account: &TwilioAccount,
    req: CreateCall,
) -> Result<CallRecord, TwilioError> {
    let guard = state
        .calls
        .try_live(state.config.limits.max_live_calls)
        .ok_or_else(|| TwilioError::too_many("too many concurrent calls"))?;
    if state.config.cps_mode == CpsMode::Reject && !state.cps.try_acquire(account.sid.as_str()) {
        return Err(TwilioError::too_many("calls per second limit exceeded"));
    }
    let scenario = state.config.scenarios.lookup(req.to.as_str());
    let sid = common::ids::CallSid::random().to_string();
    let record = new_record(&sid, account, &req, &scenario.name);
    let (control_tx, control_rx) = mpsc::channel(8);
    let entry = Arc::new(CallEntry::new(record.clone(), control_tx, state.changes.clone()));
    state.calls.insert(sid.clone(), entry.clone());
    let callbacks = callbacks::spawn_worker(state.clone(), entry.clone(), account.auth_token.clone());
    tracing::info!(call_sid = %sid, to = %req.to.masked(), scenario = %scenario.name, "call created");
    let ctx = CallCtx {
        state: state.clone(),
        entry,
        twiml: req.twiml.clone(),
        req,
        scenario,
        sid,
        account_sid: account.sid.to_string(),
        token: account.auth_token.clone(),
        callbacks,
        answered_at: None,
        sync_answered_by: None,
        pending_ack: None,
        seq: 0,
    };
    tokio::spawn(run(ctx, control_rx, guard));
    Ok(record)
}

/// The record of a call just created (`queued`).
fn new_record(sid: &str, account: &TwilioAccount, req: &CreateCall, scenario: &str) -> CallRecord {
    let now = Utc::now();
    CallRecord {
        sid: sid.to_owned(),
        account_sid: account.sid.to_string(),
        to: req.to.to_string(),
        from: req.from.to_string(),
        scenario: scenario.to_owned(),
        request: CallRequest {
            url: match &req.twiml {
                TwimlSource::Url(h) => Some(h.url.clone()),
                TwimlSource::Inline(_) => None,
            },
            twiml: match &req.twiml {
                TwimlSource::Inline(t) => Some(t.clone()),
                TwimlSource::Url(_) => None,
            },
            status_callback: req.status_callback.as_ref().map(|h| h.url.clone()),
            status_callback_events: req.status_events.clone(),
            record: req.record,
            machine_detection: req.amd.map(|m| format!("{m:?}")),
            async_amd: req.async_amd,
            timeout_secs: req.timeout_secs,
            time_limit_secs: req.time_limit_secs,
        },
        status: "queued".to_owned(),
        status_history: vec![StatusChange { status: "queued".to_owned(), at: now }],
        callbacks: vec![],
        twiml: vec![],
        says: vec![],
        streams: vec![],
        answered_by: None,
        amd_duration_ms: None,
        end_reason: None,
        recording: None,
        voicemail_message_received: false,
        conversation_ids: vec![],
        redirects: 0,
        date_created: now,
        start_time: None,
        end_time: None,
        duration_secs: None,
    }
}

/// The call's actor.
async fn run(mut ctx: CallCtx, mut control: mpsc::Receiver<Control>, _live: LiveGuard) {
    let (reason, status, recorder) = match dial::dial(&mut ctx, &mut control).await {
        dial::DialResult::Answered => {
            let out = live::run(&mut ctx, &mut control).await;
            (out.reason, CallStatus::Completed, out.recorder)
        }
        dial::DialResult::Ended(reason, status) => (reason, status, None),
    };
    finish::finish(&mut ctx, reason, status, recorder);
    control.close();
    while let Ok(c) = control.try_recv() {
        ack(c);
    }
}

/// Answers a control request without acting on it.
pub(crate) fn ack(c: Control) {
    // The REST handler may have timed out and gone; nothing to do then.
    let _ = match c {
        Control::End { done, .. } | Control::Redirect { done, .. } => done.send(()),
    };
}
