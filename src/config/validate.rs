//! What types alone cannot check: ranges, addresses, unique names and ids, combinations.

use super::{Config, ConfigError};

impl Config {
    /// Checks what types alone cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.server.request_timeout_ms == 0 {
            return Err(ConfigError::new(
                "server.request_timeout_ms",
                "must be at least 1",
            ));
        }
        host_port("server.listen", &self.server.listen)?;
        if let Some(probes) = &self.server.probe_listen {
            host_port("server.probe_listen", probes)?;
            if *probes == self.server.listen && !probes.ends_with(":0") {
                return Err(ConfigError::new(
                    "server.probe_listen",
                    "must differ from server.listen",
                ));
            }
        }
        if self.server.header_read_timeout_ms == 0 || self.server.header_read_timeout_ms > 3_600_000 {
            return Err(ConfigError::new(
                "server.header_read_timeout_ms",
                "must be 1..3600000 (an hour)",
            ));
        }
        for (key, value) in [
            ("server.body_read_timeout_ms", self.server.body_read_timeout_ms),
            ("server.write_timeout_ms", self.server.write_timeout_ms),
            ("server.large_body_wait_ms", self.server.large_body_wait_ms),
            ("server.min_upload_grace_ms", self.server.min_upload_grace_ms),
        ] {
            if value == 0 || value > 3_600_000 {
                return Err(ConfigError::new(key, "must be 1..3600000 (an hour)"));
            }
        }
        if self.server.max_large_bodies == 0 || self.server.max_large_bodies > 1024 {
            return Err(ConfigError::new("server.max_large_bodies", "must be 1..1024"));
        }
        if self.server.min_upload_bytes_per_s > 1 << 30 {
            return Err(ConfigError::new(
                "server.min_upload_bytes_per_s",
                "must be 0..1073741824 (0 turns the floor off)",
            ));
        }
        for (key, value) in [
            ("gateway.rate_per_user_per_s", self.gateway.rate_per_user_per_s),
            (
                "gateway.rate_per_address_per_s",
                self.gateway.rate_per_address_per_s,
            ),
            ("gateway.burst", self.gateway.burst),
        ] {
            if value > 1_000_000 {
                return Err(ConfigError::new(key, "must be 0..1000000"));
            }
        }
        if self.server.max_connections == 0 {
            return Err(ConfigError::new("server.max_connections", "must be at least 1"));
        }
        if self.server.shutdown_grace_s > 3600 {
            return Err(ConfigError::new(
                "server.shutdown_grace_s",
                "must be at most 3600",
            ));
        }
        if self.server.request_timeout_ms > 3_600_000 {
            return Err(ConfigError::new(
                "server.request_timeout_ms",
                "must be at most 3600000 (an hour)",
            ));
        }
        if self.server.max_body_bytes == 0 {
            return Err(ConfigError::new("server.max_body_bytes", "must be at least 1"));
        }
        const DAY_MS: u64 = 86_400_000;
        if self.jobs.duration_ms > DAY_MS {
            return Err(ConfigError::new(
                "jobs.duration_ms",
                "must be at most 86400000 (a day)",
            ));
        }
        if self
            .emulator
            .admin_token
            .as_ref()
            .is_some_and(|t| t.expose().is_empty())
        {
            return Err(ConfigError::new(
                "emulator.admin_token",
                "must not be empty (leave it out to disable)",
            ));
        }
        const YEAR_S: u64 = 365 * 86_400;
        if self.auth.token_ttl_s == 0 || self.auth.token_ttl_s > YEAR_S {
            return Err(ConfigError::new(
                "auth.token_ttl_s",
                "must be 1..31536000 (a year)",
            ));
        }
        if self.jobs.retention_s > YEAR_S {
            return Err(ConfigError::new(
                "jobs.retention_s",
                "must be at most 31536000 (a year)",
            ));
        }
        if self
            .auth
            .token_key
            .as_ref()
            .is_some_and(|k| k.expose().chars().count() < 32)
        {
            return Err(ConfigError::new(
                "auth.token_key",
                "must be at least 32 characters (leave it out for a random key per start)",
            ));
        }
        if self.state.bundle.is_some() && self.state.file.is_some() {
            return Err(ConfigError::new(
                "state.bundle",
                "give state.file (a stub's state, kept) or state.bundle (a repro, read once), not both",
            ));
        }
        if self.state.save_interval_s == 0 || self.state.save_interval_s > 86_400 {
            return Err(ConfigError::new(
                "state.save_interval_s",
                "must be 1..86400 (a day)",
            ));
        }
        if self.catalog.max_instances == 0
            || self.catalog.max_assets_per_instance == 0
            || self.catalog.max_bytes_per_instance == 0
        {
            return Err(ConfigError::new(
                "catalog",
                "max_instances, max_assets_per_instance and max_bytes_per_instance must be at least 1",
            ));
        }
        if self.jobs.max_jobs == 0 {
            return Err(ConfigError::new("jobs.max_jobs", "must be at least 1"));
        }
        let mut ids = std::collections::HashSet::new();
        for (i, inst) in self.instances.iter().enumerate() {
            crate::scope::check_path_id("id", &inst.id)
                .map_err(|m| ConfigError::new(format!("instances[{i}].id"), m))?;
            if let Some(project) = &inst.project {
                crate::scope::check_path_id("project", project)
                    .map_err(|m| ConfigError::new(format!("instances[{i}].project"), m))?;
            }
            if !ids.insert(inst.id.as_str()) {
                return Err(ConfigError::new(
                    format!("instances[{i}].id"),
                    format!("duplicate instance {:?}", inst.id),
                ));
            }
            for (field, assets) in [("apps", &inst.apps), ("tasks", &inst.tasks)] {
                let mut seen = std::collections::HashSet::new();
                for (j, asset) in assets.iter().enumerate() {
                    if asset.id.is_empty() || asset.id.len() > 128 || !seen.insert(asset.id.as_str()) {
                        return Err(ConfigError::new(
                            format!("instances[{i}].{field}[{j}].id"),
                            "must be 1..128 characters and unique in the instance",
                        ));
                    }
                    let at = |key: &str| format!("instances[{i}].{field}[{j}].{key}");
                    let app_only = asset.remark.is_some() || asset.key.is_some() || asset.favorite;
                    if field == "tasks" && app_only {
                        return Err(ConfigError::new(
                            at("remark"),
                            "remark, key and favorite are an application's",
                        ));
                    }
                    if asset.remark.as_ref().is_some_and(|r| r.chars().count() > 200) {
                        return Err(ConfigError::new(at("remark"), "at most 200 characters (D26)"));
                    }
                    if asset
                        .key
                        .as_ref()
                        .is_some_and(|k| !(8..=64).contains(&k.chars().count()))
                    {
                        return Err(ConfigError::new(at("key"), "8..64 characters (D26)"));
                    }
                }
            }
        }
        if let Some(url) = &self.server.public_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(ConfigError::new(
                "server.public_url",
                format!("expected an http:// or https:// URL, got {url:?}"),
            ));
        }
        let mut project_ids = std::collections::HashSet::new();
        for (i, project) in self.auth.projects.iter().enumerate() {
            crate::scope::check_path_id("id", &project.id)
                .map_err(|m| ConfigError::new(format!("auth.projects[{i}].id"), m))?;
            if !project_ids.insert(project.id.as_str()) {
                return Err(ConfigError::new(
                    format!("auth.projects[{i}].id"),
                    "duplicate project",
                ));
            }
            if project.name.is_empty() || project.name.len() > 64 {
                return Err(ConfigError::new(
                    format!("auth.projects[{i}].name"),
                    "must be 1..64 characters",
                ));
            }
        }
        let mut names = std::collections::HashSet::new();
        let mut tokens = std::collections::HashSet::new();
        let mut access_keys = std::collections::HashSet::new();
        for (i, user) in self.auth.users.iter().enumerate() {
            let key = |field: &str| format!("auth.users[{i}].{field}");
            if user.name.is_empty() || user.name.len() > 64 {
                return Err(ConfigError::new(key("name"), "must be 1..64 characters"));
            }
            if !names.insert(user.name.as_str()) {
                return Err(ConfigError::new(
                    key("name"),
                    format!("duplicate user {:?}", user.name),
                ));
            }
            if user.access_key.is_some() != user.secret_key.is_some() {
                return Err(ConfigError::new(
                    key("secret_key"),
                    "access_key and secret_key go together",
                ));
            }
            if let Some(ak) = &user.access_key
                && (ak.is_empty() || !access_keys.insert(ak.as_str()))
            {
                return Err(ConfigError::new(
                    key("access_key"),
                    "must be non-empty and unique",
                ));
            }
            if user.password.as_ref().is_some_and(|p| p.expose().is_empty()) {
                return Err(ConfigError::new(key("password"), "must not be empty"));
            }
            if let Some(token) = &user.token {
                if token.expose().is_empty() || token.expose().len() > 100_000 {
                    return Err(ConfigError::new(key("token"), "must be 1..100000 characters"));
                }
                if !tokens.insert(token.expose()) {
                    return Err(ConfigError::new(
                        key("token"),
                        "the same token is given to two users",
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Checks that `value` is `HOST:PORT` (an IP or a host name).
fn host_port(key: &str, value: &str) -> Result<(), ConfigError> {
    let port = value
        .rsplit_once(':')
        .map(|(host, port)| (host, port.parse::<u16>()));
    if matches!(port, Some((host, Ok(_))) if !host.is_empty()) {
        Ok(())
    } else {
        Err(ConfigError::new(
            key,
            format!("expected HOST:PORT (an IP or a host name), got {value:?}"),
        ))
    }
}
