//! The state import (`PUT /_emulator/state` and the state file at startup): any bytes are either
//! refused or loaded, never a panic or a hang; a state that loads exports and loads again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use roma_emulator::persist::{Secrets, Snapshot};
use roma_emulator::{App, Config};

fn app() -> App {
    let mut config = Config::default();
    config.jobs.max_jobs = 50;
    config.emulator.seed = Some(1);
    // One token key for both: an export under another key is loaded with a warning (#27).
    config.auth.token_key = Some(roma_emulator::config::Secret::new("fuzz-token-key-of-32-characters!"));
    App::new(config)
}

fuzz_target!(|data: &[u8]| {
    let Ok(snapshot) = Snapshot::from_json(data, 64) else {
        return;
    };
    let first = app();
    if snapshot.apply(&first.parts()).is_err() {
        return;
    }
    let exported = serde_json::to_vec(&Snapshot::capture(&first.parts(), Secrets::None)).expect("a state exports");
    let again = Snapshot::from_json(&exported, 64).expect("an exported state parses");
    let second = app();
    let warnings = again.apply(&second.parts()).expect("an exported state loads again");
    assert!(warnings.is_empty(), "an exported state loads again whole: {warnings:?}");
});
