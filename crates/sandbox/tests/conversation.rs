//! Both simulators together through a minimal test bridge: a whole call with the scripted
//! callee and agent, async AMD, the recording (WAV, Range, callbacks), the post-call webhook and
//! the conversations REST API.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use common::elevenlabs::{Conversation, WebhookEnvelope};
use sandbox::EndReason;
use sandbox::config::{DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, DEFAULT_WEBHOOK_SECRET, DEFAULT_XI_API_KEY};
use serde_json::{Value, json};
use support::*;

const NUMBER: &str = "+61491570150";

fn stream_doc(app: &App) -> String {
    format!(
        r#"<Response><Connect><Stream url="{}"><Parameter name="callId" value="c-9"/></Stream></Connect><Hangup/></Response>"#,
        app.ws_url()
    )
}

#[tokio::test]
async fn a_whole_call_with_recording_amd_webhook_and_conversation_rest() {
    let mut app = App::start().await;
    let webhook = app.url("/webhooks/elevenlabs");
    let sb = sandbox_with(|c| {
        c.speed = 10.0;
        c.elevenlabs.webhook_url = Some(webhook.clone());
        short_scenario(NUMBER, c, |_| {});
    })
    .await;
    app.twiml("/twiml", &stream_doc(&app));
    let (rec_cb, amd_cb) = (app.url("/recording"), app.url("/amd"));
    let extra = [
        ("Record", "true"),
        ("RecordingChannels", "dual"),
        ("RecordingStatusCallback", rec_cb.as_str()),
        ("RecordingStatusCallbackEvent", "in-progress completed absent"),
        ("MachineDetection", "Enable"),
        ("AsyncAmd", "true"),
        ("AsyncAmdStatusCallback", amd_cb.as_str()),
    ];
    let sid = Twilio::new(&sb).create(&app, NUMBER, &extra).await;
    let conn = app.next_ws().await;
    let log =
        bridge::run(&sb, conn, json!({"name": "Ann", "phone_number": NUMBER, "campaign_id": "camp-1"})).await;
    assert!(log.twilio_stop, "the callee hung up after the goodbye: {log:?}");
    assert_eq!(log.custom_parameters, json!({"callId": "c-9"}));
    let call = sb.wait_call_ended(&sid, 10 * SECS).await.unwrap();
    assert_eq!(call.end_reason, Some(EndReason::CalleeHangup));
    assert_eq!(call.answered_by.as_deref(), Some("human"));
    assert_eq!(call.conversation_ids, vec![log.conversation_id.clone()]);
    let s = &call.streams[0];
    assert!(
        s.marks_received > 0 && s.mark_echoes.len() as u64 == s.marks_received,
        "every mark echoed: {s:?}"
    );
    assert!(s.frames_sent > 100 && s.bytes_played > 8000);

    let conv =
        sb.wait_conversation(10 * SECS, |c| c.webhook_deliveries.len() == 1).await.expect("webhook sent");
    assert_eq!(conv.lines("agent"), vec!["Hi, is this Ann?", "Great, thanks Ann. Goodbye!"]);
    assert_eq!(conv.lines("user"), vec!["Yes, speaking right now."]);
    assert_eq!(conv.call_sid.as_deref(), Some(sid.as_str()));
    assert_eq!(conv.webhook_deliveries[0].http_status, Some(204));

    let hook = app.received_at("/webhooks/elevenlabs").pop().unwrap();
    let header = hook.headers.get("elevenlabs-signature").expect("signed");
    let now = chrono::Utc::now().timestamp();
    assert_eq!(
        common::signature::verify_timestamped(DEFAULT_WEBHOOK_SECRET, Some(header), &hook.body, now, 1800),
        Ok(())
    );
    let envelope: WebhookEnvelope = serde_json::from_slice(&hook.body).unwrap();
    assert_eq!(envelope.kind, "post_call_transcription");
    let data: Conversation =
        serde_json::from_value(envelope.data.clone()).expect("the reference model parses");
    assert_eq!(data.status, "done");
    assert_eq!(data.transcript.len(), 3);
    assert!(data.transcript[1].time_in_call_secs >= 1.0, "user spoke after the opening line");
    assert!(data.metadata.call_duration_secs >= 2.0);
    assert!(data.metadata.cost.unwrap() > 0.0);
    assert_eq!(data.metadata.termination_reason.as_deref(), Some("Remote party ended call"));
    let phone = data.metadata.phone_call.unwrap();
    assert_eq!(
        (phone.call_sid.as_deref(), phone.external_number.as_deref()),
        (Some(sid.as_str()), Some(NUMBER))
    );
    assert_eq!(phone.stream_sid.as_deref(), Some(s.stream_sid.as_str()));
    let analysis = data.analysis.unwrap();
    assert_eq!(analysis.call_successful, "success");
    assert_eq!(analysis.evaluation_criteria_results["goal_achieved"].result, "success");
    assert_eq!(analysis.data_collection_results["callback_time"].value, "tomorrow morning");
    assert!(!analysis.transcript_summary.is_empty());
    let vars = data.conversation_initiation_client_data.unwrap().dynamic_variables;
    assert_eq!((vars["name"].as_str(), vars["campaign_id"].as_str()), (Some("Ann"), Some("camp-1")));

    let rest: Value = reqwest::Client::new()
        .get(format!("{}/v1/convai/conversations/{}", sb.base_url(), log.conversation_id))
        .header("xi-api-key", DEFAULT_XI_API_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rest, envelope.data, "REST serves the same conversation as the webhook");
    let unauthorized =
        reqwest::get(format!("{}/v1/convai/conversations/{}", sb.base_url(), log.conversation_id))
            .await
            .unwrap();
    assert_eq!(unauthorized.status(), 401);

    let amd = app.received_at("/amd");
    assert_eq!(amd.len(), 1);
    assert_eq!(amd[0].param("AnsweredBy"), Some("human"));
    assert!(amd[0].param("MachineDetectionDuration").unwrap().parse::<u64>().unwrap() > 0);
    assert!(amd[0].signature_valid);
    check_recording(&sb, &app, &call).await;
}

