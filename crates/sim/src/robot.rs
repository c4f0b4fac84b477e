//! Robots from URDF files: links as bodies, joints as multibody joints with
//! drives, and the joint-space API of a [`Scene`].
//!
//! A URDF is parsed and checked here before rapier3d-urdf turns it into
//! bodies, colliders and joints, so that a malformed file is one error that
//! names the file and the element (the loader itself would panic on a joint
//! whose link does not exist). Mesh collisions are read through the asset
//! folders (so built-in robots need no source tree) with tactile-sim's own
//! OBJ/STL reader.
//!
//! Joints are reduced-coordinate multibody joints: a joint reads its angle
//! exactly, takes an armature, and a reset to a grasp is exact. A fixed
//! base's branches (the fingers of a hand) are separate multibodies, each
//! hung from a fixed mount at the root: the dynamics are the same (with a
//! fixed root the mass matrix is block-diagonal across branches), and the
//! step on the Allegro hand is about four times faster than with one
//! multibody of all 16 joints (measured, see docs/ARCHITECTURE.md).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use rapier3d::prelude::*;
use rapier3d_urdf::urdf_rs;

use crate::SimError;
use crate::desc::{Assets, DriveMode, JointDriveDesc, RobotDesc};
use crate::mesh::TriMeshData;
use crate::scene::{Fault, Scene};

/// A robot of a scene, by index (see [`Scene::robot`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RobotId(pub(crate) usize);

/// One driven joint as a scene describes it ([`Scene::joints`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct JointInfo<'a> {
    /// The joint's name in the URDF.
    pub name: &'a str,
    /// Lower limit (rad); `-inf` for a continuous joint.
    pub lower_rad: f32,
    /// Upper limit (rad); `+inf` for a continuous joint.
    pub upper_rad: f32,
    /// What the joint's commands mean.
    pub mode: DriveMode,
    /// Position gain (N m/rad; 0 unless a position drive).
    pub stiffness_nm_per_rad: f32,
    /// Velocity gain (N m s/rad).
    pub damping_nm_s_per_rad: f32,
    /// Torque limit (N m).
    pub max_torque_nm: f32,
}

/// A driven joint at run time.
#[derive(Clone, Debug)]
pub(crate) struct JointEntry {
    name: String,
    lower_rad: f32,
    upper_rad: f32,
    mode: DriveMode,
    stiffness: f32,
    damping: f32,
    max_torque: f32,
    armature: f32,
    friction: f32,
    viscous: f32,
    /// The joint's index in the template's multibody joints.
    template_joint: usize,
    /// Its handle in the current world.
    handle: MultibodyJointHandle,
    /// Scene body indices of the joint's child and parent links.
    child_body: usize,
    parent_body: usize,
    /// The joint axis in the child link's frame.
    child_axis: Vector,
    initial_rad: f32,
    /// A position drive's target at a reset (rad).
    initial_target: f32,
    /// The command of the coming env step (rad, rad/s or N m).
    command: f32,
    /// Torque summed over the substeps of the current env step (N m).
    torque_sum: f32,
    /// Mean torque over the last env step (N m).
    torque_nm: f32,
}

/// A robot at run time.
#[derive(Clone, Debug)]
pub(crate) struct RobotEntry {
    name: String,
    joints: Vec<JointEntry>,
    /// Template multibody joints of this robot (all, fixed ones included).
    template_joints: std::ops::Range<usize>,
    has_torque_joints: bool,
}

/// One link as a scene body.
pub(crate) struct LinkPart {
    /// `<robot>/<link>`.
    pub name: String,
    /// The body, posed at the URDF's zero configuration.
    pub body: RigidBody,
    /// Its colliders with their pad poses (the collision element's origin
    /// in the link frame, before rapier turns cylinders to stand along y).
    pub colliders: Vec<(Collider, Pose)>,
}

/// What [`load_robot`] adds to a scene's template.
pub(crate) struct LoadedRobot {
    /// The links, in the loader's order.
    pub links: Vec<LinkPart>,
    /// Fixed mounts (bodies without colliders) for the branches of a fixed base.
    pub mounts: Vec<RigidBody>,
    /// Multibody joints: the joint, its parent and its child. A parent is a
    /// link index, or `links.len() + m` for mount `m`.
    pub joints: Vec<(GenericJoint, usize, usize)>,
    /// The driven joints, indices relative to this robot.
    driven: Vec<JointEntry>,
}

fn urdf_error(path: &Path, element: impl Into<String>, reason: impl Into<String>) -> SimError {
    SimError::Urdf { path: path.to_owned(), element: element.into(), reason: reason.into() }
}

