//! The agent's audio: synthesis in the announced output format, chunking and pacing (a little
//! ahead of real time, as a TTS stream is), decoding of the caller's audio in the input format,
//! and the text said so far when a turn is interrupted.

use crate::audio::synth::{self, AGENT_VOICE};
use common::elevenlabs::AudioFormat;
use std::collections::VecDeque;
use std::time::Duration;
use tokio::time::Instant;

/// Audio per `audio` event.
pub const CHUNK_MS: u64 = 100;
/// How far ahead of its playback clock the agent streams audio.
pub const LEAD: Duration = Duration::from_millis(400);

/// Encodes samples in `format` (`ulaw_8000` or `pcm_*` little-endian).
pub fn encode(samples: &[i16], format: AudioFormat) -> Vec<u8> {
    match format {
        AudioFormat::Ulaw8000 => samples.iter().map(|s| common::audio::ulaw_encode(*s)).collect(),
        AudioFormat::Pcm(_) => samples.iter().flat_map(|s| s.to_le_bytes()).collect(),
    }
}

/// Decodes caller audio in `format`; `carry` keeps an odd PCM byte between chunks.
pub fn decode(bytes: &[u8], format: AudioFormat, carry: &mut Option<u8>) -> Vec<i16> {
    match format {
        AudioFormat::Ulaw8000 => bytes.iter().map(|b| common::audio::ulaw_decode(*b)).collect(),
        AudioFormat::Pcm(_) => {
            let mut all = Vec::with_capacity(bytes.len() + 1);
            all.extend(carry.take());
            all.extend_from_slice(bytes);
            if all.len() % 2 == 1 {
                *carry = all.pop();
            }
            all.chunks_exact(2).map(|c| i16::from_le_bytes([c[0], c[1]])).collect()
        }
    }
}

/// The first `fraction` of `text`, cut at a word boundary.
pub fn truncate_words(text: &str, fraction: f64) -> String {
    let target = (text.chars().count() as f64 * fraction.clamp(0.0, 1.0)).round() as usize;
    let mut out = String::new();
    for word in text.split_whitespace() {
        if out.chars().count() + word.chars().count() > target && !out.is_empty() {
            break;
        }
        if out.chars().count() >= target {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// One agent turn being spoken.
#[derive(Debug)]
pub struct Utterance {
    /// `event_id` of the turn (its `agent_response` and every `audio` chunk).
    pub event_id: u64,
    /// Full text.
    pub text: String,
    /// When playback (as the agent reckons it) starts.
    pub starts: Instant,
    /// Length of the audio.
    pub duration: Duration,
    chunks: VecDeque<Vec<u8>>,
    sent: u32,
}

impl Utterance {
    /// Synthesises `text`; playback starts at `starts`.
    pub fn new(text: &str, event_id: u64, format: AudioFormat, starts: Instant) -> Self {
        let rate = format.sample_rate();
        let samples = synth::speech(text, AGENT_VOICE, rate);
        let duration = Duration::from_millis(samples.len() as u64 * 1000 / u64::from(rate));
        let per_chunk = (u64::from(rate) * CHUNK_MS / 1000) as usize;
        let chunks = samples.chunks(per_chunk).map(|c| encode(c, format)).collect();
        Self { event_id, text: text.to_owned(), starts, duration, chunks, sent: 0 }
    }

    /// When playback ends.
    pub fn ends(&self) -> Instant {
        self.starts + self.duration
    }

    /// Chunks due by `now` (each is sent [`LEAD`] before it plays).
    pub fn due(&mut self, now: Instant) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        while !self.chunks.is_empty() {
            let plays_at = self.starts + Duration::from_millis(u64::from(self.sent) * CHUNK_MS);
            if plays_at > now + LEAD {
                break;
            }
            out.extend(self.chunks.pop_front());
            self.sent += 1;
        }
        out
    }

    /// The text heard by `now`.
    pub fn said_by(&self, now: Instant) -> String {
        let heard = now.saturating_duration_since(self.starts).as_secs_f64();
        truncate_words(&self.text, heard / self.duration.as_secs_f64().max(0.001))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_cuts_at_words() {
        assert_eq!(truncate_words("one two three four", 0.5), "one two");
        assert_eq!(truncate_words("one two three four", 0.0), "");
        assert_eq!(truncate_words("one two three four", 1.0), "one two three four");
    }

    #[test]
    fn pcm_decoding_keeps_odd_bytes() {
        let bytes = encode(&[1, -2, 300], AudioFormat::Pcm(16000));
        let mut carry = None;
        let mut out = decode(&bytes[..3], AudioFormat::Pcm(16000), &mut carry);
        out.extend(decode(&bytes[3..], AudioFormat::Pcm(16000), &mut carry));
        assert_eq!(out, vec![1, -2, 300]);
        let exact = common::audio::ulaw_decode(0x20);
        assert_eq!(
            decode(&encode(&[exact], AudioFormat::Ulaw8000), AudioFormat::Ulaw8000, &mut None),
            vec![exact]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn chunks_are_paced_ahead_of_playback() {
        let t0 = Instant::now();
        let mut u = Utterance::new("Hello there, how are you today?", 7, AudioFormat::Ulaw8000, t0);
        let first = u.due(t0);
        assert_eq!(first.len(), 5, "400 ms of lead = chunks at 0..=400 ms");
        assert!(first.iter().all(|c| c.len() == 800 || c.len() % 160 == 0));
        assert!(u.due(t0).is_empty());
        assert_eq!(u.due(t0 + Duration::from_millis(250)).len(), 2);
        let rest = u.due(t0 + u.duration);
        let total: usize = first.iter().chain(&rest).map(Vec::len).sum::<usize>() + 1600;
        assert_eq!(total as u128, u.duration.as_millis() * 8);
        let pcm = Utterance::new("Hi", 1, AudioFormat::Pcm(16000), t0);
        assert_eq!(pcm.duration, Duration::from_millis(300));
        assert_eq!(u.said_by(t0), "");
        assert_eq!(u.said_by(u.ends()), u.text);
    }
}
