//! Frames from Twilio: caller audio (forwarded, or buffered while the agent connects), mark echoes
//! (what the caller heard), DTMF, and `stop`.

use axum::extract::ws;
use common::events::media::{EndReason, MediaEventKind};
use common::twilio_media::FromTwilio;
use tokio::time::Instant;

use super::bridge::{Bridge, Ending, Inbound, Phase};
use super::wire;

impl Bridge {
    pub(super) fn on_twilio(&mut self, msg: Option<Result<ws::Message, axum::Error>>) -> Option<Ending> {
        let text = match msg {
            Some(Ok(ws::Message::Text(text))) => text,
            Some(Ok(ws::Message::Close(_))) | Some(Err(_)) | None => return Some(self.twilio_lost()),
            Some(Ok(_)) => return None,
        };
        // Fast path: media and mark echoes, read in place.
        if let Ok(view) = serde_json::from_str::<wire::TwilioView>(text.as_str()) {
            match (view.event, view.media, view.mark) {
                ("media", Some(media), _) => return self.on_caller_audio(media.payload),
                ("mark", _, Some(mark)) => return self.on_mark_echo(mark.name),
                _ => {}
            }
        }
        let message = match serde_json::from_str::<FromTwilio>(text.as_str()) {
            Ok(message) => message,
            Err(err) => {
                self.stats.unknown += 1;
                tracing::debug!(%err, "unparseable Twilio message ignored");
                return None;
            }
        };
        match message {
            FromTwilio::Media { media, .. } => self.on_caller_audio(&media.payload),
            FromTwilio::Mark { mark, .. } => self.on_mark_echo(&mark.name),
            FromTwilio::Stop { .. } => Some(self.caller_gone()),
            FromTwilio::Dtmf { dtmf, .. } => self.on_dtmf(&dtmf.digit),
            FromTwilio::Start { .. } | FromTwilio::Connected { .. } => None,
        }
    }

    fn on_caller_audio(&mut self, payload: &str) -> Option<Ending> {
        let now = Instant::now();
        self.stats.frames_in += 1;
        self.last_media_at = now;
        self.turn.frame(payload, now);
        match self.phase {
            Phase::Live => self.forward_caller_audio(payload),
            Phase::Connecting | Phase::AwaitingMetadata { .. } => {
                let samples = wire::base64_decoded_len(payload);
                self.early.push(payload.to_owned(), samples);
                None
            }
            Phase::Goodbye { .. } => None,
        }
    }

    /// Sends one Twilio payload to the agent in the agent's input format.
    pub(super) fn forward_caller_audio(&mut self, payload: &str) -> Option<Ending> {
        let text = match &mut self.inbound {
            Inbound::Passthrough => wire::user_audio_chunk(payload),
            Inbound::Pcm(codec) => match codec.convert(payload) {
                Ok(pcm) => wire::user_audio_chunk(&pcm),
                Err(_) => {
                    self.stats.unknown += 1;
                    return None;
                }
            },
        };
        self.push_agent(text);
        None
    }

    fn on_mark_echo(&mut self, name: &str) -> Option<Ending> {
        let now = self.call_us(Instant::now());
        for line in self.playback.echo(name, now) {
            self.events.emit(MediaEventKind::Transcript { line });
        }
        if matches!(self.phase, Phase::Goodbye { .. }) && self.playback.all_played() {
            return Some(Ending::new(EndReason::AgentEnded, None));
        }
        None
    }

    fn on_dtmf(&mut self, digit: &str) -> Option<Ending> {
        if self.phase != Phase::Live {
            return None;
        }
        let update = common::elevenlabs::ToAgent::ContextualUpdate {
            text: format!("The caller pressed the {digit} key."),
        };
        if let Ok(text) = serde_json::to_string(&update) {
            self.push_agent(text);
        }
        None
    }
}
