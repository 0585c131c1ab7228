//! What a log line may show of a canonical request: never a credential.

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
pub(super) fn redact(canonical: &str) -> String {
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
