//! Stream set-up and trust: happy path, early audio, the initiation message, tokens, set-up
//! failures, and the caller hanging up. Real media-proxy on port 0 against simulated Twilio,
//! ElevenLabs and main-app.
#![allow(clippy::unwrap_used)]

mod support;

use common::events::media::{EndReason, MediaEventKind};
use serde_json::json;
use std::sync::atomic::Ordering;
use std::time::Duration;
use support::*;

#[tokio::test]
async fn happy_path_bridges_ulaw_untouched_both_ways() {
    let main = MainApp::start().await;
    let mut agent = SimAgent::start(AgentBehaviour::default()).await;
    let proxy = Proxy::start(&main, &agent, &[]).await;
    let (call_id, token) = main.new_call(|c| c.prompt = Some("Be brief.".into()));
    let mut twilio = proxy.twilio().await;
    twilio.start(call_id.as_str(), &token).await;

    let mut conv = agent.next_conn().await;
    let init = conv.next_json().await;
    assert_eq!(init["type"], "conversation_initiation_client_data", "initiation first: {init}");
    main.wait_for(&call_id, |e| matches!(e, MediaEventKind::AgentConnected { .. })).await;

    // caller → agent: the payload arrives byte-identical
    let frame = ulaw_frame(0x55);
    twilio.media(&frame).await;
    let chunk = conv.next_json().await;
    assert_eq!(chunk, json!({ "user_audio_chunk": frame }));

    // agent → caller: Twilio media on the stream's SID, payload untouched, then a mark
    let reply = ulaw_frame(0x2A);
    conv.send(
        json!({"type":"agent_response","agent_response_event":{"agent_response":"Hi Ann","event_id":1}}),
    );
    conv.audio(&reply, 1);
    let media = twilio.next().await;
    assert_eq!(media, json!({"event":"media","streamSid":STREAM_SID,"media":{"payload":reply}}));

    // ping → pong with the same id
    conv.send(json!({"type":"ping","ping_event":{"event_id":42,"ping_ms":null}}));
    assert_eq!(conv.next_control().await, json!({"type":"pong","event_id":42}));

    // a client tool we do not serve is answered with an error at once
    conv.send(json!({"type":"client_tool_call","client_tool_call":{"tool_name":"crm_lookup","tool_call_id":"tc_1","parameters":{},"event_id":3}}));
    let result = conv.next_control().await;
    assert_eq!(result["type"], "client_tool_result");
    assert_eq!(result["tool_call_id"], "tc_1");
    assert_eq!(result["is_error"], true);

    // unknown message types are counted and ignored
    conv.send(json!({"type":"guardrail_triggered","x":1}));
    conv.send(json!({"type":"ping","ping_event":{"event_id":43}}));
    assert_eq!(conv.next_control().await, json!({"type":"pong","event_id":43}), "processed in order");

    twilio.stop().await;
    assert_eq!(conv.closed().await, 1000, "agent socket closed normally when the caller hangs up");
    let events = main.wait_ended(&call_id).await;
    assert!(matches!(&events[0], MediaEventKind::StreamStarted { stream_sid, call_sid }
        if stream_sid == STREAM_SID && call_sid == CALL_SID));
    assert!(events.iter().any(|e| matches!(e, MediaEventKind::AgentConnected { conversation_id, .. } if conversation_id == "conv_test")));
    assert!(events.iter().any(|e| matches!(e, MediaEventKind::Transcript { line } if line.text == "Hi Ann")));
    assert!(events.iter().any(|e| matches!(
        e,
        MediaEventKind::ConversationEnded { reason: EndReason::CallerHungUp, hangup_requested: false, .. }
    )));
    assert!(
        events.iter().any(|e| matches!(
            e,
            MediaEventKind::StreamStats { frames_in: 1, frames_out: 1, unknown_messages: 1, .. }
        )),
        "{events:#?}"
    );
    assert_eq!(agent.signed_url_fetches.load(Ordering::SeqCst), 1, "signed URL fetched once");
    assert_eq!(main.bad_signatures.load(Ordering::SeqCst), 0, "events are signed");
}

#[tokio::test]
async fn initiation_carries_overrides_and_dynamic_variables() {
    let main = MainApp::start().await;
    let mut agent = SimAgent::start(AgentBehaviour::default()).await;
    let proxy = Proxy::start(&main, &agent, &[]).await;
    let (call_id, token) = main.new_call(|c| {
        c.prompt = Some("You sell solar panels.".into());
        c.first_message = Some("Hi {{name}}, it's Sam.".into());
        c.language = Some("en".into());
        c.campaign_id = Some("camp-9".into());
        c.contact_id = Some("contact-3".into());
        c.dynamic_variables.insert("plan".into(), json!("gold"));
    });
    let mut twilio = proxy.twilio().await;
    twilio.start(call_id.as_str(), &token).await;
    let mut conv = agent.next_conn().await;
    let init = conv.next_json().await;
    assert_eq!(init["type"], "conversation_initiation_client_data");
    let agent_override = &init["conversation_config_override"]["agent"];
    assert_eq!(agent_override["prompt"]["prompt"], "You sell solar panels.");
    assert_eq!(agent_override["first_message"], "Hi {{name}}, it's Sam.");
    assert_eq!(agent_override["language"], "en");
    let vars = &init["dynamic_variables"];
    assert_eq!(vars["name"], "Ann");
    assert_eq!(vars["phone_number"], "+61412345678");
    assert_eq!(vars["call_id"], call_id.as_str());
    assert_eq!(vars["call_sid"], CALL_SID);
    assert_eq!(vars["campaign_id"], "camp-9");
    assert_eq!(vars["contact_id"], "contact-3");
    assert_eq!(vars["plan"], "gold");
}

