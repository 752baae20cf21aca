//! Twilio-shaped REST errors (protocol reference §1.8).
//!
//! Body: `{"code":21211,"message":"…","more_info":"https://www.twilio.com/docs/errors/21211",
//! "status":400}`, the shape twilio-node's `RestException` reads.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// One REST error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct TwilioError {
    /// HTTP status.
    pub status: StatusCode,
    /// Twilio error code.
    pub code: u32,
    /// Message.
    pub message: String,
}

impl TwilioError {
    fn new(status: StatusCode, code: u32, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into() }
    }

    /// 20003: bad or missing credentials.
    pub fn auth() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, 20003, "Authenticate")
    }

    /// 20404: no such resource.
    pub fn not_found(path: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, 20404, format!("The requested resource {path} was not found"))
    }

    /// 20429: too many requests (CPS or concurrency); not processed, safe to retry.
    pub fn too_many(why: &str) -> Self {
        Self::new(StatusCode::TOO_MANY_REQUESTS, 20429, format!("Too Many Requests: {why}"))
    }

    /// 21201: no `To`.
    pub fn missing_to() -> Self {
        Self::new(StatusCode::BAD_REQUEST, 21201, "No 'To' number is specified")
    }

    /// 21211: `To` is not a valid phone number.
    pub fn invalid_to(to: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, 21211, format!("Invalid 'To' Phone Number: {to}"))
    }

    /// 21603: no `From`.
    pub fn missing_from() -> Self {
        Self::new(StatusCode::BAD_REQUEST, 21603, "A 'From' phone number is required.")
    }

    /// 21210: `From` is not a number of this account.
    pub fn from_not_owned(from: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            21210,
            format!("The source phone number provided, {from}, is not yet verified for your account."),
        )
    }

    /// 21205: missing or invalid `Url`.
    pub fn invalid_url(why: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, 21205, why)
    }

    /// 21220: the call is not in a state that allows this.
    pub fn invalid_state(why: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, 21220, format!("Invalid call state: {why}"))
    }

    /// 20001 (sandbox's choice for other invalid parameters).
    pub fn invalid_param(why: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, 20001, why)
    }

    /// The JSON body.
    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({
            "code": self.code,
            "message": self.message,
            "more_info": format!("https://www.twilio.com/docs/errors/{}", self.code),
            "status": self.status.as_u16(),
        })
    }
}

impl IntoResponse for TwilioError {
    fn into_response(self) -> Response {
        let mut res = (self.status, Json(self.body())).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"Twilio API\""));
        }
        res
    }
}
