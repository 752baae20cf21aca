//! Test harness: a sandbox on port 0 and a tiny "application" server that receives the
//! sandbox's callbacks (validating every `X-Twilio-Signature`), serves TwiML, and accepts media
//! stream WebSockets that the test drives by hand.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod bridge;

use axum::Router;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use sandbox::config::{DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, DEFAULT_FROM_NUMBER};
use sandbox::{Sandbox, SandboxConfig, SandboxHandle};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{Notify, mpsc};

/// One request the app received.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub params: Vec<(String, String)>,
    pub signature_valid: bool,
    pub body: Vec<u8>,
    pub headers: HashMap<String, String>,
}

impl Received {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// A stream WebSocket accepted by the app.
pub struct WsConn {
    pub rx: mpsc::UnboundedReceiver<Option<String>>,
    pub tx: mpsc::UnboundedSender<Message>,
    pub signature_valid: bool,
}

#[derive(Clone)]
struct AppState {
    base: String,
    received: Arc<Mutex<Vec<Received>>>,
    twiml: Arc<Mutex<HashMap<String, String>>>,
    notify: Arc<Notify>,
    ws_tx: mpsc::UnboundedSender<WsConn>,
}

/// The test's application server.
pub struct App {
    pub base: String,
    state: AppState,
    pub ws: mpsc::UnboundedReceiver<WsConn>,
}

impl App {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (ws_tx, ws) = mpsc::unbounded_channel();
        let state = AppState {
            base: base.clone(),
            received: Arc::default(),
            twiml: Arc::default(),
            notify: Arc::default(),
            ws_tx,
        };
        let router = Router::new()
            .route("/stream", axum::routing::get(ws_handler))
            .fallback(handler)
            .with_state(state.clone());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Self { base, state, ws }
    }

    /// Serves `doc` at `path`.
    pub fn twiml(&self, path: &str, doc: &str) {
        self.state.twiml.lock().unwrap().insert(path.to_owned(), doc.to_owned());
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn ws_url(&self) -> String {
        format!("{}/stream", self.base.replace("http://", "ws://"))
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.received.lock().unwrap().clone()
    }

    pub fn received_at(&self, path: &str) -> Vec<Received> {
        self.received().into_iter().filter(|r| r.path.split('?').next() == Some(path)).collect()
    }

    /// Waits until `pred` holds on the requests received.
    pub async fn wait(&self, timeout: Duration, pred: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.state.notify.notified();
            let got = self.received();
            if pred(&got) {
                return got;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!("timed out; received: {:#?}", self.received());
            }
        }
    }

    pub async fn next_ws(&mut self) -> WsConn {
        tokio::time::timeout(Duration::from_secs(10), self.ws.recv()).await.expect("stream connects").unwrap()
    }
}

async fn handler(
    State(state): State<AppState>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let path = uri.path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_default();
    let is_form = headers
        .get("content-type")
        .is_some_and(|v| v.to_str().unwrap_or("").starts_with("application/x-www-form-urlencoded"));
    let params: Vec<(String, String)> =
        if method == Method::POST && is_form { serde_urlencoded::from_bytes(&body).unwrap() } else { vec![] };
    let header_map: HashMap<String, String> =
        headers.iter().map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned())).collect();
    let url = format!("{}{path}", state.base);
    let sig = headers.get("x-twilio-signature").and_then(|v| v.to_str().ok()).unwrap_or("");
    let signature_valid = common::signature::validate_twilio(DEFAULT_AUTH_TOKEN, &url, &params, sig);
    let query_params: Vec<(String, String)> =
        uri.query().map(|q| serde_urlencoded::from_str(q).unwrap()).unwrap_or_default();
    let all = if method == Method::GET { query_params } else { params };
    state.received.lock().unwrap().push(Received {
        method: method.to_string(),
        path: path.clone(),
        params: all,
        signature_valid,
        body: body.to_vec(),
        headers: header_map,
    });
    state.notify.notify_waiters();
    let doc = state.twiml.lock().unwrap().get(uri.path()).cloned();
    match doc {
        Some(doc) => ([("content-type", "text/xml")], doc).into_response(),
        None if uri.path().starts_with("/missing") => axum::http::StatusCode::NOT_FOUND.into_response(),
        None => axum::http::StatusCode::NO_CONTENT.into_response(),
    }
}

