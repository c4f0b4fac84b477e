//! A physics blow-up in any simulated task truncates the episode with
//! `info.physics_fault`, keeps the observation finite, and a reset recovers.

use tactile_env::{Env, make};
use tactile_sim::math::Vector;

#[test]
fn every_simulated_task_truncates_on_a_physics_fault() {
    for (id, body, action) in [
        ("Press-v0", "pad", vec![0.0]),
        ("EdgeFollow-v0", "pad", vec![0.5, 0.0]),
        ("Explore-v0", "finger", vec![0.0, 0.0]),
        ("Explore-v1", "finger", vec![0.0, 0.0]),
        ("Explore-v2", "finger", vec![0.0, 0.0, 0.0]),
        ("InHandRotate-v0", "object", vec![0.0; 16]),
    ] {
        let mut env = make(id, None).unwrap();
        let mut obs = vec![0.0; env.observation_space().flat_dim()];
        let mut info = env.new_info();
        env.reset(Some(0), &mut obs, &mut info);
        env.step(&action, &mut obs, &mut info).unwrap();
        let scene = env.scene_mut().expect("a simulated task");
        let b = scene.body(body).unwrap();
        let pose = scene.pose(b);
        scene.place(b, pose, Vector::new(f32::NAN, 0.0, 0.0));
        let s = env.step(&action, &mut obs, &mut info).unwrap();
        assert!(info.physics_fault && s.truncated && !s.terminated, "{id}: {s:?} {info:?}");
        assert!(obs.iter().all(|x| x.is_finite()), "{id}: observation not finite");
        env.reset(Some(1), &mut obs, &mut info);
        let s = env.step(&action, &mut obs, &mut info).unwrap();
        assert!(!info.physics_fault && !s.truncated, "{id}: the reset did not recover");
    }
}