fn finite_all(v: &[f64]) -> bool {
    v.iter().all(|x| x.is_finite())
}

fn pose_of(p: &urdf_rs::Pose) -> Pose {
    let [x, y, z] = p.xyz.0;
    let [r, pi, ya] = p.rpy.0;
    Pose::from_parts(
        Vector::new(x as f32, y as f32, z as f32),
        Rotation::from_euler(rapier3d::glamx::EulerRot::ZYX, ya as f32, pi as f32, r as f32),
    )
}

/// Parses and checks a URDF: one root, every joint's links present, each
/// link the child of at most one joint, finite numbers, supported joint
/// types, positive sizes.
fn parse_urdf(text: &str, path: &Path) -> Result<urdf_rs::Robot, SimError> {
    let robot = urdf_rs::read_from_string(text).map_err(|e| {
        let reason = e.to_string().split_whitespace().collect::<Vec<_>>().join(" ");
        urdf_error(path, "robot", format!("not a valid URDF: {reason}"))
    })?;
    if robot.links.is_empty() {
        return Err(urdf_error(path, "robot", "has no <link>"));
    }
    let mut link_index = HashMap::new();
    for (i, link) in robot.links.iter().enumerate() {
        let el = format!("link `{}`", link.name);
        if link_index.insert(link.name.as_str(), i).is_some() {
            return Err(urdf_error(path, el, "two links have this name"));
        }
        let inertial = &link.inertial;
        let i3 = &inertial.inertia;
        if !(finite_all(&[inertial.mass.value, i3.ixx, i3.ixy, i3.ixz, i3.iyy, i3.iyz, i3.izz])
            && finite_all(&inertial.origin.xyz.0)
            && finite_all(&inertial.origin.rpy.0))
        {
            return Err(urdf_error(path, format!("{el} <inertial>"), "has a number that is not finite"));
        }
        if inertial.mass.value < 0.0 {
            return Err(urdf_error(path, format!("{el} <inertial>"), "has a negative mass"));
        }
        for (k, c) in link.collision.iter().enumerate() {
            let cel = format!("{el} <collision> {k}");
            if !(finite_all(&c.origin.xyz.0) && finite_all(&c.origin.rpy.0)) {
                return Err(urdf_error(path, cel, "has an origin that is not finite"));
            }
            let sizes: Vec<f64> = match &c.geometry {
                urdf_rs::Geometry::Box { size } => size.0.to_vec(),
                urdf_rs::Geometry::Cylinder { radius, length } | urdf_rs::Geometry::Capsule { radius, length } => {
                    vec![*radius, *length]
                }
                urdf_rs::Geometry::Sphere { radius } => vec![*radius],
                urdf_rs::Geometry::Mesh { scale, .. } => scale.map_or_else(Vec::new, |s| s.0.to_vec()),
            };
            if !sizes.iter().all(|s| s.is_finite() && *s > 0.0) {
                return Err(urdf_error(path, cel, "has a size or scale that is not a finite number > 0"));
            }
        }
    }
    let mut joint_names = HashMap::new();
    let mut parent_of = vec![None; robot.links.len()];
    for (j, joint) in robot.joints.iter().enumerate() {
        let el = format!("joint `{}`", joint.name);
        if joint_names.insert(joint.name.as_str(), j).is_some() {
            return Err(urdf_error(path, el, "two joints have this name"));
        }
        let parent = *link_index
            .get(joint.parent.link.as_str())
            .ok_or_else(|| urdf_error(path, &el, format!("its parent link `{}` does not exist", joint.parent.link)))?;
        let child = *link_index
            .get(joint.child.link.as_str())
            .ok_or_else(|| urdf_error(path, &el, format!("its child link `{}` does not exist", joint.child.link)))?;
        if parent_of[child].replace(parent).is_some() {
            return Err(urdf_error(path, &el, format!("link `{}` is the child of two joints", joint.child.link)));
        }
        match joint.joint_type {
            urdf_rs::JointType::Revolute | urdf_rs::JointType::Continuous | urdf_rs::JointType::Fixed => {}
            ref other => {
                return Err(urdf_error(
                    path,
                    el,
                    format!("is {other:?}: tactile drives revolute and continuous joints (and fixed ones)"),
                ));
            }
        }
        if !(finite_all(&joint.origin.xyz.0) && finite_all(&joint.origin.rpy.0) && finite_all(&joint.axis.xyz.0)) {
            return Err(urdf_error(path, el, "has an origin or axis that is not finite"));
        }
        if joint.joint_type != urdf_rs::JointType::Fixed && joint.axis.xyz.0.iter().all(|x| *x == 0.0) {
            return Err(urdf_error(path, el, "has a zero axis"));
        }
        if joint.joint_type == urdf_rs::JointType::Revolute {
            let (lo, hi) = (joint.limit.lower, joint.limit.upper);
            if !(lo.is_finite() && hi.is_finite() && lo <= hi) {
                return Err(urdf_error(path, el, format!("has limits [{lo}, {hi}]: need finite lower <= upper")));
            }
        }
        if let Some(d) = &joint.dynamics
            && !(d.damping.is_finite() && d.damping >= 0.0 && d.friction.is_finite() && d.friction >= 0.0)
        {
            return Err(urdf_error(path, el, "has <dynamics> damping or friction that is not a finite number >= 0"));
        }
    }
    let roots: Vec<usize> = (0..robot.links.len()).filter(|&i| parent_of[i].is_none()).collect();
    if roots.len() != 1 {
        let names: Vec<&str> = roots.iter().map(|&i| robot.links[i].name.as_str()).collect();
        return Err(urdf_error(
            path,
            "robot",
            format!("must be one tree with one root link; links without a parent: {names:?}"),
        ));
    }
    // With one parent each and one root, a link that cannot reach the root
    // sits on a cycle.
    for start in 0..robot.links.len() {
        let (mut at, mut hops) = (start, 0);
        while let Some(p) = parent_of[at] {
            at = p;
            hops += 1;
            if hops > robot.links.len() {
                return Err(urdf_error(path, format!("link `{}`", robot.links[start].name), "is on a joint cycle"));
            }
        }
    }
    Ok(robot)
}

