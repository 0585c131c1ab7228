//! Tests of `error`.

use super::*;

#[test]
fn documented_statuses_are_403_for_roma_refusals_and_the_gateways_for_apig() {
    for code in ErrorCode::ALL {
        let documented = code.documented_status().as_u16();
        let wire = code.code();
        let expected = match wire {
            "ROMA.00110006" | "ROMA.00110002" => 404,
            // The gateway answers before ROMA: its status in every mode (D1).
            _ if wire.starts_with("APIG.")
                || wire.starts_with("IAM.")
                || wire.is_empty()
                || wire.starts_with("EMULATOR.")
                || *code == ErrorCode::InjectedFault =>
            {
                code.catalog_status().as_u16()
            }
            _ => 403,
        };
        assert_eq!(documented, expected, "{wire}");
        assert!(!code.message().is_empty(), "{wire}");
        assert!(
            code.message().len() <= 128 || *code == ErrorCode::BadPackageName,
            "{wire}: only ROMA.10013's official text is longer than 128"
        );
    }
}

#[test]
fn gateway_texts_are_the_tables_rows() {
    // The API Gateway error-code table's rows of APIG.0201, verbatim.
    assert_eq!(ErrorCode::Internal.message(), "An unexpected error occurred");
    assert_eq!(ErrorCode::UriTooLarge.message(), "Request URI too large.");
    assert_eq!(ErrorCode::HeadersTooLarge.documented_status().as_u16(), 494);
}

#[test]
fn long_details_are_clipped_to_128_characters() {
    let long = "é".repeat(300);
    assert_eq!(clip(&long).chars().count(), 128);
    assert_eq!(clip("short"), "short");
}
