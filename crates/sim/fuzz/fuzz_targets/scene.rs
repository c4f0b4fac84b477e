//! Arbitrary bytes as a scene file: it must parse and build or return one
//! error, and a scene that builds must step without a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tactile_sim::{Assets, Scene, SceneDesc};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(desc) = SceneDesc::from_toml(text, "fuzz.toml") else { return };
    // Scenes with very many bodies only measure rapier's speed.
    if desc.bodies.len() > 64 || desc.sensors.len() > 16 {
        return;
    }
    if let Ok(mut scene) = Scene::new(&desc, &Assets::builtin()) {
        scene.step();
        let _ = scene.fault();
    }
});
