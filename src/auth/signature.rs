//! SDK-HMAC-SHA256, the AK/SK request signature of every official Huawei Cloud SDK (spec section 4),
//! verified server-side. Pure: strings in, canonical request and signature out.

use hmac::{Hmac, KeyInit, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, percent_encode, utf8_percent_encode};
use sha2::{Digest, Sha256};

use crate::clock::Timestamp;
use crate::ids::to_hex;

/// The algorithm name that starts the `Authorization` header.
pub const ALGORITHM: &str = "SDK-HMAC-SHA256";
/// SHA-256 of the empty body.
pub const EMPTY_BODY_HASH: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
/// The payload hash of a request that signs `X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD`.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// How far `X-Sdk-Date` may be from the server's time.
pub const MAX_SKEW_MS: u64 = 15 * 60 * 1000;

/// Characters kept as they are: `A-Z a-z 0-9 - _ . ~`.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The parts of `Authorization: SDK-HMAC-SHA256 Access=..., SignedHeaders=..., Signature=...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization<'a> {
    /// The access key.
    pub access: &'a str,
    /// The signed header names, lower case, `;`-separated, as sent.
    pub signed_headers: &'a str,
    /// The hex signature.
    pub signature: &'a str,
}

/// Parses an `Authorization` header value; `None` if it is not an SDK-HMAC-SHA256 one.
pub fn parse_authorization(value: &str) -> Option<Authorization<'_>> {
    let rest = strip_scheme(value.trim(), ALGORITHM)?.trim_start();
    let (mut access, mut signed_headers, mut signature) = (None, None, None);
    for part in rest.split(',') {
        match part.trim().split_once('=') {
            Some(("Access", v)) => access = Some(v.trim()),
            Some(("SignedHeaders", v)) => signed_headers = Some(v.trim()),
            Some(("Signature", v)) => signature = Some(v.trim()),
            _ => {}
        }
    }
    Some(Authorization {
        access: access?,
        signed_headers: signed_headers?,
        signature: signature?,
    })
}

/// `value` without its leading auth-scheme `scheme`, compared without case (RFC 9110, 11.1: an
/// auth-scheme is case-insensitive); `None` when it has another scheme.
pub fn strip_scheme<'a>(value: &'a str, scheme: &str) -> Option<&'a str> {
    let head = value.get(..scheme.len())?;
    let rest = &value[scheme.len()..];
    (head.eq_ignore_ascii_case(scheme) && (rest.is_empty() || rest.starts_with([' ', '\t']))).then_some(rest)
}

/// Percent-encodes raw bytes (a decoded segment need not be UTF-8).
fn encode(bytes: &[u8]) -> String {
    percent_encode(bytes, UNRESERVED).to_string()
}

/// Step 6: decode the path, encode each segment, end with `/`.
pub fn canonical_uri(path: &str) -> String {
    let decoded: Vec<u8> = percent_decode_str(path).collect();
    let mut uri = decoded
        .split(|&b| b == b'/')
        .map(encode)
        .collect::<Vec<_>>()
        .join("/");
    if !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

/// Step 7: pairs sorted by key then value, each encoded, joined with `&`.
pub fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
            (decode(k), decode(v))
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                utf8_percent_encode(k, UNRESERVED),
                utf8_percent_encode(v, UNRESERVED)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Steps 8–10: the canonical request. `header` returns a received header's value by lower-case
/// name; a signed header the request lacks is an error naming it.
pub fn canonical_request<'h>(
    method: &str,
    path: &str,
    query: &str,
    signed_headers: &str,
    header: impl Fn(&str) -> Option<&'h str>,
    payload_hash: &str,
) -> Result<String, String> {
    let mut headers = String::new();
    for name in signed_headers.split(';') {
        let value =
            header(name).ok_or_else(|| format!("signed header {name} is missing from the request"))?;
        headers.push_str(name);
        headers.push(':');
        headers.push_str(value.trim());
        headers.push('\n');
    }
    Ok(format!(
        "{method}\n{}\n{}\n{headers}\n{signed_headers}\n{payload_hash}",
        canonical_uri(path),
        canonical_query(query)
    ))
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    to_hex(&Sha256::digest(bytes))
}

