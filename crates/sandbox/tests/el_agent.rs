//! The simulated ElevenLabs agent over a real WebSocket: signed URL and token, override checks,
//! metadata formats, transcripts and replies, interruptions, ping/pong, ending and failing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use base64::Engine as _;
use common::elevenlabs::AudioFormat;
use sandbox::audio::synth::{CALLEE_VOICE, speech};
use sandbox::scenario::AgentFault;
use serde_json::{Value, json};
use std::time::Duration;
use support::*;

const NUMBER: &str = "+61491570150";

fn init(vars: Value) -> Value {
    json!({"type": "conversation_initiation_client_data", "dynamic_variables": vars})
}

/// Speech followed by 700 ms of silence, at 8 kHz.
fn utterance(text: &str) -> Vec<i16> {
    let mut s = speech(text, CALLEE_VOICE, 8000);
    s.extend(vec![0; 5600]);
    s
}

/// Waits for the agent's current turn to finish playing (all audio received + its duration).
async fn wait_turn(client: &mut ElClient) -> (Value, usize) {
    let response = client.expect("agent_response").await;
    let mut bytes = 0;
    loop {
        let v = tokio::time::timeout(Duration::from_millis(600), client.expect("audio")).await;
        let Ok(v) = v else { break };
        assert_eq!(v["audio_event"]["event_id"], response["agent_response_event"]["event_id"]);
        bytes += base64::engine::general_purpose::STANDARD
            .decode(v["audio_event"]["audio_base_64"].as_str().unwrap())
            .unwrap()
            .len();
    }
    (response, bytes)
}

