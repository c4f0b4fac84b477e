//! Arbitrary bytes as a sensor layout file (`[[sensors]] file = ...`): the
//! scene must build or return one error, and a scene that builds must step
//! and read its array without a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tactile_sim::{Assets, Scene, SceneDesc};

const SCENE: &str = r#"
[physics]
physics_hz = 240.0
substeps = 2
[[bodies]]
name = "table"
kind = "static"
[[bodies.colliders]]
shape = { kind = "box", half_extents_m = [0.2, 0.2, 0.01] }
[[bodies]]
name = "finger"
kind = "dynamic"
position_m = [0.0, 0.0, 0.02]
[[bodies.colliders]]
shape = { kind = "sphere", radius_m = 0.01 }
[[sensors]]
name = "pad"
body = "finger"
file = "sensors/fuzz.toml"
"#;

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("tactile-fuzz-sensor-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("sensors")).unwrap();
    std::fs::write(dir.join("sensors/fuzz.toml"), data).unwrap();
    let desc = SceneDesc::from_toml(SCENE, "fuzz scene").unwrap();
    if let Ok(mut scene) = Scene::new(&desc, &Assets::new(&dir)) {
        scene.step();
        let _ = scene.fault();
        if let Ok(pad) = scene.sensor("pad") {
            let mut frame = scene.new_frame(pad);
            scene.read(pad, &mut frame);
        }
    }
});
