//! Deadlines and limits not covered elsewhere: no `start` in time, no agent metadata in time, a
//! silent agent, a Twilio socket that stops taking writes, the global maximum call duration, an
//! oversized agent message, and caller audio beyond the early buffer. Short real durations (real
//! sockets); each test waits for the behaviour, none asserts how long it took.
#![allow(clippy::unwrap_used)]

mod support;

use common::events::media::{EndReason, MediaEventKind};
use futures_util::SinkExt;
use serde_json::{Value, json};
use std::sync::atomic::Ordering;
use std::time::Duration;
use support::*;
use tokio_tungstenite::tungstenite::Message;

fn ended(events: &[MediaEventKind]) -> (EndReason, Option<String>, bool) {
    events
        .iter()
        .find_map(|e| match e {
            MediaEventKind::ConversationEnded { reason, detail, hangup_requested } => {
                Some((*reason, detail.clone(), *hangup_requested))
            }
            _ => None,
        })
        .unwrap_or_else(|| panic!("not ended: {events:#?}"))
}

fn error_codes(events: &[MediaEventKind]) -> Vec<&str> {
    events
        .iter()
        .filter_map(|e| match e {
            MediaEventKind::Error { code, .. } => Some(code.as_str()),
            _ => None,
        })
        .collect()
}

async fn wait_idle(proxy: &Proxy) {
    tokio::time::timeout(WAIT, proxy.state.registry.wait_idle()).await.expect("the call task is gone");
}

#[tokio::test]
async fn no_start_before_the_deadline_closes_the_stream_without_a_conversation() {
    let main = MainApp::start().await;
    let agent = SimAgent::start(AgentBehaviour::default()).await;
    let proxy = Proxy::start(&main, &agent, &[("START_TIMEOUT_MS", "300")]).await;
    let mut twilio = proxy.twilio().await;
    // `connected` is not `start`: it does not move the deadline.
    let connected = json!({"event":"connected","protocol":"Call","version":"1.0.0"});
    twilio.ws.send(Message::Text(connected.to_string().into())).await.unwrap();
    let (code, seen) = twilio.until_closed().await;
    assert_eq!(code, 1008, "closed as a policy violation");
    assert!(seen.is_empty(), "nothing sent on a stream that never started: {seen:?}");
    wait_idle(&proxy).await;
    assert_eq!(main.context_fetches.load(Ordering::SeqCst), 0, "no context fetched");
    assert_eq!(agent.signed_url_fetches.load(Ordering::SeqCst), 0, "no signed URL fetched");
    assert_eq!(agent.handshakes.load(Ordering::SeqCst), 0, "no conversation opened");
    assert!(main.events.lock().unwrap().is_empty(), "nothing reported for an unknown stream");
}

#[tokio::test]
async fn agent_without_metadata_ends_the_call_as_unavailable() {
    let main = MainApp::start().await;
    let mut agent = SimAgent::start(AgentBehaviour { metadata: None, ..Default::default() }).await;
    let proxy = Proxy::start(&main, &agent, &[("AGENT_METADATA_TIMEOUT_MS", "300")]).await;
    let (call_id, token) = main.new_call(|_| {});
    let mut twilio = proxy.twilio().await;
    twilio.start(call_id.as_str(), &token).await;
    twilio.media(&ulaw_frame(0x10)).await;
    let mut conv = agent.next_conn().await;
    assert_eq!(conv.next_json().await["type"], "conversation_initiation_client_data");
    // The agent never says which formats it speaks: no audio is sent to it, and it is closed.
    let next = conv.next().await;
    assert_eq!(next, "CLOSE 1000", "closed normally, and no caller audio before the metadata");
    let events = main.wait_ended(&call_id).await;
    assert_eq!(
        ended(&events),
        (EndReason::AgentUnavailable, Some("agent_metadata_timeout".to_owned()), true),
        "reported with its reason, hang-up requested"
    );
    assert!(error_codes(&events).contains(&"agent_timeout"), "{events:#?}");
    assert!(!events.iter().any(|e| matches!(e, MediaEventKind::AgentConnected { .. })));
    twilio.stop().await;
    let (code, _) = twilio.until_closed().await;
    assert_eq!(code, 1000);
}

