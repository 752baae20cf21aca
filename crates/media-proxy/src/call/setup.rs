//! Call set-up after the token verified: context and signed URL concurrently, then the agent
//! socket, then `conversation_initiation_client_data` as its very first message.
//!
//! Both HTTP requests start at once. The agent socket opens only after main-app accepted the
//! token (so a reused token never opens a conversation) and as soon as the signed URL is also in
//! hand; the signed URL is fetched exactly once per call. If the context fails first, the
//! signed-URL request is abandoned. Every step runs under a deadline. The whole set-up is one
//! future the call actor polls beside Twilio's frames, so caller audio is buffered meanwhile.

use common::events::media::CallContext;
use futures_util::SinkExt;
use futures_util::future::BoxFuture;
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::upstream::{ContextError, fetch_context, fetch_signed_url};
use crate::settings::Settings;

/// The agent WebSocket.
pub type AgentWs = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Small socket buffers: audio messages are a few hundred bytes, and thousands of calls share
/// one process (a larger message still arrives whole: the buffer grows for it).
pub const READ_BUFFER_BYTES: usize = 1024;
/// Queued writes beyond this go to the socket at once; the buffer's capacity stays at about twice
/// this per socket (tungstenite never shrinks it), so it is kept small. Writes are flushed
/// explicitly at the end of each burst anyway.
pub const WRITE_BUFFER_BYTES: usize = 4096;

/// How set-up ended.
pub enum SetupOutcome {
    /// The agent socket is open and the initiation message is sent.
    Ready {
        /// The call's context.
        ctx: Box<CallContext>,
        /// The agent socket.
        ws: Box<AgentWs>,
    },
    /// main-app refused the token (reused, ...): not our call to run.
    Refused {
        /// main-app's code.
        code: String,
    },
    /// main-app could not give the context.
    ContextUnavailable(String),
    /// The context came, but the agent could not be reached.
    AgentFailed {
        /// The call's context.
        ctx: Box<CallContext>,
        /// `signed_url_failed`, `agent_refused`, `agent_timeout`.
        code: &'static str,
        /// What happened.
        detail: String,
    },
}

/// Starts set-up; the returned future owns everything it needs.
pub fn start(
    http: reqwest::Client,
    settings: Arc<Settings>,
    call_id: common::ids::CallId,
    token: String,
    call_sid: String,
) -> BoxFuture<'static, SetupOutcome> {
    Box::pin(async move {
        let context = fetch_context(&http, &settings, &call_id, &token);
        let signed_url = fetch_signed_url(&http, &settings);
        tokio::pin!(context, signed_url);
        let mut url_result = None;
        let ctx = loop {
            tokio::select! {
                ctx = &mut context => break ctx,
                url = &mut signed_url, if url_result.is_none() => url_result = Some(url),
            }
        };
        let ctx = match ctx {
            Ok(ctx) => Box::new(ctx),
            Err(ContextError::Refused { code }) => return SetupOutcome::Refused { code },
            Err(ContextError::Unavailable(detail)) => return SetupOutcome::ContextUnavailable(detail),
        };
        let url = match url_result {
            Some(url) => url,
            None => signed_url.await,
        };
        let url = match url {
            Ok(url) => url,
            Err(e) => return SetupOutcome::AgentFailed { ctx, code: "signed_url_failed", detail: e.0 },
        };
        match connect(&settings, &url, &ctx, &call_sid).await {
            Ok(ws) => SetupOutcome::Ready { ctx, ws: Box::new(ws) },
            Err((code, detail)) => SetupOutcome::AgentFailed { ctx, code, detail },
        }
    })
}

async fn connect(
    settings: &Settings,
    url: &str,
    ctx: &CallContext,
    call_sid: &str,
) -> Result<AgentWs, (&'static str, String)> {
    let limits = &settings.limits;
    let config = WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(WRITE_BUFFER_BYTES)
        .max_message_size(Some(limits.max_message_bytes))
        .max_frame_size(Some(limits.max_message_bytes));
    let connecting = tokio_tungstenite::connect_async_with_config(url, Some(config), true);
    let mut ws = match tokio::time::timeout(limits.connect_timeout, connecting).await {
        Err(_) => return Err(("agent_timeout", "agent handshake timed out".to_owned())),
        Ok(Err(e)) => return Err(("agent_refused", handshake_error(&e))),
        Ok(Ok((ws, _))) => ws,
    };
    let init = serde_json::to_string(&super::initiation::build(ctx, call_sid))
        .map_err(|e| ("agent_refused", format!("initiation not serialisable: {e}")))?;
    match tokio::time::timeout(limits.write_timeout, ws.send(Message::Text(init.into()))).await {
        Ok(Ok(())) => Ok(ws),
        Ok(Err(e)) => Err(("agent_refused", format!("initiation not sent: {e}"))),
        Err(_) => Err(("agent_timeout", "initiation write timed out".to_owned())),
    }
}

fn handshake_error(err: &tokio_tungstenite::tungstenite::Error) -> String {
    use tokio_tungstenite::tungstenite::Error;
    match err {
        // The signed URL carries a token: never log it. Report only the HTTP status.
        Error::Http(resp) => format!("agent answered HTTP {}", resp.status()),
        Error::Io(e) => format!("connect failed: {}", e.kind()),
        other => format!("handshake failed: {}", other.to_string().split(':').next().unwrap_or("error")),
    }
}
