//! `<Connect><Stream>` against an in-test WebSocket server: `connected`/`start` with parameters,
//! real-time inbound frames, playback with marks, `clear`, `stop` on hang-up, and TwiML resuming
//! after the server closes the stream.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::extract::ws::Message;
use base64::Engine as _;
use sandbox::EndReason;
use sandbox::scenario::builtin;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use support::*;

fn connect_doc(app: &App, after: &str) -> String {
    format!(
        r#"<Response><Connect><Stream url="{}?ignored=1"><Parameter name="callId" value="c-1"/><Parameter name="token" value="a&amp;b"/></Stream></Connect>{after}</Response>"#,
        app.ws_url()
    )
}

async fn next(conn: &mut WsConn) -> Option<Value> {
    let msg = tokio::time::timeout(Duration::from_secs(5), conn.rx.recv()).await.expect("message in time")?;
    msg.map(|m| serde_json::from_str(&m).unwrap())
}

/// Reads until a message with `event` arrives (skipping media frames).
async fn next_event(conn: &mut WsConn, event: &str) -> Value {
    loop {
        let m = next(conn).await.unwrap_or_else(|| panic!("closed before {event}"));
        if m["event"] == event {
            return m;
        }
    }
}

fn send(conn: &WsConn, v: Value) {
    conn.tx.send(Message::Text(v.to_string().into())).unwrap();
}

fn media(sid: &str, bytes: &[u8]) -> Value {
    json!({"event":"media","streamSid":sid,"media":{"payload": base64::engine::general_purpose::STANDARD.encode(bytes)}})
}

async fn start_call(sb: &sandbox::SandboxHandle, app: &mut App, after: &str) -> (String, WsConn, String) {
    app.twiml("/twiml", &connect_doc(app, after));
    let sid = Twilio::new(sb).create(app, builtin::NORMAL, &[]).await;
    let mut conn = app.next_ws().await;
    assert!(conn.signature_valid, "X-Twilio-Signature on the upgrade covers the URL without its query");
    assert_eq!(
        next(&mut conn).await.unwrap(),
        json!({"event":"connected","protocol":"Call","version":"1.0.0"})
    );
    let start = next(&mut conn).await.unwrap();
    assert_eq!(start["event"], "start");
    let stream_sid = start["streamSid"].as_str().unwrap().to_owned();
    (sid, conn, stream_sid)
}