async fn ws_handler(State(state): State<AppState>, headers: HeaderMap, ws: WebSocketUpgrade) -> Response {
    let sig = headers.get("x-twilio-signature").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let url = format!("{}/stream", state.base.replace("http://", "ws://"));
    let signature_valid = common::signature::validate_twilio(DEFAULT_AUTH_TOKEN, &url, &[], &sig);
    ws.on_upgrade(move |socket| serve_ws(socket, state, signature_valid))
}

async fn serve_ws(mut socket: WebSocket, state: AppState, signature_valid: bool) {
    let (in_tx, rx) = mpsc::unbounded_channel();
    let (tx, mut out_rx) = mpsc::unbounded_channel::<Message>();
    state.ws_tx.send(WsConn { rx, tx, signature_valid }).unwrap();
    loop {
        tokio::select! {
            msg = socket.recv() => match msg {
                Some(Ok(Message::Text(t))) => { let _ = in_tx.send(Some(t.to_string())); }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => { let _ = in_tx.send(None); return; }
                _ => {}
            },
            out = out_rx.recv() => match out {
                Some(m) => {
                    let close = matches!(m, Message::Close(_));
                    if socket.send(m).await.is_err() || close { let _ = in_tx.send(None); return; }
                }
                None => return,
            },
        }
    }
}

/// A sandbox with fast delays.
pub async fn sandbox(speed: f64) -> SandboxHandle {
    sandbox_with(|c| c.speed = speed).await
}

pub async fn sandbox_with(f: impl FnOnce(&mut SandboxConfig)) -> SandboxHandle {
    let mut config = SandboxConfig::default();
    f(&mut config);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    Sandbox::start(listener, config).await.expect("sandbox starts")
}

/// A REST client for the sandbox's Twilio API.
pub struct Twilio {
    pub base: String,
    pub http: reqwest::Client,
}

impl Twilio {
    pub fn new(sb: &SandboxHandle) -> Self {
        Self { base: sb.base_url().to_owned(), http: reqwest::Client::new() }
    }

    pub fn calls_url(&self) -> String {
        format!("{}/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}/Calls.json", self.base)
    }

    pub fn call_url(&self, sid: &str) -> String {
        format!("{}/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}/Calls/{sid}.json", self.base)
    }

    pub async fn post(&self, url: &str, form: &[(&str, &str)]) -> (u16, serde_json::Value) {
        let res = self
            .http
            .post(url)
            .basic_auth(DEFAULT_ACCOUNT_SID, Some(DEFAULT_AUTH_TOKEN))
            .form(form)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(serde_json::Value::Null))
    }

    pub async fn get(&self, url: &str) -> reqwest::Response {
        self.http.get(url).basic_auth(DEFAULT_ACCOUNT_SID, Some(DEFAULT_AUTH_TOKEN)).send().await.unwrap()
    }

    /// Creates a call to `to` with main-app's parameters; returns the SID.
    pub async fn create(&self, app: &App, to: &str, extra: &[(&str, &str)]) -> String {
        let twiml = app.url("/twiml?call=abc");
        let status = app.url("/status");
        let mut form: Vec<(&str, &str)> = vec![
            ("To", to),
            ("From", DEFAULT_FROM_NUMBER),
            ("Url", &twiml),
            ("Method", "POST"),
            ("StatusCallback", &status),
            ("StatusCallbackMethod", "POST"),
            ("StatusCallbackEvent", "initiated"),
            ("StatusCallbackEvent", "ringing"),
            ("StatusCallbackEvent", "answered"),
            ("StatusCallbackEvent", "completed"),
        ];
        form.extend_from_slice(extra);
        let (status, body) = self.post(&self.calls_url(), &form).await;
        assert_eq!(status, 201, "{body}");
        body["sid"].as_str().unwrap().to_owned()
    }
}

pub const SECS: Duration = Duration::from_secs(1);

/// A WebSocket client of the simulated agent (plays media-proxy's part in tests).
pub struct ElClient {
    pub ws: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
}

pub enum ElEvent {
    Json(serde_json::Value),
    Closed(Option<u16>),
}

