//! Frames from the agent: metadata (formats; the stream goes live and early audio is flushed),
//! audio (to Twilio, stale audio after an interruption dropped), transcripts, interruptions
//! (`clear`), pings, tool calls we do not serve, errors and the close that ends the conversation.
//!
//! Stale audio after an interruption `{event_id: N}` is audio whose `event_id` is ≤ N (§6.6).
//! The legacy audio shape (`{"audio":{"chunk":…}}`) has no `event_id`, so it cannot be compared:
//! instead, legacy audio is dropped from the interruption until something shows that a new reply
//! has begun — the caller's final `user_transcript` (their turn ended), an `agent_response` with an
//! id above N, or identified audio above N. Audio of the interrupted reply that was already in
//! flight therefore never plays over the caller, and the next reply plays in full (its transcript
//! or response precedes its audio).

use common::elevenlabs::{AudioFormat, FromAgent, InitiationMetadata, ToAgent};
use common::events::media::{EndReason, MediaEventKind};
use common::events::{HeardState, Role, TranscriptLine};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, frame::coding::CloseCode};

use super::bridge::{Bridge, Ending, Inbound, Outbound, Phase};
use super::wire;
use crate::audio::transcode::{AgentToCaller, CallerToAgent};

impl Bridge {
    pub(super) fn on_agent(
        &mut self,
        msg: Option<Result<tungstenite::Message, tungstenite::Error>>,
    ) -> Option<Ending> {
        self.last_agent_at = Instant::now();
        match msg {
            Some(Ok(tungstenite::Message::Text(text))) => self.on_agent_text(text.as_str()),
            Some(Ok(tungstenite::Message::Close(frame))) => self.on_agent_close(frame),
            Some(Ok(_)) => None,
            Some(Err(tungstenite::Error::Capacity(err))) => Some(self.agent_oversized(&err.to_string())),
            Some(Err(err)) => Some(self.agent_failed(&format!("agent socket error: {err}"))),
            None => Some(self.agent_failed("agent socket ended without a close frame")),
        }
    }

    fn on_agent_text(&mut self, text: &str) -> Option<Ending> {
        // Fast path: audio, read in place.
        if let Ok(wire::AgentView { kind: "audio", audio_event: Some(audio) }) = serde_json::from_str(text) {
            return self.on_agent_audio(audio.audio_base_64, Some(audio.event_id));
        }
        let message = match serde_json::from_str::<FromAgent>(text) {
            Ok(message) => message,
            Err(err) => {
                self.stats.unknown += 1;
                tracing::debug!(%err, "unparseable agent message ignored");
                return None;
            }
        };
        match message {
            FromAgent::ConversationInitiationMetadata { conversation_initiation_metadata_event: m } => {
                self.on_metadata(m)
            }
            FromAgent::Audio { audio_event: Some(e), .. } => {
                self.on_agent_audio(&e.audio_base_64, Some(e.event_id))
            }
            FromAgent::Audio { audio: Some(legacy), .. } => self.on_agent_audio(&legacy.chunk, None),
            FromAgent::Audio { .. } => None,
            FromAgent::AgentResponse { agent_response_event: e } => {
                self.on_agent_response(e.agent_response, e.event_id)
            }
            FromAgent::AgentResponseCorrection { agent_response_correction_event: e } => {
                let fixed = self.playback.correct(
                    e.event_id,
                    &e.original_agent_response,
                    &e.corrected_agent_response,
                );
                if let Some(line) = fixed {
                    self.events.emit(MediaEventKind::Transcript { line });
                }
                None
            }
            FromAgent::UserTranscript { user_transcription_event: e } => {
                self.on_user_transcript(e.user_transcript)
            }
            FromAgent::Interruption { interruption_event: e } => self.on_interruption(e.event_id),
            FromAgent::Ping { ping_event } => {
                self.send_agent_message(&ToAgent::Pong { event_id: ping_event.event_id })
            }
            FromAgent::ClientToolCall { client_tool_call: call } => {
                tracing::info!(tool = %call.tool_name, "client tool not served: answered with an error");
                let result = ToAgent::ClientToolResult {
                    tool_call_id: call.tool_call_id,
                    result: format!("The tool '{}' is not available on this call.", call.tool_name),
                    is_error: true,
                };
                self.send_agent_message(&result)
            }
            FromAgent::AgentToolResponse { agent_tool_response: r } => {
                tracing::debug!(tool = %r.tool_name, "agent tool ran");
                None
            }
            FromAgent::Error { error_event: e } => {
                tracing::warn!(code = e.code, error_type = %e.error_type, "agent reported an error");
                self.agent_error = Some(format!("{} ({})", e.error_type, e.code));
                None
            }
            FromAgent::TentativeUserTranscript { .. } | FromAgent::VadScore { .. } => None,
            FromAgent::Other => {
                self.stats.unknown += 1;
                None
            }
        }
    }

