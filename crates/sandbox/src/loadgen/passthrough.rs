//! The baseline: a deliberately trivial Twilio ⇄ agent bridge, to show what the load generator
//! itself costs and adds. Per stream: wait for `start`, open the agent socket, then re-wrap each
//! Twilio `media` as `user_audio_chunk` and each agent `audio` as Twilio `media` (parse with the
//! `common` types, serialise, send) and answer pings. No token check, no context, no initiation
//! data, no marks, no events, no limits. Its WebSocket read buffers are small (4 KiB, as media-proxy's):
//! tungstenite's default (128 KiB) is zeroed on every read, which would make the baseline
//! measure `memset` rather than bridging.

use axum::Router;
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use axum::routing::get;
use common::elevenlabs::{FromAgent, ToAgent, UserAudioChunk};
use common::twilio_media::{FromTwilio, OutboundMedia, ToTwilio};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message as AgentMessage;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

const READ_BUFFER: usize = 4096;

/// Serves the passthrough on `listener`, bridging to the agent WebSocket at `agent_url`.
pub async fn serve(listener: tokio::net::TcpListener, agent_url: String) -> anyhow::Result<()> {
    let app = Router::new().route("/outbound-media-stream", get(upgrade)).with_state(agent_url);
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        // Best effort: small frames should not wait for Nagle.
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app).await?;
    Ok(())
}

async fn upgrade(State(agent_url): State<String>, upgrade: WebSocketUpgrade) -> Response {
    upgrade.read_buffer_size(READ_BUFFER).on_upgrade(move |socket| bridge(socket, agent_url))
}

async fn bridge(mut twilio: WebSocket, agent_url: String) {
    let mut stream_sid = None;
    while stream_sid.is_none() {
        let Some(Ok(Message::Text(t))) = twilio.recv().await else { return };
        if let Ok(FromTwilio::Start { stream_sid: sid, .. }) = serde_json::from_str(t.as_str()) {
            stream_sid = Some(sid);
        }
    }
    let Some(stream_sid) = stream_sid else { return };
    let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER);
    let Ok((mut agent, _)) =
        tokio_tungstenite::connect_async_with_config(&agent_url, Some(config), true).await
    else {
        return;
    };
    let init = r#"{"type":"conversation_initiation_client_data"}"#;
    if agent.send(AgentMessage::Text(init.into())).await.is_err() {
        return;
    }
    loop {
        tokio::select! {
            msg = twilio.recv() => {
                let Some(Ok(Message::Text(t))) = msg else { break };
                match serde_json::from_str::<FromTwilio>(t.as_str()) {
                    Ok(FromTwilio::Media { media, .. }) => {
                        let out = serde_json::to_string(&UserAudioChunk { user_audio_chunk: media.payload }).unwrap_or_default();
                        if agent.send(AgentMessage::Text(out.into())).await.is_err() { break; }
                    }
                    Ok(FromTwilio::Stop { .. }) => break,
                    _ => {}
                }
            }
            msg = agent.next() => {
                let Some(Ok(AgentMessage::Text(t))) = msg else { break };
                match serde_json::from_str::<FromAgent>(t.as_str()) {
                    Ok(FromAgent::Audio { audio_event: Some(e), .. }) => {
                        let out = ToTwilio::Media { stream_sid: stream_sid.clone(), media: OutboundMedia { payload: e.audio_base_64 } };
                        let out = serde_json::to_string(&out).unwrap_or_default();
                        if twilio.send(Message::Text(out.into())).await.is_err() { break; }
                    }
                    Ok(FromAgent::Ping { ping_event }) => {
                        let out = serde_json::to_string(&ToAgent::Pong { event_id: ping_event.event_id }).unwrap_or_default();
                        if agent.send(AgentMessage::Text(out.into())).await.is_err() { break; }
                    }
                    _ => {}
                }
            }
        }
    }
    // Best effort: the stream is over.
    let _ = agent.close(None).await;
}
