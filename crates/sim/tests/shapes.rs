//! Every shape kind builds and rests where geometry says; curved taxel
//! layouts carry the load like flat ones.

use tactile_sim::{Assets, Scene, SceneDesc};

const GROUND: &str = r#"
[[bodies]]
name = "ground"
kind = "static"
position_m = [0.0, 0.0, -0.01]
[[bodies.colliders]]
shape = { kind = "box", half_extents_m = [0.2, 0.2, 0.01] }
"#;

fn scene(extra: &str) -> Scene {
    let desc = SceneDesc::from_toml(&format!("{GROUND}\n{extra}"), "test").expect("valid scene");
    Scene::new(&desc, &Assets::builtin()).expect("scene builds")
}

fn rest_z(extra: &str, body: &str) -> f32 {
    let mut s = scene(extra);
    for _ in 0..120 {
        s.step();
    }
    assert!(s.fault().is_none());
    s.pose(s.body(body).unwrap()).translation.z
}

#[test]
fn cylinders_and_capsules_stand_along_z() {
    let z = rest_z(
        r#"[[bodies]]
        name = "c"
        kind = "dynamic"
        position_m = [0.0, 0.0, 0.03]
        [[bodies.colliders]]
        shape = { kind = "cylinder", half_height_m = 0.02, radius_m = 0.01 }"#,
        "c",
    );
    assert!((z - 0.02).abs() < 3e-4, "a cylinder on its end rests at its half height: {z}");
    let z = rest_z(
        r#"[[bodies]]
        name = "c"
        kind = "dynamic"
        position_m = [0.0, 0.0, 0.04]
        [[bodies.colliders]]
        shape = { kind = "capsule", half_height_m = 0.015, radius_m = 0.008 }"#,
        "c",
    );
    // A capsule on its end balances on a point; it may tip, but never sinks.
    assert!(z > 0.0079, "{z}");
}

#[test]
fn a_convex_hull_rests_on_its_base() {
    let z = rest_z(
        r#"[[bodies]]
        name = "tet"
        kind = "dynamic"
        position_m = [0.0, 0.0, 0.005]
        [[bodies.colliders]]
        shape = { kind = "convex_hull", points_m = [[-0.02, -0.02, 0.0], [0.02, -0.02, 0.0], [0.0, 0.02, 0.0], [0.0, 0.0, 0.03]] }"#,
        "tet",
    );
    assert!(z.abs() < 3e-4, "the base sits on the ground: body origin at {z}");
}

#[test]
fn a_concave_mesh_is_a_trimesh_when_static_and_decomposed_when_dynamic() {
    // Dynamic: the decomposed L falls flat on the ground.
    let z = rest_z(
        r#"[[bodies]]
        name = "l"
        kind = "dynamic"
        position_m = [0.0, 0.0, 0.01]
        [[bodies.colliders]]
        shape = { kind = "mesh", file = "meshes/l_block.obj" }"#,
        "l",
    );
    assert!(z.abs() < 5e-4, "the L's bottom rests on the ground: {z}");
    // Static trimesh: a ball dropped into the L's notch falls to the ground,
    // a ball dropped over an arm rests on top of it (20 mm up).
    let extra = r#"[[bodies]]
        name = "l"
        kind = "static"
        [[bodies.colliders]]
        shape = { kind = "mesh", file = "meshes/l_block.obj" }
        [[bodies]]
        name = "on_arm"
        kind = "dynamic"
        position_m = [-0.012, -0.012, 0.04]
        [[bodies.colliders]]
        shape = { kind = "sphere", radius_m = 0.005 }
        [[bodies]]
        name = "in_notch"
        kind = "dynamic"
        position_m = [0.012, 0.012, 0.04]
        [[bodies.colliders]]
        shape = { kind = "sphere", radius_m = 0.005 }"#;
    let mut s = scene(extra);
    for _ in 0..120 {
        s.step();
    }
    let on_arm = s.pose(s.body("on_arm").unwrap()).translation.z;
    let in_notch = s.pose(s.body("in_notch").unwrap()).translation.z;
    assert!((on_arm - 0.025).abs() < 5e-4, "{on_arm}");
    assert!((in_notch - 0.005).abs() < 5e-4, "{in_notch}");
}

#[test]
fn a_hemispherical_fingertip_feels_its_press_at_the_pole() {
    let mut s = scene(
        r#"[[bodies]]
        name = "tip"
        kind = "dynamic"
        position_m = [0.0, 0.0, 0.015]
        drive = { stiffness_n_per_m = 1000.0, damping_n_s_per_m = 10.0 }
        [[bodies.colliders]]
        shape = { kind = "sphere", radius_m = 0.01 }
        mass_kg = 0.02
        [[sensors]]
        name = "tip"
        body = "tip"
        file = "sensors/fingertip_hemisphere.toml""#,
    );
    let tip = s.body("tip").unwrap();
    let ground = s.body("ground").unwrap();
    let sensor = s.sensor("tip").unwrap();
    let mut frame = s.new_frame(sensor);
    let target = tactile_sim::math::Pose::from_translation(tactile_sim::math::Vector::new(0.0, 0.0, 0.009));
    for _ in 0..60 {
        s.set_target(tip, target).unwrap();
        s.step();
        s.read(sensor, &mut frame);
    }
    let solver = s.contact_normal_force_n(tip, ground);
    // 1 mm of drive at 1000 N/m plus the weight.
    assert!((solver - (1.0 + 0.02 * 9.81)).abs() < 0.05, "{solver}");
    // The press is along the pole: the taxel forces add up to the solver's.
    assert!((frame.total_force_n.length() - solver).abs() < 0.02 * solver, "{:?} vs {solver}", frame.total_force_n);
    let taxels = s.taxel_array(sensor).taxels();
    let (imax, _) = frame.normal_n.iter().enumerate().fold((0, 0.0f32), |b, (i, &x)| if x > b.1 { (i, x) } else { b });
    assert!(taxels.position_m[imax].z < -0.0095, "the most loaded taxel is at the pole: {:?}", taxels.position_m[imax]);
}

#[test]
fn a_cylindrical_phalanx_lying_on_its_side_carries_its_weight_underneath() {
    let mut s = scene(
        r#"[[bodies]]
        name = "phalanx"
        kind = "dynamic"
        position_m = [0.0, 0.0, 0.0081]
        rotation_rpy_rad = [0.0, 1.5707963, 0.0]
        [[bodies.colliders]]
        shape = { kind = "cylinder", half_height_m = 0.02, radius_m = 0.008 }
        mass_kg = 0.1
        [[sensors]]
        name = "skin"
        body = "phalanx"
        file = "sensors/phalanx_cylinder.toml""#,
    );
    let sensor = s.sensor("skin").unwrap();
    let mut frame = s.new_frame(sensor);
    for _ in 0..90 {
        s.step();
        s.read(sensor, &mut frame);
    }
    let weight = 0.1 * 9.81;
    assert!((frame.total_normal_n - weight).abs() < 0.02 * weight, "{} vs {weight}", frame.total_normal_n);
    // Only the taxels facing the ground are loaded.
    let taxels = s.taxel_array(sensor).taxels();
    let pose = s.pose(s.body("phalanx").unwrap());
    for (i, &f) in frame.normal_n.iter().enumerate() {
        if f > 0.0 {
            let facing = pose.transform_vector(taxels.normal[i]);
            assert!(facing.z > 0.8, "taxel {i} is loaded but faces {facing:?}");
        }
    }
}
