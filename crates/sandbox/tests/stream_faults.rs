//! The Media Streams fault modes of reference §5.6, injected per scenario (`stream` field): a
//! delayed WebSocket connect (31901 once it reaches the connect timeout), an upgrade answered
//! without 101 (31920, injected or real), and jittered or bursty frame delivery.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use sandbox::EndReason;
use sandbox::scenario::StreamBehaviour;
use serde_json::Value;
use std::time::{Duration, Instant};
use support::*;

const DELAYED: &str = "+61491570160";
const REFUSED: &str = "+61491570161";
const JITTERED: &str = "+61491570162";
const BURSTY: &str = "+61491570163";
const TIMED_OUT: &str = "+61491570164";

fn connect_doc(url: &str) -> String {
    format!(
        r#"<Response><Connect><Stream url="{url}"/></Connect><Say>Sorry, goodbye.</Say><Hangup/></Response>"#
    )
}

async fn faulty_sandbox(f: impl FnOnce(&mut sandbox::SandboxConfig)) -> sandbox::SandboxHandle {
    sandbox_with(|c| {
        c.speed = 20.0;
        let set = |c: &mut sandbox::SandboxConfig, number: &str, stream: StreamBehaviour| {
            short_scenario(number, c, |s| s.stream = stream);
        };
        set(c, DELAYED, StreamBehaviour { connect_delay_ms: 1500, ..Default::default() });
        set(c, TIMED_OUT, StreamBehaviour { connect_delay_ms: 5000, ..Default::default() });
        set(c, REFUSED, StreamBehaviour { upgrade_status: Some(503), ..Default::default() });
        set(c, JITTERED, StreamBehaviour { jitter_ms: 200, ..Default::default() });
        set(c, BURSTY, StreamBehaviour { burst_frames: 5, ..Default::default() });
        f(c);
    })
    .await
}

async fn next(conn: &mut WsConn) -> Value {
    let msg = tokio::time::timeout(Duration::from_secs(5), conn.rx.recv()).await.expect("message in time");
    serde_json::from_str(&msg.flatten().expect("stream open")).unwrap()
}

/// Reads `n` media frames after `connected`/`start`; returns each one's arrival instant after
/// checking that chunks and timestamps are in order on the 20 ms clock.
async fn frame_arrivals(conn: &mut WsConn, n: u64) -> Vec<Instant> {
    assert_eq!(next(conn).await["event"], "connected");
    assert_eq!(next(conn).await["event"], "start");
    let mut arrivals = Vec::new();
    for i in 1..=n {
        let m = next(conn).await;
        arrivals.push(Instant::now());
        assert_eq!(m["event"], "media");
        assert_eq!(m["media"]["chunk"], i.to_string(), "frames in order");
        assert_eq!(m["media"]["timestamp"], ((i - 1) * 20).to_string(), "timestamps stay on the clock");
    }
    arrivals
}

fn gaps_ms(arrivals: &[Instant]) -> Vec<f64> {
    arrivals.windows(2).map(|w| (w[1] - w[0]).as_secs_f64() * 1000.0).collect()
}

/// Waits for the TwiML fetch, then returns when it was seen.
async fn twiml_fetched(app: &App) -> Instant {
    app.wait(10 * SECS, |r| r.iter().any(|r| r.path.starts_with("/twiml"))).await;
    Instant::now()
}

#[tokio::test]
async fn a_delayed_connect_reaches_the_server_late_and_then_streams_normally() {
    let sb = faulty_sandbox(|_| {}).await;
    let mut app = App::start().await;
    app.twiml("/twiml", &connect_doc(&app.ws_url()));
    let sid = Twilio::new(&sb).create(&app, DELAYED, &[]).await;
    let fetched = twiml_fetched(&app).await;
    let mut conn = app.next_ws().await;
    let late = fetched.elapsed();
    assert!(late >= Duration::from_millis(1400), "upgrade {late:?} after the TwiML, not 1.5 s");
    assert!(conn.signature_valid);
    frame_arrivals(&mut conn, 5).await;
    let stream = sb.call(&sid).unwrap().streams[0].clone();
    assert!(stream.connected);
    assert_eq!(stream.error_code, None);
}

#[tokio::test]
async fn a_connect_delay_reaching_the_connect_timeout_fails_the_stream_with_31901() {
    let sb = faulty_sandbox(|c| c.stream_connect_timeout = Duration::from_millis(600)).await;
    let mut app = App::start().await;
    app.twiml("/twiml", &connect_doc(&app.ws_url()));
    let sid = Twilio::new(&sb).create(&app, TIMED_OUT, &[]).await;
    let fetched = twiml_fetched(&app).await;
    let call = sb.wait_call_ended(&sid, 10 * SECS).await.unwrap();
    assert!(fetched.elapsed() < Duration::from_millis(4500), "gave up at the timeout, not after the delay");
    let stream = &call.streams[0];
    assert_eq!((stream.error_code, stream.connected), (Some(31901), false));
    assert_eq!(stream.ended_by.as_deref(), Some("connect_failed"));
    assert_eq!(call.says, vec!["Sorry, goodbye."], "the TwiML after </Connect> ran");
    assert_eq!(call.end_reason, Some(EndReason::TwimlHangup));
    assert!(app.ws.try_recv().is_err(), "the server never saw an upgrade");
}

