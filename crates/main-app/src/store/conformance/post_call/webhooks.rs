//! Conformance cases of [`WebhookInbox`](crate::webhooks::inbox::WebhookInbox).

use chrono::Duration;

use crate::store::Store;
use crate::store::conformance::fixtures::t0;
use crate::webhooks::inbox::InboundWebhook;

fn webhook(key: &str, seconds: i64) -> InboundWebhook {
    InboundWebhook {
        id: uuid::Uuid::now_v7().to_string(),
        source: "elevenlabs".into(),
        kind: "post_call_transcription".into(),
        dedupe_key: key.to_owned(),
        received_at: t0() + Duration::seconds(seconds),
        body: r#"{"type":"post_call_transcription","data":{"x":"Zoë"}}"#.into(),
        processed_at: None,
        error: None,
    }
}

/// A second webhook with the same key is not stored; unprocessed ones are listed oldest first
/// until processed.
pub async fn webhooks_are_deduplicated_and_processed_once(store: &dyn Store) {
    let first = webhook("elevenlabs:post_call_transcription:conv_1", 1);
    let second = webhook("elevenlabs:post_call_transcription:conv_2", 0);
    assert!(store.record_webhook(&first).await.expect("record"));
    assert!(!store.record_webhook(&webhook(&first.dedupe_key, 5)).await.expect("duplicate"));
    assert!(store.record_webhook(&second).await.expect("record"));
    assert_eq!(store.unprocessed_webhooks(10).await.expect("list"), vec![second.clone(), first.clone()]);
    assert_eq!(store.unprocessed_webhooks(1).await.expect("list").len(), 1);
    store
        .mark_webhook_processed(&second.id, t0(), Some("no call for conversation conv_2"))
        .await
        .expect("mark");
    assert_eq!(store.unprocessed_webhooks(10).await.expect("list"), vec![first]);
}
