use super::*;
use crate::config::{DEFAULT_FROM_NUMBER, TwilioAccount};

fn form(pairs: &[(&str, &str)]) -> Form {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

fn base() -> Vec<(&'static str, &'static str)> {
    vec![("To", "+61491570101"), ("From", DEFAULT_FROM_NUMBER), ("Url", "http://app/twiml?call=1")]
}

fn parse(pairs: &[(&str, &str)]) -> Result<CreateCall, TwilioError> {
    CreateCall::parse(&form(pairs), &TwilioAccount::default_account())
}

#[test]
fn parses_what_main_app_sends() {
    let mut p = base();
    p.extend([
        ("Method", "POST"),
        ("StatusCallback", "http://app/call-status-callback"),
        ("StatusCallbackMethod", "POST"),
        ("StatusCallbackEvent", "initiated"),
        ("StatusCallbackEvent", "ringing"),
        ("StatusCallbackEvent", "answered"),
        ("StatusCallbackEvent", "completed"),
        ("Timeout", "25"),
        ("TimeLimit", "600"),
        ("Record", "true"),
        ("RecordingStatusCallback", "http://app/recording-status-callback"),
        ("RecordingStatusCallbackEvent", "in-progress completed absent"),
        ("MachineDetection", "DetectMessageEnd"),
        ("AsyncAmd", "true"),
        ("AsyncAmdStatusCallback", "http://app/amd-status-callback"),
        ("FallbackUrl", "http://app/fallback-twiml"),
    ]);
    let c = parse(&p).expect("valid");
    assert_eq!(c.to.as_str(), "+61491570101");
    assert_eq!(c.status_events.len(), 4);
    assert_eq!(c.recording_events, vec!["in-progress", "completed", "absent"]);
    assert!(c.wants_status("ringing") && c.wants_recording("in-progress"));
    assert_eq!((c.timeout_secs, c.time_limit_secs, c.record, c.async_amd), (25, 600, true, true));
    assert_eq!(c.amd, Some(AmdMode::DetectMessageEnd));
    assert!(matches!(c.twiml, TwimlSource::Url(Hook { method: HttpMethod::Post, .. })));
    assert!(c.fallback.is_some() && c.amd_callback.is_some());
}

#[test]
fn defaults_subscribe_only_completed() {
    let mut p = base();
    p.push(("StatusCallback", "https://app/cb"));
    let c = parse(&p).expect("valid");
    assert!(c.wants_status("completed") && !c.wants_status("ringing"));
    assert!(!c.wants_recording("completed"), "no recording callback URL");
    assert_eq!((c.timeout_secs, c.amd), (60, None));
}

#[test]
fn validation_errors_have_twilio_codes() {
    let code = |pairs: &[(&str, &str)]| parse(pairs).map(|_| ()).expect_err("must fail").code;
    assert_eq!(code(&[("From", DEFAULT_FROM_NUMBER), ("Url", "http://a/")]), 21201);
    assert_eq!(code(&[("To", "+1555"), ("From", DEFAULT_FROM_NUMBER), ("Url", "http://a/")]), 21211);
    assert_eq!(code(&[("To", "0491570101"), ("From", DEFAULT_FROM_NUMBER), ("Url", "http://a/")]), 21211);
    assert_eq!(code(&[("To", "+61491570101"), ("From", "+61491570102"), ("Url", "http://a/")]), 21210);
    assert_eq!(code(&[("To", "+61491570101"), ("Url", "http://a/")]), 21603);
    assert_eq!(code(&[("To", "+61491570101"), ("From", DEFAULT_FROM_NUMBER)]), 21205);
    assert_eq!(code(&[("To", "+61491570101"), ("From", DEFAULT_FROM_NUMBER), ("Url", "ftp://x")]), 21205);
    let mut p = base();
    p.push(("StatusCallbackEvent", "answerd"));
    assert_eq!(code(&p), 20001);
}

#[test]
fn inline_twiml_is_limited_and_updates_parse() {
    let long = "x".repeat(4001);
    let p = [("To", "+61491570101"), ("From", DEFAULT_FROM_NUMBER), ("Twiml", long.as_str())];
    assert!(parse(&p).is_err());
    let p = [("To", "+61491570101"), ("From", DEFAULT_FROM_NUMBER), ("Twiml", "<Response/>")];
    assert!(matches!(parse(&p).expect("ok").twiml, TwimlSource::Inline(_)));
    assert_eq!(Update::parse(&form(&[("Status", "completed")])), Ok(Update::End { cancel: false }));
    assert_eq!(Update::parse(&form(&[("Status", "canceled")])), Ok(Update::End { cancel: true }));
    assert!(matches!(
        Update::parse(&form(&[("Twiml", "<Response><Hangup/></Response>")])),
        Ok(Update::Redirect(TwimlSource::Inline(_)))
    ));
    assert!(Update::parse(&form(&[("Twiml", "<Response/>"), ("Url", "http://a/")])).is_err());
    assert!(Update::parse(&form(&[("Status", "busy")])).is_err());
    assert!(Update::parse(&form(&[])).is_err());
}
