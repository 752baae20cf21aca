//! The Twilio side of a bidirectional `<Connect><Stream>` (§5): a WebSocket client.
//!
//! [`open`] connects (with `X-Twilio-Signature` over the URL, query string stripped as Twilio
//! does), sends `connected` and `start`, and splits the socket into a writer task fed by a bounded
//! channel and a reader task that forwards parsed server messages. The call's actor owns the
//! [`StreamConn`]: it sends one callee frame per 20 ms tick, plays server `media` through the
//! [`Playback`] FIFO and echoes marks; [`StreamConn::finish`] sends `stop` and closes.
//!
//! The scenario's [`StreamBehaviour`] injects the faults of §5.6: a late upgrade (31901 when it
//! reaches the connect timeout), an upgrade answered with a non-101 status (31920), and
//! jittered or bursty delivery of the outgoing messages (see [`super::pacing`]).

use super::call::CallCtx;
use super::pacing::{Kind, Outgoing, Pacing};
use super::playback::Playback;
use super::record::{MarkEcho, StreamStats};
use super::twiml::StreamSpec;
use crate::scenario::StreamBehaviour;
use base64::Engine as _;
use common::twilio_media::{
    Counter, FromTwilio, InboundMedia, MarkPayload, MediaFormat, StartPayload, StopPayload, ToTwilio,
};
use futures_util::{SinkExt, StreamExt};
use secrecy::ExposeSecret;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

/// Outgoing messages buffered before callee frames are dropped (~10 s of audio).
const OUT_QUEUE: usize = 512;
/// Server messages buffered before the reader waits (back-pressure on the socket).
const IN_QUEUE: usize = 256;
/// Mark echoes kept in the stats.
const MAX_MARK_LOG: usize = 5000;

/// What the server did.
#[derive(Debug)]
pub(crate) enum StreamEvent {
    /// A valid message.
    Message(ToTwilio),
    /// Something that is not a valid server message (binary, bad JSON, unknown event).
    Invalid,
    /// A message that arrived before `start` was sent.
    Early,
    /// The socket closed (with the server's close code, if any).
    Closed(Option<u16>),
}

/// A live stream.
pub(crate) struct StreamConn {
    out: mpsc::Sender<Outgoing>,
    /// Server messages.
    pub events: mpsc::Receiver<StreamEvent>,
    /// The callee's playback buffer.
    pub playback: Playback,
    /// Counters, copied into the call record by [`StreamConn::flush`].
    pub stats: StreamStats,
    index: usize,
    seq: u64,
    chunk: u64,
    account_sid: String,
    call_sid: String,
    reporter: Reporter,
}

