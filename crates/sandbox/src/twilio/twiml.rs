//! TwiML documents (§4), parsed with an XML reader into the verbs the simulator executes.
//!
//! Supported: `<Say>` (with `loop`), `<Pause length>`, `<Hangup/>`, `<Reject/>`,
//! `<Connect action method><Stream url name><Parameter name value/></Stream></Connect>`,
//! `<Redirect method>url</Redirect>`. Other verbs are kept as [`Verb::Unsupported`] and skipped,
//! including `<Start><Stream>`: the simulator has no unidirectional streams (`docs/sandbox.md`).
//! Relative URLs are resolved against the document's URL, as Twilio does. An invalid document
//! is error 12100.

use super::params::{Hook, HttpMethod};
use quick_xml::events::{BytesStart, Event};

/// One instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verb {
    /// Speak text (`loop` times; 0 is treated as 1).
    Say {
        /// The text.
        text: String,
        /// Repetitions.
        loops: u32,
    },
    /// Silence.
    Pause {
        /// Seconds (default 1).
        secs: u32,
    },
    /// End the call.
    Hangup,
    /// Refuse the call (ends it).
    Reject,
    /// Bidirectional stream; blocks until the stream ends.
    Connect {
        /// The stream, if the `<Connect>` holds one.
        stream: Option<StreamSpec>,
        /// Requested when the stream ends; its TwiML replaces the rest of this document.
        action: Option<Hook>,
    },
    /// Continue with the TwiML at a URL.
    Redirect(Hook),
    /// A verb the simulator does not execute.
    Unsupported(String),
}

/// `<Stream>` inside `<Connect>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamSpec {
    /// `url` attribute as written.
    pub url: String,
    /// `name` attribute.
    pub name: Option<String>,
    /// `<Parameter>` children in order.
    pub parameters: Vec<(String, String)>,
    /// `statusCallback` (+ `statusCallbackMethod`): where `stream-started`, `stream-stopped` and
    /// `stream-error` are reported (§2.6).
    pub status_callback: Option<Hook>,
}

/// Why a document was refused (Twilio error 12100).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("TwiML parse error (12100): {0}")]
pub struct TwimlError(pub String);

#[derive(Debug, Default)]
struct Element {
    name: String,
    attrs: Vec<(String, String)>,
    text: String,
    children: Vec<Element>,
}

impl Element {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

fn err(e: impl std::fmt::Display) -> TwimlError {
    TwimlError(e.to_string())
}

fn open(e: &BytesStart<'_>) -> Result<Element, TwimlError> {
    let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
    let mut attrs = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(err)?;
        let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
        attrs.push((key, a.unescape_value().map_err(err)?.into_owned()));
    }
    Ok(Element { name, attrs, ..Element::default() })
}

fn parse_tree(doc: &str) -> Result<Element, TwimlError> {
    let mut reader = quick_xml::Reader::from_str(doc);
    reader.config_mut().expand_empty_elements = true;
    let mut stack: Vec<Element> = Vec::new();
    loop {
        match reader.read_event().map_err(err)? {
            Event::Start(e) => stack.push(open(&e)?),
            Event::End(_) => {
                let done = stack.pop().ok_or_else(|| TwimlError("unbalanced end tag".into()))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => return Ok(done),
                }
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.xml_content().map_err(err)?);
                } else if !t.xml_content().map_err(err)?.trim().is_empty() {
                    return Err(TwimlError("text outside the root element".into()));
                }
            }
            Event::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.decode().map_err(err)?);
                }
            }
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref().map_err(err)? {
                    Some(c) => c.to_string(),
                    None => {
                        let name = r.decode().map_err(err)?;
                        quick_xml::escape::resolve_predefined_entity(&name)
                            .ok_or_else(|| TwimlError(format!("unknown entity &{name};")))?
                            .to_owned()
                    }
                };
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&resolved);
                }
            }
            Event::Eof => return Err(TwimlError("document ended before </Response>".into())),
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_) | Event::Empty(_) => {}
        }
    }
}

fn method(attr: Option<&str>) -> HttpMethod {
    if attr.is_some_and(|m| m.eq_ignore_ascii_case("GET")) { HttpMethod::Get } else { HttpMethod::Post }
}

fn resolve(base: Option<&str>, url: &str) -> Result<String, TwimlError> {
    if url::Url::parse(url).is_ok() {
        return Ok(url.to_owned());
    }
    let base = base.ok_or_else(|| TwimlError(format!("relative URL {url} in inline TwiML")))?;
    let joined = url::Url::parse(base).and_then(|b| b.join(url)).map_err(err)?;
    Ok(joined.to_string())
}

fn verb(e: &Element, base: Option<&str>) -> Result<Verb, TwimlError> {
    Ok(match e.name.as_str() {
        "Say" => Verb::Say {
            text: e.text.trim().to_owned(),
            loops: e.attr("loop").and_then(|l| l.parse().ok()).unwrap_or(1u32).max(1),
        },
        "Pause" => Verb::Pause { secs: e.attr("length").and_then(|l| l.parse().ok()).unwrap_or(1) },
        "Hangup" => Verb::Hangup,
        "Reject" => Verb::Reject,
        "Redirect" => {
            Verb::Redirect(Hook { url: resolve(base, e.text.trim())?, method: method(e.attr("method")) })
        }
        "Connect" => {
            let stream = match e.children.iter().find(|c| c.name == "Stream") {
                None => None,
                Some(s) => Some(StreamSpec {
                    url: s.attr("url").ok_or_else(|| TwimlError("<Stream> without url".into()))?.to_owned(),
                    name: s.attr("name").map(str::to_owned),
                    parameters: s
                        .children
                        .iter()
                        .filter(|p| p.name == "Parameter")
                        .filter_map(|p| {
                            Some((p.attr("name")?.to_owned(), p.attr("value").unwrap_or("").to_owned()))
                        })
                        .collect(),
                    status_callback: match s.attr("statusCallback") {
                        Some(u) => Some(Hook {
                            url: resolve(base, u)?,
                            method: method(s.attr("statusCallbackMethod")),
                        }),
                        None => None,
                    },
                }),
            };
            let action = match e.attr("action") {
                Some(a) => Some(Hook { url: resolve(base, a)?, method: method(e.attr("method")) }),
                None => None,
            };
            Verb::Connect { stream, action }
        }
        other => Verb::Unsupported(other.to_owned()),
    })
}

/// Parses a document fetched from `base` (or inline when `None`).
pub fn parse(doc: &str, base: Option<&str>) -> Result<Vec<Verb>, TwimlError> {
    let root = parse_tree(doc)?;
    if root.name != "Response" {
        return Err(TwimlError(format!("root element is <{}>, expected <Response>", root.name)));
    }
    root.children.iter().map(|c| verb(c, base)).collect()
}

#[cfg(test)]
mod tests;
