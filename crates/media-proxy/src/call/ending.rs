//! The single exit of every call: close both sockets, decide every agent line, report the end.
//!
//! The agent socket is closed first and at once with a normal closure (1000), so a conversation
//! never outlives its call. For a trusted stream (main-app accepted its token), main-app then gets
//! the final transcript states, `ConversationEnded` (with `hangupRequested` unless the caller
//! already hung up) and `StreamStats`. When a hang-up was requested, the Twilio socket is kept
//! open until Twilio stops the stream (the REST hang-up took effect), capped by [`HANGUP_WAIT`];
//! then it is closed (1000, or 1008 for a refused stream). Each close is capped by a short deadline.

use axum::extract::ws;
use common::events::media::MediaEventKind;
use common::twilio_media::FromTwilio;
use tokio::time::{Instant, timeout};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;

use super::bridge::{Bridge, Ending};

const CLOSE_GRACE: std::time::Duration = std::time::Duration::from_millis(500);

/// How long the Twilio socket stays open waiting for the REST hang-up to stop the stream.
pub const HANGUP_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

impl Bridge {
    /// Ends the call; consumes the actor so nothing of it outlives the call.
    pub(super) async fn finish(&mut self, ending: Ending) {
        self.setup = None;
        // Whatever the handlers queued last (a clear, a mark) goes out before the close.
        let _ = self.write_out().await; // best effort: the call is ending either way
        self.closed_agent = None;
        if let Some(mut agent) = self.agent.take() {
            let frame = CloseFrame { code: self.agent_close, reason: "call ended".into() };
            // Best effort: the socket is dropped right after either way.
            let _ = timeout(CLOSE_GRACE, agent.close(Some(frame))).await;
        }
        // Before main-app accepted the token the stream is not ours to report on (a replayed
        // token must never add events to the genuine stream's call).
        let reported = match ending.reason.filter(|_| self.trusted) {
            Some(reason) => {
                self.report_end(reason, ending.detail, ending.hangup);
                true
            }
            None => {
                tracing::info!(
                    reason = ending.reason.map_or("refused", |r| r.as_str()),
                    "stream ended before set-up"
                );
                false
            }
        };
        if ending.twilio_open {
            if reported && ending.hangup {
                self.await_hangup().await;
            }
            let code = if ending.reason.is_some() { 1000 } else { 1008 };
            let close = ws::Message::Close(Some(ws::CloseFrame { code, reason: "".into() }));
            // Best effort: Twilio may already be gone; the socket is dropped right after.
            let _ = timeout(CLOSE_GRACE, self.twilio.send(close)).await;
        }
    }

    /// main-app has been asked to hang the call up through Twilio's REST API, which makes Twilio
    /// stop the stream. Closing the stream ourselves first would let the TwiML after
    /// `</Connect>` end the call instead (and a stream close alone does not reliably end a call
    /// on every Twilio set-up), so the socket stays open — silent — until Twilio stops it,
    /// capped by [`HANGUP_WAIT`].
    async fn await_hangup(&mut self) {
        let (twilio, stop) = (&mut self.twilio, &mut self.stop);
        let wait = async {
            while let Some(Ok(msg)) = twilio.recv().await {
                if let ws::Message::Text(text) = &msg
                    && matches!(serde_json::from_str(text), Ok(FromTwilio::Stop { .. }))
                {
                    return;
                }
                if matches!(msg, ws::Message::Close(_)) {
                    return;
                }
            }
        };
        tokio::select! {
            _ = timeout(HANGUP_WAIT, wait) => {}
            () = stop.fired() => {}
        }
    }

    /// Tells main-app how the call ended: every agent line's final heard state, the end reason
    /// (asking for the hang-up when the caller did not hang up), and the stream's counters.
    fn report_end(&mut self, reason: common::events::media::EndReason, detail: Option<String>, hangup: bool) {
        self.report_early_overflow();
        let now = self.call_us(Instant::now());
        for line in self.playback.finish(now) {
            self.events.emit(MediaEventKind::Transcript { line });
        }
        tracing::info!(
            reason = reason.as_str(),
            detail = detail.as_deref().unwrap_or(""),
            hangup,
            frames_in = self.stats.frames_in,
            frames_out = self.stats.frames_out,
            "call ended"
        );
        self.events.emit(MediaEventKind::ConversationEnded { reason, detail, hangup_requested: hangup });
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
