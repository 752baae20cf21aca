//! The load generator's in-process peers of the bridge under test, on one HTTP port:
//!
//! - a simulated ElevenLabs: `get-signed-url` and the agent WebSocket, which answers the
//!   initiation with `conversation_initiation_metadata` (`ulaw_8000` both ways) at once, then
//!   talks continuously: one stamped 20 ms frame every 20 ms, and records the stamps of the
//!   caller audio it receives;
//! - a main-app stand-in: `/internal/stream-context` verifies and consumes stream tokens issued
//!   with the shared secret, `/internal/media-events` verifies the signature and counts events.

use axum::Router;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use common::events::media::{CONTEXT_PATH, CallContext, EVENTS_PATH, SIGNATURE_HEADER};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

use super::frame::{self, Stamp};
use super::stats::{Clock, Local, Recorder};

/// Shared state of the peers.
#[derive(Clone)]
pub struct Peers {
    /// Shared with the bridge under test.
    pub secret: String,
    /// The generator's clock.
    pub clock: Clock,
    /// Where measurements go.
    pub recorder: Arc<Recorder>,
    /// Ends every agent conversation.
    pub stop: CancellationToken,
    used: Arc<Mutex<HashSet<String>>>,
    /// Events main-app would have stored.
    pub events: Arc<AtomicU64>,
    /// Agent conversations opened.
    pub conversations: Arc<AtomicU64>,
    addr: Arc<Mutex<Option<std::net::SocketAddr>>>,
}

impl Peers {
    /// Starts the peers on `listener`.
    pub fn start(
        listener: tokio::net::TcpListener,
        secret: String,
        clock: Clock,
        recorder: Arc<Recorder>,
    ) -> Self {
        let peers = Self {
            secret,
            clock,
            recorder,
            stop: CancellationToken::new(),
            used: Arc::default(),
            events: Arc::default(),
            conversations: Arc::default(),
            addr: Arc::new(Mutex::new(listener.local_addr().ok())),
        };
        let app = Router::new()
            .route("/v1/convai/conversation/get-signed-url", get(signed_url))
            .route("/v1/convai/conversation", get(agent_ws))
            .route(CONTEXT_PATH, get(context))
            .route(EVENTS_PATH, post(events))
            .with_state(peers.clone());
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            // Best effort: small frames should not wait for Nagle.
            let _ = tcp.set_nodelay(true);
        });
        tokio::spawn(async move {
            if let Err(err) = axum::serve(listener, app).await {
                tracing::error!(%err, "peers server failed");
            }
        });
        peers
    }

    fn base(&self) -> String {
        self.addr.lock().ok().and_then(|a| *a).map(|a| a.to_string()).unwrap_or_default()
    }
}

async fn signed_url(State(peers): State<Peers>) -> Response {
    let url = format!("ws://{}/v1/convai/conversation?agent_id=loadgen&token=t", peers.base());
    axum::Json(serde_json::json!({ "signed_url": url })).into_response()
}

async fn context(
    State(peers): State<Peers>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    let call_id = q.get("callId").cloned().unwrap_or_default();
    let now = chrono::Utc::now().timestamp();
    let refused =
        (StatusCode::UNAUTHORIZED, axum::Json(serde_json::json!({"error":{"code":"TOKEN_INVALID"}})));
    let Ok(claims) = common::stream_token::verify(peers.secret.as_bytes(), token, Some(&call_id), now) else {
        return refused.into_response();
    };
    if !peers.used.lock().is_ok_and(|mut u| u.insert(claims.nonce)) {
        return refused.into_response();
    }
    let ctx = CallContext {
        call_id: claims.call_id,
        call_sid: None,
        to: "+61400000000".into(),
        name: Some("Load Test".into()),
        prompt: None,
        first_message: None,
        language: None,
        campaign_id: None,
        contact_id: None,
        dynamic_variables: BTreeMap::new(),
        max_duration_secs: None,
    };
    axum::Json(ctx).into_response()
}

#[derive(Deserialize)]
struct Batch {
    events: Vec<serde_json::Value>,
}

async fn events(State(peers): State<Peers>, headers: HeaderMap, body: axum::body::Bytes) -> StatusCode {
    let sig = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    let now = chrono::Utc::now().timestamp();
    if common::signature::verify_timestamped(&peers.secret, sig, &body, now, 300).is_err() {
        return StatusCode::UNAUTHORIZED;
    }
    if let Ok(batch) = serde_json::from_slice::<Batch>(&body) {
        peers.events.fetch_add(batch.events.len() as u64, Ordering::Relaxed);
    }
    StatusCode::NO_CONTENT
}

async fn agent_ws(State(peers): State<Peers>, upgrade: WebSocketUpgrade) -> Response {
    upgrade.read_buffer_size(4096).on_upgrade(move |socket| conversation(socket, peers))
}

#[derive(Deserialize)]
struct UserAudio<'a> {
    #[serde(borrow)]
    user_audio_chunk: Option<&'a str>,
}

/// One agent conversation: metadata at once, then a stamped frame every 20 ms.
async fn conversation(mut socket: WebSocket, peers: Peers) {
    let n = peers.conversations.fetch_add(1, Ordering::Relaxed);
    // The bridge must send its initiation first.
    match tokio::time::timeout(Duration::from_secs(10), socket.recv()).await {
        Ok(Some(Ok(Message::Text(t)))) if t.contains("conversation_initiation_client_data") => {}
        _ => return,
    }
    let metadata = r#"{"type":"conversation_initiation_metadata","conversation_initiation_metadata_event":{"conversation_id":"conv_load","agent_output_audio_format":"ulaw_8000","user_input_audio_format":"ulaw_8000"}}"#;
    if socket.send(Message::Text(metadata.into())).await.is_err() {
        return;
    }
    let mut ticker = tokio::time::interval(Duration::from_millis(20));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let (mut seq, mut local_in, mut local_out) = (0u32, Local::default(), Local::default());
    let recorder = peers.recorder.clone();
    loop {
        tokio::select! {
            _ = peers.stop.cancelled() => break,
            _ = ticker.tick() => {
                seq += 1;
                let sent_us = peers.clock.now_us();
                let payload = frame::encode(Stamp { stream: n as u32, seq, sent_us });
                let msg = format!(r#"{{"type":"audio","audio_event":{{"audio_base_64":"{payload}","event_id":1}}}}"#);
                if socket.send(Message::Text(msg.into())).await.is_err() {
                    break;
                }
                if recorder.in_window(sent_us) {
                    local_out.sent += 1;
                }
            }
            msg = socket.recv() => match msg {
                Some(Ok(Message::Text(t))) => {
                    let now = peers.clock.now_us();
                    if let Ok(UserAudio { user_audio_chunk: Some(p) }) = serde_json::from_str(t.as_str())
                        && let Some(stamp) = frame::decode(p)
                        && recorder.in_window(stamp.sent_us)
                    {
                        local_in.received += 1;
                        local_in.latencies.push(now.saturating_sub(stamp.sent_us).min(u64::from(u32::MAX)) as u32);
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
        }
    }
    local_in.merge_into(&recorder.inbound);
    local_out.merge_into(&recorder.outbound);
}