/// Where a mesh file named in a URDF is, relative to the asset folders:
/// `package://<pkg>/<rest>` and plain relative paths are looked up next to
/// the URDF file, `file://` paths taken as they are.
fn mesh_asset(urdf: &str, filename: &str) -> String {
    if let Some(abs) = filename.strip_prefix("file://") {
        return abs.to_owned();
    }
    let rest = match filename.strip_prefix("package://") {
        Some(p) => p.split_once('/').map_or(p, |(_, rest)| rest),
        None => filename,
    };
    if Path::new(rest).is_absolute() {
        return rest.to_owned();
    }
    match Path::new(urdf).parent() {
        Some(dir) if !dir.as_os_str().is_empty() => format!("{}/{rest}", dir.display()),
        _ => rest.to_owned(),
    }
}

fn merged(base: &JointDriveDesc, over: Option<&JointDriveDesc>) -> JointDriveDesc {
    let Some(o) = over else { return base.clone() };
    JointDriveDesc {
        mode: o.mode.or(base.mode),
        stiffness_nm_per_rad: o.stiffness_nm_per_rad.or(base.stiffness_nm_per_rad),
        damping_nm_s_per_rad: o.damping_nm_s_per_rad.or(base.damping_nm_s_per_rad),
        max_torque_nm: o.max_torque_nm.or(base.max_torque_nm),
        armature_kg_m2: o.armature_kg_m2.or(base.armature_kg_m2),
        friction_nm: o.friction_nm.or(base.friction_nm),
    }
}

/// The largest gain, torque, armature or friction a drive takes: far above
/// any robot's, and far enough below f32's range that the solver's
/// arithmetic cannot overflow.
const MAX_DRIVE_VALUE: f32 = 1e12;

fn non_negative(field: &str, v: Option<f32>, default: f32) -> Result<f32, SimError> {
    match v {
        None => Ok(default),
        Some(x) if x.is_finite() && (0.0..=MAX_DRIVE_VALUE).contains(&x) => Ok(x),
        Some(x) => Err(SimError::invalid(field, x, "must be a number in [0, 1e12]")),
    }
}

fn positive_drive(field: &str, x: f32) -> Result<f32, SimError> {
    if x.is_finite() && x > 0.0 && x <= MAX_DRIVE_VALUE {
        Ok(x)
    } else {
        Err(SimError::invalid(field, x, "must be a number in (0, 1e12]"))
    }
}

