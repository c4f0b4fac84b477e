//! Arbitrary bytes as a policy folder: the first two bytes give the length
//! of `meta.json`, the rest is `model.safetensors` (no `checksums.json`, so
//! the reader's own checks are what is reached). `Policy::load` must load
//! or return one error; a policy that loads must act on zeros and return
//! finite actions or one error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tactile_policy::Policy;

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let split = (usize::from(u16::from_le_bytes([data[0], data[1]]))).min(data.len() - 2);
    let (meta, model) = data[2..].split_at(split);
    let dir = std::env::temp_dir().join(format!("tactile-fuzz-policy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("meta.json"), meta).unwrap();
    std::fs::write(dir.join("model.safetensors"), model).unwrap();
    if let Ok(mut policy) = Policy::load(&dir) {
        let (od, ad) = (policy.meta().obs_dim(), policy.meta().action_dim());
        if od > 1 << 20 || ad > 1 << 20 {
            return;
        }
        let obs = vec![0.0; od];
        let mut action = vec![0.0; ad];
        if policy.act(&obs, &mut action).is_ok() {
            assert!(action.iter().all(|a| a.is_finite()), "a non-finite action was handed out");
        }
    }
});
