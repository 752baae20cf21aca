//! Call progression per scenario with signed status callbacks, and TwiML obeyed: `<Say>`,
//! `<Pause>`, `<Hangup>`, redirects, fallback, time limit, REST hang-up and cancel.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use sandbox::EndReason;
use sandbox::config::{CallbackTestModes, DEFAULT_ACCOUNT_SID, DEFAULT_FROM_NUMBER};
use sandbox::scenario::builtin;
use support::*;

const SAY_HANGUP: &str = "<Response><Say>Hello there</Say><Hangup/></Response>";

fn statuses(rs: &[Received]) -> Vec<(String, String)> {
    rs.iter()
        .map(|r| (r.param("SequenceNumber").unwrap().to_owned(), r.param("CallStatus").unwrap().to_owned()))
        .collect()
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect()
}

#[tokio::test]
async fn answered_call_sends_signed_callbacks_in_order_and_obeys_say_and_hangup() {
    let sb = sandbox(20.0).await;
    let app = App::start().await;
    app.twiml("/twiml", SAY_HANGUP);
    let sid = Twilio::new(&sb).create(&app, builtin::NORMAL, &[]).await;
    let call = sb.wait_call_ended(&sid, 10 * SECS).await.expect("ends");
    assert_eq!(call.end_reason, Some(EndReason::TwimlHangup));
    assert_eq!(call.says, vec!["Hello there"]);
    let got = app.wait(5 * SECS, |r| r.iter().filter(|r| r.path == "/status").count() == 4).await;
    assert!(got.iter().all(|r| r.signature_valid), "every request is signed: {got:#?}");
    let status: Vec<_> = got.iter().filter(|r| r.path == "/status").cloned().collect();
    assert_eq!(
        statuses(&status),
        pairs(&[("0", "initiated"), ("1", "ringing"), ("2", "in-progress"), ("3", "completed")])
    );
    let done = &status[3];
    assert_eq!(done.param("CallSid"), Some(sid.as_str()));
    assert_eq!(done.param("AccountSid"), Some(DEFAULT_ACCOUNT_SID));
    assert_eq!(done.param("Direction"), Some("outbound-api"));
    assert_eq!(done.param("From"), Some(DEFAULT_FROM_NUMBER));
    assert_eq!(done.param("To"), Some(builtin::NORMAL));
    assert_eq!(done.param("CallbackSource"), Some("call-progress-events"));
    assert_eq!(done.param("SipResponseCode"), Some("200"));
    assert!(done.param("CallDuration").unwrap().parse::<u64>().unwrap() >= 1);
    assert!(done.param("Timestamp").unwrap().ends_with("+0000"));
    let fetch = &app.received_at("/twiml")[0];
    assert_eq!(fetch.path, "/twiml?call=abc", "the Url is requested exactly as given");
    assert_eq!(fetch.param("CallStatus"), Some("in-progress"));
    assert!(fetch.signature_valid);
    assert_eq!(call.status, "completed");
    let history: Vec<_> = call.status_history.iter().map(|s| s.status.as_str()).collect();
    assert_eq!(history, vec!["queued", "initiated", "ringing", "in-progress", "completed"]);
}

#[tokio::test]
async fn busy_no_answer_and_failed_end_without_answer() {
    let sb = sandbox(20.0).await;
    let app = App::start().await;
    let tw = Twilio::new(&sb);
    let busy = tw.create(&app, builtin::BUSY, &[]).await;
    let no_answer = tw.create(&app, builtin::NO_ANSWER, &[("Timeout", "4")]).await;
    let failed = tw.create(&app, builtin::FAILED, &[]).await;
    for (sid, reason, status, sip) in [
        (&busy, EndReason::Busy, "busy", "486"),
        (&no_answer, EndReason::NoAnswer, "no-answer", "480"),
        (&failed, EndReason::Failed, "failed", "404"),
    ] {
        let call = sb.wait_call_ended(sid, 10 * SECS).await.expect("ends");
        assert_eq!((call.end_reason, call.status.as_str()), (Some(reason), status));
        assert!(call.twiml.is_empty(), "TwiML is never fetched");
        let got = app
            .wait(5 * SECS, |r| {
                r.iter().any(|r| r.param("CallSid") == Some(sid) && r.param("CallStatus") == Some(status))
            })
            .await;
        let last = got.iter().rfind(|r| r.param("CallSid") == Some(sid)).unwrap();
        assert_eq!(last.param("SipResponseCode"), Some(sip));
        assert_eq!(last.param("CallDuration"), Some("0"));
    }
    let failed_statuses: Vec<_> =
        app.received().into_iter().filter(|r| r.param("CallSid") == Some(&failed)).collect();
    assert_eq!(statuses(&failed_statuses), pairs(&[("0", "initiated"), ("1", "failed")]), "no ringing");
}

