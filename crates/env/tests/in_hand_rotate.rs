//! InHandRotate-v0: the cached grasps hold, the reward counts the object's
//! turn about the vertical axis, a drop ends the episode, and the
//! observation holds joints, targets and taxels only.

use tactile_env::tasks::{HeldObject, InHandRotate, InHandRotateConfig};
use tactile_env::{Env, Info, SimEnv};
use tactile_sim::math::{Pose, Rotation, Vector};

fn env() -> (SimEnv<InHandRotate>, Vec<f32>, Info) {
    env_with(InHandRotateConfig::default())
}

fn env_with(config: InHandRotateConfig) -> (SimEnv<InHandRotate>, Vec<f32>, Info) {
    let env = InHandRotate::new(config).unwrap();
    let obs = vec![0.0; env.observation_space().flat_dim()];
    let info = env.new_info();
    (env, obs, info)
}

fn every_grasp_holds(object: HeldObject) {
    let (mut env, mut obs, mut info) = env_with(InHandRotateConfig { object, ..InHandRotateConfig::default() });
    assert!(env.grasp_count() >= 32, "{object:?}: a cache of {} grasps", env.grasp_count());
    for g in 0..env.grasp_count() {
        env.reset_to(g, 1.0, 0.05, 1.0, &mut obs, &mut info);
        for _ in 0..20 {
            let s = env.step(&[0.0; 16], &mut obs, &mut info).unwrap();
            assert!(!s.terminated && !s.truncated, "{object:?}: grasp {g} dropped the object: {info:?}");
        }
        assert!(info.fact("tips_in_contact").unwrap() >= 1.0, "{object:?}: grasp {g}: {info:?}");
    }
}

#[test]
fn every_cached_grasp_holds_the_object_for_a_second_with_the_targets_still() {
    every_grasp_holds(HeldObject::Cylinder);
}

#[test]
fn the_cube_has_its_own_cache_whose_every_grasp_holds() {
    every_grasp_holds(HeldObject::Cube);
}

#[test]
fn the_privileged_state_is_the_objects_offset_velocity_axis_and_draw() {
    let (mut env, mut obs, mut info) = env();
    assert_eq!((env.state_dim(), info.state.len()), (17, 17));
    env.reset_to(3, 1.02, 0.06, 0.9, &mut obs, &mut info);
    let start = env.object_pose();
    let s = &info.state;
    assert!(s[..9].iter().all(|v| v.abs() < 1e-6), "at rest where it began: {s:?}");
    let axis = start.rotation * Vector::Z;
    assert!((s[9] - axis.x).abs() < 1e-6 && (s[10] - axis.y).abs() < 1e-6 && (s[11] - axis.z).abs() < 1e-6);
    assert!((s[12] - 0.6).abs() < 1e-6 && (s[13] - 0.9).abs() < 1e-6 && (s[14] - 0.2).abs() < 1e-5, "{s:?}");
    // Fingers opened wide: the object falls; the state follows it in cm.
    for _ in 0..6 {
        env.step(&[-1.0; 16], &mut obs, &mut info).unwrap();
    }
    let now = env.object_pose();
    let offset_cm = (now.translation - start.translation) * 100.0;
    for k in 0..3 {
        assert!((info.state[k] - offset_cm[k]).abs() < 1e-4, "offset {k}: {:?} vs {offset_cm:?}", info.state);
    }
    assert!((info.state[15] - info.fact("tips_in_contact").unwrap() as f32 / 4.0).abs() < 1e-6);
    // Press-v0 has none: its info carries an empty state.
    let press = tactile_env::make("Press-v0", None).unwrap();
    assert_eq!((press.state_dim(), press.new_info().state.len()), (0, 0));
}

#[test]
fn holding_still_earns_the_hold_bonus_and_the_speed_is_the_turn_over_the_time() {
    let (mut env, mut obs, mut info) = env();
    env.reset_to(0, 1.0, 0.05, 1.0, &mut obs, &mut info);
    assert_eq!(info.fact("rotation_rad_s"), Some(0.0));
    for _ in 0..10 {
        env.step(&[0.0; 16], &mut obs, &mut info).unwrap();
    }
    assert!(info.fact("tips_in_contact").unwrap() >= 2.0, "{info:?}");
    assert_eq!(info.term("hold"), Some(InHandRotateConfig::default().hold_bonus));
    let (turn, speed) = (info.fact("rotation_rad").unwrap(), info.fact("rotation_rad_s").unwrap());
    assert!((speed - turn / (10.0 * 0.05)).abs() < 1e-6 * speed.abs().max(1e-3), "{turn} rad, {speed} rad/s");
}

