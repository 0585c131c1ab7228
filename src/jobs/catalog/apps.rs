//! The cloud's own view of one namespace's catalog: applications made, changed, listed, found and
//! deleted one by one (CreateRomaApp … ValidateRomaApp), tasks listed, shown and deleted (FDI), and
//! the instances of a project (CheckRomaInstanceListV2). The same assets the asset jobs export,
//! import and delete (D26). Pure data: times and users are given.

use std::sync::Arc;

use serde::Deserialize;

use super::Catalog;
use crate::clock::Timestamp;
use crate::jobs::asset::{AppInfo, Asset};
use crate::jobs::error::JobError;
use crate::jobs::job::ResourceType;
use crate::scope::Scope;

/// The most characters of an application's name and key (D26).
pub const MAX_NAME_CHARS: usize = 64;
/// The fewest characters of a given key or secret (D26).
pub const MIN_KEY_CHARS: usize = 8;
/// The most characters of a remark (D26).
pub const MAX_REMARK_CHARS: usize = 200;
/// The most items one page of a list returns (ListRomaApp: "at most 999"; larger limits return 999).
pub const MAX_PAGE: usize = 999;

/// A CreateRomaApp body (`CreateAppReq`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewApp {
    /// The name (required, unique in the instance).
    #[serde(default)]
    pub name: Option<String>,
    /// The description.
    #[serde(default)]
    pub remark: Option<String>,
    /// The access key (drawn when absent; unique in the instance).
    #[serde(default)]
    pub key: Option<String>,
    /// The secret (drawn when absent; checked, not kept).
    #[serde(default)]
    pub secret: Option<String>,
    /// A favourite.
    #[serde(default)]
    pub favorite: Option<bool>,
}

/// An UpdateRomaApp body (`UpdateAppReq`): what is given changes.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AppChange {
    /// The new name.
    #[serde(default)]
    pub name: Option<String>,
    /// The new description.
    #[serde(default)]
    pub remark: Option<String>,
    /// Favourite or not.
    #[serde(default)]
    pub favorite: Option<bool>,
}

/// What ListRomaApp filters on.
#[derive(Debug, Clone, Default)]
pub struct AppFilter {
    /// Part of the name (fuzzy, as the page says).
    pub name: Option<String>,
    /// Favourites only (`true`) or the others (`false`).
    pub favorite: Option<bool>,
    /// Made by the caller (`true`) or by others (`false`).
    pub owner: Option<bool>,
    /// The caller's name, for `owner`.
    pub caller: String,
}

/// What ListTasks filters on.
#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    /// Part of the name.
    pub name: Option<String>,
    /// The task id.
    pub task_id: Option<String>,
}

/// One page of a list: how many match, and the page's items.
#[derive(Debug, Clone, Default)]
pub struct Page {
    /// How many match the filter.
    pub total: usize,
    /// The page's items.
    pub items: Vec<Arc<Asset>>,
}

fn invalid(field: &str, why: impl std::fmt::Display) -> JobError {
    JobError::Invalid(format!("{field}: {why}"))
}

/// The characters the pages allow in a name: letters, digits, Chinese, `-`, `_`, `.`, space and
/// both kinds of parentheses.
fn name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || is_chinese(c) || "-_. ()（）".contains(c)
}

fn is_chinese(c: char) -> bool {
    ('\u{4e00}'..='\u{9fa5}').contains(&c)
}

/// Checks a name against the pages' rules.
pub fn check_name(name: &str) -> Result<(), JobError> {
    let chars = name.chars().count();
    if chars == 0 || chars > MAX_NAME_CHARS {
        return Err(invalid("name", format!("1 to {MAX_NAME_CHARS} characters")));
    }
    if let Some(c) = name.chars().find(|c| !name_char(*c)) {
        return Err(invalid(
            "name",
            format!("{c:?} is not allowed (letters, digits, Chinese, - _ . space and parentheses)"),
        ));
    }
    Ok(())
}

