//! The background task that delivers queued events to main-app.
//!
//! It takes whatever is queued (up to [`SenderConfig::max_batch`] events), posts one signed
//! [`MediaEventBatch`] to `POST {MAIN_APP_URL}/internal/media-events` and retries with backoff on
//! connection errors, timeouts, 408/429 and 5xx. Other 4xx responses and exhausted retries count
//! the batch as lost and log it. Batches go out in order. The task ends when every sender of the
//! queue is gone, or when asked to finish (at shutdown) and nothing is left queued.

use super::EventStats;
use super::retry::{Backoff, Verdict, classify};
use common::events::media::{MediaEvent, MediaEventBatch, SIGNATURE_HEADER};
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Where and how to deliver.
#[derive(Debug, Clone)]
pub struct SenderConfig {
    /// Full URL of the events endpoint.
    pub url: String,
    /// Key of the `x-media-proxy-signature` HMAC.
    pub secret: SecretString,
    /// This instance's name, for main-app's logs.
    pub instance: String,
    /// Retry policy.
    pub backoff: Backoff,
    /// Largest batch posted at once.
    pub max_batch: usize,
}

/// Runs until the queue is closed, or `finish` is cancelled and the queue is empty.
pub async fn run(
    mut rx: mpsc::Receiver<MediaEvent>,
    client: reqwest::Client,
    config: SenderConfig,
    stats: Arc<EventStats>,
    finish: CancellationToken,
) {
    let mut batch = Vec::with_capacity(config.max_batch);
    loop {
        let first = tokio::select! {
            biased;
            event = rx.recv() => event,
            _ = finish.cancelled() => None,
        };
        let Some(first) = first else { break };
        batch.push(first);
        while batch.len() < config.max_batch {
            match rx.try_recv() {
                Ok(event) => batch.push(event),
                Err(_) => break,
            }
        }
        deliver(&client, &config, &stats, std::mem::take(&mut batch)).await;
    }
    tracing::debug!("event sender finished");
}

fn jitter_unit() -> f64 {
    let r = (uuid::Uuid::new_v4().as_u128() & 0xFFFF) as f64 / 65535.0;
    r * 2.0 - 1.0
}

async fn deliver(
    client: &reqwest::Client,
    config: &SenderConfig,
    stats: &EventStats,
    events: Vec<MediaEvent>,
) {
    let count = events.len() as u64;
    let batch = MediaEventBatch { instance: config.instance.clone(), events };
    let body = match serde_json::to_vec(&batch) {
        Ok(body) => body,
        Err(err) => {
            tracing::error!(%err, count, "could not serialise an event batch: events lost");
            stats.lost_delivery.fetch_add(count, Ordering::Relaxed);
            return;
        }
    };
    let mut attempt = 1;
    loop {
        let signature = common::signature::timestamped_signature(
            config.secret.expose_secret(),
            chrono::Utc::now().timestamp(),
            &body,
        );
        let result = client
            .post(&config.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, signature)
            .body(body.clone())
            .send()
            .await;
        let status = match &result {
            Ok(resp) => Some(resp.status().as_u16()),
            Err(err) => {
                tracing::debug!(%err, attempt, "event delivery attempt failed");
                None
            }
        };
        match classify(status) {
            Verdict::Done => {
                stats.delivered.fetch_add(count, Ordering::Relaxed);
                return;
            }
            Verdict::GiveUp => {
                tracing::error!(?status, count, "main-app refused an event batch: events lost");
                stats.lost_delivery.fetch_add(count, Ordering::Relaxed);
                return;
            }
            Verdict::Retry => match config.backoff.delay_after(attempt, jitter_unit()) {
                Some(delay) => {
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                None => {
                    tracing::error!(?status, count, attempt, "main-app unreachable: event batch lost");
                    stats.lost_delivery.fetch_add(count, Ordering::Relaxed);
                    return;
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::EventQueue;
    use common::events::media::MediaEventKind;
    use common::ids::CallId;
    use std::time::Duration;

    async fn server(status: u16) -> String {
        let app = axum::Router::new().route(
            common::events::media::EVENTS_PATH,
            axum::routing::post(
                move || async move { axum::http::StatusCode::from_u16(status).expect("status") },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url =
            format!("http://{}{}", listener.local_addr().expect("addr"), common::events::media::EVENTS_PATH);
        tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
        url
    }

    async fn deliver_three(status: u16) -> Arc<EventStats> {
        crate::install_crypto_provider();
        let (queue, rx, stats) = EventQueue::new(16);
        let config = SenderConfig {
            url: server(status).await,
            secret: SecretString::from("s".repeat(32)),
            instance: "test".into(),
            backoff: Backoff { base: Duration::from_millis(5), max_attempts: 3, ..Backoff::default() },
            max_batch: 10,
        };
        let mut call = queue.for_call(CallId::new());
        for _ in 0..3 {
            call.emit(MediaEventKind::Error { code: "x".into(), message: String::new() });
        }
        drop((call, queue));
        run(rx, reqwest::Client::new(), config, stats.clone(), CancellationToken::new()).await;
        stats
    }

    #[tokio::test]
    async fn exhausted_retries_count_the_batch_as_lost() {
        let stats = deliver_three(503).await;
        assert_eq!(stats.lost_delivery.load(Ordering::Relaxed), 3);
        assert_eq!(stats.delivered.load(Ordering::Relaxed), 0);
    }

    #[tokio::test]
    async fn refusals_are_not_retried_and_successes_are_counted() {
        assert_eq!(deliver_three(401).await.lost_delivery.load(Ordering::Relaxed), 3);
        assert_eq!(deliver_three(204).await.delivered.load(Ordering::Relaxed), 3);
    }
}
