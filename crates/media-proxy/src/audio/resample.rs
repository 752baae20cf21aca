//! A streaming polyphase resampler for any rational rate change (8 kHz ⇄ 16/22.05/24/44.1/48 kHz).
//!
//! Conceptually: insert `L − 1` zeros between input samples, low-pass with a Blackman-windowed
//! sinc, keep every `M`-th sample; computed directly per output sample from the one polyphase
//! branch that is non-zero. The cut-off is 85 % of the lower of the two Nyquist frequencies (for
//! 16 kHz → 8 kHz: 3.4 kHz, the top of the telephone band), so decimation does not alias and
//! interpolation leaves no images. State (the last input samples and the output phase) is kept
//! across calls, so a stream cut into arbitrary chunks resamples exactly as if it were whole.

/// Streaming resampler from `from_hz` to `to_hz`.
#[derive(Debug, Clone)]
pub struct Resampler {
    up: u64,
    down: u64,
    taps: usize,
    /// `coeffs[phase * taps + j]`: tap `j` of polyphase branch `phase`.
    coeffs: Vec<f32>,
    /// Input samples still needed; `buf[0]` has global index `base`.
    buf: Vec<f32>,
    base: i64,
    produced: u64,
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

impl Resampler {
    /// A resampler between two positive rates.
    pub fn new(from_hz: u32, to_hz: u32) -> Self {
        let g = gcd(u64::from(from_hz), u64::from(to_hz)).max(1);
        let (up, down) = (u64::from(to_hz) / g, u64::from(from_hz) / g);
        let taps = 32 * down.div_ceil(up).max(1) as usize;
        let len = taps * up as usize;
        let cutoff = 0.5 / up.max(down) as f64 * 0.85; // cycles per sample at the upsampled rate
        let centre = (len as f64 - 1.0) / 2.0;
        let mut proto: Vec<f64> = (0..len)
            .map(|k| {
                let x = k as f64 - centre;
                let sinc = if x == 0.0 {
                    2.0 * cutoff
                } else {
                    (2.0 * std::f64::consts::PI * cutoff * x).sin() / (std::f64::consts::PI * x)
                };
                let w = 2.0 * std::f64::consts::PI * k as f64 / (len as f64 - 1.0);
                sinc * (0.42 - 0.5 * w.cos() + 0.08 * (2.0 * w).cos())
            })
            .collect();
        let sum: f64 = proto.iter().sum();
        for c in &mut proto {
            *c *= up as f64 / sum;
        }
        let mut coeffs = vec![0f32; len];
        for phase in 0..up as usize {
            for j in 0..taps {
                coeffs[phase * taps + j] = proto[phase + j * up as usize] as f32;
            }
        }
        Self { up, down, taps, coeffs, buf: vec![0.0; taps - 1], base: -(taps as i64 - 1), produced: 0 }
    }

    /// Whether the two rates are equal (nothing to do).
    pub fn is_identity(&self) -> bool {
        self.up == self.down
    }

