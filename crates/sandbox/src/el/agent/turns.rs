//! The agent's turn-taking: speaking, listening, interruptions, keep-alive, ending and failing.

use super::{AUDIO_GAP, Agent, END_DELAY, Ended, RESPONSE_LATENCY, SHORT_UTTERANCE_MS};
use crate::audio::vad::VadEvent;
use crate::el::record::{AgentError, TurnRecord};
use crate::el::speech::Utterance;
use crate::scenario::{AgentFault, CalleeKind};
use axum::extract::ws::{CloseFrame, Message};
use base64::Engine as _;
use common::elevenlabs::{
    AgentResponseCorrectionEvent, AgentResponseEvent, AgentToolResponse, AudioEvent, ErrorEvent, EventId,
    FromAgent, PingEvent, UserTranscription,
};
use std::time::Duration;
use tokio::time::Instant;

impl Agent {
    /// Queues a turn; its `agent_response` and audio go out on the next ticks.
    pub(super) fn speak(&mut self, text: String, now: Instant) {
        let starts = now.max(self.playback_end);
        let id = self.id();
        let u = Utterance::new(&text, id, self.s.output, starts);
        self.playback_end = u.ends();
        if self.end_after_reply {
            self.end_at = Some(self.playback_end + END_DELAY);
        }
        self.last_line = text;
        self.announced = false;
        self.speaking = Some(u);
    }

    pub(super) async fn on_tick(&mut self) -> Option<Ended> {
        let now = Instant::now();
        if self.vad.is_speaking() && now.duration_since(self.last_audio) > AUDIO_GAP {
            let mut events = Vec::new();
            self.vad.push(&vec![0; self.s.input.sample_rate() as usize], &mut events);
            for ev in events {
                if let Some(ended) = self.on_vad(ev).await {
                    return Some(ended);
                }
            }
        }
        if let Some(ended) = self.stream_audio(now).await {
            return Some(ended);
        }
        if self.speaking.is_none()
            && !self.vad.is_speaking()
            && self.reply.as_ref().is_some_and(|(at, _)| now >= *at)
            && let Some((_, text)) = self.reply.take()
        {
            self.speak(text, now);
        }
        if self.end_at.is_some_and(|at| now >= at) && !self.vad.is_speaking() {
            return Some(self.end_call().await);
        }
        self.keep_alive(now).await
    }

    /// Sends the turn's `agent_response` (once) and adds it to the transcript.
    async fn announce(&mut self, u: &Utterance) {
        if self.announced {
            return;
        }
        self.announced = true;
        let turn = TurnRecord {
            role: "agent".into(),
            message: u.text.clone(),
            original_message: None,
            interrupted: false,
            time_in_call_secs: self.secs(),
            event_id: u.event_id,
        };
        self.s.entry.update(|r| r.transcript.push(turn));
        let msg = FromAgent::AgentResponse {
            agent_response_event: AgentResponseEvent { agent_response: u.text.clone(), event_id: u.event_id },
        };
        self.send(&msg).await;
    }

    async fn stream_audio(&mut self, now: Instant) -> Option<Ended> {
        let mut u = self.speaking.take()?;
        self.announce(&u).await;
        let chunks = u.due(now);
        let n = chunks.len() as u64;
        for chunk in chunks {
            let audio_base_64 = base64::engine::general_purpose::STANDARD.encode(chunk);
            let msg = FromAgent::Audio {
                audio_event: Some(AudioEvent { audio_base_64, event_id: u.event_id }),
                audio: None,
            };
            self.send(&msg).await;
        }
        if n > 0 {
            self.s.entry.update(|r| r.agent_audio_chunks += n);
        }
        if now < u.ends() {
            self.speaking = Some(u);
        }
        None
    }

    async fn keep_alive(&mut self, now: Instant) -> Option<Ended> {
        let cfg = &self.s.state.config.elevenlabs;
        let (interval, pong_timeout, idle, max) =
            (cfg.ping_interval, cfg.pong_timeout, cfg.idle_timeout, cfg.max_duration);
        if self.pings.front().is_some_and(|(_, sent)| now.duration_since(*sent) > pong_timeout) {
            return Some(self.fail(1002, "pong_timeout", "No pong received from the client").await);
        }
        if now.duration_since(self.last_input) > idle {
            return Some(self.fail(1002, "transport_receive_timeout", "No user input received").await);
        }
        if now.duration_since(self.started) > max {
            return Some(self.close(1000, "max_duration_exceeded", "Maximum duration exceeded", false).await);
        }
        if now >= self.next_ping {
            self.next_ping = now + interval;
            let id = self.id();
            self.pings.push_back((id, now));
            let msg = FromAgent::Ping { ping_event: PingEvent { event_id: id, ping_ms: self.rtt_ms } };
            self.send(&msg).await;
            self.s.entry.update(|r| r.pings_sent += 1);
        }
        None
    }

    pub(super) async fn on_vad(&mut self, ev: VadEvent) -> Option<Ended> {
        match ev {
            VadEvent::SpeechStart { at_ms } => {
                let behind = (self.vad.now_ms().saturating_sub(at_ms)) as f64 / 1000.0;
                self.speech_started_secs = (self.secs() - behind).max(0.0);
                self.speech_start_ms = at_ms;
                self.reply = None;
                if Instant::now() < self.playback_end && self.speaking.is_some() {
                    self.interrupt().await;
                }
                None
            }
            VadEvent::SpeechEnd { at_ms } => {
                let short = at_ms.saturating_sub(self.speech_start_ms) < SHORT_UTTERANCE_MS;
                self.user_turn(short.then(|| "Hello?".to_owned())).await
            }
        }
    }

