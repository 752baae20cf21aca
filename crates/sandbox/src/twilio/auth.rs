//! HTTP Basic authentication of the simulated Twilio REST API (§1.1).
//!
//! The username must be the account SID in the path and the password its auth token; anything
//! else is error 20003 (401).

use super::error::TwilioError;
use crate::config::TwilioAccount;
use axum::http::HeaderMap;
use base64::Engine as _;
use secrecy::ExposeSecret;
use subtle::ConstantTimeEq;

/// Checks the `Authorization` header against the account named in the path.
pub(crate) fn authenticate<'a>(
    accounts: &'a [TwilioAccount],
    path_sid: &str,
    headers: &HeaderMap,
) -> Result<&'a TwilioAccount, TwilioError> {
    let account = accounts.iter().find(|a| a.sid.as_str() == path_sid).ok_or_else(TwilioError::auth)?;
    let (user, pass) = basic_credentials(headers).ok_or_else(TwilioError::auth)?;
    if user == path_sid && bool::from(pass.as_bytes().ct_eq(account.auth_token.expose_secret().as_bytes())) {
        Ok(account)
    } else {
        Err(TwilioError::auth())
    }
}

/// Decodes `Authorization: Basic base64(user:pass)`.
pub(crate) fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, pass) = text.split_once(':')?;
    Some((user.to_owned(), pass.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(user: &str, pass: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
        h.insert("authorization", HeaderValue::from_str(&format!("Basic {token}")).expect("header"));
        h
    }

    #[test]
    fn accepts_only_the_accounts_own_token() {
        let accounts = vec![TwilioAccount::default_account()];
        let sid = accounts[0].sid.to_string();
        let token = crate::config::DEFAULT_AUTH_TOKEN;
        assert!(authenticate(&accounts, &sid, &headers(&sid, token)).is_ok());
        assert_eq!(
            authenticate(&accounts, &sid, &headers(&sid, "wrong")).map(|_| ()),
            Err(TwilioError::auth())
        );
        let other = "AC00000000000000000000000000000000";
        assert!(authenticate(&accounts, other, &headers(other, token)).is_err());
        assert!(authenticate(&accounts, &sid, &HeaderMap::new()).is_err());
        assert!(authenticate(&accounts, &sid, &headers("ACx", token)).is_err());
    }
}
