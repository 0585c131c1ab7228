//! Who is calling: turns the credentials of a request into a [`Caller`]. No HTTP here; the API
//! layer's middleware hands over header values and puts the caller into the request.
//!
//! Tokens are looked up by their SHA-256 digest, so no secret is ever compared byte by byte with
//! early exit, and no token is kept or logged in clear beyond the configuration.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::clock::{Clock, Timestamp};
use crate::config::{AuthConfig, AuthMode, Secret};
use crate::jobs::UserId;

pub mod iam;
pub mod lockout;
pub mod signature;

pub use iam::{PasswordAuth, TokenScope};

/// The longest `X-Auth-Token` the documents allow.
pub const MAX_TOKEN_LEN: usize = 100_000;

/// The authenticated user of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The user's name: a configured user's, or `token-<digest prefix>` for an unknown token in open mode.
    pub user: UserId,
    /// The only projects this user may use, if limited.
    pub projects: Option<Arc<[String]>>,
    /// The scope of an issued IAM token (D16); `None` for static and open-mode tokens and AK/SK.
    pub scope: Option<IssuedScope>,
}

/// What an issued IAM token serves (D16).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssuedScope {
    /// Only this project.
    Project(Arc<str>),
    /// Only global services: none of the asset operations.
    Domain,
}

impl Caller {
    /// Why this caller's token may not be used on `project`, if it may not (D16).
    pub fn out_of_scope(&self, project: &str) -> Option<String> {
        match self.scope.as_ref()? {
            IssuedScope::Project(p) if **p == *project => None,
            IssuedScope::Project(p) => Some(format!(
                "the token is scoped to project {p}, not to project {project} of the path"
            )),
            IssuedScope::Domain => Some(format!(
                "the token is domain-scoped (global services only); project {project} needs a project-scoped token (auth.scope.project)"
            )),
        }
    }

    /// Whether this caller may use `project`.
    pub fn may_use(&self, project: &str) -> bool {
        self.projects
            .as_ref()
            .is_none_or(|p| p.iter().any(|q| q == project))
    }
}

/// Why credentials were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No token at all.
    #[error("X-Auth-Token is missing")]
    Missing,
    /// A token that is too long for the documented limit.
    #[error("X-Auth-Token: at most 100000 characters")]
    TooLong,
    /// A token that is not accepted.
    #[error("{0}")]
    Bad(&'static str),
    /// An issued token past its expiry.
    #[error("token expires, expires_at: {0}")]
    Expired(String),
    /// An AK/SK signature that does not verify; the text says why (never the secret).
    #[error("{0}")]
    Signature(String),
    /// The user may not use this project.
    #[error("the user may not use project {0}")]
    ProjectForbidden(String),
    /// The token's scope does not cover the project of the path (D16); the text says why.
    #[error("{0}")]
    OutOfScope(String),
    /// A token request with a malformed body; the text names the field.
    #[error("{0}")]
    IamInvalid(String),
    /// A token request for an unknown user, a wrong password or a wrong domain.
    #[error("The username or password is wrong.")]
    WrongPassword,
}

/// A configured user.
#[derive(Debug, Clone)]
struct User {
    name: UserId,
    password: Option<[u8; 32]>,
    domain: Option<String>,
    secret_key: Option<Secret>,
    projects: Option<Arc<[String]>>,
}

impl User {
    fn caller(&self) -> Caller {
        Caller {
            user: self.name.clone(),
            projects: self.projects.clone(),
            scope: None,
        }
    }
}

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

/// A request signed with SDK-HMAC-SHA256, as the API layer hands it over.
pub struct SignedRequest<'a, 'h> {
    /// The `Authorization` header value.
    pub authorization: &'a str,
    /// The HTTP method.
    pub method: &'a str,
    /// The path as received (percent-encoded).
    pub path: &'a str,
    /// The query as received, without `?`.
    pub query: &'a str,
    /// A received header's value by lower-case name.
    pub header: &'a dyn Fn(&str) -> Option<&'h str>,
    /// The payload hash (step 9).
    pub payload_hash: &'a str,
}

