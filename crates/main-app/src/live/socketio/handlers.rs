//! `subscribe` / `unsubscribe`: join or leave a topic's room, and on joining send its snapshot
//! (read from the store, so it is right whichever instance the client is connected to). The
//! snapshot is sent after joining, so no update falls between the two (at worst one arrives
//! twice, and every payload is a whole state, so applying it twice is harmless).

use serde_json::Value;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, Data, SocketRef, State};

use crate::calls::model::Call;
use crate::live::to_live;
use crate::state::AppState;
use crate::store::StoreError;
use common::events::live::{self, Ack, CallSnapshot, LiveCall, Subscription, rooms, topics};
use common::ids::{CallId, CallSid};

/// Registers the event handlers of a connected (authenticated) socket.
pub async fn on_connect<A: Adapter>(socket: SocketRef<A>) {
    socket.on(live::SUBSCRIBE, subscribe::<A>);
    socket.on(live::UNSUBSCRIBE, unsubscribe::<A>);
}

/// A resolved topic: its room and what to send on joining it.
enum Target {
    Calls,
    Call(Box<Call>),
    Campaigns,
    Campaign(String),
}

impl Target {
    fn room(&self) -> String {
        match self {
            Self::Calls => rooms::CALLS.to_owned(),
            Self::Call(call) => rooms::call(call.id.as_str()),
            Self::Campaigns => rooms::CAMPAIGNS.to_owned(),
            Self::Campaign(id) => rooms::campaign(id),
        }
    }
}

async fn resolve(state: &AppState, payload: Value) -> Result<Target, String> {
    let sub: Subscription = serde_json::from_value(payload).map_err(|_| "INVALID_PAYLOAD".to_owned())?;
    let id = sub.id.as_deref().map(str::trim).filter(|i| !i.is_empty() && i.len() <= 100);
    match (sub.topic.as_str(), id) {
        (topics::CALLS, _) => Ok(Target::Calls),
        (topics::CAMPAIGNS, _) => Ok(Target::Campaigns),
        (topics::CALL | topics::CAMPAIGN, None) => Err("ID_REQUIRED".into()),
        (topics::CALL, Some(id)) => match find_call(state, id).await {
            Ok(Some(call)) => Ok(Target::Call(Box::new(call))),
            Ok(None) => Err("CALL_NOT_FOUND".into()),
            Err(e) => {
                tracing::error!(error = %e, "subscribe: cannot read the call");
                Err("UNAVAILABLE".into())
            }
        },
        (topics::CAMPAIGN, Some(id)) => Ok(Target::Campaign(id.to_owned())),
        _ => Err("UNKNOWN_TOPIC".into()),
    }
}

async fn find_call(state: &AppState, id: &str) -> Result<Option<Call>, StoreError> {
    if let Ok(id) = CallId::parse(id) {
        state.store.get_call(&id).await
    } else if let Ok(sid) = CallSid::parse(id) {
        state.store.get_call_by_sid(&sid).await
    } else {
        Ok(None)
    }
}

/// Every unfinished call, oldest first, from the store.
pub async fn calls_snapshot(state: &AppState) -> Result<Vec<LiveCall>, StoreError> {
    let mut calls: Vec<LiveCall> = state.store.list_unfinished_calls().await?.iter().map(to_live).collect();
    calls.sort_by_key(|c| c.created_at);
    Ok(calls)
}

/// One call and its live transcript so far, from the store.
pub async fn call_snapshot(state: &AppState, call: &Call) -> Result<CallSnapshot, StoreError> {
    Ok(CallSnapshot { call: to_live(call), transcript: state.store.live_lines(&call.id).await? })
}

/// Sends `target`'s snapshot to `socket`.
async fn send_snapshot<A: Adapter>(
    state: &AppState,
    socket: &SocketRef<A>,
    target: &Target,
) -> Result<(), String> {
    let sent = match target {
        Target::Calls => {
            let calls = calls_snapshot(state).await.map_err(|e| e.to_string())?;
            socket.emit(live::CALLS_SNAPSHOT, &calls)
        }
        Target::Call(call) => {
            let snapshot = call_snapshot(state, call).await.map_err(|e| e.to_string())?;
            socket.emit(live::CALL_SNAPSHOT, &snapshot)
        }
        Target::Campaigns => socket.emit(live::CAMPAIGNS_SNAPSHOT, &state.live.campaigns()),
        Target::Campaign(id) => match state.live.campaign(id) {
            Some(progress) => socket.emit(live::CAMPAIGN_PROGRESS, &progress),
            None => Ok(()),
        },
    };
    sent.map_err(|e| e.to_string())
}

async fn subscribe<A: Adapter>(
    socket: SocketRef<A>,
    State(state): State<AppState>,
    Data(payload): Data<Value>,
    ack: AckSender<A>,
) {
    let reply = match resolve(&state, payload).await {
        Err(code) => Ack::error(code),
        Ok(target) => {
            socket.join(target.room());
            match send_snapshot(&state, &socket, &target).await {
                Ok(()) => Ack::ok(),
                Err(e) => {
                    tracing::warn!(socket = %socket.id, error = %e, "could not send a snapshot");
                    Ack::error("UNAVAILABLE")
                }
            }
        }
    };
    // The client may not have asked for an ack, or may be gone: nothing to do then.
    let _ = ack.send(&reply);
}

async fn unsubscribe<A: Adapter>(
    socket: SocketRef<A>,
    State(state): State<AppState>,
    Data(payload): Data<Value>,
    ack: AckSender<A>,
) {
    let reply = match serde_json::from_value::<Subscription>(payload) {
        Err(_) => Ack::error("INVALID_PAYLOAD"),
        Ok(sub) => match (sub.topic.as_str(), sub.id.as_deref()) {
            (topics::CALLS, _) => leave(&socket, rooms::CALLS.to_owned()),
            (topics::CAMPAIGNS, _) => leave(&socket, rooms::CAMPAIGNS.to_owned()),
            (topics::CAMPAIGN, Some(id)) => leave(&socket, rooms::campaign(id)),
            (topics::CALL, Some(id)) => {
                // Leave by internal id whether the client named the call by id or CallSid.
                let room = match find_call(&state, id).await {
                    Ok(Some(call)) => rooms::call(call.id.as_str()),
                    _ => rooms::call(id),
                };
                leave(&socket, room)
            }
            (topics::CALL | topics::CAMPAIGN, None) => Ack::error("ID_REQUIRED"),
            _ => Ack::error("UNKNOWN_TOPIC"),
        },
    };
    // See subscribe.
    let _ = ack.send(&reply);
}

fn leave<A: Adapter>(socket: &SocketRef<A>, room: String) -> Ack {
    socket.leave(room);
    Ack::ok()
}
