//! The registry's side of the cloud's catalog operations (applications, tasks, instances): each
//! takes the lock once, briefly, and hands the catalog's rules the time and the user.

use std::sync::Arc;

use super::JobRegistry;
use crate::jobs::asset::Asset;
use crate::jobs::catalog::{AppChange, AppFilter, NewApp, Page, TaskFilter};
use crate::jobs::error::JobError;
use crate::scope::{Scope, UserId};

/// A drawn id in the form ROMA writes application ids (a UUID with hyphens).
fn uuid_form(hex: &str) -> String {
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

impl JobRegistry {
    /// CreateRomaApp: the application as made.
    pub fn create_app(&self, owner: &UserId, scope: &Scope, new: NewApp) -> Result<Arc<Asset>, JobError> {
        let id = uuid_form(self.inner.ids.draws.next_id().hex().as_str());
        let key = self.inner.ids.draws.next_id().hex().as_str().to_owned();
        let made = {
            let (mut state, now) = self.lock();
            state.catalog.create_app(scope, id, new, key, now, owner)?
        };
        self.notify();
        Ok(made)
    }

    /// CheckRomaAppDetails.
    pub fn app(&self, scope: &Scope, id: &str) -> Result<Arc<Asset>, JobError> {
        self.lock().0.catalog.app(scope, id)
    }

    /// UpdateRomaApp: the application as changed.
    pub fn update_app(
        &self,
        owner: &UserId,
        scope: &Scope,
        id: &str,
        change: AppChange,
    ) -> Result<Arc<Asset>, JobError> {
        let changed = {
            let (mut state, now) = self.lock();
            state.catalog.update_app(scope, id, change, now, owner)?
        };
        self.notify();
        Ok(changed)
    }

    /// DeleteRomaApp.
    pub fn delete_app(&self, scope: &Scope, id: &str) -> Result<(), JobError> {
        self.lock().0.catalog.delete_app(scope, id)?;
        self.notify();
        Ok(())
    }

    /// ListRomaApp.
    pub fn apps(
        &self,
        scope: &Scope,
        filter: &AppFilter,
        offset: usize,
        limit: usize,
    ) -> Result<Page, JobError> {
        self.lock().0.catalog.apps(scope, filter, offset, limit)
    }

    /// ValidateRomaApp.
    pub fn find_app(
        &self,
        scope: &Scope,
        name: Option<&str>,
        id: Option<&str>,
        key: Option<&str>,
    ) -> Result<Arc<Asset>, JobError> {
        self.lock().0.catalog.find_app(scope, name, id, key)
    }

    /// ListTasks.
    pub fn tasks(
        &self,
        scope: &Scope,
        filter: &TaskFilter,
        offset: usize,
        limit: usize,
    ) -> Result<Page, JobError> {
        self.lock().0.catalog.tasks(scope, filter, offset, limit)
    }

    /// ShowTask.
    pub fn task(&self, scope: &Scope, id: &str) -> Result<Arc<Asset>, JobError> {
        self.lock().0.catalog.task(scope, id)
    }

    /// DeleteTask.
    pub fn delete_task(&self, scope: &Scope, id: &str) -> Result<(), JobError> {
        self.lock().0.catalog.delete_task(scope, id)?;
        self.notify();
        Ok(())
    }

    /// CheckRomaInstanceListV2: the instance ids of `project`.
    pub fn instances(&self, project: &str) -> Vec<String> {
        self.lock().0.catalog.instances(project)
    }
}
