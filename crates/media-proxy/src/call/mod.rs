//! One live call: from Twilio's WebSocket upgrade to the end of the conversation.
//!
//! [`serve`] waits for `start`, verifies the stream token ([`start`]), registers the call, starts
//! set-up ([`setup`]) and hands everything to the actor ([`bridge::Bridge`]), whose behaviour is
//! split by source: [`twilio_side`], [`agent_side`], the writes (`outbox`), and [`ending`]. Pure pieces with their own
//! tests: [`playback`] (heard / cut off / not heard), [`early`] (audio before the agent is ready),
//! [`vad`] (caller end of speech), [`initiation`] (the first agent message), [`wire`] (hot-path
//! serialisation).

mod agent_side;
pub mod bridge;
pub mod early;
mod ending;
pub mod initiation;
mod outbox;
pub mod playback;
pub mod setup;
pub mod start;
mod twilio_side;
pub mod upstream;
pub mod vad;
pub mod wire;

use axum::extract::ws::{self, WebSocket};
use tracing::Instrument as _;

use crate::registry::CallSlot;
use crate::state::AppState;

/// Runs one Twilio media stream to its end. `slot` holds this call's place under the
/// concurrency limit until the function returns.
pub async fn serve(mut socket: WebSocket, state: AppState, slot: CallSlot) {
    let settings = state.settings.clone();
    let started = match start::wait_for_start(&mut socket, settings.limits.start_timeout).await {
        Ok(started) => started,
        Err(err) => {
            tracing::info!(%err, "stream ended before start");
            if err != start::StartError::Closed {
                close_refused(&mut socket).await;
            }
            return;
        }
    };
    let now = chrono::Utc::now().timestamp();
    let verified = match start::check_token(&started, settings.token_secret(), now) {
        Ok(verified) => verified,
        Err(refusal) => {
            tracing::warn!(code = refusal.code, call_sid = %started.call_sid, "stream refused: no conversation opened");
            if let Some(call_id) = refusal.call_id {
                state.events.report_refused(call_id, refusal.code, "stream token refused by media-proxy");
            }
            close_refused(&mut socket).await;
            return;
        }
    };
    let (_registered, stop) = slot.register(verified.call_id.clone(), started.stream_sid.clone());
    let span = tracing::info_span!("call", call_id = %verified.call_id, call_sid = %started.call_sid);
    // Build the actor in a block so that everything not needed during the call (the start
    // message with its parameters, the app state) is dropped before the call runs.
    let bridge = {
        let setup = setup::start(
            state.http.clone(),
            settings.clone(),
            verified.call_id.clone(),
            verified.token,
            started.call_sid.clone(),
        );
        let events = state.events.for_call(verified.call_id.clone());
        drop(state);
        Box::new(bridge::Bridge::new(socket, &started, verified.call_id, events, settings, setup, stop))
    };
    drop(started);
    bridge.run().instrument(span).await;
}

/// Closes a stream that never became a call (no `start` in time, or refused) as a policy
/// violation (1008).
async fn close_refused(socket: &mut WebSocket) {
    let close = ws::Message::Close(Some(ws::CloseFrame { code: 1008, reason: "".into() }));
    // Best effort: the socket is dropped right after.
    let _ = tokio::time::timeout(std::time::Duration::from_millis(500), socket.send(close)).await;
}
