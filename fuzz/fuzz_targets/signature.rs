//! The SDK-HMAC-SHA256 canonicaliser: Authorization parsing, path and query canonicalisation, the
//! canonical request and the X-Sdk-Date parser. The input is split on NUL into the parts.
#![no_main]

use libfuzzer_sys::fuzz_target;
use roma_emulator::auth::signature;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split('\0');
    let authorization = parts.next().unwrap_or_default();
    let path = parts.next().unwrap_or_default();
    let query = parts.next().unwrap_or_default();
    let header_value = parts.next().unwrap_or_default();
    let _ = signature::parse_sdk_date(authorization);
    let signed_headers = signature::parse_authorization(authorization).map_or("host;x-sdk-date", |a| a.signed_headers);
    let uri = signature::canonical_uri(path);
    assert!(uri.ends_with('/'));
    let _ = signature::canonical_query(query);
    if let Ok(canonical) = signature::canonical_request("POST", path, query, signed_headers, |_| Some(header_value), signature::EMPTY_BODY_HASH) {
        let _ = signature::sign("sk", "20240101T000000Z", &canonical);
    }
});