    /// Consumes `input` and appends every output sample now computable to `out`.
    pub fn process(&mut self, input: &[f32], out: &mut Vec<f32>) {
        self.buf.extend_from_slice(input);
        let end = self.base + self.buf.len() as i64;
        loop {
            let t = self.produced * self.down;
            let i = (t / self.up) as i64;
            if i >= end {
                break;
            }
            let phase = (t % self.up) as usize;
            let start = (i - (self.taps as i64 - 1) - self.base) as usize;
            let window = &self.buf[start..start + self.taps];
            let branch = &self.coeffs[phase * self.taps..(phase + 1) * self.taps];
            let acc: f32 = window.iter().rev().zip(branch).map(|(x, h)| x * h).sum();
            out.push(acc);
            self.produced += 1;
        }
        let next_i = ((self.produced * self.down) / self.up) as i64;
        let keep_from =
            (next_i - (self.taps as i64 - 1) - self.base).clamp(0, self.buf.len() as i64) as usize;
        if keep_from > 0 {
            self.buf.drain(..keep_from);
            self.base += keep_from as i64;
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn tone(freq: f64, rate: u32, amplitude: f64, seconds: f64) -> Vec<f32> {
        let n = (f64::from(rate) * seconds) as usize;
        (0..n)
            .map(|i| {
                (amplitude * (2.0 * std::f64::consts::PI * freq * i as f64 / f64::from(rate)).sin()) as f32
            })
            .collect()
    }

    pub fn rms(x: &[f32]) -> f64 {
        (x.iter().map(|&s| f64::from(s) * f64::from(s)).sum::<f64>() / x.len().max(1) as f64).sqrt()
    }

    /// Frequency from rising zero crossings.
    pub fn frequency(x: &[f32], rate: u32) -> f64 {
        let crossings: Vec<usize> = (1..x.len()).filter(|&i| x[i - 1] < 0.0 && x[i] >= 0.0).collect();
        let (Some(first), Some(last)) = (crossings.first(), crossings.last()) else { return 0.0 };
        (crossings.len() - 1) as f64 * f64::from(rate) / (last - first) as f64
    }

    fn steady(x: &[f32]) -> &[f32] {
        &x[x.len() / 5..x.len() * 4 / 5]
    }

    #[test]
    fn upsampling_keeps_frequency_and_level() {
        let input = tone(1000.0, 8000, 8000.0, 1.0);
        let mut r = Resampler::new(8000, 16000);
        let mut out = Vec::new();
        r.process(&input, &mut out);
        assert!((out.len() as i64 - 16000).abs() < 40, "{}", out.len());
        assert!((frequency(steady(&out), 16000) - 1000.0).abs() < 2.0);
        let ratio = rms(steady(&out)) / rms(steady(&input));
        assert!((ratio - 1.0).abs() < 0.03, "level ratio {ratio}");
    }

    #[test]
    fn decimation_rejects_what_would_alias() {
        // 6 kHz at 16 kHz would fold to 2 kHz at 8 kHz without a low-pass.
        let input = tone(6000.0, 16000, 8000.0, 1.0);
        let mut r = Resampler::new(16000, 8000);
        let mut out = Vec::new();
        r.process(&input, &mut out);
        let attenuation_db = 20.0 * (rms(steady(&out)) / rms(&input)).log10();
        assert!(attenuation_db < -40.0, "only {attenuation_db:.1} dB");
    }

    #[test]
    fn chunking_does_not_change_the_output() {
        let input = tone(440.0, 22050, 5000.0, 0.5);
        let mut whole = Vec::new();
        Resampler::new(22050, 8000).process(&input, &mut whole);
        let mut pieces = Vec::new();
        let mut r = Resampler::new(22050, 8000);
        for chunk in input.chunks(97) {
            r.process(chunk, &mut pieces);
        }
        assert_eq!(whole.len(), pieces.len());
        assert!(whole.iter().zip(&pieces).all(|(a, b)| (a - b).abs() < 1e-3));
        assert!((frequency(steady(&whole), 8000) - 440.0).abs() < 2.0);
    }

    #[test]
    fn every_agent_rate_reaches_8k_at_the_right_length() {
        for rate in [16000u32, 22050, 24000, 44100, 48000] {
            let input = tone(700.0, rate, 6000.0, 0.5);
            let mut out = Vec::new();
            Resampler::new(rate, 8000).process(&input, &mut out);
            assert!((out.len() as i64 - 4000).abs() < 80, "{rate}: {}", out.len());
            assert!((frequency(steady(&out), 8000) - 700.0).abs() < 3.0, "{rate}");
            let ratio = rms(steady(&out)) / rms(steady(&input));
            assert!((ratio - 1.0).abs() < 0.05, "{rate}: level ratio {ratio}");
        }
    }
}
