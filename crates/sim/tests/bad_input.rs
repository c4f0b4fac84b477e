//! Bad scenes and layouts give one typed error that names the field or path.

use tactile_sim::{Assets, Scene, SceneDesc, SimError};

fn build(text: &str) -> Result<Scene, SimError> {
    let desc = SceneDesc::from_toml(text, "bad.toml")?;
    Scene::new(&desc, &Assets::builtin())
}

const BODY: &str = r#"
[[bodies]]
name = "pad"
kind = "static"
[[bodies.colliders]]
shape = { kind = "box", half_extents_m = [0.01, 0.01, 0.0025] }
"#;

fn with_layout(layout: &str) -> String {
    format!("{BODY}\n[[sensors]]\nname = \"s\"\nbody = \"pad\"\nlayout = {layout}\n")
}

#[test]
fn a_layout_with_zero_rows_is_refused() {
    let e = build(&with_layout(
        r#"{ kind = "grid", rows = 0, cols = 8, pitch_m = 0.0025, center_m = [0.0, 0.0, 0.0], normal = [0.0, 0.0, 1.0], u_axis = [1.0, 0.0, 0.0] }"#,
    ))
    .err()
    .expect("an error");
    assert!(matches!(e, SimError::InvalidField { .. }), "{e:?}");
    assert!(e.to_string().contains("sensors[0].layout.rows"), "{e}");
}

#[test]
fn a_negative_pitch_is_refused() {
    let e = build(&with_layout(
        r#"{ kind = "grid", rows = 8, cols = 8, pitch_m = -0.0025, center_m = [0.0, 0.0, 0.0], normal = [0.0, 0.0, 1.0], u_axis = [1.0, 0.0, 0.0] }"#,
    ))
    .err()
    .expect("an error");
    assert!(e.to_string().contains("sensors[0].layout.pitch_m"), "{e}");
}

#[test]
fn a_nan_is_refused() {
    let e = build(&with_layout(
        r#"{ kind = "grid", rows = 8, cols = 8, pitch_m = nan, center_m = [0.0, 0.0, 0.0], normal = [0.0, 0.0, 1.0], u_axis = [1.0, 0.0, 0.0] }"#,
    ))
    .err()
    .expect("an error");
    assert!(e.to_string().contains("pitch_m"), "{e}");
    let e =
        build("[[bodies]]\nname = \"b\"\nkind = \"dynamic\"\nposition_m = [0.0, nan, 0.0]\n").err().expect("an error");
    assert!(e.to_string().contains("bodies[0].position_m"), "{e}");
}

#[test]
fn an_unknown_shape_names_the_file_and_line() {
    let text = "[[bodies]]\nname = \"b\"\nkind = \"static\"\n[[bodies.colliders]]\nshape = { kind = \"torus\", radius_m = 1.0 }\n";
    let e = build(text).err().expect("an error");
    assert!(matches!(e, SimError::Toml { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(msg.starts_with("bad.toml:5:") && msg.contains("torus") && !msg.contains('\n'), "{msg}");
}

#[test]
fn an_unknown_key_is_refused() {
    let e = build("[physics]\nphysics_hertz = 240.0\n").err().expect("an error");
    let msg = e.to_string();
    assert!(msg.starts_with("bad.toml:2:1:") && msg.contains("physics_hertz"), "{msg}");
}

#[test]
fn a_missing_mesh_file_names_the_path() {
    let text = "[[bodies]]\nname = \"b\"\nkind = \"static\"\n[[bodies.colliders]]\nshape = { kind = \"mesh\", file = \"meshes/no_such_mesh.obj\" }\n";
    let e = build(text).err().expect("an error");
    assert!(matches!(e, SimError::Io { .. }), "{e:?}");
    assert!(e.to_string().contains("meshes/no_such_mesh.obj"), "{e}");
}

#[test]
fn a_sensor_on_an_unknown_body_or_file_is_refused() {
    let e = build("[[sensors]]\nname = \"s\"\nbody = \"ghost\"\nfile = \"sensors/pad_8x8.toml\"\n")
        .err()
        .expect("an error");
    assert!(e.to_string().contains("unknown body `ghost`"), "{e}");
    let e = build(&format!("{BODY}\n[[sensors]]\nname = \"s\"\nbody = \"pad\"\nfile = \"sensors/nope.toml\"\n"))
        .err()
        .expect("an error");
    assert!(e.to_string().contains("sensors/nope.toml"), "{e}");
}

#[test]
fn bad_noise_parameters_are_refused() {
    let text = format!(
        "{BODY}\n[[sensors]]\nname = \"s\"\nbody = \"pad\"\nfile = \"sensors/pad_8x8.toml\"\nnoise = {{ dead_fraction = 2.0 }}\n"
    );
    let e = build(&text).err().expect("an error");
    assert!(e.to_string().contains("sensors[0].noise.dead_fraction"), "{e}");
}

#[test]
fn a_target_on_an_undriven_body_is_an_error_not_a_panic() {
    let mut scene = build(BODY).unwrap();
    let pad = scene.body("pad").unwrap();
    let e = scene.set_target(pad, tactile_sim::math::Pose::IDENTITY).unwrap_err();
    assert!(matches!(e, SimError::NotDriven(_)));
    assert!(scene.body("nobody").is_err());
}

#[test]
fn absurd_sizes_are_refused_before_anything_is_allocated_or_stepped() {
    // 4e9 taxels would be gigabytes (and their area's u32 product overflowed).
    let e = build(&with_layout(
        r#"{ kind = "cylinder", radius_m = 0.005, length_m = 0.01, center_m = [0.0, 0.0, 0.0], axis = [0.0, 0.0, 1.0], rows = 65536, around = 65536 }"#,
    ))
    .err()
    .expect("an error");
    assert!(e.to_string().contains("sensors[0].layout.around") && e.to_string().contains("65,536"), "{e}");
    // A step of a billion physics steps would never end.
    let e = build(&format!("[physics]\nsubsteps = 1000000000\n{BODY}")).err().expect("an error");
    assert!(e.to_string().contains("physics.substeps"), "{e}");
    let e = build(&format!("[physics]\nsolver_iterations = 100000\n{BODY}")).err().expect("an error");
    assert!(e.to_string().contains("physics.solver_iterations"), "{e}");
}
