//! Arbitrary bytes as `calibration.json`: `Calibration::read` must return
//! a checked calibration or one error; one that is read must map a frame of
//! its size without a panic and refuse a frame of another size.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tactile_policy::Calibration;

fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("tactile-fuzz-calibration-{}.json", std::process::id()));
    std::fs::write(&path, data).unwrap();
    if let Ok(cal) = Calibration::read(&path) {
        if cal.raw_taxels > 1 << 20 {
            return;
        }
        let raw = vec![0.5; cal.raw_taxels];
        let mut sim = vec![0.0; cal.sim_taxels()];
        let _ = cal.apply(&raw, &mut sim);
        assert!(cal.apply(&raw[..raw.len().saturating_sub(1)], &mut sim).is_err() || raw.is_empty());
    }
});
