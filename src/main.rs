//! The `roma-emulator` binary: arguments → config → logging → server → shutdown on a signal.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use roma_emulator::config::{ClockMode, LogFormat};
use roma_emulator::{Config, Server, telemetry};

/// A local emulator of the Huawei Cloud ROMA Connect asset API.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Address to listen on (HOST:PORT, an IP or a host name; port 0 takes a free port). Overrides
    /// the config and ROMA_EMULATOR_SERVER_LISTEN.
    #[arg(long, global = true)]
    listen: Option<String>,
    /// TOML configuration file (see config.example.toml).
    #[arg(long, env = "ROMA_EMULATOR_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// Log format: text or json (one object a line). Overrides [log] format.
    #[arg(long, value_enum)]
    log_format: Option<LogFormat>,
    /// Start with this repro bundle (GET /_emulator/bundle) loaded, on a virtual clock at its
    /// time. Overrides [state] bundle.
    #[arg(long)]
    bundle: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Exits 0 when a running emulator's /_emulator/health answers 200 within 3 s in all, else 1
    /// (the container image's HEALTHCHECK; the image has no curl). Without --url it asks the
    /// address the server would listen on, read the same way: --listen, the environment, the
    /// config file.
    Healthcheck {
        /// The health URL (default: from the listen address).
        #[arg(long)]
        url: Option<String>,
    },
    /// The control plane of a running emulator, for a person at a terminal: jobs, requests,
    /// faults, the clock, reset and the state file. Exit 0 done, 1 refused, 2 a usage error.
    Ctl(roma_emulator::ctl::Args),
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = Args::parse();
    match args.command.take() {
        Some(Command::Healthcheck { url }) => return healthcheck(&args, url.as_deref()),
        Some(Command::Ctl(ctl)) => {
            let code = roma_emulator::ctl::run(ctl, &mut std::io::stdout(), &mut std::io::stderr()).await;
            return ExitCode::from(code);
        }
        None => {}
    }
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
    if let Some(format) = args.log_format {
        config.log.format = format;
    }
    if let Some(bundle) = args.bundle {
        if config.state.file.is_some() {
            eprintln!(
                "roma-emulator: --bundle: not with [state] file (a repro is read once, a stub's state is kept)"
            );
            return ExitCode::from(2);
        }
        config.state.bundle = Some(bundle);
    }
    // Dropped when main returns, after the shutdown's last line: pending lines are written (within
    // the flush deadline). The error paths go through `fail`, whose line comes after the others.
    let format = config.log.format;
    let log = match telemetry::init(&config.log.level, format) {
        Ok(log) => log,
        Err(e) => {
            eprintln!("roma-emulator: {e}");
            return ExitCode::from(2);
        }
    };
    // A panic is one log line (JSON in JSON mode), never raw text in the log stream.
    std::panic::set_hook(Box::new(|info| tracing::error!(panic = %info, "panic")));
    // The handlers are installed before the port opens and the "listening" line is printed, so a
    // SIGTERM sent the moment a harness reads that line stops the server gracefully.
    let signal = match ShutdownSignal::install() {
        Ok(signal) => signal,
        Err(e) => return fail(log, format, 1, &format!("cannot install signal handlers: {e}")),
    };
    let server = match Server::start(config).await {
        Ok(server) => server,
        Err(e @ roma_emulator::StartError::State { .. }) => return fail(log, format, 2, &e.to_string()),
        Err(e) => return fail(log, format, 1, &e.to_string()),
    };
    let config = &server.state().config;
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        listen = %server.local_addr(),
        max_connections = server.max_connections(),
        fd_limit = server.fd_limit().map_or_else(|| "unknown".to_owned(), |l| l.to_string()),
        config_file = args.config.as_deref().map(|p| p.display().to_string()).unwrap_or_else(|| "(embedded defaults)".into()),
        auth_mode = ?config.auth.mode,
        dialect = match config.api.dialect {
            roma_emulator::config::Dialect::Seed => "seed (Running, Success, Failed, Finished)",
            roma_emulator::config::Dialect::Current => "current (RUNNING, SUCCEEDED, FAILED)",
        },
        clock_mode = if config.clock.mode == ClockMode::Virtual { "virtual" } else { "real" },
        state_file = config.state.file.as_deref().map(|p| p.display().to_string()).unwrap_or_else(|| "(none: memory only)".into()),
        "roma-emulator started"
    );
    if server.control_plane_exposed() {
        tracing::warn!(
            listen = %server.local_addr(),
            "the control plane (/_emulator/*: reset, state, clock, faults) is open to anyone who can reach this address; set [emulator] admin_token (ROMA_EMULATOR_EMULATOR_ADMIN_TOKEN) on a shared stub"
        );
    }
    println!("roma-emulator listening on {}", server.base_url());
    if let Some(probes) = server.probe_url() {
        tracing::info!(url = %probes, "health and readiness probes are served on server.probe_listen");
    }
    let _ = std::io::stdout().flush();
    match server.shutdown_on(signal.received()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(log, format, 1, &e.to_string()),
    }
}

/// `roma-emulator healthcheck`: the health URL given, else the one of the listen address the
/// server would use; exit 0 when it answers 200 within 3 s in all, else 1.
fn healthcheck(args: &Args, url: Option<&str>) -> ExitCode {
    let url = match url {
        Some(url) => url.to_owned(),
        None => {
            let listen = match (
                &args.listen,
                Config::load(args.config.as_deref(), std::env::vars()),
            ) {
                (Some(listen), _) => listen.clone(),
                // The probe port, when there is one: what a flood of the main port cannot delay.
                (None, Ok(config)) => config.server.probe_listen.unwrap_or(config.server.listen),
                (None, Err(e)) => {
                    eprintln!("roma-emulator healthcheck: {e}");
                    return ExitCode::from(1);
                }
            };
            roma_emulator::probe::health_url(&listen)
        }
    };
    match roma_emulator::probe::check(&url, std::time::Duration::from_secs(3)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("roma-emulator healthcheck: {e}");
            ExitCode::from(1)
        }
    }
}

/// Ends the process with `code` after one line saying why: a log line in JSON mode (so the stream
/// stays one object a line), else `roma-emulator: ...` on stderr after the log's last line.
fn fail(log: telemetry::LogGuard, format: LogFormat, code: u8, message: &str) -> ExitCode {
    if format == LogFormat::Json {
        tracing::error!(error = message, exit_code = code, "roma-emulator cannot go on");
        drop(log);
    } else {
        drop(log);
        eprintln!("roma-emulator: {message}");
    }
    ExitCode::from(code)
}

/// SIGINT (Ctrl-C) or SIGTERM (what `docker stop` sends to PID 1), registered at once.
struct ShutdownSignal {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl ShutdownSignal {
    fn install() -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Self {
                term: signal(SignalKind::terminate())?,
                int: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    async fn received(mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// mimalloc, built without transparent huge pages (see Cargo.toml): the library leaves the
/// allocator to whoever embeds it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
