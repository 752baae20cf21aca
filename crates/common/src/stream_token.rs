//! The stream token: proof that a media stream was opened by Twilio for one of our calls.
//!
//! main-app puts a token in the TwiML `<Parameter name="token">` when Twilio fetches the call's
//! TwiML. media-proxy verifies it on `start` before opening any agent conversation: the HMAC must
//! match (`STREAM_TOKEN_SECRET`, shared by both binaries), it must not have expired, and it must be
//! bound to the call id in the same `start` message. Single use is enforced by main-app, which
//! consumes the token's nonce atomically when media-proxy asks for the call's context.
//!
//! Format: `v1.<call id>.<expiry unix secs>.<nonce>.<base64url HMAC-SHA256 of the first four parts>`.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use subtle::ConstantTimeEq;

use crate::ids::CallId;

type HmacSha256 = Hmac<sha2::Sha256>;

/// What a valid token asserts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamClaims {
    /// The call this stream belongs to.
    pub call_id: CallId,
    /// Unix seconds after which the token is refused.
    pub expires_at: i64,
    /// Random value; consumed once.
    pub nonce: String,
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not in the token format.
    #[error("malformed stream token")]
    Malformed,
    /// The HMAC does not match.
    #[error("stream token signature mismatch")]
    BadSignature,
    /// Past its expiry.
    #[error("stream token expired")]
    Expired,
    /// Valid, but for another call.
    #[error("stream token bound to another call")]
    WrongCall,
    /// Valid, but already used.
    #[error("stream token already used")]
    Reused,
}

impl TokenError {
    /// A stable machine-readable code for logs and events.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed => "token_malformed",
            Self::BadSignature => "token_bad_signature",
            Self::Expired => "token_expired",
            Self::WrongCall => "token_wrong_call",
            Self::Reused => "token_reused",
        }
    }
}

fn mac(secret: &[u8], signed: &str) -> Vec<u8> {
    let mut m = HmacSha256::new_from_slice(secret).expect("HMAC accepts any key length");
    m.update(signed.as_bytes());
    m.finalize().into_bytes().to_vec()
}

/// Issues a token for `call_id` valid for `ttl_secs` from `now_unix`.
pub fn issue(secret: &[u8], call_id: &CallId, now_unix: i64, ttl_secs: i64) -> String {
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    let signed = format!("v1.{call_id}.{}.{nonce}", now_unix + ttl_secs);
    let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac(secret, &signed));
    format!("{signed}.{sig}")
}

/// Verifies signature, expiry and binding to `expected_call` (when given). Does not check reuse.
pub fn verify(
    secret: &[u8],
    token: &str,
    expected_call: Option<&str>,
    now_unix: i64,
) -> Result<StreamClaims, TokenError> {
    let (signed, sig) = token.rsplit_once('.').ok_or(TokenError::Malformed)?;
    let parts: Vec<&str> = signed.split('.').collect();
    let [version, call_id, expiry, nonce] = parts[..] else { return Err(TokenError::Malformed) };
    if version != "v1" || nonce.is_empty() {
        return Err(TokenError::Malformed);
    }
    let given =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(sig).map_err(|_| TokenError::Malformed)?;
    let expected = mac(secret, signed);
    if given.len() != expected.len() || !bool::from(given.ct_eq(&expected)) {
        return Err(TokenError::BadSignature);
    }
    let call_id = CallId::parse(call_id).map_err(|_| TokenError::Malformed)?;
    let expires_at: i64 = expiry.parse().map_err(|_| TokenError::Malformed)?;
    if now_unix > expires_at {
        return Err(TokenError::Expired);
    }
    if expected_call.is_some_and(|c| c != call_id.as_str()) {
        return Err(TokenError::WrongCall);
    }
    Ok(StreamClaims { call_id, expires_at, nonce: nonce.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"test-secret";

    #[test]
    fn a_fresh_token_verifies_for_its_call() {
        let id = CallId::new();
        let token = issue(SECRET, &id, 1_000, 60);
        let claims = verify(SECRET, &token, Some(id.as_str()), 1_030).expect("valid");
        assert_eq!(claims.call_id, id);
        assert_eq!(claims.expires_at, 1_060);
    }

    #[test]
    fn refuses_expired_forged_and_misbound_tokens() {
        let id = CallId::new();
        let token = issue(SECRET, &id, 1_000, 60);
        assert_eq!(verify(SECRET, &token, Some(id.as_str()), 1_061), Err(TokenError::Expired));
        assert_eq!(verify(b"other", &token, None, 1_000), Err(TokenError::BadSignature));
        let other = CallId::new();
        assert_eq!(verify(SECRET, &token, Some(other.as_str()), 1_000), Err(TokenError::WrongCall));
        let tampered = token.replacen(id.as_str(), other.as_str(), 1);
        assert_eq!(verify(SECRET, &tampered, None, 1_000), Err(TokenError::BadSignature));
        assert_eq!(verify(SECRET, "nonsense", None, 1_000), Err(TokenError::Malformed));
        assert_eq!(verify(SECRET, "", None, 1_000), Err(TokenError::Malformed));
    }

    #[test]
    fn tokens_are_unique() {
        let id = CallId::new();
        assert_ne!(issue(SECRET, &id, 1, 60), issue(SECRET, &id, 1, 60));
    }
}
