//! The server handle that `main` and the tests share: bind, serve in the background, stop.

use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::app::App;
use crate::config::Config;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The listen address could not be resolved or bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address as configured.
        addr: String,
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

/// The address to bind for `HOST:PORT`: an IP as it is, a host name through the resolver (its
/// first IPv4 address if it has one, as `localhost` users expect).
async fn resolve(listen: &str) -> io::Result<SocketAddr> {
    if let Ok(addr) = listen.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host(listen).await?.collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or(addrs.first())
        .copied()
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "the host name has no address"))
}

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
async fn save_periodically(app: App) {
    let every = Duration::from_secs(app.config.state.save_interval_s);
    let mut shutdown = app.shutdown.subscribe();
    loop {
        tokio::select! {
            () = tokio::time::sleep(every) => { save_blocking(&app, false).await; }
            () = crate::transport::stopped(&mut shutdown) => return,
        }
    }
}

/// Saves on a blocking thread (file I/O and fsync stay off the request workers); logs failures.
async fn save_blocking(state: &App, force: bool) -> bool {
    let app = state.clone();
    match tokio::task::spawn_blocking(move || app.save(force)).await {
        Ok(Ok(written)) => written.is_some(),
        Ok(Err(e)) => {
            let on_disk = state.on_disk();
            tracing::error!(error = %e, on_disk, "saving the state failed");
            false
        }
        Err(e) => {
            let on_disk = state.on_disk();
            tracing::error!(error = %e, on_disk, "saving the state failed");
            false
        }
    }
}

/// `http://IP:PORT` for `addr`, the loopback address of its family when it is a wildcard.
fn callable(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, addr.port()))
}

/// Whether a control plane without an admin token listening on `ip` can be reached from other
/// machines.
pub fn control_plane_exposed(ip: IpAddr, has_admin_token: bool) -> bool {
    !has_admin_token && !ip.is_loopback()
}

/// A running emulator. Dropping it stops the server.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    /// Where `[server] probe_listen` serves the probes, if it is set.
    probe_addr: Option<SocketAddr>,
    state: App,
    task: Option<JoinHandle<()>>,
    max_connections: usize,
    fd_limit: Option<u64>,
    /// The lock of the state file, held while the server lives.
    _state_lock: Option<std::fs::File>,
}

impl Server {
    /// Binds `config.server.listen` and serves in a background task. The listener is bound when
    /// this returns, so requests can be sent at once.
    pub async fn start(mut config: Config) -> Result<Self, StartError> {
        let bundle = match config.state.bundle.clone() {
            Some(file) => Some((
                file.clone(),
                crate::persist::load_bundle(&file, &mut config)
                    .map_err(|message| StartError::State { file, message })?,
            )),
            None => None,
        };
        let addr = config.server.listen.clone();
        // The state is loaded before the port opens: nobody sees an empty emulator first.
        let (snapshot, state_lock) = match &config.state.file {
            Some(file) => {
                let fail = |message| StartError::State {
                    file: file.clone(),
                    message,
                };
                let lock = crate::persist::claim(file).map_err(fail)?;
                let snapshot = crate::persist::read(file, config.catalog.max_instances).map_err(fail)?;
                (Some((file.clone(), snapshot)), Some(lock))
            }
            None => (bundle.map(|(file, snapshot)| (file, Some(snapshot))), None),
        };
        let bind_to = resolve(&addr).await.map_err(|source| StartError::Bind {
            addr: addr.clone(),
            source,
        })?;
        let listener = listen(bind_to).map_err(|source| StartError::Bind {
            addr: addr.clone(),
            source,
        })?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind {
            addr: addr.clone(),
            source,
        })?;
        let state = match snapshot {
            Some((file, snapshot)) => {
                App::with_snapshot(config, snapshot).map_err(|message| StartError::State { file, message })?
            }
            None => App::new(config),
        };
        let fd_limit = crate::transport::fd::raise_limit();
        let max_connections =
            crate::transport::fd::connection_cap(state.config.server.max_connections, fd_limit);
        if max_connections < state.config.server.max_connections {
            tracing::warn!(
                configured = state.config.server.max_connections,
                max_connections,
                fd_limit,
                "server.max_connections is lowered to fit under the open-file limit (raise `ulimit -n` to serve more)"
            );
        }
        let limits = crate::transport::Limits::new(&state, max_connections);
        let app = crate::api::router(state.clone());
        let probe_addr = match &state.config.server.probe_listen {
            Some(probes) => {
                let bind_fail = |source| StartError::Bind {
                    addr: probes.clone(),
                    source,
                };
                let listener = listen(resolve(probes).await.map_err(bind_fail)?).map_err(bind_fail)?;
                let bound = listener.local_addr().map_err(bind_fail)?;
                tokio::spawn(crate::transport::probes::serve(
                    listener,
                    app.clone(),
                    state.shutdown.subscribe(),
                ));
                Some(bound)
            }
            None => None,
        };
        let shutdown = state.shutdown.subscribe();
        let task = tokio::spawn(crate::transport::serve(
            listener,
            app,
            state.clone(),
            limits,
            shutdown,
        ));
        if state.config.state.file.is_some() {
            tokio::spawn(save_periodically(state.clone()));
        }
        Ok(Self {
            addr,
            probe_addr,
            state,
            task: Some(task),
            max_connections,
            fd_limit,
            _state_lock: state_lock,
        })
    }

    /// The connection cap in force: `[server] max_connections`, lowered to fit under the
    /// open-file limit if need be.
    pub fn max_connections(&self) -> usize {
        self.max_connections
    }

    /// The soft limit of open files, after raising it to the hard limit (`None`: unknown).
    pub fn fd_limit(&self) -> Option<u64> {
        self.fd_limit
    }

    /// Whether the control plane (`/_emulator/*`) is open to other machines: no
    /// `[emulator] admin_token` and a listen address other than loopback.
    pub fn control_plane_exposed(&self) -> bool {
        control_plane_exposed(self.addr.ip(), self.state.config.emulator.admin_token.is_some())
    }

    /// The address it listens on (the real port when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://IP:PORT`, an address a client can call: when the server listens on every address
    /// (`0.0.0.0`, `::`), the loopback address of the same family.
    pub fn base_url(&self) -> String {
        callable(self.addr)
    }

    /// The URL of the probe listener (`[server] probe_listen`), if it is set.
    pub fn probe_url(&self) -> Option<String> {
        self.probe_addr.map(callable)
    }

    /// The shared state (registry, configuration) for in-process inspection.
    pub fn state(&self) -> &App {
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
            on_disk = self.state.on_disk(),
            jobs = footprint.jobs,
            archives = footprint.archives,
            drain_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            "roma-emulator stopped"
        );
        if self.state.config.state.file.is_some() && !saved {
            return Err(io::Error::other(format!(
                "the state was not saved at shutdown: {}",
                self.state.on_disk()
            )));
        }
        result
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.state.shutdown.send_replace(true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_open_control_plane_is_exposed_off_loopback_only() {
        let any: IpAddr = "0.0.0.0".parse().expect("ip");
        let local: IpAddr = "127.0.0.1".parse().expect("ip");
        assert!(control_plane_exposed(any, false));
        assert!(!control_plane_exposed(any, true));
        assert!(!control_plane_exposed(local, false));
        assert!(control_plane_exposed("10.1.2.3".parse().expect("ip"), false));
        assert!(!control_plane_exposed("::1".parse().expect("ip"), false));
    }
}
