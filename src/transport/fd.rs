//! The file-descriptor limit: raised to the hard limit at startup, and the connection cap kept
//! below it, so `accept` never fails for want of descriptors before the cap is reached.

use super::table::PROBE_SLOTS;

/// Descriptors kept for everything but connections: the listener, the state file and its temp
/// file, stdio, the runtime's epoll and wakers, the log thread.
pub const HEADROOM: u64 = 64;

/// Raises the soft limit of open files to the hard limit; returns the soft limit in force
/// (`None` where the platform has none or it cannot be read).
pub fn raise_limit() -> Option<u64> {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => Some(limit),
        Err(e) => {
            tracing::warn!(error = %e, "cannot read or raise the open-file limit");
            None
        }
    }
}

/// Newcomers that found no slot, waiting briefly for one or being answered `503 EMULATOR.0503`;
/// past them, newcomers wait in the kernel's backlog until one of these ends.
pub const REFUSALS: usize = 64;

/// Sockets the accept loop may hold at once for a cap of `max_connections`: every slot, and the
/// refusals. It accepts no more until one closes (the rest wait in the kernel's backlog), so
/// `accept` never fails for want of a descriptor.
pub fn socket_budget(max_connections: usize) -> usize {
    max_connections + PROBE_SLOTS + REFUSALS
}

/// The connection cap that fits under `limit` open files with the probe slots, the refusals and
/// the headroom.
pub fn connection_cap(max_connections: usize, limit: Option<u64>) -> usize {
    let Some(limit) = limit else {
        return max_connections;
    };
    let room = limit
        .saturating_sub(HEADROOM + (PROBE_SLOTS + REFUSALS) as u64)
        .max(1);
    max_connections.min(usize::try_from(room).unwrap_or(usize::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_stays_below_the_descriptor_limit() {
        assert_eq!(
            connection_cap(1024, Some(1024)),
            1024 - HEADROOM as usize - PROBE_SLOTS - REFUSALS
        );
        assert!(socket_budget(connection_cap(1024, Some(1024))) as u64 + HEADROOM <= 1024);
        assert_eq!(connection_cap(1024, Some(1 << 20)), 1024);
        assert_eq!(connection_cap(1024, None), 1024);
        assert_eq!(connection_cap(1024, Some(10)), 1);
    }
}
