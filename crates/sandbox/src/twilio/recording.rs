//! Call recordings (`Record=true`, §1.6, §2.4).
//!
//! The call's actor feeds a [`Recorder`] with both tracks every 20 ms (the callee's audio and
//! what was actually played to them): mixed to one 8 kHz 16-bit channel (`RecordingChannels=mono`,
//! the default), or as two channels (`dual`: channel 1 the callee, channel 2 what we played).
//! When the call ends the WAV is stored and served at the recording's URL (`recording_http.rs`).

use crate::audio::mix;
use crate::audio::wav;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// Accumulates the mixed audio of a live call.
#[derive(Debug)]
pub(crate) struct Recorder {
    /// `RE…`.
    pub sid: String,
    samples: Vec<i16>,
    max_samples: usize,
    /// 1 (mixed) or 2 (callee, played).
    pub channels: u16,
    /// When recording started (at answer).
    pub started: DateTime<Utc>,
}

impl Recorder {
    pub(crate) fn new(sid: String, max_secs: u32, channels: u16) -> Self {
        let per_sec = 8000 * usize::from(channels);
        let samples = Vec::with_capacity(per_sec * 30);
        Self { sid, samples, max_samples: max_secs as usize * per_sec, channels, started: Utc::now() }
    }

    /// Adds one frame of each track (equal lengths); audio beyond the cap is not recorded.
    pub fn push(&mut self, inbound: &[i16], outbound: &[i16]) {
        if self.samples.len() >= self.max_samples {
            return;
        }
        if self.channels == 2 {
            self.samples.extend(inbound.iter().zip(outbound).flat_map(|(a, b)| [*a, *b]));
        } else {
            self.samples.extend(inbound.iter().zip(outbound).map(|(a, b)| mix(*a, *b)));
        }
    }

    /// Whole seconds recorded (rounded to nearest, as Twilio reports).
    pub fn duration_secs(&self) -> u64 {
        (self.samples.len() as u64 / u64::from(self.channels) + 4000) / 8000
    }

    /// The WAV file.
    pub fn into_wav(self) -> Bytes {
        Bytes::from(wav::encode(&self.samples, 8000, self.channels))
    }
}

/// A recording as the REST API serves it.
#[derive(Debug, Clone)]
pub(crate) struct StoredRecording {
    pub sid: String,
    pub account_sid: String,
    pub call_sid: String,
    /// `in-progress` or `completed`.
    pub status: &'static str,
    pub start_time: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    pub duration_secs: Option<u64>,
    /// 1 or 2.
    pub channels: u16,
    /// The WAV once completed; empty before.
    pub wav: Bytes,
}

/// All recordings.
#[derive(Default)]
pub(crate) struct RecordingStore {
    map: Mutex<HashMap<String, Arc<StoredRecording>>>,
}

impl RecordingStore {
    /// Adds or replaces a recording.
    pub fn put(&self, rec: StoredRecording) {
        self.map.lock().unwrap_or_else(PoisonError::into_inner).insert(rec.sid.clone(), Arc::new(rec));
    }

    /// One recording.
    pub fn get(&self, sid: &str) -> Option<Arc<StoredRecording>> {
        self.map.lock().unwrap_or_else(PoisonError::into_inner).get(sid).cloned()
    }

    /// Deletes one; whether it existed.
    pub fn remove(&self, sid: &str) -> bool {
        self.map.lock().unwrap_or_else(PoisonError::into_inner).remove(sid).is_some()
    }

    /// Recordings of an account, optionally of one call, oldest first.
    pub fn list(&self, account_sid: &str, call_sid: Option<&str>) -> Vec<Arc<StoredRecording>> {
        let map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        let mut out: Vec<_> = map
            .values()
            .filter(|r| r.account_sid == account_sid && call_sid.is_none_or(|c| r.call_sid == c))
            .cloned()
            .collect();
        out.sort_by_key(|r| r.start_time);
        out
    }
}

/// `RecordingUrl` (no extension) of a recording.
pub(crate) fn media_url(base_url: &str, account_sid: &str, sid: &str) -> String {
    format!("{base_url}/2010-04-01/Accounts/{account_sid}/Recordings/{sid}")
}

/// The recording resource JSON (§1.6).
pub(crate) fn resource(base_url: &str, r: &StoredRecording) -> serde_json::Value {
    let uri = format!("/2010-04-01/Accounts/{}/Recordings/{}.json", r.account_sid, r.sid);
    serde_json::json!({
        "sid": r.sid,
        "account_sid": r.account_sid,
        "call_sid": r.call_sid,
        "conference_sid": null,
        "api_version": "2010-04-01",
        "date_created": r.start_time.to_rfc2822(),
        "date_updated": r.updated.to_rfc2822(),
        "start_time": r.start_time.to_rfc2822(),
        "duration": r.duration_secs.map_or("-1".to_owned(), |d| d.to_string()),
        "price": null,
        "price_unit": "USD",
        "status": r.status,
        "channels": r.channels,
        "source": "OutboundAPI",
        "error_code": null,
        "track": "both",
        "uri": uri,
        "media_url": media_url(base_url, &r.account_sid, &r.sid),
        "encryption_details": null,
        "subresource_uris": {
            "add_on_results": format!("/2010-04-01/Accounts/{}/Recordings/{}/AddOnResults.json", r.account_sid, r.sid),
            "transcriptions": format!("/2010-04-01/Accounts/{}/Recordings/{}/Transcriptions.json", r.account_sid, r.sid),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixes_both_tracks_and_caps_length() {
        let mut r = Recorder::new("RE1".into(), 1, 1);
        r.push(&[1000; 160], &[-300; 160]);
        r.push(&[i16::MAX; 160], &[10; 160]);
        assert_eq!(r.duration_secs(), 0);
        for _ in 0..100 {
            r.push(&[0; 160], &[0; 160]);
        }
        assert_eq!(r.samples.len(), 8000, "capped at max_secs");
        assert_eq!(r.duration_secs(), 1);
        let (rate, samples) = wav::decode(&r.into_wav()).expect("wav");
        assert_eq!(rate, 8000);
        assert_eq!(samples[0], 700);
        assert_eq!(samples[160], i16::MAX, "saturates instead of wrapping");
        let mut dual = Recorder::new("RE2".into(), 1, 2);
        dual.push(&[1000; 160], &[-300; 160]);
        assert_eq!(dual.duration_secs(), 0);
        let wav = dual.into_wav();
        assert_eq!(wav::channels(&wav), Some(2));
        let (_, samples) = wav::decode(&wav).expect("wav");
        assert_eq!(&samples[..4], &[1000, -300, 1000, -300], "callee left, played right");
    }
}
