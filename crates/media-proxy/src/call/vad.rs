//! Caller end-of-speech, for the turn-latency measurement.
//!
//! Twilio sends a frame every 20 ms whether or not the callee speaks, so "the last frame before
//! the transcript" says nothing. Instead each inbound frame's RMS level is measured (μ-law table
//! decode of a stack copy; the forwarded payload itself is never touched) and a frame above
//! [`VOICE_RMS`] counts as speech. **Turn latency** = time the first agent audio of the reply is
//! sent to Twilio − arrival time of the last speech frame before the agent's `user_transcript`
//! for that turn.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::audio::ULAW_TO_LINEAR;

/// RMS level (16-bit scale) above which a frame is speech: about −40 dBFS, well above line
/// silence and comfortable noise, well below conversational speech.
pub const VOICE_RMS: f64 = 330.0;

/// RMS of a base64 μ-law frame, decoding at most the first 960 bytes (120 ms) into a stack buffer.
pub fn frame_rms(payload: &str) -> Option<f64> {
    let mut buf = [0u8; 960];
    let take = payload.len().min(1280) / 4 * 4;
    let n = STANDARD.decode_slice(&payload.as_bytes()[..take], &mut buf).ok()?;
    if n == 0 {
        return None;
    }
    let sum: f64 = buf[..n]
        .iter()
        .map(|&b| {
            let s = f64::from(ULAW_TO_LINEAR[b as usize]);
            s * s
        })
        .sum();
    Some((sum / n as f64).sqrt())
}

/// Tracks the caller's last speech and the turn waiting for its reply.
#[derive(Debug)]
pub struct TurnClock<T: Copy> {
    last_voice: Option<T>,
    waiting_since: Option<T>,
}

impl<T: Copy> Default for TurnClock<T> {
    fn default() -> Self {
        Self { last_voice: None, waiting_since: None }
    }
}

impl<T: Copy> TurnClock<T> {
    /// An inbound frame arrived at `at`.
    pub fn frame(&mut self, payload: &str, at: T) {
        if frame_rms(payload).is_some_and(|r| r >= VOICE_RMS) {
            self.last_voice = Some(at);
        }
    }

    /// The agent transcribed a caller turn: the reply's latency is measured from the last speech.
    pub fn caller_turn_done(&mut self) {
        if let Some(at) = self.last_voice.take() {
            self.waiting_since = Some(at);
        }
    }

    /// The first audio of an agent line went to Twilio: the start of the turn it answers, if any.
    pub fn reply_started(&mut self) -> Option<T> {
        self.waiting_since.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(level: f64) -> String {
        let samples: Vec<u8> =
            (0..160).map(|i| common::audio::ulaw_encode((level * (i as f64 * 0.7).sin()) as i16)).collect();
        STANDARD.encode(samples)
    }

    #[test]
    fn silence_and_speech_are_told_apart() {
        assert!(frame_rms(&frame(0.0)).expect("rms") < 10.0);
        assert!(frame_rms(&frame(100.0)).expect("rms") < VOICE_RMS);
        assert!(frame_rms(&frame(3000.0)).expect("rms") > VOICE_RMS);
        assert_eq!(frame_rms("@@@@"), None);
    }

    #[test]
    fn latency_is_measured_from_the_last_speech_frame() {
        let mut clock = TurnClock::default();
        clock.frame(&frame(3000.0), 100u64);
        clock.frame(&frame(3000.0), 120);
        clock.frame(&frame(0.0), 140);
        clock.frame(&frame(0.0), 160);
        clock.caller_turn_done();
        assert_eq!(clock.reply_started(), Some(120));
        assert_eq!(clock.reply_started(), None, "one measurement per turn");
        clock.caller_turn_done();
        assert_eq!(clock.reply_started(), None, "no speech since: nothing to measure");
    }
}