/// Reads, checks and converts robot `index` of a scene.
pub(crate) fn load_robot(desc: &RobotDesc, index: usize, assets: &Assets) -> Result<LoadedRobot, SimError> {
    let field = format!("robots[{index}]");
    let path = assets.path(&desc.urdf);
    let text = assets.read_text(&desc.urdf)?;
    let urdf = parse_urdf(&text, &path)?;
    let base = crate::scene::pose_from(&field, desc.position_m, desc.rotation_rpy_rad)?;
    if !(desc.gravity_scale.is_finite()) {
        return Err(SimError::invalid(format!("{field}.gravity_scale"), desc.gravity_scale, "must be finite"));
    }
    if !(desc.friction.is_finite() && desc.friction >= 0.0) {
        return Err(SimError::invalid(format!("{field}.friction"), desc.friction, "must be a finite number >= 0"));
    }
    if index >= 31 {
        return Err(SimError::invalid(field, index, "a scene holds at most 31 robots"));
    }
    // The robot's links share a collision group that excludes itself
    // unless self-collisions are on; everything else still touches them.
    let own = Group::from_bits_truncate(1 << (index + 1));
    let groups = if desc.self_collisions {
        InteractionGroups::all()
    } else {
        InteractionGroups::new(own, Group::ALL.difference(own), InteractionTestMode::And)
    };
    let collider_blueprint = ColliderBuilder::default()
        .density(0.0)
        .friction(desc.friction)
        .friction_combine_rule(CoefficientCombineRule::Average)
        .restitution_combine_rule(CoefficientCombineRule::Average)
        .collision_groups(groups);
    let options = rapier3d_urdf::UrdfLoaderOptions {
        make_roots_fixed: desc.fixed_base,
        shift: base,
        enable_joint_collisions: false,
        collider_blueprint: collider_blueprint.clone(),
        rigid_body_blueprint: RigidBodyBuilder::dynamic().can_sleep(false).gravity_scale(desc.gravity_scale),
        squeeze_empty_fixed_links: false,
        ..Default::default()
    };
    let robot = rapier3d_urdf::UrdfRobot::from_robot(&urdf, options, Path::new(""));

    // Links, with the mesh colliders the loader leaves to us and the pad
    // pose of each collision element.
    let mut links = Vec::new();
    let mut root = 0;
    for (li, link) in robot.links.into_iter().enumerate() {
        let u = &urdf.links[link.urdf_link_index];
        if link.body.is_fixed() || (!desc.fixed_base && robot.joints.iter().all(|j| j.link2 != li)) {
            root = li;
        }
        let moving = !link.body.is_fixed();
        let mut primitives = link.colliders.into_iter();
        let mut colliders = Vec::new();
        for (k, c) in u.collision.iter().enumerate() {
            let pad = pose_of(&c.origin);
            match &c.geometry {
                urdf_rs::Geometry::Mesh { filename, scale } => {
                    let rel = mesh_asset(&desc.urdf, filename);
                    let scale = scale.map_or(Vector::ONE, |s| Vector::new(s.0[0] as f32, s.0[1] as f32, s.0[2] as f32));
                    let mesh = TriMeshData::parse(
                        &assets.read(&rel).map_err(|e| {
                            urdf_error(&path, format!("link `{}` <collision> {k} <mesh>", u.name), e.to_string())
                        })?,
                        &assets.path(&rel),
                    )?
                    .scaled(scale);
                    let bad = |reason: String| SimError::Mesh { path: assets.path(&rel), line: 0, reason };
                    let shape = if moving {
                        SharedShape::convex_decomposition(&mesh.vertices, &mesh.indices)
                    } else {
                        SharedShape::trimesh(mesh.vertices, mesh.indices)
                            .map_err(|e| bad(format!("not a valid triangle mesh: {e}")))?
                    };
                    let mut b = collider_blueprint.clone();
                    b.shape = shape;
                    colliders.push((b.position(pad).build(), pad));
                }
                _ => {
                    let c = primitives.next().ok_or_else(|| {
                        urdf_error(&path, format!("link `{}` <collision> {k}", u.name), "was not built")
                    })?;
                    colliders.push((c.collider, pad));
                }
            }
        }
        links.push(LinkPart { name: format!("{}/{}", desc.name, u.name), body: link.body, colliders });
    }

    // Joints: a fixed base's branches hang from mounts of their own.
    let mut mounts = Vec::new();
    let mut joints = Vec::new();
    let mut template_of_urdf_joint = HashMap::new();
    let root_is_fixed = links[root].body.is_fixed();
    for j in robot.joints {
        let parent = if root_is_fixed && !desc.self_collisions && j.link1 == root {
            mounts.push(RigidBodyBuilder::fixed().pose(*links[root].body.position()).build());
            links.len() + mounts.len() - 1
        } else {
            j.link1
        };
        template_of_urdf_joint.insert(j.urdf_joint_index, (joints.len(), j.link1, j.link2));
        joints.push((j.joint, parent, j.link2));
    }

    // Driven joints in the file's order, with their drives.
    let mut known: BTreeMap<&str, bool> = BTreeMap::new();
    let mut driven = Vec::new();
    for (ji, uj) in urdf.joints.iter().enumerate() {
        let movable = uj.joint_type != urdf_rs::JointType::Fixed;
        known.insert(uj.name.as_str(), movable);
        if !movable {
            continue;
        }
        let (tj, link1, link2) = *template_of_urdf_joint
            .get(&ji)
            .ok_or_else(|| urdf_error(&path, format!("joint `{}`", uj.name), "was not built"))?;
        let jf = format!("{field}.joints.\"{}\"", uj.name);
        let over = desc.joints.get(&uj.name);
        let d = merged(&desc.drive, over);
        // A bad value is named where it was written: the joint's own table
        // or the robot's default.
        let f = |key: &str, own: Option<f32>| {
            if own.is_some() { format!("{jf}.{key}") } else { format!("{field}.drive.{key}") }
        };
        let own = |pick: fn(&JointDriveDesc) -> Option<f32>| over.and_then(pick);
        let mode = d.mode.unwrap_or_default();
        let stiffness = match (mode, d.stiffness_nm_per_rad) {
            (DriveMode::Position, Some(k)) => {
                positive_drive(&f("stiffness_nm_per_rad", own(|d| d.stiffness_nm_per_rad)), k)?
            }
            (DriveMode::Position, None) => {
                return Err(SimError::invalid(
                    f("stiffness_nm_per_rad", own(|d| d.stiffness_nm_per_rad)),
                    "none",
                    "a position drive needs a stiffness",
                ));
            }
            (_, Some(k)) => {
                return Err(SimError::invalid(
                    f("stiffness_nm_per_rad", own(|d| d.stiffness_nm_per_rad)),
                    k,
                    "only position drives take a stiffness",
                ));
            }
            (_, None) => 0.0,
        };
        let damping =
            non_negative(&f("damping_nm_s_per_rad", own(|d| d.damping_nm_s_per_rad)), d.damping_nm_s_per_rad, 0.0)?;
        let max_torque = match d.max_torque_nm {
            None => f32::MAX,
            Some(t) => positive_drive(&f("max_torque_nm", own(|d| d.max_torque_nm)), t)?,
        };
        let armature = non_negative(&f("armature_kg_m2", own(|d| d.armature_kg_m2)), d.armature_kg_m2, 0.0)?;
        let dynamics = uj.dynamics.as_ref();
        let friction = non_negative(
            &f("friction_nm", own(|d| d.friction_nm)),
            d.friction_nm,
            dynamics.map_or(0.0, |d| d.friction as f32),
        )?;
        let viscous = dynamics.map_or(0.0, |d| d.damping as f32);
        let (lower_rad, upper_rad) = if uj.joint_type == urdf_rs::JointType::Revolute {
            (uj.limit.lower as f32, uj.limit.upper as f32)
        } else {
            (f32::NEG_INFINITY, f32::INFINITY)
        };
        let initial_rad = match desc.joint_positions_rad.get(&uj.name) {
            Some(&q) if q.is_finite() && (lower_rad..=upper_rad).contains(&q) => q,
            Some(&q) => {
                return Err(SimError::invalid(
                    format!("{field}.joint_positions_rad.\"{}\"", uj.name),
                    q,
                    "must be finite and within the joint's limits",
                ));
            }
            None => 0.0f32.clamp(lower_rad, upper_rad),
        };
        let initial_target = match desc.joint_targets_rad.get(&uj.name) {
            Some(&q) if q.is_finite() && (lower_rad..=upper_rad).contains(&q) => q,
            Some(&q) => {
                return Err(SimError::invalid(
                    format!("{field}.joint_targets_rad.\"{}\"", uj.name),
                    q,
                    "must be finite and within the joint's limits",
                ));
            }
            None => initial_rad,
        };
        // rapier3d-urdf builds the joint frame so that its x axis is the
        // URDF axis: in the child link's frame that is local_frame2's x.
        let joint = &mut joints[tj].0;
        let child_axis = joint.local_frame2.rotation * Vector::X;
        match mode {
            DriveMode::Position => {
                joint.set_motor_model(JointAxis::AngX, MotorModel::ForceBased);
                joint.set_motor(JointAxis::AngX, initial_target, 0.0, stiffness, damping);
                joint.set_motor_max_force(JointAxis::AngX, max_torque);
            }
            DriveMode::Velocity => {
                joint.set_motor_model(JointAxis::AngX, MotorModel::ForceBased);
                joint.set_motor(JointAxis::AngX, 0.0, 0.0, 0.0, damping);
                joint.set_motor_max_force(JointAxis::AngX, max_torque);
            }
            DriveMode::Torque => {}
        }
        driven.push(JointEntry {
            name: uj.name.clone(),
            lower_rad,
            upper_rad,
            mode,
            stiffness,
            damping,
            max_torque,
            armature,
            friction,
            viscous,
            template_joint: tj,
            handle: MultibodyJointHandle::invalid(),
            child_body: link2,
            parent_body: link1,
            child_axis,
            initial_rad,
            initial_target,
            command: if mode == DriveMode::Position { initial_target } else { 0.0 },
            torque_sum: 0.0,
            torque_nm: 0.0,
        });
    }
    for name in desc.joints.keys().chain(desc.joint_positions_rad.keys()).chain(desc.joint_targets_rad.keys()) {
        match known.get(name.as_str()) {
            Some(true) => {}
            Some(false) => {
                return Err(SimError::invalid(
                    format!("{field}.joints"),
                    name,
                    "is a fixed joint: it takes no drive or position",
                ));
            }
            None => {
                return Err(urdf_error(
                    &path,
                    format!("joint `{name}`"),
                    format!("is named in {field} but the URDF has no such joint"),
                ));
            }
        }
    }
    Ok(LoadedRobot { links, mounts, joints, driven })
}

