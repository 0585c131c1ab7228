//! Every JSON request body parser: ExportAsset/DeleteAsset selections, IAM token requests and the
//! control plane's bodies. None may panic, whatever the bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use roma_emulator::auth::PasswordAuth;
use roma_emulator::faults::FaultSpec;
use roma_emulator::jobs::AssetSelection;

fuzz_target!(|data: &[u8]| {
    if let Ok(selection) = AssetSelection::from_json(data) {
        assert!(selection.len() <= 100, "D4: at most 100 items");
        assert!(!selection.is_empty(), "an accepted selection selects something");
    }
    let _ = PasswordAuth::from_json(data);
    let _ = serde_json::from_slice::<FaultSpec>(data);
});