fn strip_query(url: &str) -> String {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    url[..end].to_owned()
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Why the WebSocket did not open: the Twilio error code and, for a non-101 answer, its status.
struct ConnectError {
    code: u32,
    http_status: Option<u16>,
}

impl From<u32> for ConnectError {
    fn from(code: u32) -> Self {
        Self { code, http_status: None }
    }
}

/// Opens the WebSocket with `X-Twilio-Signature` over `url` within `timeout`, after the
/// scenario's connect delay; on failure the Twilio error code (31922 not ws/wss, 31923
/// malformed, 31901 timeout, 31920 handshake refused, 31910 TLS, 31902 connection failed).
async fn connect(
    url: &str,
    token: &str,
    faults: &StreamBehaviour,
    timeout: Duration,
) -> Result<Socket, ConnectError> {
    if !(url.starts_with("ws://") || url.starts_with("wss://")) {
        return Err(31922.into());
    }
    let mut request = url.into_client_request().map_err(|_| 31923u32)?;
    let signature = common::signature::twilio_signature(token, url, &[]);
    request.headers_mut().insert("X-Twilio-Signature", signature.parse().map_err(|_| 31923u32)?);
    let attempt = async {
        tokio::time::sleep(Duration::from_millis(faults.connect_delay_ms)).await;
        if let Some(status) = faults.upgrade_status {
            return Err(ConnectError { code: 31920, http_status: Some(status) });
        }
        tokio_tungstenite::connect_async(request).await.map(|(socket, _)| socket).map_err(|e| match e {
            WsError::Http(res) => ConnectError { code: 31920, http_status: Some(res.status().as_u16()) },
            WsError::Tls(_) => 31910.into(),
            _ => 31902.into(),
        })
    };
    tokio::time::timeout(timeout, attempt).await.unwrap_or_else(|_| Err(31901.into()))
}

/// Connects the stream of `spec`; on failure returns the Twilio error code (recorded too).
pub(crate) async fn open(ctx: &CallCtx, spec: &StreamSpec) -> Result<StreamConn, u32> {
    let url = strip_query(&spec.url);
    let stream_sid = common::ids::StreamSid::random().to_string();
    let reporter = Reporter {
        hook: spec.status_callback.clone(),
        stream_sid: stream_sid.clone(),
        name: spec.name.clone().unwrap_or_else(|| stream_sid.clone()),
    };
    let parameters = spec.parameters.iter().cloned().collect();
    let stats = StreamStats {
        stream_sid: stream_sid.clone(),
        url: url.clone(),
        parameters,
        ..StreamStats::default()
    };
    let index = ctx.entry.update(|r| {
        r.streams.push(stats.clone());
        r.streams.len() - 1
    });
    let faults = ctx.scenario.stream;
    let timeout = ctx.state.config.stream_connect_timeout;
    let socket = match connect(&url, ctx.token.expose_secret(), &faults, timeout).await {
        Ok(socket) => socket,
        Err(e) => {
            ctx.entry.update(|r| {
                r.streams[index].error_code = Some(e.code);
                r.streams[index].http_status = e.http_status;
                r.streams[index].ended_by = Some("connect_failed".to_owned());
            });
            let detail = match e.http_status {
                Some(status) => format!("{}: the WebSocket upgrade was answered with HTTP {status}", e.code),
                None => format!("{}: the WebSocket could not be opened in time", e.code),
            };
            reporter.send(ctx, "stream-error", Some(&detail));
            return Err(e.code);
        }
    };
    let (sink, source) = socket.split();
    let (out, out_rx) = mpsc::channel(OUT_QUEUE);
    let (events_tx, events) = mpsc::channel(IN_QUEUE);
    let started = Arc::new(AtomicBool::new(false));
    tokio::spawn(write_loop(sink, out_rx, started.clone(), Pacing::new(&faults)));
    tokio::spawn(read_loop(source, events_tx, started));
    let mut conn = StreamConn {
        out,
        events,
        playback: Playback::default(),
        stats,
        index,
        seq: 0,
        chunk: 0,
        account_sid: ctx.account_sid.clone(),
        call_sid: ctx.sid.clone(),
        reporter,
    };
    conn.stats.connected = true;
    conn.send(&FromTwilio::Connected { protocol: "Call".into(), version: "1.0.0".into() });
    conn.seq = 1;
    conn.send(&FromTwilio::Start {
        sequence_number: Counter(1),
        stream_sid: stream_sid.clone(),
        start: StartPayload {
            account_sid: ctx.account_sid.clone(),
            stream_sid,
            call_sid: ctx.sid.clone(),
            tracks: vec!["inbound".to_owned()],
            custom_parameters: spec.parameters.iter().cloned().collect(),
            media_format: MediaFormat::default(),
        },
    });
    conn.flush(ctx);
    conn.reporter.send(ctx, "stream-started", None);
    Ok(conn)
}

async fn write_loop<S>(
    mut sink: S,
    mut rx: mpsc::Receiver<Outgoing>,
    started: Arc<AtomicBool>,
    mut pacing: Pacing,
) where
    S: futures_util::Sink<Message> + Unpin,
{
    while let Some(out) = rx.recv().await {
        for (release, msg) in pacing.push(out, tokio::time::Instant::now()) {
            if release > tokio::time::Instant::now() {
                tokio::time::sleep_until(release).await;
            }
            let is_close = matches!(msg, Message::Close(_));
            let is_start = matches!(&msg, Message::Text(t) if t.as_str().starts_with("{\"event\":\"start\""));
            let sent = tokio::time::timeout(Duration::from_secs(5), sink.send(msg)).await;
            if is_start {
                started.store(true, Ordering::SeqCst);
            }
            if is_close || !matches!(sent, Ok(Ok(()))) {
                return;
            }
        }
    }
}

async fn read_loop<S>(mut source: S, tx: mpsc::Sender<StreamEvent>, started: Arc<AtomicBool>)
where
    S: futures_util::Stream<Item = Result<Message, WsError>> + Unpin,
{
    let code = loop {
        let event = match source.next().await {
            Some(Ok(Message::Text(text))) if !started.load(Ordering::SeqCst) => {
                let _ = text; // content irrelevant: the server could not know the stream yet
                StreamEvent::Early
            }
            Some(Ok(Message::Text(text))) => match serde_json::from_str::<ToTwilio>(text.as_str()) {
                Ok(msg) => StreamEvent::Message(msg),
                Err(_) => StreamEvent::Invalid,
            },
            Some(Ok(Message::Binary(_))) => StreamEvent::Invalid,
            Some(Ok(Message::Close(frame))) => break frame.map(|f| u16::from(f.code)),
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => break None,
        };
        if tx.send(event).await.is_err() {
            return;
        }
    };
    // The actor may already be gone (call ended); nothing to tell then.
    let _ = tx.send(StreamEvent::Closed(code)).await;
}

impl StreamConn {
    fn send(&mut self, msg: &FromTwilio) -> bool {
        let kind = match msg {
            FromTwilio::Media { .. } => Kind::Media,
            FromTwilio::Stop { .. } => Kind::End,
            _ => Kind::Control,
        };
        let Ok(text) = serde_json::to_string(msg) else { return false };
        self.enqueue(kind, Message::text(text))
    }

    fn enqueue(&self, kind: Kind, msg: Message) -> bool {
        let out = Outgoing { at: tokio::time::Instant::now(), kind, msg };
        self.out.try_send(out).is_ok()
    }

    /// Sends one 20 ms frame of callee audio (μ-law).
    pub fn send_media(&mut self, ulaw: &[u8]) {
        self.chunk += 1;
        self.seq += 1;
        let msg = FromTwilio::Media {
            sequence_number: Counter(self.seq),
            stream_sid: self.stats.stream_sid.clone(),
            media: InboundMedia {
                track: "inbound".to_owned(),
                chunk: Counter(self.chunk),
                timestamp: Counter((self.chunk - 1) * 20),
                payload: base64::engine::general_purpose::STANDARD.encode(ulaw),
            },
        };
        if self.send(&msg) {
            self.stats.frames_sent += 1;
        } else {
            self.stats.frames_dropped += 1;
        }
    }

    /// Echoes a mark to the server.
    pub fn echo_mark(&mut self, name: String, cleared: bool) {
        self.seq += 1;
        let msg = FromTwilio::Mark {
            sequence_number: Counter(self.seq),
            stream_sid: self.stats.stream_sid.clone(),
            mark: MarkPayload { name: name.clone() },
        };
        self.send(&msg);
        if self.stats.mark_echoes.len() < MAX_MARK_LOG {
            self.stats.mark_echoes.push(MarkEcho { name, cleared });
        }
    }

    /// Applies a server message: queue audio, place a mark, or clear.
    pub fn handle(&mut self, msg: ToTwilio) {
        let sid = match &msg {
            ToTwilio::Media { stream_sid, .. }
            | ToTwilio::Mark { stream_sid, .. }
            | ToTwilio::Clear { stream_sid } => stream_sid,
        };
        if *sid != self.stats.stream_sid {
            self.stats.wrong_stream_sid += 1;
            return;
        }
        match msg {
            ToTwilio::Media { media, .. } => {
                match base64::engine::general_purpose::STANDARD.decode(media.payload.as_bytes()) {
                    Ok(bytes) => {
                        self.stats.media_received += 1;
                        self.stats.bytes_received += bytes.len() as u64;
                        self.playback.push_audio(&bytes);
                    }
                    Err(_) => self.stats.invalid_messages += 1,
                }
            }
            ToTwilio::Mark { mark, .. } => {
                self.stats.marks_received += 1;
                if let Some(name) = self.playback.push_mark(mark.name) {
                    self.echo_mark(name, false);
                }
            }
            ToTwilio::Clear { .. } => {
                self.stats.clears_received += 1;
                let mut echoed = Vec::new();
                self.stats.bytes_cleared += self.playback.clear(&mut echoed) as u64;
                for name in echoed {
                    self.echo_mark(name, true);
                }
            }
        }
    }

    /// Plays one frame from the FIFO into `out` and echoes the marks it passed.
    pub fn play(&mut self, out: &mut [u8]) {
        let mut echoed = Vec::new();
        let n = self.playback.play(out, &mut echoed);
        self.stats.bytes_played += n as u64;
        for name in echoed {
            self.echo_mark(name, false);
        }
    }

    /// Copies the counters into the call record.
    pub fn flush(&self, ctx: &CallCtx) {
        let stats = self.stats.clone();
        ctx.entry.update(|r| {
            if let Some(slot) = r.streams.get_mut(self.index) {
                *slot = stats;
            }
        });
    }

    /// Ends the stream from our side: `stop`, then close 1000.
    pub fn finish(mut self, ctx: &CallCtx, ended_by: &str) {
        self.seq += 1;
        let stop = FromTwilio::Stop {
            sequence_number: Counter(self.seq),
            stream_sid: self.stats.stream_sid.clone(),
            stop: StopPayload { account_sid: self.account_sid.clone(), call_sid: self.call_sid.clone() },
        };
        self.send(&stop);
        let close = CloseFrame { code: 1000.into(), reason: "".into() };
        // If the writer is gone the socket is already closed; nothing more to do.
        let _ = self.enqueue(Kind::End, Message::Close(Some(close)));
        self.stats.ended_by = Some(ended_by.to_owned());
        self.flush(ctx);
        self.reporter.send(ctx, "stream-stopped", None);
    }

    /// The server closed the socket (`code`, if it sent one): recorded and reported.
    pub fn closed_by_server(mut self, ctx: &CallCtx, code: Option<u16>) {
        self.stats.close_code = code;
        self.stats.ended_by = Some("server_closed".to_owned());
        self.flush(ctx);
        self.reporter.send(ctx, "stream-stopped", None);
    }
}

/// Sends the stream's status callbacks (§2.6), when `<Stream statusCallback>` asked for them.
struct Reporter {
    hook: Option<super::params::Hook>,
    stream_sid: String,
    name: String,
}

impl Reporter {
    fn send(&self, ctx: &CallCtx, event: &str, error: Option<&str>) {
        let Some(hook) = self.hook.clone() else { return };
        let kv = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        let mut params = vec![
            kv("AccountSid", &ctx.account_sid),
            kv("CallSid", &ctx.sid),
            kv("StreamSid", &self.stream_sid),
            kv("StreamName", &self.name),
            kv("StreamEvent", event),
            kv("Timestamp", &chrono::Utc::now().to_rfc3339()),
        ];
        if let Some(error) = error {
            params.push(kv("StreamError", error));
        }
        ctx.callbacks.send(super::callbacks::Callback { kind: "stream", hook, params });
    }
}