/// A signed request whose access key, date and signed headers passed: its signature is checked
/// once the body has been read ([`Authenticator::verify_signature`]).
#[derive(Debug)]
pub struct Signer<'a> {
    user: usize,
    auth: signature::Authorization<'a>,
}

/// The users the emulator knows, and how it treats credentials.
#[derive(Debug)]
pub struct Authenticator {
    mode: AuthMode,
    users: Vec<User>,
    by_token: HashMap<[u8; 32], usize>,
    by_access_key: HashMap<String, usize>,
    by_name: HashMap<String, usize>,
    token_ttl: Duration,
    token_key: [u8; 32],
    clock: Clock,
    lockouts: lockout::Lockouts,
    /// HMAC keyed with the token key, for open-mode user names.
    open_names: Hmac<Sha256>,
    /// Project names by id (`[[auth.projects]]`).
    project_names: HashMap<String, String>,
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

impl Authenticator {
    /// Builds the user table from `[auth]`. Issued tokens are sealed with `token_key` and expire by `clock`.
    pub fn new(config: &AuthConfig, token_key: [u8; 32], clock: Clock) -> Self {
        let users: Vec<User> = config
            .users
            .iter()
            .map(|u| User {
                name: u.name.as_str().into(),
                password: u.password.as_ref().map(|p| digest(p.expose().as_bytes())),
                domain: u.domain.clone(),
                secret_key: u.secret_key.clone(),
                projects: u.projects.as_ref().map(|p| p.clone().into()),
            })
            .collect();
        let mut by_token = HashMap::new();
        let mut by_access_key = HashMap::new();
        let mut by_name = HashMap::new();
        for (i, u) in config.users.iter().enumerate() {
            if let Some(token) = &u.token {
                by_token.insert(digest(token.expose().as_bytes()), i);
            }
            if let Some(ak) = &u.access_key {
                by_access_key.insert(ak.clone(), i);
            }
            by_name.insert(u.name.clone(), i);
        }
        let token_ttl = Duration::from_secs(config.token_ttl_s);
        Self {
            mode: config.mode,
            users,
            by_token,
            by_access_key,
            by_name,
            token_ttl,
            token_key,
            clock,
            lockouts: lockout::Lockouts::new(config.ak_lockout),
            open_names: <Hmac<Sha256> as KeyInit>::new_from_slice(&token_key)
                .unwrap_or_else(|_| unreachable!("HMAC takes any key length")),
            project_names: config
                .projects
                .iter()
                .map(|p| (p.id.clone(), p.name.clone()))
                .collect(),
        }
    }

    /// The key that seals issued tokens (saved in the state file so tokens survive a restart).
    pub fn token_key(&self) -> [u8; 32] {
        self.token_key
    }

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
            std::str::from_utf8(token).map_err(|_| AuthError::Bad("X-Auth-Token is not valid text"))?;
        let token_digest = digest(token);
        if let Some(&i) = self.by_token.get(&token_digest) {
            return Ok(self.users[i].caller());
        }
        if text.starts_with(iam::TOKEN_PREFIX) {
            return self.issued(text);
        }
        match self.mode {
            AuthMode::Strict => Err(AuthError::Bad("the token is not known (auth.mode = strict)")),
            AuthMode::Open => Ok(Caller {
                user: open_user(&self.open_names, &token_digest),
                projects: None,
                scope: None,
            }),
        }
    }

    fn issued(&self, token: &str) -> Result<Caller, AuthError> {
        let claims = iam::open(&self.token_key, token).ok_or(AuthError::Bad(
            "decrypt token fail: not issued by this emulator (or it has restarted)",
        ))?;
        if self.clock.now() >= claims.expires_at {
            return Err(AuthError::Expired(claims.expires_at.rfc3339_micros()));
        }
        let i = *self
            .by_name
            .get(&claims.user)
            .ok_or(AuthError::Bad("the token's user is no longer configured"))?;
        let scope = match claims.project {
            Some(project) => IssuedScope::Project(project.into()),
            None => IssuedScope::Domain,
        };
        Ok(Caller {
            scope: Some(scope),
            ..self.users[i].caller()
        })
    }

