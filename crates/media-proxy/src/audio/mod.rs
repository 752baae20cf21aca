//! Audio between Twilio (always G.711 μ-law, 8 kHz, mono) and the agent (whatever its
//! `conversation_initiation_metadata` announces).
//!
//! With `ulaw_8000` both ways the bridge forwards the base64 payload untouched and never calls
//! into this module's transcoders. With PCM (`pcm_16000`, `pcm_24000`, ...) [`transcode`] decodes,
//! resamples ([`resample`]) and re-encodes, keeping filter state and odd bytes across chunks.

pub mod resample;
pub mod transcode;
