//! The authenticator's rules, unit by unit.
use super::redact::redact;
use super::*;
use crate::secret::Secret;

fn config(mode: Mode) -> Settings {
    let alice = UserSpec {
        name: "alice".into(),
        token: Some(Secret::new("alice-token")),
        password: Some(Secret::new("pw")),
        domain: Some("acme".into()),
        access_key: Some("AK1".into()),
        secret_key: Some(Secret::new("SK1")),
        projects: Some(vec!["p1".into()]),
    };
    Settings {
        mode,
        users: vec![alice],
        token_ttl: Duration::from_secs(60),
        ak_lockout: false,
        project_names: [("p1".to_owned(), "project-one".to_owned())].into(),
    }
}

fn auth(mode: Mode) -> Authenticator {
    Authenticator::new(config(mode), [1u8; 32], Clock::new_virtual())
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
    let auth = auth(Mode::Open);
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
    let other_key = Authenticator::new(config(Mode::Open), [9u8; 32], Clock::new_virtual());
    assert_ne!(other_key.token(Some(b"some-token")).expect("open").user, a.user);
    // A run of one token's requests shares the name made for the first of them.
    let again = auth.token(Some(b"some-token")).expect("open");
    assert_eq!(again.user, a.user);
    let once_more = auth.token(Some(b"some-token")).expect("open");
    assert!(std::sync::Arc::ptr_eq(&again.user, &once_more.user), "remembered");
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
    let strict = auth(Mode::Strict);
    assert_eq!(strict.token(None), Err(AuthError::Missing));
    assert_eq!(strict.token(Some(b"  ")), Err(AuthError::Missing));
    assert!(matches!(
        strict.token(Some(b"unknown")),
        Err(AuthError::BadToken(_))
    ));
    assert!(matches!(
        strict.token(Some(&[0xff, 0xfe])),
        Err(AuthError::BadToken(_))
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
    let a = auth(Mode::Strict);
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
    let other_process = Authenticator::new(config(Mode::Open), [2u8; 32], Clock::new_virtual());
    assert!(matches!(
        other_process.token(Some(issued.token.as_bytes())),
        Err(AuthError::BadToken(_))
    ));
}

#[test]
fn a_project_scoped_token_serves_its_project_only_and_names_it() {
    let a = auth(Mode::Strict);
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
    let a = auth(Mode::Open);
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
    let a = auth(Mode::Open);
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
    // D19: in open mode an undeclared key is checked against itself as the secret key; signed
    // with another, the gateway's answer is that it knows no such key.
    assert_eq!(
        req(&authz("AK9", &sig)),
        Err(AuthError::Signature(
            "Get secretKey failed,ak:AK9,err:ak not exist".into()
        ))
    );
    let self_signed = signature::sign("AK9", &date, &canonical);
    let undeclared = req(&authz("AK9", &self_signed)).expect("signed with itself");
    assert!(undeclared.user.starts_with("token-"), "{:?}", undeclared.user);
    let strict = auth(Mode::Strict);
    let signed = SignedRequest {
        authorization: &authz("AK9", &self_signed),
        method: "GET",
        path: "/x",
        query: "",
        header: &lookup,
        payload_hash: signature::EMPTY_BODY_HASH,
    };
    assert!(matches!(strict.signed(&signed), Err(AuthError::Signature(m)) if m.contains("ak not exist")));
}