fn check_key(key: &str) -> Result<(), JobError> {
    let chars = key.chars().count();
    if !(MIN_KEY_CHARS..=MAX_NAME_CHARS).contains(&chars) {
        return Err(invalid(
            "key",
            format!("{MIN_KEY_CHARS} to {MAX_NAME_CHARS} characters"),
        ));
    }
    let first_ok = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || is_chinese(c));
    let all_ok = key
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || is_chinese(c) || "-_@.".contains(c));
    if !first_ok || !all_ok {
        return Err(invalid(
            "key",
            "letters, digits, Chinese, - _ @ and ., starting with a letter, a digit or Chinese",
        ));
    }
    Ok(())
}

fn check_secret(secret: &str) -> Result<(), JobError> {
    let chars = secret.chars().count();
    if !(MIN_KEY_CHARS..=MAX_NAME_CHARS).contains(&chars) {
        return Err(invalid(
            "secret",
            format!("{MIN_KEY_CHARS} to {MAX_NAME_CHARS} characters"),
        ));
    }
    if !secret
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "!@#$%+=.-/".contains(c))
    {
        return Err(invalid("secret", "letters, digits and ! @ # $ % + = . - /"));
    }
    Ok(())
}

fn check_remark(remark: &str) -> Result<(), JobError> {
    if remark.chars().count() > MAX_REMARK_CHARS {
        return Err(invalid(
            "remark",
            format!("at most {MAX_REMARK_CHARS} characters"),
        ));
    }
    Ok(())
}

impl NewApp {
    /// Checks every field given; a name is required.
    pub fn check(&self) -> Result<(), JobError> {
        check_name(self.name.as_deref().ok_or_else(|| invalid("name", "required"))?)?;
        self.remark.as_deref().map_or(Ok(()), check_remark)?;
        self.key.as_deref().map_or(Ok(()), check_key)?;
        self.secret.as_deref().map_or(Ok(()), check_secret)
    }
}

impl AppChange {
    /// Checks every field given.
    pub fn check(&self) -> Result<(), JobError> {
        self.name.as_deref().map_or(Ok(()), check_name)?;
        self.remark.as_deref().map_or(Ok(()), check_remark)
    }
}

fn contains_ci(haystack: &str, needle: &str) -> bool {
    haystack.to_lowercase().contains(&needle.to_lowercase())
}

fn page_of(mut matching: Vec<Arc<Asset>>, offset: usize, limit: usize) -> Page {
    let total = matching.len();
    let start = offset.min(total);
    let end = start.saturating_add(limit.min(MAX_PAGE)).min(total);
    matching.truncate(end);
    Page {
        total,
        items: matching.split_off(start),
    }
}

fn not_found(kind: &str, id: &str) -> JobError {
    JobError::NotFound {
        id: id.to_owned(),
        details: format!("{kind} {id} does not exist in this instance"),
        facts: Vec::new(),
    }
}

impl Catalog {
    /// `ROMA.00110002` for an instance a strict catalog does not have, on every operation of it
    /// (D2): the asset jobs, their GETs and the catalog operations.
    pub fn instance_exists(&self, scope: &Scope) -> Result<(), JobError> {
        if self.has_instance(scope) {
            Ok(())
        } else {
            Err(JobError::InstanceNotFound {
                project: scope.project.to_string(),
                instance: scope.instance.to_string(),
            })
        }
    }

    /// Whether another application of `scope` than `except` has this name or key.
    fn clash(
        &self,
        scope: &Scope,
        except: &str,
        name: Option<&str>,
        key: Option<&str>,
    ) -> Result<(), JobError> {
        for app in self.assets(scope).apps.values().filter(|a| a.id != except) {
            if name.is_some_and(|n| n == app.name) {
                return Err(invalid(
                    "name",
                    format!("an application named {:?} exists in this instance", app.name),
                ));
            }
            if key.is_some_and(|k| k == key_of(app)) {
                return Err(invalid(
                    "key",
                    "another application of this instance has this key",
                ));
            }
        }
        Ok(())
    }

