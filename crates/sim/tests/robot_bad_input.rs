//! Bad robots give one typed error that names the file and the element.

use std::path::{Path, PathBuf};

use tactile_sim::{Assets, Scene, SceneDesc, SimError};

fn folder(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tactile-robot-bad-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const ARM: &str = r#"<?xml version="1.0"?>
<robot name="arm">
  <link name="base"><collision><geometry><box size="0.02 0.02 0.02"/></geometry></collision></link>
  <link name="arm">
    <collision><geometry>MESH</geometry></collision>
    <inertial><mass value="0.1"/><inertia ixx="1e-5" ixy="0" ixz="0" iyy="1e-5" iyz="0" izz="1e-5"/></inertial>
  </link>
  <joint name="shoulder" type="JOINT_TYPE">
    <parent link="base"/><child link="PARENT"/><axis xyz="0 1 0"/>
    <limit lower="-1" upper="1" effort="1" velocity="1"/>
  </joint>
</robot>"#;

fn arm(mesh: &str, joint_type: &str, child: &str) -> String {
    ARM.replace("MESH", mesh).replace("JOINT_TYPE", joint_type).replace("PARENT", child)
}

const SPHERE: &str = r#"<sphere radius="0.01"/>"#;

fn build(dir: &Path, urdf: &str, robot_extra: &str, rest: &str) -> Result<Scene, SimError> {
    std::fs::write(dir.join("arm.urdf"), urdf).unwrap();
    let text = format!(
        "{rest}\n[[robots]]\nname = \"arm\"\nurdf = \"arm.urdf\"\ndrive = {{ stiffness_nm_per_rad = 2.0 }}\n{robot_extra}\n"
    );
    Scene::new(&SceneDesc::from_toml(&text, "robot.toml")?, &Assets::new(dir))
}

fn error(dir: &Path, urdf: &str, robot_extra: &str, rest: &str) -> String {
    build(dir, urdf, robot_extra, rest).err().expect("an error").to_string()
}

#[test]
fn a_good_arm_loads() {
    let dir = folder("good");
    let scene = build(&dir, &arm(SPHERE, "revolute", "arm"), "", "").unwrap();
    let arm = scene.robot("arm").unwrap();
    assert_eq!(scene.joints(arm).map(|j| j.name).collect::<Vec<_>>(), ["shoulder"]);
    assert_eq!(scene.body_count(), 2);
}

#[test]
fn a_missing_urdf_names_the_path() {
    let dir = folder("missing");
    let text = "[[robots]]\nname = \"arm\"\nurdf = \"robots/none.urdf\"\n";
    let e = Scene::new(&SceneDesc::from_toml(text, "robot.toml").unwrap(), &Assets::new(&dir)).err().unwrap();
    assert!(matches!(e, SimError::Io { .. }), "{e:?}");
    assert!(e.to_string().contains("robots/none.urdf"), "{e}");
}

#[test]
fn malformed_xml_names_the_file() {
    let dir = folder("xml");
    let e = error(&dir, "<robot name=\"arm\"><link name=\"base\"></robot", "", "");
    assert!(e.contains("arm.urdf") && e.contains("not a valid URDF"), "{e}");
}

#[test]
fn a_joint_on_a_missing_link_names_the_joint() {
    let dir = folder("link");
    let e = error(&dir, &arm(SPHERE, "revolute", "forearm"), "", "");
    assert!(e.contains("arm.urdf") && e.contains("joint `shoulder`") && e.contains("forearm"), "{e}");
}

#[test]
fn an_unsupported_joint_type_names_the_joint() {
    let dir = folder("type");
    let e = error(&dir, &arm(SPHERE, "prismatic", "arm"), "", "");
    assert!(e.contains("joint `shoulder`") && e.contains("Prismatic"), "{e}");
}

#[test]
fn a_missing_mesh_names_the_link_and_the_file() {
    let dir = folder("mesh");
    let e = error(&dir, &arm(r#"<mesh filename="package://arm/meshes/forearm.stl"/>"#, "revolute", "arm"), "", "");
    assert!(e.contains("link `arm` <collision> 0 <mesh>") && e.contains("meshes/forearm.stl"), "{e}");
}

#[test]
fn a_mesh_next_to_the_urdf_is_decomposed_on_a_moving_link() {
    let dir = folder("mesh-ok");
    std::fs::create_dir_all(dir.join("meshes")).unwrap();
    // A unit tetrahedron, scaled to 2 cm.
    std::fs::write(
        dir.join("meshes/tet.obj"),
        "v 0 0 0\nv 1 0 0\nv 0 1 0\nv 0 0 1\nf 1 3 2\nf 1 2 4\nf 1 4 3\nf 2 3 4\n",
    )
    .unwrap();
    let scene = build(
        &dir,
        &arm(r#"<mesh filename="package://arm/meshes/tet.obj" scale="0.02 0.02 0.02"/>"#, "revolute", "arm"),
        "",
        "",
    )
    .unwrap();
    let mut record = tactile_rollout::SceneRecord::new("test", 0.01, 1, Vec::new());
    scene.describe(&mut record);
    let link = record.bodies.iter().find(|b| b.name == "arm/arm").expect("the link is recorded");
    assert_eq!(link.kind, "dynamic");
    assert!(!link.shapes.is_empty(), "the mesh became the link's collider");
}

#[test]
fn a_sensor_on_an_unknown_link_is_refused() {
    let dir = folder("sensor");
    let e = error(
        &dir,
        &arm(SPHERE, "revolute", "arm"),
        "",
        "[[sensors]]\nname = \"tip\"\nbody = \"arm/hand\"\nfile = \"sensors/allegro_fingertip.toml\"",
    );
    assert!(e.contains("unknown body `arm/hand`"), "{e}");
}

#[test]
fn an_override_for_an_unknown_joint_names_it() {
    let dir = folder("override");
    let e = error(&dir, &arm(SPHERE, "revolute", "arm"), "joints.elbow = { stiffness_nm_per_rad = 1.0 }", "");
    assert!(e.contains("arm.urdf") && e.contains("joint `elbow`"), "{e}");
    let e = error(&dir, &arm(SPHERE, "revolute", "arm"), "joint_positions_rad = { elbow = 0.1 }", "");
    assert!(e.contains("joint `elbow`"), "{e}");
}

#[test]
fn a_negative_gain_names_the_key() {
    let dir = folder("gain");
    let e = error(&dir, &arm(SPHERE, "revolute", "arm"), "joints.shoulder = { damping_nm_s_per_rad = -1.0 }", "");
    assert!(e.contains("robots[0].joints.\"shoulder\".damping_nm_s_per_rad"), "{e}");
    let e = error(&dir, &arm(SPHERE, "revolute", "arm"), "joints.shoulder = { stiffness_nm_per_rad = -2.0 }", "");
    assert!(e.contains("stiffness_nm_per_rad"), "{e}");
}

#[test]
fn a_start_outside_the_limits_is_refused() {
    let dir = folder("limits");
    let e = error(&dir, &arm(SPHERE, "revolute", "arm"), "joint_positions_rad = { shoulder = 2.0 }", "");
    assert!(e.contains("robots[0].joint_positions_rad.\"shoulder\""), "{e}");
}

#[test]
fn a_joint_vector_of_the_wrong_length_is_an_error() {
    let dir = folder("length");
    let mut scene = build(&dir, &arm(SPHERE, "revolute", "arm"), "", "").unwrap();
    let arm = scene.robot("arm").unwrap();
    let e = scene.set_joint_targets(arm, &[0.0, 0.0]).err().unwrap();
    assert!(matches!(e, SimError::Length { expected: 1, got: 2, .. }), "{e:?}");
    assert!(e.to_string().contains("joint targets of robot `arm`"), "{e}");
    let mut out = [0.0; 3];
    assert!(scene.joint_positions(arm, &mut out).is_err());
    assert!(scene.set_joint_positions(arm, &[5.0]).is_err(), "outside the limits");
    assert!(matches!(scene.robot("leg"), Err(SimError::Unknown { kind: "robot", .. })));
}

#[test]
fn a_scene_key_typo_in_a_robot_is_refused_with_its_line() {
    let text = "[[robots]]\nname = \"arm\"\nurdf = \"x.urdf\"\nfixed_bse = true\n";
    let e = SceneDesc::from_toml(text, "robot.toml").err().unwrap().to_string();
    assert!(e.starts_with("robot.toml:4:") && e.contains("fixed_bse"), "{e}");
}
