//! Energy-based voice activity detection.
//!
//! Audio is cut into 20 ms windows; a window is voiced when its RMS exceeds a threshold. Speech
//! starts after `start_ms` of consecutive voiced windows (so clicks do not count) and ends after
//! `end_ms` of consecutive quiet windows (so gaps between words do not end a turn). Times are in
//! audio milliseconds since the detector was created, so it works on any chunking and is
//! independent of the wall clock.

/// A change of speech state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VadEvent {
    /// Speech began at this audio time (the first voiced window).
    SpeechStart {
        /// Milliseconds of audio since the detector started.
        at_ms: u64,
    },
    /// Speech ended at this audio time (the first quiet window of the hang-over).
    SpeechEnd {
        /// Milliseconds of audio since the detector started.
        at_ms: u64,
    },
}

/// Detector state.
#[derive(Debug, Clone)]
pub struct Vad {
    window: usize,
    threshold: f64,
    start_windows: u32,
    end_windows: u32,
    pending: Vec<i16>,
    windows_seen: u64,
    voiced_run: u32,
    quiet_run: u32,
    speaking: bool,
}

/// RMS above which a 20 ms window counts as voiced.
pub const DEFAULT_THRESHOLD: f64 = 500.0;

impl Vad {
    /// A detector for `rate` samples per second.
    pub fn new(rate: u32, threshold: f64, start_ms: u64, end_ms: u64) -> Self {
        Self {
            window: (rate / 50) as usize,
            threshold,
            start_windows: (start_ms / 20).max(1) as u32,
            end_windows: (end_ms / 20).max(1) as u32,
            pending: Vec::with_capacity((rate / 50) as usize),
            windows_seen: 0,
            voiced_run: 0,
            quiet_run: 0,
            speaking: false,
        }
    }

    /// Whether speech is under way.
    pub fn is_speaking(&self) -> bool {
        self.speaking
    }

    /// Audio milliseconds processed so far.
    pub fn now_ms(&self) -> u64 {
        self.windows_seen * 20
    }

    /// Feeds samples; state changes are appended to `events`.
    pub fn push(&mut self, samples: &[i16], events: &mut Vec<VadEvent>) {
        let mut rest = samples;
        while !rest.is_empty() {
            let take = (self.window - self.pending.len()).min(rest.len());
            self.pending.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.pending.len() == self.window {
                let voiced = common::audio::rms(&self.pending) > self.threshold;
                self.pending.clear();
                self.window_done(voiced, events);
            }
        }
    }

    fn window_done(&mut self, voiced: bool, events: &mut Vec<VadEvent>) {
        self.windows_seen += 1;
        if voiced {
            self.voiced_run += 1;
            self.quiet_run = 0;
            if !self.speaking && self.voiced_run >= self.start_windows {
                self.speaking = true;
                let at_ms = (self.windows_seen - u64::from(self.voiced_run)) * 20;
                events.push(VadEvent::SpeechStart { at_ms });
            }
        } else {
            self.quiet_run += 1;
            self.voiced_run = 0;
            if self.speaking && self.quiet_run >= self.end_windows {
                self.speaking = false;
                let at_ms = (self.windows_seen - u64::from(self.quiet_run)) * 20;
                events.push(VadEvent::SpeechEnd { at_ms });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::synth::{CALLEE_VOICE, speech, tone};

    fn run(vad: &mut Vad, samples: &[i16], chunk: usize) -> Vec<VadEvent> {
        let mut events = Vec::new();
        for c in samples.chunks(chunk) {
            vad.push(c, &mut events);
        }
        events
    }

    #[test]
    fn detects_a_sentence_as_one_utterance_regardless_of_chunking() {
        let mut audio = vec![0i16; 8000];
        let said = speech("Yes, tomorrow morning works for me.", CALLEE_VOICE, 8000);
        let said_ms = said.len() as u64 / 8;
        audio.extend(&said);
        audio.extend(vec![0i16; 8000]);
        for chunk in [160, 37, 4000] {
            let mut vad = Vad::new(8000, DEFAULT_THRESHOLD, 60, 500);
            let events = run(&mut vad, &audio, chunk);
            assert_eq!(events.len(), 2, "chunk {chunk}: {events:?}");
            let VadEvent::SpeechStart { at_ms: start } = events[0] else { panic!("start first") };
            let VadEvent::SpeechEnd { at_ms: end } = events[1] else { panic!("end second") };
            assert!((1000..1100).contains(&start), "start {start}");
            assert!(end > start + said_ms - 300 && end <= 1000 + said_ms + 40, "end {end}");
            assert!(!vad.is_speaking());
        }
    }

    #[test]
    fn clicks_and_noise_are_not_speech_and_rate_is_respected() {
        let mut vad = Vad::new(16000, DEFAULT_THRESHOLD, 60, 500);
        let mut audio = vec![0i16; 16000];
        audio.extend(tone(440.0, 20, 16000, 8000.0));
        audio.extend(vec![0i16; 16000]);
        assert!(run(&mut vad, &audio, 320).is_empty());
        let events = run(&mut vad, &tone(440.0, 200, 16000, 8000.0), 320);
        assert_eq!(events, vec![VadEvent::SpeechStart { at_ms: 2020 }]);
        assert!(vad.is_speaking());
    }
}
