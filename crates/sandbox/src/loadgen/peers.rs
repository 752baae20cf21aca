//! The load generator's in-process peers of the bridge under test, on one HTTP port:
//!
//! - a simulated ElevenLabs: `get-signed-url`, and the agent WebSocket (on its own listener, with
//!   the generator's lean [`ws`](super::ws)), which answers the initiation with
//!   `conversation_initiation_metadata` (`ulaw_8000` both ways) at once, then talks continuously:
//!   one stamped 20 ms frame every 20 ms (from the shared [`Ticker`]), and records the stamps of
//!   the caller audio it receives;
//! - a main-app stand-in: `/internal/stream-context` verifies and consumes stream tokens issued
//!   with the shared secret, `/internal/media-events` verifies the signature and counts events.

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use common::events::media::{CONTEXT_PATH, CallContext, EVENTS_PATH, SIGNATURE_HEADER};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

use super::frame::{self, Stamp};
use super::stats::{Clock, Local, Recorder};
use super::ticker::{Talker, Ticker};
use super::twilio::field;
use super::ws::{self, Conn};

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
    /// The agent WebSocket's address (`host:port`).
    pub agent_addr: String,
    /// Paces the agents (and the Twilio streams of the run).
    pub ticker: Arc<Ticker>,
}

impl Peers {
    /// Starts the peers: HTTP on `listener`, the agent WebSocket on `agent_listener`, agents
    /// paced by `ticker`.
    pub fn start(
        listener: tokio::net::TcpListener,
        agent_listener: tokio::net::TcpListener,
        ticker: Arc<Ticker>,
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
            agent_addr: agent_listener.local_addr().map(|a| a.to_string()).unwrap_or_default(),
            ticker,
        };
        let agents = peers.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = agents.stop.cancelled() => return,
                    accepted = agent_listener.accept() => match accepted {
                        Ok((tcp, _)) => { tokio::spawn(conversation(tcp, agents.clone())); }
                        Err(err) => tracing::warn!(%err, "agent accept failed"),
                    },
                }
            }
        });
        let app = Router::new()
            .route("/v1/convai/conversation/get-signed-url", get(signed_url))
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
}

async fn signed_url(State(peers): State<Peers>) -> Response {
    let url = format!("ws://{}/v1/convai/conversation?agent_id=loadgen&token=t", peers.agent_addr);
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

/// One agent's sending half, driven by the ticker.
struct AgentSender {
    conn: Arc<Conn>,
    index: u32,
    seq: AtomicU32,
    clock: Clock,
    recorder: Arc<Recorder>,
    done: AtomicBool,
}

impl Talker for AgentSender {
    fn tick(&self) -> bool {
        if self.done.load(Ordering::Relaxed) {
            return false;
        }
        let seq = self.seq.fetch_add(1, Ordering::Relaxed) + 1;
        let sent_us = self.clock.now_us();
        let sent = self.conn.send_with(ws::TEXT, |b| {
            b.extend_from_slice(br#"{"type":"audio","audio_event":{"audio_base_64":""#);
            frame::encode_into(Stamp { stream: self.index, seq, sent_us }, b);
            let _ = write!(b, r#"","event_id":1}}}}"#);
        });
        if sent && self.recorder.in_window(sent_us) {
            self.recorder.outbound.sent.fetch_add(1, Ordering::Relaxed);
        }
        sent
    }
}

const METADATA: &str = r#"{"type":"conversation_initiation_metadata","conversation_initiation_metadata_event":{"conversation_id":"conv_load","agent_output_audio_format":"ulaw_8000","user_input_audio_format":"ulaw_8000"}}"#;

/// One agent conversation: the bridge's initiation first, then metadata at once, then a stamped
/// frame every 20 ms until the bridge closes or the run stops.
async fn conversation(tcp: tokio::net::TcpStream, peers: Peers) {
    let Ok(Ok((path, conn))) = tokio::time::timeout(Duration::from_secs(10), ws::accept(tcp)).await else {
        return;
    };
    if !path.starts_with("/v1/convai/conversation?") {
        return;
    }
    let conn = Arc::new(conn);
    let n = peers.conversations.fetch_add(1, Ordering::Relaxed) as u32;
    let sender = Arc::new(AgentSender {
        conn: conn.clone(),
        index: n,
        seq: AtomicU32::new(0),
        clock: peers.clock,
        recorder: peers.recorder.clone(),
        done: AtomicBool::new(false),
    });
    let recorder = peers.recorder.clone();
    let mut local_in = Local::default();
    let mut initiated = false;
    let on_text = |text: &mut [u8]| {
        if !initiated {
            // The bridge must send its initiation first; anything else ends the conversation.
            if memchr::memmem::find(text, b"conversation_initiation_client_data").is_none() {
                conn.close();
                return;
            }
            initiated = true;
            // The agent answers at once: metadata, its first frame, then one every 20 ms.
            if conn.send_text(METADATA.as_bytes()) && sender.tick() {
                peers.ticker.add(peers.ticker.slot_now(), sender.clone());
            }
            return;
        }
        let now = peers.clock.now_us();
        if let Some(stamp) =
            field(text, b"user_audio_chunk").and_then(|p| std::str::from_utf8(p).ok()).and_then(frame::decode)
            && recorder.in_window(stamp.sent_us)
        {
            local_in.received += 1;
            local_in.latencies.push(now.saturating_sub(stamp.sent_us).min(u64::from(u32::MAX)) as u32);
        }
    };
    let mut on_text = on_text;
    tokio::select! {
        _ = peers.stop.cancelled() => {}
        _ = conn.read_frames(&mut on_text) => {}
    }
    sender.done.store(true, Ordering::Relaxed);
    conn.close();
    local_in.merge_into(&recorder.inbound);
}