impl LoadedRobot {
    /// The robot's run-time entry, once its links are scene bodies
    /// `first_body..` and its joints template joints `first_joint..`.
    pub(crate) fn entry(self, name: &str, first_body: usize, first_joint: usize) -> RobotEntry {
        let n = self.joints.len();
        let joints: Vec<JointEntry> = self
            .driven
            .into_iter()
            .map(|mut j| {
                j.template_joint += first_joint;
                j.child_body += first_body;
                j.parent_body += first_body;
                j
            })
            .collect();
        RobotEntry {
            name: name.to_owned(),
            has_torque_joints: joints.iter().any(|j| j.mode == DriveMode::Torque),
            joints,
            template_joints: first_joint..first_joint + n,
        }
    }
}

/// The vector `v` has one entry per driven joint of `robot`.
fn check_len(robot: &RobotEntry, what: &'static str, got: usize) -> Result<(), SimError> {
    if got == robot.joints.len() {
        Ok(())
    } else {
        Err(SimError::Length { what: format!("{what} of robot `{}`", robot.name), expected: robot.joints.len(), got })
    }
}

fn joint_state(world: &PhysicsWorld, handle: MultibodyJointHandle) -> (f32, f32) {
    match world.multibody_joints.get(handle) {
        Some((mb, id)) => match mb.link(id) {
            Some(link) => (link.joint().coords()[3], mb.joint_velocity(link)[0]),
            None => (f32::NAN, f32::NAN),
        },
        None => (f32::NAN, f32::NAN),
    }
}

