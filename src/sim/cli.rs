//! `ptv-sync sim --port N`: a simulator as its own process.

use super::config::SimConfig;
use super::server::Simulator;

/// Binds 127.0.0.1:`port`, prints the base URL and the API users, and serves until
/// Ctrl-C or SIGTERM.
pub async fn serve_cli(port: u16, config: SimConfig) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let users = config.users.clone();
    let keys = config.api_keys.clone();
    let handle = Simulator::start_on(config, listener).await?;
    println!("PTV simulator listening on {}", handle.base_url());
    println!(
        "  v11: {0}/api/v11   v12: {0}/api/v12   login: {0}/api/auth/api-login   control: {0}/_sim",
        handle.base_url()
    );
    for user in &users {
        println!(
            "  API user: {} / {} (organisation {})",
            user.username, user.password, user.organization_id
        );
    }
    for key in &keys {
        println!("  v12 x-api-key: {key}");
    }
    shutdown_signal().await;
    handle.shutdown().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
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
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