    /// Adds the application `new` as `id` (CreateRomaApp), within the catalog's limits.
    pub fn create_app(
        &mut self,
        scope: &Scope,
        id: String,
        new: NewApp,
        drawn_key: String,
        now: Timestamp,
        user: &str,
    ) -> Result<Arc<Asset>, JobError> {
        self.instance_exists(scope)?;
        new.check()?;
        let name = new.name.unwrap_or_default();
        let key = new.key.unwrap_or(drawn_key);
        self.clash(scope, &id, Some(&name), Some(&key))?;
        let asset = Asset {
            id,
            name,
            content: crate::jobs::Content::from_value(&serde_json::Value::Null),
            info: Some(Box::new(AppInfo {
                remark: new.remark.unwrap_or_default(),
                key,
                favorite: new.favorite.unwrap_or(false),
                create_time: now,
                update_time: now,
                created_user: Some(user.to_owned()),
                last_updated_user: Some(user.to_owned()),
            })),
        };
        let package = [(ResourceType::Application, Arc::new(asset))];
        // The same limits as an import (`[catalog]`), with the same words.
        self.import(scope, &package, crate::jobs::ImportMode::Merge)
            .map_err(|reasons| {
                let why = reasons.first().map_or_else(String::new, |r| r.error_msg.clone());
                JobError::Capacity(format!("the application cannot be added: {why}"))
            })?;
        self.touch(scope);
        let [(_, made)] = package;
        Ok(made)
    }

    /// The application `id` of `scope` (CheckRomaAppDetails).
    pub fn app(&self, scope: &Scope, id: &str) -> Result<Arc<Asset>, JobError> {
        self.instance_exists(scope)?;
        self.assets(scope)
            .apps
            .get(id)
            .cloned()
            .ok_or_else(|| not_found("application", id))
    }

    /// Changes the application `id` (UpdateRomaApp).
    pub fn update_app(
        &mut self,
        scope: &Scope,
        id: &str,
        change: AppChange,
        now: Timestamp,
        user: &str,
    ) -> Result<Arc<Asset>, JobError> {
        let old = self.app(scope, id)?;
        change.check()?;
        self.clash(scope, id, change.name.as_deref(), None)?;
        let mut app = Asset::clone(&old);
        let mut info = app
            .info
            .take()
            .map_or_else(|| AppInfo::unrecorded(&old.id), |b| *b);
        if let Some(name) = change.name {
            app.name = name;
        }
        if let Some(remark) = change.remark {
            info.remark = remark;
        }
        if let Some(favorite) = change.favorite {
            info.favorite = favorite;
        }
        info.update_time = now;
        info.last_updated_user = Some(user.to_owned());
        app.info = Some(Box::new(info));
        let app = Arc::new(app);
        self.assets_mut(scope)
            .insert(ResourceType::Application, app.clone());
        self.touch(scope);
        Ok(app)
    }

    /// Removes the application `id` (DeleteRomaApp).
    pub fn delete_app(&mut self, scope: &Scope, id: &str) -> Result<(), JobError> {
        self.app(scope, id)?;
        self.assets_mut(scope).remove(ResourceType::Application, id);
        self.forget_if_empty(scope);
        Ok(())
    }

