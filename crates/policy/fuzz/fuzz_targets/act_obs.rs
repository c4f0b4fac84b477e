//! Arbitrary bytes as `tactile act`'s observation file (a JSON array of
//! rows) given to the shipped Press-v0 policy: the rows must parse or
//! fail, and acting on them must give finite actions or one error, never a
//! panic or a non-finite action.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tactile_policy::Policy;

fuzz_target!(|data: &[u8]| {
    let Ok(wide) = serde_json::from_slice::<Vec<Vec<f64>>>(data) else { return };
    // As `tactile act` reads them: f64, narrowed to f32.
    let rows: Vec<Vec<f32>> = wide.iter().map(|r| r.iter().map(|&v| v as f32).collect()).collect();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../policies/Press-v0");
    let mut policy = Policy::load(&dir).unwrap();
    let (od, ad) = (policy.meta().obs_dim(), policy.meta().action_dim());
    for row in rows.iter().take(64) {
        let mut action = vec![0.0; ad];
        let mut obs = row.clone();
        obs.resize(od, 0.0);
        if policy.act(&obs, &mut action).is_ok() {
            assert!(action.iter().all(|a| a.is_finite()), "a non-finite action for {obs:?}");
        }
    }
    let flat: Vec<f32> = rows.iter().take(64).flatten().copied().collect();
    let mut actions = vec![0.0; (flat.len() / od.max(1) + 1) * ad];
    let _ = policy.act_batch(&flat, &mut actions);
});
