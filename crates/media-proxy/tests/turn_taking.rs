//! Turn-taking against simulated peers: barge-in (`clear`, stale audio dropped), what the caller
//! heard (marks), the agent ending with its goodbye played out, and PCM agents (transcoding).
#![allow(clippy::unwrap_used)]

mod support;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::events::media::{EndReason, MediaEventKind};
use common::events::{HeardState, TranscriptLine};
use serde_json::{Value, json};
use std::time::Duration;
use support::*;

async fn live_call(
    overrides: &[(&str, &str)],
    behaviour: AgentBehaviour,
) -> (MainApp, SimAgent, Proxy, Twilio, AgentConn, common::ids::CallId) {
    let main = MainApp::start().await;
    let mut agent = SimAgent::start(behaviour).await;
    let proxy = Proxy::start(&main, &agent, overrides).await;
    let (call_id, token) = main.new_call(|_| {});
    let mut twilio = proxy.twilio().await;
    twilio.start(call_id.as_str(), &token).await;
    let mut conv = agent.next_conn().await;
    assert_eq!(conv.next_json().await["type"], "conversation_initiation_client_data");
    main.wait_for(&call_id, |e| matches!(e, MediaEventKind::AgentConnected { .. })).await;
    (main, agent, proxy, twilio, conv, call_id)
}

fn say(conv: &AgentConn, text: &str, event_id: u64, frames: usize, fill: u8) {
    conv.send(
        json!({"type":"agent_response","agent_response_event":{"agent_response":text,"event_id":event_id}}),
    );
    for _ in 0..frames {
        conv.audio(&ulaw_frame(fill), event_id);
    }
}

/// Reads Twilio-bound messages until `n` media frames arrived; returns the marks seen.
async fn read_media(twilio: &mut Twilio, n: usize) -> Vec<String> {
    let (mut media, mut marks) = (0, Vec::new());
    while media < n {
        let v = twilio.next().await;
        match v["event"].as_str() {
            Some("media") => media += 1,
            Some("mark") => marks.push(v["mark"]["name"].as_str().unwrap().to_owned()),
            Some("clear") => {}
            _ => panic!("unexpected {v}"),
        }
    }
    marks
}

async fn read_marks_until_quiet(twilio: &mut Twilio, marks: &mut Vec<String>) {
    while let Some(v) = twilio.next_within(Duration::from_millis(300)).await {
        assert_eq!(v["event"], "mark", "{v}");
        marks.push(v["mark"]["name"].as_str().unwrap().to_owned());
    }
}

fn final_state(events: &[MediaEventKind], text: &str) -> TranscriptLine {
    events
        .iter()
        .rev()
        .find_map(|e| match e {
            MediaEventKind::Transcript { line } if line.text == text || line.text.starts_with(text) => {
                Some(line.clone())
            }
            _ => None,
        })
        .unwrap_or_else(|| panic!("no line {text:?} in {events:#?}"))
}

#[tokio::test]
async fn interruption_clears_twilio_and_drops_stale_audio() {
    let (main, _agent, _proxy, mut twilio, conv, call_id) = live_call(&[], AgentBehaviour::default()).await;
    say(&conv, "Let me tell you about our plans", 5, 10, 0x11);
    read_media(&mut twilio, 10).await;
    conv.send(json!({"type":"interruption","interruption_event":{"event_id":5}}));
    // late audio of the interrupted turn, then the next turn
    conv.audio(&ulaw_frame(0x11), 5);
    conv.audio(&ulaw_frame(0x11), 4);
    conv.send(
        json!({"type":"agent_response","agent_response_event":{"agent_response":"Sure?","event_id":6}}),
    );
    let fresh = ulaw_frame(0x66);
    conv.audio(&fresh, 6);
    let mut seen: Vec<Value> = Vec::new();
    loop {
        let v = twilio.next().await;
        let is_fresh = v["event"] == "media";
        seen.push(v);
        if is_fresh {
            break;
        }
    }
    let kinds: Vec<&str> = seen.iter().map(|v| v["event"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"clear"), "clear sent: {kinds:?}");
    let clear_at = kinds.iter().position(|k| *k == "clear").unwrap();
    assert!(kinds[clear_at + 1..].iter().all(|k| *k == "mark" || *k == "media"));
    assert_eq!(
        seen.last().unwrap()["media"]["payload"],
        json!(fresh),
        "first media after clear is the new turn"
    );
    assert_eq!(seen.iter().filter(|v| v["event"] == "media").count(), 1, "stale audio dropped");
    twilio.stop().await;
    let events = main.wait_ended(&call_id).await;
    assert!(events.iter().any(|e| matches!(e, MediaEventKind::StreamStats { stale_audio_dropped: 2, .. })));
}