impl Scene {
    /// A robot by name.
    pub fn robot(&self, name: &str) -> Result<RobotId, SimError> {
        self.robots
            .iter()
            .position(|r| r.name == name)
            .map(RobotId)
            .ok_or_else(|| SimError::Unknown { kind: "robot", name: name.to_owned() })
    }

    /// Number of robots.
    pub fn robot_count(&self) -> usize {
        self.robots.len()
    }

    /// A robot's driven joints, in the URDF's order: the order of every
    /// joint-space vector.
    pub fn joints(&self, id: RobotId) -> impl ExactSizeIterator<Item = JointInfo<'_>> {
        self.robots[id.0].joints.iter().map(|j| JointInfo {
            name: &j.name,
            lower_rad: j.lower_rad,
            upper_rad: j.upper_rad,
            mode: j.mode,
            stiffness_nm_per_rad: j.stiffness,
            damping_nm_s_per_rad: j.damping,
            max_torque_nm: j.max_torque,
        })
    }

    /// Number of driven joints of a robot.
    pub fn joint_count(&self, id: RobotId) -> usize {
        self.robots[id.0].joints.len()
    }

    /// The joint angles (rad) into `out`.
    pub fn joint_positions(&self, id: RobotId, out: &mut [f32]) -> Result<(), SimError> {
        let r = &self.robots[id.0];
        check_len(r, "joint positions", out.len())?;
        for (o, j) in out.iter_mut().zip(&r.joints) {
            *o = joint_state(&self.world, j.handle).0;
        }
        Ok(())
    }

    /// The joint rates (rad/s) into `out`.
    pub fn joint_velocities(&self, id: RobotId, out: &mut [f32]) -> Result<(), SimError> {
        let r = &self.robots[id.0];
        check_len(r, "joint velocities", out.len())?;
        for (o, j) in out.iter_mut().zip(&r.joints) {
            *o = joint_state(&self.world, j.handle).1;
        }
        Ok(())
    }

    /// The torque each drive applied, averaged over the last env step
    /// (N m), into `out`. For position and velocity drives it is the drive
    /// law evaluated at the end of each physics step and clamped to the
    /// torque limit; for torque drives the clamped command.
    pub fn joint_torques(&self, id: RobotId, out: &mut [f32]) -> Result<(), SimError> {
        let r = &self.robots[id.0];
        check_len(r, "joint torques", out.len())?;
        for (o, j) in out.iter_mut().zip(&r.joints) {
            *o = j.torque_nm;
        }
        Ok(())
    }

    /// The commands in force (as [`Scene::set_joint_targets`] takes them)
    /// into `out`: after a reset, the position drives' reset targets.
    pub fn joint_targets(&self, id: RobotId, out: &mut [f32]) -> Result<(), SimError> {
        let r = &self.robots[id.0];
        check_len(r, "joint targets", out.len())?;
        for (o, j) in out.iter_mut().zip(&r.joints) {
            *o = j.command;
        }
        Ok(())
    }

    /// Sets the commands of the coming env step, one per driven joint in
    /// its drive's unit: a target angle (rad) for a position drive, a rate
    /// (rad/s) for a velocity drive, a torque (N m) for a torque drive.
    /// Targets hold until the next call. A command that is not a finite
    /// number is not applied: the scene reports [`Fault::BadCommand`].
    pub fn set_joint_targets(&mut self, id: RobotId, commands: &[f32]) -> Result<(), SimError> {
        let r = &mut self.robots[id.0];
        check_len(r, "joint targets", commands.len())?;
        if let Some(k) = commands.iter().position(|c| !c.is_finite()) {
            if self.fault.is_none() {
                self.fault = Some(Fault::BadCommand { joint: format!("{}/{}", r.name, r.joints[k].name) });
            }
            return Ok(());
        }
        for (j, &c) in r.joints.iter_mut().zip(commands) {
            j.command = c;
        }
        apply_commands(&mut self.world, r);
        Ok(())
    }

    /// Puts a robot's joints at the given angles (rad) exactly, at rest,
    /// and its position drives' targets there too: a grasp set as it is,
    /// not simulated into.
    pub fn set_joint_positions(&mut self, id: RobotId, q_rad: &[f32]) -> Result<(), SimError> {
        let r = &self.robots[id.0];
        check_len(r, "joint positions", q_rad.len())?;
        for (j, &q) in r.joints.iter().zip(q_rad) {
            if !(q.is_finite() && (j.lower_rad..=j.upper_rad).contains(&q)) {
                return Err(SimError::invalid(
                    format!("joint positions of robot `{}`: `{}`", r.name, j.name),
                    q,
                    "must be finite and within the joint's limits",
                ));
            }
        }
        let r = &mut self.robots[id.0];
        for (j, &q) in r.joints.iter_mut().zip(q_rad) {
            if j.mode == DriveMode::Position {
                j.command = q;
            }
        }
        let r = &self.robots[id.0];
        set_positions(&mut self.world, r, q_rad);
        apply_commands(&mut self.world, r);
        Ok(())
    }

    /// After a (re)build of the world: the multibody handles, per-joint
    /// armature, friction and damping, and every robot at its initial
    /// configuration with its initial commands.
    pub(crate) fn init_robots(&mut self, joint_handles: &[MultibodyJointHandle]) {
        let world = &mut self.world;
        for r in &mut self.robots {
            for j in &mut r.joints {
                j.handle = joint_handles[j.template_joint];
                j.command = if j.mode == DriveMode::Position { j.initial_target } else { 0.0 };
                j.torque_sum = 0.0;
                j.torque_nm = 0.0;
            }
            // Every multibody of the robot: rapier's default joint damping
            // (0.1) gives way to the URDF's, and each DoF takes its armature
            // and friction.
            for h in &joint_handles[r.template_joints.clone()] {
                if let Some((mb, _)) = world.multibody_joints.get_mut(*h) {
                    mb.damping_mut().fill(0.0);
                }
            }
            for j in &r.joints {
                if let Some((mb, link)) = world.multibody_joints.get_mut(j.handle) {
                    let dof = mb.link(link).map_or(0, |l| l.assembly_id());
                    mb.damping_mut()[dof] = j.viscous;
                    mb.armature_mut()[dof] = j.armature;
                    mb.frictions_mut()[dof] = j.friction;
                }
            }
            let q: Vec<f32> = r.joints.iter().map(|j| j.initial_rad).collect();
            set_positions(world, r, &q);
        }
    }

    /// Before each physics step: torque drives push their links.
    pub(crate) fn apply_joint_torques(&mut self) {
        for r in self.robots.iter().filter(|r| r.has_torque_joints) {
            for j in r.joints.iter().filter(|j| j.mode == DriveMode::Torque) {
                for b in [j.child_body, j.parent_body] {
                    self.world.bodies[self.bodies[b].handle].reset_torques(false);
                }
            }
            for j in r.joints.iter().filter(|j| j.mode == DriveMode::Torque) {
                let tau = j.command.clamp(-j.max_torque, j.max_torque);
                let child = &mut self.world.bodies[self.bodies[j.child_body].handle];
                let axis = child.rotation() * j.child_axis;
                child.add_torque(axis * tau, false);
                let parent = &mut self.world.bodies[self.bodies[j.parent_body].handle];
                if parent.is_dynamic() {
                    parent.add_torque(axis * -tau, false);
                }
            }
        }
    }

    /// After each physics step: each drive's torque joins the step's mean,
    /// and a joint whose state is no longer finite latches a fault (rapier
    /// would fail on it at the next step).
    pub(crate) fn accumulate_joint_torques(&mut self) {
        for r in &mut self.robots {
            for j in &mut r.joints {
                let (q, v) = joint_state(&self.world, j.handle);
                if !(q.is_finite() && v.is_finite()) && self.fault.is_none() {
                    self.fault = Some(Fault::NotFinite { body: format!("{}/{}", r.name, j.name) });
                }
                let tau = match j.mode {
                    DriveMode::Torque => j.command,
                    DriveMode::Position => j.stiffness * (j.command - q) - j.damping * v,
                    DriveMode::Velocity => j.damping * (j.command - v),
                };
                j.torque_sum += tau.clamp(-j.max_torque, j.max_torque);
            }
        }
    }

    /// At the end of an env step of `substeps` physics steps.
    pub(crate) fn finish_joint_torques(&mut self, substeps: u32) {
        for r in &mut self.robots {
            for j in &mut r.joints {
                j.torque_nm = j.torque_sum / substeps as f32;
                j.torque_sum = 0.0;
            }
        }
    }

    /// Whether body `index` is a robot link (which cannot be scaled).
    pub(crate) fn is_link(&self, index: usize) -> bool {
        self.link_bodies.contains(&index)
    }
}