#[tokio::test]
async fn audio_before_the_agent_is_ready_is_delivered_in_order() {
    let main = MainApp::start().await;
    let behaviour = AgentBehaviour {
        metadata: Some(("ulaw_8000", "ulaw_8000", Duration::from_millis(400))),
        ..Default::default()
    };
    let mut agent = SimAgent::start(behaviour).await;
    let proxy = Proxy::start(&main, &agent, &[]).await;
    let (call_id, token) = main.new_call(|_| {});
    let mut twilio = proxy.twilio().await;
    twilio.start(call_id.as_str(), &token).await;
    // "Hello?" right at pick-up, while the agent is still connecting
    let frames: Vec<String> = (0..30u8).map(|i| ulaw_frame(0x10 + i)).collect();
    for f in &frames {
        twilio.media(f).await;
    }
    let mut conv = agent.next_conn().await;
    assert_eq!(conv.next_json().await["type"], "conversation_initiation_client_data");
    for f in &frames {
        assert_eq!(conv.next_json().await, json!({ "user_audio_chunk": f }), "in order, none lost");
    }
    let live = ulaw_frame(0x77);
    twilio.media(&live).await;
    assert_eq!(conv.next_json().await, json!({ "user_audio_chunk": live }));
}

async fn refused(token_for: impl FnOnce(&MainApp) -> (String, String), code: &str) {
    let main = MainApp::start().await;
    let agent = SimAgent::start(AgentBehaviour::default()).await;
    let proxy = Proxy::start(&main, &agent, &[]).await;
    let (call_id, token) = token_for(&main);
    let mut twilio = proxy.twilio().await;
    twilio.start(&call_id, &token).await;
    let (close, _) = twilio.until_closed().await;
    assert_eq!(close, 1008, "stream closed as a policy violation");
    let id = common::ids::CallId::parse(&call_id).unwrap();
    let events = main.wait_for(&id, |e| matches!(e, MediaEventKind::Error { .. })).await;
    assert!(
        events.iter().any(|e| matches!(e, MediaEventKind::Error { code: c, .. } if c == code)),
        "{events:#?}"
    );
    assert!(!events.iter().any(|e| matches!(e, MediaEventKind::StreamStarted { .. })));
    assert_eq!(agent.handshakes.load(Ordering::SeqCst), 0, "no conversation opened");
}

#[tokio::test]
async fn bad_signature_is_refused_without_a_conversation() {
    refused(
        |main| {
            let (id, _) = main.new_call(|_| {});
            let forged = common::stream_token::issue(
                b"not-the-secret-not-the-secret-!!",
                &id,
                chrono::Utc::now().timestamp(),
                120,
            );
            (id.to_string(), forged)
        },
        "token_bad_signature",
    )
    .await;
}

#[tokio::test]
async fn expired_token_is_refused_without_a_conversation() {
    refused(
        |main| {
            let (id, _) = main.new_call(|_| {});
            let old = common::stream_token::issue(
                SECRET.as_bytes(),
                &id,
                chrono::Utc::now().timestamp() - 600,
                120,
            );
            (id.to_string(), old)
        },
        "token_expired",
    )
    .await;
}

#[tokio::test]
async fn token_for_another_call_is_refused() {
    refused(
        |main| {
            let (_, token) = main.new_call(|_| {});
            let (other, _) = main.new_call(|_| {});
            (other.to_string(), token)
        },
        "token_wrong_call",
    )
    .await;
}

#[tokio::test]
async fn reused_token_opens_no_second_conversation() {
    let main = MainApp::start().await;
    let mut agent = SimAgent::start(AgentBehaviour::default()).await;
    let proxy = Proxy::start(&main, &agent, &[]).await;
    let (call_id, token) = main.new_call(|_| {});
    let mut first = proxy.twilio().await;
    first.start(call_id.as_str(), &token).await;
    let _conv = agent.next_conn().await;
    main.wait_for(&call_id, |e| matches!(e, MediaEventKind::AgentConnected { .. })).await;

    let mut replay = proxy.twilio().await;
    replay.start(call_id.as_str(), &token).await;
    let (close, _) = replay.until_closed().await;
    assert_eq!(close, 1008);
    let events = main
        .wait_for(&call_id, |e| matches!(e, MediaEventKind::Error { code, .. } if code == "token_reused"))
        .await;
    assert_eq!(agent.handshakes.load(Ordering::SeqCst), 1, "only the first stream has a conversation");
    assert_eq!(events.iter().filter(|e| matches!(e, MediaEventKind::StreamStarted { .. })).count(), 1);
    assert!(
        !events.iter().any(|e| matches!(e, MediaEventKind::ConversationEnded { .. })),
        "live call untouched"
    );
    // the genuine stream still works
    first.media(&ulaw_frame(1)).await;
}

