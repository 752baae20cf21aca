//! Simulated Twilio media streams: each connects to the bridge under test, sends `connected` and
//! `start` (with a valid stream token), then one stamped 20 ms μ-law frame every 20 ms (from the
//! shared [`Ticker`]); it records the stamps of the agent audio it receives and echoes every mark
//! at once (the agent talks in real time, so nothing is queued for playback). On stop it sends
//! `stop` and a close frame, as Twilio does when the call ends.

use common::ids::CallId;
use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

use super::frame::{self, Stamp};
use super::stats::{Clock, Local, Recorder};
use super::ticker::{SLOTS, Talker, Ticker};
use super::ws::{self, Conn};

/// What one stream needs.
pub struct StreamSpec {
    /// Stream index.
    pub index: u32,
    /// The bridge's address (`host:port`); the path is `/outbound-media-stream`.
    pub addr: String,
    /// Shared secret for the stream token.
    pub secret: String,
    /// Which millisecond of the 20 ms period this stream sends in, so streams do not all send
    /// at the same instant.
    pub slot: usize,
}

fn sid(prefix: &str) -> String {
    format!("{prefix}{}", uuid::Uuid::new_v4().simple())
}

/// The stream's sending half, driven by the ticker.
struct Sender {
    conn: Arc<Conn>,
    index: u32,
    stream_sid: String,
    seq: AtomicU32,
    /// Twilio's `sequenceNumber`, shared by media and mark echoes.
    sequence_number: AtomicU64,
    clock: Clock,
    recorder: Arc<Recorder>,
    done: AtomicBool,
}

impl Talker for Sender {
    fn tick(&self) -> bool {
        if self.done.load(Ordering::Relaxed) {
            return false;
        }
        let seq = self.seq.fetch_add(1, Ordering::Relaxed) + 1;
        let number = self.sequence_number.fetch_add(1, Ordering::Relaxed) + 1;
        let sent_us = self.clock.now_us();
        let sent = self.conn.send_with(ws::TEXT, |b| {
            let _ = write!(
                b,
                r#"{{"event":"media","sequenceNumber":"{number}","media":{{"track":"inbound","chunk":"{seq}","timestamp":"{}","payload":""#,
                (seq - 1) * 20
            );
            frame::encode_into(Stamp { stream: self.index, seq, sent_us }, b);
            let _ = write!(b, r#""}},"streamSid":"{}"}}"#, self.stream_sid);
        });
        if sent && self.recorder.in_window(sent_us) {
            self.recorder.inbound.sent.fetch_add(1, Ordering::Relaxed);
        }
        sent
    }
}

/// The string value of `"key":"…"` in a flat JSON text (values here contain no escapes).
pub(super) fn field<'a>(text: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let mut needle = [0u8; 40];
    let len = key.len() + 4;
    if len > needle.len() {
        return None;
    }
    needle[0] = b'"';
    needle[1..=key.len()].copy_from_slice(key);
    needle[key.len() + 1..len].copy_from_slice(b"\":\"");
    let start = memchr::memmem::find(text, &needle[..len])? + len;
    let end = memchr::memchr(b'"', &text[start..])?;
    Some(&text[start..start + end])
}

