//! Simulated Twilio media streams: each connects to the bridge under test, sends `connected` and
//! `start` (with a valid stream token), then one stamped 20 ms μ-law frame every 20 ms; it records
//! the stamps of the agent audio it receives and echoes every mark at once (the agent talks in
//! real time, so nothing is queued for playback).

use common::ids::CallId;
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

use super::frame::{self, Stamp};
use super::stats::{Clock, Local, Recorder};

const STREAM_SID_PREFIX: &str = "MZ";

/// What one stream needs.
pub struct StreamSpec {
    /// Stream index.
    pub index: u32,
    /// `ws://host:port/outbound-media-stream`.
    pub url: String,
    /// Shared secret for the stream token.
    pub secret: String,
    /// Offset of this stream's 20 ms grid, so streams do not all send at the same instant.
    pub phase: Duration,
}

#[derive(Deserialize)]
struct Incoming<'a> {
    event: &'a str,
    #[serde(borrow)]
    media: Option<Payload<'a>>,
    #[serde(borrow)]
    mark: Option<Name<'a>>,
}

#[derive(Deserialize)]
struct Payload<'a> {
    payload: &'a str,
}

#[derive(Deserialize)]
struct Name<'a> {
    name: &'a str,
}

fn sid(prefix: &str) -> String {
    format!("{prefix}{}", uuid::Uuid::new_v4().simple())
}

/// Runs one stream until `stop`.
pub async fn run_stream(spec: StreamSpec, clock: Clock, recorder: Arc<Recorder>, stop: CancellationToken) {
    let Ok((mut ws, _)) = tokio_tungstenite::connect_async_with_config(&spec.url, None, true).await else {
        recorder.failed_streams.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        return;
    };
    let call_id = CallId::new();
    let token =
        common::stream_token::issue(spec.secret.as_bytes(), &call_id, chrono::Utc::now().timestamp(), 300);
    let stream_sid = sid(STREAM_SID_PREFIX);
    let connected = r#"{"event":"connected","protocol":"Call","version":"1.0.0"}"#;
    let start = serde_json::json!({"event":"start","sequenceNumber":"1","streamSid":stream_sid,"start":{
        "accountSid":sid("AC"),"streamSid":stream_sid,"callSid":sid("CA"),"tracks":["inbound"],
        "customParameters":{"callId":call_id.as_str(),"token":token},
        "mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}});
    let started_us = clock.now_us();
    if ws.send(Message::Text(connected.into())).await.is_err()
        || ws.send(Message::Text(start.to_string().into())).await.is_err()
    {
        recorder.failed_streams.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        return;
    }
    let mut ticker =
        tokio::time::interval_at(tokio::time::Instant::now() + spec.phase, Duration::from_millis(20));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let (mut seq, mut sequence_number) = (0u32, 1u64);
    let (mut local_in, mut local_out) = (Local::default(), Local::default());
    let mut setup_done = false;
    let mut closed_early = false;
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = ticker.tick() => {
                seq += 1;
                sequence_number += 1;
                let sent_us = clock.now_us();
                let payload = frame::encode(Stamp { stream: spec.index, seq, sent_us });
                let msg = format!(
                    r#"{{"event":"media","sequenceNumber":"{sequence_number}","media":{{"track":"inbound","chunk":"{seq}","timestamp":"{}","payload":"{payload}"}},"streamSid":"{stream_sid}"}}"#,
                    seq.saturating_sub(1) * 20
                );
                if ws.send(Message::Text(msg.into())).await.is_err() {
                    closed_early = true;
                    break;
                }
                if recorder.in_window(sent_us) {
                    local_in.sent += 1;
                }
            }
            msg = ws.next() => {
                let text = match msg {
                    Some(Ok(Message::Text(t))) => t,
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => { closed_early = true; break; }
                    Some(Ok(_)) => continue,
                };
                let now = clock.now_us();
                let Ok(incoming) = serde_json::from_str::<Incoming>(text.as_str()) else { continue };
                match (incoming.event, incoming.media, incoming.mark) {
                    ("media", Some(media), _) => {
                        let Some(stamp) = frame::decode(media.payload) else { continue };
                        if !setup_done {
                            setup_done = true;
                            let setup = now.saturating_sub(started_us).min(u64::from(u32::MAX)) as u32;
                            if let Ok(mut s) = recorder.setup.lock() { s.push(setup); }
                        }
                        if recorder.in_window(stamp.sent_us) {
                            local_out.received += 1;
                            local_out.latencies.push(now.saturating_sub(stamp.sent_us).min(u64::from(u32::MAX)) as u32);
                        }
                    }
                    ("mark", _, Some(mark)) => {
                        sequence_number += 1;
                        let echo = format!(
                            r#"{{"event":"mark","sequenceNumber":"{sequence_number}","streamSid":"{stream_sid}","mark":{{"name":"{}"}}}}"#,
                            mark.name
                        );
                        if ws.send(Message::Text(echo.into())).await.is_err() { closed_early = true; break; }
                    }
                    _ => {}
                }
            }
        }
    }
    if closed_early {
        recorder.failed_streams.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    } else {
        sequence_number += 1;
        let stop_msg = format!(
            r#"{{"event":"stop","sequenceNumber":"{sequence_number}","stop":{{"accountSid":"AC","callSid":"CA"}},"streamSid":"{stream_sid}"}}"#
        );
        // Best effort: the run is over either way.
        let _ = tokio::time::timeout(Duration::from_secs(1), ws.send(Message::Text(stop_msg.into()))).await;
        let _ = tokio::time::timeout(Duration::from_secs(1), ws.close(None)).await;
    }
    local_in.merge_into(&recorder.inbound);
    local_out.merge_into(&recorder.outbound);
}
