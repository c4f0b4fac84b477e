//! Gymnasium's checks pass for every registered id.

use tactile_env::{check_env, make, registry};

#[test]
fn check_env_passes_for_every_registered_id() {
    for spec in registry() {
        let report = check_env(&|| make(spec.id, None), 2 * spec.max_episode_steps as usize + 10)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(report.passed.len() >= 6, "{report:?}");
        assert!(report.passed.iter().any(|p| p.contains("episode(s) ended")), "{report:?}");
    }
}
