//! Signed HTTP requests from the simulated Twilio: status, AMD and recording callbacks, and TwiML
//! fetches (§2, §3).
//!
//! Every request carries `X-Twilio-Signature` computed with the account's auth token over exactly
//! the URL requested plus, for POST, the sorted form parameters (for GET the parameters are in
//! the query string and nothing is appended). Callbacks of one call go through one queue served by
//! one worker, so they arrive in order unless a test mode shuffles, delays or duplicates them.

use super::params::{Hook, HttpMethod};
use super::record::CallbackLog;
use super::registry::CallEntry;
use crate::config::CallbackTestModes;
use crate::state::AppState;
use chrono::Utc;
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Callbacks queued per call before the actor starts dropping them (never reached in practice:
/// a call produces a dozen).
const QUEUE: usize = 64;

/// One callback to deliver.
#[derive(Debug, Clone)]
pub(crate) struct Callback {
    /// `status`, `amd`, `recording`.
    pub kind: &'static str,
    /// Where.
    pub hook: Hook,
    /// Form parameters.
    pub params: Vec<(String, String)>,
}

/// The sending side of a call's callback queue.
#[derive(Clone)]
pub(crate) struct CallbackQueue(mpsc::Sender<Callback>);

impl CallbackQueue {
    /// Queues a callback; it is dropped (and logged) only if the queue is full.
    pub fn send(&self, cb: Callback) {
        if let Err(e) = self.0.try_send(cb) {
            tracing::warn!(error = %e, "callback queue full, callback dropped");
        }
    }
}

/// The URL to request and the signature for a hook and its parameters.
pub(crate) fn signed_request(token: &str, hook: &Hook, params: &[(String, String)]) -> (String, String) {
    match hook.method {
        HttpMethod::Post => (hook.url.clone(), common::signature::twilio_signature(token, &hook.url, params)),
        HttpMethod::Get => {
            let query = serde_urlencoded::to_string(params).unwrap_or_default();
            let sep = if hook.url.contains('?') { '&' } else { '?' };
            let url = if query.is_empty() { hook.url.clone() } else { format!("{}{sep}{query}", hook.url) };
            let sig = common::signature::twilio_signature(token, &url, &[]);
            (url, sig)
        }
    }
}

/// Sends one signed request; returns the final URL, the status and the body (or the error).
pub(crate) async fn send_signed(
    http: &reqwest::Client,
    token: &str,
    hook: &Hook,
    params: &[(String, String)],
    timeout: Duration,
) -> (String, Result<(u16, String), String>) {
    let (url, signature) = signed_request(token, hook, params);
    let req = match hook.method {
        HttpMethod::Post => http.post(&url).form(params),
        HttpMethod::Get => http.get(&url),
    };
    let result = async {
        let res = req.header("X-Twilio-Signature", signature).timeout(timeout).send().await?;
        let status = res.status().as_u16();
        let body = res.text().await?;
        Ok::<_, reqwest::Error>((status, body))
    }
    .await
    .map_err(|e| e.without_url().to_string());
    (url, result)
}

/// Starts the worker of one call's callbacks.
pub(crate) fn spawn_worker(state: AppState, entry: Arc<CallEntry>, token: SecretString) -> CallbackQueue {
    let (tx, mut rx) = mpsc::channel::<Callback>(QUEUE);
    tokio::spawn(async move {
        let modes = state.config.test_modes;
        while let Some(cb) = rx.recv().await {
            if modes.shuffle {
                let jitter = Duration::from_millis(rand::random_range(0..=400));
                let (state, entry, token) = (state.clone(), entry.clone(), token.clone());
                tokio::spawn(async move {
                    tokio::time::sleep(jitter).await;
                    deliver(&state, &entry, token.expose_secret(), &cb, modes).await;
                });
            } else {
                deliver(&state, &entry, token.expose_secret(), &cb, modes).await;
            }
        }
    });
    CallbackQueue(tx)
}

async fn deliver(state: &AppState, entry: &CallEntry, token: &str, cb: &Callback, modes: CallbackTestModes) {
    if modes.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(modes.delay_ms)).await;
    }
    let copies = if modes.duplicate { 2 } else { 1 };
    for copy in 0..copies {
        let at = Utc::now();
        let (url, result) =
            send_signed(&state.http, token, &cb.hook, &cb.params, Duration::from_secs(10)).await;
        let (http_status, error) = match result {
            Ok((status, _)) => (Some(status), None),
            Err(e) => (None, Some(e)),
        };
        tracing::debug!(kind = cb.kind, ?http_status, ?error, "callback delivered");
        entry.update(|r| {
            r.callbacks.push(CallbackLog {
                kind: cb.kind.to_owned(),
                url,
                method: cb.hook.method.as_str().to_owned(),
                params: cb.params.clone(),
                http_status,
                error,
                duplicate: copy > 0,
                at,
            });
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn post_signs_url_and_params_get_signs_the_full_url() {
        let params =
            vec![("CallSid".to_owned(), "CA1".to_owned()), ("CallStatus".to_owned(), "ringing".to_owned())];
        let post = Hook { url: "https://app.test/cb?x=1".into(), method: HttpMethod::Post };
        let (url, sig) = signed_request("tok", &post, &params);
        assert_eq!(url, "https://app.test/cb?x=1");
        assert!(common::signature::validate_twilio("tok", &url, &params, &sig));
        let get = Hook { url: "https://app.test/cb?x=1".into(), method: HttpMethod::Get };
        let (url, sig) = signed_request("tok", &get, &params);
        assert_eq!(url, "https://app.test/cb?x=1&CallSid=CA1&CallStatus=ringing");
        assert!(common::signature::validate_twilio("tok", &url, &[], &sig));
        assert!(!common::signature::validate_twilio("tok", &url, &params, &sig));
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    /// Reference §3.4 (Twilio's SDK test vectors): what the sandbox puts in `X-Twilio-Signature`
    /// is what Twilio would.
    #[test]
    fn post_signatures_match_the_reference_vectors() {
        let hook =
            Hook { url: "https://mycompany.com/myapp.php?foo=1&bar=2".into(), method: HttpMethod::Post };
        let params = pairs(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+14158675309"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
        ]);
        let (url, sig) = signed_request("12345", &hook, &params);
        assert_eq!((url.as_str(), sig.as_str()), (hook.url.as_str(), "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
        let http =
            Hook { url: "http://mycompany.com:1234/myapp.php?foo=1&bar=2".into(), method: HttpMethod::Post };
        assert_eq!(signed_request("12345", &http, &params).1, "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=");
        let repeated = pairs(&[
            ("Sid", "CA123"),
            ("SidAccount", "AC123"),
            ("Digits", "5678"),
            ("Digits", "1234"),
            ("Digits", "1234"),
        ]);
        assert_eq!(signed_request("12345", &hook, &repeated).1, "IK+Dwps556ElfBT0I3Rgjkr1wJU=");
    }
}
