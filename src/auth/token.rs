//! `X-Auth-Token`: configured static tokens, tokens this emulator issued (sealed, expiring, scoped,
//! D16), and open mode's keyed user names; and issuing IAM tokens for a password (D14, D17).

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::{
    AuthError, Authenticator, Caller, IssuedScope, MAX_TOKEN_LEN, Mode, PasswordAuth, TokenScope, digest, iam,
};
use crate::clock::Timestamp;
use crate::scope::UserId;

/// A token issued by `POST /v3/auth/tokens`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedToken {
    /// The `X-Subject-Token` value.
    pub token: String,
    /// The user's name.
    pub user: String,
    /// The user's account, as configured (or as the request named it).
    pub domain: String,
    /// When it was issued.
    pub issued_at: Timestamp,
    /// When it expires.
    pub expires_at: Timestamp,
    /// The project it is scoped to, `(id, name)` (`None`: domain-scoped).
    pub project: Option<(String, String)>,
}

impl Authenticator {
    /// Authenticates an `X-Auth-Token` value (`None` when the header is absent): a configured static
    /// token, a token this emulator issued, or (open mode) any other token.
    pub fn token(&self, token: Option<&[u8]>) -> Result<Caller, AuthError> {
        let token = token
            .map(<[u8]>::trim_ascii)
            .filter(|t| !t.is_empty())
            .ok_or(AuthError::Missing)?;
        if token.len() > MAX_TOKEN_LEN {
            return Err(AuthError::TooLong);
        }
        let text =
            std::str::from_utf8(token).map_err(|_| AuthError::BadToken("X-Auth-Token is not valid text"))?;
        let token_digest = digest(token);
        if let Some(user) = self.users.by_token(&token_digest) {
            return Ok(user.caller());
        }
        if text.starts_with(iam::TOKEN_PREFIX) {
            return self.issued(text);
        }
        match self.mode {
            Mode::Strict => Err(AuthError::BadToken("the token is not known (auth.mode = strict)")),
            Mode::Open => Ok(Caller {
                user: self.open_names.name(&token_digest),
                projects: None,
                scope: None,
            }),
        }
    }

    fn issued(&self, token: &str) -> Result<Caller, AuthError> {
        let (claims, user) = self.good_claims(token)?;
        let scope = match claims.project {
            Some(project) => IssuedScope::Project(project.into()),
            None => IssuedScope::Domain,
        };
        Ok(Caller {
            scope: Some(scope),
            ..user.caller()
        })
    }

    /// The claims of an issued token that is still good (sealed with this key, not expired, its user
    /// the same incarnation, D21), and its user.
    pub(super) fn good_claims(
        &self,
        token: &str,
    ) -> Result<(iam::TokenClaims, std::sync::Arc<super::users::User>), AuthError> {
        let claims = iam::open(&self.token_key, token).ok_or(AuthError::BadToken(
            "decrypt token fail: not issued by this emulator (or it has restarted)",
        ))?;
        if self.clock.now() >= claims.expires_at {
            return Err(AuthError::Expired(claims.expires_at.rfc3339_micros()));
        }
        let user = self
            .users
            .by_name(&claims.user)
            .ok_or(AuthError::BadToken("the token's user is no longer configured"))?;
        if claims.incarnation != user.incarnation {
            return Err(AuthError::BadToken(
                "the token's user was deleted or changed since the token was issued",
            ));
        }
        Ok((claims, user))
    }

    /// The `(id, name)` of the project a token request scopes to: by id, named as `[[auth.projects]]`
    /// names it (else [`iam::REGION`]); by name, the configured project of that name (else an id
    /// that is stable for the name).
    pub(super) fn project(&self, id: Option<&str>, name: Option<&str>) -> (String, String) {
        match (id, name) {
            (Some(id), _) => {
                let name = self.project_names.get(id).cloned();
                (id.to_owned(), name.unwrap_or_else(|| iam::REGION.to_owned()))
            }
            (None, Some(name)) => {
                let id = self
                    .project_names
                    .iter()
                    .find(|(_, n)| n.as_str() == name)
                    .map(|(id, _)| id.clone())
                    .unwrap_or_else(|| iam::stable_id("project", name));
                (id, name.to_owned())
            }
            (None, None) => (iam::stable_id("project", iam::REGION), iam::REGION.to_owned()),
        }
    }

