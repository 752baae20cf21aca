//! G.711 μ-law companding (ITU-T G.711), as Twilio Media Streams carry audio.
//!
//! Decoding is a 256-entry table built at compile time; encoding follows the reference algorithm
//! in protocols.md §6.8. Used by media-proxy (transcoding to and from PCM agents) and by the
//! simulators (synthesised callee speech, energy detection, recording mix-down).

const BIAS: i32 = 0x84;
const CLIP: i32 = 32635;

const fn decode_one(byte: u8) -> i16 {
    let b = !byte;
    let mut t = (((b & 0x0F) as i32) << 3) + BIAS;
    t <<= ((b & 0x70) >> 4) as i32;
    (if b & 0x80 != 0 { BIAS - t } else { t - BIAS }) as i16
}

const fn build_decode_table() -> [i16; 256] {
    let mut table = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = decode_one(i as u8);
        i += 1;
    }
    table
}

/// μ-law byte → linear 16-bit sample.
pub static ULAW_TO_LINEAR: [i16; 256] = build_decode_table();

/// Decodes one μ-law byte.
#[inline]
pub fn ulaw_decode(byte: u8) -> i16 {
    ULAW_TO_LINEAR[byte as usize]
}

/// Encodes one linear 16-bit sample as μ-law.
#[inline]
pub fn ulaw_encode(sample: i16) -> u8 {
    let s = i32::from(sample);
    let sign = if s < 0 { 0x80 } else { 0 };
    let magnitude = s.abs().min(CLIP) + BIAS;
    // exponent = position of the highest set bit above bit 7, 0..=7
    let exponent = (31 - magnitude.leading_zeros() as i32 - 7).clamp(0, 7);
    let mantissa = (magnitude >> (exponent + 3)) & 0x0F;
    !((sign | (exponent << 4) | mantissa) as u8)
}

/// Decodes a μ-law buffer into samples.
pub fn decode_ulaw(bytes: &[u8], out: &mut Vec<i16>) {
    out.extend(bytes.iter().map(|&b| ulaw_decode(b)));
}

/// Encodes samples as μ-law.
pub fn encode_ulaw(samples: &[i16], out: &mut Vec<u8>) {
    out.extend(samples.iter().map(|&s| ulaw_encode(s)));
}

/// Root-mean-square level of samples (0 for an empty slice).
pub fn rms(samples: &[i16]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let sum: f64 = samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    (sum / samples.len() as f64).sqrt()
}

/// The μ-law byte for digital silence.
pub const ULAW_SILENCE: u8 = 0xFF;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silence_and_extremes() {
        assert_eq!(ulaw_decode(ULAW_SILENCE), 0);
        assert_eq!(ulaw_encode(0), 0xFF);
        assert_eq!(ulaw_decode(ulaw_encode(i16::MAX)), 32124);
        assert_eq!(ulaw_decode(ulaw_encode(i16::MIN)), -32124);
    }

    #[test]
    fn every_code_round_trips() {
        for b in 0..=255u8 {
            let s = ulaw_decode(b);
            let back = ulaw_encode(s);
            // 0x7F and 0xFF both decode to zero; all other codes are exact.
            assert_eq!(ulaw_decode(back), s, "byte {b:#x}");
        }
    }

    #[test]
    fn quantisation_error_is_bounded() {
        for s in (-32000i32..32000).step_by(97) {
            let s = s as i16;
            let err = (i32::from(ulaw_decode(ulaw_encode(s))) - i32::from(s)).abs();
            // μ-law step size is at most 1024 at the top segment
            assert!(err <= 1024, "sample {s} err {err}");
            if s.unsigned_abs() < 100 {
                assert!(err <= 4, "small sample {s} err {err}");
            }
        }
    }
}
