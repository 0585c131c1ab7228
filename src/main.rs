//! The `roma-emulator` binary: arguments → config → logging → server → shutdown on a signal.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use roma_emulator::{Config, Server, telemetry};

/// A local emulator of the Huawei Cloud ROMA Connect asset API.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Address to listen on (IP:PORT; port 0 takes a free port). Overrides config and ROMA_EMULATOR_LISTEN.
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// TOML configuration file (see config.example.toml).
    #[arg(long, env = "ROMA_EMULATOR_CONFIG")]
    config: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let mut config = match Config::load(args.config.as_deref(), std::env::vars()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("roma-emulator: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(listen) = args.listen {
        config.server.listen = listen;
    }
    telemetry::init(&config.log.level);
    let server = match Server::start(config).await {
        Ok(server) => server,
        Err(e) => {
            eprintln!("roma-emulator: {e}");
            return ExitCode::from(1);
        }
    };
    println!("roma-emulator listening on {}", server.base_url());
    let _ = std::io::stdout().flush();
    match server.shutdown_on(shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("roma-emulator: {e}");
            ExitCode::from(1)
        }
    }
}

/// Ctrl-C or SIGTERM (what `docker stop` sends to PID 1).
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
    tokio::select! { () = ctrl_c => {}, () = term => {} }
}
