//! main-app: the platform's source of truth about calls, campaigns and contacts.
//!
//! It serves the REST API and the dashboard, answers Twilio's TwiML requests and callbacks and
//! ElevenLabs' webhooks, holds the live-calls registry, runs the campaign engine, and forwards
//! summaries to the CRM. Audio never passes through it (that is media-proxy's job).

pub mod auth;
pub mod calls;
pub mod error;
pub mod settings;
pub mod store;
pub mod telemetry;
