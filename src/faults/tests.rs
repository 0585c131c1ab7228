//! Tests of `faults`.

use super::*;

fn spec(json: serde_json::Value) -> FaultSpec {
    serde_json::from_value(json).expect("spec")
}

fn export<'a>(user: &'a str) -> Request<'a> {
    Request {
        operation: Operation::ExportAsset,
        user: Some(user),
        project_id: Some("p"),
        instance_id: Some("i"),
        summary: None,
    }
}

#[test]
fn a_fault_hits_its_times_then_goes() {
    let faults = Faults::default();
    let s = spec(
        serde_json::json!({"operation": "ExportAsset", "times": 2, "status": 503, "error_code": "ROMA.X"}),
    );
    faults.add(Hex32::from_u128(1), s).expect("valid");
    let effect = faults.check(&export("a"), || 0.0).expect("first");
    assert_eq!(effect.error, Some((503, "ROMA.X".to_owned())));
    assert_eq!(faults.list()[0].remaining, Some(1));
    assert!(
        faults
            .check(
                &Request {
                    operation: Operation::DeleteAsset,
                    ..export("a")
                },
                || 0.0
            )
            .is_none()
    );
    assert!(faults.check(&export("a"), || 0.0).is_some());
    assert!(faults.check(&export("a"), || 0.0).is_none(), "used up");
    assert!(faults.list().is_empty());
}

#[test]
fn narrowing_and_probability() {
    let faults = Faults::default();
    let s = spec(
        serde_json::json!({"operation": "ExportAsset", "user": "bob", "status": 500, "probability": 0.5}),
    );
    faults.add(Hex32::from_u128(1), s).expect("valid");
    assert!(faults.check(&export("alice"), || 0.0).is_none(), "another user");
    assert!(
        faults.check(&export("bob"), || 0.7).is_none(),
        "draw above the probability"
    );
    assert!(faults.check(&export("bob"), || 0.2).is_some());
    faults.clear();
    assert!(faults.check(&export("bob"), || 0.0).is_none());
}

#[test]
fn rules_are_checked() {
    let cases = vec![
        (
            serde_json::json!({"operation": "Nope", "status": 500}),
            "operation",
        ),
        (
            serde_json::json!({"operation": "ExportAsset"}),
            "at least one effect",
        ),
        (
            serde_json::json!({"operation": "ExportAsset", "status": 200}),
            "status",
        ),
        (
            serde_json::json!({"operation": "ExportAsset", "status": 500, "times": 0}),
            "times",
        ),
        (
            serde_json::json!({"operation": "ExportAsset", "status": 500, "probability": 2.0}),
            "probability",
        ),
        (
            serde_json::json!({"operation": "CheckAssetJobStatus", "fail_job": {"at_progress": 0.5}}),
            "fail_job",
        ),
        (
            serde_json::json!({"operation": "ExportAsset", "status": 500, "fail_job": {"at_progress": 0.5}}),
            "fail_job",
        ),
        (
            serde_json::json!({"operation": "ExportAsset", "fail_job": {"at_progress": 1.5}}),
            "at_progress",
        ),
        (
            serde_json::json!({"operation": "ExportAsset", "error_code": "X"}),
            "error_code",
        ),
    ];
    for (json, field) in cases {
        // An unknown operation is refused as the rule is read; every other check by validate().
        let err = match serde_json::from_value::<FaultSpec>(json.clone()) {
            Ok(spec) => spec.validate().expect_err(field),
            Err(e) => e.to_string(),
        };
        assert!(err.contains(field), "{json}: {err}");
    }
}