#[test]
fn turning_the_object_about_z_is_rewarded_and_counted_and_clipped() {
    let (mut env, mut obs, mut info) = env();
    // A grasp that touches with at least two tips (only a held object's
    // turn counts).
    let g = (0..env.grasp_count())
        .find(|&g| {
            env.reset_to(g, 1.0, 0.05, 1.0, &mut obs, &mut info);
            env.step(&[0.0; 16], &mut obs, &mut info).unwrap();
            info.fact("tips_in_contact").unwrap() >= 2.0
        })
        .expect("a grasp with two tips touching");
    env.reset_to(g, 1.0, 0.05, 1.0, &mut obs, &mut info);
    env.step(&[0.0; 16], &mut obs, &mut info).unwrap();
    let before = info.fact("rotation_rad").unwrap();
    // Turn the object by 0.01 rad about the world's z axis between steps:
    // 0.2 rad/s at 20 Hz (plus what the physics does in the step).
    let turned = |env: &mut SimEnv<InHandRotate>, angle: f32| {
        let p = env.object_pose();
        let object = env.scene().unwrap().body("object").unwrap();
        let r = Rotation::from_rotation_z(angle) * p.rotation;
        env.scene_mut().unwrap().place(object, Pose::from_parts(p.translation, r), Vector::ZERO);
    };
    turned(&mut env, 0.01);
    env.step(&[0.0; 16], &mut obs, &mut info).unwrap();
    let turn = info.fact("rotation_rad").unwrap() - before;
    assert!((turn - 0.01).abs() < 0.004, "turned {turn} rad");
    let r = info.term("rotation").unwrap();
    assert!((r - (turn / 0.05) as f32).abs() < 1e-3, "rotation term {r} for {turn} rad in 0.05 s");
    // A big turn is clipped at 0.5 rad/s.
    turned(&mut env, 0.2);
    env.step(&[0.0; 16], &mut obs, &mut info).unwrap();
    assert_eq!(info.term("rotation"), Some(0.5));
    // An object out of the hand turns for nothing.
    let p = env.object_pose();
    let object = env.scene().unwrap().body("object").unwrap();
    let away =
        Pose::from_parts(p.translation + Vector::new(0.3, 0.0, 0.0), Rotation::from_rotation_z(0.3) * p.rotation);
    env.scene_mut().unwrap().place(object, away, Vector::ZERO);
    let total = info.fact("rotation_rad").unwrap();
    env.step(&[0.0; 16], &mut obs, &mut info).unwrap();
    assert_eq!(info.term("rotation"), Some(0.0));
    assert_eq!(info.fact("rotation_rad").unwrap(), total);
}

#[test]
fn a_dropped_object_ends_the_episode_with_the_penalty() {
    let (mut env, mut obs, mut info) = env();
    env.reset_to(3, 1.0, 0.05, 1.0, &mut obs, &mut info);
    let p = env.object_pose();
    let object = env.scene().unwrap().body("object").unwrap();
    let below = Pose::from_parts(p.translation - Vector::new(0.0, 0.0, 0.2), p.rotation);
    env.scene_mut().unwrap().place(object, below, Vector::ZERO);
    let s = env.step(&[0.0; 16], &mut obs, &mut info).unwrap();
    assert!(s.terminated && !info.success, "{s:?} {info:?}");
    assert_eq!(info.term("drop"), Some(-10.0));
    assert_eq!(info.fact("dropped"), Some(1.0));
}

#[test]
fn the_observation_is_joints_targets_and_taxels_and_never_the_object() {
    let (mut env, mut obs, mut info) = env();
    assert_eq!(obs.len(), 3 * 32 + 4 * 74);
    let slots = env.taxel_slots();
    assert_eq!(slots.len(), 4);
    assert_eq!(slots[0].obs_offset, 96);
    assert_eq!(slots[3].obs_offset + slots[3].count, obs.len());
    env.reset_to(0, 1.0, 0.05, 1.0, &mut obs, &mut info);
    let first = obs.clone();
    // The same reset with the object moved 1 mm (touching nothing new at
    // once) observes the same: nothing in the vector reads the object.
    env.reset_to(0, 1.0, 0.05, 1.0, &mut obs, &mut info);
    assert_eq!(obs, first);
    // An action moves the targets by a/24 rad and the history shifts.
    let mut a = [0.0f32; 16];
    a[1] = 1.0;
    env.step(&a, &mut obs, &mut info).unwrap();
    assert!((obs[16 + 1] - first[16 + 1] - 1.0 / 24.0).abs() < 1e-6, "the newest target moved");
    assert_eq!(obs[32 + 16 + 1], first[16 + 1], "the previous frame holds the old target");
}
