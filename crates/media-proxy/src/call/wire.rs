//! The hot path's wire handling: borrowed parsing of the two frequent frames (Twilio `media` and
//! `mark`, agent `audio`) and direct serialisation of the frames the bridge sends.
//!
//! `common`'s wire enums are internally tagged, which makes serde buffer every message into an
//! owned intermediate tree before choosing the variant; for the 100+ audio messages per second
//! of every call that cost dominates. The borrowed views below read only the fields the audio
//! path needs, straight from the received text, with no allocation; anything else (or anything
//! they cannot read, e.g. an escaped string) falls back to the full `common` types. Tests check
//! both read the same values.
//!
//! Each function writes exactly what `serde_json` writes for the matching `common` type
//! (`ToTwilio::Media`, `ToTwilio::Mark`, `ToTwilio::Clear`, `UserAudioChunk`); the tests check
//! byte equality. Payloads are copied as-is when they contain only base64 characters (which need
//! no JSON escaping); anything else goes through `serde_json`, so a malformed payload can never
//! inject JSON.

use common::elevenlabs::UserAudioChunk;
use common::twilio_media::{MarkPayload, OutboundMedia, ToTwilio};
use serde::Deserialize;

/// A Twilio message as far as the audio path reads it.
#[derive(Debug, Deserialize)]
pub struct TwilioView<'a> {
    /// `media`, `mark`, `stop`, ...
    #[serde(borrow)]
    pub event: &'a str,
    /// For `media`.
    #[serde(borrow, default)]
    pub media: Option<PayloadView<'a>>,
    /// For `mark`.
    #[serde(borrow, default)]
    pub mark: Option<NameView<'a>>,
}

/// `media.payload`.
#[derive(Debug, Deserialize)]
pub struct PayloadView<'a> {
    /// Base64 μ-law.
    #[serde(borrow)]
    pub payload: &'a str,
}

/// `mark.name`.
#[derive(Debug, Deserialize)]
pub struct NameView<'a> {
    /// The mark's name.
    #[serde(borrow)]
    pub name: &'a str,
}

/// An agent message as far as the audio path reads it.
#[derive(Debug, Deserialize)]
pub struct AgentView<'a> {
    /// `audio`, `ping`, ...
    #[serde(rename = "type", borrow)]
    pub kind: &'a str,
    /// For `audio`.
    #[serde(borrow, default)]
    pub audio_event: Option<AudioView<'a>>,
}

/// `audio_event`.
#[derive(Debug, Deserialize)]
pub struct AudioView<'a> {
    /// Base64 audio.
    #[serde(borrow)]
    pub audio_base_64: &'a str,
    /// The event id (interruptions drop audio at or below theirs).
    pub event_id: u64,
}

/// Whether `s` is made only of base64 characters (standard alphabet, `=` padding).
///
/// Branch-free per byte and without an early exit, so the compiler vectorises it: it runs over
/// every audio payload (hundreds of bytes), which is nearly always valid.
pub fn is_base64_text(s: &str) -> bool {
    s.bytes().fold(true, |ok, b| {
        let alnum = (b.wrapping_sub(b'A') < 26) | (b.wrapping_sub(b'a') < 26) | (b.wrapping_sub(b'0') < 10);
        ok & (alnum | (b == b'+') | (b == b'/') | (b == b'='))
    })
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
    fn views_read_what_the_full_types_read() {
        use common::elevenlabs::FromAgent;
        use common::twilio_media::FromTwilio;
        let media = r#"{"event":"media","sequenceNumber":"3","media":{"track":"inbound","chunk":"2","timestamp":"20","payload":"f39/fg=="},"streamSid":"MZ1"}"#;
        let view: TwilioView = serde_json::from_str(media).expect("view");
        let Ok(FromTwilio::Media { media: full, .. }) = serde_json::from_str(media) else { panic!("full") };
        assert_eq!((view.event, view.media.expect("media").payload), ("media", full.payload.as_str()));
        let mark = r#"{"event":"mark","sequenceNumber":"4","streamSid":"MZ1","mark":{"name":"m7"}}"#;
        let view: TwilioView = serde_json::from_str(mark).expect("view");
        assert_eq!(view.mark.expect("mark").name, "m7");
        let audio = r#"{"type":"audio","audio_event":{"audio_base_64":"AAA=","event_id":9,"alignment":{"chars":["a"]}}}"#;
        let view: AgentView = serde_json::from_str(audio).expect("view");
        let Ok(FromAgent::Audio { audio_event: Some(full), .. }) = serde_json::from_str(audio) else {
            panic!("full")
        };
        let a = view.audio_event.expect("audio");
        assert_eq!(
            (view.kind, a.audio_base_64, a.event_id),
            ("audio", full.audio_base_64.as_str(), full.event_id)
        );
        let ping: AgentView =
            serde_json::from_str(r#"{"type":"ping","ping_event":{"event_id":1}}"#).expect("view");
        assert_eq!(ping.kind, "ping");
        assert!(ping.audio_event.is_none());
        // An escaped string cannot be borrowed: the caller falls back to the full types.
        assert!(serde_json::from_str::<TwilioView>(r#"{"event":"me\u0064ia"}"#).is_err());
    }

    #[test]
    fn the_base64_check_accepts_exactly_the_alphabet_and_padding() {
        for b in 0..=255u8 {
            let expected = b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'=';
            let text = [b'A', b, b'z'];
            // Non-ASCII bytes alone are not UTF-8: check them inside a valid character instead.
            let s =
                std::str::from_utf8(&text).map(str::to_owned).unwrap_or_else(|_| format!("A{}z", b as char));
            assert_eq!(is_base64_text(&s), expected, "byte {b:#04x}");
        }
        assert!(is_base64_text(""));
        let frame = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [0x7fu8; 160]);
        assert!(is_base64_text(&frame));
        assert!(!is_base64_text(&format!("{frame}\"")), "a quote at the very end is still seen");
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
