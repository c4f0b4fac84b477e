//! Domain randomisation hooks: friction, mass, scale and sensor noise change
//! the physics as physics says, and a reset undoes them.

use tactile_sim::math::Pose;
use tactile_sim::taxel_slide::pad_target_m;
use tactile_sim::{Assets, NoiseDesc, Scene, SceneDesc, TaxelFrame};

fn slide() -> Scene {
    let assets = Assets::builtin();
    let desc = SceneDesc::from_toml(&assets.read_text("scenes/taxel-slide.toml").unwrap(), "taxel-slide").unwrap();
    Scene::new(&desc, &assets).unwrap()
}

/// Runs the taxel-slide protocol to `steps` and returns the last frame.
fn run(scene: &mut Scene, steps: usize) -> TaxelFrame {
    let pad = scene.body("pad").unwrap();
    let sensor = scene.sensor("pad").unwrap();
    let mut frame = scene.new_frame(sensor);
    for k in 1..=steps {
        scene.set_target(pad, Pose::from_translation(pad_target_m(k as f32 * scene.env_dt_s()))).unwrap();
        scene.step();
        scene.read(sensor, &mut frame);
    }
    frame
}

fn shear_ratio(f: &TaxelFrame) -> f32 {
    let shear: f32 = f.shear_n.iter().map(|s| s[0]).sum();
    shear.abs() / f.total_normal_n
}

#[test]
fn friction_scale_sets_the_sliding_shear_to_the_new_mu() {
    let mut s = slide();
    s.reset(0);
    s.set_friction_scale(1.6).unwrap();
    let f = run(&mut s, 130);
    assert!((shear_ratio(&f) - 0.8).abs() < 0.08, "mu 0.5 x 1.6: shear / normal = {}", shear_ratio(&f));
    // A reset restores the scene file's friction.
    s.reset(0);
    let f = run(&mut s, 130);
    assert!((shear_ratio(&f) - 0.5).abs() < 0.05, "{}", shear_ratio(&f));
}

fn weight_on_table(mass_scale: f32, body_scale: f32) -> (f32, Scene) {
    let text = r#"
        [[bodies]]
        name = "table"
        kind = "static"
        position_m = [0.0, 0.0, -0.005]
        [[bodies.colliders]]
        shape = { kind = "box", half_extents_m = [0.05, 0.05, 0.005] }
        [[bodies]]
        name = "block"
        kind = "dynamic"
        position_m = [0.0, 0.0, 0.02]
        [[bodies.colliders]]
        shape = { kind = "box", half_extents_m = [0.008, 0.008, 0.008] }
        mass_kg = 0.4
        [[sensors]]
        name = "skin"
        body = "table"
        layout = { kind = "grid", rows = 16, cols = 16, pitch_m = 0.00125, center_m = [0.0, 0.0, 0.005],
                   normal = [0.0, 0.0, -1.0], u_axis = [1.0, 0.0, 0.0] }
    "#;
    let mut s = Scene::new(&SceneDesc::from_toml(text, "t").unwrap(), &Assets::builtin()).unwrap();
    let block = s.body("block").unwrap();
    s.set_mass_scale(block, mass_scale).unwrap();
    s.set_body_scale(block, body_scale).unwrap();
    let skin = s.sensor("skin").unwrap();
    let mut f = s.new_frame(skin);
    for _ in 0..90 {
        s.step();
        s.read(skin, &mut f);
    }
    (f.total_normal_n, s)
}

#[test]
fn mass_scale_scales_the_weight_the_taxels_feel() {
    let (w, _) = weight_on_table(1.5, 1.0);
    let expected = 0.4 * 1.5 * 9.81;
    assert!((w - expected).abs() < 0.02 * expected, "{w} vs {expected}");
}

#[test]
fn body_scale_scales_the_geometry() {
    // Half the size, an eighth of the volume, and twice the mass factor.
    let (w, s) = weight_on_table(2.0, 0.5);
    let expected = 0.4 * 2.0 / 8.0 * 9.81;
    assert!((w - expected).abs() < 0.02 * expected, "{w} vs {expected}");
    let z = s.pose(s.body("block").unwrap()).translation.z;
    assert!((z - 0.004).abs() < 3e-4, "a half-size 16 mm cube rests at 4 mm: {z}");
    // Scaling a body that carries a sensor is refused.
    let mut s = slide();
    let pad = s.body("pad").unwrap();
    assert!(s.set_body_scale(pad, 1.1).unwrap_err().to_string().contains("taxel array"));
    assert!(s.set_friction_scale(-1.0).is_err());
}

#[test]
fn set_noise_makes_the_readings_noisy_and_seeded() {
    let noisy = |seed| {
        let mut s = slide();
        s.reset(0);
        let sensor = s.sensor("pad").unwrap();
        s.set_noise(sensor, NoiseDesc { gaussian_sigma_n: 0.01, ..Default::default() }, seed).unwrap();
        run(&mut s, 5).normal_n
    };
    let a = noisy(1);
    assert!(a.iter().any(|&x| x != 0.0), "noise on an untouched pad");
    assert_eq!(a, noisy(1));
    assert_ne!(a, noisy(2));
}
