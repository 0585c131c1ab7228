//! IAM: the password method of `POST /v3/auth/tokens` (spec section 3), and the tokens it issues.
//!
//! An issued token carries its user and expiry and is sealed with an HMAC under a key of this
//! process (drawn from the OS's random source, or `[auth] token_key`; never from `[emulator] seed`), so checking one takes no lookup and
//! no lock: `MIIEMU<hex payload>.<hex mac>`.

use hmac::{Hmac, KeyInit, Mac};
use serde::Deserialize;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::clock::Timestamp;
use crate::ids::to_hex;
use crate::json::{Bounded, Shallow};

/// What every issued token starts with (real IAM tokens start with `MII`).
pub const TOKEN_PREFIX: &str = "MIIEMU";

/// The seed's region: the name of a project that `[[auth.projects]]` does not name, and the region
/// of the endpoints in a token's catalog.
pub const REGION: &str = "ae-ad-1";

/// A 32-hex id that is the same for the same name on every run (users, domains, roles, projects
/// named but not configured, catalog entries).
pub fn stable_id(kind: &str, name: &str) -> String {
    use sha2::Digest;
    to_hex(&Sha256::digest(format!("{kind}:{name}").as_bytes())[..16])
}

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

impl TokenScope {
    /// The scope in a few words: `project:<name or id>`, `domain:<name or id>` or `unscoped`.
    pub fn describe(&self) -> String {
        let either = |id: &Option<String>, name: &Option<String>| {
            name.as_deref().or(id.as_deref()).unwrap_or_default().to_owned()
        };
        match self {
            TokenScope::Project { id, name } => format!("project:{}", either(id, name)),
            TokenScope::Domain { id, name } => format!("domain:{}", either(id, name)),
            TokenScope::Unscoped => "unscoped".to_owned(),
        }
    }
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

/// `POST /v3/auth/tokens` as read: only the fields the password method uses, each list bounded,
/// every repeated key refused (derived structs refuse duplicate fields).
#[derive(Debug, Deserialize)]
struct TokenRequest {
    auth: Option<AuthPart>,
}

#[derive(Debug, Deserialize)]
struct AuthPart {
    identity: Option<Identity>,
    scope: Option<ScopePart>,
}

#[derive(Debug, Deserialize)]
struct Identity {
    methods: Option<Bounded<Shallow, 8>>,
    password: Option<PasswordPart>,
}

#[derive(Debug, Deserialize)]
struct PasswordPart {
    user: Option<UserPart>,
}

#[derive(Debug, Deserialize)]
struct UserPart {
    name: Option<Shallow>,
    password: Option<Shallow>,
    domain: Option<IdNamePart>,
}

#[derive(Debug, Default, Deserialize)]
struct IdNamePart {
    id: Option<Shallow>,
    name: Option<Shallow>,
}

impl IdNamePart {
    fn text(v: Option<&Shallow>) -> Option<String> {
        v.and_then(Shallow::as_str).map(str::to_owned)
    }
    fn id_name(&self) -> (Option<String>, Option<String>) {
        (Self::text(self.id.as_ref()), Self::text(self.name.as_ref()))
    }
}

#[derive(Debug, Deserialize)]
struct ScopePart {
    project: Option<IdNamePart>,
    domain: Option<IdNamePart>,
}

impl PasswordAuth {
    /// Parses the request body; an error names the invalid field.
    pub fn from_json(body: &[u8]) -> Result<Self, String> {
        if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err("body: expected a JSON object".into());
        }
        let req: TokenRequest =
            serde_json::from_slice(body).map_err(|e| format!("body: not a valid token request ({e})"))?;
        let auth = req.auth.ok_or("auth.identity.methods: required")?;
        let identity = auth.identity.ok_or("auth.identity.methods: required")?;
        let Bounded(methods) = identity.methods.ok_or("auth.identity.methods: required")?;
        if !methods.iter().any(|m| m.as_str() == Some("password")) {
            return Err("auth.identity.methods: only the password method is emulated".into());
        }
        let user = identity.password.and_then(|p| p.user);
        let text = |v: Option<&Shallow>, name: &str| -> Result<String, String> {
            match v.and_then(Shallow::as_str) {
                Some(s) if !s.is_empty() => Ok(s.to_owned()),
                _ => Err(format!("{name}: required, a non-empty string")),
            }
        };
        let name = text(
            user.as_ref().and_then(|u| u.name.as_ref()),
            "auth.identity.password.user.name",
        )?;
        let password = text(
            user.as_ref().and_then(|u| u.password.as_ref()),
            "auth.identity.password.user.password",
        )?;
        // IAM requires the user's account (D17): without one it answers IAM.0007 naming the field.
        let domain = user
            .and_then(|u| u.domain)
            .and_then(|d| {
                let (id, name) = d.id_name();
                name.or(id)
            })
            .ok_or("auth.identity.password.user.domain: required, with an id or a name")?;
        let scope = match auth.scope {
            Some(ScopePart {
                project: Some(project),
                ..
            }) => {
                let (id, name) = project.id_name();
                if id.is_none() && name.is_none() {
                    return Err("auth.scope.project: needs id or name".into());
                }
                TokenScope::Project { id, name }
            }
            Some(ScopePart {
                domain: Some(domain), ..
            }) => {
                let (id, name) = domain.id_name();
                TokenScope::Domain { id, name }
            }
            _ => TokenScope::Unscoped,
        };
        Ok(Self {
            user: name,
            password,
            domain: Some(domain),
            scope,
        })
    }
}

