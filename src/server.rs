//! The server handle that `main` and the tests share: bind, serve in the background, stop.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::state::AppState;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: io::Error,
    },
    /// The state file could not be loaded; it is left as it is.
    #[error("state file {}: {message} (the file is left untouched)", file.display())]
    State {
        /// The file.
        file: std::path::PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// How many connections may wait to be accepted. A burst of connections past the backlog has its
/// SYNs dropped, and a client then waits a whole second to retry: with a connection flood, a health
/// probe would be that client. (The kernel caps it at `net.core.somaxconn`.)
const LISTEN_BACKLOG: u32 = 4096;

fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Writes the state file every `[state] save_interval_s` while the state changes, until shutdown.
async fn save_periodically(app: AppState) {
    let every = Duration::from_secs(app.config.state.save_interval_s);
    let mut shutdown = app.shutdown.subscribe();
    loop {
        tokio::select! {
            () = tokio::time::sleep(every) => { save_blocking(&app, false).await; }
            () = crate::connections::stopped(&mut shutdown) => return,
        }
    }
}

/// Saves on a blocking thread (file I/O and fsync stay off the request workers); logs failures.
async fn save_blocking(app: &AppState, force: bool) -> bool {
    let app = app.clone();
    match tokio::task::spawn_blocking(move || crate::persist::save(&app, force)).await {
        Ok(Ok(written)) => written.is_some(),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "saving the state failed; the previous snapshot is intact");
            false
        }
        Err(e) => {
            tracing::error!(error = %e, "saving the state failed");
            false
        }
    }
}

/// A running emulator. Dropping it stops the server.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    state: AppState,
    task: Option<JoinHandle<()>>,
}

impl Server {
    /// Binds `config.server.listen` and serves in a background task. The listener is bound when
    /// this returns, so requests can be sent at once.
    pub async fn start(config: Config) -> Result<Self, StartError> {
        let addr = config.server.listen;
        // The state is loaded before the port opens: nobody sees an empty emulator first.
        let snapshot = match &config.state.file {
            Some(file) => {
                let fail = |message| StartError::State {
                    file: file.clone(),
                    message,
                };
                let snapshot = crate::persist::read(file).map_err(fail)?;
                Some((file.clone(), snapshot))
            }
            None => None,
        };
        let listener = listen(addr).map_err(|source| StartError::Bind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| StartError::Bind { addr, source })?;
        let state = match snapshot {
            Some((file, snapshot)) => AppState::with_snapshot(config, snapshot)
                .map_err(|message| StartError::State { file, message })?,
            None => AppState::new(config),
        };
        let app = crate::api::router(state.clone());
        let shutdown = state.shutdown.subscribe();
        let task = tokio::spawn(crate::connections::serve(listener, app, state.clone(), shutdown));
        if state.config.state.file.is_some() {
            tokio::spawn(save_periodically(state.clone()));
        }
        Ok(Self {
            addr,
            state,
            task: Some(task),
        })
    }

    /// The address it listens on (the real port when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://IP:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The shared state (registry, configuration) for in-process inspection.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The control plane as typed methods (reset, jobs, wait, clock, journal, faults), in-process.
    pub fn control(&self) -> crate::control::Control {
        crate::control::Control::new(self.state.clone())
    }

    /// Serves until `signal` completes (or the server fails), then shuts down gracefully.
    pub async fn shutdown_on(mut self, signal: impl Future<Output = ()>) -> io::Result<()> {
        let Some(mut task) = self.task.take() else {
            return Ok(());
        };
        tokio::select! {
            res = &mut task => return res.map_err(io::Error::other),
            () = signal => {}
        }
        self.task = Some(task);
        self.shutdown().await
    }

    /// Stops accepting, answers long-poll waits, lets in-flight requests finish (at most
    /// `[server] shutdown_grace_s`), and waits for the server.
    pub async fn shutdown(mut self) -> io::Result<()> {
        let started = std::time::Instant::now();
        self.state.shutdown.send_replace(true);
        let Some(task) = self.task.take() else {
            return Ok(());
        };
        let grace = Duration::from_secs(self.state.config.server.shutdown_grace_s + 1);
        let result = match tokio::time::timeout(grace, task).await {
            Ok(res) => res.map_err(io::Error::other),
            Err(_) => Ok(()),
        };
        let saved = match self.state.config.state.file {
            Some(_) => save_blocking(&self.state, true).await,
            None => false,
        };
        let footprint = self.state.jobs.footprint();
        tracing::info!(
            saved,
            jobs = footprint.jobs,
            archives = footprint.archives,
            drain_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            "roma-emulator stopped"
        );
        result
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.state.shutdown.send_replace(true);
    }
}
