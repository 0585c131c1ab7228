//! IAM: the password method of `POST /v3/auth/tokens` (spec section 3), and the tokens it issues.
//!
//! An issued token carries its user and expiry and is sealed with an HMAC under a key of this
//! process (drawn from the OS's random source, or `[auth] token_key`; never from `[emulator] seed`), so checking one takes no lookup and
//! no lock: `MIIEMU<hex payload>.<hex mac>`.

use hmac::{Hmac, KeyInit, Mac};
use serde::Deserialize;
use serde_json::Value;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::clock::Timestamp;
use crate::ids::to_hex;

/// What every issued token starts with (real IAM tokens start with `MII`).
pub const TOKEN_PREFIX: &str = "MIIEMU";

/// What a token is scoped to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenScope {
    /// `{"project": {"id"|"name"}}`.
    Project {
        /// The project id, if given.
        id: Option<String>,
        /// The project name, if given.
        name: Option<String>,
    },
    /// `{"domain": {"id"|"name"}}`.
    Domain {
        /// The domain id, if given.
        id: Option<String>,
        /// The domain name, if given.
        name: Option<String>,
    },
    /// No scope given.
    Unscoped,
}

/// A parsed password-method token request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordAuth {
    /// `auth.identity.password.user.name`.
    pub user: String,
    /// `auth.identity.password.user.password`.
    pub password: String,
    /// `auth.identity.password.user.domain` name or id, if given.
    pub domain: Option<String>,
    /// `auth.scope`.
    pub scope: TokenScope,
}

impl PasswordAuth {
    /// Parses the request body; an error names the invalid field.
    pub fn from_json(body: &[u8]) -> Result<Self, String> {
        let v: Value = serde_json::from_slice(body).map_err(|e| format!("body: not valid JSON ({e})"))?;
        let identity = &v["auth"]["identity"];
        let methods = identity["methods"]
            .as_array()
            .ok_or("auth.identity.methods: required")?;
        if !methods.iter().any(|m| m == "password") {
            return Err("auth.identity.methods: only the password method is emulated".into());
        }
        let user = &identity["password"]["user"];
        let text = |v: &Value, name: &str| -> Result<String, String> {
            match v.as_str() {
                Some(s) if !s.is_empty() => Ok(s.to_owned()),
                _ => Err(format!("{name}: required, a non-empty string")),
            }
        };
        let name = text(&user["name"], "auth.identity.password.user.name")?;
        let password = text(&user["password"], "auth.identity.password.user.password")?;
        let domain = user["domain"]["name"]
            .as_str()
            .or(user["domain"]["id"].as_str())
            .map(str::to_owned);
        let id_name = |v: &Value| {
            (
                v["id"].as_str().map(str::to_owned),
                v["name"].as_str().map(str::to_owned),
            )
        };
        let scope = &v["auth"]["scope"];
        let scope = if scope["project"].is_object() {
            let (id, name) = id_name(&scope["project"]);
            if id.is_none() && name.is_none() {
                return Err("auth.scope.project: needs id or name".into());
            }
            TokenScope::Project { id, name }
        } else if scope["domain"].is_object() {
            let (id, name) = id_name(&scope["domain"]);
            TokenScope::Domain { id, name }
        } else {
            TokenScope::Unscoped
        };
        Ok(Self {
            user: name,
            password,
            domain,
            scope,
        })
    }
}

#[derive(Debug, serde::Serialize, Deserialize)]
struct Claims {
    /// User name.
    u: String,
    /// Issued at, ms.
    i: u64,
    /// Expires at, ms.
    e: u64,
}

/// What an issued token says, once its seal is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenClaims {
    /// The user's name.
    pub user: String,
    /// When it was issued.
    pub issued_at: Timestamp,
    /// When it expires.
    pub expires_at: Timestamp,
}

fn mac(key: &[u8; 32], payload: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(payload);
    mac.finalize().into_bytes().into()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    hex::decode(s).ok()
}

/// Seals a token for `user`.
pub fn issue(key: &[u8; 32], user: &str, issued_at: Timestamp, expires_at: Timestamp) -> String {
    let claims = Claims {
        u: user.to_owned(),
        i: issued_at.0,
        e: expires_at.0,
    };
    let payload = serde_json::to_vec(&claims).unwrap_or_default();
    format!(
        "{TOKEN_PREFIX}{}.{}",
        to_hex(&payload),
        to_hex(&mac(key, &payload))
    )
}

/// Opens a token: `None` if it is not one of ours or its seal is broken. Expiry is the caller's to check.
pub fn open(key: &[u8; 32], token: &str) -> Option<TokenClaims> {
    let (payload, seal) = token.strip_prefix(TOKEN_PREFIX)?.split_once('.')?;
    let payload = unhex(payload)?;
    let seal = unhex(seal)?;
    if !bool::from(mac(key, &payload).ct_eq(seal.as_slice())) {
        return None;
    }
    let c: Claims = serde_json::from_slice(&payload).ok()?;
    Some(TokenClaims {
        user: c.u,
        issued_at: Timestamp(c.i),
        expires_at: Timestamp(c.e),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_open_only_with_their_key_and_untouched() {
        let key = [7u8; 32];
        let token = issue(&key, "alice", Timestamp(1), Timestamp(2));
        assert!(token.starts_with("MIIEMU"));
        let claims = open(&key, &token).expect("opens");
        assert_eq!((claims.user.as_str(), claims.expires_at), ("alice", Timestamp(2)));
        assert_eq!(open(&[8u8; 32], &token), None, "another key");
        let forged = issue(&key, "mallory", Timestamp(1), Timestamp(2));
        let (_, seal) = forged.split_once('.').expect("dot");
        let (payload, _) = token.split_once('.').expect("dot");
        assert_eq!(open(&key, &format!("{payload}.{seal}")), None, "a swapped seal");
        assert_eq!(open(&key, "MIIEMUzz.00"), None);
        assert_eq!(open(&key, "plain-token"), None);
    }

    #[test]
    fn password_requests_parse_as_section_3_shows() {
        let body = br#"{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"user A","password":"pw","domain":{"name":"domain A"}}}},"scope":{"project":{"name":"cn-north-4"}}}}"#;
        let auth = PasswordAuth::from_json(body).expect("parses");
        assert_eq!(auth.user, "user A");
        assert_eq!(auth.domain.as_deref(), Some("domain A"));
        assert_eq!(
            auth.scope,
            TokenScope::Project {
                id: None,
                name: Some("cn-north-4".into())
            }
        );
        let cases = vec![
            (&b"{"[..], "body"),
            (br#"{"auth":{"identity":{"methods":["token"]}}}"#, "auth.identity.methods"),
            (br#"{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"a"}}}}}"#, "auth.identity.password.user.password"),
            (br#"{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"a","password":"p"}}},"scope":{"project":{}}}}"#, "auth.scope.project"),
        ];
        for (body, field) in cases {
            let err = PasswordAuth::from_json(body).expect_err(field);
            assert!(err.starts_with(field), "{err}");
        }
    }
}