    /// Issues an IAM token for a password request.
    pub fn issue(&self, auth: &PasswordAuth) -> Result<IssuedToken, AuthError> {
        let user = self.users.by_name(&auth.user);
        // Compare digests in constant time, and do the same work for unknown users.
        let given = digest(auth.password.as_bytes());
        let stored = user.as_ref().and_then(|u| u.password).unwrap_or([0u8; 32]);
        let password_ok =
            bool::from(given.ct_eq(&stored)) && user.as_ref().is_some_and(|u| u.password.is_some());
        let user = user.filter(|_| password_ok).ok_or(AuthError::WrongPassword)?;
        if let (Some(want), Some(given)) = (&user.domain, &auth.domain)
            && want != given
        {
            return Err(AuthError::WrongPassword);
        }
        let issued_at = self.clock.now();
        let expires_at = issued_at.plus(self.token_ttl);
        let project = match &auth.scope {
            TokenScope::Project { id, name } => Some(self.project(id.as_deref(), name.as_deref())),
            TokenScope::Domain { .. } | TokenScope::Unscoped => None,
        };
        Ok(IssuedToken {
            token: iam::issue(
                &self.token_key,
                &user.name,
                user.incarnation,
                issued_at,
                expires_at,
                project.as_ref().map(|(id, _)| id.as_str()),
            ),
            project,
            user: user.name.to_string(),
            domain: user
                .domain
                .clone()
                .or_else(|| auth.domain.clone())
                .unwrap_or_else(|| user.name.to_string()),
            issued_at,
            expires_at,
        })
    }
}

/// The users unknown tokens and access keys name in open mode: stable per credential (and per
/// token key), and keyed, so that nobody who sees the name (in the journal, a job listing, a log
/// line) can test guesses of the credential against it: `token-` and 16 hex digits of
/// HMAC-SHA256(token key, SHA-256(credential)).
///
/// The last name made is remembered with its digest: a tenant's requests come in runs, and the
/// keyed hash and the name's allocation were a measured part of every open-mode request.
#[derive(Debug)]
pub(super) struct OpenNames {
    mac: Hmac<Sha256>,
    last: std::sync::Mutex<Option<([u8; 32], UserId)>>,
}

impl OpenNames {
    /// Names keyed with `key`.
    pub fn new(key: &[u8; 32]) -> Self {
        Self {
            mac: <Hmac<Sha256> as hmac::digest::KeyInit>::new_from_slice(key)
                .unwrap_or_else(|_| unreachable!("HMAC takes any key length")),
            last: std::sync::Mutex::new(None),
        }
    }

    /// The name of the credential whose SHA-256 is `digest`.
    pub fn name(&self, digest: &[u8; 32]) -> UserId {
        let last = || {
            self.last
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        if let Some((seen, name)) = last().as_ref()
            && seen == digest
        {
            return name.clone();
        }
        let name = self.make(digest);
        *last() = Some((*digest, name.clone()));
        name
    }

    fn make(&self, digest: &[u8; 32]) -> UserId {
        let mut mac = self.mac.clone();
        mac.update(digest);
        let keyed = mac.finalize().into_bytes();
        // "token-" and 16 hex digits, written on the stack.
        let mut name = *b"token-0000000000000000";
        // Cannot fail: 8 bytes are exactly the 16 digits left after the prefix.
        let _ = hex::encode_to_slice(&keyed[..8], &mut name[6..]);
        std::str::from_utf8(&name).unwrap_or("token-").into()
    }
}
