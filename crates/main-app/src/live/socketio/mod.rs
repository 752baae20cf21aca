//! Socket.IO for the dashboard (socketioxide), on the same origin at `/socket.io/`.
//!
//! - [`auth`]: a connection needs the dashboard session cookie or `auth: {token: API_KEY}`;
//!   otherwise the CONNECT is refused (`connect_error` on the client).
//! - [`handlers`]: `subscribe` / `unsubscribe` `{topic, id?}` with an ack `{ok, error?}`; every
//!   subscription starts with a fresh snapshot read from the store, so a client that reconnects
//!   and re-subscribes misses nothing for good.
//! - [`forward`]: the live hub's events go to the rooms (`calls`, `call:<id>`, `campaigns`,
//!   `campaign:<id>`); a forwarder that lags resynchronises every room from snapshots.
//!
//! With `MONGODB_URI` set, rooms span every main-app instance through the socketioxide MongoDB
//! adapter (change streams on the `socket.io-adapter` collection; the server must be a replica
//! set). Names and payloads are defined in `common::events::live` and documented in
//! `docs/events.md`.

pub mod auth;
pub mod forward;
pub mod handlers;

use axum::Router;
use secrecy::ExposeSecret;
use socketioxide::adapter::{Adapter, LocalAdapter};
use socketioxide::handler::ConnectHandler;
use socketioxide::{SocketIo, SocketIoBuilder, TransportType};
use socketioxide_mongodb::{MongoDbAdapter, MongoDbAdapterCtr};
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::state::AppState;

/// Largest message a client may send (subscriptions are tiny).
const MAX_PAYLOAD: u64 = 16 * 1024;
/// How long connecting the cross-instance adapter may take at start-up.
const ADAPTER_CONNECT_TIMEOUT: Duration = Duration::from_secs(20);

fn builder(state: &AppState) -> SocketIoBuilder {
    let mut b = SocketIo::builder().with_state(state.clone()).max_payload(MAX_PAYLOAD);
    if state.settings.post_call.socketio_websocket_only {
        b = b.transports([TransportType::Websocket]);
    }
    b
}

/// Adds Socket.IO to `router` and starts the forwarder (stopped by `stop`). Uses the MongoDB
/// adapter when `MONGODB_URI` is set, the in-process one otherwise.
pub async fn attach(
    router: Router,
    state: &AppState,
    stop: CancellationToken,
) -> anyhow::Result<(Router, JoinHandle<()>)> {
    match &state.settings.mongodb_uri {
        None => {
            let (layer, io) = builder(state).build_layer();
            io.ns("/", handlers::on_connect::<LocalAdapter>.with(auth::authenticate::<LocalAdapter>));
            let task = tokio::spawn(forward::run(io, state.clone(), stop));
            Ok((router.layer(layer), task))
        }
        Some(uri) => {
            let connect = async {
                let client = mongodb::Client::with_uri_str(uri.expose_secret()).await?;
                let db = client.database(&state.settings.mongodb_database);
                anyhow::Ok(MongoDbAdapterCtr::new_with_mongodb(db).await?)
            };
            let adapter = tokio::time::timeout(ADAPTER_CONNECT_TIMEOUT, connect)
                .await
                .map_err(|_| anyhow::anyhow!("the Socket.IO MongoDB adapter did not connect in time"))??;
            let (layer, io) = builder(state).with_adapter::<MongoDbAdapter<_>>(adapter).build_layer();
            let ns = io.ns("/", handlers::on_connect.with(auth::authenticate));
            tokio::time::timeout(ADAPTER_CONNECT_TIMEOUT, ns)
                .await
                .map_err(|_| anyhow::anyhow!("the Socket.IO MongoDB adapter did not start in time"))?
                .map_err(|e| anyhow::anyhow!("starting the Socket.IO MongoDB adapter: {e}"))?;
            tracing::info!("Socket.IO rooms span instances through MongoDB");
            let task = tokio::spawn(forward::run(io, state.clone(), stop));
            Ok((router.layer(layer), task))
        }
    }
}

/// Emits `event` with `data` to `rooms` on every instance; a failure is logged, never fatal.
pub async fn emit_to<A: Adapter, T: serde::Serialize + ?Sized>(
    io: &SocketIo<A>,
    rooms: Vec<String>,
    event: &str,
    data: &T,
) {
    if let Err(e) = io.to(rooms).emit(event, data).await {
        tracing::debug!(event, error = %e, "Socket.IO broadcast failed");
    }
}
