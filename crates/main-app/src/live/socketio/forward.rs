//! Forwards the live hub's events into Socket.IO rooms:
//!
//! | live event | event name | rooms |
//! |---|---|---|
//! | `CallCreated` / `CallUpdated` / `CallEnded` | `call:created` / `call:updated` / `call:ended` | `calls`, `call:<id>` |
//! | `Transcript` | `call:transcript` | `call:<id>` |
//! | `CampaignProgress` | `campaign:progress` | `campaigns`, `campaign:<id>` |
//!
//! The broadcast channel is bounded: when this forwarder falls behind it is told how many
//! events it missed, and instead of dying it re-sends every room's snapshot (`calls:snapshot`,
//! `call:snapshot`, `campaigns:snapshot`, `campaign:progress`), so subscribers converge again.

use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

use super::emit_to;
use super::handlers::{call_snapshot, calls_snapshot};
use crate::live::LiveEvent;
use crate::state::AppState;
use common::events::live::{self, TranscriptEvent, rooms};
use common::ids::CallId;

/// Runs until `stop` (then closes every client) or until the hub is dropped.
pub async fn run<A: Adapter>(io: SocketIo<A>, state: AppState, stop: CancellationToken) {
    let mut rx = state.live.subscribe();
    loop {
        let event = tokio::select! {
            _ = stop.cancelled() => {
                // Disconnects every client, so the server's graceful shutdown can complete.
                io.close().await;
                return;
            }
            event = rx.recv() => event,
        };
        match event {
            Ok(event) => forward(&io, event).await,
            Err(RecvError::Lagged(missed)) => {
                tracing::warn!(missed, "Socket.IO forwarder lagged; resending snapshots");
                resync(&io, &state).await;
            }
            Err(RecvError::Closed) => return,
        }
    }
}

/// Emits one live event to its rooms.
pub async fn forward<A: Adapter>(io: &SocketIo<A>, event: LiveEvent) {
    match event {
        LiveEvent::CallCreated(call) => {
            emit_to(io, vec![rooms::CALLS.into(), rooms::call(&call.id)], live::CALL_CREATED, &call).await;
        }
        LiveEvent::CallUpdated(call) => {
            emit_to(io, vec![rooms::CALLS.into(), rooms::call(&call.id)], live::CALL_UPDATED, &call).await;
        }
        LiveEvent::CallEnded(call) => {
            emit_to(io, vec![rooms::CALLS.into(), rooms::call(&call.id)], live::CALL_ENDED, &call).await;
        }
        LiveEvent::Transcript { call_id, line } => {
            let room = rooms::call(&call_id);
            emit_to(io, vec![room], live::CALL_TRANSCRIPT, &TranscriptEvent { call_id, line }).await;
        }
        LiveEvent::CampaignProgress(progress) => {
            let to = vec![rooms::CAMPAIGNS.into(), rooms::campaign(&progress.campaign_id)];
            emit_to(io, to, live::CAMPAIGN_PROGRESS, &progress).await;
        }
    }
}

/// Re-sends the snapshot of every room that exists (on any instance).
pub async fn resync<A: Adapter>(io: &SocketIo<A>, state: &AppState) {
    let all = match io.rooms().await {
        Ok(all) => all,
        Err(e) => return tracing::error!(error = %e, "resync: cannot list the rooms"),
    };
    for room in all {
        let room = room.to_string();
        if room == rooms::CALLS {
            match calls_snapshot(state).await {
                Ok(calls) => emit_to(io, vec![room], live::CALLS_SNAPSHOT, &calls).await,
                Err(e) => tracing::error!(error = %e, "resync: cannot read live calls"),
            }
        } else if room == rooms::CAMPAIGNS {
            emit_to(io, vec![room], live::CAMPAIGNS_SNAPSHOT, &state.live.campaigns()).await;
        } else if let Some(id) = room.strip_prefix("call:") {
            let Ok(id) = CallId::parse(id) else { continue };
            match state.store.get_call(&id).await {
                Ok(Some(call)) => match call_snapshot(state, &call).await {
                    Ok(snapshot) => emit_to(io, vec![room], live::CALL_SNAPSHOT, &snapshot).await,
                    Err(e) => tracing::error!(error = %e, "resync: cannot read a transcript"),
                },
                Ok(None) => {}
                Err(e) => tracing::error!(error = %e, "resync: cannot read a call"),
            }
        } else if let Some(id) = room.strip_prefix("campaign:")
            && let Some(progress) = state.live.campaign(id)
        {
            emit_to(io, vec![room], live::CAMPAIGN_PROGRESS, &progress).await;
        }
    }
}
