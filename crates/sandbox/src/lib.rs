//! Simulated Twilio and ElevenLabs for tests, the demo and load tests.
//!
//! One HTTP listener serves:
//! - the Twilio REST API under `/2010-04-01/…` (calls, recordings) — each call progresses by a
//!   [scenario](scenario) chosen by the dialled number, sends signed status/AMD/recording
//!   callbacks, fetches and obeys TwiML, and opens `<Connect><Stream>` WebSockets with a
//!   simulated callee speaking the shared [script];
//! - the ElevenLabs API under `/v1/…` (signed URL, the agent WebSocket with a scripted agent,
//!   conversations), with the post-call webhook;
//! - an inspection API under `/sandbox/…` showing what happened.
//!
//! Start it with [`Sandbox::start`] on a bound listener; observe it through the
//! [`SandboxHandle`] or over HTTP. See `docs/sandbox.md` for the scenario table and settings.

pub mod audio;
pub mod config;
pub mod el;
pub mod env;
mod inspect;
pub mod loadgen;
pub mod scenario;
pub mod script;
mod server;
mod state;
pub mod twilio;

pub use config::SandboxConfig;
pub use el::record::ConversationRecord;
pub use server::{Sandbox, SandboxHandle, StartError};
pub use twilio::record::{CallRecord, EndReason};
