//! WAV (RIFF, PCM 16-bit little-endian, mono or interleaved stereo) encoding for recordings.

/// Size of the header [`encode`] writes.
pub const HEADER_LEN: usize = 44;

/// Encodes 16-bit samples (interleaved when `channels` is 2) as a WAV file.
pub fn encode(samples: &[i16], rate: u32, channels: u16) -> Vec<u8> {
    let data_len = u32::try_from(samples.len() * 2).unwrap_or(u32::MAX - 36);
    let mut out = Vec::with_capacity(HEADER_LEN + samples.len() * 2);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes()); // fmt chunk size
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&channels.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * 2 * u32::from(channels)).to_le_bytes()); // byte rate
    out.extend_from_slice(&(2 * channels).to_le_bytes()); // block align
    out.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}

/// Number of channels of a file written by [`encode`].
pub fn channels(bytes: &[u8]) -> Option<u16> {
    Some(u16::from_le_bytes(bytes.get(22..24)?.try_into().ok()?))
}

/// Decodes a file written by [`encode`]: `(rate, samples)` (interleaved if stereo).
pub fn decode(bytes: &[u8]) -> Option<(u32, Vec<i16>)> {
    if bytes.len() < HEADER_LEN || &bytes[0..4] != b"RIFF" || &bytes[8..16] != b"WAVEfmt " {
        return None;
    }
    let rate = u32::from_le_bytes(bytes[24..28].try_into().ok()?);
    let data_len = u32::from_le_bytes(bytes[40..44].try_into().ok()?) as usize;
    let data = bytes.get(HEADER_LEN..HEADER_LEN + data_len)?;
    Some((rate, data.chunks_exact(2).map(|c| i16::from_le_bytes([c[0], c[1]])).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_canonical_and_round_trips() {
        let samples = [0i16, 1, -1, i16::MAX, i16::MIN];
        let wav = encode(&samples, 8000, 1);
        assert_eq!(wav.len(), HEADER_LEN + 10);
        assert_eq!(&wav[0..4], b"RIFF");
        assert_eq!(u32::from_le_bytes(wav[4..8].try_into().expect("4")), 36 + 10);
        assert_eq!(u32::from_le_bytes(wav[28..32].try_into().expect("4")), 16000);
        assert_eq!(decode(&wav), Some((8000, samples.to_vec())));
        assert_eq!(decode(b"nope"), None);
        let stereo = encode(&[1, 2, 3, 4], 8000, 2);
        assert_eq!((channels(&stereo), channels(&wav)), (Some(2), Some(1)));
        assert_eq!(u32::from_le_bytes(stereo[28..32].try_into().expect("4")), 32000);
    }
}
