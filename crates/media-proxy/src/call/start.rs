//! The first seconds of a stream: wait for Twilio's `start`, then verify its stream token locally
//! before anything is spent on the call.
//!
//! The token (`customParameters.token`) must carry a valid HMAC under `STREAM_TOKEN_SECRET`, be
//! unexpired and be bound to `customParameters.callId`. Single use is enforced afterwards by
//! main-app when the context is fetched. A refused stream opens no agent conversation.

use axum::extract::ws::{Message, WebSocket};
use common::ids::CallId;
use common::twilio_media::FromTwilio;
use std::collections::BTreeMap;
use std::time::Duration;

/// What `start` told us.
#[derive(Debug, Clone)]
pub struct StartInfo {
    /// Twilio stream SID: every message we send carries it.
    pub stream_sid: String,
    /// Twilio call SID.
    pub call_sid: String,
    /// The TwiML `<Parameter>`s.
    pub params: BTreeMap<String, String>,
}

/// Why no `start` was had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StartError {
    /// Nothing arrived in time.
    #[error("no start message before the deadline")]
    Timeout,
    /// The socket closed first.
    #[error("stream closed before start")]
    Closed,
    /// Something other than `connected`/`start` came first.
    #[error("unexpected message before start")]
    Unexpected,
}

/// Waits for `start` (skipping `connected`), under `deadline`.
pub async fn wait_for_start(socket: &mut WebSocket, deadline: Duration) -> Result<StartInfo, StartError> {
    let wait = async {
        for _ in 0..4 {
            let text = match socket.recv().await {
                Some(Ok(Message::Text(text))) => text,
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                Some(Ok(_)) => return Err(StartError::Unexpected),
                Some(Err(_)) | None => return Err(StartError::Closed),
            };
            match serde_json::from_str::<FromTwilio>(text.as_str()) {
                Ok(FromTwilio::Connected { .. }) => continue,
                Ok(FromTwilio::Start { start, stream_sid, .. }) => {
                    return Ok(StartInfo {
                        stream_sid,
                        call_sid: start.call_sid,
                        params: start.custom_parameters,
                    });
                }
                _ => return Err(StartError::Unexpected),
            }
        }
        Err(StartError::Unexpected)
    };
    tokio::time::timeout(deadline, wait).await.unwrap_or(Err(StartError::Timeout))
}

/// A stream whose token verified.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The call, as bound in the token.
    pub call_id: CallId,
    /// The token, presented to main-app to fetch (and consume) the call's context.
    pub token: String,
}

/// Why a stream was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The claimed call id when it is at least a well-formed id (used only to report).
    pub call_id: Option<CallId>,
    /// Stable code (`token_expired`, `token_bad_signature`, `call_id_invalid`, ...).
    pub code: &'static str,
}

/// Verifies `customParameters.callId` and `customParameters.token` at `now_unix`.
pub fn check_token(start: &StartInfo, secret: &[u8], now_unix: i64) -> Result<Verified, Refusal> {
    let call_id = start
        .params
        .get("callId")
        .and_then(|id| CallId::parse(id).ok())
        .ok_or(Refusal { call_id: None, code: "call_id_invalid" })?;
    let Some(token) = start.params.get("token").filter(|t| !t.is_empty()) else {
        return Err(Refusal { call_id: Some(call_id), code: "token_missing" });
    };
    match common::stream_token::verify(secret, token, Some(call_id.as_str()), now_unix) {
        Ok(claims) => Ok(Verified { call_id: claims.call_id, token: token.clone() }),
        Err(err) => Err(Refusal { call_id: Some(call_id), code: err.code() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::stream_token::issue;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn start_with(call_id: &str, token: &str) -> StartInfo {
        StartInfo {
            stream_sid: "MZ1".into(),
            call_sid: "CA1".into(),
            params: BTreeMap::from([("callId".into(), call_id.into()), ("token".into(), token.into())]),
        }
    }

    #[test]
    fn a_valid_token_for_the_call_passes() {
        let id = CallId::new();
        let token = issue(SECRET, &id, 1000, 120);
        let v = check_token(&start_with(id.as_str(), &token), SECRET, 1010).expect("valid");
        assert_eq!(v.call_id, id);
        assert_eq!(v.token, token);
    }

    #[test]
    fn bad_expired_misbound_and_missing_tokens_are_refused_with_their_code() {
        let id = CallId::new();
        let token = issue(SECRET, &id, 1000, 120);
        let code = |s: &StartInfo, now| check_token(s, SECRET, now).expect_err("refused").code;
        assert_eq!(code(&start_with(id.as_str(), &token), 2000), "token_expired");
        let forged = issue(b"another-secret-another-secret-xx", &id, 1000, 120);
        assert_eq!(code(&start_with(id.as_str(), &forged), 1010), "token_bad_signature");
        let other = CallId::new();
        let refusal = check_token(&start_with(other.as_str(), &token), SECRET, 1010).expect_err("refused");
        assert_eq!(refusal, Refusal { call_id: Some(other), code: "token_wrong_call" });
        assert_eq!(code(&start_with(id.as_str(), ""), 1010), "token_missing");
        assert_eq!(code(&start_with(id.as_str(), "garbage"), 1010), "token_malformed");
        let refusal = check_token(&start_with("not-a-uuid", &token), SECRET, 1010).expect_err("refused");
        assert_eq!(refusal, Refusal { call_id: None, code: "call_id_invalid" });
    }
}