impl ElClient {
    /// Gets a signed URL with the default key and connects.
    pub async fn connect(sb: &SandboxHandle) -> Self {
        let url = signed_url(sb).await;
        let (ws, _) = tokio_tungstenite::connect_async(url).await.expect("agent accepts the signed URL");
        Self { ws }
    }

    /// Sends a message; a socket the agent already closed is not an error here (the test checks
    /// the close itself).
    pub async fn send_json(&mut self, v: serde_json::Value) {
        use futures_util::SinkExt;
        let _ = self.ws.send(tokio_tungstenite::tungstenite::Message::text(v.to_string())).await;
    }

    /// Next JSON message or the close.
    pub async fn next(&mut self) -> ElEvent {
        use futures_util::StreamExt;
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(10), self.ws.next())
                .await
                .expect("agent message in time");
            match msg {
                Some(Ok(tokio_tungstenite::tungstenite::Message::Text(t))) => {
                    return ElEvent::Json(serde_json::from_str(t.as_str()).unwrap());
                }
                Some(Ok(tokio_tungstenite::tungstenite::Message::Close(f))) => {
                    return ElEvent::Closed(f.map(|f| u16::from(f.code)));
                }
                Some(Ok(_)) => continue,
                None | Some(Err(_)) => return ElEvent::Closed(None),
            }
        }
    }

    /// Reads until a message of `kind` (answering pings), panicking on close.
    pub async fn expect(&mut self, kind: &str) -> serde_json::Value {
        loop {
            match self.next().await {
                ElEvent::Json(v) if v["type"] == kind => return v,
                ElEvent::Json(v) if v["type"] == "ping" => {
                    let id = v["ping_event"]["event_id"].clone();
                    self.send_json(serde_json::json!({"type":"pong","event_id":id})).await;
                }
                ElEvent::Json(_) => {}
                ElEvent::Closed(code) => panic!("closed ({code:?}) while waiting for {kind}"),
            }
        }
    }

    /// Reads until the socket closes (answering pings); returns the messages seen and the code.
    pub async fn until_closed(&mut self) -> (Vec<serde_json::Value>, Option<u16>) {
        let mut seen = Vec::new();
        loop {
            match self.next().await {
                ElEvent::Json(v) => {
                    if v["type"] == "ping" {
                        let id = v["ping_event"]["event_id"].clone();
                        self.send_json(serde_json::json!({"type":"pong","event_id":id})).await;
                    }
                    seen.push(v);
                }
                ElEvent::Closed(code) => return (seen, code),
            }
        }
    }

    /// Sends `samples` (8 kHz) as μ-law `user_audio_chunk`s of 100 ms, as fast as possible.
    pub async fn send_ulaw(&mut self, samples: &[i16]) {
        use base64::Engine as _;
        for chunk in samples.chunks(800) {
            let bytes: Vec<u8> = chunk.iter().map(|s| common::audio::ulaw_encode(*s)).collect();
            let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
            self.send_json(serde_json::json!({"user_audio_chunk": b64})).await;
        }
    }
}

/// `GET /v1/convai/conversation/get-signed-url` with the default key and agent.
pub async fn signed_url(sb: &SandboxHandle) -> String {
    let url = format!(
        "{}/v1/convai/conversation/get-signed-url?agent_id={}",
        sb.base_url(),
        sandbox::config::DEFAULT_AGENT_ID
    );
    let res = reqwest::Client::new()
        .get(url)
        .header("xi-api-key", sandbox::config::DEFAULT_XI_API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    body["signed_url"].as_str().unwrap().to_owned()
}

/// A custom scenario with a short script, registered at `number`.
pub fn short_scenario(
    number: &str,
    config: &mut SandboxConfig,
    f: impl FnOnce(&mut sandbox::scenario::Scenario),
) {
    let mut s = sandbox::scenario::Scenario { name: format!("short-{number}"), ..Default::default() };
    s.script.first_message = "Hi, is this Ann?".into();
    s.script.turns = vec![sandbox::script::Turn {
        user: "Yes, speaking right now.".into(),
        agent: "Great, thanks Ann. Goodbye!".into(),
    }];
    f(&mut s);
    config.scenarios.insert(number, s);
}
