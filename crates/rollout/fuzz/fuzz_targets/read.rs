//! Any bytes given to the rollout reader: a rollout or one error, never a
//! panic, and what it reads is consistent.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use tactile_rollout::Rollout;

fuzz_target!(|data: &[u8]| {
    match Rollout::from_bytes(data, Path::new("fuzz.mcap")) {
        Ok(rollout) => {
            for step in &rollout.steps {
                assert_eq!(step.normal_n.len(), step.shear_n.len());
                for (normal, shear) in step.normal_n.iter().zip(&step.shear_n) {
                    assert_eq!(normal.len(), shear.len());
                }
            }
        }
        Err(e) => assert!(e.to_string().starts_with("fuzz.mcap")),
    }
});
