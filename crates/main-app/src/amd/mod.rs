//! Answering machines: the per-call policy ([`policy`]) and carrying it out when Twilio's
//! asynchronous AMD result arrives (`/amd-status-callback`, see `webhooks::twilio`).
//!
//! The result itself is stored on the call (`answeredBy`, set once) and pushed live by the
//! callback handler. Here the policy decides: hang up (recorded as `terminatedBy: system /
//! answering_machine`), or, for a voicemail, wait for the beep and then either let Twilio speak
//! the message (`<Say>` through a TwiML redirect, then `<Hangup/>`, recorded as `system /
//! voicemail_left`) or let the agent, which is already talking, leave it.

pub mod policy;

use serde_json::json;

pub use policy::{AmdAction, AmdPolicy, MachineAction, UnknownAs};

use crate::calls::model::{Call, CallEvent};
use crate::calls::service::{self, HangupError};
use crate::state::AppState;
use crate::twiml::{self, Verb};
use common::call::{AnsweredBy, Party, TerminatedBy};

/// The policy of `call`: the one it was placed with, else the configured default.
pub async fn policy_of(state: &AppState, call: &Call) -> AmdPolicy {
    match state.store.amd_policy(&call.id).await {
        Ok(Some(p)) => p,
        Ok(None) => state.settings.post_call.amd_policy.clone(),
        Err(e) => {
            tracing::error!(call_id = %call.id, error = %e, "cannot read the AMD policy; using the default");
            state.settings.post_call.amd_policy.clone()
        }
    }
}

/// Carries out the policy for a new AMD result. Runs after the callback was answered (it talks
/// to Twilio); failures are logged and recorded in the call's audit log.
pub async fn apply(state: &AppState, call: &Call, answered_by: AnsweredBy) {
    let policy = policy_of(state, call).await;
    let action = policy.decide(answered_by, call.name.as_deref());
    tracing::info!(call_id = %call.id, answered_by = answered_by.as_str(), ?action, "AMD result");
    let result = match &action {
        AmdAction::None | AmdAction::WaitForBeep => return,
        AmdAction::AgentLeavesMessage => {
            audit(state, call, "voicemail_by_agent", json!({ "answeredBy": answered_by })).await;
            return;
        }
        AmdAction::Hangup(reason) => hang_up(state, call, reason).await,
        AmdAction::SayAndHangup(message) => leave_message(state, call, message).await,
    };
    if let Err(e) = result {
        tracing::error!(call_id = %call.id, error = %e, "answering-machine policy failed");
        audit(state, call, "amd_action_failed", json!({ "action": format!("{action:?}"), "error": e })).await;
    }
}

fn system(reason: &str) -> TerminatedBy {
    TerminatedBy { party: Party::System, reason: reason.into(), source: "amd".into() }
}

async fn hang_up(state: &AppState, call: &Call, reason: &str) -> Result<(), String> {
    match service::hang_up(state, call, system(reason)).await {
        Ok(()) | Err(HangupError::AlreadyEnded) => Ok(()),
        Err(e) => Err(e.to_string()),
    }
}

/// Redirects the call to `<Say>message</Say><Hangup/>`. The hang-up intent is registered first,
/// so the stream stopping (reported by media-proxy as the caller hanging up) is attributed to
/// the system; the termination is written as soon as Twilio accepted the redirect.
async fn leave_message(state: &AppState, call: &Call, message: &str) -> Result<(), String> {
    if call.status.is_terminal() {
        return Ok(());
    }
    let Some(sid) = call.call_sid.as_ref() else { return Err("the call has no CallSid".into()) };
    let who = system("voicemail_left");
    state.hangups.insert(call.id.clone(), who.clone());
    let doc = twiml::render(&[Verb::Say(message.to_owned()), Verb::Hangup]);
    match state.twilio.redirect_twiml(sid.as_str(), &doc).await {
        Ok(_) => {
            audit(state, call, "voicemail_left", json!({ "chars": message.chars().count() })).await;
            match service::record_termination(state, &call.id, who).await {
                Ok(Some(updated)) => state.live.publish_call(&updated, false),
                Ok(None) => {}
                Err(e) => return Err(e.to_string()),
            }
            Ok(())
        }
        // 21220: the call already ended (the machine hung up first).
        Err(e) if e.code() == Some(21220) => {
            state.hangups.remove(&call.id);
            Ok(())
        }
        Err(e) => {
            state.hangups.remove(&call.id);
            Err(e.to_string())
        }
    }
}

async fn audit(state: &AppState, call: &Call, kind: &str, data: serde_json::Value) {
    if let Err(e) = state.store.append_event(&CallEvent::new(&call.id, kind, "amd", data)).await {
        tracing::error!(call_id = %call.id, error = %e, "cannot record an AMD event");
    }
}
