//! The ImportAsset package reader (zip + manifest + documents) and the file-name rule. Hostile
//! zips must be refused, never panic or allocate without bound; what is accepted must round-trip.
#![no_main]

use libfuzzer_sys::fuzz_target;
use roma_emulator::jobs::archive;

fuzz_target!(|data: &[u8]| {
    if let Ok(package) = archive::parse(data) {
        assert!(!package.assets.is_empty() && package.assets.len() <= 100);
        let rebuilt = archive::build(&package).expect("an accepted package builds again");
        let again = archive::parse(&rebuilt).expect("a built package parses");
        assert_eq!(again.assets, package.assets);
    }
    if let Ok(name) = std::str::from_utf8(data) {
        let _ = archive::check_file_name(name);
    }
});
