//! SDK-HMAC-SHA256 (spec section 4), in two steps: [`Authenticator::signer`] checks what it can
//! before a byte of the body is read (the access key, its lock, the date, the signed headers);
//! [`Authenticator::verify_signature`] checks the signature over the request and its body hash.

use subtle::ConstantTimeEq;

use std::sync::Arc;

use super::redact::redact;
use super::users::User;
use super::{AuthError, Authenticator, Caller, Mode, lockout, signature};
use crate::clock::Timestamp;

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
    user: Arc<User>,
    auth: signature::Authorization<'a>,
}

impl Signer<'_> {
    /// The signed header names, as the `Authorization` header gives them.
    pub fn signed_headers(&self) -> &str {
        self.auth.signed_headers
    }
}

impl Authenticator {
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
        let declared = self.users.by_access_key(auth.access);
        let counted = declared.is_some();
        let user = match (declared, self.mode) {
            (Some(user), _) => user,
            (None, Mode::Open) if auth.access.len() > lockout::MAX_KEY_LEN => {
                return Err(fail(format!(
                    "Get secretKey failed,err:the access key is longer than {} characters",
                    lockout::MAX_KEY_LEN
                )));
            }
            // D19: in open mode an undeclared key signs with itself as the secret key.
            (None, Mode::Open) => Arc::new(self.undeclared(auth.access)),
            (None, Mode::Strict) => {
                return Err(fail(format!(
                    "Get secretKey failed,ak:{},err:ak not exist",
                    auth.access
                )));
            }
        };
        // D15: a locked key is refused whatever it signs.
        if self.lockouts.is_locked(auth.access, self.clock.now()) {
            return Err(fail("AK access failed to reach the limit,forbidden.".into()));
        }
        let checked = self.check_date_and_headers(&auth, header);
        // An undeclared key is counted only once its date and headers pass (in
        // `verify_signature`): a key made up for one request costs no bookkeeping.
        if checked.is_err() && counted {
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

    /// Step 2 of a signed request: the signature over the request with its payload hash.
    pub fn verify_signature(
        &self,
        signer: &Signer<'_>,
        req: &SignedRequest<'_, '_>,
    ) -> Result<Caller, AuthError> {
        let verified = self.verify(&signer.user, &signer.auth, req);
        match &verified {
            Ok(_) => self.lockouts.succeeded(signer.auth.access),
            Err(_) => self.lockouts.failed(signer.auth.access, self.clock.now()),
        }
        verified
    }

    /// The user of an access key no user declares (open mode, D19): its secret key is the access
    /// key itself, and it names its own user, keyed so the name does not give the key away.
    fn undeclared(&self, access_key: &str) -> User {
        let mut named = Vec::with_capacity(3 + access_key.len());
        named.extend_from_slice(b"ak:");
        named.extend_from_slice(access_key.as_bytes());
        User {
            name: self.open_names.name(&super::digest(&named)),
            password: None,
            domain: None,
            secret_key: Some(crate::secret::Secret::new(access_key)),
            projects: None,
            incarnation: 0,
        }
    }

    fn verify(
        &self,
        user: &User,
        auth: &signature::Authorization<'_>,
        req: &SignedRequest<'_, '_>,
    ) -> Result<Caller, AuthError> {
        let fail = |m: String| AuthError::Signature(m);
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
            if self.mode == Mode::Open && self.users.by_access_key(auth.access).is_none() {
                // D19: the gateway knows no such key; open mode only lets one in signed with itself.
                tracing::info!(
                    access_key = auth.access,
                    "open mode (auth.mode = \"open\") accepts an access key no user declares only when it is signed with SK = AK (D19)"
                );
                return Err(fail(format!(
                    "Get secretKey failed,ak:{},err:ak not exist",
                    auth.access
                )));
            }
            return Err(fail("verify aksk signature fail".into()));
        }
        Ok(user.caller())
    }
}