/// Steps 11–12: the signature of `canonical` at `sdk_date` with the secret key `sk`.
pub fn sign(sk: &str, sdk_date: &str, canonical: &str) -> String {
    let string_to_sign = format!("{ALGORITHM}\n{sdk_date}\n{}", sha256_hex(canonical.as_bytes()));
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(sk.as_bytes()).expect("HMAC takes any key length");
    mac.update(string_to_sign.as_bytes());
    to_hex(&mac.finalize().into_bytes())
}

/// Parses `X-Sdk-Date` (`20240101T120000Z`).
pub fn parse_sdk_date(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    let digits = |range: std::ops::Range<usize>| b[range].iter().all(u8::is_ascii_digit);
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' || !digits(0..8) || !digits(9..15) {
        return None;
    }
    let rfc = format!(
        "{}-{}-{}T{}:{}:{}Z",
        &s[0..4],
        &s[4..6],
        &s[6..8],
        &s[9..11],
        &s[11..13],
        &s[13..15]
    );
    Timestamp::parse_rfc3339(&rfc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_schemes_are_read_without_regard_to_case() {
        assert_eq!(strip_scheme("Bearer abc", "Bearer"), Some(" abc"));
        assert_eq!(strip_scheme("bearer abc", "Bearer"), Some(" abc"));
        assert_eq!(strip_scheme("BEARER\tabc", "Bearer"), Some("\tabc"));
        assert_eq!(strip_scheme("Bearerabc", "Bearer"), None);
        assert_eq!(strip_scheme("Basic abc", "Bearer"), None);
        assert_eq!(strip_scheme("é", "Bearer"), None);
        let lower = "sdk-hmac-sha256 Access=AK, SignedHeaders=host, Signature=ab";
        assert_eq!(parse_authorization(lower).map(|a| a.access), Some("AK"));
    }

    const SK: &str = "ExampleSecretKey0123456789abcdefghijklmnop";
    const DATE: &str = "20240101T120000Z";
    const BASE: &str =
        "/v2/0123456789abcdef0123456789abcdef/instances/8a1e9c7b-2f55-4c3a-9d8e-1234567890ab/assets";

    fn headers<'a>(
        content_type: &'a str,
        extra: &'a [(&'a str, &'a str)],
    ) -> impl Fn(&str) -> Option<&'a str> {
        move |name| match name {
            "content-type" => Some(content_type),
            "host" => Some("roma.cn-north-4.myhuaweicloud.com"),
            "x-project-id" => Some("0123456789abcdef0123456789abcdef"),
            "x-sdk-date" => Some(DATE),
            other => extra.iter().find(|(n, _)| *n == other).map(|(_, v)| *v),
        }
    }

    #[test]
    fn vector_a_export_asset() {
        let body = br#"{"apps": [{"id": "app-1"}], "tasks": [{"id": "task-1"}]}"#;
        assert_eq!(body.len(), 56);
        let signed = "content-type;host;x-project-id;x-sdk-date";
        let canonical = canonical_request(
            "POST",
            &format!("{BASE}/export"),
            "",
            signed,
            headers("application/json;charset=utf-8", &[]),
            &sha256_hex(body),
        )
        .expect("canonical");
        assert_eq!(
            canonical,
            format!(
                "POST\n{BASE}/export/\n\ncontent-type:application/json;charset=utf-8\nhost:roma.cn-north-4.myhuaweicloud.com\nx-project-id:0123456789abcdef0123456789abcdef\nx-sdk-date:20240101T120000Z\n\n{signed}\nb9533b2e6a45e6e073b3a69065dbea677031e4024fd40be4a6da2c3f9e63a8df"
            )
        );
        assert_eq!(
            sha256_hex(canonical.as_bytes()),
            "ae247f5b85b1d0130bbd58dd7e9b908735e751eb9c68f4b0ed62c1c7a52ebc3c"
        );
        assert_eq!(
            sign(SK, DATE, &canonical),
            "72dcac48f50918b909d7c433c2ed7ebe9b31650147aad6b630193ac98bf3a9a7"
        );
    }

    #[test]
    fn vector_b_job_status_with_a_query() {
        let query = "offset=0&limit=10&name=a%20b%2Fc";
        assert_eq!(canonical_query(query), "limit=10&name=a%20b%2Fc&offset=0");
        let canonical = canonical_request(
            "GET",
            &format!("{BASE}/jobs/job-42"),
            query,
            "content-type;host;x-project-id;x-sdk-date",
            headers("application/json", &[]),
            EMPTY_BODY_HASH,
        )
        .expect("canonical");
        assert_eq!(
            sha256_hex(canonical.as_bytes()),
            "ef50a7e6cceaef98e018df2bd76d8404861d32c9c3332d6f8a0e9b5555d63c36"
        );
        assert_eq!(
            sign(SK, DATE, &canonical),
            "48f85d4fd7bbd2b224a6ad0dfddb71a599c9a0149154edfcf8ec78e5f29c906e"
        );
    }

    #[test]
    fn vector_c_import_asset_multipart() {
        let extra = [("x-sdk-content-sha256", "UNSIGNED-PAYLOAD")];
        let canonical = canonical_request(
            "POST",
            &format!("{BASE}/import"),
            "",
            "content-type;host;x-project-id;x-sdk-content-sha256;x-sdk-date",
            headers("multipart/form-data; boundary=XyZ", &extra),
            "UNSIGNED-PAYLOAD",
        )
        .expect("canonical");
        assert!(canonical.ends_with("\nUNSIGNED-PAYLOAD"));
        assert_eq!(
            sha256_hex(canonical.as_bytes()),
            "9ab5891038214d017b1567f6aa068514effacb9dc439f6021b5e8ccd234a902f"
        );
        assert_eq!(
            sign(SK, DATE, &canonical),
            "56e6aaf922cdc59c68f97485d1843ed7cecb7d51bc3acd407ae2338c64d4605a"
        );
    }

    #[test]
    fn authorization_headers_parse() {
        let v = "SDK-HMAC-SHA256 Access=AK1, SignedHeaders=host;x-sdk-date, Signature=abc";
        assert_eq!(
            parse_authorization(v),
            Some(Authorization {
                access: "AK1",
                signed_headers: "host;x-sdk-date",
                signature: "abc"
            })
        );
        assert_eq!(parse_authorization("Bearer x"), None);
        assert_eq!(
            parse_authorization("SDK-HMAC-SHA256 Access=AK1, Signature=abc"),
            None
        );
    }

    #[test]
    fn a_missing_signed_header_is_named() {
        let err = canonical_request(
            "GET",
            "/",
            "",
            "host;x-custom",
            |n| (n == "host").then_some("h"),
            EMPTY_BODY_HASH,
        )
        .expect_err("missing");
        assert!(err.contains("x-custom"), "{err}");
    }

    #[test]
    fn uris_and_dates() {
        assert_eq!(canonical_uri("/a%20b/c/"), "/a%20b/c/");
        assert_eq!(canonical_uri("/a b/ü"), "/a%20b/%C3%BC/");
        assert_eq!(
            parse_sdk_date(DATE),
            Timestamp::parse_rfc3339("2024-01-01T12:00:00Z")
        );
        assert_eq!(parse_sdk_date("2024-01-01"), None);
        assert_eq!(parse_sdk_date("20241301T120000Z"), None);
        // Found by the fuzzer: a multi-byte character where digits belong once panicked on slicing.
        assert_eq!(parse_sdk_date("2p24\u{FFFD}0T120000Z"), None);
    }
}
