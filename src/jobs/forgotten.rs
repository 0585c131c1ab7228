//! What the registry forgot, and why: the last [`KEEP`] jobs and archives that expired, were
//! evicted at a cap or (archives) were downloaded. A later request for one of them is still not
//! found (the cloud's answer), but its refusal can say why (diagnostics only: never in a body).
//! Bounded, and not part of a snapshot.

use std::collections::VecDeque;
use std::sync::Arc;

use super::job::Tenant;
use super::table::IdMap;
use crate::clock::Timestamp;
use crate::ids::Hex32;

/// How many forgotten ids are remembered.
pub const KEEP: usize = 4096;

/// Why an id is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GoneWhy {
    /// An archive's one download happened, by this request (none for the control plane).
    Downloaded(Option<Hex32>),
    /// Retention passed after the job ended (`[jobs] retention_s`).
    Expired,
    /// Dropped to make room (`[jobs] max_jobs` or `max_archive_bytes`).
    Evicted,
}

/// A forgotten id.
#[derive(Debug, Clone)]
pub struct Gone {
    /// Whose it was.
    pub tenant: Arc<Tenant>,
    /// Why it went.
    pub why: GoneWhy,
    /// When (the emulator's clock), where known (an eviction happens when room is needed).
    pub at: Option<Timestamp>,
    /// Whether the id is an archive's (else a job's).
    pub archive: bool,
}

/// The bounded memory of forgotten ids, oldest dropped first.
#[derive(Debug, Default)]
pub struct Forgotten {
    /// Hashed as the job table is (foldhash: the ids are random, and this is on the hot path of
    /// every export at the `max_jobs` cap, which evicts one job a request).
    gone: IdMap<Gone>,
    order: VecDeque<Hex32>,
}

impl Forgotten {
    /// Remembers that `id` went.
    pub fn note(&mut self, id: Hex32, gone: Gone) {
        if self.gone.insert(id, gone).is_none() {
            self.order.push_back(id);
        }
        while self.order.len() > KEEP {
            if let Some(old) = self.order.pop_front() {
                self.gone.remove(&old);
            }
        }
    }

    /// Every remembered id with why it went, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = (&Hex32, &Gone)> {
        self.order.iter().filter_map(|id| Some((id, self.gone.get(id)?)))
    }

    /// Why `id` went, if it is remembered.
    pub fn get(&self, id: &Hex32) -> Option<&Gone> {
        self.gone.get(id)
    }

    /// How many ids are remembered.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

/// The facts of a refusal: why `owner` under `scope` finds no `what` (`job` or `archive`) `id`,
/// given the live job that has it (`live`, of whatever tenant) or what `forgotten` remembers.
/// Empty when nothing is known (an id never issued).
pub fn explain(
    what: &str,
    owner: &str,
    scope: &crate::scope::Scope,
    live: Option<&Tenant>,
    forgotten: &Forgotten,
    id: &Hex32,
    retention_s: u64,
) -> Vec<(&'static str, String)> {
    let gone = if live.is_some() { None } else { forgotten.get(id) };
    let Some(tenant) = live.or(gone.map(|g| &*g.tenant)) else {
        return Vec::new();
    };
    if *tenant.owner != *owner {
        return vec![("cause", format!("the {what} belongs to another user"))];
    }
    let mut causes = Vec::new();
    let mut facts = Vec::new();
    if tenant.scope != *scope {
        let (project, instance) = (tenant.scope.project.as_str(), tenant.scope.instance.as_str());
        causes.push(format!(
            "the {what} belongs to project {project}, instance {instance}: poll and download under the namespace that created it"
        ));
        facts.push(("project_id", project.to_owned()));
        facts.push(("instance_id", instance.to_owned()));
    }
    if let Some(gone) = gone {
        let at = gone.at.map(Timestamp::rfc3339_millis);
        match gone.why {
            GoneWhy::Downloaded(request) => {
                causes
                    .push("the archive was already downloaded: an archive can be downloaded once".to_owned());
                facts.extend(request.map(|r| ("consumed_by", r.to_string())));
                facts.extend(at.map(|at| ("consumed_at", at)));
            }
            GoneWhy::Expired => {
                causes.push(format!(
                    "the {what} expired: ended jobs and their archives are kept for jobs.retention_s = {retention_s} s"
                ));
                facts.push(("retention_s", retention_s.to_string()));
                facts.extend(at.map(|at| ("gone_at", at)));
            }
            GoneWhy::Evicted => causes.push(format!(
                "the {what} was dropped to make room (jobs.max_jobs or jobs.max_archive_bytes)"
            )),
        }
    }
    if !causes.is_empty() {
        facts.insert(0, ("cause", causes.join("; and ")));
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scope::Scope;

    #[test]
    fn it_remembers_the_newest_keep_ids() {
        let tenant = Arc::new(Tenant {
            owner: "u".into(),
            scope: Scope::new("p", "i").expect("scope"),
        });
        let mut f = Forgotten::default();
        for n in 0..(KEEP as u128 + 10) {
            let gone = Gone {
                tenant: tenant.clone(),
                why: GoneWhy::Expired,
                at: Some(Timestamp(0)),
                archive: false,
            };
            f.note(Hex32::from_u128(n), gone);
        }
        assert_eq!(f.len(), KEEP);
        assert!(f.get(&Hex32::from_u128(0)).is_none());
        assert!(f.get(&Hex32::from_u128(KEEP as u128 + 9)).is_some());
    }
}