#[tokio::test]
async fn cancel_while_ringing_and_hang_up_while_in_progress() {
    let sb = sandbox(5.0).await;
    let app = App::start().await;
    app.twiml("/twiml", r#"<Response><Pause length="30"/></Response>"#);
    let tw = Twilio::new(&sb);
    let slow = tw.create(&app, builtin::SLOW_ANSWER, &[]).await;
    sb.wait_call(&slow, 5 * SECS, |c| c.status == "ringing").await.expect("rings");
    let (status, body) = tw.post(&tw.call_url(&slow), &[("Status", "canceled")]).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("canceled")), "{body}");
    assert_eq!(sb.call(&slow).unwrap().end_reason, Some(EndReason::RestCanceled));

    let live = tw.create(&app, builtin::NORMAL, &[]).await;
    sb.wait_call(&live, 5 * SECS, |c| !c.twiml.is_empty()).await.expect("answered");
    let (status, body) = tw.post(&tw.call_url(&live), &[("Status", "canceled")]).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("in-progress")),
        "canceled does not affect a live call"
    );
    let (status, body) = tw.post(&tw.call_url(&live), &[("Status", "completed")]).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("completed")), "{body}");
    assert_eq!(sb.call(&live).unwrap().end_reason, Some(EndReason::RestCompleted));
    let got = app
        .wait(5 * SECS, |r| r.iter().filter(|r| r.param("CallStatus") == Some("canceled")).count() == 1)
        .await;
    assert!(got.iter().all(|r| r.signature_valid));
}