/// The status callbacks the app received, as `CallStatus` values, checking every signature.
fn statuses(app: &App) -> Vec<String> {
    app.received_at("/status")
        .iter()
        .map(|r| {
            assert!(r.signature_valid);
            r.param("CallStatus").unwrap().to_owned()
        })
        .collect()
}

#[tokio::test]
async fn an_upgrade_refused_without_101_fails_with_31920_and_the_call_continues_after_connect() {
    let sb = faulty_sandbox(|_| {}).await;
    let mut app = App::start().await;
    // With a stream status callback (§2.6): the failure is reported there too.
    let doc = connect_doc(&app.ws_url()).replacen(
        "/>",
        &format!(r#" statusCallback="{}/stream-status?x=1"/>"#, app.base),
        1,
    );
    app.twiml("/twiml", &doc);
    let sid = Twilio::new(&sb).create(&app, REFUSED, &[]).await;
    let call = sb.wait_call_ended(&sid, 10 * SECS).await.unwrap();
    let stream = &call.streams[0];
    assert_eq!((stream.error_code, stream.http_status), (Some(31920), Some(503)));
    assert_eq!((stream.connected, stream.ended_by.as_deref()), (false, Some("connect_failed")));
    assert_eq!(call.says, vec!["Sorry, goodbye."]);
    assert_eq!(call.end_reason, Some(EndReason::TwimlHangup));
    assert!(app.ws.try_recv().is_err(), "injected: the server never saw the upgrade");
    app.wait(5 * SECS, |r| r.iter().any(|r| r.param("CallStatus") == Some("completed"))).await;
    assert_eq!(statuses(&app), vec!["initiated", "ringing", "in-progress", "completed"]);
    let reports = app.received_at("/stream-status");
    assert_eq!(reports.len(), 1, "one stream report: the error");
    let report = &reports[0];
    assert!(report.signature_valid, "signed like every callback");
    assert_eq!(report.param("StreamEvent"), Some("stream-error"));
    assert_eq!(report.param("CallSid"), Some(sid.as_str()));
    let error = report.param("StreamError").unwrap();
    assert!(error.starts_with("31920") && error.contains("503"), "{error}");
    assert_eq!(report.param("StreamSid"), Some(stream.stream_sid.as_str()));

    // The same record when the server itself answers the upgrade with a 404.
    let app2 = App::start().await;
    app2.twiml("/twiml", &connect_doc(&format!("{}/missing", app2.base.replace("http://", "ws://"))));
    let sid = Twilio::new(&sb).create(&app2, sandbox::scenario::builtin::NORMAL, &[]).await;
    let call = sb.wait_call_ended(&sid, 10 * SECS).await.unwrap();
    let stream = &call.streams[0];
    assert_eq!((stream.error_code, stream.http_status), (Some(31920), Some(404)));
    assert_eq!(call.says, vec!["Sorry, goodbye."]);
    let upgrade = app2.received_at("/missing");
    assert_eq!(upgrade.len(), 1, "the real upgrade reached the server");
    assert_eq!(upgrade[0].headers.get("upgrade").map(String::as_str), Some("websocket"));
}

#[tokio::test]
async fn jittered_frames_arrive_bunched_and_spread_but_in_order() {
    let sb = faulty_sandbox(|_| {}).await;
    let mut app = App::start().await;
    app.twiml("/twiml", &connect_doc(&app.ws_url()));
    let sid = Twilio::new(&sb).create(&app, JITTERED, &[]).await;
    let mut conn = app.next_ws().await;
    let arrivals = frame_arrivals(&mut conn, 100).await;
    let gaps = gaps_ms(&arrivals);
    let bunched = gaps.iter().filter(|g| **g < 5.0).count();
    let widest = gaps.iter().copied().fold(0.0, f64::max);
    assert!(bunched >= 30, "only {bunched} of 99 frames arrived right behind the previous one: {gaps:?}");
    assert!(widest >= 60.0, "no gap wider than three frames ({widest:.0} ms): {gaps:?}");
    let span = arrivals[99] - arrivals[0];
    assert!(span >= Duration::from_millis(1500), "100 frames in {span:?}: jitter must not speed the clock");
    assert_eq!(sb.call(&sid).unwrap().streams[0].frames_dropped, 0);
}

#[tokio::test]
async fn bursty_frames_arrive_in_groups_of_the_burst_size() {
    let sb = faulty_sandbox(|_| {}).await;
    let mut app = App::start().await;
    app.twiml("/twiml", &connect_doc(&app.ws_url()));
    Twilio::new(&sb).create(&app, BURSTY, &[]).await;
    let mut conn = app.next_ws().await;
    let arrivals = frame_arrivals(&mut conn, 100).await;
    let gaps = gaps_ms(&arrivals);
    let within = gaps.iter().filter(|g| **g < 10.0).count();
    let between = gaps.iter().filter(|g| **g >= 50.0).count();
    assert!(within >= 60, "only {within} of 99 gaps inside a burst: {gaps:?}");
    assert!((12..=25).contains(&between), "{between} pauses between bursts, expected ~19: {gaps:?}");
}
