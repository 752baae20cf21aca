//! The `post_call_transcription` webhook (§7.1–7.3): POST JSON to the configured URL with
//! `ElevenLabs-Signature: t=<unix>,v0=<hex HMAC-SHA256 of "<t>.<body>">`. Delivered once, with no
//! retries (ElevenLabs' default); each attempt is recorded on the conversation.

use super::record::WebhookDelivery;
use super::registry::ConversationEntry;
use crate::state::AppState;
use chrono::Utc;
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use std::time::Duration;

/// Builds the envelope and its signature header value.
pub(crate) fn sign(secret: &str, kind: &str, data: Value, now_unix: i64) -> (Vec<u8>, String) {
    let body = json!({"type": kind, "event_timestamp": now_unix, "data": data}).to_string().into_bytes();
    let header = signature_header(secret, now_unix, &body);
    (body, header)
}

/// `ElevenLabs-Signature` for a raw body sent at `t`: `t=<t>,v0=<hex HMAC-SHA256("<t>.<body>")>`.
fn signature_header(secret: &str, t: i64, body: &[u8]) -> String {
    common::signature::timestamped_signature(secret, t, body)
}

/// Sends `post_call_transcription` for a finished conversation (if a URL is configured).
pub(crate) async fn deliver(state: &AppState, entry: &ConversationEntry, data: Value) {
    let Some(url) = state.config.elevenlabs.webhook_url.clone() else { return };
    let now = Utc::now();
    let (body, header) = sign(
        state.config.elevenlabs.webhook_secret.expose_secret(),
        "post_call_transcription",
        data,
        now.timestamp(),
    );
    let result = state
        .http
        .post(&url)
        .header("content-type", "application/json")
        .header("ElevenLabs-Signature", header)
        .timeout(Duration::from_secs(10))
        .body(body)
        .send()
        .await;
    let (http_status, error) = match result {
        Ok(res) => (Some(res.status().as_u16()), None),
        Err(e) => (None, Some(e.without_url().to_string())),
    };
    tracing::info!(?http_status, ?error, "post_call_transcription delivered");
    let delivery =
        WebhookDelivery { kind: "post_call_transcription".into(), url, http_status, error, at: now };
    entry.update(|r| r.webhook_deliveries.push(delivery));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference §7.1's test vector.
    #[test]
    fn signature_header_matches_the_reference_vector() {
        assert_eq!(
            signature_header("wsec_test", 1739537297, br#"{"type":"post_call_transcription"}"#),
            "t=1739537297,v0=81a65aa1e2057ec4cdc236dca583cf6ef5899fbc7acd1fe2c0921f684fa3779c"
        );
    }

    #[test]
    fn signature_verifies_over_the_exact_body() {
        let (body, header) =
            sign("wsec_test", "post_call_transcription", json!({"conversation_id": "c"}), 1739537297);
        assert!(header.starts_with("t=1739537297,v0="));
        assert_eq!(
            common::signature::verify_timestamped("wsec_test", Some(&header), &body, 1739537297, 1800),
            Ok(())
        );
        let mut tampered = body.clone();
        tampered.push(b' ');
        assert!(
            common::signature::verify_timestamped("wsec_test", Some(&header), &tampered, 1739537297, 1800)
                .is_err()
        );
        let v: Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(v["type"], "post_call_transcription");
        assert_eq!(v["event_timestamp"], 1739537297);
    }
}
