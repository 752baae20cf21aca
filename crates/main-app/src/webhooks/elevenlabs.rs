//! `POST /webhooks/elevenlabs`: ElevenLabs' post-call webhooks (protocol reference §7).
//!
//! 1. **Verify.** `ElevenLabs-Signature: t=<unix>,v0=<hex>`, HMAC-SHA256 over `"<t>.<raw body>"`
//!    keyed by `ELEVENLABS_WEBHOOK_SECRET`, compared in constant time; a timestamp further than
//!    `ELEVENLABS_WEBHOOK_TOLERANCE_SECS` from our clock (either way) is refused. Anything that
//!    does not verify is answered 401 and nothing is stored. Without a configured secret every
//!    webhook is refused (401): an unauthenticated endpoint that writes call records is not
//!    offered.
//! 2. **Persist, then answer.** The raw body goes into the webhook inbox, deduplicated on
//!    `(type, conversation id)`; the answer is 200 at once. A redelivery is answered 200 and
//!    changes nothing.
//! 3. **Process** in the background, idempotently: `post_call_transcription` stores the turns,
//!    analysis and metadata on the call (found by the conversation id media-proxy reported at
//!    stream start, else the `call_sid` / `call_id` dynamic variables, else the phone-call
//!    metadata); `call_initiation_failure` records an error on the call. A processing failure
//!    leaves the webhook unprocessed, and the post-call worker retries it.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use chrono::Utc;
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use sha2::Digest as _;

use super::inbox::InboundWebhook;
use crate::calls::model::{CallError, CallEvent, SetOnce};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::StoreError;
use crate::transcripts::model::PostCall;
use common::elevenlabs::{CallInitiationFailure, Conversation, WebhookEnvelope};
use common::ids::{CallId, CallSid};

/// The signature header.
pub const SIGNATURE_HEADER: &str = "elevenlabs-signature";

/// Webhooks processed per retry pass.
const RETRY_BATCH: u64 = 100;

/// `POST /webhooks/elevenlabs`.
pub async fn receive(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let Some(secret) = state.settings.elevenlabs.webhook_secret.as_ref() else {
        tracing::warn!("ElevenLabs webhook refused: ELEVENLABS_WEBHOOK_SECRET is not configured");
        return Err(ApiError::unauthorized());
    };
    let signature = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    let now = Utc::now();
    common::signature::verify_timestamped(
        secret.expose_secret(),
        signature,
        &body,
        now.timestamp(),
        state.settings.post_call.webhook_tolerance_secs,
    )
    .map_err(|e| {
        tracing::warn!(error = %e, "rejected ElevenLabs webhook");
        ApiError::unauthorized()
    })?;
    let text = std::str::from_utf8(&body).map_err(|_| ApiError::bad_request("body is not UTF-8"))?;
    let envelope: WebhookEnvelope =
        serde_json::from_str(text).map_err(|e| ApiError::bad_request(format!("not a webhook event: {e}")))?;
    let webhook = InboundWebhook {
        id: uuid::Uuid::now_v7().to_string(),
        source: "elevenlabs".into(),
        dedupe_key: dedupe_key(&envelope, &body),
        kind: envelope.kind,
        received_at: crate::store::truncate_ms(now),
        body: text.to_owned(),
        processed_at: None,
        error: None,
    };
    if !state.store.record_webhook(&webhook).await? {
        tracing::info!(kind = %webhook.kind, "duplicate ElevenLabs webhook ignored");
        return Ok(Json(json!({ "received": true, "duplicate": true })));
    }
    let state2 = state.clone();
    state.spawn(async move {
        if let Err(e) = process(&state2, &webhook).await {
            tracing::error!(id = %webhook.id, error = %e, "webhook processing failed; it will be retried");
        }
    });
    Ok(Json(json!({ "received": true })))
}

/// `elevenlabs:<type>:<conversation id>`, or the body's hash when it names no conversation.
fn dedupe_key(envelope: &WebhookEnvelope, body: &[u8]) -> String {
    match envelope.data.get("conversation_id").and_then(Value::as_str) {
        Some(conv) => format!("elevenlabs:{}:{conv}", envelope.kind),
        None => format!("elevenlabs:{}:sha256:{}", envelope.kind, hex::encode(sha2::Sha256::digest(body))),
    }
}

/// Processes every stored webhook still unprocessed (after a failure or a restart).
pub async fn process_pending(state: &AppState) -> Result<usize, StoreError> {
    let pending = state.store.unprocessed_webhooks(RETRY_BATCH).await?;
    let mut done = 0;
    for webhook in pending {
        match process(state, &webhook).await {
            Ok(()) => done += 1,
            Err(e) => tracing::error!(id = %webhook.id, error = %e, "stored webhook still fails"),
        }
    }
    Ok(done)
}

