//! Limits, timers and shutdown: concurrency limit, oversized messages, inactivity, maximum
//! duration, main-app being down, and the SIGTERM drain.
#![allow(clippy::unwrap_used)]

mod support;

use common::events::media::{EndReason, MediaEventKind};
use serde_json::json;
use std::sync::atomic::Ordering;
use std::time::Duration;
use support::*;

fn ended_reason(events: &[MediaEventKind]) -> (EndReason, bool) {
    events
        .iter()
        .find_map(|e| match e {
            MediaEventKind::ConversationEnded { reason, hangup_requested, .. } => {
                Some((*reason, *hangup_requested))
            }
            _ => None,
        })
        .unwrap_or_else(|| panic!("not ended: {events:#?}"))
}

#[tokio::test]
async fn streams_beyond_the_limit_are_refused_before_upgrade() {
    let main = MainApp::start().await;
    let mut agent = SimAgent::start(AgentBehaviour::default()).await;
    let proxy = Proxy::start(&main, &agent, &[("MAX_CONCURRENT_CALLS", "1")]).await;
    let (call_id, token) = main.new_call(|_| {});
    let mut twilio = proxy.twilio().await;
    twilio.start(call_id.as_str(), &token).await;
    let _conv = agent.next_conn().await;
    let url = format!("ws://{}{}", proxy.addr, media_proxy::STREAM_PATH);
    match tokio_tungstenite::connect_async(url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => assert_eq!(resp.status(), 503),
        other => panic!("expected 503, got {:?}", other.map(|_| ())),
    }
}

#[tokio::test]
async fn oversized_messages_end_the_stream() {
    let main = MainApp::start().await;
    let mut agent = SimAgent::start(AgentBehaviour::default()).await;
    let proxy = Proxy::start(&main, &agent, &[("MAX_MESSAGE_BYTES", "8192")]).await;
    let (call_id, token) = main.new_call(|_| {});
    let mut twilio = proxy.twilio().await;
    twilio.start(call_id.as_str(), &token).await;
    let mut conv = agent.next_conn().await;
    main.wait_for(&call_id, |e| matches!(e, MediaEventKind::AgentConnected { .. })).await;
    twilio.media(&"A".repeat(20_000)).await;
    assert_eq!(conv.closed().await, 1000, "agent conversation closed with the stream");
    main.wait_ended(&call_id).await;
}

#[tokio::test]
async fn no_media_for_the_inactivity_timeout_ends_the_call() {
    let main = MainApp::start().await;
    let mut agent = SimAgent::start(AgentBehaviour::default()).await;
    let proxy = Proxy::start(&main, &agent, &[("INACTIVITY_TIMEOUT_SECS", "1")]).await;
    let (call_id, token) = main.new_call(|_| {});
    let mut twilio = proxy.twilio().await;
    twilio.start(call_id.as_str(), &token).await;
    let mut conv = agent.next_conn().await;
    // the agent keeps talking (and pinging), but Twilio sends nothing
    conv.send(json!({"type":"ping","ping_event":{"event_id":1}}));
    let (code, _) = twilio.until_closed().await;
    assert_eq!(code, 1000);
    assert_eq!(conv.closed().await, 1000);
    let events = main.wait_ended(&call_id).await;
    assert_eq!(ended_reason(&events), (EndReason::Inactivity, true));
}

#[tokio::test]
async fn the_call_context_can_cap_its_duration() {
    let main = MainApp::start().await;
    let mut agent = SimAgent::start(AgentBehaviour::default()).await;
    let proxy = Proxy::start(&main, &agent, &[]).await;
    let (call_id, token) = main.new_call(|c| c.max_duration_secs = Some(1));
    let mut twilio = proxy.twilio().await;
    twilio.start(call_id.as_str(), &token).await;
    let _conv = agent.next_conn().await;
    let feeder = async {
        // 1 s of call, then up to the hang-up wait for Twilio's stop (which never comes here).
        for _ in 0..300 {
            twilio.media(&ulaw_frame(0xFF)).await;
            if let Some(v) = twilio.next_within(Duration::from_millis(20)).await
                && v.get("closed").is_some()
            {
                return;
            }
        }
        panic!("call not ended by its maximum duration");
    };
    feeder.await;
    let events = main.wait_ended(&call_id).await;
    assert_eq!(ended_reason(&events), (EndReason::MaxDuration, true));
}

#[tokio::test]
async fn main_app_down_does_not_disturb_the_call_and_retries_deliver_later() {
    let main = MainApp::start().await;
    main.fail_events.store(true, Ordering::SeqCst);
    let mut agent = SimAgent::start(AgentBehaviour::default()).await;
    let proxy = Proxy::start(&main, &agent, &[]).await;
    let (call_id, token) = main.new_call(|_| {});
    let mut twilio = proxy.twilio().await;
    twilio.start(call_id.as_str(), &token).await;
    let mut conv = agent.next_conn().await;
    assert_eq!(conv.next_json().await["type"], "conversation_initiation_client_data");
    for i in 0..20u8 {
        let f = ulaw_frame(i);
        twilio.media(&f).await;
        assert_eq!(conv.next_json().await, json!({ "user_audio_chunk": f }), "audio flows while events fail");
    }
    let stats = proxy.state.events.stats().clone();
    assert!(stats.delivered.load(Ordering::Relaxed) == 0);
    // main-app comes back: the retried batch is delivered and nothing was lost.
    main.fail_events.store(false, Ordering::SeqCst);
    twilio.stop().await;
    main.wait_ended(&call_id).await;
    assert!(stats.delivered.load(Ordering::Relaxed) >= 3);
}

