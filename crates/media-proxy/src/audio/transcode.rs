//! Per-call transcoders for an agent that speaks or listens in 16-bit PCM.
//!
//! - [`CallerToAgent`]: Twilio base64 μ-law 8 kHz → μ-law decode → resample to the agent's input
//!   rate → 16-bit little-endian PCM → base64.
//! - [`AgentToCaller`]: agent base64 PCM (any documented rate) → 16-bit samples (an odd trailing
//!   byte is kept for the next chunk) → low-pass and resample to 8 kHz → μ-law → base64.
//!
//! Both keep their resampler state for the whole call, so chunk boundaries are inaudible.

use super::resample::Resampler;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::audio::{ulaw_decode, ulaw_encode};

/// A payload that is not valid base64.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("audio payload is not valid base64")]
pub struct BadPayload;

fn to_i16(x: f32) -> i16 {
    x.round().clamp(f32::from(i16::MIN), f32::from(i16::MAX)) as i16
}

/// Twilio audio to a PCM agent.
#[derive(Debug, Clone)]
pub struct CallerToAgent {
    resampler: Resampler,
    bytes: Vec<u8>,
    samples: Vec<f32>,
    out: Vec<f32>,
    pcm: Vec<u8>,
}

impl CallerToAgent {
    /// For an agent listening at `rate` Hz.
    pub fn new(rate: u32) -> Self {
        Self {
            resampler: Resampler::new(8000, rate),
            bytes: Vec::new(),
            samples: Vec::new(),
            out: Vec::new(),
            pcm: Vec::new(),
        }
    }

    /// Converts one Twilio payload into the agent's base64 PCM.
    pub fn convert(&mut self, payload: &str) -> Result<String, BadPayload> {
        self.bytes.clear();
        STANDARD.decode_vec(payload, &mut self.bytes).map_err(|_| BadPayload)?;
        self.samples.clear();
        self.samples.extend(self.bytes.iter().map(|&b| f32::from(ulaw_decode(b))));
        self.out.clear();
        if self.resampler.is_identity() {
            self.out.extend_from_slice(&self.samples);
        } else {
            self.resampler.process(&self.samples, &mut self.out);
        }
        self.pcm.clear();
        for &s in &self.out {
            self.pcm.extend_from_slice(&to_i16(s).to_le_bytes());
        }
        Ok(STANDARD.encode(&self.pcm))
    }
}

/// PCM agent audio to Twilio.
#[derive(Debug, Clone)]
pub struct AgentToCaller {
    resampler: Resampler,
    leftover: Option<u8>,
    bytes: Vec<u8>,
    samples: Vec<f32>,
    out: Vec<f32>,
    ulaw: Vec<u8>,
}

impl AgentToCaller {
    /// For an agent speaking at `rate` Hz.
    pub fn new(rate: u32) -> Self {
        Self {
            resampler: Resampler::new(rate, 8000),
            leftover: None,
            bytes: Vec::new(),
            samples: Vec::new(),
            out: Vec::new(),
            ulaw: Vec::new(),
        }
    }

