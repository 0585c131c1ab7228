//! Who is calling: turns the credentials of a request into a [`Caller`]. No HTTP here; the API
//! layer's middleware hands over header values and puts the caller into the request.
//!
//! Tokens are looked up by their SHA-256 digest, so no secret is ever compared byte by byte with
//! early exit, and no token is kept or logged in clear beyond the configuration.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use crate::config::{AuthConfig, AuthMode};
use crate::jobs::UserId;

/// The longest `X-Auth-Token` the documents allow.
pub const MAX_TOKEN_LEN: usize = 100_000;

/// The authenticated user of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The user's name: a configured user's, or `token-<digest prefix>` for an unknown token in open mode.
    pub user: UserId,
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
}

/// The users the emulator knows and how it treats unknown tokens.
#[derive(Debug, Clone)]
pub struct Authenticator {
    mode: AuthMode,
    by_token: HashMap<[u8; 32], UserId>,
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

impl Authenticator {
    /// Builds the user table from `[auth]`.
    pub fn new(config: &AuthConfig) -> Self {
        let by_token = config
            .users
            .iter()
            .filter_map(|u| {
                Some((
                    digest(u.token.as_ref()?.expose().as_bytes()),
                    UserId::from(u.name.as_str()),
                ))
            })
            .collect();
        Self {
            mode: config.mode,
            by_token,
        }
    }

    /// Authenticates an `X-Auth-Token` value (`None` when the header is absent).
    pub fn token(&self, token: Option<&[u8]>) -> Result<Caller, AuthError> {
        let token = token
            .map(<[u8]>::trim_ascii)
            .filter(|t| !t.is_empty())
            .ok_or(AuthError::Missing)?;
        if token.len() > MAX_TOKEN_LEN {
            return Err(AuthError::TooLong);
        }
        if std::str::from_utf8(token).is_err() {
            return Err(AuthError::Bad("X-Auth-Token is not valid text"));
        }
        let d = digest(token);
        if let Some(user) = self.by_token.get(&d) {
            return Ok(Caller { user: user.clone() });
        }
        match self.mode {
            AuthMode::Strict => Err(AuthError::Bad("the token is not known (auth.mode = strict)")),
            AuthMode::Open => Ok(Caller { user: open_user(&d) }),
        }
    }
}

/// The user an unknown token names in open mode: stable per token, and not the token itself.
fn open_user(digest: &[u8; 32]) -> UserId {
    let mut name = String::with_capacity(6 + 16);
    name.push_str("token-");
    for b in &digest[..8] {
        name.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
        name.push(char::from(b"0123456789abcdef"[usize::from(b & 0xf)]));
    }
    name.into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Secret, UserConfig};

    fn config(mode: AuthMode) -> AuthConfig {
        let alice = UserConfig {
            name: "alice".into(),
            token: Some(Secret::new("alice-token")),
        };
        AuthConfig {
            mode,
            users: vec![alice],
        }
    }

    #[test]
    fn open_mode_names_each_token_its_own_user() {
        let auth = Authenticator::new(&config(AuthMode::Open));
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
    }

    #[test]
    fn refusals() {
        let strict = Authenticator::new(&config(AuthMode::Strict));
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
}
