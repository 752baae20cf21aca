//! Requests from Twilio (TwiML fetches and callbacks) and, later, ElevenLabs webhooks.

pub mod signed;
pub mod twilio;