#[tokio::test]
async fn start_carries_parameters_and_frames_arrive_in_real_time() {
    let sb = sandbox(20.0).await;
    let mut app = App::start().await;
    app.twiml("/twiml", &connect_doc(&app, "<Hangup/>"));
    let sid = Twilio::new(&sb).create(&app, builtin::NORMAL, &[]).await;
    let mut conn = app.next_ws().await;
    next(&mut conn).await.unwrap();
    let start = next(&mut conn).await.unwrap();
    assert_eq!(start["sequenceNumber"], "1");
    assert_eq!(start["start"]["callSid"], sid.as_str());
    assert_eq!(start["start"]["accountSid"], sandbox::config::DEFAULT_ACCOUNT_SID);
    assert_eq!(start["start"]["customParameters"], json!({"callId":"c-1","token":"a&b"}));
    assert_eq!(start["start"]["tracks"], json!(["inbound"]));
    assert_eq!(
        start["start"]["mediaFormat"],
        json!({"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1})
    );
    assert_eq!(start["streamSid"], start["start"]["streamSid"]);
    let mut first_at = None;
    for i in 1..=50u64 {
        let m = next(&mut conn).await.unwrap();
        first_at.get_or_insert_with(Instant::now);
        assert_eq!(m["event"], "media");
        assert_eq!(m["sequenceNumber"], (i + 1).to_string());
        assert_eq!(m["media"]["chunk"], i.to_string());
        assert_eq!(m["media"]["timestamp"], ((i - 1) * 20).to_string());
        assert_eq!(m["media"]["track"], "inbound");
        let payload = base64::engine::general_purpose::STANDARD
            .decode(m["media"]["payload"].as_str().unwrap())
            .unwrap();
        assert_eq!(payload.len(), 160);
    }
    let elapsed = first_at.unwrap().elapsed();
    assert!(elapsed >= Duration::from_millis(900), "49 frame intervals took only {elapsed:?}: not paced");
    let stats = sb.call(&sid).unwrap().streams[0].clone();
    assert_eq!(stats.url, app.ws_url(), "query string stripped");
    assert!(stats.connected);
}

#[tokio::test]
async fn marks_echo_after_playback_and_clear_flushes_pending_marks_in_order() {
    let sb = sandbox(20.0).await;
    let mut app = App::start().await;
    let (sid, mut conn, ssid) = start_call(&sb, &mut app, "<Hangup/>").await;
    send(&conn, json!({"event":"mark","streamSid":ssid,"mark":{"name":"empty"}}));
    let m = next_event(&mut conn, "mark").await;
    assert_eq!(m["mark"]["name"], "empty", "nothing queued: echoed at once");
    let sent_at = Instant::now();
    send(&conn, media(&ssid, &[0x55; 8000]));
    send(&conn, json!({"event":"mark","streamSid":ssid,"mark":{"name":"one-second"}}));
    let m = next_event(&mut conn, "mark").await;
    assert_eq!(m["mark"]["name"], "one-second");
    assert!(sent_at.elapsed() >= Duration::from_millis(950), "echoed after {:?}", sent_at.elapsed());
    send(&conn, media(&ssid, &[0x55; 40_000]));
    send(&conn, json!({"event":"mark","streamSid":ssid,"mark":{"name":"a"}}));
    send(&conn, media(&ssid, &[0x55; 800]));
    send(&conn, json!({"event":"mark","streamSid":ssid,"mark":{"name":"b"}}));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let cleared_at = Instant::now();
    send(&conn, json!({"event":"clear","streamSid":ssid}));
    let a = next_event(&mut conn, "mark").await;
    let b = next_event(&mut conn, "mark").await;
    assert_eq!((a["mark"]["name"].as_str(), b["mark"]["name"].as_str()), (Some("a"), Some("b")));
    assert!(cleared_at.elapsed() < Duration::from_millis(500), "clear echoes at once");
    let call = sb.wait_call(&sid, 2 * SECS, |c| c.streams[0].clears_received == 1).await.unwrap();
    let s = &call.streams[0];
    let cleared: Vec<_> = s.mark_echoes.iter().map(|m| (m.name.as_str(), m.cleared)).collect();
    assert_eq!(cleared, vec![("empty", false), ("one-second", false), ("a", true), ("b", true)]);
    assert_eq!(s.marks_received, 4);
    assert!(s.bytes_cleared > 30_000, "most of 5 s of audio discarded: {}", s.bytes_cleared);
    assert!(s.bytes_played >= 8000);
    send(&conn, json!({"event":"mark","streamSid":"MZ00000000000000000000000000000000","mark":{"name":"x"}}));
    sb.wait_call(&sid, 2 * SECS, |c| c.streams[0].wrong_stream_sid == 1)
        .await
        .expect("wrong streamSid counted");
}

#[tokio::test]
async fn rest_hangup_sends_stop_then_closes() {
    let sb = sandbox(20.0).await;
    let mut app = App::start().await;
    let (sid, mut conn, ssid) = start_call(&sb, &mut app, "<Hangup/>").await;
    let tw = Twilio::new(&sb);
    let (status, _) = tw.post(&tw.call_url(&sid), &[("Status", "completed")]).await;
    assert_eq!(status, 200);
    let stop = next_event(&mut conn, "stop").await;
    assert_eq!(stop["streamSid"], ssid.as_str());
    assert_eq!(stop["stop"]["callSid"], sid.as_str());
    assert_eq!(stop["stop"]["accountSid"], sandbox::config::DEFAULT_ACCOUNT_SID);
    assert!(next(&mut conn).await.is_none(), "socket closed after stop");
    let call = sb.call(&sid).unwrap();
    assert_eq!(call.end_reason, Some(EndReason::RestCompleted));
    assert_eq!(call.streams[0].ended_by.as_deref(), Some("call_ended"));
}

#[tokio::test]
async fn server_close_resumes_twiml_after_connect() {
    let sb = sandbox(20.0).await;
    let mut app = App::start().await;
    let (sid, conn, _) = start_call(&sb, &mut app, "<Say>Sorry, goodbye.</Say><Hangup/>").await;
    conn.tx.send(Message::Close(None)).unwrap();
    let call = sb.wait_call_ended(&sid, 10 * SECS).await.unwrap();
    assert_eq!(call.end_reason, Some(EndReason::TwimlHangup));
    assert_eq!(call.says, vec!["Sorry, goodbye."]);
    assert_eq!(call.streams[0].ended_by.as_deref(), Some("server_closed"));

    let (sid, conn, _) = start_call(&sb, &mut app, "").await;
    drop(conn);
    let call = sb.wait_call_ended(&sid, 10 * SECS).await.unwrap();
    assert_eq!(call.end_reason, Some(EndReason::TwimlEnd), "closed stream with nothing after ends the call");
}

#[tokio::test]
async fn redirect_breaks_out_of_the_stream() {
    let sb = sandbox(20.0).await;
    let mut app = App::start().await;
    let (sid, mut conn, _) = start_call(&sb, &mut app, "<Hangup/>").await;
    let tw = Twilio::new(&sb);
    let twiml = "<Response><Say>Please call us back.</Say><Hangup/></Response>";
    let (status, _) = tw.post(&tw.call_url(&sid), &[("Twiml", twiml)]).await;
    assert_eq!(status, 200);
    next_event(&mut conn, "stop").await;
    let call = sb.wait_call_ended(&sid, 10 * SECS).await.unwrap();
    assert_eq!(call.says, vec!["Please call us back."]);
    assert_eq!(call.streams[0].ended_by.as_deref(), Some("redirect"));
    assert_eq!(call.end_reason, Some(EndReason::TwimlHangup));
}

#[tokio::test]
async fn the_callee_answers_audio_played_to_it() {
    let sb = sandbox(20.0).await;
    let mut app = App::start().await;
    let (sid, mut conn, ssid) = start_call(&sb, &mut app, "<Hangup/>").await;
    let speech = sandbox::audio::synth::speech(
        "Hi, this is Alex from Sunrise Energy.",
        sandbox::audio::synth::AGENT_VOICE,
        8000,
    );
    let ulaw: Vec<u8> = speech.iter().map(|s| common::audio::ulaw_encode(*s)).collect();
    send(&conn, media(&ssid, &ulaw));
    let deadline = Instant::now() + Duration::from_secs(8);
    let mut loud_frames = 0;
    while Instant::now() < deadline && loud_frames < 10 {
        let m = next(&mut conn).await.unwrap();
        if m["event"] != "media" {
            continue;
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(m["media"]["payload"].as_str().unwrap())
            .unwrap();
        let samples: Vec<i16> = bytes.iter().map(|b| common::audio::ulaw_decode(*b)).collect();
        if common::audio::rms(&samples) > 1000.0 {
            loud_frames += 1;
        }
    }
    assert!(loud_frames >= 10, "the callee replied with speech after hearing the agent");
    assert_eq!(sb.call(&sid).unwrap().streams[0].bytes_played, ulaw.len() as u64);
}

#[tokio::test]
async fn unreachable_or_invalid_stream_urls_continue_after_connect() {
    let sb = sandbox(20.0).await;
    let app = App::start().await;
    app.twiml(
        "/twiml",
        r#"<Response><Connect><Stream url="ws://127.0.0.1:9/none"/></Connect><Connect><Stream url="https://x/y"/></Connect><Say>Fallback</Say></Response>"#,
    );
    let sid = Twilio::new(&sb).create(&app, builtin::NORMAL, &[]).await;
    let call = sb.wait_call_ended(&sid, 10 * SECS).await.unwrap();
    let codes: Vec<_> = call.streams.iter().map(|s| s.error_code).collect();
    assert_eq!(codes, vec![Some(31902), Some(31922)]);
    assert_eq!(call.says, vec!["Fallback"]);
}

#[tokio::test]
async fn start_stream_is_not_supported_and_the_twiml_goes_on() {
    let sb = sandbox(20.0).await;
    let mut app = App::start().await;
    let doc = format!(
        r#"<Response><Start><Stream url="{}"/></Start><Say>After the start.</Say><Hangup/></Response>"#,
        app.ws_url()
    );
    app.twiml("/twiml", &doc);
    let sid = Twilio::new(&sb).create(&app, builtin::NORMAL, &[]).await;
    let call = sb.wait_call_ended(&sid, 10 * SECS).await.unwrap();
    assert!(call.streams.is_empty(), "no unidirectional stream: {:?}", call.streams);
    assert_eq!(call.says, vec!["After the start."], "the next verb ran");
    assert_eq!(call.end_reason, Some(EndReason::TwimlHangup));
    assert!(app.ws.try_recv().is_err(), "nothing connected to the <Start><Stream> URL");
}