#[tokio::test]
async fn signed_url_requires_the_api_key_and_the_socket_requires_its_token() {
    let sb = sandbox(20.0).await;
    let http = reqwest::Client::new();
    let base = format!("{}/v1/convai/conversation/get-signed-url", sb.base_url());
    let res =
        http.get(format!("{base}?agent_id={}", sandbox::config::DEFAULT_AGENT_ID)).send().await.unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(res.json::<Value>().await.unwrap()["detail"]["status"], "invalid_api_key");
    let res = http.get(&base).header("xi-api-key", sandbox::config::DEFAULT_XI_API_KEY).send().await.unwrap();
    assert_eq!(res.status(), 422);
    let res = http
        .get(format!("{base}?agent_id=agent_x"))
        .header("xi-api-key", sandbox::config::DEFAULT_XI_API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let url = signed_url(&sb).await;
    assert!(url.starts_with(&format!("ws://{}/v1/convai/conversation?agent_id=", sb.local_addr())), "{url}");
    let without = url.split("&token=").next().unwrap().to_owned();
    let err = tokio_tungstenite::connect_async(without).await.expect_err("no token");
    assert!(err.to_string().contains("403"), "{err}");
    let forged = format!("{}&token=tok_forged", url.split("&token=").next().unwrap());
    assert!(tokio_tungstenite::connect_async(forged).await.is_err());
    assert!(tokio_tungstenite::connect_async(url).await.is_ok());
    sb.refuse_agent_connections(1);
    let err = tokio_tungstenite::connect_async(signed_url(&sb).await).await.expect_err("injected refusal");
    assert!(err.to_string().contains("503"), "{err}");
}

#[tokio::test]
async fn disallowed_or_malformed_overrides_close_1008() {
    let sb = sandbox_with(|c| c.elevenlabs.allowed_overrides.clear()).await;
    let mut client = ElClient::connect(&sb).await;
    client.send_json(json!({"type":"conversation_initiation_client_data","conversation_config_override":{"agent":{"first_message":"Hi"}}})).await;
    let (seen, code) = client.until_closed().await;
    assert_eq!(code, Some(1008));
    assert_eq!(seen[0]["type"], "error");
    assert_eq!(seen[0]["error_event"]["error_type"], "override_error");
    assert_eq!(seen[0]["error_event"]["code"], 1008);
    let sb = sandbox(20.0).await;
    let mut client = ElClient::connect(&sb).await;
    client.send_json(json!({"type":"conversation_initiation_client_data","conversation_config_override":{"agent":{"first_message":"Hi {{name}}"}}})).await;
    let (seen, code) = client.until_closed().await;
    assert_eq!(
        (code, seen[0]["error_event"]["error_type"].as_str()),
        (Some(1008), Some("missing_dynamic_variable"))
    );
    let conv = sb.wait_conversation(2 * SECS, |c| c.close_code == Some(1008)).await.expect("recorded");
    assert_eq!(conv.status, "failed");
}

#[tokio::test]
async fn metadata_first_then_first_message_in_the_announced_format() {
    for (format, chunk_bytes) in [(AudioFormat::Ulaw8000, 800), (AudioFormat::Pcm(16000), 3200)] {
        let sb = sandbox_with(|c| {
            c.elevenlabs.output_format = format;
            c.elevenlabs.input_format = format;
            short_scenario(NUMBER, c, |_| {});
        })
        .await;
        let mut client = ElClient::connect(&sb).await;
        let over = json!({"agent": {"first_message": "Hello {{name}}, it is Alex."}});
        client
            .send_json(
                json!({"type":"conversation_initiation_client_data","conversation_config_override": over,
            "dynamic_variables": {"name": "Ann", "phone_number": NUMBER}}),
            )
            .await;
        let meta = client.expect("conversation_initiation_metadata").await;
        let ev = &meta["conversation_initiation_metadata_event"];
        assert_eq!(ev["agent_output_audio_format"], format.name().as_str());
        assert_eq!(ev["user_input_audio_format"], format.name().as_str());
        assert!(ev["conversation_id"].as_str().unwrap().starts_with("conv_"));
        let response = client.expect("agent_response").await;
        assert_eq!(response["agent_response_event"]["agent_response"], "Hello Ann, it is Alex.");
        let audio = client.expect("audio").await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(audio["audio_event"]["audio_base_64"].as_str().unwrap())
            .unwrap();
        assert_eq!(bytes.len(), chunk_bytes, "100 ms chunks in {}", format.name());
        let conv = sb.conversations().pop().unwrap();
        assert_eq!(conv.scenario, format!("short-{NUMBER}"), "scenario found by phone number");
        assert_eq!(conv.dynamic_variables["name"], "Ann");
    }
}

#[tokio::test]
async fn transcribes_the_callers_speech_and_replies_then_ends_the_call() {
    let sb = sandbox_with(|c| {
        c.speed = 20.0;
        short_scenario(NUMBER, c, |s| s.agent.end_call_after_script = true);
    })
    .await;
    let mut client = ElClient::connect(&sb).await;
    client.send_json(init(json!({"phone_number": NUMBER}))).await;
    client.expect("conversation_initiation_metadata").await;
    let (first, bytes) = wait_turn(&mut client).await;
    assert_eq!(first["agent_response_event"]["agent_response"], "Hi, is this Ann?");
    assert_eq!(bytes as u64, sandbox::audio::synth::speech_duration_ms("Hi, is this Ann?") * 8);
    tokio::time::sleep(Duration::from_millis(300)).await;
    client.send_ulaw(&utterance("Yes, speaking right now.")).await;
    let transcript = client.expect("user_transcript").await;
    assert_eq!(transcript["user_transcription_event"]["user_transcript"], "Yes, speaking right now.");
    let (reply, _) = wait_turn(&mut client).await;
    assert_eq!(reply["agent_response_event"]["agent_response"], "Great, thanks Ann. Goodbye!");
    let ids = [&first, &transcript, &reply].map(|v| {
        v.as_object().unwrap().values().find_map(|p| p.get("event_id").and_then(Value::as_u64)).unwrap()
    });
    assert!(ids[0] < ids[1] && ids[1] < ids[2], "event ids increase: {ids:?}");
    let tool = client.expect("agent_tool_response").await;
    assert_eq!(tool["agent_tool_response"]["tool_name"], "end_call");
    let (_, code) = client.until_closed().await;
    assert_eq!(code, Some(1000));
    let conv = sb.wait_conversation(3 * SECS, |c| c.status == "done").await.expect("processed");
    assert_eq!(conv.lines("user"), vec!["Yes, speaking right now."]);
    assert_eq!(conv.lines("agent"), vec!["Hi, is this Ann?", "Great, thanks Ann. Goodbye!"]);
    assert!(conv.end_call_sent);
    assert_eq!(conv.termination_reason.as_deref(), Some("end_call tool was called."));
    assert_eq!(conv.data.as_ref().unwrap()["analysis"]["call_successful"], "success");
}

#[tokio::test]
async fn talking_over_the_agent_interrupts_it() {
    let sb = sandbox_with(|c| {
        short_scenario(NUMBER, c, |s| {
            s.script.first_message =
                "Let me tell you about our wonderful new electricity plan with many benefits.".into()
        });
    })
    .await;
    let mut client = ElClient::connect(&sb).await;
    client.send_json(init(json!({"phone_number": NUMBER}))).await;
    let response = client.expect("agent_response").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    client.send_ulaw(&utterance("Yes, speaking right now.")).await;
    let interruption = client.expect("interruption").await;
    let id = &response["agent_response_event"]["event_id"];
    assert_eq!(&interruption["interruption_event"]["event_id"], id);
    let correction = client.expect("agent_response_correction").await;
    let c = &correction["agent_response_correction_event"];
    assert_eq!(&c["event_id"], id);
    let corrected = c["corrected_agent_response"].as_str().unwrap();
    assert!(
        corrected.len() < c["original_agent_response"].as_str().unwrap().len() && !corrected.is_empty(),
        "{corrected}"
    );
    client.expect("user_transcript").await;
    let conv = sb.conversations().pop().unwrap();
    assert_eq!(conv.interruptions, 1);
    assert!(conv.transcript[0].interrupted);
    assert_eq!(conv.transcript[0].message, corrected);
}

#[tokio::test]
async fn stops_when_pongs_stop() {
    let sb = sandbox_with(|c| {
        c.elevenlabs.ping_interval = Duration::from_millis(100);
        c.elevenlabs.pong_timeout = Duration::from_millis(400);
    })
    .await;
    let mut client = ElClient::connect(&sb).await;
    client.send_json(init(json!({}))).await;
    for _ in 0..8 {
        let ping = client.expect("ping").await;
        client.send_json(json!({"type": "pong", "event_id": ping["ping_event"]["event_id"]})).await;
    }
    let answered = sb.conversations().pop().unwrap();
    assert!(answered.pongs_received >= 7 && answered.close_code.is_none(), "alive while pongs come");
    let mut pings = 0;
    let code = loop {
        match client.next().await {
            ElEvent::Json(v) if v["type"] == "ping" => pings += 1,
            ElEvent::Json(v) if v["type"] == "error" => assert_eq!(v["error_event"]["code"], 1002),
            ElEvent::Json(_) => {}
            ElEvent::Closed(code) => break code,
        }
    };
    assert_eq!(code, Some(1002));
    assert!(pings >= 2, "kept pinging until the timeout");
    let conv = sb.conversations().pop().unwrap();
    assert_eq!(conv.error.unwrap().error_type, "pong_timeout");
}

#[tokio::test]
async fn scenario_faults_at_connect_and_mid_call() {
    let sb = sandbox_with(|c| {
        c.speed = 20.0;
        short_scenario(NUMBER, c, |s| s.agent.fault = Some(AgentFault::AtConnect { code: 1011 }));
        short_scenario("+61491570151", c, |s| {
            s.agent.fault = Some(AgentFault::MidCall { after_user_turns: 1, code: 1002 })
        });
    })
    .await;
    let mut client = ElClient::connect(&sb).await;
    client.send_json(init(json!({"phone_number": NUMBER}))).await;
    let (seen, code) = client.until_closed().await;
    assert_eq!(code, Some(1011));
    assert!(seen.iter().all(|v| v["type"] != "conversation_initiation_metadata"), "fails before metadata");
    let mut client = ElClient::connect(&sb).await;
    client.send_json(init(json!({"phone_number": "+61491570151"}))).await;
    wait_turn(&mut client).await;
    client.send_ulaw(&utterance("Yes, speaking right now.")).await;
    let (seen, code) = client.until_closed().await;
    assert_eq!(code, Some(1002));
    let error = seen.iter().find(|v| v["type"] == "error").expect("error event before the close");
    assert_eq!(error["error_event"]["error_type"], "llm_error");
    let conv = sb.wait_conversation(3 * SECS, |c| c.status == "failed" && c.data.is_some()).await.unwrap();
    assert_eq!(conv.data.unwrap()["analysis"]["call_successful"], "failure");
}

#[tokio::test]
async fn an_at_connect_fault_reports_the_error_type_of_its_close_code() {
    let cases = [
        ("+61491570152", 1002, "llm_error"),
        ("+61491570153", 1008, "invalid_message"),
        ("+61491570154", 1011, "unknown_websocket_crash"),
    ];
    let sb = sandbox_with(|c| {
        for (number, code, _) in cases {
            short_scenario(number, c, |s| s.agent.fault = Some(AgentFault::AtConnect { code }));
        }
    })
    .await;
    for (number, code, error_type) in cases {
        let mut client = ElClient::connect(&sb).await;
        client.send_json(init(json!({"phone_number": number}))).await;
        let (seen, closed) = client.until_closed().await;
        assert_eq!(closed, Some(code), "{number}");
        assert!(
            seen.iter().all(|v| v["type"] != "conversation_initiation_metadata"),
            "fails before metadata"
        );
        let error = seen.iter().find(|v| v["type"] == "error").expect("error event before the close");
        assert_eq!(error["error_event"]["code"], code);
        assert_eq!(error["error_event"]["error_type"], error_type, "close {code}");
        let conv = sb
            .wait_conversation(3 * SECS, |c| c.phone_number.as_deref() == Some(number) && c.error.is_some())
            .await
            .unwrap();
        let recorded = conv.error.unwrap();
        assert_eq!((recorded.code, recorded.error_type.as_str()), (code, error_type));
        assert_eq!(conv.close_code, Some(code));
    }
}

/// Reads for up to `for_ms`, answering pings (and counting the pongs sent); sends 100 ms of
/// silence before each read when `audio`. Returns the close code if the agent closed.
async fn pump(
    client: &mut ElClient,
    seen: &mut Vec<Value>,
    pongs: &mut usize,
    for_ms: u64,
    audio: bool,
) -> Option<Option<u16>> {
    let until = std::time::Instant::now() + Duration::from_millis(for_ms);
    while std::time::Instant::now() < until {
        if audio {
            client.send_ulaw(&[0; 800]).await;
        }
        match tokio::time::timeout(Duration::from_millis(100), client.next()).await {
            Ok(ElEvent::Json(v)) => {
                if v["type"] == "ping" {
                    let id = v["ping_event"]["event_id"].clone();
                    client.send_json(json!({"type": "pong", "event_id": id})).await;
                    *pongs += 1;
                }
                seen.push(v);
            }
            Ok(ElEvent::Closed(code)) => return Some(code),
            Err(_) => {}
        }
    }
    None
}

#[tokio::test]
async fn closes_1002_when_the_client_sends_no_input_for_the_idle_timeout() {
    let idle = Duration::from_millis(700);
    let sb = sandbox_with(|c| {
        c.elevenlabs.ping_interval = Duration::from_millis(100);
        c.elevenlabs.idle_timeout = idle;
    })
    .await;
    let mut client = ElClient::connect(&sb).await;
    client.send_json(init(json!({}))).await;
    let (mut seen, mut pongs) = (Vec::new(), 0);
    let closed = pump(&mut client, &mut seen, &mut pongs, 2000, true).await;
    assert_eq!(closed, None, "audio keeps the conversation alive past the idle timeout");
    let last_input = std::time::Instant::now();
    let pongs_before = pongs;
    let closed = pump(&mut client, &mut seen, &mut pongs, 5000, false).await;
    let after = last_input.elapsed();
    assert_eq!(closed, Some(Some(1002)), "closed 1002 once the input stopped");
    assert!(after >= idle - Duration::from_millis(100), "closed {after:?} after the last input");
    assert!(pongs - pongs_before >= 3, "pongs kept coming and did not count as input");
    let error = seen.iter().rev().find(|v| v["type"] == "error").expect("error event before the close");
    assert_eq!(error["error_event"]["code"], 1002);
    assert_eq!(error["error_event"]["error_type"], "transport_receive_timeout");
    let conv = sb.wait_conversation(3 * SECS, |c| c.close_code.is_some()).await.unwrap();
    assert_eq!(conv.error.unwrap().error_type, "transport_receive_timeout");
    assert_eq!(conv.closed_by.as_deref(), Some("agent"));
}
