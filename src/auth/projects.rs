//! The IAM projects a caller sees (KeystoneListProjects, KeystoneListAuthProjects) and the
//! details of an issued token (KeystoneValidateToken). No HTTP here.

use super::{AuthError, Authenticator, Caller, IssuedScope, IssuedToken, iam};

/// A project as IAM lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// Its id (as in the paths).
    pub id: String,
    /// Its name (a region's default project is named after the region).
    pub name: String,
}

impl Authenticator {
    /// Every project: `[[auth.projects]]`, and the seed region's default project when none is
    /// named after the region; by id.
    pub fn projects(&self) -> Vec<Project> {
        let mut all: Vec<Project> = self
            .project_names
            .iter()
            .map(|(id, name)| Project {
                id: id.clone(),
                name: name.clone(),
            })
            .collect();
        if !all.iter().any(|p| p.name == iam::REGION) {
            all.push(Project {
                id: iam::stable_id("project", iam::REGION),
                name: iam::REGION.to_owned(),
            });
        }
        all.sort_by(|a, b| a.id.cmp(&b.id));
        all
    }

    /// The projects `caller` may use: a project-scoped token's one project, else the user's
    /// `projects` list (each named as `[[auth.projects]]` names it), else every project.
    pub fn usable_projects(&self, caller: &Caller) -> Vec<Project> {
        let named = |id: &str| {
            let (id, name) = self.project(Some(id), None);
            Project { id, name }
        };
        match (&caller.scope, &caller.projects) {
            (Some(IssuedScope::Project(p)), _) => vec![named(p)],
            (_, Some(list)) => {
                let mut mine: Vec<Project> = list.iter().map(|p| named(p)).collect();
                mine.sort_by(|a, b| a.id.cmp(&b.id));
                mine
            }
            (_, None) => self.projects(),
        }
    }

    /// The account (IAM domain) of `user`: its configured `domain`, else its own name (as token
    /// bodies write it).
    pub fn domain_of(&self, user: &str) -> String {
        self.users
            .by_name(user)
            .and_then(|u| u.domain.clone())
            .unwrap_or_else(|| user.to_owned())
    }

    /// What the issued token `token` holds, if it is still good: issued by this emulator (with
    /// this token key), not expired, and its user unchanged (D21). Configured static tokens and
    /// open-mode tokens are no IAM tokens: they are not found.
    pub fn inspect(&self, token: &str) -> Result<IssuedToken, AuthError> {
        let token = token.trim();
        if !token.starts_with(iam::TOKEN_PREFIX) {
            return Err(AuthError::BadToken("not a token issued by POST /v3/auth/tokens"));
        }
        let (claims, user) = self.good_claims(token)?;
        Ok(IssuedToken {
            token: token.to_owned(),
            domain: user.domain.clone().unwrap_or_else(|| claims.user.clone()),
            project: claims.project.as_deref().map(|p| self.project(Some(p), None)),
            user: claims.user,
            issued_at: claims.issued_at,
            expires_at: claims.expires_at,
        })
    }
}
