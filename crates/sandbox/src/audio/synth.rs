//! Speech-like audio synthesis.
//!
//! Not intelligible speech, but audio with the properties a bridge and a VAD care about: voiced
//! syllables (a fundamental with harmonics and a formant-like partial, under a smooth envelope),
//! short gaps between syllables, longer gaps between words, and a total length proportional to
//! the text (about 15 characters per second). Deterministic for a given text and voice, so tests
//! and recordings are reproducible.

use std::f32::consts::PI;

/// Milliseconds of speech per character of text.
pub const MS_PER_CHAR: u64 = 65;

/// A synthetic voice.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Voice {
    /// Fundamental frequency in Hz.
    pub f0: f32,
    /// Peak amplitude (of 32767).
    pub amplitude: f32,
}

/// The simulated callee.
pub const CALLEE_VOICE: Voice = Voice { f0: 125.0, amplitude: 9000.0 };
/// The simulated agent.
pub const AGENT_VOICE: Voice = Voice { f0: 205.0, amplitude: 8000.0 };
/// A voicemail greeting.
pub const GREETING_VOICE: Voice = Voice { f0: 180.0, amplitude: 8500.0 };

/// A small deterministic PRNG (xorshift), enough for jitter and noise.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// Seeds from any bytes (FNV-1a), never zero.
    pub fn from_bytes(bytes: &[u8]) -> Self {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        Self(h | 1)
    }

    /// Next value in `0.0..1.0`.
    pub fn next_f32(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 40) as f32 / (1u64 << 24) as f32
    }
}

/// How long `text` takes to say.
pub fn speech_duration_ms(text: &str) -> u64 {
    (text.chars().count() as u64 * MS_PER_CHAR).clamp(300, 30_000)
}

fn samples_for(ms: u64, rate: u32) -> usize {
    (ms * u64::from(rate) / 1000) as usize
}

fn syllables(word: &str) -> usize {
    let mut count = 0;
    let mut prev_vowel = false;
    for c in word.chars() {
        let vowel = matches!(c.to_ascii_lowercase(), 'a' | 'e' | 'i' | 'o' | 'u' | 'y');
        if vowel && !prev_vowel {
            count += 1;
        }
        prev_vowel = vowel;
    }
    count.max(1)
}

/// Synthesises `text` at `rate` samples per second; its length is [`speech_duration_ms`].
pub fn speech(text: &str, voice: Voice, rate: u32) -> Vec<i16> {
    let total = samples_for(speech_duration_ms(text), rate);
    let mut out = Vec::with_capacity(total);
    let mut rng = Rng::from_bytes(text.as_bytes());
    let words: Vec<&str> = text.split_whitespace().collect();
    let chars: usize = words.iter().map(|w| w.chars().count() + 1).sum::<usize>().max(1);
    let word_gap = samples_for(70, rate);
    for word in &words {
        let share = (word.chars().count() + 1) as f32 / chars as f32;
        let word_len = ((total as f32 * share) as usize).saturating_sub(word_gap);
        let n = syllables(word);
        let syl_len = word_len / n;
        for _ in 0..n {
            let f0 = voice.f0 * (0.9 + 0.2 * rng.next_f32());
            let formant = 500.0 + 1500.0 * rng.next_f32();
            push_syllable(&mut out, syl_len, f0, formant, voice.amplitude, rate);
        }
        push_noise(&mut out, word_gap, 30.0, &mut rng);
    }
    out.resize(total, 0);
    out
}

fn push_syllable(out: &mut Vec<i16>, len: usize, f0: f32, formant: f32, amplitude: f32, rate: u32) {
    let gap = len / 8;
    let voiced = len - gap;
    let rate = rate as f32;
    for i in 0..voiced {
        let t = i as f32 / rate;
        let env = (PI * i as f32 / voiced as f32).sin().powf(0.6);
        let mut s = 0.0;
        for h in 1..=4 {
            s += (2.0 * PI * f0 * h as f32 * t).sin() / h as f32;
        }
        s += 0.5 * (2.0 * PI * formant * t).sin();
        out.push((s / 2.6 * env * amplitude) as i16);
    }
    out.extend(std::iter::repeat_n(0, gap));
}

fn push_noise(out: &mut Vec<i16>, len: usize, amplitude: f32, rng: &mut Rng) {
    out.extend((0..len).map(|_| ((rng.next_f32() * 2.0 - 1.0) * amplitude) as i16));
}

/// A pure tone (beeps, fax CNG).
pub fn tone(freq: f32, ms: u64, rate: u32, amplitude: f32) -> Vec<i16> {
    let n = samples_for(ms, rate);
    (0..n).map(|i| ((2.0 * PI * freq * i as f32 / rate as f32).sin() * amplitude) as i16).collect()
}

/// Low-level line noise.
pub fn comfort_noise(ms: u64, rate: u32, rng: &mut Rng) -> Vec<i16> {
    let mut out = Vec::with_capacity(samples_for(ms, rate));
    push_noise(&mut out, samples_for(ms, rate), 30.0, rng);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::audio::rms;

    #[test]
    fn length_follows_the_text() {
        let short = speech("Hi there.", CALLEE_VOICE, 8000);
        let long = speech("Yes, tomorrow morning works for me, thank you very much.", CALLEE_VOICE, 8000);
        assert_eq!(short.len() as u64, speech_duration_ms("Hi there.") * 8);
        assert!(long.len() > 4 * short.len() / 2);
        assert_eq!(speech("Hi there.", AGENT_VOICE, 16000).len(), short.len() * 2);
    }

    #[test]
    fn speech_is_loud_with_gaps_and_deterministic() {
        let s = speech("Sure, I have a minute.", CALLEE_VOICE, 8000);
        assert!(rms(&s) > 1500.0, "speech energy {}", rms(&s));
        let quiet_frames = s.chunks(160).filter(|f| rms(f) < 200.0).count();
        assert!(quiet_frames >= 1, "there are gaps between words");
        assert_eq!(s, speech("Sure, I have a minute.", CALLEE_VOICE, 8000));
        let mut rng = Rng::from_bytes(b"x");
        assert!(rms(&comfort_noise(100, 8000, &mut rng)) < 50.0);
        assert!(rms(&tone(1000.0, 100, 8000, 8000.0)) > 5000.0);
    }
}