#[tokio::test]
async fn shutdown_drains_live_calls_then_ends_them_cleanly() {
    let main = MainApp::start().await;
    let mut agent = SimAgent::start(AgentBehaviour::default()).await;
    let mut proxy = Proxy::start(&main, &agent, &[("DRAIN_TIMEOUT_SECS", "1")]).await;
    let (call_id, token) = main.new_call(|_| {});
    let mut twilio = proxy.twilio().await;
    twilio.start(call_id.as_str(), &token).await;
    let mut conv = agent.next_conn().await;
    assert_eq!(conv.next_json().await["type"], "conversation_initiation_client_data");
    main.wait_for(&call_id, |e| matches!(e, MediaEventKind::AgentConnected { .. })).await;

    proxy.shutdown();
    tokio::time::sleep(Duration::from_millis(100)).await;
    // no new streams
    let url = format!("ws://{}{}", proxy.addr, media_proxy::STREAM_PATH);
    assert!(tokio_tungstenite::connect_async(url).await.is_err(), "no new streams while draining");
    // the live call keeps flowing during the drain
    let f = ulaw_frame(0x42);
    twilio.media(&f).await;
    assert_eq!(conv.next_json().await, json!({ "user_audio_chunk": f }));
    // then the deadline ends it cleanly, both sockets closed
    assert_eq!(conv.closed().await, 1000);
    let (code, _) = twilio.until_closed().await;
    assert_eq!(code, 1000);
    tokio::time::timeout(WAIT, &mut proxy.done).await.expect("run returns after the drain").unwrap();
    assert_eq!(proxy.state.registry.active(), 0, "no call outlives the drain");
    let events = main.events_for(&call_id);
    assert_eq!(ended_reason(&events), (EndReason::Shutdown, true), "queued events flushed before exit");
}

#[tokio::test]
async fn shutdown_returns_as_soon_as_calls_finish() {
    let main = MainApp::start().await;
    let mut agent = SimAgent::start(AgentBehaviour::default()).await;
    let mut proxy = Proxy::start(&main, &agent, &[("DRAIN_TIMEOUT_SECS", "600")]).await;
    let (call_id, token) = main.new_call(|_| {});
    let mut twilio = proxy.twilio().await;
    twilio.start(call_id.as_str(), &token).await;
    let _conv = agent.next_conn().await;
    main.wait_for(&call_id, |e| matches!(e, MediaEventKind::AgentConnected { .. })).await;
    proxy.shutdown();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!proxy.done.is_finished(), "waits for the live call");
    twilio.stop().await;
    tokio::time::timeout(WAIT, &mut proxy.done).await.expect("returns once the call ended").unwrap();
    assert_eq!(ended_reason(&main.events_for(&call_id)), (EndReason::CallerHungUp, false));
}

async fn healthz(proxy: &Proxy) -> (u16, serde_json::Value) {
    let resp = reqwest::get(format!("http://{}/healthz", proxy.addr)).await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

#[tokio::test]
async fn healthz_answers_503_while_draining() {
    let main = MainApp::start().await;
    let mut agent = SimAgent::start(AgentBehaviour::default()).await;
    let mut proxy = Proxy::start(&main, &agent, &[("DRAIN_TIMEOUT_SECS", "600")]).await;
    let (call_id, token) = main.new_call(|_| {});
    let mut twilio = proxy.twilio().await;
    twilio.start(call_id.as_str(), &token).await;
    let _conv = agent.next_conn().await;
    main.wait_for(&call_id, |e| matches!(e, MediaEventKind::AgentConnected { .. })).await;
    let (status, body) = healthz(&proxy).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")), "{body}");

    proxy.shutdown();
    // The listener stays up during the drain: health checks see 503, new streams a clear refusal.
    let (status, body) = loop {
        let (status, body) = healthz(&proxy).await;
        if status != 200 {
            break (status, body);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "draining");
    assert_eq!(body["activeStreams"], 1, "the live call is still running");
    let url = format!("ws://{}{}", proxy.addr, media_proxy::STREAM_PATH);
    match tokio_tungstenite::connect_async(url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => assert_eq!(resp.status(), 503),
        other => panic!("expected a 503 refusal, got {:?}", other.map(|_| ())),
    }
    twilio.stop().await;
    tokio::time::timeout(WAIT, &mut proxy.done).await.expect("returns once the call ended").unwrap();
    assert!(reqwest::get(format!("http://{}/healthz", proxy.addr)).await.is_err(), "listener closed");
}

async fn twilio_goes_away(abruptly: bool) {
    let main = MainApp::start().await;
    let mut agent = SimAgent::start(AgentBehaviour::default()).await;
    let proxy = Proxy::start(&main, &agent, &[]).await;
    let (call_id, token) = main.new_call(|_| {});
    let mut twilio = proxy.twilio().await;
    twilio.start(call_id.as_str(), &token).await;
    let mut conv = agent.next_conn().await;
    main.wait_for(&call_id, |e| matches!(e, MediaEventKind::AgentConnected { .. })).await;
    twilio.media(&ulaw_frame(0x42)).await;
    // No `stop`: the socket closes with a close frame, or the TCP connection just goes away.
    if abruptly {
        drop(twilio);
    } else {
        twilio.ws.close(None).await.unwrap();
    }
    assert_eq!(conv.closed().await, 1000, "agent socket closed normally");
    let events = main.wait_ended(&call_id).await;
    assert_eq!(ended_reason(&events), (EndReason::CallerHungUp, false));
    tokio::time::timeout(WAIT, proxy.state.registry.wait_idle()).await.expect("call task gone");
}

#[tokio::test]
async fn twilio_close_without_stop_closes_the_agent_normally() {
    twilio_goes_away(false).await;
}

#[tokio::test]
async fn twilio_connection_lost_without_stop_closes_the_agent_normally() {
    twilio_goes_away(true).await;
}
