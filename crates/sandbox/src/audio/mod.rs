//! Audio the simulators produce and analyse.
//!
//! - [`synth`]: speech-like energy bursts (syllables of mixed harmonics with envelopes) whose
//!   length follows the text, beeps, fax tones and comfort noise.
//! - [`vad`]: energy-based speech detection with start and end-of-speech hang-over, used by the
//!   agent (on the caller's audio) and by the callee (on the agent's audio it hears).
//! - [`wav`]: 8 kHz 16-bit PCM WAV files for recordings.

pub mod synth;
pub mod vad;
pub mod wav;

/// Samples in one 20 ms frame at 8 kHz (= bytes of μ-law).
pub const FRAME_SAMPLES: usize = 160;

/// Sums two samples without wrapping.
#[inline]
pub fn mix(a: i16, b: i16) -> i16 {
    a.saturating_add(b)
}
