//! Any string given to the status file name parser: no panic; what parses formats back to
//! exactly the input (the parser accepts only the canonical form), and parses again to the
//! same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use skat_status::StatusFileName;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match StatusFileName::parse(&text) {
        Ok(name) => {
            assert!(StatusFileName::is_status_file_name(&text));
            let formatted = name.to_string();
            assert_eq!(formatted, text);
            assert_eq!(StatusFileName::parse(&formatted), Ok(name.clone()));
            assert_eq!(name.service().to_string().find('_'), None);
        }
        Err(error) => {
            assert!(error.name.len() <= 300);
            let _ = error.to_string();
        }
    }
});