#[tokio::test]
async fn lines_are_reported_heard_cut_off_or_not_heard() {
    let (main, _agent, _proxy, mut twilio, conv, call_id) =
        live_call(&[("MARK_INTERVAL_MS", "100")], AgentBehaviour::default()).await;

    // Line A: 200 ms, every mark echoed as played → heard.
    say(&conv, "Hello Ann", 1, 10, 0x21);
    let mut marks = read_media(&mut twilio, 10).await;
    read_marks_until_quiet(&mut twilio, &mut marks).await;
    assert!(!marks.is_empty());
    for m in &marks {
        twilio.echo_mark(m).await;
    }
    conv.send(
        json!({"type":"user_transcript","user_transcription_event":{"user_transcript":"Hi","event_id":2}}),
    );

    // Line B: 2 s pushed at once; only its first 100 ms confirmed, then the caller barges in.
    say(&conv, "Our offer this month is", 3, 100, 0x22);
    let marks = read_media(&mut twilio, 100).await;
    twilio.echo_mark(&marks[0]).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    conv.send(json!({"type":"interruption","interruption_event":{"event_id":3}}));
    conv.send(json!({"type":"agent_response_correction","agent_response_correction_event":{
        "original_agent_response":"Our offer this month is","corrected_agent_response":"Our offer","event_id":3}}));

    // Lines C and D: D is queued behind 1 s of C when the caller barges in again → D not heard.
    say(&conv, "Shall I", 4, 50, 0x23);
    say(&conv, "continue?", 5, 50, 0x24);
    read_media(&mut twilio, 100).await;
    conv.send(json!({"type":"interruption","interruption_event":{"event_id":5}}));
    let events = main.wait_for(&call_id, |e| matches!(e, MediaEventKind::Transcript { line } if line.text == "continue?" && line.heard != Some(HeardState::Pending))).await;

    let a = final_state(&events, "Hello Ann");
    assert_eq!(a.heard, Some(HeardState::Heard));
    assert_eq!(a.audio_ms, Some(200));
    let b = final_state(&events, "Our offer");
    assert_eq!(b.heard, Some(HeardState::CutOff), "{b:?}");
    assert_eq!(b.text, "Our offer", "corrected text re-sent on the same index");
    let heard_ms = b.heard_ms.unwrap();
    assert!((100..2000).contains(&heard_ms), "cut off where it was: {heard_ms} ms");
    let d = final_state(&events, "continue?");
    assert_eq!(d.heard, Some(HeardState::NotHeard));
    let user = final_state(&events, "Hi");
    assert_eq!(user.heard, None);
    assert!(a.index < user.index && user.index < b.index, "indices follow the conversation");
}

#[tokio::test]
async fn agent_end_lets_the_goodbye_play_then_requests_hang_up() {
    let (main, _agent, _proxy, mut twilio, conv, call_id) = live_call(&[], AgentBehaviour::default()).await;
    say(&conv, "Thanks for your time, goodbye!", 9, 25, 0x31);
    conv.send(json!({"type":"agent_tool_response","agent_tool_response":{"tool_name":"end_call","tool_call_id":"t","tool_type":"system","is_error":false,"event_id":10}}));
    conv.close(1000);
    let mut marks = read_media(&mut twilio, 25).await;
    read_marks_until_quiet(&mut twilio, &mut marks).await;
    // Nothing closes while the goodbye is still playing (no echo yet).
    assert!(
        twilio.next_within(Duration::from_millis(400)).await.is_none(),
        "stream kept open during the goodbye"
    );
    for m in &marks {
        twilio.echo_mark(m).await;
    }
    // The goodbye played: main-app is asked to hang up through Twilio REST, and the stream stays
    // open (so the TwiML after </Connect> cannot end the call first) until Twilio stops it.
    let events = main.wait_ended(&call_id).await;
    assert!(
        twilio.next_within(Duration::from_millis(500)).await.is_none(),
        "stream kept open until Twilio stops it"
    );
    twilio.stop().await;
    let (code, _) = twilio.until_closed().await;
    assert_eq!(code, 1000);
    assert_eq!(final_state(&events, "Thanks for your time").heard, Some(HeardState::Heard));
    assert!(
        events.iter().any(|e| matches!(
            e,
            MediaEventKind::ConversationEnded {
                reason: EndReason::AgentEnded,
                hangup_requested: true,
                detail: None
            }
        )),
        "{events:#?}"
    );
}

