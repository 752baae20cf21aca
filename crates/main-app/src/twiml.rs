//! TwiML documents (protocol reference §4), built with an XML writer so every interpolated value
//! is escaped. The replaced system pasted prompts into `<Parameter value="…">` raw, which let a
//! quote in a prompt inject TwiML; here values never leave an attribute.
//!
//! The stream carries only ids: the call id and a short-lived token bound to it. media-proxy
//! fetches the prompt and variables from main-app with that token (`/internal/stream-context`),
//! so no prompt travels through Twilio or its logs.

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};

/// A verb of the documents we serve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verb {
    /// `<Connect><Stream url=…><Parameter …/></Stream></Connect>`.
    ConnectStream {
        /// `wss://…/outbound-media-stream`.
        url: String,
        /// `<Parameter name value>` pairs.
        parameters: Vec<(String, String)>,
        /// `statusCallback`: where Twilio reports the stream starting, stopping or failing.
        status_callback: Option<String>,
    },
    /// `<Say>text</Say>`.
    Say(String),
    /// `<Pause length="n"/>`.
    Pause(u32),
    /// `<Hangup/>`.
    Hangup,
}

/// Renders `<?xml …?><Response>…</Response>`.
pub fn render(verbs: &[Verb]) -> String {
    let mut w = Writer::new(Vec::with_capacity(512));
    // Writing to a Vec cannot fail; the expects document that.
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None))).expect("write to Vec");
    w.create_element("Response")
        .write_inner_content(|w| {
            for verb in verbs {
                write_verb(w, verb)?;
            }
            Ok(())
        })
        .expect("write to Vec");
    String::from_utf8(w.into_inner()).expect("quick-xml writes UTF-8")
}

fn write_verb(w: &mut Writer<Vec<u8>>, verb: &Verb) -> std::io::Result<()> {
    match verb {
        Verb::ConnectStream { url, parameters, status_callback } => {
            w.create_element("Connect").write_inner_content(|w| {
                let mut stream = w.create_element("Stream").with_attribute(("url", url.as_str()));
                if let Some(cb) = status_callback {
                    stream = stream
                        .with_attribute(("statusCallback", cb.as_str()))
                        .with_attribute(("statusCallbackMethod", "POST"));
                }
                stream.write_inner_content(|w| {
                    for (name, value) in parameters {
                        w.create_element("Parameter")
                            .with_attribute(("name", name.as_str()))
                            .with_attribute(("value", value.as_str()))
                            .write_empty()?;
                    }
                    Ok(())
                })?;
                Ok(())
            })?;
        }
        Verb::Say(text) => {
            w.create_element("Say").write_text_content(BytesText::new(text))?;
        }
        Verb::Pause(secs) => {
            w.create_element("Pause").with_attribute(("length", secs.to_string().as_str())).write_empty()?;
        }
        Verb::Hangup => {
            w.create_element("Hangup").write_empty()?;
        }
    }
    Ok(())
}

/// The document for an answered call: bridge to media-proxy (Twilio reports the stream's start,
/// stop or failure to `status_callback`), then hang up when the stream ends (so a stream that
/// closes for any reason never leaves the line open).
pub fn connect_stream(media_proxy_url: &str, call_id: &str, token: &str, status_callback: &str) -> String {
    render(&[
        Verb::ConnectStream {
            url: format!("{}/outbound-media-stream", media_proxy_url.trim_end_matches('/')),
            parameters: vec![("callId".into(), call_id.into()), ("token".into(), token.into())],
            status_callback: Some(status_callback.to_owned()),
        },
        Verb::Hangup,
    ])
}

/// The apology served by `/fallback-twiml` and for calls we cannot bridge.
pub fn apology() -> String {
    render(&[Verb::Say("We're sorry, we could not connect this call. Goodbye.".into()), Verb::Hangup])
}

#[cfg(test)]
mod tests {
    use super::*;
    use quick_xml::Reader;
    use quick_xml::events::Event;

    /// Parses a document back and returns every `Parameter`'s (name, value).
    fn parameters(xml: &str) -> Vec<(String, String)> {
        let mut reader = Reader::from_str(xml);
        let mut out = Vec::new();
        loop {
            match reader.read_event().expect("well-formed XML") {
                Event::Empty(e) if e.name().as_ref() == b"Parameter" => {
                    let get = |key: &[u8]| {
                        e.attributes()
                            .flatten()
                            .find(|a| a.key.as_ref() == key)
                            .map(|a| a.unescape_value().expect("valid escape").into_owned())
                            .expect("attribute present")
                    };
                    out.push((get(b"name"), get(b"value")));
                }
                Event::Eof => break,
                _ => {}
            }
        }
        out
    }

    fn count(xml: &str, tag: &[u8]) -> usize {
        let mut reader = Reader::from_str(xml);
        let mut n = 0;
        loop {
            match reader.read_event().expect("well-formed XML") {
                Event::Empty(e) | Event::Start(e) if e.name().as_ref() == tag => n += 1,
                Event::Eof => return n,
                _ => {}
            }
        }
    }

    #[test]
    fn injection_attempt_stays_one_attribute_value() {
        let evil = r#""/><Hangup/><Parameter name="x"#;
        let xml = render(&[Verb::ConnectStream {
            url: "wss://media.example.com/outbound-media-stream".into(),
            parameters: vec![("prompt".into(), evil.into())],
            status_callback: None,
        }]);
        assert_eq!(parameters(&xml), vec![("prompt".to_owned(), evil.to_owned())]);
        assert_eq!(count(&xml, b"Hangup"), 0, "{xml}");
        assert_eq!(count(&xml, b"Parameter"), 1, "{xml}");
    }

    #[test]
    fn connect_stream_document_has_ids_and_hangs_up_after() {
        let xml = connect_stream(
            "wss://media.example.com/",
            "0190-id",
            "tok&en<>",
            "https://app.example/stream-status-callback?call=0190-id&x=1",
        );
        assert!(xml.starts_with(r#"<?xml version="1.0" encoding="UTF-8"?><Response><Connect><Stream url="wss://media.example.com/outbound-media-stream" statusCallback="https://app.example/stream-status-callback?call=0190-id&amp;x=1" statusCallbackMethod="POST">"#), "{xml}");
        assert_eq!(
            parameters(&xml),
            vec![("callId".to_owned(), "0190-id".to_owned()), ("token".to_owned(), "tok&en<>".to_owned())]
        );
        assert!(xml.ends_with("</Connect><Hangup/></Response>"), "{xml}");
    }

    #[test]
    fn say_text_is_escaped() {
        let xml = render(&[Verb::Say("Tom & Jerry <3".into()), Verb::Pause(2), Verb::Hangup]);
        assert_eq!(
            xml,
            r#"<?xml version="1.0" encoding="UTF-8"?><Response><Say>Tom &amp; Jerry &lt;3</Say><Pause length="2"/><Hangup/></Response>"#
        );
    }
}
