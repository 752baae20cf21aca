//! Getting a call's TwiML: inline, or a signed request to its URL (§2.1), falling back to
//! `FallbackUrl` when the call's `Url` cannot be fetched or parsed. Every document (or failure)
//! is logged in the call record.

use super::call::CallCtx;
use super::callbacks::send_signed;
use super::params::{Hook, TwimlSource};
use super::record::TwimlFetch;
use super::twiml::{self, Verb};
use chrono::Utc;
use secrecy::ExposeSecret;
use std::time::Duration;

/// Longest TwiML response Twilio waits for.
const FETCH_TIMEOUT: Duration = Duration::from_secs(15);

fn log(
    ctx: &CallCtx,
    source: &str,
    url: Option<String>,
    status: Option<u16>,
    body: Option<String>,
    error: Option<String>,
) {
    let entry =
        TwimlFetch { source: source.to_owned(), url, http_status: status, body, error, at: Utc::now() };
    ctx.entry.update(|r| r.twiml.push(entry));
}

async fn fetch(
    ctx: &CallCtx,
    hook: &Hook,
    kind: &str,
    extra: Vec<(String, String)>,
) -> Result<Vec<Verb>, String> {
    let mut params = ctx.base_params("in-progress");
    params.extend(extra);
    let (url, result) =
        send_signed(&ctx.state.http, ctx.token.expose_secret(), hook, &params, FETCH_TIMEOUT).await;
    match result {
        Err(e) => {
            log(ctx, kind, Some(url), None, None, Some(format!("11200: {e}")));
            Err("11200".to_owned())
        }
        Ok((status, body)) if !(200..300).contains(&status) => {
            log(ctx, kind, Some(url), Some(status), Some(body), Some(format!("11200: HTTP {status}")));
            Err("11200".to_owned())
        }
        Ok((status, body)) => match twiml::parse(&body, Some(&hook.url)) {
            Ok(verbs) => {
                log(ctx, kind, Some(url), Some(status), Some(body), None);
                Ok(verbs)
            }
            Err(e) => {
                log(ctx, kind, Some(url), Some(status), Some(body), Some(e.to_string()));
                Err("12100".to_owned())
            }
        },
    }
}

/// Loads the TwiML of `source`; `kind` says why (`url`, `redirect`, `action`). `None` when no
/// document could be obtained (the call then ends with `twiml_error`).
pub(crate) async fn load(ctx: &CallCtx, source: &TwimlSource, kind: &str) -> Option<Vec<Verb>> {
    match source {
        TwimlSource::Inline(doc) => match twiml::parse(doc, None) {
            Ok(verbs) => {
                log(ctx, "inline", None, None, Some(doc.clone()), None);
                Some(verbs)
            }
            Err(e) => {
                log(ctx, "inline", None, None, Some(doc.clone()), Some(e.to_string()));
                None
            }
        },
        TwimlSource::Url(hook) => match fetch(ctx, hook, kind, vec![]).await {
            Ok(verbs) => Some(verbs),
            Err(code) => {
                let fallback = ctx.req.fallback.as_ref().filter(|_| kind == "url")?;
                let extra = vec![("ErrorCode".to_owned(), code), ("ErrorUrl".to_owned(), hook.url.clone())];
                fetch(ctx, fallback, "fallback", extra).await.ok()
            }
        },
    }
}
