//! Press-v0 as a user meets it: overrides, bad config, physics faults.

use tactile_env::{Env, make};

fn user_toml(name: &str, text: &str) -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!("tactile-press-{}-{name}.toml", std::process::id()));
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn a_user_file_overrides_the_target_range() {
    let p = user_toml("narrow", "target_force_min_n = 2.0\ntarget_force_max_n = 2.0\n");
    let mut env = make("Press-v0", Some(&p)).unwrap();
    let mut obs = vec![0.0; env.observation_space().flat_dim()];
    let mut info = env.new_info();
    for seed in 0..3 {
        env.reset(Some(seed), &mut obs, &mut info);
        assert_eq!(info.fact("target_force_n"), Some(2.0));
    }
}

#[test]
fn a_malformed_user_file_names_its_line() {
    let p = user_toml("typo", "target_force_min_n = 1.0\nhold_step = 3\n");
    let e = make("Press-v0", Some(&p)).err().unwrap().to_string();
    assert!(e.contains(&format!("{}:2:", p.display())) && e.contains("hold_step"), "{e}");
    let p = user_toml("range", "target_force_min_n = 3.0\ntarget_force_max_n = 1.0\n");
    let e = make("Press-v0", Some(&p)).err().unwrap().to_string();
    assert!(e.contains("target_force_max_n"), "{e}");
}

#[test]
fn a_physics_blow_up_truncates_with_a_flag() {
    use tactile_env::tasks::{Press, PressConfig};
    use tactile_sim::math::Vector;
    let mut env = Press::new(PressConfig::default()).unwrap();
    let mut obs = vec![0.0; env.observation_space().flat_dim()];
    let mut info = env.new_info();
    env.reset(Some(0), &mut obs, &mut info);
    env.step(&[0.0], &mut obs, &mut info).unwrap();
    // The pad's velocity turns NaN, as a solver blow-up would leave it.
    let scene = env.scene_mut().unwrap();
    let pad = scene.body("pad").unwrap();
    let pose = scene.pose(pad);
    scene.place(pad, pose, Vector::new(0.0, 0.0, f32::NAN));
    let s = env.step(&[0.0], &mut obs, &mut info).unwrap();
    assert!(info.physics_fault && s.truncated && !s.terminated);
    assert!(obs.iter().all(|x| x.is_finite()), "observations stay finite");
    // A reset clears it.
    env.reset(Some(1), &mut obs, &mut info);
    let s = env.step(&[0.0], &mut obs, &mut info).unwrap();
    assert!(!info.physics_fault && !s.truncated);
}
