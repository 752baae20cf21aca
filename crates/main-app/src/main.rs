//! main-app binary: settings, telemetry, store, then [`main_app::run`] until Ctrl-C or SIGTERM.

use anyhow::Context as _;
use main_app::settings::Settings;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    main_app::install_crypto_provider();
    main_app::telemetry::init("info,main_app=info,tower_http=warn");
    let settings = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => {
            // The operator must see this even with logging misconfigured.
            #[allow(clippy::print_stderr)]
            {
                eprintln!("main-app refuses to start: {e}");
            }
            std::process::exit(2);
        }
    };
    let store = main_app::store::open(&settings).await?;
    let addr = std::net::SocketAddr::from(([0, 0, 0, 0], settings.port));
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("binding {addr}"))?;
    let state = main_app::AppState::new(settings, store)?;
    main_app::run(listener, state, shutdown_signal()).await
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        // If the handler cannot be installed we simply never resolve on Ctrl-C.
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutdown requested");
}
