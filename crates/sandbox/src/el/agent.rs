//! The scripted agent: an actor around one `select!` over the client's messages and a 20 ms tick.
//!
//! It speaks its first message at once, streams each turn as `agent_response` + `audio` chunks
//! (one `event_id` per turn) a little ahead of its own playback clock, listens to the caller's
//! audio with an energy VAD, and when the caller's speech ends emits `user_transcript` with the
//! script's line and replies with the next agent line. Speech that starts while the agent's
//! playback clock is running is an interruption: `interruption` + `agent_response_correction`,
//! and the rest of the turn is not sent. It pings, closes 1002 when pongs stop or the client sends
//! no input (audio or text; pongs do not count) for the idle timeout, ends the call with `end_call` + close 1000 when the scenario says, and fails on
//! purpose (error event + close) when the scenario says.

use super::registry::ConversationEntry;
use super::speech::{Utterance, decode};
use crate::audio::vad::{DEFAULT_THRESHOLD, Vad, VadEvent};
use crate::scenario::Scenario;
use crate::state::AppState;
use axum::extract::ws::{Message, WebSocket};
use base64::Engine as _;
use common::elevenlabs::{AudioFormat, FromAgent};
use serde_json::Value;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::{Instant, MissedTickBehavior};

/// Pause between the caller's end of speech and the agent's reply.
const RESPONSE_LATENCY: Duration = Duration::from_millis(450);
/// Pause between the last words and `end_call`.
const END_DELAY: Duration = Duration::from_millis(600);
/// Utterances shorter than this are "Hello?", not a script line.
const SHORT_UTTERANCE_MS: u64 = 700;
/// Without caller audio for this long, ongoing speech is considered ended.
const AUDIO_GAP: Duration = Duration::from_millis(800);

/// What the session needs.
pub(crate) struct AgentSession {
    pub state: AppState,
    pub entry: Arc<ConversationEntry>,
    pub scenario: Arc<Scenario>,
    pub socket: WebSocket,
    pub input: AudioFormat,
    pub output: AudioFormat,
    pub first_message: String,
}

/// How the conversation ended.
pub(crate) struct Ended {
    pub close_code: u16,
    pub closed_by: &'static str,
    pub reason: String,
    pub failed: bool,
}

struct Agent {
    s: AgentSession,
    started: Instant,
    next_id: u64,
    vad: Vad,
    carry: Option<u8>,
    speech_started_secs: f64,
    speech_start_ms: u64,
    speaking: Option<Utterance>,
    announced: bool,
    end_after_reply: bool,
    playback_end: Instant,
    last_line: String,
    user_turns: usize,
    reply: Option<(Instant, String)>,
    end_at: Option<Instant>,
    pings: VecDeque<(u64, Instant)>,
    next_ping: Instant,
    rtt_ms: Option<u64>,
    /// When the client last sent input (anything but a `pong`): the idle timeout counts from here.
    last_input: Instant,
    last_audio: Instant,
}

/// Runs the conversation until it ends.
pub(crate) async fn run(s: AgentSession) -> Ended {
    let now = Instant::now();
    let rate = s.input.sample_rate();
    let ping = s.state.config.elevenlabs.ping_interval;
    let mut agent = Agent {
        s,
        started: now,
        next_id: 1,
        vad: Vad::new(rate, DEFAULT_THRESHOLD, 60, 500),
        carry: None,
        speech_started_secs: 0.0,
        speech_start_ms: 0,
        speaking: None,
        announced: false,
        end_after_reply: false,
        playback_end: now,
        last_line: String::new(),
        user_turns: 0,
        reply: None,
        end_at: None,
        pings: VecDeque::new(),
        next_ping: now + ping,
        rtt_ms: None,
        last_input: now,
        last_audio: now,
    };
    let first = agent.s.first_message.clone();
    let scenario = agent.s.scenario.clone();
    agent.end_after_reply = scenario.agent.end_call_after_script && scenario.script.turns.is_empty();
    agent.speak(first, now);
    agent.run().await
}

impl Agent {
    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id - 1
    }

    fn secs(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    async fn send(&mut self, msg: &FromAgent) -> bool {
        let Ok(text) = serde_json::to_string(msg) else { return false };
        matches!(
            tokio::time::timeout(Duration::from_secs(2), self.s.socket.send(Message::text(text))).await,
            Ok(Ok(()))
        )
    }

    async fn run(&mut self) -> Ended {
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let shutdown = self.s.state.shutdown.clone();
        loop {
            let ended = tokio::select! {
                _ = shutdown.cancelled() => Some(self.close(1001, "sandbox shutting down", "Sandbox shut down", false).await),
                msg = self.s.socket.recv() => self.on_message(msg).await,
                _ = tick.tick() => self.on_tick().await,
            };
            if let Some(ended) = ended {
                return ended;
            }
        }
    }

    async fn on_message(&mut self, msg: Option<Result<Message, axum::Error>>) -> Option<Ended> {
        let text = match msg {
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(Message::Close(frame))) => {
                let code = frame.map_or(1005, |f| f.code);
                return Some(Ended {
                    close_code: code,
                    closed_by: "client",
                    reason: "Remote party ended call".into(),
                    failed: false,
                });
            }
            None | Some(Err(_)) => {
                return Some(Ended {
                    close_code: 1006,
                    closed_by: "client",
                    reason: "Remote party ended call".into(),
                    failed: false,
                });
            }
            Some(Ok(Message::Binary(_))) => {
                self.s.entry.update(|r| r.invalid_messages += 1);
                return None;
            }
            Some(Ok(_)) => return None,
        };
        let Ok(value) = serde_json::from_str::<Value>(text.as_str()) else {
            return Some(self.fail(1008, "invalid_message", "Invalid JSON message").await);
        };
        // §6.7: the timeout is "no user input"; a pong only answers our ping, so it does not count.
        if value.get("type").and_then(Value::as_str) != Some("pong") {
            self.last_input = Instant::now();
        }
        if let Some(chunk) = value.get("user_audio_chunk").and_then(Value::as_str) {
            for ev in self.on_audio(chunk) {
                if let Some(ended) = self.on_vad(ev).await {
                    return Some(ended);
                }
            }
            return None;
        }
        match value.get("type").and_then(Value::as_str) {
            Some("pong") => {
                let id = value.get("event_id").and_then(Value::as_u64);
                if let Some(pos) = self.pings.iter().position(|(p, _)| Some(*p) == id) {
                    if let Some((_, sent)) = self.pings.remove(pos) {
                        self.rtt_ms = Some(sent.elapsed().as_millis() as u64);
                    }
                    self.pings.drain(..pos);
                    self.s.entry.update(|r| r.pongs_received += 1);
                }
            }
            Some("user_message") => {
                let text = value.get("text").and_then(Value::as_str).unwrap_or_default().to_owned();
                self.speech_started_secs = self.secs();
                return self.user_turn(Some(text)).await;
            }
            Some(_) => {}
            None => self.s.entry.update(|r| r.invalid_messages += 1),
        }
        None
    }

    fn on_audio(&mut self, chunk: &str) -> Vec<VadEvent> {
        let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(chunk) else {
            self.s.entry.update(|r| r.invalid_messages += 1);
            return Vec::new();
        };
        self.last_audio = Instant::now();
        let samples = decode(&bytes, self.s.input, &mut self.carry);
        self.s.entry.update(|r| {
            r.user_audio_chunks += 1;
            r.user_audio_bytes += bytes.len() as u64;
        });
        let mut events = Vec::new();
        self.vad.push(&samples, &mut events);
        events
    }
}

mod turns;
