//! The single exit of every call: close both sockets, decide every agent line, report the end.
//!
//! The agent socket is closed first and at once with a normal closure (1000), so a conversation
//! never outlives its call; then the Twilio socket (1000, or 1008 for a refused stream). Each close
//! is capped by a short deadline. For a trusted stream (main-app accepted its token), main-app
//! then gets the final transcript states, `ConversationEnded` (with `hangupRequested` unless the
//! caller already hung up) and `StreamStats`.

use axum::extract::ws;
use common::events::media::MediaEventKind;
use tokio::time::{Instant, timeout};
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, frame::coding::CloseCode};

use super::bridge::{Bridge, Ending};

const CLOSE_GRACE: std::time::Duration = std::time::Duration::from_millis(500);

impl Bridge {
    /// Ends the call; consumes the actor so nothing of it outlives the call.
    pub(super) async fn finish(&mut self, ending: Ending) {
        self.setup = None;
        // Whatever the handlers queued last (a clear, a mark) goes out before the close.
        let _ = self.write_out().await; // best effort: the call is ending either way
        self.closed_agent = None;
        if let Some(mut agent) = self.agent.take() {
            let frame = CloseFrame { code: CloseCode::Normal, reason: "call ended".into() };
            // Best effort: the socket is dropped right after either way.
            let _ = timeout(CLOSE_GRACE, agent.close(Some(frame))).await;
        }
        if ending.twilio_open {
            let code = if ending.reason.is_some() { 1000 } else { 1008 };
            let close = ws::Message::Close(Some(ws::CloseFrame { code, reason: "".into() }));
            // Best effort: Twilio may already be gone; the socket is dropped right after.
            let _ = timeout(CLOSE_GRACE, self.twilio.send(close)).await;
        }
        // Before main-app accepted the token the stream is not ours to report on (a replayed
        // token must never add events to the genuine stream's call).
        let Some(reason) = ending.reason.filter(|_| self.trusted) else {
            tracing::info!(
                reason = ending.reason.map_or("refused", |r| r.as_str()),
                "stream ended before set-up"
            );
            return;
        };
        let now = self.call_us(Instant::now());
        for line in self.playback.finish(now) {
            self.events.emit(MediaEventKind::Transcript { line });
        }
        tracing::info!(
            reason = reason.as_str(),
            detail = ending.detail.as_deref().unwrap_or(""),
            hangup = ending.hangup,
            frames_in = self.stats.frames_in,
            frames_out = self.stats.frames_out,
            "call ended"
        );
        self.events.emit(MediaEventKind::ConversationEnded {
            reason,
            detail: ending.detail,
            hangup_requested: ending.hangup,
        });
        let events_lost = self.events.dropped();
        self.events.emit(MediaEventKind::StreamStats {
            frames_in: self.stats.frames_in,
            frames_out: self.stats.frames_out,
            stale_audio_dropped: self.stats.stale_dropped,
            unknown_messages: self.stats.unknown,
            events_lost,
        });
    }
}
