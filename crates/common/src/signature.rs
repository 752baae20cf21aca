//! Request signatures (protocol reference §3 and §7.1).
//!
//! - `X-Twilio-Signature`: base64 HMAC-SHA1 over the URL Twilio requested followed by the sorted
//!   POST parameters. Validation replicates the official validators: the port is tried both
//!   stripped and explicit, and a URL fragment is tried without and with.
//! - Timestamped HMAC-SHA256 (`t=<unix>,v0=<hex>` over `"<t>.<body>"`): ElevenLabs webhooks use it,
//!   and we reuse the same scheme for media-proxy → main-app events and CRM deliveries, so there is
//!   one mechanism with one test suite.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use subtle::ConstantTimeEq;

type HmacSha1 = Hmac<sha1::Sha1>;
type HmacSha256 = Hmac<sha2::Sha256>;

/// Computes `X-Twilio-Signature` for a form-encoded request (or a GET, with no params).
pub fn twilio_signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut names: Vec<&str> = params.iter().map(|(k, _)| k.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    let mut data = String::with_capacity(url.len() + params.len() * 24);
    data.push_str(url);
    for name in names {
        let mut values: Vec<&str> =
            params.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect();
        values.sort_unstable();
        values.dedup();
        for value in values {
            data.push_str(name);
            data.push_str(value);
        }
    }
    let mut mac = HmacSha1::new_from_slice(auth_token.as_bytes()).expect("HMAC accepts any key length");
    mac.update(data.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The URL variants Twilio may have signed: as given, with the port removed, and with the
/// scheme's default port spelled out; each also with any `#fragment` removed (tried first).
fn url_variants(url: &str) -> Vec<String> {
    let mut bases = Vec::with_capacity(2);
    if let Some((before, _)) = url.split_once('#') {
        bases.push(before);
    }
    bases.push(url);
    let mut out = Vec::with_capacity(6);
    for base in bases {
        out.push(base.to_owned());
        let Some(scheme_end) = base.find("://") else { continue };
        let scheme = &base[..scheme_end];
        let after = &base[scheme_end + 3..];
        let authority_len = after.find(['/', '?', '#']).unwrap_or(after.len());
        let (authority, rest) = after.split_at(authority_len);
        let host = match authority.rsplit_once(':') {
            Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
            _ => authority,
        };
        out.push(format!("{scheme}://{host}{rest}"));
        let default_port = match scheme {
            "https" | "wss" => "443",
            "http" | "ws" => "80",
            _ => continue,
        };
        out.push(format!("{scheme}://{host}:{default_port}{rest}"));
    }
    out.dedup();
    out
}

fn ct_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// Validates `X-Twilio-Signature` for a form-encoded or GET request. `url` is the URL as Twilio
/// requested it (public base URL + path + query), `params` the decoded POST body parameters.
pub fn validate_twilio(auth_token: &str, url: &str, params: &[(String, String)], header: &str) -> bool {
    if header.is_empty() {
        return false;
    }
    url_variants(url).iter().any(|u| ct_eq(&twilio_signature(auth_token, u, params), header))
}

/// Validates a JSON-bodied Twilio request (§3.2): the URL carries `bodySHA256`, which must equal
/// the hex SHA-256 of the raw body, and the signature covers the URL with no parameters.
pub fn validate_twilio_json(auth_token: &str, url: &str, body: &[u8], header: &str) -> bool {
    use sha2::Digest as _;
    let Ok(parsed) = url::Url::parse(url) else { return false };
    let Some(expected) = parsed.query_pairs().find(|(k, _)| k == "bodySHA256").map(|(_, v)| v.into_owned())
    else {
        return false;
    };
    let actual = hex::encode(sha2::Sha256::digest(body));
    ct_eq(&actual, &expected) && validate_twilio(auth_token, url, &[], header)
}

/// Why a timestamped HMAC signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimestampedSigError {
    /// No signature header was sent.
    #[error("missing signature")]
    Missing,
    /// The header is not `t=<unix>,v0=<hex>`.
    #[error("malformed signature header")]
    Malformed,
    /// The timestamp is outside the tolerance window.
    #[error("signature timestamp outside the allowed window")]
    Stale,
    /// The HMAC does not match.
    #[error("signature mismatch")]
    Mismatch,
}

fn hmac_sha256_hex(secret: &str, t: i64, body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC accepts any key length");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// Builds a `t=<unix>,v0=<hex>` header value (ElevenLabs webhook scheme).
pub fn timestamped_signature(secret: &str, t: i64, body: &[u8]) -> String {
    format!("t={t},v0={}", hmac_sha256_hex(secret, t, body))
}

/// Verifies a `t=<unix>,v0=<hex>` header over the raw body. Rejects timestamps older than
/// `max_age_secs` and (unlike the ElevenLabs SDK) more than `max_age_secs` in the future too, since
/// a future timestamp would otherwise extend a captured request's replay window.
pub fn verify_timestamped(
    secret: &str,
    header: Option<&str>,
    body: &[u8],
    now_unix: i64,
    max_age_secs: i64,
) -> Result<(), TimestampedSigError> {
    let header = header.map(str::trim).filter(|h| !h.is_empty()).ok_or(TimestampedSigError::Missing)?;
    let mut t = None;
    let mut v0 = None;
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => t = value.parse::<i64>().ok(),
            Some(("v0", value)) => v0 = Some(value),
            _ => {}
        }
    }
    let (Some(t), Some(v0)) = (t, v0) else { return Err(TimestampedSigError::Malformed) };
    if (now_unix - t).abs() > max_age_secs {
        return Err(TimestampedSigError::Stale);
    }
    if ct_eq(&hmac_sha256_hex(secret, t, body), v0) { Ok(()) } else { Err(TimestampedSigError::Mismatch) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn reference_params() -> Vec<(String, String)> {
        params(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+14158675309"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
        ])
    }

    #[test]
    fn twilio_reference_vector() {
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        assert_eq!(twilio_signature("12345", url, &reference_params()), "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
        assert!(validate_twilio("12345", url, &reference_params(), "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
    }

    #[test]
    fn twilio_port_variants_validate() {
        let with_port = "https://mycompany.com:1234/myapp.php?foo=1&bar=2";
        assert!(validate_twilio("12345", with_port, &reference_params(), "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
        let http_port = "http://mycompany.com:1234/myapp.php?foo=1&bar=2";
        assert_eq!(twilio_signature("12345", http_port, &reference_params()), "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=");
        // The server saw the default port spelled out; Twilio signed without it.
        let explicit = "https://mycompany.com:443/myapp.php?foo=1&bar=2";
        assert!(validate_twilio("12345", explicit, &reference_params(), "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
    }

    #[test]
    fn twilio_repeated_params_are_sorted_and_deduplicated() {
        let p = params(&[
            ("Sid", "CA123"),
            ("SidAccount", "AC123"),
            ("Digits", "5678"),
            ("Digits", "1234"),
            ("Digits", "1234"),
        ]);
        assert_eq!(
            twilio_signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", &p),
            "IK+Dwps556ElfBT0I3Rgjkr1wJU="
        );
    }

    #[test]
    fn twilio_forged_missing_and_changed_params_fail() {
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        assert!(!validate_twilio("12345", url, &reference_params(), ""));
        assert!(!validate_twilio("54321", url, &reference_params(), "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
        let mut changed = reference_params();
        changed[2].1 = "9999".into();
        assert!(!validate_twilio("12345", url, &changed, "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
        assert!(!validate_twilio(
            "12345",
            "https://mycompany.com/myapp.php?foo=1",
            &reference_params(),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
    }

    #[test]
    fn twilio_json_body_vector() {
        let body = br#"{"property": "value", "boolean": true}"#;
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";
        assert!(validate_twilio_json("12345", url, body, "a9nBmqA0ju/hNViExpshrM61xv4="));
        assert!(!validate_twilio_json("12345", url, b"{}", "a9nBmqA0ju/hNViExpshrM61xv4="));
    }

    #[test]
    fn elevenlabs_reference_vector() {
        let body = br#"{"type":"post_call_transcription"}"#;
        let header = timestamped_signature("wsec_test", 1739537297, body);
        assert_eq!(
            header,
            "t=1739537297,v0=81a65aa1e2057ec4cdc236dca583cf6ef5899fbc7acd1fe2c0921f684fa3779c"
        );
        assert_eq!(verify_timestamped("wsec_test", Some(&header), body, 1739537297 + 60, 1800), Ok(()));
    }

    #[test]
    fn timestamped_rejections() {
        let body = b"{}";
        let header = timestamped_signature("s", 1000, body);
        assert_eq!(verify_timestamped("s", None, body, 1000, 1800), Err(TimestampedSigError::Missing));
        assert_eq!(
            verify_timestamped("s", Some("garbage"), body, 1000, 1800),
            Err(TimestampedSigError::Malformed)
        );
        assert_eq!(
            verify_timestamped("s", Some(&header), body, 1000 + 1801, 1800),
            Err(TimestampedSigError::Stale)
        );
        assert_eq!(
            verify_timestamped("s", Some(&header), body, 1000 - 1801, 1800),
            Err(TimestampedSigError::Stale)
        );
        assert_eq!(
            verify_timestamped("other", Some(&header), body, 1000, 1800),
            Err(TimestampedSigError::Mismatch)
        );
        assert_eq!(
            verify_timestamped("s", Some(&header), b"{ }", 1000, 1800),
            Err(TimestampedSigError::Mismatch)
        );
    }
}
