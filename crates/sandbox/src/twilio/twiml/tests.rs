use super::*;

#[test]
fn parses_the_document_main_app_serves() {
    let doc = r#"<?xml version="1.0" encoding="UTF-8"?>
<Response>
  <Connect>
    <Stream url="wss://proxy.example/outbound-media-stream" statusCallback="/stream-status-callback?call=1">
      <Parameter name="callId" value="0190c0de-0000-7000-8000-000000000001"/>
      <Parameter name="token" value="a&amp;b&quot;c&lt;"/>
    </Stream>
  </Connect>
  <Hangup/>
</Response>"#;
    let verbs = parse(doc, Some("http://app/outbound-call-twiml?call=1")).expect("valid");
    assert_eq!(verbs.len(), 2);
    let Verb::Connect { stream: Some(s), action: None } = &verbs[0] else {
        panic!("connect first: {verbs:?}")
    };
    assert_eq!(s.url, "wss://proxy.example/outbound-media-stream");
    assert_eq!(
        s.parameters,
        vec![
            ("callId".to_owned(), "0190c0de-0000-7000-8000-000000000001".to_owned()),
            ("token".to_owned(), "a&b\"c<".to_owned())
        ]
    );
    assert_eq!(verbs[1], Verb::Hangup);
    let hook = s.status_callback.as_ref().expect("statusCallback");
    assert_eq!(hook.url, "http://app/stream-status-callback?call=1", "resolved against the document's URL");
    assert_eq!(hook.method, HttpMethod::Post);
}

#[test]
fn say_pause_redirect_and_unknown_verbs() {
    let doc = "<Response><Say voice=\"alice\" loop=\"2\">Hello &amp; goodbye &#233;</Say><Pause length=\"3\"/>\
               <Pause/><Play>http://x/a.mp3</Play><Redirect method=\"GET\">/next?x=1</Redirect></Response>";
    let verbs = parse(doc, Some("https://app.example/twiml/first")).expect("valid");
    assert_eq!(verbs[0], Verb::Say { text: "Hello & goodbye é".into(), loops: 2 });
    assert_eq!(verbs[1], Verb::Pause { secs: 3 });
    assert_eq!(verbs[2], Verb::Pause { secs: 1 });
    assert_eq!(verbs[3], Verb::Unsupported("Play".into()));
    assert_eq!(
        verbs[4],
        Verb::Redirect(Hook { url: "https://app.example/next?x=1".into(), method: HttpMethod::Get })
    );
}

#[test]
fn connect_action_and_empty_documents() {
    let doc = r#"<Response><Connect action="https://app/after" method="POST"><Stream url="ws://p/s"/></Connect></Response>"#;
    let verbs = parse(doc, None).expect("valid");
    let Verb::Connect { stream: Some(_), action: Some(a) } = &verbs[0] else { panic!("{verbs:?}") };
    assert_eq!(a.url, "https://app/after");
    assert_eq!(parse("<Response/>", None), Ok(vec![]));
    assert_eq!(parse("<Response></Response>", None), Ok(vec![]));
}

#[test]
fn invalid_documents_are_refused() {
    assert!(parse("<Response><Say>unclosed</Response>", None).is_err());
    assert!(parse("<Reply><Hangup/></Reply>", None).is_err());
    assert!(parse("<Response><Say>a & b</Say></Response>", None).is_err(), "raw & is a parse failure");
    assert!(
        parse(r#"<Response><Connect><Stream url="wss://a/?x=1&y=2"/></Connect></Response>"#, None).is_err()
    );
    assert!(parse("<Response><Redirect>/relative</Redirect></Response>", None).is_err(), "no base URL");
    assert!(parse("", None).is_err());
    assert!(parse("<Response><Say>x</Say>", None).is_err());
}