async fn check_recording(sb: &sandbox::SandboxHandle, app: &App, call: &sandbox::CallRecord) {
    let got = app.wait(5 * SECS, |r| r.iter().filter(|r| r.path == "/recording").count() == 2).await;
    let recs: Vec<_> = app.received_at("/recording");
    assert_eq!(recs[0].param("RecordingStatus"), Some("in-progress"));
    let done = &recs[1];
    assert_eq!(done.param("RecordingStatus"), Some("completed"));
    assert_eq!(done.param("RecordingSource"), Some("OutboundAPI"));
    assert_eq!(done.param("RecordingChannels"), Some("2"));
    assert!(done.signature_valid);
    let completed_at = got.iter().position(|r| r.param("CallStatus") == Some("completed")).unwrap();
    let recording_at = got.iter().position(|r| r.param("RecordingStatus") == Some("completed")).unwrap();
    assert!(completed_at < recording_at, "recording callback after the terminal call callback");
    let url = done.param("RecordingUrl").unwrap().to_owned();
    let rec_sid = done.param("RecordingSid").unwrap();
    assert_eq!(
        url,
        format!("{}/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}/Recordings/{rec_sid}", sb.base_url())
    );
    assert_eq!(call.recording.as_ref().unwrap().sid, rec_sid);
    let http = reqwest::Client::new();
    let res = http.get(&url).basic_auth(DEFAULT_ACCOUNT_SID, Some(DEFAULT_AUTH_TOKEN)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "audio/x-wav");
    assert_eq!(res.headers()["accept-ranges"], "bytes");
    let wav = res.bytes().await.unwrap();
    let (rate, samples) = sandbox::audio::wav::decode(&wav).unwrap();
    assert_eq!((rate, sandbox::audio::wav::channels(&wav)), (8000, Some(2)));
    let secs: u64 = done.param("RecordingDuration").unwrap().parse().unwrap();
    assert_eq!((samples.len() as u64 / 2 + 4000) / 8000, secs);
    for (channel, who) in [(0, "callee"), (1, "agent")] {
        let track: Vec<i16> = samples.iter().skip(channel).step_by(2).copied().collect();
        let loud = track.chunks(1600).filter(|c| common::audio::rms(c) > 1000.0).count();
        assert!(loud >= 5, "the {who} is audible on channel {}: {loud} loud 200 ms windows", channel + 1);
    }
    let part = http
        .get(format!("{url}.wav"))
        .basic_auth(DEFAULT_ACCOUNT_SID, Some(DEFAULT_AUTH_TOKEN))
        .header("range", "bytes=0-99")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(part.headers()["content-range"], format!("bytes 0-99/{}", wav.len()));
    assert_eq!(part.bytes().await.unwrap(), wav.slice(0..100));
    let meta: Value = http
        .get(format!("{url}.json"))
        .basic_auth(DEFAULT_ACCOUNT_SID, Some(DEFAULT_AUTH_TOKEN))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (meta["status"].as_str(), meta["duration"].as_str()),
        (Some("completed"), Some(secs.to_string().as_str()))
    );
    assert_eq!(meta["call_sid"], call.sid.as_str());
    let mp3 = http
        .get(format!("{url}.mp3"))
        .basic_auth(DEFAULT_ACCOUNT_SID, Some(DEFAULT_AUTH_TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(mp3.status(), 404);
    assert_eq!(mp3.json::<Value>().await.unwrap()["code"], 20404);
    assert_eq!(http.get(&url).send().await.unwrap().status(), 401, "media needs Basic auth");
}

#[tokio::test]
async fn voicemail_left_after_the_beep_is_recorded() {
    let mut app = App::start().await;
    let sb = sandbox(10.0).await;
    app.twiml("/twiml", &stream_doc(&app));
    let amd_cb = app.url("/amd");
    let extra = [
        ("Record", "true"),
        ("MachineDetection", "DetectMessageEnd"),
        ("AsyncAmd", "true"),
        ("AsyncAmdStatusCallback", amd_cb.as_str()),
    ];
    let tw = Twilio::new(&sb);
    let sid = tw.create(&app, sandbox::scenario::builtin::VOICEMAIL, &extra).await;
    let mut conn = app.next_ws().await;
    let amd = app.wait(15 * SECS, |r| r.iter().any(|r| r.path == "/amd")).await;
    let amd = amd.iter().find(|r| r.path == "/amd").unwrap();
    assert_eq!(amd.param("AnsweredBy"), Some("machine_end_beep"));
    assert!(!sb.call(&sid).unwrap().voicemail_message_received, "nothing said yet");
    let message =
        "<Response><Say>Hi Sam, this is Sunrise Energy. Please call us back.</Say><Hangup/></Response>";
    let (status, _) = tw.post(&tw.call_url(&sid), &[("Twiml", message)]).await;
    assert_eq!(status, 200);
    loop {
        match tokio::time::timeout(5 * SECS, conn.rx.recv()).await.unwrap() {
            Some(Some(t)) if t.contains("\"stop\"") => break,
            Some(Some(_)) => {}
            _ => panic!("stream closed without stop"),
        }
    }
    let call = sb.wait_call_ended(&sid, 15 * SECS).await.unwrap();
    assert_eq!(call.end_reason, Some(EndReason::TwimlHangup));
    assert!(call.voicemail_message_received);
    assert_eq!(call.says.len(), 1);
    let wav = sb.recording_wav(&call.recording.unwrap().sid).unwrap();
    let (_, samples) = sandbox::audio::wav::decode(&wav).unwrap();
    let tail = &samples[samples.len().saturating_sub(16_000)..samples.len() - 2400];
    assert!(common::audio::rms(tail) > 1000.0, "the message is audible at the end of the recording");
}

#[tokio::test]
async fn interruptions_clear_twilio_playback_and_the_agent_can_end_the_call() {
    let mut app = App::start().await;
    let sb = sandbox_with(|c| {
        c.speed = 10.0;
        short_scenario(NUMBER, c, |s| {
            s.script.first_message =
                "Let me tell you all about our wonderful new electricity plan today.".into();
            s.human.interrupt_after_ms = Some(1000);
            s.human.hangup_after_script = false;
            s.agent.end_call_after_script = true;
        });
    })
    .await;
    app.twiml("/twiml", &stream_doc(&app));
    let sid = Twilio::new(&sb).create(&app, NUMBER, &[]).await;
    let conn = app.next_ws().await;
    let log = bridge::run(&sb, conn, json!({"name": "Ann"})).await;
    assert_eq!(log.agent_close, Some(1000), "{log:?}");
    assert!(log.clears_sent >= 1);
    let call = sb.wait_call_ended(&sid, 10 * SECS).await.unwrap();
    assert_eq!(call.end_reason, Some(EndReason::RestCompleted));
    let s = &call.streams[0];
    assert!(s.clears_received >= 1 && s.mark_echoes.iter().any(|m| m.cleared), "{s:?}");
    let conv = sb.wait_conversation(5 * SECS, |c| c.status == "done").await.unwrap();
    assert!(conv.interruptions >= 1);
    assert!(conv.transcript[0].interrupted);
    assert!(conv.end_call_sent);
    assert_eq!(conv.scenario, format!("short-{NUMBER}"), "found through call_sid");
}

#[tokio::test]
async fn synchronous_amd_delays_the_twiml_fetch_and_adds_answered_by() {
    let app = App::start().await;
    let sb = sandbox(10.0).await;
    app.twiml("/twiml", "<Response><Hangup/></Response>");
    let sid = Twilio::new(&sb)
        .create(&app, sandbox::scenario::builtin::FAX, &[("MachineDetection", "Enable")])
        .await;
    let call = sb.wait_call_ended(&sid, 10 * SECS).await.unwrap();
    let fetch = &app.received_at("/twiml")[0];
    assert_eq!(fetch.param("AnsweredBy"), Some("fax"));
    assert!(call.amd_duration_ms.unwrap() >= 100, "fetch waited for detection");
    assert!(app.received().iter().all(|r| r.path != "/amd"), "no async callback in sync mode");
}
