//! Arbitrary bytes as a robot's URDF file: the scene must build or return
//! one error, and a scene that builds must step without a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tactile_sim::{Assets, Scene, SceneDesc};

const SCENE: &str = r#"
[physics]
physics_hz = 120.0
substeps = 2
[[bodies]]
name = "table"
kind = "static"
[[bodies.colliders]]
shape = { kind = "box", half_extents_m = [0.2, 0.2, 0.01] }
[[robots]]
name = "r"
urdf = "robot.urdf"
position_m = [0.0, 0.0, 0.1]
drive = { stiffness_nm_per_rad = 3.0, damping_nm_s_per_rad = 0.1, max_torque_nm = 0.5 }
"#;

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("tactile-fuzz-urdf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("robot.urdf"), data).unwrap();
    let desc = SceneDesc::from_toml(SCENE, "fuzz scene").unwrap();
    if let Ok(mut scene) = Scene::new(&desc, &Assets::new(&dir)) {
        if let Ok(robot) = scene.robot("r") {
            let n = scene.joint_count(robot);
            let _ = scene.set_joint_targets(robot, &vec![0.3; n]);
        }
        scene.step();
        let _ = scene.fault();
    }
});
