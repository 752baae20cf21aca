//! Simulated Twilio: the Calls and Recordings REST API, call progression with signed callbacks,
//! TwiML execution, the Media Streams client, answering machine detection and recordings.
//!
//! Each call is an actor (`call.rs`) that dials (`dial.rs`), then runs on a 20 ms media clock
//! (`live.rs`) with a simulated callee (`callee.rs`), and ends (`finish.rs`). What it observed is
//! kept in a [`record::CallRecord`] for tests and the demo.

use crate::state::AppState;
use axum::Router;
use axum::routing::get;

pub mod amd;
mod auth;
pub(crate) mod call;
pub mod callbacks;
pub mod callee;
pub mod cps;
mod dial;
pub mod error;
mod fetch;
mod finish;
mod live;
mod pacing;
pub mod params;
pub mod playback;
pub mod record;
pub(crate) mod recording;
pub mod recording_http;
pub(crate) mod registry;
mod rest;
mod stream;
pub mod twiml;

/// Routes under `/2010-04-01`.
pub(crate) fn router() -> Router<AppState> {
    let acct = "/2010-04-01/Accounts/{account}";
    Router::new()
        .route(&format!("{acct}/Calls.json"), get(rest::list).post(rest::create))
        .route(&format!("{acct}/Calls/{{file}}"), get(rest::fetch).post(rest::update).delete(rest::delete))
        .route(&format!("{acct}/Calls/{{call}}/Recordings.json"), get(recording_http::list_for_call))
        .route(&format!("{acct}/Recordings.json"), get(recording_http::list))
        .route(
            &format!("{acct}/Recordings/{{file}}"),
            get(recording_http::get).delete(recording_http::delete),
        )
}
