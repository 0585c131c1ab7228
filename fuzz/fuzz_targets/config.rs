//! The config loader: any text either loads and validates or is refused with a key, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use roma_emulator::Config;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(config) = Config::from_toml(text) {
            config.validate().expect("a loaded config is valid");
        }
    }
});
