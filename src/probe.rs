//! `roma-emulator healthcheck`: asks a running emulator's `/_emulator/health` over plain HTTP, so
//! a container image needs no curl. Exit 0 when it answers 200 within the timeout, which bounds
//! the whole exchange (connect, write, every read), not each step.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// The health URL of a server listening on `listen` (`HOST:PORT`): a wildcard address (`0.0.0.0`,
/// `::`) is asked on the loopback address of its family.
pub fn health_url(listen: &str) -> String {
    let (host, port) = listen.rsplit_once(':').unwrap_or((listen, "8080"));
    let host = match host.trim_start_matches('[').trim_end_matches(']') {
        "0.0.0.0" | "" => "127.0.0.1".to_owned(),
        "::" => "[::1]".to_owned(),
        h if h.contains(':') => format!("[{h}]"),
        h => h.to_owned(),
    };
    format!("http://{host}:{port}/_emulator/health")
}

/// `GET url`; `Ok` when the answer is `200` within `timeout` in all, else why not. Only
/// `http://HOST:PORT/PATH` URLs.
pub fn check(url: &str, timeout: Duration) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    let left = || {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            Err(format!("{url}: no answer within {} ms", timeout.as_millis()))
        } else {
            Ok(left)
        }
    };
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("{url}: only http:// URLs"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/_emulator/health"),
    };
    let addr = authority
        .to_socket_addrs()
        .map_err(|e| format!("{authority}: {e}"))?
        .next()
        .ok_or_else(|| format!("{authority}: no address"))?;
    let mut stream = TcpStream::connect_timeout(&addr, left()?).map_err(|e| format!("{addr}: {e}"))?;
    stream
        .set_write_timeout(Some(left()?))
        .map_err(|e| e.to_string())?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut head = [0u8; 12];
    let mut got = 0;
    while got < head.len() {
        stream
            .set_read_timeout(Some(left()?))
            .map_err(|e| e.to_string())?;
        match stream.read(&mut head[got..]) {
            Ok(0) => return Err(format!("{addr}: closed after {got} bytes")),
            Ok(n) => got += n,
            Err(e) => return Err(format!("{addr}: {e}")),
        }
    }
    match &head {
        b"HTTP/1.1 200" => Ok(()),
        other => Err(format!("{url} answered {:?}", String::from_utf8_lossy(other))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_health_url_of_a_listen_address_is_callable() {
        assert_eq!(
            health_url("0.0.0.0:9000"),
            "http://127.0.0.1:9000/_emulator/health"
        );
        assert_eq!(health_url("[::]:9000"), "http://[::1]:9000/_emulator/health");
        assert_eq!(health_url("localhost:81"), "http://localhost:81/_emulator/health");
        assert_eq!(
            health_url("127.0.0.1:8080"),
            "http://127.0.0.1:8080/_emulator/health"
        );
    }
}