    /// Converts one agent chunk; returns base64 μ-law (possibly empty when the chunk was too short
    /// to yield an 8 kHz sample yet) and how many 8 kHz samples it holds.
    pub fn convert(&mut self, payload: &str) -> Result<(String, usize), BadPayload> {
        self.bytes.clear();
        if let Some(b) = self.leftover.take() {
            self.bytes.push(b);
        }
        STANDARD.decode_vec(payload, &mut self.bytes).map_err(|_| BadPayload)?;
        if self.bytes.len() % 2 == 1 {
            self.leftover = self.bytes.pop();
        }
        self.samples.clear();
        self.samples.extend(self.bytes.chunks_exact(2).map(|p| f32::from(i16::from_le_bytes([p[0], p[1]]))));
        self.out.clear();
        if self.resampler.is_identity() {
            self.out.extend_from_slice(&self.samples);
        } else {
            self.resampler.process(&self.samples, &mut self.out);
        }
        self.ulaw.clear();
        self.ulaw.extend(self.out.iter().map(|&s| ulaw_encode(to_i16(s))));
        Ok((STANDARD.encode(&self.ulaw), self.ulaw.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::resample::tests::{frequency, rms, tone};

    fn steady(x: &[f32]) -> &[f32] {
        &x[x.len() / 5..x.len() * 4 / 5]
    }

    fn ulaw_b64(samples: &[f32]) -> String {
        STANDARD.encode(samples.iter().map(|&s| ulaw_encode(to_i16(s))).collect::<Vec<u8>>())
    }

    fn decode_ulaw_b64(b64: &str) -> Vec<f32> {
        STANDARD.decode(b64).expect("b64").iter().map(|&b| f32::from(ulaw_decode(b))).collect()
    }

    fn decode_pcm_b64(b64: &str) -> Vec<f32> {
        let bytes = STANDARD.decode(b64).expect("b64");
        bytes.chunks_exact(2).map(|p| f32::from(i16::from_le_bytes([p[0], p[1]]))).collect()
    }

    /// Twilio frames → pcm_16000 → back to Twilio, as a tone travels through a PCM agent that
    /// echoes it: frequency and level survive.
    #[test]
    fn pcm_16000_round_trip_keeps_tone_frequency_and_level() {
        for (freq, amplitude) in [(440.0, 8000.0), (1000.0, 3000.0), (2500.0, 12000.0)] {
            let input = tone(freq, 8000, amplitude, 1.0);
            let mut up = CallerToAgent::new(16000);
            let mut down = AgentToCaller::new(16000);
            let mut at_agent = Vec::new();
            let mut back = Vec::new();
            for frame in input.chunks(160) {
                let pcm = up.convert(&ulaw_b64(frame)).expect("up");
                at_agent.extend(decode_pcm_b64(&pcm));
                let (ulaw, n) = down.convert(&pcm).expect("down");
                let decoded = decode_ulaw_b64(&ulaw);
                assert_eq!(decoded.len(), n);
                back.extend(decoded);
            }
            assert!((at_agent.len() as i64 - 16000).abs() < 100);
            assert!((frequency(steady(&at_agent), 16000) - freq).abs() < freq * 0.01, "{freq} at agent");
            assert!((frequency(steady(&back), 8000) - freq).abs() < freq * 0.01, "{freq} back");
            let db = 20.0 * (rms(steady(&back)) / rms(steady(&input))).log10();
            assert!(db.abs() < 1.0, "{freq} Hz level changed by {db:.2} dB");
        }
    }

    #[test]
    fn odd_byte_chunks_are_reassembled() {
        let input = tone(800.0, 16000, 6000.0, 0.5);
        let pcm: Vec<u8> = input.iter().flat_map(|&s| to_i16(s).to_le_bytes()).collect();
        let mut whole = AgentToCaller::new(16000);
        let (all, n_all) = whole.convert(&STANDARD.encode(&pcm)).expect("whole");
        let mut split = AgentToCaller::new(16000);
        let mut pieces = Vec::new();
        let mut n_pieces = 0;
        for chunk in pcm.chunks(333) {
            let (b64, n) = split.convert(&STANDARD.encode(chunk)).expect("chunk");
            pieces.extend(STANDARD.decode(b64).expect("b64"));
            n_pieces += n;
        }
        assert_eq!(n_all, n_pieces);
        assert_eq!(STANDARD.decode(all).expect("b64"), pieces);
    }

    #[test]
    fn pcm_24000_agent_output_reaches_twilio_at_8k() {
        let input = tone(600.0, 24000, 9000.0, 1.0);
        let pcm: Vec<u8> = input.iter().flat_map(|&s| to_i16(s).to_le_bytes()).collect();
        let mut down = AgentToCaller::new(24000);
        let mut back = Vec::new();
        for chunk in pcm.chunks(4800) {
            back.extend(decode_ulaw_b64(&down.convert(&STANDARD.encode(chunk)).expect("down").0));
        }
        assert!((back.len() as i64 - 8000).abs() < 100);
        assert!((frequency(steady(&back), 8000) - 600.0).abs() < 6.0);
        let db = 20.0 * (rms(steady(&back)) / rms(steady(&input))).log10();
        assert!(db.abs() < 1.0, "{db}");
    }

    #[test]
    fn bad_base64_is_an_error() {
        assert_eq!(CallerToAgent::new(16000).convert("!!!"), Err(BadPayload));
        assert_eq!(AgentToCaller::new(16000).convert("***").map(|_| ()), Err(BadPayload));
    }
}