#[tokio::test]
async fn goodbye_wait_is_capped() {
    let (main, _agent, _proxy, mut twilio, conv, call_id) =
        live_call(&[("GOODBYE_DRAIN_MAX_MS", "300")], AgentBehaviour::default()).await;
    say(&conv, "Goodbye", 9, 5, 0x31);
    conv.close(1000);
    let (code, _) = twilio.until_closed().await; // never echoes a mark
    assert_eq!(code, 1000);
    let events = main.wait_ended(&call_id).await;
    assert!(events.iter().any(|e| matches!(e, MediaEventKind::ConversationEnded {
        reason: EndReason::AgentEnded, hangup_requested: true, detail: Some(d) } if d.contains("capped"))));
}

fn tone_ulaw(freq: f64, amplitude: f64, start: usize, n: usize) -> String {
    let bytes: Vec<u8> = (start..start + n)
        .map(|i| {
            let s = amplitude * (2.0 * std::f64::consts::PI * freq * i as f64 / 8000.0).sin();
            common::audio::ulaw_encode(s as i16)
        })
        .collect();
    STANDARD.encode(bytes)
}

fn zero_crossing_hz(x: &[f64], rate: f64) -> f64 {
    let c: Vec<usize> = (1..x.len()).filter(|&i| x[i - 1] < 0.0 && x[i] >= 0.0).collect();
    (c.len() - 1) as f64 * rate / (c[c.len() - 1] - c[0]) as f64
}

fn rms(x: &[f64]) -> f64 {
    (x.iter().map(|s| s * s).sum::<f64>() / x.len() as f64).sqrt()
}

#[tokio::test]
async fn pcm_16000_agent_is_transcoded_both_ways() {
    let behaviour =
        AgentBehaviour { metadata: Some(("pcm_16000", "pcm_16000", Duration::ZERO)), ..Default::default() };
    let (_main, _agent, _proxy, mut twilio, mut conv, _call_id) = live_call(&[], behaviour).await;

    // Caller: 50 frames (1 s) of a 1 kHz tone at about −12 dBFS.
    for f in 0..50 {
        twilio.media(&tone_ulaw(1000.0, 8000.0, f * 160, 160)).await;
    }
    let mut at_agent = Vec::new();
    while at_agent.len() < 15_800 {
        let v = conv.next_json().await;
        let pcm = STANDARD.decode(v["user_audio_chunk"].as_str().unwrap()).unwrap();
        assert_eq!(pcm.len() % 2, 0);
        at_agent.extend(pcm.chunks_exact(2).map(|p| f64::from(i16::from_le_bytes([p[0], p[1]]))));
    }
    let steady = &at_agent[2000..14000];
    assert!((zero_crossing_hz(steady, 16000.0) - 1000.0).abs() < 10.0);
    assert!((rms(steady) / (8000.0 / 2f64.sqrt()) - 1.0).abs() < 0.12, "level {}", rms(steady));

    // Agent: 1 s of a 600 Hz tone at 16 kHz in 100 ms chunks.
    conv.send(json!({"type":"agent_response","agent_response_event":{"agent_response":"tone","event_id":1}}));
    for c in 0..10 {
        let pcm: Vec<u8> = (c * 1600..(c + 1) * 1600)
            .flat_map(|i| {
                let s = 6000.0 * (2.0 * std::f64::consts::PI * 600.0 * i as f64 / 16000.0).sin();
                (s as i16).to_le_bytes()
            })
            .collect();
        conv.audio(&STANDARD.encode(pcm), 1);
    }
    let mut at_twilio = Vec::new();
    while at_twilio.len() < 7900 {
        let v = twilio.next().await;
        if v["event"] == "media" {
            let ulaw = STANDARD.decode(v["media"]["payload"].as_str().unwrap()).unwrap();
            at_twilio.extend(ulaw.iter().map(|&b| f64::from(common::audio::ulaw_decode(b))));
        }
    }
    let steady = &at_twilio[1000..7000];
    assert!((zero_crossing_hz(steady, 8000.0) - 600.0).abs() < 6.0);
    assert!((rms(steady) / (6000.0 / 2f64.sqrt()) - 1.0).abs() < 0.12, "level {}", rms(steady));
}