    /// Verifies an SDK-HMAC-SHA256 signature (spec section 4): [`Self::signer`], then
    /// [`Self::verify_signature`]. Any failure is `AuthError::Signature`.
    pub fn signed(&self, req: &SignedRequest<'_, '_>) -> Result<Caller, AuthError> {
        let signer = self.signer(req.authorization, req.header)?;
        self.verify_signature(&signer, req)
    }

    /// What can be checked before a byte of the body is read: the `Authorization` header, the
    /// access key (unknown, or locked, D15), `X-Sdk-Date` (missing, malformed or more than 15
    /// minutes off) and the signed headers (each present). A refusal here reads no body.
    pub fn signer<'a, 'h>(
        &self,
        authorization: &'a str,
        header: &dyn Fn(&str) -> Option<&'h str>,
    ) -> Result<Signer<'a>, AuthError> {
        let fail = |m: String| AuthError::Signature(m);
        let auth = signature::parse_authorization(authorization).ok_or_else(|| {
            fail("Authorization: expected SDK-HMAC-SHA256 Access=, SignedHeaders=, Signature=".into())
        })?;
        let &user = self.by_access_key.get(auth.access).ok_or_else(|| {
            fail(format!(
                "Get secretKey failed,ak:{},err:ak not exist",
                auth.access
            ))
        })?;
        // D15: a locked key is refused whatever it signs.
        if self.lockouts.is_locked(auth.access, self.clock.now()) {
            return Err(fail("AK access failed to reach the limit,forbidden.".into()));
        }
        let checked = self.check_date_and_headers(&auth, header);
        if checked.is_err() {
            self.lockouts.failed(auth.access, self.clock.now());
        }
        checked.map(|()| Signer { user, auth })
    }

    fn check_date_and_headers<'h>(
        &self,
        auth: &signature::Authorization<'_>,
        header: &dyn Fn(&str) -> Option<&'h str>,
    ) -> Result<(), AuthError> {
        let fail = |m: String| AuthError::Signature(m);
        let date_text = header("x-sdk-date").ok_or_else(|| fail("X-Sdk-Date is missing".into()))?;
        let date = signature::parse_sdk_date(date_text)
            .ok_or_else(|| fail(format!("X-Sdk-Date {date_text:?} is not YYYYMMDDTHHMMSSZ")))?;
        // The gateway compares with its own wall clock: the real one, even under a virtual clock.
        let now = Timestamp::system_now();
        if now.since(date).max(date.since(now)).as_millis() > u128::from(signature::MAX_SKEW_MS) {
            return Err(fail(format!(
                "X-Sdk-Date {date_text} is more than 15 minutes from the server time"
            )));
        }
        if let Some(name) = auth.signed_headers.split(';').find(|name| header(name).is_none()) {
            return Err(fail(format!("signed header {name} is missing from the request")));
        }
        Ok(())
    }

    /// Lifts every AK lockout.
    pub fn clear_lockouts(&self) {
        self.lockouts.clear();
    }

    /// The access keys locked now, with when each lock ends.
    pub fn lockouts(&self) -> Vec<(String, Timestamp)> {
        self.lockouts.locked(self.clock.now())
    }

    /// Lifts the lock of one access key; false when it was not locked.
    pub fn lift_lockout(&self, access_key: &str) -> bool {
        self.lockouts.lift(access_key, self.clock.now())
    }

    /// Step 2 of a signed request: the signature over the request with its payload hash.
    pub fn verify_signature(
        &self,
        signer: &Signer<'_>,
        req: &SignedRequest<'_, '_>,
    ) -> Result<Caller, AuthError> {
        let verified = self.verify(signer.user, &signer.auth, req);
        match &verified {
            Ok(_) => self.lockouts.succeeded(signer.auth.access),
            Err(_) => self.lockouts.failed(signer.auth.access, self.clock.now()),
        }
        verified
    }

    fn verify(
        &self,
        i: usize,
        auth: &signature::Authorization<'_>,
        req: &SignedRequest<'_, '_>,
    ) -> Result<Caller, AuthError> {
        let fail = |m: String| AuthError::Signature(m);
        let user = &self.users[i];
        let secret = user
            .secret_key
            .as_ref()
            .ok_or_else(|| fail("the user has no secret_key".into()))?;
        let date_text = (req.header)("x-sdk-date").ok_or_else(|| fail("X-Sdk-Date is missing".into()))?;
        let canonical = signature::canonical_request(
            req.method,
            req.path,
            req.query,
            auth.signed_headers,
            req.header,
            req.payload_hash,
        )
        .map_err(fail)?;
        let expected = signature::sign(secret.expose(), date_text, &canonical);
        if !bool::from(expected.as_bytes().ct_eq(auth.signature.as_bytes())) {
            tracing::debug!(
                access_key = auth.access,
                canonical_request = %redact(&canonical),
                "AK/SK signature mismatch; this is the canonical request the emulator built"
            );
            return Err(fail("verify aksk signature fail".into()));
        }
        Ok(user.caller())
    }

    /// The `(id, name)` of the project a token request scopes to: by id, named as `[[auth.projects]]`
    /// names it (else [`iam::REGION`]); by name, the configured project of that name (else an id
    /// that is stable for the name).
    fn project(&self, id: Option<&str>, name: Option<&str>) -> (String, String) {
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
        let user = self.by_name.get(&auth.user).map(|&i| &self.users[i]);
        // Compare digests in constant time, and do the same work for unknown users.
        let given = digest(auth.password.as_bytes());
        let stored = user.and_then(|u| u.password).unwrap_or([0u8; 32]);
        let password_ok = bool::from(given.ct_eq(&stored)) && user.is_some_and(|u| u.password.is_some());
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

/// Headers whose values are credentials: never logged, in any letter case.
pub const CREDENTIAL_HEADERS: [&str; 8] = [
    "authorization",
    "proxy-authorization",
    "x-auth-token",
    "x-subject-token",
    "x-security-token",
    "cookie",
    "set-cookie",
    "x-sdk-token",
];

/// The canonical request on one line (newlines shown as `\n`), credential-bearing header values
/// hidden: a header line whose name is on [`CREDENTIAL_HEADERS`], compared without case.
fn redact(canonical: &str) -> String {
    canonical
        .lines()
        .map(|line| match line.split_once(':') {
            Some((name, _))
                if CREDENTIAL_HEADERS
                    .iter()
                    .any(|h| name.trim().eq_ignore_ascii_case(h)) =>
            {
                format!("{name}:***")
            }
            _ => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\\n")
}

/// The user an unknown token names in open mode: stable per token (and per token key), and keyed,
/// so that nobody who sees the name (in the journal, a job listing, a log line) can test guesses
/// of the token against it: `token-` and 16 hex digits of HMAC-SHA256(token key, SHA-256(token)).
fn open_user(names: &Hmac<Sha256>, digest: &[u8; 32]) -> UserId {
    let mut mac = names.clone();
    mac.update(digest);
    let keyed = mac.finalize().into_bytes();
    // "token-" and 16 hex digits, written on the stack (this runs for every open-mode request).
    let mut name = *b"token-0000000000000000";
    // Cannot fail: 8 bytes are exactly the 16 digits left after the prefix.
    let _ = hex::encode_to_slice(&keyed[..8], &mut name[6..]);
    std::str::from_utf8(&name).unwrap_or("token-").into()
}

/// Whether `given` equals the secret `expected`, compared in constant time (on digests, so the
/// length of the secret does not show either).
pub fn same_secret(given: &[u8], expected: &str) -> bool {
    digest(given).ct_eq(&digest(expected.as_bytes())).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Secret, UserConfig};

    fn config(mode: AuthMode) -> AuthConfig {
        let alice = UserConfig {
            name: "alice".into(),
            token: Some(Secret::new("alice-token")),
            password: Some(Secret::new("pw")),
            domain: Some("acme".into()),
            access_key: Some("AK1".into()),
            secret_key: Some(Secret::new("SK1")),
            projects: Some(vec!["p1".into()]),
        };
        AuthConfig {
            mode,
            users: vec![alice],
            token_ttl_s: 60,
            token_key: None,
            ak_lockout: false,
            projects: vec![crate::config::ProjectConfig {
                id: "p1".into(),
                name: "project-one".into(),
            }],
        }
    }

    fn auth(mode: AuthMode) -> Authenticator {
        Authenticator::new(&config(mode), [1u8; 32], Clock::new_virtual())
    }

    fn password(user: &str, pw: &str, domain: Option<&str>) -> PasswordAuth {
        PasswordAuth {
            user: user.into(),
            password: pw.into(),
            domain: domain.map(Into::into),
            scope: TokenScope::Unscoped,
        }
    }

    #[test]
    fn open_mode_names_each_token_its_own_user() {
        let auth = auth(AuthMode::Open);
        assert_eq!(
            auth.token(Some(b"alice-token")).map(|c| c.user),
            Ok("alice".into())
        );
        let a = auth.token(Some(b"some-token")).expect("open");
        let b = auth.token(Some(b"other-token")).expect("open");
        assert_ne!(a, b);
        assert_eq!(
            a,
            auth.token(Some(b"some-token")).expect("open"),
            "stable per token"
        );
        assert!(
            !a.user.contains("some-token"),
            "the user name does not reveal the token"
        );
        // Not the unkeyed digest: a dictionary of guessed tokens cannot be checked against it.
        let unkeyed = format!("token-{}", hex::encode(&digest(b"some-token")[..8]));
        assert_ne!(a.user.to_string(), unkeyed);
        let other_key = Authenticator::new(&config(AuthMode::Open), [9u8; 32], Clock::new_virtual());
        assert_ne!(other_key.token(Some(b"some-token")).expect("open").user, a.user);
    }

    #[test]
    fn redaction_hides_every_credential_header_in_any_case() {
        let canonical = "POST\n/v2/\n\ncontent-type:application/json\nX-Auth-Token:tok-1\nx-security-token:tok-2\nX-Subject-Token:tok-3\nProxy-Authorization:tok-4\nCOOKIE:tok-5\n\nhost\nabc";
        let shown = redact(canonical);
        for secret in ["tok-1", "tok-2", "tok-3", "tok-4", "tok-5"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(shown.contains("content-type:application/json"), "{shown}");
    }

    #[test]
    fn refusals() {
        let strict = auth(AuthMode::Strict);
        assert_eq!(strict.token(None), Err(AuthError::Missing));
        assert_eq!(strict.token(Some(b"  ")), Err(AuthError::Missing));
        assert!(matches!(strict.token(Some(b"unknown")), Err(AuthError::Bad(_))));
        assert!(matches!(
            strict.token(Some(&[0xff, 0xfe])),
            Err(AuthError::Bad(_))
        ));
        assert_eq!(
            strict.token(Some(&vec![b'a'; MAX_TOKEN_LEN + 1])),
            Err(AuthError::TooLong)
        );
        assert_eq!(
            strict.token(Some(b"alice-token")).map(|c| c.user),
            Ok("alice".into())
        );
    }

    #[test]
    fn issued_tokens_name_the_same_user_and_expire_by_the_clock() {
        let a = auth(AuthMode::Strict);
        let issued = a.issue(&password("alice", "pw", Some("acme"))).expect("issued");
        assert_eq!(issued.expires_at.since(issued.issued_at), Duration::from_secs(60));
        let caller = a.token(Some(issued.token.as_bytes())).expect("valid");
        let static_caller = a.token(Some(b"alice-token")).expect("static");
        assert_eq!(
            (&caller.user, &caller.projects),
            (&static_caller.user, &static_caller.projects),
            "the same user"
        );
        assert_eq!(
            caller.scope,
            Some(IssuedScope::Domain),
            "no scope asked: domain-scoped"
        );
        assert_eq!(static_caller.scope, None, "static tokens have no scope");
        assert!(!caller.may_use("p2") && caller.may_use("p1"));
        a.clock.advance(Duration::from_secs(60));
        assert!(matches!(
            a.token(Some(issued.token.as_bytes())),
            Err(AuthError::Expired(_))
        ));
        let other_process = Authenticator::new(&config(AuthMode::Open), [2u8; 32], Clock::new_virtual());
        assert!(matches!(
            other_process.token(Some(issued.token.as_bytes())),
            Err(AuthError::Bad(_))
        ));
    }

    #[test]
    fn a_project_scoped_token_serves_its_project_only_and_names_it() {
        let a = auth(AuthMode::Strict);
        let scoped = |id: Option<&str>, name: Option<&str>| {
            let mut req = password("alice", "pw", Some("acme"));
            req.scope = TokenScope::Project {
                id: id.map(Into::into),
                name: name.map(Into::into),
            };
            a.issue(&req).expect("issued")
        };
        let by_id = scoped(Some("p1"), None);
        assert_eq!(
            by_id.project,
            Some(("p1".into(), "project-one".into())),
            "the configured name"
        );
        let by_name = scoped(None, Some("project-one"));
        assert_eq!(
            by_name.project,
            Some(("p1".into(), "project-one".into())),
            "found by its name"
        );
        let unnamed = scoped(Some("p9"), None);
        assert_eq!(
            unnamed.project,
            Some(("p9".into(), iam::REGION.into())),
            "the seed's region"
        );
        let caller = a.token(Some(by_id.token.as_bytes())).expect("valid");
        assert_eq!(caller.out_of_scope("p1"), None);
        assert!(
            caller
                .out_of_scope("p2")
                .is_some_and(|why| why.contains("p1") && why.contains("p2"))
        );
        let domain = a.issue(&password("alice", "pw", Some("acme"))).expect("issued");
        let caller = a.token(Some(domain.token.as_bytes())).expect("valid");
        assert!(
            caller.out_of_scope("p1").is_some(),
            "a domain-scoped token serves no project"
        );
    }

    #[test]
    fn wrong_passwords_users_and_domains_get_no_token() {
        let a = auth(AuthMode::Open);
        for req in [
            password("alice", "nope", None),
            password("bob", "pw", None),
            password("alice", "pw", Some("other")),
        ] {
            assert_eq!(a.issue(&req), Err(AuthError::WrongPassword), "{req:?}");
        }
        assert!(
            a.issue(&password("alice", "pw", None)).is_ok(),
            "domain optional in the request"
        );
    }

    #[test]
    fn signatures_verify_for_the_configured_user_only() {
        let a = auth(AuthMode::Open);
        let date = Timestamp::system_now().rfc3339_seconds().replace(['-', ':'], "");
        let lookup = |name: &str| -> Option<&str> {
            match name {
                "host" => Some("localhost"),
                "x-sdk-date" => Some(date.as_str()),
                _ => None,
            }
        };
        let canonical = signature::canonical_request(
            "GET",
            "/x",
            "",
            "host;x-sdk-date",
            lookup,
            signature::EMPTY_BODY_HASH,
        )
        .expect("canonical");
        let sig = signature::sign("SK1", &date, &canonical);
        let authz = |ak: &str, sig: &str| {
            format!("SDK-HMAC-SHA256 Access={ak}, SignedHeaders=host;x-sdk-date, Signature={sig}")
        };
        let req = |authorization: &str| -> Result<Caller, AuthError> {
            a.signed(&SignedRequest {
                authorization,
                method: "GET",
                path: "/x",
                query: "",
                header: &lookup,
                payload_hash: signature::EMPTY_BODY_HASH,
            })
        };
        assert_eq!(req(&authz("AK1", &sig)).map(|c| c.user), Ok("alice".into()));
        let bad = req(&authz("AK1", &"0".repeat(64))).expect_err("bad signature");
        assert_eq!(bad, AuthError::Signature("verify aksk signature fail".into()));
        assert!(
            matches!(req(&authz("AK9", &sig)), Err(AuthError::Signature(m)) if m.contains("ak not exist"))
        );
    }
}