    fn send_agent_message(&mut self, message: &ToAgent) -> Option<Ending> {
        if let Ok(text) = serde_json::to_string(message) {
            self.push_agent(text);
        }
        None
    }

    fn on_metadata(&mut self, m: InitiationMetadata) -> Option<Ending> {
        if !matches!(self.phase, Phase::AwaitingMetadata { .. }) {
            return None;
        }
        let (Some(output), Some(input)) = (
            AudioFormat::parse(&m.agent_output_audio_format),
            AudioFormat::parse(&m.user_input_audio_format),
        ) else {
            let detail = format!(
                "unsupported formats {} / {}",
                m.agent_output_audio_format, m.user_input_audio_format
            );
            self.report_error("agent_format_unsupported", &detail);
            return Some(Ending::new(EndReason::AgentError, Some(detail)));
        };
        self.inbound = match input {
            AudioFormat::Ulaw8000 => Inbound::Passthrough,
            AudioFormat::Pcm(rate) => Inbound::Pcm(Box::new(CallerToAgent::new(rate))),
        };
        self.outbound = match output {
            AudioFormat::Ulaw8000 => Outbound::Passthrough,
            AudioFormat::Pcm(rate) => Outbound::Pcm(Box::new(AgentToCaller::new(rate))),
        };
        self.phase = Phase::Live;
        let setup_ms = Instant::now().saturating_duration_since(self.started).as_millis() as u64;
        tracing::info!(
            setup_ms,
            conversation_id = %m.conversation_id,
            output = %m.agent_output_audio_format,
            input = %m.user_input_audio_format,
            early_frames = self.early.len(),
            "agent connected"
        );
        self.events.emit(MediaEventKind::AgentConnected {
            conversation_id: m.conversation_id.clone(),
            agent_output_format: m.agent_output_audio_format,
            user_input_format: m.user_input_audio_format,
            setup_ms,
        });
        self.conversation_id = Some(m.conversation_id);
        self.report_early_overflow();
        for payload in self.early.take() {
            if let Some(ending) = self.forward_caller_audio(&payload) {
                return Some(ending);
            }
        }
        None
    }

    fn on_agent_audio(&mut self, audio: &str, event_id: Option<u64>) -> Option<Ending> {
        if self.phase != Phase::Live {
            self.stats.stale_dropped += 1;
            return None;
        }
        match (event_id, self.last_interrupt) {
            (Some(id), Some(cut)) if id <= cut => {
                self.stats.stale_dropped += 1;
                return None;
            }
            (Some(_), _) => self.legacy_stale = false,
            (None, _) if self.legacy_stale => {
                self.stats.stale_dropped += 1;
                return None;
            }
            (None, _) => {}
        }
        let converted;
        let (payload, samples) = match &mut self.outbound {
            Outbound::Passthrough => (audio, wire::base64_decoded_len(audio)),
            Outbound::Pcm(codec) => match codec.convert(audio) {
                Ok((pcm, samples)) => {
                    converted = pcm;
                    (converted.as_str(), samples)
                }
                Err(_) => {
                    self.stats.unknown += 1;
                    return None;
                }
            },
        };
        if samples == 0 {
            return None;
        }
        let now = self.last_agent_at; // set by `on_agent` for this message
        if !self.playback.has_open_line() {
            let index = self.next_index();
            let at = self.call_us(now);
            self.playback.start_line(index, String::new(), at, event_id.unwrap_or(0));
        }
        self.push_twilio(wire::twilio_media(&self.stream_sid, payload));
        self.stats.frames_out += 1;
        self.last_agent_audio_at = now;
        let outcome = self.playback.audio(samples as u64, self.call_us(now));
        if outcome.first_of_line
            && let (Some(spoke), Some(index)) = (self.turn.reply_started(), self.playback.open_line_index())
        {
            let latency_ms = now.saturating_duration_since(spoke).as_millis() as u64;
            tracing::debug!(latency_ms, "turn latency");
            self.events.emit(MediaEventKind::TurnLatency { index, latency_ms });
        }
        if let Some(mark) = outcome.mark {
            self.push_twilio(wire::twilio_mark(&self.stream_sid, &mark));
        }
        None
    }