#[derive(Debug, serde::Serialize, Deserialize)]
struct Claims {
    /// User name.
    u: String,
    /// The user's incarnation (absent in tokens of older builds: 0, which no user has).
    #[serde(default)]
    g: u64,
    /// Issued at, ms.
    i: u64,
    /// Expires at, ms.
    e: u64,
    /// The project id of a project-scoped token (absent: domain-scoped).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    p: Option<String>,
}

/// What an issued token says, once its seal is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenClaims {
    /// The user's name.
    pub user: String,
    /// The incarnation of the user it was issued to ([`incarnation`]).
    pub incarnation: u64,
    /// When it was issued.
    pub issued_at: Timestamp,
    /// When it expires.
    pub expires_at: Timestamp,
    /// The project it is scoped to (`None`: domain-scoped).
    pub project: Option<String>,
}

fn mac(key: &[u8; 32], payload: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(payload);
    mac.finalize().into_bytes().into()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    hex::decode(s).ok()
}

/// One incarnation of a user: a digest of everything that defines it (name and every credential),
/// never 0. A token carries its user's, so a user deleted and made again under the same name with
/// other credentials (another team's `ci`), or changed in the config, no longer accepts the tokens
/// issued before; one re-made with the very same secrets is the same holder, and keeps them.
pub fn incarnation(spec: &super::UserSpec) -> u64 {
    let d = <Sha256 as sha2::Digest>::digest(serde_json::to_vec(spec).unwrap_or_default());
    u64::from_be_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]]).max(1)
}

/// Seals a token for `user` (of `incarnation`).
pub fn issue(
    key: &[u8; 32],
    user: &str,
    incarnation: u64,
    issued_at: Timestamp,
    expires_at: Timestamp,
    project: Option<&str>,
) -> String {
    let claims = Claims {
        u: user.to_owned(),
        g: incarnation,
        i: issued_at.0,
        e: expires_at.0,
        p: project.map(str::to_owned),
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
        incarnation: c.g,
        issued_at: Timestamp(c.i),
        expires_at: Timestamp(c.e),
        project: c.p,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_open_only_with_their_key_and_untouched() {
        let key = [7u8; 32];
        let token = issue(&key, "alice", 9, Timestamp(1), Timestamp(2), Some("p1"));
        assert!(token.starts_with("MIIEMU"));
        let claims = open(&key, &token).expect("opens");
        assert_eq!((claims.user.as_str(), claims.expires_at), ("alice", Timestamp(2)));
        assert_eq!(claims.incarnation, 9);
        assert_eq!(open(&[8u8; 32], &token), None, "another key");
        let forged = issue(&key, "mallory", 9, Timestamp(1), Timestamp(2), None);
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
            (br#"{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"a","password":"p","name":"b"}}}}}"#, "body"),
            (br#"[1]"#, "body"),
            (br#"{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"a"}}}}}"#, "auth.identity.password.user.password"),
            (br#"{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"a","password":"p","domain":{"name":"d"}}}},"scope":{"project":{}}}}"#, "auth.scope.project"),
            (br#"{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"a","password":"p"}}}}}"#, "auth.identity.password.user.domain"),
            (br#"{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"a","password":"p","domain":{}}}}}}"#, "auth.identity.password.user.domain"),
        ];
        for (body, field) in cases {
            let err = PasswordAuth::from_json(body).expect_err(field);
            assert!(err.starts_with(field), "{err}");
        }
    }
}