/// Applies one stored webhook and marks it processed. A store failure is returned (the webhook
/// stays unprocessed); anything that retrying cannot fix is recorded as its error.
pub async fn process(state: &AppState, webhook: &InboundWebhook) -> Result<(), StoreError> {
    let outcome = match serde_json::from_str::<WebhookEnvelope>(&webhook.body) {
        Err(e) => Err(format!("unreadable envelope: {e}")),
        Ok(env) => match env.kind.as_str() {
            "post_call_transcription" => match serde_json::from_value::<Conversation>(env.data) {
                Ok(conv) => post_call_transcription(state, &conv).await?,
                Err(e) => Err(format!("unreadable conversation: {e}")),
            },
            "call_initiation_failure" => match serde_json::from_value::<CallInitiationFailure>(env.data) {
                Ok(failure) => initiation_failure(state, &failure).await?,
                Err(e) => Err(format!("unreadable failure: {e}")),
            },
            // post_call_audio and anything newer: stored, nothing to apply.
            _ => Ok(()),
        },
    };
    let error = outcome.err();
    if let Some(e) = &error {
        tracing::warn!(id = %webhook.id, kind = %webhook.kind, error = %e, "webhook not applied");
    }
    state.store.mark_webhook_processed(&webhook.id, Utc::now(), error.as_deref()).await
}

/// The call a conversation belongs to: the link recorded at stream start, else the `call_id` or
/// `call_sid` dynamic variables, else the phone-call metadata.
pub async fn resolve_call(state: &AppState, conv: &Conversation) -> Result<Option<CallId>, StoreError> {
    if let Some(id) = state.store.call_for_conversation(&conv.conversation_id).await? {
        return Ok(Some(id));
    }
    let vars = conv.conversation_initiation_client_data.as_ref().map(|d| &d.dynamic_variables);
    let var = |name: &str| vars.and_then(|v| v.get(name)).and_then(Value::as_str).map(str::to_owned);
    if let Some(id) = var("call_id").and_then(|s| CallId::parse(&s).ok())
        && let Some(call) = state.store.get_call(&id).await?
    {
        return Ok(Some(call.id));
    }
    let sids = [var("call_sid"), conv.metadata.phone_call.as_ref().and_then(|p| p.call_sid.clone())];
    for sid in sids.into_iter().flatten() {
        if let Ok(sid) = CallSid::parse(&sid)
            && let Some(call) = state.store.get_call_by_sid(&sid).await?
        {
            return Ok(Some(call.id));
        }
    }
    Ok(None)
}

/// Stores a conversation as a call's post-call record (from the webhook or from recovery) and
/// lets the call's outcome and finalization follow. `Ok(Err(reason))` when no call matches.
pub async fn store_conversation(
    state: &AppState,
    conv: &Conversation,
    source: &str,
) -> Result<Result<CallId, String>, StoreError> {
    let Some(call_id) = resolve_call(state, conv).await? else {
        return Ok(Err(format!("no call for conversation {}", conv.conversation_id)));
    };
    let post = PostCall::from_conversation(conv, source, Utc::now());
    state.store.save_post_call(&call_id, &post).await?;
    let fields = SetOnce { conversation_id: Some(conv.conversation_id.clone()), ..Default::default() };
    state.store.set_once(&call_id, &fields).await?;
    let data = json!({
        "conversationId": conv.conversation_id,
        "source": source,
        "turns": post.turns.len(),
        "callSuccessful": post.analysis.as_ref().map(|a| a.call_successful.clone()),
    });
    let event = CallEvent::new(&call_id, "post_call", "elevenlabs", data)
        .dedupe(format!("post_call:{}:{source}", conv.conversation_id));
    state.store.append_event(&event).await?;
    crate::post_call::on_post_call(state, &call_id).await?;
    Ok(Ok(call_id))
}

async fn post_call_transcription(
    state: &AppState,
    conv: &Conversation,
) -> Result<Result<(), String>, StoreError> {
    Ok(store_conversation(state, conv, "webhook").await?.map(|_| ()))
}

async fn initiation_failure(
    state: &AppState,
    failure: &CallInitiationFailure,
) -> Result<Result<(), String>, StoreError> {
    let Some(call_id) = state.store.call_for_conversation(&failure.conversation_id).await? else {
        return Ok(Err(format!("no call for conversation {}", failure.conversation_id)));
    };
    let error = CallError {
        code: "ELEVENLABS_INITIATION_FAILURE".into(),
        message: format!("ElevenLabs could not start the conversation: {}", failure.failure_reason),
    };
    let updated =
        state.store.set_once(&call_id, &SetOnce { error: Some(error), ..Default::default() }).await?;
    let data = json!({ "conversationId": failure.conversation_id, "failureReason": failure.failure_reason });
    let event = CallEvent::new(&call_id, "call_initiation_failure", "elevenlabs", data)
        .dedupe(format!("initiation_failure:{}", failure.conversation_id));
    state.store.append_event(&event).await?;
    if let Some(call) = updated {
        state.live.publish_call(&call, false);
    }
    Ok(Ok(()))
}
