//! Types shared by every part of the platform.
//!
//! `main-app`, `media-proxy`, the `sandbox` simulators and the dashboard contract all speak through
//! the types defined here, so a wire format or an event name is written exactly once:
//!
//! - [`ids`]: validated identifiers (`CallId`, `CallSid`, `StreamSid`, ...).
//! - [`phone`]: E.164 phone numbers parsed with the `phonenumber` library.
//! - [`call`]: call status with its monotonic ordering, answered-by, outcome, who ended the call.
//! - [`twilio_media`]: the Twilio Media Streams WebSocket messages (both directions).
//! - [`elevenlabs`]: the ElevenLabs agent WebSocket messages and post-call webhook payloads.
//! - [`signature`]: `X-Twilio-Signature`, `ElevenLabs-Signature` and the internal request signature.
//! - [`stream_token`]: the short-lived token that binds a media stream to one call.
//! - [`events`]: media-proxy → main-app events and the Socket.IO events main-app pushes to dashboards.
//! - [`audio`]: G.711 μ-law companding, used by the bridge and the simulators.
//!
//! Nothing in this crate performs I/O.

pub mod audio;
pub mod call;
pub mod elevenlabs;
pub mod events;
pub mod ids;
pub mod phone;
pub mod signature;
pub mod stream_token;
pub mod twilio_media;
