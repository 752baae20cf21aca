//! Hot-path serialisation of the frames the bridge sends, without building intermediate values.
//!
//! Each function writes exactly what `serde_json` writes for the matching `common` type
//! (`ToTwilio::Media`, `ToTwilio::Mark`, `ToTwilio::Clear`, `UserAudioChunk`); the tests check
//! byte equality. Payloads are copied as-is when they contain only base64 characters (which need
//! no JSON escaping); anything else goes through `serde_json`, so a malformed payload can never
//! inject JSON.

use common::elevenlabs::UserAudioChunk;
use common::twilio_media::{MarkPayload, OutboundMedia, ToTwilio};

/// Whether `s` is made only of base64 characters (standard alphabet, `=` padding).
pub fn is_base64_text(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'=')
}

/// Number of bytes a base64 text decodes to (0 for an invalid length).
pub fn base64_decoded_len(s: &str) -> usize {
    let len = s.len();
    if !len.is_multiple_of(4) {
        return len / 4 * 3;
    }
    let pad = s.bytes().rev().take(2).filter(|&b| b == b'=').count();
    (len / 4 * 3).saturating_sub(pad)
}

fn fallback(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// `{"event":"media","streamSid":…,"media":{"payload":…}}`.
pub fn twilio_media(stream_sid: &str, payload: &str) -> String {
    if !is_base64_text(payload) || !is_base64_text(stream_sid) {
        return fallback(&ToTwilio::Media {
            stream_sid: stream_sid.to_owned(),
            media: OutboundMedia { payload: payload.to_owned() },
        });
    }
    let mut out = String::with_capacity(50 + stream_sid.len() + payload.len());
    out.push_str(r#"{"event":"media","streamSid":""#);
    out.push_str(stream_sid);
    out.push_str(r#"","media":{"payload":""#);
    out.push_str(payload);
    out.push_str(r#""}}"#);
    out
}

/// `{"event":"mark","streamSid":…,"mark":{"name":…}}`.
pub fn twilio_mark(stream_sid: &str, name: &str) -> String {
    fallback(&ToTwilio::Mark {
        stream_sid: stream_sid.to_owned(),
        mark: MarkPayload { name: name.to_owned() },
    })
}

/// `{"event":"clear","streamSid":…}`.
pub fn twilio_clear(stream_sid: &str) -> String {
    fallback(&ToTwilio::Clear { stream_sid: stream_sid.to_owned() })
}

/// `{"user_audio_chunk":…}`.
pub fn user_audio_chunk(payload: &str) -> String {
    if !is_base64_text(payload) {
        return fallback(&UserAudioChunk { user_audio_chunk: payload.to_owned() });
    }
    let mut out = String::with_capacity(24 + payload.len());
    out.push_str(r#"{"user_audio_chunk":""#);
    out.push_str(payload);
    out.push_str(r#""}"#);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_paths_match_serde_exactly() {
        let sid = "MZ0123456789abcdef0123456789abcdef";
        let payload = "f39/fn5+fX18e3p5eHd2dXRzcnFwb25tbGtqaWhnZmVkY2JhYF9eXVxbWllYV1ZVVFNSUVBPTk0=";
        let expected = serde_json::to_string(&ToTwilio::Media {
            stream_sid: sid.into(),
            media: OutboundMedia { payload: payload.into() },
        })
        .expect("json");
        assert_eq!(twilio_media(sid, payload), expected);
        let expected =
            serde_json::to_string(&UserAudioChunk { user_audio_chunk: payload.into() }).expect("json");
        assert_eq!(user_audio_chunk(payload), expected);
    }

    #[test]
    fn hostile_payloads_are_escaped() {
        let evil = r#"AA","event":"clear"#;
        let out = twilio_media("MZ1", evil);
        let v: serde_json::Value = serde_json::from_str(&out).expect("still valid JSON");
        assert_eq!(v["media"]["payload"], evil);
        assert_eq!(v["event"], "media");
        let v: serde_json::Value = serde_json::from_str(&user_audio_chunk(evil)).expect("valid");
        assert_eq!(v["user_audio_chunk"], evil);
    }

    #[test]
    fn decoded_lengths() {
        assert_eq!(base64_decoded_len(""), 0);
        assert_eq!(base64_decoded_len("AAAA"), 3);
        assert_eq!(base64_decoded_len("AA=="), 1);
        assert_eq!(base64_decoded_len("AAA="), 2);
        let frame = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [0u8; 160]);
        assert_eq!(base64_decoded_len(&frame), 160);
    }
}
