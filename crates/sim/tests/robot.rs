//! Robots from URDF: kinematics, drives, limits, fingertip taxels,
//! determinism and faults, each checked against a number derived by hand.

use std::path::PathBuf;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rapier3d_urdf::urdf_rs;
use tactile_sim::math::{Pose, Rotation, Vector};
use tactile_sim::{Assets, Fault, RobotId, Scene, SceneDesc};

/// A folder of its own under the temp dir, for the test's URDF files.
fn folder(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tactile-robot-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn hand_scene() -> Scene {
    let assets = Assets::builtin();
    let rel = "scenes/hand-hold.toml";
    let desc = SceneDesc::from_toml(&assets.read_text(rel).unwrap(), rel).unwrap();
    Scene::new(&desc, &assets).unwrap()
}

/// `world_from_link` of every link of a URDF at joint angles `q` (by joint
/// name), computed in f64 from the joint origins and axes alone.
fn urdf_fk(robot: &urdf_rs::Robot, base: [f64; 6], q: &dyn Fn(&str) -> f64) -> Vec<(String, [f64; 3], [[f64; 3]; 3])> {
    type M = [[f64; 3]; 3];
    fn mul(a: &M, b: &M) -> M {
        let mut c = [[0.0; 3]; 3];
        for i in 0..3 {
            for j in 0..3 {
                c[i][j] = (0..3).map(|k| a[i][k] * b[k][j]).sum();
            }
        }
        c
    }
    fn apply(a: &M, v: [f64; 3]) -> [f64; 3] {
        [0, 1, 2].map(|i| (0..3).map(|k| a[i][k] * v[k]).sum())
    }
    fn rpy(r: f64, p: f64, y: f64) -> M {
        let rx = [[1.0, 0.0, 0.0], [0.0, r.cos(), -r.sin()], [0.0, r.sin(), r.cos()]];
        let ry = [[p.cos(), 0.0, p.sin()], [0.0, 1.0, 0.0], [-p.sin(), 0.0, p.cos()]];
        let rz = [[y.cos(), -y.sin(), 0.0], [y.sin(), y.cos(), 0.0], [0.0, 0.0, 1.0]];
        mul(&rz, &mul(&ry, &rx))
    }
    fn axis_angle(a: [f64; 3], t: f64) -> M {
        let n = (a[0] * a[0] + a[1] * a[1] + a[2] * a[2]).sqrt();
        let [x, y, z] = a.map(|c| c / n);
        let (s, c) = t.sin_cos();
        let v = 1.0 - c;
        [
            [c + x * x * v, x * y * v - z * s, x * z * v + y * s],
            [y * x * v + z * s, c + y * y * v, y * z * v - x * s],
            [z * x * v - y * s, z * y * v + x * s, c + z * z * v],
        ]
    }
    let mut out: Vec<(String, [f64; 3], M)> = Vec::new();
    let root = robot.links.iter().find(|l| robot.joints.iter().all(|j| j.child.link != l.name)).unwrap();
    out.push((root.name.clone(), [base[0], base[1], base[2]], rpy(base[3], base[4], base[5])));
    // Parents first: sweep until every link is placed.
    while out.len() < robot.links.len() {
        for j in &robot.joints {
            if out.iter().any(|(n, ..)| *n == j.child.link) {
                continue;
            }
            let Some((_, p, r)) = out.iter().find(|(n, ..)| *n == j.parent.link).cloned() else { continue };
            let o = &j.origin;
            let r_origin = rpy(o.rpy.0[0], o.rpy.0[1], o.rpy.0[2]);
            let t = apply(&r, o.xyz.0);
            let pos = [p[0] + t[0], p[1] + t[1], p[2] + t[2]];
            let mut rot = mul(&r, &r_origin);
            if j.joint_type != urdf_rs::JointType::Fixed {
                rot = mul(&rot, &axis_angle(j.axis.xyz.0, q(&j.name)));
            }
            out.push((j.child.link.clone(), pos, rot));
        }
    }
    out
}

#[test]
fn forward_kinematics_of_the_allegro_hand_matches_the_urdf() {
    let mut scene = hand_scene();
    let hand = scene.robot("hand").unwrap();
    let text = Assets::builtin().read_text("robots/allegro/allegro.urdf").unwrap();
    let urdf = urdf_rs::read_from_string(&text).unwrap();
    let limits: Vec<(String, f32, f32)> =
        scene.joints(hand).map(|j| (j.name.to_owned(), j.lower_rad, j.upper_rad)).collect();
    assert_eq!(limits.len(), 16);
    let mut rng = StdRng::seed_from_u64(11);
    let mut worst = (0.0f64, 0.0f64);
    for _ in 0..20 {
        let q: Vec<f32> = limits.iter().map(|(_, lo, hi)| rng.random_range(*lo..=*hi)).collect();
        scene.set_joint_positions(hand, &q).unwrap();
        let mut read = vec![0.0; 16];
        scene.joint_positions(hand, &mut read).unwrap();
        for (a, b) in q.iter().zip(&read) {
            assert!((a - b).abs() < 1e-6, "joint read back {b} for {a}");
        }
        let by_name = |name: &str| q[limits.iter().position(|(n, ..)| n == name).unwrap()] as f64;
        // The hand's base pose as the scene file writes it (f32 digits).
        #[allow(clippy::approx_constant)]
        let base = [0.0, 0.0, 0.5, 0.0, -1.5707963, 0.0];
        for (link, p, r) in urdf_fk(&urdf, base, &by_name) {
            let pose = scene.pose(scene.body(&format!("hand/{link}")).unwrap());
            let t = pose.translation;
            let dp = ((t.x as f64 - p[0]).powi(2) + (t.y as f64 - p[1]).powi(2) + (t.z as f64 - p[2]).powi(2)).sqrt();
            // The angle between the two orientations, from the skew part of
            // R_a^T R_b (well conditioned for small angles, unlike the trace).
            let a = glam_mat(pose.rotation);
            let m = |i: usize, j: usize| (0..3).map(|k| a[k][i] * r[k][j]).sum::<f64>();
            let w = [m(2, 1) - m(1, 2), m(0, 2) - m(2, 0), m(1, 0) - m(0, 1)];
            let trace = m(0, 0) + m(1, 1) + m(2, 2);
            assert!(trace > 2.0, "{link}: orientations far apart");
            let da = (0.5 * (w[0] * w[0] + w[1] * w[1] + w[2] * w[2]).sqrt()).asin();
            worst = (worst.0.max(dp), worst.1.max(da));
        }
    }
    assert!(worst.0 <= 1e-5 && worst.1 <= 1e-5, "worst position error {} m, angle {} rad", worst.0, worst.1);
}

fn glam_mat(r: Rotation) -> [[f64; 3]; 3] {
    let cols = [r * Vector::X, r * Vector::Y, r * Vector::Z];
    [0, 1, 2].map(|i| [0, 1, 2].map(|j| cols[j][i] as f64))
}

/// One link of `mass_kg` whose centre of mass sits `arm_m` along x from a
/// revolute joint about y, on a fixed base, plus an optional fingertip.
fn arm_urdf(mass_kg: f64, arm_m: f64, limits: (f64, f64), tip: bool) -> String {
    let tip = if tip {
        format!(
            r#"<link name="tip"><collision><geometry><sphere radius="0.012"/></geometry></collision>
               <inertial><mass value="0.01"/><inertia ixx="1e-6" ixy="0" ixz="0" iyy="1e-6" iyz="0" izz="1e-6"/></inertial></link>
               <joint name="tip_joint" type="fixed"><parent link="arm"/><child link="tip"/><origin xyz="0 0 {arm_m}"/></joint>"#
        )
    } else {
        String::new()
    };
    format!(
        r#"<?xml version="1.0"?>
<robot name="arm">
  <link name="base"><inertial><mass value="1"/><inertia ixx="1e-3" ixy="0" ixz="0" iyy="1e-3" iyz="0" izz="1e-3"/></inertial></link>
  <link name="arm">
    <inertial><origin xyz="0 0 {arm_m}"/><mass value="{mass_kg}"/><inertia ixx="1e-6" ixy="0" ixz="0" iyy="1e-6" iyz="0" izz="1e-6"/></inertial>
  </link>
  <joint name="shoulder" type="revolute">
    <parent link="base"/><child link="arm"/><axis xyz="0 1 0"/>
    <limit lower="{}" upper="{}" effort="1" velocity="1"/>
  </joint>
  {tip}
</robot>"#,
        limits.0, limits.1
    )
}

/// A scene with the arm robot (its link along +z, turned by +90 degrees
/// about y so that it points along +x), gravity on.
fn arm_scene(dir: &std::path::Path, urdf: &str, drive: &str, extra: &str) -> (Scene, RobotId) {
    std::fs::write(dir.join("arm.urdf"), urdf).unwrap();
    let text = format!(
        r#"
        [physics]
        physics_hz = 240.0
        substeps = 4
        [[robots]]
        name = "arm"
        urdf = "arm.urdf"
        position_m = [0.0, 0.0, 0.2]
        rotation_rpy_rad = [0.0, 1.5707964, 0.0]
        {extra}
        [robots.drive]
        {drive}
        "#
    );
    let desc = SceneDesc::from_toml(&text, "arm scene").unwrap();
    let scene = Scene::new(&desc, &Assets::new(dir)).unwrap();
    let id = scene.robot("arm").unwrap();
    (scene, id)
}

#[test]
fn a_position_drive_holds_its_target_under_gravity_as_its_gain_predicts() {
    let dir = folder("pd");
    let (m, l, k) = (0.1f64, 0.1f64, 2.0f64);
    let drive = format!("mode = \"position\"\nstiffness_nm_per_rad = {k}\ndamping_nm_s_per_rad = 0.05");
    let (mut scene, arm) = arm_scene(&dir, &arm_urdf(m, l, (-1.0, 1.0), false), &drive, "");
    // Target 0: the arm horizontal. Gravity turns it down (+q about y):
    // equilibrium k (0 - q) + m g l cos q = 0.
    scene.set_joint_targets(arm, &[0.0]).unwrap();
    for _ in 0..240 {
        scene.step();
    }
    let mut q = [0.0f32];
    scene.joint_positions(arm, &mut q).unwrap();
    let mut expected = 0.0f64;
    for _ in 0..50 {
        expected = m * 9.81 * l * expected.cos() / k;
    }
    assert!(expected > 0.04, "the sag must be measurable: {expected}");
    let err = (q[0] as f64 - expected).abs() / expected;
    assert!(err < 0.02, "sag {} rad, the gain predicts {expected} rad", q[0]);
    let mut tau = [0.0f32];
    scene.joint_torques(arm, &mut tau).unwrap();
    let gravity_nm = m * 9.81 * l * expected.cos();
    assert!(((-tau[0]) as f64 - gravity_nm).abs() / gravity_nm < 0.02, "drive torque {} vs {gravity_nm}", tau[0]);
    let mut v = [0.0f32];
    scene.joint_velocities(arm, &mut v).unwrap();
    assert!(v[0].abs() < 1e-3, "at rest: {}", v[0]);
}

#[test]
fn a_joint_limit_holds_when_the_link_is_pushed_against_it() {
    let dir = folder("limit");
    let (mut scene, arm) = arm_scene(&dir, &arm_urdf(0.1, 0.1, (-0.3, 0.3), false), "mode = \"torque\"", "");
    // 1 N m is ten times the link's weight torque: without the limit the
    // arm would swing past 0.3 rad within the first tenth of a second.
    scene.set_joint_targets(arm, &[1.0]).unwrap();
    let mut most = f32::MIN;
    for _ in 0..120 {
        scene.step();
        let mut q = [0.0f32];
        scene.joint_positions(arm, &mut q).unwrap();
        most = most.max(q[0]);
    }
    assert!(most > 0.29, "the arm must reach the limit: {most}");
    assert!(most < 0.3 + 0.005, "the limit gave way: {most} rad");
    let mut tau = [0.0f32];
    scene.joint_torques(arm, &mut tau).unwrap();
    assert_eq!(tau[0], 1.0, "a torque drive applies its command");
}

#[test]
fn a_fingertip_pressed_on_a_box_reads_the_solver_force_on_the_side_that_touches() {
    let dir = folder("press");
    // The tip's centre is 0.1 m from the joint, at z = 0.2; the box's top
    // at 0.188 touches the 12 mm sphere from below.
    std::fs::write(dir.join("arm.urdf"), arm_urdf(0.05, 0.1, (-1.0, 1.0), true)).unwrap();
    let text = r#"
        [physics]
        physics_hz = 240.0
        substeps = 4
        [[bodies]]
        name = "table"
        kind = "static"
        position_m = [0.1, 0.0, 0.168]
        [[bodies.colliders]]
        shape = { kind = "box", half_extents_m = [0.03, 0.03, 0.02] }
        [[robots]]
        name = "arm"
        urdf = "arm.urdf"
        position_m = [0.0, 0.0, 0.2]
        rotation_rpy_rad = [0.0, 1.5707964, 0.0]
        gravity_scale = 0.0
        drive = { mode = "torque" }
        [[sensors]]
        name = "tip"
        body = "arm/tip"
        file = "sensors/allegro_fingertip.toml"
    "#;
    let desc = SceneDesc::from_toml(text, "press scene").unwrap();
    let mut scene = Scene::new(&desc, &Assets::new(&dir)).unwrap();
    let arm = scene.robot("arm").unwrap();
    let tau_nm = 0.2f32;
    scene.set_joint_targets(arm, &[tau_nm]).unwrap();
    for _ in 0..120 {
        scene.step();
    }
    let sensor = scene.sensor("tip").unwrap();
    let mut frame = scene.new_frame(sensor);
    scene.read(sensor, &mut frame);
    let (tip, table) = (scene.body("arm/tip").unwrap(), scene.body("table").unwrap());
    let solver_n = scene.contact_normal_force_n(tip, table);
    // Torque balance about the joint: the vertical contact force acts 0.1 m
    // away (less a sliver as the tip sinks into the skin).
    let known_n = tau_nm / 0.1;
    assert!((solver_n - known_n).abs() / known_n < 0.03, "solver {solver_n} N, torque balance {known_n} N");
    // The taxel forces sum to the contact force: their vector sum, pushing
    // the tip up, equals the solver's normal force.
    let world_from_tip = scene.pose(tip);
    let summed_n = (world_from_tip.rotation * frame.total_force_n).z;
    assert!((summed_n - solver_n).abs() / solver_n < 0.02, "taxels {summed_n} N vs solver {solver_n} N");
    // Each taxel reads the part along its own normal: on a sphere the
    // readings sum to a little less (cos of the taxel's angle to the contact).
    let err = (frame.total_normal_n - solver_n) / solver_n;
    assert!((-0.05..=0.0).contains(&err), "normal readings {} N vs solver {solver_n} N", frame.total_normal_n);
    // Every lit taxel is on the lower half of the tip, which touches.
    let taxels = scene.taxel_array(sensor).taxels();
    let mut lit = 0;
    for (i, f) in frame.normal_n.iter().enumerate() {
        if *f > 0.0 {
            lit += 1;
            let p = world_from_tip * taxels.position_m[i];
            assert!(p.z < world_from_tip.translation.z - 0.008, "taxel {i} lit at z {}", p.z);
        }
    }
    assert!(lit >= 1);
}

fn run_hand(scene: &mut Scene, seed: u64, steps: usize) -> Vec<u32> {
    let hand = scene.robot("hand").unwrap();
    let mut grasp = vec![0.0; 16];
    scene.joint_targets(hand, &mut grasp).unwrap();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut bits = Vec::new();
    let sensor = scene.sensor("thumb_tip").unwrap();
    let mut frame = scene.new_frame(sensor);
    let mut q = vec![0.0; 16];
    for _ in 0..steps {
        let t: Vec<f32> = grasp.iter().map(|g| g + rng.random_range(-0.1..=0.1)).collect();
        scene.set_joint_targets(hand, &t).unwrap();
        scene.step();
        scene.read(sensor, &mut frame);
        scene.joint_positions(hand, &mut q).unwrap();
        bits.extend(q.iter().map(|x| x.to_bits()));
        bits.extend(frame.normal_n.iter().map(|x| x.to_bits()));
        let p = scene.pose(scene.body("object").unwrap());
        bits.extend([p.translation.x, p.translation.y, p.translation.z, p.rotation.w].map(f32::to_bits));
    }
    bits
}

#[test]
fn the_same_seed_gives_the_same_hand_episode_bit_for_bit_after_resets_and_on_threads() {
    let mut scene = hand_scene();
    let first = run_hand(&mut scene, 5, 30);
    for _ in 0..3 {
        scene.reset(0);
        assert_eq!(run_hand(&mut scene, 5, 30), first, "a reset must give the same episode");
    }
    let other: Vec<Vec<u32>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    let mut scene = hand_scene();
                    run_hand(&mut scene, 5, 30)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(other.iter().all(|o| *o == first), "threads must give the same episode");
    assert_ne!(run_hand(&mut scene, 6, 30), first, "another seed moves the hand otherwise");
}

#[test]
fn a_reset_puts_the_hand_back_at_its_grasp_exactly() {
    let mut scene = hand_scene();
    let hand = scene.robot("hand").unwrap();
    let mut q0 = vec![0.0; 16];
    scene.joint_positions(hand, &mut q0).unwrap();
    let tip = scene.body("hand/link_15.0_tip").unwrap();
    let tip0 = scene.pose(tip);
    run_hand(&mut scene, 1, 20);
    scene.reset(0);
    let mut q = vec![0.0; 16];
    scene.joint_positions(hand, &mut q).unwrap();
    assert_eq!(q, q0);
    assert_eq!(scene.pose(tip), tip0);
    let mut v = vec![1.0; 16];
    scene.joint_velocities(hand, &mut v).unwrap();
    assert!(v.iter().all(|x| *x == 0.0), "at rest: {v:?}");
}

#[test]
fn nonsense_commands_and_gains_end_in_a_fault_not_a_panic() {
    let mut scene = hand_scene();
    let hand = scene.robot("hand").unwrap();
    let mut t = vec![0.5; 16];
    t[3] = f32::NAN;
    scene.set_joint_targets(hand, &t).unwrap();
    scene.step();
    assert_eq!(scene.fault(), Some(Fault::BadCommand { joint: "hand/joint_3.0".into() }));
    scene.reset(0);
    assert_eq!(scene.fault(), None);

    // Gains above 1e12 are refused at load (f32 arithmetic overflows).
    let assets = Assets::builtin();
    let text = assets.read_text("scenes/hand-hold.toml").unwrap();
    let err = Scene::new(
        &SceneDesc::from_toml(&text.replace("stiffness_nm_per_rad = 3.0", "stiffness_nm_per_rad = 1e30"), "x").unwrap(),
        &assets,
    )
    .err()
    .unwrap();
    assert!(err.to_string().contains("robots[0].drive.stiffness_nm_per_rad"), "{err}");

    // Gains of 1e12 N m/rad towards targets far outside the limits.
    let text = text
        .replace("stiffness_nm_per_rad = 3.0", "stiffness_nm_per_rad = 1e12")
        .replace("max_torque_nm = 0.5", "max_torque_nm = 1e12");
    let mut scene = Scene::new(&SceneDesc::from_toml(&text, "huge gains").unwrap(), &assets).unwrap();
    let hand = scene.robot("hand").unwrap();
    let mut faulted = false;
    for k in 0..40 {
        let far = if k % 2 == 0 { 1e6 } else { -1e6 };
        scene.set_joint_targets(hand, &[far; 16]).unwrap();
        scene.step();
        let mut q = vec![0.0; 16];
        scene.joint_positions(hand, &mut q).unwrap();
        if scene.fault().is_some() {
            faulted = true;
            break;
        }
        // Until a fault is reported, the state is finite.
        assert!(q.iter().all(|x| x.is_finite()), "{q:?} with no fault");
    }
    // Stepping on after a fault changes nothing and does not panic.
    if faulted {
        scene.step();
        assert!(scene.fault().is_some());
    }
}

#[test]
fn a_fixed_base_stays_put_and_a_free_base_falls() {
    let dir = folder("base");
    let urdf = arm_urdf(0.1, 0.1, (-1.0, 1.0), false);
    let drive = "mode = \"position\"\nstiffness_nm_per_rad = 5.0";
    let (mut fixed, _) = arm_scene(&dir, &urdf, drive, "");
    let (mut free, _) = arm_scene(&dir, &urdf, drive, "fixed_base = false");
    for _ in 0..30 {
        fixed.step();
        free.step();
    }
    let p = |s: &Scene| s.pose(s.body("arm/base").unwrap()).translation;
    assert_eq!(p(&fixed), Vector::new(0.0, 0.0, 0.2));
    // Half a second of free fall: 0.5 g t^2 = 1.23 m.
    assert!((0.2 - p(&free).z - 0.5 * 9.81 * 0.25).abs() < 0.05, "fell to {}", p(&free).z);
    let _ = Pose::IDENTITY;
}

#[test]
fn the_readmes_robot_scene_loads_as_written() {
    let readme = include_str!("../../../README.md");
    let section = &readme[readme.find("## A robot in a scene").expect("the section")..];
    let start = section.find("```toml\n").unwrap() + "```toml\n".len();
    let text = &section[start..start + section[start..].find("```").unwrap()];
    let mut scene = Scene::new(&SceneDesc::from_toml(text, "README").unwrap(), &Assets::builtin()).unwrap();
    let hand = scene.robot("hand").unwrap();
    let thumb = scene.joints(hand).find(|j| j.name == "joint_12.0").unwrap();
    assert_eq!(thumb.stiffness_nm_per_rad, 4.0);
    let mut q = vec![0.0; 16];
    scene.joint_positions(hand, &mut q).unwrap();
    assert_eq!(q[1], 1.2);
    scene.step();
    assert!(scene.fault().is_none());
}
