//! Who may connect: the CONNECT of the default namespace passes only with the dashboard's
//! session cookie (sent with the handshake, same origin) or `auth: {token: API_KEY}` (or an
//! `Authorization: Bearer` header on the handshake). Anything else is refused before the socket
//! joins the namespace, which the client sees as `connect_error` with `message: "unauthorized"`.

use serde_json::Value;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{SocketRef, State, TryData};

use crate::auth::Principal;
use crate::auth::middleware::authenticate as authenticate_headers;
use crate::state::AppState;

/// Why a connection was refused (its `Display` is what the client receives).
#[derive(Debug, thiserror::Error)]
pub enum ConnectRefused {
    /// No valid credentials.
    #[error("unauthorized")]
    Unauthorized,
    /// The session could not be checked (store failure).
    #[error("unavailable")]
    Unavailable,
}

/// The connect middleware: authenticates and remembers the principal on the socket.
pub async fn authenticate<A: Adapter>(
    socket: SocketRef<A>,
    State(state): State<AppState>,
    TryData(auth): TryData<Value>,
) -> Result<(), ConnectRefused> {
    let token = auth.ok().as_ref().and_then(|a| a.get("token")).and_then(Value::as_str).map(str::to_owned);
    let principal = match token {
        Some(t) if state.auth.is_api_key(t.trim()) => Some(Principal::ApiKey),
        Some(_) => None,
        None => authenticate_headers(&state, &socket.req_parts().headers)
            .await
            .map_err(|_| ConnectRefused::Unavailable)?,
    };
    match principal {
        Some(p) => {
            tracing::debug!(socket = %socket.id, who = %p.label(), "Socket.IO client connected");
            socket.extensions.insert(p);
            Ok(())
        }
        None => {
            tracing::info!("Socket.IO connection refused: no valid session or token");
            Err(ConnectRefused::Unauthorized)
        }
    }
}