/// Runs one stream until `stop`.
pub async fn run_stream(
    spec: StreamSpec,
    ticker: Arc<Ticker>,
    clock: Clock,
    recorder: Arc<Recorder>,
    stop: CancellationToken,
) {
    let failed = || recorder.failed_streams.fetch_add(1, Ordering::Relaxed);
    let connect = async {
        let tcp = tokio::net::TcpStream::connect(&spec.addr).await?;
        ws::connect(tcp, &spec.addr, "/outbound-media-stream", spec.index.wrapping_mul(2_654_435_761) | 1)
            .await
    };
    let Ok(Ok(conn)) = tokio::time::timeout(Duration::from_secs(10), connect).await else {
        failed();
        return;
    };
    let conn = Arc::new(conn);
    let call_id = CallId::new();
    let token =
        common::stream_token::issue(spec.secret.as_bytes(), &call_id, chrono::Utc::now().timestamp(), 300);
    let stream_sid = sid("MZ");
    let connected = r#"{"event":"connected","protocol":"Call","version":"1.0.0"}"#;
    let start = serde_json::json!({"event":"start","sequenceNumber":"1","streamSid":stream_sid,"start":{
        "accountSid":sid("AC"),"streamSid":stream_sid,"callSid":sid("CA"),"tracks":["inbound"],
        "customParameters":{"callId":call_id.as_str(),"token":token},
        "mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}});
    let started_us = clock.now_us();
    if !conn.send_text(connected.as_bytes()) || !conn.send_text(start.to_string().as_bytes()) {
        failed();
        return;
    }
    let sender = Arc::new(Sender {
        conn: conn.clone(),
        index: spec.index,
        stream_sid: stream_sid.clone(),
        seq: AtomicU32::new(0),
        sequence_number: AtomicU64::new(1),
        clock,
        recorder: recorder.clone(),
        done: AtomicBool::new(false),
    });
    ticker.add(spec.slot % SLOTS, sender.clone());
    let mut local_out = Local::default();
    let mut setup_done = false;
    let on_text = |text: &mut [u8]| {
        let now = clock.now_us();
        match field(text, b"event") {
            Some(b"media") => {
                let Some(stamp) =
                    field(text, b"payload").and_then(|p| std::str::from_utf8(p).ok()).and_then(frame::decode)
                else {
                    return;
                };
                if !setup_done {
                    setup_done = true;
                    let setup = now.saturating_sub(started_us).min(u64::from(u32::MAX)) as u32;
                    if let Ok(mut s) = recorder.setup.lock() {
                        s.push(setup);
                    }
                }
                if recorder.in_window(stamp.sent_us) {
                    local_out.received += 1;
                    local_out
                        .latencies
                        .push(now.saturating_sub(stamp.sent_us).min(u64::from(u32::MAX)) as u32);
                }
            }
            Some(b"mark") => {
                let Some(name) = field(text, b"name") else { return };
                let number = sender.sequence_number.fetch_add(1, Ordering::Relaxed) + 1;
                conn.send_with(ws::TEXT, |b| {
                    let _ = write!(b, r#"{{"event":"mark","sequenceNumber":"{number}","streamSid":"{stream_sid}","mark":{{"name":""#);
                    b.extend_from_slice(name);
                    b.extend_from_slice(br#""}}"#);
                });
            }
            _ => {}
        }
    };
    let mut on_text = on_text;
    let closed_early = tokio::select! {
        _ = stop.cancelled() => false,
        _ = conn.read_frames(&mut on_text) => true,
    };
    sender.done.store(true, Ordering::Relaxed);
    if closed_early {
        failed();
    } else {
        let number = sender.sequence_number.fetch_add(1, Ordering::Relaxed) + 1;
        let stop_msg = format!(
            r#"{{"event":"stop","sequenceNumber":"{number}","stop":{{"accountSid":"AC","callSid":"CA"}},"streamSid":"{stream_sid}"}}"#
        );
        conn.send_text(stop_msg.as_bytes());
        conn.send_with(ws::CLOSE, |b| b.extend_from_slice(&1000u16.to_be_bytes()));
        // Best effort: wait for the bridge's close; the run is over either way.
        let _ = tokio::time::timeout(Duration::from_secs(1), conn.read_frames(&mut on_text)).await;
    }
    conn.close();
    local_out.merge_into(&recorder.outbound);
}

#[cfg(test)]
mod tests {
    use super::field;

    #[test]
    fn fields_are_found_wherever_they_sit() {
        let text = br#"{"streamSid":"MZ1","event":"media","media":{"payload":"abc"}}"#;
        assert_eq!(field(text, b"event"), Some(&b"media"[..]));
        assert_eq!(field(text, b"payload"), Some(&b"abc"[..]));
        assert_eq!(field(text, b"name"), None);
    }
}