#[tokio::test]
async fn redirect_replaces_the_running_twiml() {
    let sb = sandbox(20.0).await;
    let app = App::start().await;
    app.twiml("/twiml", r#"<Response><Pause length="30"/></Response>"#);
    app.twiml("/next", "<Response><Say>Moved on</Say><Redirect>/last</Redirect></Response>");
    app.twiml("/last", "<Response><Hangup/></Response>");
    let tw = Twilio::new(&sb);
    let sid = tw.create(&app, builtin::NORMAL, &[]).await;
    sb.wait_call(&sid, 5 * SECS, |c| !c.twiml.is_empty()).await.expect("answered");
    let (status, _) = tw.post(&tw.call_url(&sid), &[("Url", &app.url("/next"))]).await;
    assert_eq!(status, 200);
    let call = sb.wait_call_ended(&sid, 10 * SECS).await.unwrap();
    assert_eq!(call.end_reason, Some(EndReason::TwimlHangup));
    assert_eq!(call.says, vec!["Moved on"]);
    assert_eq!(call.redirects, 1);
    let sources: Vec<_> = call.twiml.iter().map(|t| t.source.as_str()).collect();
    assert_eq!(sources, vec!["url", "redirect", "redirect"]);
    assert!(app.received_at("/last")[0].signature_valid, "relative <Redirect> resolved and signed");
}

#[tokio::test]
async fn inline_twiml_redirect_and_twiml_end() {
    let sb = sandbox(20.0).await;
    let app = App::start().await;
    app.twiml("/twiml", r#"<Response><Pause length="30"/></Response>"#);
    let tw = Twilio::new(&sb);
    let sid = tw.create(&app, builtin::NORMAL, &[]).await;
    sb.wait_call(&sid, 5 * SECS, |c| !c.twiml.is_empty()).await.expect("answered");
    let (status, _) = tw.post(&tw.call_url(&sid), &[("Twiml", "<Response><Say>Bye</Say></Response>")]).await;
    assert_eq!(status, 200);
    let call = sb.wait_call_ended(&sid, 10 * SECS).await.unwrap();
    assert_eq!(call.end_reason, Some(EndReason::TwimlEnd), "no verbs left ends the call");
    assert_eq!(call.says, vec!["Bye"]);
}

#[tokio::test]
async fn fallback_url_time_limit_and_invalid_twiml() {
    let sb = sandbox(20.0).await;
    let app = App::start().await;
    app.twiml("/fallback", r#"<Response><Pause length="30"/></Response>"#);
    app.twiml("/bad", "<Response><Say>oops</Response>");
    let tw = Twilio::new(&sb);
    let (missing, fallback) = (app.url("/missing"), app.url("/fallback"));
    let form = [
        ("To", builtin::NORMAL),
        ("From", DEFAULT_FROM_NUMBER),
        ("Url", &missing),
        ("FallbackUrl", &fallback),
        ("TimeLimit", "1"),
    ];
    let (_, body) = tw.post(&tw.calls_url(), &form).await;
    let sid = body["sid"].as_str().unwrap();
    let call = sb.wait_call_ended(sid, 10 * SECS).await.unwrap();
    assert_eq!(call.end_reason, Some(EndReason::TimeLimit));
    assert_eq!(call.twiml[0].http_status, Some(404));
    assert_eq!(call.twiml[1].source, "fallback");
    let fb = &app.received_at("/fallback")[0];
    assert_eq!(fb.param("ErrorCode"), Some("11200"));
    assert_eq!(fb.param("ErrorUrl"), Some(missing.as_str()));

    let bad = app.url("/bad");
    let (_, body) = tw
        .post(&tw.calls_url(), &[("To", builtin::NORMAL), ("From", DEFAULT_FROM_NUMBER), ("Url", &bad)])
        .await;
    let call = sb.wait_call_ended(body["sid"].as_str().unwrap(), 10 * SECS).await.unwrap();
    assert_eq!(call.end_reason, Some(EndReason::TwimlError));
    assert!(call.twiml[0].error.as_deref().unwrap().contains("12100"));
}

#[tokio::test]
async fn get_callbacks_are_signed_over_the_url_and_default_events_are_terminal_only() {
    let sb = sandbox(20.0).await;
    let app = App::start().await;
    app.twiml("/twiml", SAY_HANGUP);
    let tw = Twilio::new(&sb);
    let (twiml, status) = (app.url("/twiml"), app.url("/status?tenant=1"));
    let form = [
        ("To", builtin::NORMAL),
        ("From", DEFAULT_FROM_NUMBER),
        ("Url", &twiml),
        ("Method", "GET"),
        ("StatusCallback", &status),
        ("StatusCallbackMethod", "GET"),
    ];
    let (_, body) = tw.post(&tw.calls_url(), &form).await;
    sb.wait_call_ended(body["sid"].as_str().unwrap(), 10 * SECS).await.unwrap();
    let got = app.wait(5 * SECS, |r| r.iter().any(|r| r.path.starts_with("/status"))).await;
    let cbs: Vec<_> = got.iter().filter(|r| r.path.starts_with("/status")).collect();
    assert_eq!(cbs.len(), 1, "only the terminal event by default");
    assert_eq!(cbs[0].method, "GET");
    assert!(cbs[0].path.starts_with("/status?tenant=1&"), "{}", cbs[0].path);
    assert_eq!(cbs[0].param("CallStatus"), Some("completed"));
    assert_eq!(cbs[0].param("SequenceNumber"), Some("0"));
    assert!(cbs[0].signature_valid);
    let fetch = got.iter().find(|r| r.path.starts_with("/twiml")).unwrap();
    assert_eq!((fetch.method.as_str(), fetch.signature_valid), ("GET", true));
}

#[tokio::test]
async fn duplicate_test_mode_sends_every_callback_twice() {
    let sb = sandbox_with(|c| {
        c.speed = 20.0;
        c.test_modes = CallbackTestModes { duplicate: true, shuffle: true, delay_ms: 10 };
    })
    .await;
    let app = App::start().await;
    app.twiml("/twiml", SAY_HANGUP);
    let sid = Twilio::new(&sb).create(&app, builtin::NORMAL, &[]).await;
    sb.wait_call_ended(&sid, 10 * SECS).await.unwrap();
    let got = app.wait(5 * SECS, |r| r.iter().filter(|r| r.path == "/status").count() == 8).await;
    for seq in ["0", "1", "2", "3"] {
        let n = got.iter().filter(|r| r.path == "/status" && r.param("SequenceNumber") == Some(seq)).count();
        assert_eq!(n, 2, "sequence {seq} delivered twice");
    }
    let call = sb.wait_call(&sid, 5 * SECS, |c| c.callbacks.len() == 8).await.unwrap();
    assert_eq!(call.callbacks.iter().filter(|c| c.duplicate).count(), 4);
}

#[tokio::test]
async fn a_custom_scenario_file_adds_numbers_and_overrides_builtins() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scenarios.json");
    std::fs::write(
        &path,
        r#"{"scenarios":[
            {"number":"+61491570150","name":"busy_at_once","dial":"busy","ring_ms":1},
            {"number":"+61491570103","name":"fails_instead","dial":"failed"}
        ]}"#,
    )
    .unwrap();
    let sb = sandbox_with(|c| c.scenarios.load_file(&path).expect("the file loads")).await;
    let app = App::start().await;
    let tw = Twilio::new(&sb);
    let custom = tw.create(&app, "+61491570150", &[]).await;
    let overridden = tw.create(&app, builtin::NO_ANSWER, &[]).await;
    for (sid, reason, status) in
        [(&custom, EndReason::Busy, "busy"), (&overridden, EndReason::Failed, "failed")]
    {
        let call = sb.wait_call_ended(sid, 10 * SECS).await.expect("ends");
        assert_eq!((call.end_reason, call.status.as_str()), (Some(reason), status));
    }
    let mut book = sandbox::scenario::ScenarioBook::builtin();
    let missing = book.load_file(&dir.path().join("none.json"));
    assert!(missing.is_err(), "a missing file is an error, not an empty book");
}
