//! Twilio Media Streams WebSocket messages (protocol reference §5).
//!
//! Twilio is the WebSocket client; every message is a JSON text frame with an `event`
//! discriminator. [`FromTwilio`] is what Twilio sends (media-proxy parses it, the simulated Twilio
//! produces it); [`ToTwilio`] is what a bidirectional `<Connect><Stream>` server may send back.
//! Numeric-looking counters travel as JSON strings; we accept numbers too.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;

/// A counter Twilio sends as a JSON string (`"sequenceNumber":"3"`); numbers are accepted too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Counter(pub u64);

impl Serialize for Counter {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Counter {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Counter;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a non-negative integer as a string or a number")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Counter, E> {
                Ok(Counter(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Counter, E> {
                u64::try_from(v).map(Counter).map_err(E::custom)
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Counter, E> {
                v.trim().parse().map(Counter).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// Messages Twilio sends on a media stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "lowercase")]
pub enum FromTwilio {
    /// First frame after the WebSocket opens.
    Connected {
        /// Always `Call`.
        protocol: String,
        /// Protocol version, `1.0.0`.
        version: String,
    },
    /// Stream metadata, sent once.
    Start {
        /// Starts at 1 on `start`.
        #[serde(rename = "sequenceNumber")]
        sequence_number: Counter,
        /// Stream details.
        start: StartPayload,
        /// The stream's SID.
        #[serde(rename = "streamSid")]
        stream_sid: String,
    },
    /// One chunk of the callee's audio (20 ms, 160 bytes of μ-law).
    Media {
        /// Increments for every message after `start`.
        #[serde(rename = "sequenceNumber")]
        sequence_number: Counter,
        /// The audio.
        media: InboundMedia,
        /// The stream's SID.
        #[serde(rename = "streamSid")]
        stream_sid: String,
    },
    /// A key the callee pressed.
    Dtmf {
        /// The stream's SID.
        #[serde(rename = "streamSid")]
        stream_sid: String,
        /// Sequence number.
        #[serde(rename = "sequenceNumber")]
        sequence_number: Counter,
        /// The digit.
        dtmf: Dtmf,
    },
    /// Echo of a mark we sent: all audio queued before it has played (or was cleared).
    Mark {
        /// Sequence number.
        #[serde(rename = "sequenceNumber")]
        sequence_number: Counter,
        /// The stream's SID.
        #[serde(rename = "streamSid")]
        stream_sid: String,
        /// The mark's name.
        mark: MarkPayload,
    },
    /// The stream stopped or the call ended; the socket closes after this.
    Stop {
        /// Sequence number.
        #[serde(rename = "sequenceNumber")]
        sequence_number: Counter,
        /// Account and call.
        stop: StopPayload,
        /// The stream's SID.
        #[serde(rename = "streamSid")]
        stream_sid: String,
    },
}

/// The `start` message's body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartPayload {
    /// Account SID.
    pub account_sid: String,
    /// Stream SID.
    pub stream_sid: String,
    /// Call SID.
    pub call_sid: String,
    /// Tracks carried (`inbound` for bidirectional streams).
    #[serde(default)]
    pub tracks: Vec<String>,
    /// The `<Parameter>`s of the TwiML `<Stream>`.
    #[serde(default)]
    pub custom_parameters: BTreeMap<String, String>,
    /// Always μ-law, 8000 Hz, mono.
    pub media_format: MediaFormat,
}

/// Audio format of the stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MediaFormat {
    /// `audio/x-mulaw`.
    pub encoding: String,
    /// 8000.
    pub sample_rate: u32,
    /// 1.
    pub channels: u32,
}

impl Default for MediaFormat {
    fn default() -> Self {
        Self { encoding: "audio/x-mulaw".into(), sample_rate: 8000, channels: 1 }
    }
}

/// Audio from Twilio.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboundMedia {
    /// `inbound`.
    #[serde(default = "inbound")]
    pub track: String,
    /// Chunk number, from 1.
    pub chunk: Counter,
    /// Milliseconds since the stream started.
    pub timestamp: Counter,
    /// Base64 μ-law.
    pub payload: String,
}

fn inbound() -> String {
    "inbound".to_owned()
}

/// A DTMF digit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dtmf {
    /// `inbound_track`.
    #[serde(default)]
    pub track: String,
    /// The digit.
    pub digit: String,
}

/// A mark's name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarkPayload {
    /// Name chosen by the sender.
    pub name: String,
}

/// The `stop` message's body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StopPayload {
    /// Account SID.
    pub account_sid: String,
    /// Call SID.
    pub call_sid: String,
}

/// Messages a bidirectional stream server sends to Twilio.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "lowercase")]
pub enum ToTwilio {
    /// Audio to play to the callee, in order.
    Media {
        /// The stream from `start`.
        #[serde(rename = "streamSid")]
        stream_sid: String,
        /// The audio.
        media: OutboundMedia,
    },
    /// Ask to be told when everything queued so far has played.
    Mark {
        /// The stream from `start`.
        #[serde(rename = "streamSid")]
        stream_sid: String,
        /// The mark.
        mark: MarkPayload,
    },
    /// Discard queued audio (barge-in); pending marks are echoed.
    Clear {
        /// The stream from `start`.
        #[serde(rename = "streamSid")]
        stream_sid: String,
    },
}

/// Audio to Twilio: raw μ-law 8 kHz, base64, no file header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboundMedia {
    /// Base64 μ-law.
    pub payload: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_reference_start_message() {
        let raw = r#"{"event":"start","sequenceNumber":"1","start":{"accountSid":"AC0123456789abcdef0123456789abcdef","streamSid":"MZ0123456789abcdef0123456789abcdef","callSid":"CA0123456789abcdef0123456789abcdef","tracks":["inbound"],"customParameters":{"session_id":"s_8f2c"},"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}},"streamSid":"MZ0123456789abcdef0123456789abcdef"}"#;
        let msg: FromTwilio = serde_json::from_str(raw).expect("start parses");
        let FromTwilio::Start { sequence_number, start, .. } = msg else { panic!("not start") };
        assert_eq!(sequence_number, Counter(1));
        assert_eq!(start.custom_parameters.get("session_id").map(String::as_str), Some("s_8f2c"));
        assert_eq!(start.media_format.sample_rate, 8000);
    }

    #[test]
    fn counters_accept_numbers_and_serialise_as_strings() {
        let raw = r#"{"event":"media","sequenceNumber":2,"media":{"track":"inbound","chunk":"1","timestamp":5,"payload":"AA=="},"streamSid":"MZ1"}"#;
        let msg: FromTwilio = serde_json::from_str(raw).expect("media parses");
        let out = serde_json::to_string(&msg).expect("json");
        assert!(out.contains(r#""sequenceNumber":"2""#), "{out}");
        assert!(out.contains(r#""timestamp":"5""#), "{out}");
    }

    #[test]
    fn outbound_messages_have_the_documented_shape() {
        let clear = serde_json::to_value(ToTwilio::Clear { stream_sid: "MZ1".into() }).expect("json");
        assert_eq!(clear, serde_json::json!({"event":"clear","streamSid":"MZ1"}));
        let mark = serde_json::to_value(ToTwilio::Mark {
            stream_sid: "MZ1".into(),
            mark: MarkPayload { name: "utt-1".into() },
        })
        .expect("json");
        assert_eq!(mark, serde_json::json!({"event":"mark","streamSid":"MZ1","mark":{"name":"utt-1"}}));
    }
}
