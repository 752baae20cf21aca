//! media-proxy binary: settings, telemetry, TLS provider, bind, [`media_proxy::run`].

use anyhow::Context as _;
use media_proxy::{AppState, Settings};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    media_proxy::install_crypto_provider();
    media_proxy::telemetry::init("info");
    let settings = Settings::from_env()?;
    let addr = std::net::SocketAddr::from(([0, 0, 0, 0], settings.port));
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("binding {addr}"))?;
    tracing::info!(%addr, "media-proxy listening");
    let state = AppState::new(settings)?;
    media_proxy::run(listener, state, shutdown_signal()).await
}

/// SIGTERM (deploys) or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sig) => {
                sig.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