#[tokio::test]
async fn signed_url_failure_ends_the_call_as_agent_unavailable() {
    let main = MainApp::start().await;
    let agent = SimAgent::start(AgentBehaviour { signed_url_status: 500, ..Default::default() }).await;
    let proxy = Proxy::start(&main, &agent, &[]).await;
    let (call_id, token) = main.new_call(|_| {});
    let mut twilio = proxy.twilio().await;
    twilio.start(call_id.as_str(), &token).await;
    let (close, _) = twilio.until_closed().await;
    assert_eq!(close, 1000);
    let events = main.wait_ended(&call_id).await;
    assert!(
        events.iter().any(|e| matches!(e, MediaEventKind::Error { code, .. } if code == "signed_url_failed"))
    );
    assert!(
        events.iter().any(|e| matches!(
            e,
            MediaEventKind::ConversationEnded {
                reason: EndReason::AgentUnavailable,
                hangup_requested: true,
                ..
            }
        )),
        "{events:#?}"
    );
    assert_eq!(agent.handshakes.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn refused_agent_connection_ends_the_call_cleanly() {
    let main = MainApp::start().await;
    let agent = SimAgent::start(AgentBehaviour::default()).await;
    // An API base whose signed URL points at a closed port.
    let dead = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead_addr = dead.local_addr().unwrap();
    drop(dead);
    let app = axum::Router::new().route(
        "/v1/convai/conversation/get-signed-url",
        axum::routing::get(move || async move {
            axum::Json(json!({ "signed_url": format!("ws://{dead_addr}/v1/convai/conversation?token=x") }))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let proxy = Proxy::start(&main, &agent, &[("ELEVENLABS_API_BASE", &base)]).await;
    let (call_id, token) = main.new_call(|_| {});
    let mut twilio = proxy.twilio().await;
    twilio.start(call_id.as_str(), &token).await;
    let (close, _) = twilio.until_closed().await;
    assert_eq!(close, 1000);
    let events = main.wait_ended(&call_id).await;
    assert!(
        events.iter().any(|e| matches!(e, MediaEventKind::Error { code, .. } if code == "agent_refused"))
    );
    assert!(events.iter().any(|e| matches!(
        e,
        MediaEventKind::ConversationEnded { reason: EndReason::AgentUnavailable, hangup_requested: true, .. }
    )));
}

#[tokio::test]
async fn agent_abnormal_close_reaches_main_app_as_an_agent_error() {
    let main = MainApp::start().await;
    let mut agent = SimAgent::start(AgentBehaviour::default()).await;
    let proxy = Proxy::start(&main, &agent, &[]).await;
    let (call_id, token) = main.new_call(|_| {});
    let mut twilio = proxy.twilio().await;
    twilio.start(call_id.as_str(), &token).await;
    let conv = agent.next_conn().await;
    main.wait_for(&call_id, |e| matches!(e, MediaEventKind::AgentConnected { .. })).await;
    conv.send(json!({"type":"error","error_event":{"code":1011,"message":"crash","error_type":"unknown_websocket_crash"}}));
    conv.close(1011);
    let (close, _) = twilio.until_closed().await;
    assert_eq!(close, 1000, "the call ends cleanly");
    let events = main.wait_ended(&call_id).await;
    let ended = events.iter().find_map(|e| match e {
        MediaEventKind::ConversationEnded { reason, detail, hangup_requested } => {
            Some((*reason, detail.clone(), *hangup_requested))
        }
        _ => None,
    });
    let (reason, detail, hangup) = ended.expect("ended");
    assert_eq!(reason, EndReason::AgentError);
    assert_eq!(reason.party(), common::call::Party::System);
    assert!(hangup);
    let detail = detail.unwrap_or_default();
    assert!(detail.contains("1011") && detail.contains("unknown_websocket_crash"), "{detail}");
}

#[tokio::test]
async fn a_stream_that_ends_before_main_app_accepts_its_token_reports_nothing() {
    // Whoever holds the token, until main-app has accepted it the stream is not trusted: it must
    // not add events (with sequence numbers) to the call, nor open a conversation.
    let main = MainApp::start().await;
    main.context_delay_ms.store(500, Ordering::SeqCst);
    let agent = SimAgent::start(AgentBehaviour::default()).await;
    let proxy = Proxy::start(&main, &agent, &[]).await;
    let (call_id, token) = main.new_call(|_| {});
    let mut twilio = proxy.twilio().await;
    twilio.start(call_id.as_str(), &token).await;
    twilio.media(&ulaw_frame(1)).await;
    twilio.stop().await;
    let (code, _) = twilio.until_closed().await;
    assert_eq!(code, 1000);
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(main.events_for(&call_id).is_empty(), "{:#?}", main.events_for(&call_id));
    assert_eq!(agent.handshakes.load(Ordering::SeqCst), 0);
    assert_eq!(proxy.state.registry.active(), 0, "the call task is gone");
}
