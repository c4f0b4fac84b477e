//! Physical laws the taxel model must obey.

use tactile_sim::math::Vector;
use tactile_sim::taxel_slide::{HOLD_END_STEP, TaxelSlide};
use tactile_sim::{Assets, Scene, SceneDesc, TaxelFrame};

const G: f32 = 9.81;

/// A static 20 mm x 20 mm sensing table (top face at z = 0) with a
/// `n x n` grid on its top face, and one dynamic object given as TOML.
fn table_scene(n: u32, pitch_m: f32, skin: &str, object: &str) -> Scene {
    let text = format!(
        r#"
        [[bodies]]
        name = "table"
        kind = "static"
        position_m = [0.0, 0.0, -0.005]
        [[bodies.colliders]]
        shape = {{ kind = "box", half_extents_m = [0.05, 0.05, 0.005] }}

        {object}

        [[sensors]]
        name = "skin"
        body = "table"
        layout = {{ kind = "grid", rows = {n}, cols = {n}, pitch_m = {pitch_m}, center_m = [0.0, 0.0, 0.005],
                   normal = [0.0, 0.0, -1.0], u_axis = [1.0, 0.0, 0.0] }}
        {skin}
        "#
    );
    let desc = SceneDesc::from_toml(&text, "test").expect("valid scene");
    Scene::new(&desc, &Assets::builtin()).expect("scene builds")
}

fn settle_and_read(scene: &mut Scene, env_steps: usize) -> TaxelFrame {
    let skin = scene.sensor("skin").unwrap();
    let mut frame = scene.new_frame(skin);
    for _ in 0..env_steps {
        scene.step();
        scene.read(skin, &mut frame);
    }
    frame
}

#[test]
fn a_resting_block_weighs_m_g_on_the_taxels() {
    for mass in [0.05f32, 0.5, 2.0] {
        let object = format!(
            r#"[[bodies]]
            name = "block"
            kind = "dynamic"
            position_m = [0.0, 0.0, 0.0061]
            [[bodies.colliders]]
            shape = {{ kind = "box", half_extents_m = [0.006, 0.006, 0.006] }}
            mass_kg = {mass}"#
        );
        let mut scene = table_scene(8, 0.0025, "", &object);
        let frame = settle_and_read(&mut scene, 90);
        let weight = mass * G;
        let err = (frame.total_normal_n - weight).abs() / weight;
        assert!(err < 0.02, "m = {mass} kg: taxels sum to {} N, m g = {weight} N", frame.total_normal_n);
        assert!(frame.in_contact);
        // The total force vector points into the table (down).
        assert!((frame.total_force_n - Vector::new(0.0, 0.0, -weight)).length() < 0.02 * weight);
    }
}

#[test]
fn a_flat_press_is_uniform_over_the_whole_pad() {
    let mut slide = TaxelSlide::new(&Assets::builtin()).unwrap();
    slide.reset(0);
    for _ in 0..=HOLD_END_STEP {
        slide.step(true);
    }
    let f = slide.frame();
    let nonzero: Vec<f32> = f.normal_n.iter().copied().filter(|&x| x != 0.0).collect();
    assert!(nonzero.len() >= 60, "only {} of 64 taxels read a force", nonzero.len());
    let mean = nonzero.iter().sum::<f32>() / nonzero.len() as f32;
    for (i, x) in f.normal_n.iter().enumerate() {
        assert!((x - mean).abs() <= 0.1 * mean, "taxel {i} reads {x} N, mean {mean} N");
    }
    // And the sum is the solver's pad-ground force.
    let (pad, _, ground) = slide.bodies();
    let solver = slide.scene().contact_normal_force_n(pad, ground);
    assert!((f.total_normal_n - solver).abs() < 0.02 * solver, "{} vs {solver}", f.total_normal_n);
    // The drive presses 1 mm at 2000 N/m on top of the pad's weight.
    assert!((solver - (2.0 + 0.05 * G)).abs() < 0.1, "{solver}");
}

#[test]
fn the_centre_of_pressure_sits_under_an_off_centre_load() {
    let pitch = 0.0025;
    for (x, y) in [(0.004f32, -0.003f32), (-0.006, 0.0055), (0.0, 0.0)] {
        let object = format!(
            r#"[[bodies]]
            name = "weight"
            kind = "dynamic"
            position_m = [{x}, {y}, 0.003]
            [[bodies.colliders]]
            shape = {{ kind = "box", half_extents_m = [0.003, 0.003, 0.003] }}
            mass_kg = 0.2"#
        );
        let mut scene = table_scene(8, pitch, "", &object);
        let frame = settle_and_read(&mut scene, 60);
        let cop = frame.centre_of_pressure_m;
        let err = ((cop.x - x).powi(2) + (cop.y - y).powi(2)).sqrt();
        assert!(err < pitch, "load at ({x}, {y}), centre of pressure at ({}, {})", cop.x, cop.y);
        assert!(frame.nonzero_taxels() < 64, "the load is local, not the whole pad");
    }
}

