//! Restitution, kinematic targets and physics faults.

use tactile_sim::math::{Pose, Vector};
use tactile_sim::{Assets, Fault, Scene, SceneDesc};

fn scene(text: &str) -> Scene {
    Scene::new(&SceneDesc::from_toml(text, "test").unwrap(), &Assets::builtin()).unwrap()
}

const GROUND: &str = r#"
[[bodies]]
name = "ground"
kind = "static"
position_m = [0.0, 0.0, -0.01]
[[bodies.colliders]]
shape = { kind = "box", half_extents_m = [0.2, 0.2, 0.01] }
restitution = 0.8
"#;

#[test]
fn a_ball_rebounds_to_e_squared_of_its_drop_height() {
    let drop_m = 0.1;
    let mut s = scene(&format!(
        r#"{GROUND}
        [[bodies]]
        name = "ball"
        kind = "dynamic"
        position_m = [0.0, 0.0, {}]
        [[bodies.colliders]]
        shape = {{ kind = "sphere", radius_m = 0.01 }}
        restitution = 0.8"#,
        0.01 + drop_m
    ));
    let ball = s.body("ball").unwrap();
    let (mut bounced, mut apex) = (false, 0.0f32);
    for _ in 0..300 {
        s.physics_step();
        let (z, vz) = (s.pose(ball).translation.z - 0.01, s.linvel(ball).z);
        if !bounced && vz > 0.0 && z < 0.01 {
            bounced = true;
        }
        if bounced {
            apex = apex.max(z);
            if vz < 0.0 {
                break;
            }
        }
    }
    let expected = 0.8f32 * 0.8 * drop_m;
    assert!(bounced);
    assert!((apex - expected).abs() < 0.1 * expected, "rebound to {apex} m, e^2 h = {expected} m");
}

#[test]
fn a_kinematic_body_reaches_its_target_in_one_env_step() {
    let mut s = scene(
        r#"[[bodies]]
        name = "pusher"
        kind = "kinematic"
        [[bodies.colliders]]
        shape = { kind = "box", half_extents_m = [0.01, 0.01, 0.01] }"#,
    );
    let pusher = s.body("pusher").unwrap();
    let target = Pose::from_translation(Vector::new(0.01, -0.02, 0.03));
    s.set_target(pusher, target).unwrap();
    s.step();
    assert!((s.pose(pusher).translation - target.translation).length() < 1e-6);
    // With no new target it stays.
    s.step();
    assert!((s.pose(pusher).translation - target.translation).length() < 1e-6);
}

#[test]
fn a_driven_body_settles_at_its_target_minus_the_sag_of_its_weight() {
    let mut s = scene(
        r#"[[bodies]]
        name = "hand"
        kind = "dynamic"
        drive = { stiffness_n_per_m = 500.0, damping_n_s_per_m = 10.0 }
        [[bodies.colliders]]
        shape = { kind = "sphere", radius_m = 0.01 }
        mass_kg = 0.1"#,
    );
    let hand = s.body("hand").unwrap();
    let target = Pose::from_translation(Vector::new(0.05, 0.0, 0.2));
    for _ in 0..120 {
        s.set_target(hand, target).unwrap();
        s.step();
    }
    // Hooke: the spring holds the weight, m g / k below the target.
    let sag = 0.1 * 9.81 / 500.0;
    let p = s.pose(hand).translation;
    assert!((p.x - 0.05).abs() < 1e-4 && p.y.abs() < 1e-4, "{p:?}");
    assert!((p.z - (0.2 - sag)).abs() < 0.05 * sag, "z = {}, expected {}", p.z, 0.2 - sag);
}

#[test]
fn faults_are_reported_not_panicked() {
    let mut s = scene(&format!(
        r#"{GROUND}
        [[bodies]]
        name = "ball"
        kind = "dynamic"
        position_m = [0.0, 0.0, 0.05]
        [[bodies.colliders]]
        shape = {{ kind = "sphere", radius_m = 0.01 }}"#
    ));
    let ball = s.body("ball").unwrap();
    s.step();
    assert_eq!(s.fault(), None);
    s.place(ball, Pose::from_translation(Vector::new(500.0, 0.0, 0.0)), Vector::ZERO);
    assert!(matches!(s.fault(), Some(Fault::OutOfBounds { ref body, .. }) if body == "ball"));
    s.place(ball, Pose::from_translation(Vector::new(0.0, 0.0, 0.05)), Vector::new(f32::NAN, 0.0, 0.0));
    s.step();
    assert!(matches!(s.fault(), Some(Fault::NotFinite { ref body }) if body == "ball"));
    // A reset brings the scene back.
    s.reset(0);
    s.step();
    assert_eq!(s.fault(), None);
}