#[tokio::test]
async fn a_silent_agent_ends_the_call_as_an_agent_error() {
    let main = MainApp::start().await;
    let mut agent = SimAgent::start(AgentBehaviour::default()).await;
    let proxy = Proxy::start(&main, &agent, &[("AGENT_IDLE_TIMEOUT_SECS", "1")]).await;
    let (call_id, token) = main.new_call(|_| {});
    let mut twilio = proxy.twilio().await;
    twilio.start(call_id.as_str(), &token).await;
    let mut conv = agent.next_conn().await;
    assert_eq!(conv.next_json().await["type"], "conversation_initiation_client_data");
    main.wait_for(&call_id, |e| matches!(e, MediaEventKind::AgentConnected { .. })).await;
    // Pings keep an agent alive well past its idle limit...
    for id in 1..=6 {
        conv.send(json!({"type":"ping","ping_event":{"event_id":id}}));
        assert_eq!(conv.next_control().await, json!({"type":"pong","event_id":id}));
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(
        !main.events_for(&call_id).iter().any(|e| matches!(e, MediaEventKind::ConversationEnded { .. })),
        "a pinging agent is not idle"
    );
    // ...then it goes quiet while the caller still talks.
    let talking = async {
        loop {
            twilio.media(&ulaw_frame(0x20)).await;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let closed = tokio::select! {
        code = conv.closed() => code,
        () = talking => unreachable!(),
    };
    assert_eq!(closed, 1000, "agent socket closed normally");
    let events = main.wait_ended(&call_id).await;
    assert_eq!(ended(&events), (EndReason::AgentError, Some("agent_idle_timeout".to_owned()), true));
    assert!(error_codes(&events).contains(&"agent_silent"), "{events:#?}");
}

#[tokio::test]
async fn a_twilio_socket_that_stops_taking_writes_ends_the_call_with_a_hang_up() {
    let main = MainApp::start().await;
    let mut agent = SimAgent::start(AgentBehaviour::default()).await;
    let proxy = Proxy::start(&main, &agent, &[("WRITE_TIMEOUT_MS", "300")]).await;
    let (call_id, token) = main.new_call(|_| {});
    let mut twilio = proxy.twilio().await;
    twilio.start(call_id.as_str(), &token).await;
    let conv = agent.next_conn().await;
    main.wait_for(&call_id, |e| matches!(e, MediaEventKind::AgentConnected { .. })).await;
    // Twilio stops reading (the test never reads `twilio` again) while the agent pushes far more
    // audio than the loopback socket buffers hold (~30 MB, each message under the size limit).
    let chunk = "A".repeat(200_000);
    for event_id in 1..=150 {
        conv.audio(&chunk, event_id);
    }
    let events = main.wait_ended(&call_id).await;
    assert_eq!(
        ended(&events),
        (EndReason::CallerHungUp, Some("twilio_write_failed".to_owned()), true),
        "the stream is unusable but the call may be up: main-app is asked to hang up"
    );
    wait_idle(&proxy).await;
    drop(twilio);
}

#[tokio::test]
async fn the_global_maximum_duration_ends_the_call() {
    let main = MainApp::start().await;
    let mut agent = SimAgent::start(AgentBehaviour::default()).await;
    let proxy = Proxy::start(&main, &agent, &[("MAX_CALL_DURATION_SECS", "1")]).await;
    let (call_id, token) = main.new_call(|_| {}); // the context sets no cap of its own
    let mut twilio = proxy.twilio().await;
    twilio.start(call_id.as_str(), &token).await;
    let mut conv = agent.next_conn().await;
    main.wait_for(&call_id, |e| matches!(e, MediaEventKind::AgentConnected { .. })).await;
    let talking = async {
        loop {
            twilio.media(&ulaw_frame(0xFF)).await;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let closed = tokio::select! {
        code = conv.closed() => code,
        () = talking => unreachable!(),
    };
    assert_eq!(closed, 1000);
    let events = main.wait_ended(&call_id).await;
    assert_eq!(ended(&events), (EndReason::MaxDuration, None, true));
}

#[tokio::test]
async fn an_oversized_agent_message_ends_the_call_with_a_1009_close() {
    let main = MainApp::start().await;
    let mut agent = SimAgent::start(AgentBehaviour::default()).await;
    let proxy = Proxy::start(&main, &agent, &[("MAX_MESSAGE_BYTES", "8192")]).await;
    let (call_id, token) = main.new_call(|_| {});
    let mut twilio = proxy.twilio().await;
    twilio.start(call_id.as_str(), &token).await;
    let mut conv = agent.next_conn().await;
    main.wait_for(&call_id, |e| matches!(e, MediaEventKind::AgentConnected { .. })).await;
    // Just under the limit passes...
    let fits = "A".repeat(8000);
    conv.audio(&fits, 1);
    assert_eq!(twilio.next().await["media"]["payload"], json!(fits));
    // ...above it ends the call.
    conv.audio(&"A".repeat(20_000), 2);
    assert_eq!(conv.closed().await, 1009, "closed as 'message too big'");
    let events = main.wait_ended(&call_id).await;
    let (reason, detail, hangup) = ended(&events);
    assert_eq!((reason, hangup), (EndReason::AgentError, true));
    assert!(detail.unwrap_or_default().contains("too large"));
    assert!(error_codes(&events).contains(&"agent_message_too_large"), "{events:#?}");
    twilio.stop().await;
    let (code, _) = twilio.until_closed().await;
    assert_eq!(code, 1000);
}

#[tokio::test]
async fn early_audio_beyond_the_buffer_is_counted_and_reported() {
    let main = MainApp::start().await;
    let behaviour = AgentBehaviour {
        metadata: Some(("ulaw_8000", "ulaw_8000", Duration::from_millis(400))),
        ..Default::default()
    };
    let mut agent = SimAgent::start(behaviour).await;
    // 100 ms of buffer: five 20 ms frames.
    let proxy = Proxy::start(&main, &agent, &[("EARLY_AUDIO_BUFFER_MS", "100")]).await;
    let (call_id, token) = main.new_call(|_| {});
    let mut twilio = proxy.twilio().await;
    twilio.start(call_id.as_str(), &token).await;
    let frames: Vec<String> = (0..12u8).map(|i| ulaw_frame(0x30 + i)).collect();
    for f in &frames {
        twilio.media(f).await;
    }
    let mut conv = agent.next_conn().await;
    assert_eq!(conv.next_json().await["type"], "conversation_initiation_client_data");
    let events = main.wait_for(&call_id, |e| matches!(e, MediaEventKind::AgentConnected { .. })).await;
    // The first five, in order; then the first live frame (the seven later ones were dropped).
    for f in &frames[..5] {
        assert_eq!(conv.next_json().await, json!({ "user_audio_chunk": f }));
    }
    let live = ulaw_frame(0x77);
    twilio.media(&live).await;
    assert_eq!(conv.next_json().await, json!({ "user_audio_chunk": live }), "dropped frames never sent");
    let reported: Vec<&MediaEventKind> = events
        .iter()
        .filter(|e| matches!(e, MediaEventKind::Error { code, .. } if code == "early_audio_dropped"))
        .collect();
    assert_eq!(reported.len(), 1, "{events:#?}");
    let MediaEventKind::Error { message, .. } = reported[0] else { unreachable!() };
    assert!(message.starts_with("7 caller frames (140 ms)"), "{message}");
    twilio.stop().await;
    let events = main.wait_ended(&call_id).await;
    assert_eq!(error_codes(&events).iter().filter(|c| **c == "early_audio_dropped").count(), 1, "once");
}

#[tokio::test]
async fn early_audio_that_fits_reports_nothing() {
    let main = MainApp::start().await;
    let mut agent = SimAgent::start(AgentBehaviour::default()).await;
    let proxy = Proxy::start(&main, &agent, &[]).await;
    let (call_id, token) = main.new_call(|_| {});
    let mut twilio = proxy.twilio().await;
    twilio.start(call_id.as_str(), &token).await;
    twilio.media(&ulaw_frame(1)).await;
    let mut conv = agent.next_conn().await;
    main.wait_for(&call_id, |e| matches!(e, MediaEventKind::AgentConnected { .. })).await;
    let v: Value = conv.next_json().await;
    assert_eq!(v["type"], "conversation_initiation_client_data");
    twilio.stop().await;
    let events = main.wait_ended(&call_id).await;
    assert!(error_codes(&events).is_empty(), "{events:#?}");
}