#[test]
fn a_sphere_footprint_follows_the_elastic_foundation_law() {
    // Elastic foundation of stiffness k under a sphere of radius R pressed
    // with force F: F = pi k R d^2, footprint radius a = sqrt(2 R d).
    let (n, pitch) = (41u32, 0.0005f32);
    let (radius, mass, k) = (0.02f32, 0.2f32, 1.0e8f32);
    let object = format!(
        r#"[[bodies]]
        name = "ball"
        kind = "dynamic"
        position_m = [0.0, 0.0, {radius}]
        [[bodies.colliders]]
        shape = {{ kind = "sphere", radius_m = {radius} }}
        mass_kg = {mass}"#
    );
    let skin = format!("skin = {{ thickness_m = 0.002, stiffness_n_per_m3 = {k} }}");
    let mut scene = table_scene(n, pitch, &skin, &object);
    let frame = settle_and_read(&mut scene, 60);
    let force = mass * G;
    assert!((frame.total_normal_n - force).abs() < 0.02 * force);
    let depth = (force / (std::f32::consts::PI * k * radius)).sqrt();
    let predicted = (2.0 * radius * depth).sqrt();
    let measured = (frame.nonzero_taxels() as f32 * pitch * pitch / std::f32::consts::PI).sqrt();
    assert!(
        (measured - predicted).abs() < 0.15 * predicted,
        "footprint radius {measured} m, elastic foundation predicts {predicted} m (d = {depth} m)"
    );
    // Symmetric under a 90-degree rotation of the map about the sphere.
    let n = n as usize;
    let max = frame.normal_n.iter().copied().fold(0.0f32, f32::max);
    for r in 0..n {
        for c in 0..n {
            let a = frame.normal_n[r * n + c];
            let b = frame.normal_n[c * n + (n - 1 - r)];
            assert!((a - b).abs() <= 0.02 * max, "taxel ({r}, {c}) {a} vs its rotation {b}");
        }
    }
    // The pressure peaks under the sphere and falls off towards the rim.
    let centre = frame.normal_n[(n / 2) * n + n / 2];
    assert_eq!(centre, max);
}

#[test]
fn sliding_shear_opposes_the_motion_with_mu_n() {
    let mut slide = TaxelSlide::new(&Assets::builtin()).unwrap();
    slide.reset(0);
    // Slide phase, before the pad meets the cube (about 2.85 s = step 171).
    for k in 0..160 {
        slide.step(true);
        if k < 100 {
            continue;
        }
        let f = slide.frame();
        let shear_x: f32 = f.shear_n.iter().map(|s| s[0]).sum();
        let shear_y: f32 = f.shear_n.iter().map(|s| s[1]).sum();
        let mu_n = 0.5 * f.total_normal_n;
        assert!(shear_x < 0.0, "step {k}: the pad moves along +x, the shear must point along -x");
        assert!((shear_x.abs() - mu_n).abs() < 0.1 * mu_n, "step {k}: |shear| {} N vs mu N {mu_n} N", shear_x.abs());
        assert!(shear_y.abs() < 0.05 * mu_n, "step {k}: sideways shear {shear_y}");
    }
}

#[test]
fn no_contact_reads_exactly_zero() {
    let mut slide = TaxelSlide::new(&Assets::builtin()).unwrap();
    slide.reset(0);
    for _ in 0..10 {
        slide.step(true);
        let f = slide.frame();
        assert!(f.normal_n.iter().all(|&x| x == 0.0));
        assert!(f.shear_n.iter().all(|&s| s == [0.0, 0.0]));
        assert_eq!(f.total_force_n, Vector::ZERO);
        assert!(!f.in_contact);
    }
}

#[test]
fn the_taxel_slide_sanity_figures_hold() {
    let mut slide = TaxelSlide::new(&Assets::builtin()).unwrap();
    let ep = slide.run_episode(0);
    assert!((ep.hold.taxel_sum_n - ep.hold.solver_normal_n).abs() < 0.02 * ep.hold.solver_normal_n);
    assert!(ep.hold.nonzero_taxels >= 60);
    let pushed_mm = (ep.cube_final_x_m - 0.06) * 1000.0;
    assert!((20.0..=40.0).contains(&pushed_mm), "cube pushed {pushed_mm} mm");
}
