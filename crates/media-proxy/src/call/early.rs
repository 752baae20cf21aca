//! Caller audio that arrives before the agent is ready.
//!
//! Twilio streams the callee's audio from the moment the call is answered, while the agent is
//! still connecting; the replaced bridge dropped it and with it the callee's "Hello?". Frames are
//! kept in arrival order up to a bound (about 2 s, `EARLY_AUDIO_BUFFER_MS`) and sent in order as
//! soon as the agent's metadata arrives. When the bound is reached the *later* frames are dropped
//! and counted: the first words are what matters, and the stream goes live soon after. The call
//! reports what was dropped to main-app once (an `early_audio_dropped` error event, see
//! [`EarlyAudio::take_dropped`]): an agent that keeps a caller waiting that long is an incident.

use std::collections::VecDeque;

/// Bounded FIFO of base64 μ-law payloads.
#[derive(Debug)]
pub struct EarlyAudio {
    frames: VecDeque<String>,
    samples: usize,
    cap_samples: usize,
    dropped: u64,
    dropped_samples: u64,
}

impl EarlyAudio {
    /// Keeps at most `cap_ms` of 8 kHz audio.
    pub fn new(cap_ms: u64) -> Self {
        Self {
            frames: VecDeque::new(),
            samples: 0,
            cap_samples: (cap_ms * 8) as usize,
            dropped: 0,
            dropped_samples: 0,
        }
    }

    /// Adds a frame of `samples` samples; returns false (and counts it) when it does not fit.
    pub fn push(&mut self, payload: String, samples: usize) -> bool {
        if self.samples + samples > self.cap_samples {
            self.dropped += 1;
            self.dropped_samples += samples as u64;
            return false;
        }
        self.samples += samples;
        self.frames.push_back(payload);
        true
    }

    /// Takes every buffered frame, oldest first, and releases the memory.
    pub fn take(&mut self) -> VecDeque<String> {
        self.samples = 0;
        std::mem::take(&mut self.frames)
    }

    /// Frames that did not fit.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// What was dropped since the last call, as (frames, milliseconds of audio), and resets
    /// the count, so that it is reported once.
    pub fn take_dropped(&mut self) -> (u64, u64) {
        let taken = (self.dropped, self.dropped_samples / 8);
        self.dropped = 0;
        self.dropped_samples = 0;
        taken
    }

    /// Frames waiting.
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_up_to_the_bound_then_drops_later_frames() {
        let mut early = EarlyAudio::new(60); // three 20 ms frames
        for i in 0..5 {
            early.push(format!("f{i}"), 160);
        }
        assert_eq!(early.len(), 3);
        assert_eq!(early.dropped(), 2);
        let frames: Vec<String> = early.take().into_iter().collect();
        assert_eq!(frames, ["f0", "f1", "f2"]);
        assert!(early.is_empty());
        assert!(early.push("again".into(), 160), "room again after take");
        assert_eq!(early.take_dropped(), (2, 40), "two 20 ms frames");
        assert_eq!(early.take_dropped(), (0, 0), "reported once");
    }
}
