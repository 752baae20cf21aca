//! In-process simulated peers built to the protocol reference (§5 Twilio Media Streams, §6
//! ElevenLabs agent WebSocket), plus a main-app stand-in, and a helper that starts the real
//! media-proxy on port 0 against them.
#![allow(dead_code, clippy::unwrap_used)]

use axum::extract::ws::{Message as AxMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use common::events::media::{CallContext, MediaEvent, MediaEventBatch, MediaEventKind};
use common::ids::CallId;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;

pub const SECRET: &str = "test-secret-test-secret-test-secret!";
pub const API_KEY: &str = "xi-test-key";
pub const AGENT_ID: &str = "agent_test";
pub const STREAM_SID: &str = "MZ0123456789abcdef0123456789abcdef";
pub const CALL_SID: &str = "CA0123456789abcdef0123456789abcdef";
pub const WAIT: Duration = Duration::from_secs(5);

async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

// ------------------------------------------------------------------------------------------------
// Simulated ElevenLabs

/// What the simulated agent does on its own.
#[derive(Clone)]
pub struct AgentBehaviour {
    /// Send `conversation_initiation_metadata` with these formats this long after the handshake.
    pub metadata: Option<(&'static str, &'static str, Duration)>,
    /// HTTP status of the signed-URL endpoint (200 = works).
    pub signed_url_status: u16,
}

impl Default for AgentBehaviour {
    fn default() -> Self {
        Self { metadata: Some(("ulaw_8000", "ulaw_8000", Duration::ZERO)), signed_url_status: 200 }
    }
}

/// A test's handle on one agent conversation.
pub struct AgentConn {
    /// Text frames the proxy sent, and `CLOSE <code>` when it closed.
    pub rx: mpsc::UnboundedReceiver<String>,
    tx: mpsc::UnboundedSender<AgentCmd>,
}

enum AgentCmd {
    Send(String),
    Close(u16),
}

impl AgentConn {
    pub fn send(&self, v: Value) {
        self.tx.send(AgentCmd::Send(v.to_string())).unwrap();
    }

    pub fn close(&self, code: u16) {
        self.tx.send(AgentCmd::Close(code)).unwrap();
    }

    pub async fn next(&mut self) -> String {
        tokio::time::timeout(WAIT, self.rx.recv()).await.expect("agent frame in time").expect("agent open")
    }

    pub async fn next_json(&mut self) -> Value {
        let text = self.next().await;
        serde_json::from_str(&text).unwrap_or_else(|_| json!({ "raw": text }))
    }

    /// Next frame that is not caller audio.
    pub async fn next_control(&mut self) -> Value {
        loop {
            let v = self.next_json().await;
            if v.get("user_audio_chunk").is_none() {
                return v;
            }
        }
    }

    /// Waits until the proxy closed the socket; returns the close code.
    pub async fn closed(&mut self) -> u16 {
        loop {
            let text = self.next().await;
            if let Some(code) = text.strip_prefix("CLOSE ") {
                return code.parse().unwrap();
            }
        }
    }

    pub fn audio(&self, payload: &str, event_id: u64) {
        self.send(json!({"type":"audio","audio_event":{"audio_base_64": payload, "event_id": event_id}}));
    }
}

pub struct SimAgent {
    pub addr: SocketAddr,
    pub conns: mpsc::UnboundedReceiver<AgentConn>,
    pub signed_url_fetches: Arc<AtomicUsize>,
    pub handshakes: Arc<AtomicUsize>,
}

#[derive(Clone)]
struct AgentState {
    behaviour: AgentBehaviour,
    conns: mpsc::UnboundedSender<AgentConn>,
    fetches: Arc<AtomicUsize>,
    handshakes: Arc<AtomicUsize>,
    addr: Arc<Mutex<Option<SocketAddr>>>,
}

impl SimAgent {
    pub async fn start(behaviour: AgentBehaviour) -> Self {
        let (tx, conns) = mpsc::unbounded_channel();
        let state = AgentState {
            behaviour,
            conns: tx,
            fetches: Arc::default(),
            handshakes: Arc::default(),
            addr: Arc::default(),
        };
        let app = Router::new()
            .route("/v1/convai/conversation/get-signed-url", get(signed_url))
            .route("/v1/convai/conversation", get(agent_ws))
            .with_state(state.clone());
        let addr = serve(app).await;
        *state.addr.lock().unwrap() = Some(addr);
        Self { addr, conns, signed_url_fetches: state.fetches, handshakes: state.handshakes }
    }

    pub async fn next_conn(&mut self) -> AgentConn {
        tokio::time::timeout(WAIT, self.conns.recv()).await.expect("agent connection in time").unwrap()
    }
}

async fn signed_url(
    State(s): State<AgentState>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    s.fetches.fetch_add(1, Ordering::SeqCst);
    if headers.get("xi-api-key").and_then(|v| v.to_str().ok()) != Some(API_KEY) {
        return (StatusCode::UNAUTHORIZED, Json(json!({"detail":{"status":"invalid_api_key"}})))
            .into_response();
    }
    if q.get("agent_id").map(String::as_str) != Some(AGENT_ID) {
        return StatusCode::UNPROCESSABLE_ENTITY.into_response();
    }
    if s.behaviour.signed_url_status != 200 {
        return StatusCode::from_u16(s.behaviour.signed_url_status).unwrap().into_response();
    }
    let addr = s.addr.lock().unwrap().unwrap();
    let url = format!("ws://{addr}/v1/convai/conversation?agent_id={AGENT_ID}&token=signed-abc");
    Json(json!({ "signed_url": url })).into_response()
}

async fn agent_ws(
    State(s): State<AgentState>,
    Query(q): Query<HashMap<String, String>>,
    upgrade: WebSocketUpgrade,
) -> Response {
    if q.get("token").map(String::as_str) != Some("signed-abc") {
        return StatusCode::FORBIDDEN.into_response();
    }
    s.handshakes.fetch_add(1, Ordering::SeqCst);
    upgrade.on_upgrade(move |socket| agent_session(socket, s))
}

async fn agent_session(mut socket: WebSocket, s: AgentState) {
    let (to_test, rx) = mpsc::unbounded_channel();
    let (tx, mut cmds) = mpsc::unbounded_channel();
    s.conns.send(AgentConn { rx, tx }).unwrap();
    let metadata = s.behaviour.metadata;
    let meta_timer = tokio::time::sleep(metadata.map_or(Duration::from_secs(3600), |m| m.2));
    tokio::pin!(meta_timer);
    let mut meta_sent = metadata.is_none();
    loop {
        tokio::select! {
            _ = &mut meta_timer, if !meta_sent => {
                meta_sent = true;
                let (out, input, _) = metadata.unwrap();
                let m = json!({"type":"conversation_initiation_metadata","conversation_initiation_metadata_event":{
                    "conversation_id":"conv_test","agent_output_audio_format":out,"user_input_audio_format":input}});
                if socket.send(AxMessage::Text(m.to_string().into())).await.is_err() { break; }
            }
            msg = socket.recv() => match msg {
                Some(Ok(AxMessage::Text(t))) => { let _ = to_test.send(t.to_string()); }
                Some(Ok(AxMessage::Close(frame))) => {
                    let _ = to_test.send(format!("CLOSE {}", frame.map_or(1005, |f| f.code)));
                    break;
                }
                Some(Ok(_)) => {}
                _ => { let _ = to_test.send("CLOSE 1006".into()); break; }
            },
            cmd = cmds.recv() => match cmd {
                Some(AgentCmd::Send(t)) => { if socket.send(AxMessage::Text(t.into())).await.is_err() { break; } }
                Some(AgentCmd::Close(code)) => {
                    let frame = axum::extract::ws::CloseFrame { code, reason: "bye".into() };
                    let _ = socket.send(AxMessage::Close(Some(frame))).await;
                    // wait for the proxy's close reply, briefly
                    let _ = tokio::time::timeout(Duration::from_secs(1), socket.recv()).await;
                    break;
                }
                None => break,
            },
        }
    }
}

// ------------------------------------------------------------------------------------------------
// main-app stand-in

#[derive(Clone, Default)]
pub struct MainApp {
    pub addr: Option<SocketAddr>,
    pub events: Arc<Mutex<Vec<MediaEvent>>>,
    pub contexts: Arc<Mutex<HashMap<String, CallContext>>>,
    used_nonces: Arc<Mutex<HashSet<String>>>,
    pub context_fetches: Arc<AtomicUsize>,
    pub fail_events: Arc<AtomicBool>,
    pub bad_signatures: Arc<AtomicUsize>,
    /// Milliseconds the context endpoint waits before answering.
    pub context_delay_ms: Arc<AtomicUsize>,
}

impl MainApp {
    pub async fn start() -> Self {
        let mut app = Self::default();
        let router = Router::new()
            .route(common::events::media::CONTEXT_PATH, get(context))
            .route(common::events::media::EVENTS_PATH, post(events))
            .with_state(app.clone());
        app.addr = Some(serve(router).await);
        app
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr.unwrap())
    }

    /// Registers a call and returns (call id, a fresh token for it).
    pub fn new_call(&self, ctx: impl FnOnce(&mut CallContext)) -> (CallId, String) {
        let id = CallId::new();
        let mut c = CallContext {
            call_id: id.clone(),
            call_sid: Some(CALL_SID.into()),
            to: "+61412345678".into(),
            name: Some("Ann".into()),
            prompt: None,
            first_message: None,
            language: None,
            campaign_id: None,
            contact_id: None,
            dynamic_variables: BTreeMap::new(),
            max_duration_secs: None,
        };
        ctx(&mut c);
        self.contexts.lock().unwrap().insert(id.to_string(), c);
        let token = common::stream_token::issue(SECRET.as_bytes(), &id, chrono::Utc::now().timestamp(), 120);
        (id, token)
    }

    pub fn events_for(&self, id: &CallId) -> Vec<MediaEventKind> {
        let mut evs: Vec<MediaEvent> =
            self.events.lock().unwrap().iter().filter(|e| &e.call_id == id).cloned().collect();
        evs.sort_by_key(|e| e.seq);
        evs.into_iter().map(|e| e.kind).collect()
    }

    /// Waits until an event matching `pred` arrived for `id`; returns all events so far.
    pub async fn wait_for(&self, id: &CallId, pred: impl Fn(&MediaEventKind) -> bool) -> Vec<MediaEventKind> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let evs = self.events_for(id);
            if evs.iter().any(&pred) {
                return evs;
            }
            assert!(tokio::time::Instant::now() < deadline, "event not seen; got {evs:#?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn wait_ended(&self, id: &CallId) -> Vec<MediaEventKind> {
        self.wait_for(id, |e| matches!(e, MediaEventKind::StreamStats { .. })).await
    }
}