    /// One page of `scope`'s applications matching `filter`, favourites first, then by id
    /// (ListRomaApp). Costs what the instance holds, at most `max_assets_per_instance`.
    pub fn apps(
        &self,
        scope: &Scope,
        filter: &AppFilter,
        offset: usize,
        limit: usize,
    ) -> Result<Page, JobError> {
        self.instance_exists(scope)?;
        let (mut favourites, mut others) = (Vec::new(), Vec::new());
        for app in self.assets(scope).apps.values() {
            let info = app.info.as_deref();
            let favorite = info.is_some_and(|i| i.favorite);
            let mine = info.and_then(|i| i.created_user.as_deref()) == Some(filter.caller.as_str());
            let keep = filter.name.as_deref().is_none_or(|n| contains_ci(&app.name, n))
                && filter.favorite.is_none_or(|f| f == favorite)
                && filter.owner.is_none_or(|o| o == mine);
            if keep {
                if favorite { &mut favourites } else { &mut others }.push(app.clone());
            }
        }
        favourites.append(&mut others);
        Ok(page_of(favourites, offset, limit))
    }

    /// The application of `scope` with this exact name, id and key, each when given
    /// (ValidateRomaApp).
    pub fn find_app(
        &self,
        scope: &Scope,
        name: Option<&str>,
        id: Option<&str>,
        key: Option<&str>,
    ) -> Result<Arc<Asset>, JobError> {
        self.instance_exists(scope)?;
        let what = id.or(name).or(key).unwrap_or("-");
        self.assets(scope)
            .apps
            .values()
            .find(|a| {
                name.is_none_or(|n| n == a.name)
                    && id.is_none_or(|i| i == a.id)
                    && key.is_none_or(|k| k == key_of(a))
            })
            .cloned()
            .ok_or_else(|| not_found("application", what))
    }

    /// One page of `scope`'s tasks matching `filter`, by id (ListTasks).
    pub fn tasks(
        &self,
        scope: &Scope,
        filter: &TaskFilter,
        offset: usize,
        limit: usize,
    ) -> Result<Page, JobError> {
        self.instance_exists(scope)?;
        let matching = self
            .assets(scope)
            .tasks
            .values()
            .filter(|t| {
                filter.name.as_deref().is_none_or(|n| contains_ci(&t.name, n))
                    && filter.task_id.as_deref().is_none_or(|i| i == t.id)
            })
            .cloned()
            .collect();
        Ok(page_of(matching, offset, limit))
    }

    /// The task `id` of `scope` (ShowTask).
    pub fn task(&self, scope: &Scope, id: &str) -> Result<Arc<Asset>, JobError> {
        self.instance_exists(scope)?;
        self.assets(scope)
            .tasks
            .get(id)
            .cloned()
            .ok_or_else(|| not_found("task", id))
    }

    /// Removes the task `id` (DeleteTask).
    pub fn delete_task(&mut self, scope: &Scope, id: &str) -> Result<(), JobError> {
        self.task(scope, id)?;
        self.assets_mut(scope).remove(ResourceType::Task, id);
        self.forget_if_empty(scope);
        Ok(())
    }

    /// Notes that `scope` was used (a job, an application), so CheckRomaInstanceListV2 lists it
    /// even when it holds no asset; at most `max_instances` are noted.
    pub fn touch(&mut self, scope: &Scope) {
        if self.used.len() < self.limits.max_instances && !self.used.contains(scope) {
            self.used.insert(scope.clone());
        }
    }

    /// The instance ids of `project`, sorted: the configured ones (of that project, or of every
    /// project), those holding assets, and those used since the start (CheckRomaInstanceListV2).
    pub fn instances(&self, project: &str) -> Vec<String> {
        let configured = self
            .seeds
            .iter()
            .filter(|(_, seed)| seed.project.as_deref().is_none_or(|p| p == project))
            .map(|(id, _)| id.to_string());
        let held = self
            .namespaces
            .keys()
            .chain(&self.used)
            .filter(|scope| scope.project.as_str() == project)
            .map(|scope| scope.instance.to_string());
        let mut ids: Vec<String> = configured.chain(held).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }
}

/// The key of an application: its record's, else its id (a configured or packaged one).
pub fn key_of(app: &Asset) -> &str {
    app.info.as_ref().map_or(app.id.as_str(), |i| i.key.as_str())
}