    /// Ends the open agent line: its final mark goes out, and its state is reported if known.
    pub(super) fn end_agent_line(&mut self) {
        let (mark, update) = self.playback.end_line();
        if let Some(line) = update {
            self.events.emit(MediaEventKind::Transcript { line });
        }
        if let Some(mark) = mark {
            self.push_twilio(wire::twilio_mark(&self.stream_sid, &mark));
        }
    }

    fn on_agent_response(&mut self, text: String, event_id: u64) -> Option<Ending> {
        if self.last_interrupt.is_none_or(|cut| event_id > cut) {
            self.legacy_stale = false;
        }
        if let Some(line) = self.playback.title_open_line(&text, event_id) {
            self.events.emit(MediaEventKind::Transcript { line });
            return None;
        }
        self.end_agent_line();
        let index = self.next_index();
        let at = self.call_us(Instant::now());
        let line = TranscriptLine {
            index,
            role: Role::Agent,
            text: text.clone(),
            time_in_call_ms: at / 1000,
            heard: Some(HeardState::Pending),
            heard_ms: None,
            audio_ms: None,
        };
        self.playback.start_line(index, text, at, event_id);
        self.events.emit(MediaEventKind::Transcript { line });
        None
    }

    fn on_user_transcript(&mut self, text: String) -> Option<Ending> {
        self.end_agent_line();
        self.turn.caller_turn_done();
        self.legacy_stale = false;
        let index = self.next_index();
        let line = TranscriptLine {
            index,
            role: Role::User,
            text,
            time_in_call_ms: self.call_us(Instant::now()) / 1000,
            heard: None,
            heard_ms: None,
            audio_ms: None,
        };
        self.events.emit(MediaEventKind::Transcript { line });
        None
    }

    fn on_interruption(&mut self, event_id: u64) -> Option<Ending> {
        self.last_interrupt = Some(self.last_interrupt.map_or(event_id, |cut| cut.max(event_id)));
        self.legacy_stale = true;
        self.push_twilio(wire::twilio_clear(&self.stream_sid));
        let now = self.call_us(Instant::now());
        for line in self.playback.clear(now) {
            self.events.emit(MediaEventKind::Transcript { line });
        }
        None
    }

    fn on_agent_close(&mut self, frame: Option<CloseFrame>) -> Option<Ending> {
        let code = frame.as_ref().map_or(1005, |f| u16::from(f.code));
        let reason = frame.as_ref().map(|f| f.reason.to_string()).unwrap_or_default();
        // tungstenite queued its close reply; the loop flushes it (briefly, best effort).
        self.closed_agent = self.agent.take();
        self.out_agent.clear();
        if code != 1000 {
            let detail = format!("agent closed with {code} {reason}{}", self.agent_error_suffix());
            tracing::warn!(code, %reason, "agent closed abnormally");
            self.report_error("agent_closed_abnormally", &detail);
            return Some(Ending::new(EndReason::AgentError, Some(detail)));
        }
        if self.phase != Phase::Live {
            self.report_error("agent_closed_early", "agent closed before the conversation started");
            return Some(Ending::new(
                EndReason::AgentUnavailable,
                Some("agent closed before metadata".to_owned()),
            ));
        }
        tracing::info!("agent ended the conversation: letting the goodbye play out");
        self.end_agent_line();
        if self.playback.all_played() {
            return Some(Ending::new(EndReason::AgentEnded, self.agent_error.clone()));
        }
        self.phase = Phase::Goodbye { deadline: Instant::now() + self.settings.bridge.goodbye_drain_max };
        None
    }

    fn agent_error_suffix(&self) -> String {
        self.agent_error.as_ref().map(|e| format!("; {e}")).unwrap_or_default()
    }

    /// A message above `MAX_MESSAGE_BYTES`: the socket still works for writing, so the call ends
    /// with a 1009 (message too big) close to the agent rather than a dropped connection.
    fn agent_oversized(&mut self, detail: &str) -> Ending {
        let detail = format!("agent message too large: {detail}");
        tracing::warn!(%detail, "agent sent an oversized message");
        self.report_error("agent_message_too_large", &detail);
        self.agent_close = CloseCode::Size;
        Ending::new(EndReason::AgentError, Some(detail))
    }

    fn agent_failed(&mut self, detail: &str) -> Ending {
        self.agent = None;
        let detail = format!("{detail}{}", self.agent_error_suffix());
        tracing::warn!(%detail, "agent connection lost");
        self.report_error("agent_connection_lost", &detail);
        let reason =
            if self.phase == Phase::Live { EndReason::AgentError } else { EndReason::AgentUnavailable };
        Ending::new(reason, Some(detail))
    }
}