async fn context(
    State(app): State<MainApp>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    app.context_fetches.fetch_add(1, Ordering::SeqCst);
    let delay = app.context_delay_ms.load(Ordering::SeqCst) as u64;
    tokio::time::sleep(Duration::from_millis(delay)).await;
    let refuse = |code: &str| {
        (StatusCode::UNAUTHORIZED, Json(json!({"error":{"code":code,"message":"refused"}}))).into_response()
    };
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    let call_id = q.get("callId").cloned().unwrap_or_default();
    let claims = match common::stream_token::verify(
        SECRET.as_bytes(),
        token,
        Some(&call_id),
        chrono::Utc::now().timestamp(),
    ) {
        Ok(c) => c,
        Err(e) => return refuse(&e.code().to_ascii_uppercase()),
    };
    if !app.used_nonces.lock().unwrap().insert(claims.nonce) {
        return refuse("TOKEN_REUSED");
    }
    match app.contexts.lock().unwrap().get(&call_id) {
        Some(ctx) => Json(ctx.clone()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn events(State(app): State<MainApp>, headers: HeaderMap, body: axum::body::Bytes) -> StatusCode {
    if app.fail_events.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    let sig = headers.get(common::events::media::SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    if common::signature::verify_timestamped(SECRET, sig, &body, chrono::Utc::now().timestamp(), 300).is_err()
    {
        app.bad_signatures.fetch_add(1, Ordering::SeqCst);
        return StatusCode::UNAUTHORIZED;
    }
    let batch: MediaEventBatch = serde_json::from_slice(&body).unwrap();
    let mut stored = app.events.lock().unwrap();
    for e in batch.events {
        if !stored.iter().any(|s| s.call_id == e.call_id && s.seq == e.seq) {
            stored.push(e);
        }
    }
    StatusCode::NO_CONTENT
}

// ------------------------------------------------------------------------------------------------
// The proxy under test

pub struct Proxy {
    pub addr: SocketAddr,
    pub state: media_proxy::AppState,
    shutdown: Option<oneshot::Sender<()>>,
    pub done: tokio::task::JoinHandle<()>,
}

impl Proxy {
    pub async fn start(main: &MainApp, agent: &SimAgent, overrides: &[(&str, &str)]) -> Self {
        media_proxy::install_crypto_provider();
        let mut vars: HashMap<String, String> = [
            ("ELEVENLABS_API_KEY", API_KEY.to_owned()),
            ("ELEVENLABS_AGENT_ID", AGENT_ID.to_owned()),
            ("ELEVENLABS_API_BASE", format!("http://{}", agent.addr)),
            ("STREAM_TOKEN_SECRET", SECRET.to_owned()),
            ("MAIN_APP_URL", main.url()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        for (k, v) in overrides {
            vars.insert((*k).to_owned(), (*v).to_owned());
        }
        let settings = media_proxy::Settings::from_map(&vars).unwrap();
        let state = media_proxy::AppState::new(settings).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let run_state = state.clone();
        let done = tokio::spawn(async move {
            media_proxy::run(listener, run_state, async move {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        Self { addr, state, shutdown: Some(tx), done }
    }

    pub fn shutdown(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }

    pub async fn twilio(&self) -> Twilio {
        let url = format!("ws://{}{}", self.addr, media_proxy::STREAM_PATH);
        let (ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        Twilio { ws, seq: 0, chunk: 0 }
    }
}

// ------------------------------------------------------------------------------------------------
// Simulated Twilio (the WebSocket client side of a bidirectional <Connect><Stream>)

pub struct Twilio {
    pub ws: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    seq: u64,
    chunk: u64,
}

pub fn ulaw_frame(fill: u8) -> String {
    base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [fill; 160])
}

impl Twilio {
    async fn send(&mut self, v: Value) {
        self.ws.send(Message::Text(v.to_string().into())).await.unwrap();
    }

    pub async fn start(&mut self, call_id: &str, token: &str) {
        self.send(json!({"event":"connected","protocol":"Call","version":"1.0.0"})).await;
        self.seq = 1;
        self.send(json!({"event":"start","sequenceNumber":"1","streamSid":STREAM_SID,"start":{
            "accountSid":"AC0123456789abcdef0123456789abcdef","streamSid":STREAM_SID,"callSid":CALL_SID,
            "tracks":["inbound"],"customParameters":{"callId":call_id,"token":token},
            "mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}}))
            .await;
    }

    pub async fn media(&mut self, payload: &str) {
        self.seq += 1;
        self.chunk += 1;
        let (seq, chunk) = (self.seq.to_string(), self.chunk.to_string());
        let ts = ((self.chunk - 1) * 20).to_string();
        self.send(json!({"event":"media","sequenceNumber":seq,"streamSid":STREAM_SID,
            "media":{"track":"inbound","chunk":chunk,"timestamp":ts,"payload":payload}}))
            .await;
    }

    pub async fn echo_mark(&mut self, name: &str) {
        self.seq += 1;
        let seq = self.seq.to_string();
        self.send(json!({"event":"mark","sequenceNumber":seq,"streamSid":STREAM_SID,"mark":{"name":name}}))
            .await;
    }

    pub async fn stop(&mut self) {
        self.seq += 1;
        let seq = self.seq.to_string();
        self.send(json!({"event":"stop","sequenceNumber":seq,"streamSid":STREAM_SID,
            "stop":{"accountSid":"AC0123456789abcdef0123456789abcdef","callSid":CALL_SID}}))
            .await;
    }

    /// Next JSON message from the proxy; `{"closed": code}` when it closed the socket.
    pub async fn next(&mut self) -> Value {
        self.next_within(WAIT).await.expect("Twilio-side frame in time")
    }

    pub async fn next_within(&mut self, limit: Duration) -> Option<Value> {
        loop {
            let msg = tokio::time::timeout(limit, self.ws.next()).await.ok()?;
            match msg {
                Some(Ok(Message::Text(t))) => return Some(serde_json::from_str(t.as_str()).unwrap()),
                Some(Ok(Message::Close(f))) => {
                    return Some(json!({"closed": f.map_or(1005, |f| u16::from(f.code))}));
                }
                Some(Ok(_)) => continue,
                _ => return Some(json!({"closed": 1006})),
            }
        }
    }

    /// Waits for the proxy to close the stream, echoing every mark as played on the way.
    pub async fn until_closed(&mut self) -> (u16, Vec<Value>) {
        let mut seen = Vec::new();
        loop {
            let v = self.next().await;
            if let Some(code) = v.get("closed") {
                return (code.as_u64().unwrap() as u16, seen);
            }
            seen.push(v);
        }
    }
}
