//! The built-in conversation scenarios at real-time audio speed, run concurrently through the
//! test bridge (about 20 s): what the end-to-end tests and the demo will see for each number.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use sandbox::EndReason;
use sandbox::scenario::builtin;
use serde_json::json;
use std::time::Duration;
use support::*;

#[tokio::test]
async fn conversation_scenarios_end_the_way_the_table_says() {
    let mut app = App::start().await;
    let sb = sandbox(10.0).await;
    let doc = format!(r#"<Response><Connect><Stream url="{}"/></Connect><Hangup/></Response>"#, app.ws_url());
    app.twiml("/twiml", &doc);
    let tw = Twilio::new(&sb);
    let numbers = [
        builtin::NORMAL,
        builtin::INTERRUPTER,
        builtin::HANGUP_MID_SENTENCE,
        builtin::AGENT_ENDS,
        builtin::AGENT_FAIL_CONNECT,
        builtin::AGENT_FAIL_MIDCALL,
        builtin::VOICEMAIL,
        builtin::FAX,
    ];
    let mut sids = Vec::new();
    for n in numbers {
        sids.push(tw.create(&app, n, &[]).await);
    }
    let mut bridges = Vec::new();
    for _ in numbers {
        let conn = app.next_ws().await;
        let sb_ref = &sb;
        bridges.push(async move { bridge::run(sb_ref, conn, json!({"name": "Ann"})).await });
    }
    futures_util::future::join_all(bridges).await;
    let mut ended = Vec::new();
    for sid in &sids {
        ended.push(sb.wait_call_ended(sid, Duration::from_secs(60)).await.expect("every call ends"));
    }
    let conv = |sid: &str| {
        let id = sb.call(sid).unwrap().conversation_ids[0].clone();
        sb.conversation(&id).unwrap()
    };
    let script = sandbox::script::Script::default();

    assert_eq!(ended[0].end_reason, Some(EndReason::CalleeHangup), "normal");
    let normal = conv(&sids[0]);
    assert_eq!(normal.lines("user"), script.turns.iter().map(|t| t.user.as_str()).collect::<Vec<_>>());
    assert_eq!(normal.lines("agent").len(), 3);
    assert_eq!(normal.interruptions, 0, "a polite caller never interrupts");
    let talk = ended[0].duration_secs.unwrap();
    assert!((8..=25).contains(&talk), "normal conversation lasted {talk} s");

    assert!(conv(&sids[1]).interruptions >= 1, "interrupter");
    assert!(ended[1].streams[0].clears_received >= 1);

    assert_eq!(ended[2].end_reason, Some(EndReason::CalleeHangup), "hangup mid-sentence");
    assert_eq!(conv(&sids[2]).lines("user").len(), 1, "the second line was cut off");

    assert_eq!(ended[3].end_reason, Some(EndReason::RestCompleted), "agent ends the call");
    assert!(conv(&sids[3]).end_call_sent);

    assert_eq!(ended[4].end_reason, Some(EndReason::TwimlHangup), "agent fails at connect: stream closed");
    assert_eq!(conv(&sids[4]).close_code, Some(1011));
    assert!(conv(&sids[4]).transcript.is_empty());

    assert_eq!(ended[5].end_reason, Some(EndReason::TwimlHangup), "agent fails mid-call");
    let midcall = conv(&sids[5]);
    assert_eq!((midcall.close_code, midcall.lines("user").len()), (Some(1002), 1));

    assert_eq!(ended[6].end_reason, Some(EndReason::CalleeHangup), "voicemail hangs up after the message");
    assert!(ended[6].voicemail_message_received, "the agent left a message after the beep");
    let vm = conv(&sids[6]);
    let greeting = sandbox::scenario::VoicemailBehaviour::default().greeting;
    assert_eq!(
        vm.lines("user"),
        vec![greeting.as_str()],
        "the greeting is transcribed once, the beep is not"
    );
    assert_eq!(vm.lines("agent").get(1), Some(&script.voicemail_message.as_str()), "{vm:#?}");

    assert_eq!(ended[7].end_reason, Some(EndReason::CalleeHangup), "the fax gives up");
    assert!(conv(&sids[7]).lines("user").is_empty(), "fax tones are not speech");
}
