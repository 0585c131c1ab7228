//! The composition root's translation: the domain's settings, built from the configuration. The
//! domain modules (`jobs`, `auth`) never read [`Config`]; this file is the one place that knows both.

use std::time::Duration;

use crate::auth;
use crate::config::{AuthMode, Config, Progression};
use crate::error::StatusPolicy;
use crate::jobs::{Asset, Catalog, CatalogLimits, InstanceSeed, JobSettings};

/// The job registry's settings (`[jobs]`, `[archives]`).
pub fn jobs(config: &Config) -> JobSettings {
    JobSettings {
        progression: match config.jobs.progression {
            Progression::Timed => crate::jobs::Progression::Timed,
            Progression::Immediate => crate::jobs::Progression::Immediate,
            Progression::Manual => crate::jobs::Progression::Manual,
        },
        duration: Duration::from_millis(config.jobs.duration_ms),
        retention: Duration::from_secs(config.jobs.retention_s),
        max_jobs: config.jobs.max_jobs,
        max_archive_bytes: config.archives.max_bytes,
    }
}

/// The catalog `[catalog]` and `[[instances]]` describe.
pub fn catalog(config: &Config) -> Catalog {
    let catalog = &config.catalog;
    let limits = CatalogLimits {
        max_instances: catalog.max_instances,
        max_assets_per_instance: catalog.max_assets_per_instance,
        max_bytes_per_instance: catalog.max_bytes_per_instance,
    };
    let seeds: Vec<InstanceSeed> = config
        .instances
        .iter()
        .map(|inst| {
            let assets = |list: &[crate::config::AssetConfig]| {
                list.iter()
                    .map(|a| {
                        let mut asset = Asset::new(&a.id, &a.name, &a.content);
                        // D26: the record of a configured application, dated the Unix epoch.
                        if a.remark.is_some() || a.key.is_some() || a.favorite {
                            asset.info = Some(Box::new(crate::jobs::AppInfo {
                                remark: a.remark.clone().unwrap_or_default(),
                                favorite: a.favorite,
                                ..crate::jobs::AppInfo::unrecorded(a.key.as_deref().unwrap_or(&a.id))
                            }));
                        }
                        asset
                    })
                    .collect()
            };
            InstanceSeed {
                id: inst.id.clone(),
                project: inst.project.clone(),
                apps: assets(&inst.apps),
                tasks: assets(&inst.tasks),
            }
        })
        .collect();
    Catalog::new(catalog.strict, limits, &seeds)
}

/// The authenticator's settings (`[auth]`).
pub fn auth(config: &Config) -> auth::Settings {
    let c = &config.auth;
    auth::Settings {
        mode: match c.mode {
            AuthMode::Open => auth::Mode::Open,
            AuthMode::Strict => auth::Mode::Strict,
        },
        users: c
            .users
            .iter()
            .map(|u| auth::UserSpec {
                name: u.name.clone(),
                token: u.token.clone(),
                password: u.password.clone(),
                domain: u.domain.clone(),
                access_key: u.access_key.clone(),
                secret_key: u.secret_key.clone(),
                projects: u.projects.clone(),
            })
            .collect(),
        token_ttl: Duration::from_secs(c.token_ttl_s),
        ak_lockout: c.ak_lockout,
        project_names: c
            .projects
            .iter()
            .map(|p| (p.id.clone(), p.name.clone()))
            .collect(),
    }
}

/// The status policy of the asset API (`[api] error_statuses`, D1).
pub fn api_statuses(config: &Config) -> StatusPolicy {
    match config.api.error_statuses {
        crate::config::ErrorStatuses::Documented => StatusPolicy::Documented,
        crate::config::ErrorStatuses::Catalog => StatusPolicy::Catalog,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_domains_defaults_are_the_configurations() {
        let config = Config::default();
        assert_eq!(Catalog::default(), catalog(&config));
        let defaults = JobSettings::default();
        let built = jobs(&config);
        assert_eq!(
            (
                built.progression,
                built.duration,
                built.retention,
                built.max_jobs,
                built.max_archive_bytes
            ),
            (
                defaults.progression,
                defaults.duration,
                defaults.retention,
                defaults.max_jobs,
                defaults.max_archive_bytes
            )
        );
    }
}
