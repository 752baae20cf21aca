//! Requests from Twilio (TwiML fetches and callbacks) and ElevenLabs' post-call webhooks.

pub mod elevenlabs;
pub mod inbox;
pub mod signed;
pub mod twilio;