#[tokio::test]
async fn turn_latency_runs_from_the_callers_last_speech_to_the_reply_audio() {
    let (main, _agent, _proxy, mut twilio, mut conv, call_id) =
        live_call(&[], AgentBehaviour::default()).await;
    // The caller speaks (a loud tone) for 200 ms, then is silent.
    for f in 0..10 {
        twilio.media(&tone_ulaw(300.0, 8000.0, f * 160, 160)).await;
    }
    let spoke_until = tokio::time::Instant::now();
    tokio::time::sleep(Duration::from_millis(250)).await;
    for _ in 0..10 {
        twilio.media(&ulaw_frame(0xFF)).await; // silence keeps flowing, as on a real line
    }
    for _ in 0..20 {
        conv.next_json().await; // all caller frames reached the agent
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    conv.send(json!({"type":"user_transcript","user_transcription_event":{"user_transcript":"Hello?","event_id":1}}));
    say(&conv, "Hi, this is Sam", 2, 1, 0x40);
    read_media(&mut twilio, 1).await;
    let replied_after = spoke_until.elapsed().as_millis() as u64;
    let events = main.wait_for(&call_id, |e| matches!(e, MediaEventKind::TurnLatency { .. })).await;
    let (index, latency_ms) = events
        .iter()
        .find_map(|e| match e {
            MediaEventKind::TurnLatency { index, latency_ms } => Some((*index, *latency_ms)),
            _ => None,
        })
        .expect("latency");
    assert_eq!(final_state(&events, "Hi, this is Sam").index, index, "measured for the reply line");
    assert!(latency_ms >= 340, "from the last speech frame, not the last (silent) frame: {latency_ms} ms");
    assert!(latency_ms <= replied_after + 50, "{latency_ms} ms > {replied_after} ms");
}

/// Legacy audio (`{"audio":{"chunk":…}}`) carries no `event_id`.
fn legacy_audio(conv: &AgentConn, payload: &str) {
    conv.send(json!({"type":"audio","audio":{"chunk":payload}}));
}

/// Reads Twilio-bound messages up to the next media frame; returns its payload.
async fn next_media_payload(twilio: &mut Twilio) -> String {
    loop {
        let v = twilio.next().await;
        if v["event"] == "media" {
            return v["media"]["payload"].as_str().unwrap().to_owned();
        }
    }
}

#[tokio::test]
async fn legacy_audio_without_event_ids_is_dropped_after_an_interruption_until_a_new_reply() {
    let (main, _agent, _proxy, mut twilio, conv, call_id) = live_call(&[], AgentBehaviour::default()).await;
    let old = ulaw_frame(0x11);
    legacy_audio(&conv, &old);
    assert_eq!(next_media_payload(&mut twilio).await, old, "legacy audio plays");

    // Barge-in: the interrupted reply's audio still in flight is dropped, until the caller's
    // turn ends (final transcript); the reply after it plays.
    conv.send(json!({"type":"interruption","interruption_event":{"event_id":5}}));
    legacy_audio(&conv, &old);
    legacy_audio(&conv, &old);
    conv.send(
        json!({"type":"user_transcript","user_transcription_event":{"user_transcript":"Wait","event_id":6}}),
    );
    let reply = ulaw_frame(0x66);
    legacy_audio(&conv, &reply);
    assert_eq!(next_media_payload(&mut twilio).await, reply, "stale legacy audio dropped, the reply plays");

    // Again, this time the new reply shows itself by an agent_response newer than the cut; one
    // for the interrupted turn (id at the cut) does not end the stale window.
    conv.send(json!({"type":"interruption","interruption_event":{"event_id":7}}));
    conv.send(json!({"type":"agent_response","agent_response_event":{"agent_response":"So","event_id":7}}));
    legacy_audio(&conv, &old);
    conv.send(
        json!({"type":"agent_response","agent_response_event":{"agent_response":"Sure.","event_id":8}}),
    );
    let next = ulaw_frame(0x77);
    legacy_audio(&conv, &next);
    assert_eq!(next_media_payload(&mut twilio).await, next);

    twilio.stop().await;
    let events = main.wait_ended(&call_id).await;
    assert!(
        events
            .iter()
            .any(|e| matches!(e, MediaEventKind::StreamStats { stale_audio_dropped: 3, frames_out: 3, .. })),
        "{events:#?}"
    );
}