/// Writes each joint's command into its motor (position and velocity
/// drives; torque drives push at every physics step instead).
fn apply_commands(world: &mut PhysicsWorld, r: &RobotEntry) {
    for j in &r.joints {
        if let Some((mb, link)) = world.multibody_joints.get_mut(j.handle)
            && let Some(link) = mb.link_mut(link)
        {
            match j.mode {
                DriveMode::Position => {
                    link.joint.data.set_motor(JointAxis::AngX, j.command, 0.0, j.stiffness, j.damping)
                }
                DriveMode::Velocity => link.joint.data.set_motor(JointAxis::AngX, 0.0, j.command, 0.0, j.damping),
                DriveMode::Torque => continue,
            };
        }
    }
}

/// Sets the joints of `r` to `q_rad` exactly, at rest, and moves the links
/// (a reset, not the per-step path).
fn set_positions(world: &mut PhysicsWorld, r: &RobotEntry, q_rad: &[f32]) {
    let mut disp = Vec::new();
    for (j, &q) in r.joints.iter().zip(q_rad) {
        if let Some((mb, link)) = world.multibody_joints.get_mut(j.handle) {
            let Some(l) = mb.link(link) else { continue };
            let dof = l.assembly_id();
            let now = l.joint().coords()[3];
            disp.clear();
            disp.resize(mb.ndofs(), 0.0);
            disp[dof] = q - now;
            mb.apply_displacements(&disp);
        }
    }
    let mut seen: Vec<RigidBodyHandle> = Vec::new();
    for j in &r.joints {
        if let Some((mb, _)) = world.multibody_joints.get_mut(j.handle) {
            let root = mb.root().rigid_body_handle();
            if seen.contains(&root) {
                continue;
            }
            seen.push(root);
            mb.generalized_velocity_mut().fill(0.0);
            mb.forward_kinematics(&world.bodies, true);
            mb.update_rigid_bodies(&mut world.bodies, true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mesh_paths_resolve_next_to_the_urdf() {
        assert_eq!(mesh_asset("robots/x/x.urdf", "meshes/a.stl"), "robots/x/meshes/a.stl");
        assert_eq!(mesh_asset("robots/x/x.urdf", "package://x_description/meshes/a.stl"), "robots/x/meshes/a.stl");
        assert_eq!(mesh_asset("x.urdf", "meshes/a.stl"), "meshes/a.stl");
        assert_eq!(mesh_asset("x.urdf", "file:///abs/a.obj"), "/abs/a.obj");
    }
}
