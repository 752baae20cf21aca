//! The JSON a CRM receives for one finished call. It keeps the replaced system's fields
//! (`type`, `subject`, `to`, `name`, `summary`, `status`, `duration`), so an existing CRM
//! integration keeps working, and adds the ids, the outcome, who ended the call, the AI
//! analysis, the campaign and contact references and a link to the recording. `event` says
//! whether it is the call's `final` report or an `update` carrying post-call data that arrived
//! after the final report had gone out without it.

use serde_json::{Value, json};

use super::model::DeliveryKind;
use crate::calls::model::Call;
use crate::recordings::model::RecordingStatus;
use crate::state::AppState;
use crate::store::StoreError;
use crate::transcripts::model::PostCall;
use common::call::Outcome;

/// The replaced system's `status` vocabulary.
pub fn crm_status(outcome: Option<Outcome>) -> &'static str {
    match outcome {
        Some(Outcome::ConversationHeld) => "held",
        Some(Outcome::Voicemail) => "voicemail",
        Some(Outcome::NoAnswer | Outcome::Busy | Outcome::NoConversation) => "no answer",
        Some(Outcome::Failed | Outcome::Canceled) | None => "no connection",
    }
}

/// Seconds the call lasted: Twilio's `CallDuration`, else ElevenLabs' conversation length,
/// else answer-to-end.
fn duration_secs(call: &Call, post: Option<&PostCall>) -> u64 {
    if let Some(d) = call.twilio_duration_secs {
        return u64::from(d);
    }
    if let Some(p) = post {
        return p.metadata.call_duration_secs.max(0.0).round() as u64;
    }
    match (call.answered_at, call.ended_at) {
        (Some(a), Some(e)) => u64::try_from((e - a).num_seconds()).unwrap_or(0),
        _ => 0,
    }
}

/// The summary: ElevenLabs' for a held conversation, else the replaced system's templates.
fn summary(call: &Call, post: Option<&PostCall>, duration: u64) -> String {
    let ai =
        post.and_then(|p| p.analysis.as_ref()).map(|a| a.transcript_summary.trim()).filter(|s| !s.is_empty());
    match (call.outcome, ai) {
        (Some(Outcome::ConversationHeld), Some(s)) => s.to_owned(),
        (Some(Outcome::ConversationHeld | Outcome::NoConversation), None) => format!(
            "Call completed. Duration: {}m {}s. Contact: {}.",
            duration / 60,
            duration % 60,
            call.name.as_deref().unwrap_or("Unknown")
        ),
        (Some(Outcome::Voicemail), _) => "Call reached voicemail/answering machine.".into(),
        (Some(Outcome::NoAnswer | Outcome::Busy), _) => "Call was not answered.".into(),
        _ => "Call could not be connected.".into(),
    }
}

/// A delivery body and what it was built from.
#[derive(Debug, Clone)]
pub struct Report {
    /// The JSON sent to the CRM.
    pub body: Value,
    /// The conversation whose post-call data the body carries, if the call had any.
    pub post_call_conversation: Option<String>,
}

/// Builds the delivery body of `kind` for a final call, from what the store holds now.
pub async fn build(state: &AppState, call: &Call, kind: DeliveryKind) -> Result<Report, StoreError> {
    let post = state.store.get_post_call(&call.id).await?;
    let recordings = state.store.list_call_recordings(&call.id).await?;
    let recording = recordings.iter().rev().find(|r| r.status == RecordingStatus::Completed);
    let duration = duration_secs(call, post.as_ref());
    let base = &state.settings.server_url;
    let body = json!({
        "type": "conversationAICall",
        "event": kind.as_str(),
        "subject": "Outbound Call",
        "to": call.to.to_string(),
        "name": call.name.as_deref().unwrap_or("Unknown"),
        "summary": summary(call, post.as_ref(), duration),
        "status": crm_status(call.outcome),
        "duration": duration,
        "callId": call.id,
        "callSid": call.call_sid,
        "conversationId": call.conversation_id.clone().or_else(|| post.as_ref().map(|p| p.conversation_id.clone())),
        "outcome": call.outcome,
        "telephonyStatus": call.status,
        "answeredBy": call.answered_by,
        "terminatedBy": call.terminated_by,
        "analysis": post.as_ref().and_then(|p| p.analysis.clone()),
        "campaign": call.campaign_id.as_ref().map(|id| json!({ "id": id })),
        "contact": call.contact_id.as_ref().map(|id| json!({ "id": id, "name": call.name })),
        "recording": recording.map(|r| json!({
            "sid": r.sid,
            "durationSecs": r.duration_secs,
            "url": format!("{base}/api/recordings/{}/audio", r.sid),
        })),
        "startedAt": call.created_at,
        "answeredAt": call.answered_at,
        "endedAt": call.ended_at,
    });
    Ok(Report { body, post_call_conversation: post.map(|p| p.conversation_id) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_keep_the_replaced_vocabulary() {
        assert_eq!(crm_status(Some(Outcome::ConversationHeld)), "held");
        assert_eq!(crm_status(Some(Outcome::Voicemail)), "voicemail");
        assert_eq!(crm_status(Some(Outcome::NoAnswer)), "no answer");
        assert_eq!(crm_status(Some(Outcome::Busy)), "no answer");
        assert_eq!(crm_status(Some(Outcome::Failed)), "no connection");
        assert_eq!(crm_status(None), "no connection");
    }
}