    async fn interrupt(&mut self) {
        let Some(u) = self.speaking.take() else { return };
        // Speech before the turn's first tick still interrupts a turn that has begun.
        self.announce(&u).await;
        let now = Instant::now();
        let said = u.said_by(now);
        self.playback_end = now;
        self.end_at = None;
        self.send(&FromAgent::Interruption { interruption_event: EventId { event_id: u.event_id } }).await;
        let correction = AgentResponseCorrectionEvent {
            original_agent_response: u.text.clone(),
            corrected_agent_response: said.clone(),
            event_id: u.event_id,
        };
        self.send(&FromAgent::AgentResponseCorrection { agent_response_correction_event: correction }).await;
        self.s.entry.update(|r| {
            r.interruptions += 1;
            if let Some(turn) = r.transcript.iter_mut().rev().find(|t| t.event_id == u.event_id) {
                turn.original_message = Some(u.text.clone());
                turn.message = said;
                turn.interrupted = true;
            }
        });
    }

    /// What the caller said and what the agent answers, for the scenario's kind of callee:
    /// a voicemail greeting gets the voicemail message once; fax tones and beeps get nothing.
    fn hear(&mut self, text: Option<String>) -> Option<(String, String)> {
        let scenario = self.s.scenario.clone();
        let script = &scenario.script;
        match scenario.callee {
            CalleeKind::Fax => return None,
            CalleeKind::Voicemail if self.user_turns > 0 => return None,
            CalleeKind::Voicemail => {
                self.user_turns = 1;
                return Some((scenario.voicemail.greeting.clone(), script.voicemail_message.clone()));
            }
            CalleeKind::Human | CalleeKind::Silent => {}
        }
        Some(match text {
            Some(t) if t == "Hello?" => (t, self.last_line.clone()),
            other => {
                self.user_turns += 1;
                let turn = script.turns.get(self.user_turns - 1);
                let text =
                    other.or_else(|| turn.map(|t| t.user.clone())).unwrap_or_else(|| "Okay.".to_owned());
                let reply = turn.map_or(script.fallback_reply.clone(), |t| t.agent.clone());
                (text, reply)
            }
        })
    }

    /// The caller finished an utterance (`text` given for typed input or "Hello?").
    pub(super) async fn user_turn(&mut self, text: Option<String>) -> Option<Ended> {
        let (text, reply) = self.hear(text)?;
        let script_len = self.s.scenario.script.turns.len();
        let id = self.id();
        let turn = TurnRecord {
            role: "user".into(),
            message: text.clone(),
            original_message: None,
            interrupted: false,
            time_in_call_secs: self.speech_started_secs,
            event_id: id,
        };
        self.s.entry.update(|r| r.transcript.push(turn));
        let msg = FromAgent::UserTranscript {
            user_transcription_event: UserTranscription { user_transcript: text, event_id: id },
        };
        self.send(&msg).await;
        if let Some(fault @ AgentFault::MidCall { after_user_turns, code }) = self.s.scenario.agent.fault
            && self.user_turns >= after_user_turns
        {
            let (error_type, message) = fault.error();
            return Some(self.fail(code, error_type, message).await);
        }
        if self.s.scenario.agent.end_call_after_script && self.user_turns >= script_len {
            self.end_after_reply = true;
        }
        self.reply = Some((Instant::now() + RESPONSE_LATENCY, reply));
        None
    }

    async fn end_call(&mut self) -> Ended {
        let id = self.id();
        let msg = FromAgent::AgentToolResponse {
            agent_tool_response: AgentToolResponse {
                tool_name: "end_call".into(),
                tool_call_id: format!("toolu_{id}"),
                tool_type: "system".into(),
                is_error: false,
                event_id: id,
            },
        };
        self.send(&msg).await;
        self.s.entry.update(|r| r.end_call_sent = true);
        self.close(1000, "", "end_call tool was called.", false).await
    }

    /// Sends an `error` event, then closes with `code`.
    pub(super) async fn fail(&mut self, code: u16, error_type: &str, message: &str) -> Ended {
        let event = ErrorEvent { code, message: message.to_owned(), error_type: error_type.to_owned() };
        self.send(&FromAgent::Error { error_event: event }).await;
        let error = AgentError { code, error_type: error_type.to_owned(), message: message.to_owned() };
        self.s.entry.update(|r| r.error = Some(error));
        self.close(code, error_type, &format!("Error: {error_type}"), code != 1000).await
    }

    /// Closes from the agent's side and waits briefly for the client's close.
    pub(super) async fn close(&mut self, code: u16, reason: &str, termination: &str, failed: bool) -> Ended {
        let frame = CloseFrame { code, reason: reason.into() };
        // The client may be gone already; the close is recorded either way.
        let _ = tokio::time::timeout(Duration::from_secs(2), self.s.socket.send(Message::Close(Some(frame))))
            .await;
        let _ = tokio::time::timeout(Duration::from_secs(1), async {
            while let Some(Ok(msg)) = self.s.socket.recv().await {
                if matches!(msg, Message::Close(_)) {
                    break;
                }
            }
        })
        .await;
        Ended { close_code: code, closed_by: "agent", reason: termination.to_owned(), failed }
    }
}
