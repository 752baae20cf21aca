//! A minimal Twilio ⇄ agent bridge for tests (the part media-proxy plays in production), so the
//! two simulators can be exercised together: it forwards audio both ways, turns `interruption`
//! into `clear`, marks agent audio, answers pings, and on the agent's normal close hangs the call
//! up through the REST API.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use super::{ElClient, ElEvent, Twilio, WsConn};
use axum::extract::ws::Message;
use sandbox::SandboxHandle;
use serde_json::{Value, json};

/// What the bridge saw.
#[derive(Debug, Default)]
pub struct BridgeLog {
    pub call_sid: String,
    pub custom_parameters: Value,
    pub conversation_id: String,
    pub agent_close: Option<u16>,
    pub twilio_stop: bool,
    pub clears_sent: u32,
    pub marks_sent: u32,
    pub marks_echoed: u32,
}

/// Runs one bridged call until either side ends.
pub async fn run(sb: &SandboxHandle, mut twilio: WsConn, vars: Value) -> BridgeLog {
    let mut log = BridgeLog::default();
    let connected: Value = serde_json::from_str(&twilio.rx.recv().await.unwrap().unwrap()).unwrap();
    assert_eq!(connected["event"], "connected");
    let start: Value = serde_json::from_str(&twilio.rx.recv().await.unwrap().unwrap()).unwrap();
    let stream_sid = start["streamSid"].as_str().unwrap().to_owned();
    log.call_sid = start["start"]["callSid"].as_str().unwrap().to_owned();
    log.custom_parameters = start["start"]["customParameters"].clone();
    let mut agent = ElClient::connect(sb).await;
    let mut vars = vars;
    vars["call_sid"] = json!(log.call_sid);
    agent.send_json(json!({"type": "conversation_initiation_client_data", "dynamic_variables": vars})).await;
    let to_twilio = |v: Value| twilio_send(&twilio.tx, v);
    loop {
        tokio::select! {
            msg = twilio.rx.recv() => {
                let Some(Some(text)) = msg else { return log };
                let v: Value = serde_json::from_str(&text).unwrap();
                match v["event"].as_str() {
                    Some("media") => agent.send_json(json!({"user_audio_chunk": v["media"]["payload"]})).await,
                    Some("mark") => log.marks_echoed += 1,
                    Some("stop") => {
                        log.twilio_stop = true;
                        let _ = agent.ws.close(None).await;
                        return log;
                    }
                    _ => {}
                }
            }
            ev = agent.next() => match ev {
                ElEvent::Json(v) => match v["type"].as_str() {
                    Some("conversation_initiation_metadata") => {
                        log.conversation_id = v["conversation_initiation_metadata_event"]["conversation_id"].as_str().unwrap().to_owned();
                    }
                    Some("audio") => {
                        let id = v["audio_event"]["event_id"].clone();
                        to_twilio(json!({"event":"media","streamSid":stream_sid,"media":{"payload":v["audio_event"]["audio_base_64"]}}));
                        to_twilio(json!({"event":"mark","streamSid":stream_sid,"mark":{"name":format!("el-{id}")}}));
                        log.marks_sent += 1;
                    }
                    Some("interruption") => {
                        to_twilio(json!({"event":"clear","streamSid":stream_sid}));
                        log.clears_sent += 1;
                    }
                    Some("ping") => agent.send_json(json!({"type":"pong","event_id":v["ping_event"]["event_id"]})).await,
                    _ => {}
                },
                ElEvent::Closed(code) => {
                    log.agent_close = code;
                    if code == Some(1000) {
                        // Let the goodbye finish playing, then hang up like media-proxy does.
                        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                        let tw = Twilio::new(sb);
                        tw.post(&tw.call_url(&log.call_sid), &[("Status", "completed")]).await;
                    } else {
                        let _ = twilio.tx.send(Message::Close(None));
                    }
                    return log;
                }
            },
        }
    }
}

fn twilio_send(tx: &tokio::sync::mpsc::UnboundedSender<Message>, v: Value) {
    // The stream may have closed meanwhile; the test checks outcomes elsewhere.
    let _ = tx.send(Message::Text(v.to_string().into()));
}
