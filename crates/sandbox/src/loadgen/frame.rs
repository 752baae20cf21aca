//! Audio frames that carry their own send time, so one-way latency is measured end to end on the
//! generator's single clock (it plays both Twilio and the agent).
//!
//! A frame is 160 bytes of μ-law (20 ms): `b"LG1"`, the stream index (u32 LE), the sequence
//! number (u32 LE) and the send time in microseconds since the generator's epoch (u64 LE); the
//! rest is μ-law silence. The bridge under test forwards `ulaw_8000` payloads untouched, so the
//! stamp survives the trip.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// Bytes per 20 ms frame.
pub const FRAME_BYTES: usize = 160;
const MAGIC: &[u8; 3] = b"LG1";

/// What a stamped frame says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// Which stream sent it.
    pub stream: u32,
    /// Per-stream sequence number.
    pub seq: u32,
    /// Send time, µs since the generator's epoch.
    pub sent_us: u64,
}

/// Base64 payload of a stamped frame.
pub fn encode(stamp: Stamp) -> String {
    let mut bytes = [common::audio::ULAW_SILENCE; FRAME_BYTES];
    bytes[..3].copy_from_slice(MAGIC);
    bytes[3..7].copy_from_slice(&stamp.stream.to_le_bytes());
    bytes[7..11].copy_from_slice(&stamp.seq.to_le_bytes());
    bytes[11..19].copy_from_slice(&stamp.sent_us.to_le_bytes());
    STANDARD.encode(bytes)
}

/// Appends the base64 payload of a stamped frame to `out`, as [`encode`] but without building
/// the whole frame: the stamp is the first 21 bytes (7 whole base64 groups), so only those are
/// encoded per frame and the silence after them is encoded once.
pub fn encode_into(stamp: Stamp, out: &mut Vec<u8>) {
    static TAIL: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| STANDARD.encode([common::audio::ULAW_SILENCE; FRAME_BYTES - HEAD_BYTES]));
    let mut head = [common::audio::ULAW_SILENCE; HEAD_BYTES];
    head[..3].copy_from_slice(MAGIC);
    head[3..7].copy_from_slice(&stamp.stream.to_le_bytes());
    head[7..11].copy_from_slice(&stamp.seq.to_le_bytes());
    head[11..19].copy_from_slice(&stamp.sent_us.to_le_bytes());
    let mut text = [0u8; HEAD_BYTES / 3 * 4];
    let n = STANDARD.encode_slice(head, &mut text).unwrap_or(0);
    out.extend_from_slice(&text[..n]);
    out.extend_from_slice(TAIL.as_bytes());
}

/// Bytes of the frame's head that [`encode_into`] encodes per frame (a multiple of 3).
const HEAD_BYTES: usize = 21;

/// Reads the stamp of a base64 payload (only its first 28 characters are decoded).
pub fn decode(payload: &str) -> Option<Stamp> {
    let head = payload.get(..28)?;
    let mut bytes = [0u8; 21];
    let n = STANDARD.decode_slice(head, &mut bytes).ok()?;
    if n < 19 || &bytes[..3] != MAGIC {
        return None;
    }
    let u32_at = |i: usize| u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    let mut t = [0u8; 8];
    t.copy_from_slice(&bytes[11..19]);
    Some(Stamp { stream: u32_at(3), seq: u32_at(7), sent_us: u64::from_le_bytes(t) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_round_trip_and_frames_are_20ms() {
        let stamp = Stamp { stream: 999, seq: 123_456, sent_us: 987_654_321_012 };
        let payload = encode(stamp);
        assert_eq!(STANDARD.decode(&payload).expect("b64").len(), FRAME_BYTES);
        assert_eq!(decode(&payload), Some(stamp));
        let mut into = b"x".to_vec();
        encode_into(stamp, &mut into);
        assert_eq!(&into[1..], payload.as_bytes(), "the cheap encoding is the same payload");
        assert_eq!(decode(&STANDARD.encode([0xFFu8; 160])), None, "plain audio has no stamp");
        assert_eq!(decode("AAAA"), None);
    }
}
