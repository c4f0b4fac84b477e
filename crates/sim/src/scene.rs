//! A scene: a rapier world built from a [`SceneDesc`], its drives and its
//! taxel arrays.

use rapier3d::prelude::*;

use crate::SimError;
use crate::desc::{Assets, BodyKind, ColliderDesc, MeshCollision, RotationDrive, SceneDesc, SensorFileDesc, ShapeDesc};
use crate::mesh::TriMeshData;
use crate::noise::NoiseState;
use crate::robot::{RobotEntry, load_robot};
use crate::sensor::{TaxelArray, TaxelFrame};
use crate::taxel_layout::{finite3, positive};

/// A body of a scene, by index (see [`Scene::body`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BodyId(pub(crate) usize);

/// A taxel array of a scene, by index (see [`Scene::sensor`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SensorId(pub(crate) usize);

/// Why a scene's state can no longer be trusted.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// A body's pose or velocity is not finite.
    NotFinite {
        /// The body's name.
        body: String,
    },
    /// A joint command (target, rate or torque) was not a finite number.
    BadCommand {
        /// The joint, as `<robot>/<joint>`.
        joint: String,
    },
    /// A dynamic body left the allowed region.
    OutOfBounds {
        /// The body's name.
        body: String,
        /// Its position (m).
        position_m: Vector,
    },
}

/// How far from the origin a dynamic body may go before the scene reports
/// a fault (m).
const BOUNDS_M: f32 = 100.0;

#[derive(Clone, Debug)]
pub(crate) struct BodyEntry {
    name: String,
    kind: BodyKind,
    pub(crate) handle: RigidBodyHandle,
    anchor: Option<RigidBodyHandle>,
    colliders: Vec<ColliderHandle>,
    /// The position target set for the coming env step, if any.
    target: Option<Pose>,
    /// A drive with a locked orientation: the body's rotation follows the
    /// anchor's exactly.
    rotation_locked: bool,
    /// Index of the body's first collider in the template.
    first_template_collider: usize,
    /// Domain randomisation: geometry scale and mass factor (1 after a reset).
    scale: f32,
    mass_factor: f32,
}

/// What a reset rebuilds the world from: bodies, colliders and joints as
/// built at load time (shapes are shared, so nothing is re-read or re-made).
#[derive(Clone)]
struct Template {
    bodies: Vec<RigidBody>,
    colliders: Vec<(Collider, usize)>,
    joints: Vec<(GenericJoint, usize, usize)>,
    /// Robot joints (reduced coordinates): joint, parent, child.
    multibody: Vec<(GenericJoint, usize, usize)>,
}

/// A simulated scene with taxel arrays.
pub struct Scene {
    pub(crate) world: PhysicsWorld,
    template: Template,
    pub(crate) bodies: Vec<BodyEntry>,
    sensors: Vec<TaxelArray>,
    dt_s: f32,
    substeps: u32,
    /// The first non-finite body rapier quarantined since the last reset.
    quarantined: Option<String>,
    /// The first bad joint command since the last reset.
    pub(crate) fault: Option<Fault>,
    pub(crate) robots: Vec<RobotEntry>,
    /// Indices (in `bodies`) of the robots' links.
    pub(crate) link_bodies: std::ops::Range<usize>,
}

pub(crate) fn pose_from(field: &str, position_m: [f32; 3], rpy: [f32; 3]) -> Result<Pose, SimError> {
    let p = finite3(&format!("{field}.position_m"), position_m)?;
    let r = finite3(&format!("{field}.rotation_rpy_rad"), rpy)?;
    Ok(Pose::from_parts(p, Rotation::from_euler(rapier3d::glamx::EulerRot::ZYX, r.z, r.y, r.x)))
}

fn check_positive3(field: &str, v: [f32; 3]) -> Result<(), SimError> {
    if v.iter().all(|x| x.is_finite() && *x > 0.0) {
        Ok(())
    } else {
        Err(SimError::invalid(field, v, "every component must be a finite number > 0"))
    }
}

fn load_mesh(assets: &Assets, file: &str, scale: [f32; 3], field: &str) -> Result<TriMeshData, SimError> {
    check_positive3(&format!("{field}.scale"), scale)?;
    Ok(TriMeshData::parse(&assets.read(file)?, &assets.path(file))?.scaled(Vector::from_array(scale)))
}

fn build_shape(
    desc: &ShapeDesc,
    kind: BodyKind,
    assets: &Assets,
    field: &str,
) -> Result<(SharedShape, Pose), SimError> {
    let f = |name: &str| format!("{field}.{name}");
    // rapier's cylinders stand along y; ours along z.
    let y_to_z = Pose::from_rotation(Rotation::from_rotation_x(std::f32::consts::FRAC_PI_2));
    Ok(match desc {
        ShapeDesc::Box { half_extents_m } => {
            check_positive3(&f("half_extents_m"), *half_extents_m)?;
            let [x, y, z] = *half_extents_m;
            (SharedShape::cuboid(x, y, z), Pose::IDENTITY)
        }
        ShapeDesc::Sphere { radius_m } => (SharedShape::ball(positive(&f("radius_m"), *radius_m)?), Pose::IDENTITY),
        ShapeDesc::Capsule { half_height_m, radius_m } => {
            let hh = positive(&f("half_height_m"), *half_height_m)?;
            let r = positive(&f("radius_m"), *radius_m)?;
            (SharedShape::capsule_z(hh, r), Pose::IDENTITY)
        }
        ShapeDesc::Cylinder { half_height_m, radius_m } => {
            let hh = positive(&f("half_height_m"), *half_height_m)?;
            let r = positive(&f("radius_m"), *radius_m)?;
            (SharedShape::cylinder(hh, r), y_to_z)
        }
        ShapeDesc::ConvexHull { points_m, file, scale } => {
            let points: Vec<Vector> = match file {
                Some(file) => load_mesh(assets, file, *scale, field)?.vertices,
                None => points_m
                    .iter()
                    .enumerate()
                    .map(|(i, p)| finite3(&format!("{field}.points_m[{i}]"), *p))
                    .collect::<Result<_, _>>()?,
            };
            let hull = SharedShape::convex_hull(&points)
                .ok_or_else(|| SimError::invalid(f("points_m"), points.len(), "the points span no volume"))?;
            (hull, Pose::IDENTITY)
        }
        ShapeDesc::Mesh { file, scale, collision } => {
            let mesh = load_mesh(assets, file, *scale, field)?;
            let mode = match (collision, kind) {
                (MeshCollision::Auto, BodyKind::Dynamic) => MeshCollision::Decompose,
                (MeshCollision::Auto, _) => MeshCollision::Trimesh,
                (m, _) => *m,
            };
            let bad = |reason: String| SimError::Mesh { path: assets.path(file), line: 0, reason };
            let shape = match mode {
                MeshCollision::Trimesh => SharedShape::trimesh(mesh.vertices, mesh.indices)
                    .map_err(|e| bad(format!("not a valid triangle mesh: {e}")))?,
                MeshCollision::Decompose => SharedShape::convex_decomposition(&mesh.vertices, &mesh.indices),
                MeshCollision::Hull | MeshCollision::Auto => {
                    SharedShape::convex_hull(&mesh.vertices).ok_or_else(|| bad("the vertices span no volume".into()))?
                }
            };
            (shape, Pose::IDENTITY)
        }
    })
}

fn build_collider(desc: &ColliderDesc, kind: BodyKind, assets: &Assets, field: &str) -> Result<Collider, SimError> {
    let f = |name: &str| format!("{field}.{name}");
    let (shape, shape_pose) = build_shape(&desc.shape, kind, assets, &f("shape"))?;
    let pose = pose_from(field, desc.position_m, desc.rotation_rpy_rad)?;
    let friction = desc.friction;
    if !(friction.is_finite() && friction >= 0.0) {
        return Err(SimError::invalid(f("friction"), friction, "must be a finite number >= 0"));
    }
    if !(desc.restitution.is_finite() && (0.0..=1.0).contains(&desc.restitution)) {
        return Err(SimError::invalid(f("restitution"), desc.restitution, "must be in [0, 1]"));
    }
    let mut b = ColliderBuilder::new(shape)
        .position(pose * shape_pose)
        .friction(friction)
        .friction_combine_rule(CoefficientCombineRule::Average)
        .restitution(desc.restitution)
        .restitution_combine_rule(CoefficientCombineRule::Average);
    match (desc.mass_kg, desc.density_kg_m3) {
        (Some(_), Some(_)) => {
            return Err(SimError::invalid(
                f("mass_kg"),
                desc.mass_kg,
                "give either mass_kg or density_kg_m3, not both",
            ));
        }
        (Some(m), None) => b = b.mass(positive(&f("mass_kg"), m)?),
        (None, Some(d)) => b = b.density(positive(&f("density_kg_m3"), d)?),
        (None, None) => b = b.density(1000.0),
    }
    Ok(b.build())
}

impl Scene {
    /// Builds a scene; asset paths (meshes, sensor files) resolve in `assets`.
    pub fn new(desc: &SceneDesc, assets: &Assets) -> Result<Self, SimError> {
        let ph = &desc.physics;
        let hz = positive("physics.physics_hz", ph.physics_hz)?;
        // Bounds far beyond any scene's, so that a typo is an error and not
        // a step that never ends.
        if !(1..=10_000).contains(&ph.substeps) {
            return Err(SimError::invalid("physics.substeps", ph.substeps, "must be in [1, 10000]"));
        }
        if !(1..=1_000).contains(&ph.solver_iterations) {
            return Err(SimError::invalid("physics.solver_iterations", ph.solver_iterations, "must be in [1, 1000]"));
        }
        if hz > 1.0e6 {
            return Err(SimError::invalid("physics.physics_hz", hz, "must be at most 1e6"));
        }
        let gravity = finite3("physics.gravity_m_s2", ph.gravity_m_s2)?;
        let length_unit = positive("physics.length_unit_m", ph.length_unit_m)?;

        let mut template =
            Template { bodies: Vec::new(), colliders: Vec::new(), joints: Vec::new(), multibody: Vec::new() };
        let mut entries = Vec::new();
        let mut pad_poses = Vec::new(); // per body: the collider poses as described
        for (bi, b) in desc.bodies.iter().enumerate() {
            let field = format!("bodies[{bi}]");
            if desc.bodies[..bi].iter().any(|o| o.name == b.name) {
                return Err(SimError::invalid(format!("{field}.name"), &b.name, "two bodies have this name"));
            }
            let pose = pose_from(&field, b.position_m, b.rotation_rpy_rad)?;
            let builder = match b.kind {
                BodyKind::Static => RigidBodyBuilder::fixed(),
                BodyKind::Dynamic => RigidBodyBuilder::dynamic(),
                BodyKind::Kinematic => RigidBodyBuilder::kinematic_position_based(),
            };
            let body_index = template.bodies.len();
            template.bodies.push(
                builder
                    .pose(pose)
                    .linear_damping(b.linear_damping.max(0.0))
                    .angular_damping(b.angular_damping.max(0.0))
                    .can_sleep(false)
                    .build(),
            );
            let mut poses = Vec::new();
            for (ci, c) in b.colliders.iter().enumerate() {
                let cfield = format!("{field}.colliders[{ci}]");
                template.colliders.push((build_collider(c, b.kind, assets, &cfield)?, body_index));
                poses.push(pose_from(&cfield, c.position_m, c.rotation_rpy_rad)?);
            }
            pad_poses.push(poses);
            let mut anchor = None;
            if let Some(drive) = &b.drive {
                if b.kind != BodyKind::Dynamic {
                    return Err(SimError::invalid(
                        format!("{field}.drive"),
                        b.kind,
                        "only dynamic bodies take a drive",
                    ));
                }
                let k = positive(&format!("{field}.drive.stiffness_n_per_m"), drive.stiffness_n_per_m)?;
                let c = drive.damping_n_s_per_m;
                if !(c.is_finite() && c >= 0.0) {
                    return Err(SimError::invalid(format!("{field}.drive.damping_n_s_per_m"), c, "must be >= 0"));
                }
                let anchor_index = template.bodies.len();
                template.bodies.push(RigidBodyBuilder::kinematic_position_based().pose(pose).build());
                // A locked orientation is locked at the body (free for the
                // solver: no angular joint rows) and set from the target.
                if drive.rotation == RotationDrive::Locked {
                    template.bodies[body_index].lock_rotations(true, false);
                }
                let mut joint = GenericJointBuilder::new(JointAxesMask::empty()).contacts_enabled(false).build();
                for axis in [JointAxis::LinX, JointAxis::LinY, JointAxis::LinZ] {
                    joint.set_motor_model(axis, MotorModel::ForceBased);
                    joint.set_motor(axis, 0.0, 0.0, k, c);
                }
                if let RotationDrive::Spring { stiffness_nm_per_rad, damping_nm_s_per_rad } = drive.rotation {
                    let ks = positive(&format!("{field}.drive.rotation.stiffness_nm_per_rad"), stiffness_nm_per_rad)?;
                    for axis in [JointAxis::AngX, JointAxis::AngY, JointAxis::AngZ] {
                        joint.set_motor_model(axis, MotorModel::ForceBased);
                        joint.set_motor(axis, 0.0, 0.0, ks, damping_nm_s_per_rad.max(0.0));
                    }
                }
                template.joints.push((joint, anchor_index, body_index));
                anchor = Some(anchor_index);
            }
            let rotation_locked = matches!(&b.drive, Some(d) if d.rotation == RotationDrive::Locked);
            entries.push((b.name.clone(), b.kind, body_index, anchor, b.colliders.len(), rotation_locked));
        }

        // Robots: links after the bodies, each a body `<robot>/<link>`.
        let first_link = entries.len();
        let mut robots = Vec::new();
        for (ri, r) in desc.robots.iter().enumerate() {
            if desc.robots[..ri].iter().any(|o| o.name == r.name) {
                return Err(SimError::invalid(format!("robots[{ri}].name"), &r.name, "two robots have this name"));
            }
            let loaded = load_robot(r, ri, assets)?;
            let first_body = entries.len();
            let first_template_body = template.bodies.len();
            for crate::robot::LinkPart { name, body, colliders } in &loaded.links {
                if entries.iter().any(|e| e.0 == *name) {
                    return Err(SimError::invalid(format!("robots[{ri}]"), name, "a body already has this name"));
                }
                let body_index = template.bodies.len();
                let kind = if body.is_fixed() { BodyKind::Static } else { BodyKind::Dynamic };
                template.bodies.push(body.clone());
                let mut poses = Vec::new();
                for (c, pad) in colliders {
                    template.colliders.push((c.clone(), body_index));
                    poses.push(*pad);
                }
                pad_poses.push(poses);
                entries.push((name.clone(), kind, body_index, None, colliders.len(), false));
            }
            template.bodies.extend(loaded.mounts.iter().cloned());
            let first_joint = template.multibody.len();
            // Parents index the links, then the mounts: as pushed above.
            for (joint, parent, child) in &loaded.joints {
                template.multibody.push((*joint, first_template_body + parent, first_template_body + child));
            }
            robots.push(loaded.entry(&r.name, first_body, first_joint));
        }
        let link_bodies = first_link..entries.len();

        let mut world = PhysicsWorld::new();
        world.gravity = gravity;
        let ip = &mut world.integration_parameters;
        ip.dt = 1.0 / hz;
        ip.num_solver_iterations = ph.solver_iterations as usize;
        ip.length_unit = length_unit;
        let contact_hz = positive("physics.contact_natural_hz", ph.contact_natural_hz)?;
        let zeta = positive("physics.contact_damping_ratio", ph.contact_damping_ratio)?;
        ip.contact_softness = SpringCoefficients::new(contact_hz, zeta);
        ip.static_contact_softness = SpringCoefficients::new(contact_hz, zeta);
        let (body_handles, collider_handles, joint_handles) = Self::populate(&mut world, &template);

        let mut bodies = Vec::new();
        let mut next_collider = 0;
        for (name, kind, body_index, anchor, ncol, rotation_locked) in entries {
            bodies.push(BodyEntry {
                name,
                kind,
                handle: body_handles[body_index],
                anchor: anchor.map(|a| body_handles[a]),
                colliders: collider_handles[next_collider..next_collider + ncol].to_vec(),
                target: None,
                rotation_locked,
                first_template_collider: next_collider,
                scale: 1.0,
                mass_factor: 1.0,
            });
            next_collider += ncol;
        }

        let dt_env = ph.substeps as f32 / hz;
        let mut sensors = Vec::new();
        for (si, s) in desc.sensors.iter().enumerate() {
            let field = format!("sensors[{si}]");
            if desc.sensors[..si].iter().any(|o| o.name == s.name) {
                return Err(SimError::invalid(format!("{field}.name"), &s.name, "two sensors have this name"));
            }
            let bi = bodies
                .iter()
                .position(|b| b.name == s.body)
                .ok_or_else(|| SimError::Unknown { kind: "body", name: s.body.clone() })?;
            let collider = *bodies[bi].colliders.get(s.collider).ok_or_else(|| {
                SimError::invalid(format!("{field}.collider"), s.collider, "the body has no collider at this index")
            })?;
            let file: Option<SensorFileDesc> = match &s.file {
                Some(rel) => {
                    Some(crate::desc::parse_toml(&assets.read_text(rel)?, &assets.path(rel).display().to_string())?)
                }
                None => None,
            };
            let layout = s
                .layout
                .clone()
                .or_else(|| file.as_ref().map(|f| f.layout.clone()))
                .ok_or_else(|| SimError::invalid(format!("{field}.layout"), "none", "give a layout or a file"))?;
            let skin = s.skin.clone().or_else(|| file.as_ref().map(|f| f.skin.clone())).unwrap_or_default();
            let noise = s.noise.clone().or_else(|| file.as_ref().map(|f| f.noise.clone())).unwrap_or_default();
            let taxels = layout.expand(&format!("{field}.layout"))?;
            skin.validate(&format!("{field}.skin"))?;
            noise.validate(&format!("{field}.noise"))?;
            let noise = (!noise.is_off()).then(|| NoiseState::new(noise, taxels.len(), dt_env, sensor_seed(0, si)));
            let body_from_pad = pad_poses[bi][s.collider];
            sensors.push(TaxelArray::new(
                s.name.clone(),
                bodies[bi].handle,
                collider,
                body_from_pad,
                taxels,
                skin,
                noise,
            ));
        }

        let mut scene = Scene {
            world,
            template,
            bodies,
            sensors,
            dt_s: 1.0 / hz,
            substeps: ph.substeps,
            quarantined: None,
            fault: None,
            robots,
            link_bodies,
        };
        scene.init_robots(&joint_handles);
        Ok(scene)
    }

    /// Loads a scene file; its asset paths resolve in `assets`.
    pub fn load(path: &std::path::Path, assets: &Assets) -> Result<Self, SimError> {
        Scene::new(&SceneDesc::load(path)?, assets)
    }

    fn populate(
        world: &mut PhysicsWorld,
        t: &Template,
    ) -> (Vec<RigidBodyHandle>, Vec<ColliderHandle>, Vec<MultibodyJointHandle>) {
        let bodies: Vec<_> = t.bodies.iter().map(|b| world.insert_body(b.clone())).collect();
        let colliders = t.colliders.iter().map(|(c, bi)| world.insert_collider(c.clone(), Some(bodies[*bi]))).collect();
        for (j, a, b) in &t.joints {
            world.insert_impulse_joint(bodies[*a], bodies[*b], *j);
        }
        // The URDF was checked to be a tree, so every insertion succeeds.
        let joints = t
            .multibody
            .iter()
            .map(|(j, a, b)| {
                world
                    .multibody_joints
                    .insert(bodies[*a], bodies[*b], *j, false)
                    .unwrap_or(MultibodyJointHandle::invalid())
            })
            .collect();
        (bodies, colliders, joints)
    }

    /// Puts every body back where the scene file says, at rest, with fresh
    /// solver state, and reseeds every sensor's realism models from `seed`.
    /// Two resets with one seed lead to bit-identical runs.
    pub fn reset(&mut self, seed: u64) {
        let mut world = PhysicsWorld::new();
        world.gravity = self.world.gravity;
        world.integration_parameters = self.world.integration_parameters;
        let (bodies, colliders, joints) = Self::populate(&mut world, &self.template);
        // Fresh sets hand out the same handles in the same order.
        debug_assert!(self.bodies.iter().all(|b| bodies.contains(&b.handle)));
        debug_assert!(self.bodies.iter().flat_map(|b| &b.colliders).all(|c| colliders.contains(c)));
        self.world = world;
        self.quarantined = None;
        self.fault = None;
        self.init_robots(&joints);
        for b in &mut self.bodies {
            b.target = None;
            b.scale = 1.0;
            b.mass_factor = 1.0;
        }
        for (i, s) in self.sensors.iter_mut().enumerate() {
            if let Some(noise) = &mut s.noise {
                noise.reseed(sensor_seed(seed, i));
            }
        }
    }

    /// Advances one env step: `substeps` physics steps. Position targets
    /// set since the last step are reached at its end, the kinematic anchor
    /// moving along a straight line over the substeps (no staircase jerk).
    pub fn step(&mut self) {
        for i in 0..self.substeps {
            // Each substep covers its share of what is left of the way.
            let t = 1.0 / (self.substeps - i) as f32;
            for b in &self.bodies {
                if let Some(target) = b.target {
                    let handle = b.anchor.unwrap_or(b.handle);
                    let body = &mut self.world.bodies[handle];
                    let next = body.position().lerp(&target, t);
                    body.set_next_kinematic_position(next);
                    if b.rotation_locked {
                        let driven = &mut self.world.bodies[b.handle];
                        if driven.rotation() != &next.rotation {
                            driven.set_rotation(next.rotation, true);
                        }
                    }
                }
            }
            self.physics_step();
        }
        for b in &mut self.bodies {
            b.target = None;
        }
        self.finish_joint_torques(self.substeps);
    }

    /// Advances one physics step (none once the scene has a fault).
    pub fn physics_step(&mut self) {
        // A faulted world stays as it is until the next reset: stepping a
        // non-finite state on can make rapier fail.
        if self.fault.is_some() || self.quarantined.is_some() {
            return;
        }
        self.apply_joint_torques();
        self.world.step();
        self.accumulate_joint_torques();
        // rapier freezes a body whose state turned non-finite and reports
        // it for this step only: latch the first one until the next reset.
        if self.quarantined.is_none() && !self.world.quarantine().is_empty() {
            let q = self.world.quarantine();
            let name = q
                .bodies()
                .iter()
                .find_map(|h| self.bodies.iter().find(|b| b.handle == *h || b.anchor == Some(*h)))
                .map_or_else(|| "(a collider)".to_owned(), |b| b.name.clone());
            self.quarantined = Some(name);
        }
    }

    /// The physics step (s).
    pub fn dt_s(&self) -> f32 {
        self.dt_s
    }

    /// The env step (s): `substeps` physics steps.
    pub fn env_dt_s(&self) -> f32 {
        self.dt_s * self.substeps as f32
    }

    /// A body by name.
    pub fn body(&self, name: &str) -> Result<BodyId, SimError> {
        self.bodies
            .iter()
            .position(|b| b.name == name)
            .map(BodyId)
            .ok_or_else(|| SimError::Unknown { kind: "body", name: name.to_owned() })
    }

    /// A taxel array by name.
    pub fn sensor(&self, name: &str) -> Result<SensorId, SimError> {
        self.sensors
            .iter()
            .position(|s| s.name == name)
            .map(SensorId)
            .ok_or_else(|| SimError::Unknown { kind: "sensor", name: name.to_owned() })
    }

    /// The taxel array behind an id.
    pub fn taxel_array(&self, id: SensorId) -> &TaxelArray {
        &self.sensors[id.0]
    }

    /// A zeroed frame sized for the array.
    pub fn new_frame(&self, id: SensorId) -> TaxelFrame {
        self.sensors[id.0].new_frame()
    }

    /// Sets a position target for the next env step: a driven body's anchor
    /// (or a kinematic body) moves there in a straight line over the step.
    pub fn set_target(&mut self, id: BodyId, world_from_target: Pose) -> Result<(), SimError> {
        let entry = &mut self.bodies[id.0];
        if entry.anchor.is_none() && entry.kind != BodyKind::Kinematic {
            return Err(SimError::NotDriven(entry.name.clone()));
        }
        entry.target = Some(world_from_target);
        Ok(())
    }

    /// A body's pose (world).
    pub fn pose(&self, id: BodyId) -> Pose {
        *self.world.bodies[self.bodies[id.0].handle].position()
    }

    /// A body's mass (kg).
    pub fn mass_kg(&self, id: BodyId) -> f32 {
        self.world.bodies[self.bodies[id.0].handle].mass()
    }

    /// A body's linear velocity (m/s, world).
    pub fn linvel(&self, id: BodyId) -> Vector {
        self.world.bodies[self.bodies[id.0].handle].linvel()
    }

    /// A body's angular velocity (rad/s, world).
    pub fn angvel(&self, id: BodyId) -> Vector {
        self.world.bodies[self.bodies[id.0].handle].angvel()
    }

    /// Overrides a body's pose and velocity (its drive anchor, if any, goes
    /// along), e.g. to place an object at the start of an episode.
    pub fn place(&mut self, id: BodyId, world_from_body: Pose, linvel_m_s: Vector) {
        let entry = &self.bodies[id.0];
        let body = &mut self.world.bodies[entry.handle];
        body.set_position(world_from_body, true);
        body.set_linvel(linvel_m_s, true);
        body.set_angvel(Vector::ZERO, true);
        if let Some(anchor) = entry.anchor {
            self.world.bodies[anchor].set_position(world_from_body, true);
        }
    }

    /// Reads a taxel array into `out` (sized by [`Scene::new_frame`]).
    /// Read once per env step, after [`Scene::step`]: the realism models
    /// (filter, drift, latency) advance one env step per read.
    pub fn read(&mut self, id: SensorId, out: &mut TaxelFrame) {
        let dt = self.dt_s;
        self.sensors[id.0].read(&self.world, dt, out);
    }

    /// The normal force between two bodies over the last physics step (N),
    /// straight from the solver's impulses: the reference that the taxels
    /// must sum to.
    pub fn contact_normal_force_n(&self, a: BodyId, b: BodyId) -> f32 {
        let mut impulse = 0.0;
        for &ca in &self.bodies[a.0].colliders {
            for &cb in &self.bodies[b.0].colliders {
                if let Some(pair) = self.world.narrow_phase.contact_pair(ca, cb) {
                    impulse += pair.total_impulse_magnitude();
                }
            }
        }
        impulse / self.dt_s
    }

    /// Whether the physics went wrong since the last reset (a non-finite
    /// state, which rapier freezes, or a body far away); `None` if not.
    pub fn fault(&self) -> Option<Fault> {
        if let Some(f) = &self.fault {
            return Some(f.clone());
        }
        if let Some(body) = &self.quarantined {
            return Some(Fault::NotFinite { body: body.clone() });
        }
        for b in &self.bodies {
            let body = &self.world.bodies[b.handle];
            let p = body.translation();
            if !(p.is_finite() && body.linvel().is_finite() && body.rotation().is_finite()) {
                return Some(Fault::NotFinite { body: b.name.clone() });
            }
            if b.kind == BodyKind::Dynamic && p.abs().max_element() > BOUNDS_M {
                return Some(Fault::OutOfBounds { body: b.name.clone(), position_m: p });
            }
        }
        None
    }

    /// Sets every collider's friction to its scene-file value times
    /// `factor` (domain randomisation). A reset restores the file's values.
    pub fn set_friction_scale(&mut self, factor: f32) -> Result<(), SimError> {
        crate::taxel_layout::positive("friction scale", factor)?;
        for b in &self.bodies {
            for (k, h) in b.colliders.iter().enumerate() {
                let base = self.template.colliders[b.first_template_collider + k].0.friction();
                self.world.colliders[*h].set_friction(base * factor);
            }
        }
        Ok(())
    }

    /// Sets a body's mass to its scene-file value times `factor` (times
    /// the cube of its [`Scene::set_body_scale`] factor; the inertia
    /// follows). A reset restores it.
    pub fn set_mass_scale(&mut self, id: BodyId, factor: f32) -> Result<(), SimError> {
        crate::taxel_layout::positive("mass scale", factor)?;
        self.bodies[id.0].mass_factor = factor;
        self.apply_mass(id);
        Ok(())
    }

    fn apply_mass(&mut self, id: BodyId) {
        let b = &self.bodies[id.0];
        let factor = b.mass_factor * b.scale.powi(3);
        for (k, h) in b.colliders.iter().enumerate() {
            let base = self.template.colliders[b.first_template_collider + k].0.mass();
            if base > 0.0 {
                self.world.colliders[*h].set_mass(base * factor);
            }
        }
        // Now, not at the next step, so that the mass reads back at once.
        let handle = b.handle;
        let world = &mut self.world;
        world.bodies[handle].recompute_mass_properties_from_colliders(&world.colliders);
    }

    /// Scales a body's geometry uniformly by `factor` about its origin
    /// (shapes and collider offsets; the mass follows the volume, times any
    /// [`Scene::set_mass_scale`] factor). A body
    /// that carries a taxel array cannot be scaled (its layout would no
    /// longer fit). A reset restores it.
    pub fn set_body_scale(&mut self, id: BodyId, factor: f32) -> Result<(), SimError> {
        crate::taxel_layout::positive("body scale", factor)?;
        if self.is_link(id.0) {
            return Err(SimError::invalid("body scale", &self.bodies[id.0].name, "a robot link cannot be scaled"));
        }
        let b = &self.bodies[id.0];
        if factor == b.scale {
            // Nothing to do: a new shape would only drop the contacts'
            // warm start and change the next steps.
            return Ok(());
        }
        if factor != 1.0 && self.sensors.iter().any(|s| s.body == b.handle) {
            return Err(SimError::invalid("body scale", &b.name, "a body with a taxel array cannot be scaled"));
        }
        for (k, h) in b.colliders.iter().enumerate() {
            let template = &self.template.colliders[b.first_template_collider + k].0;
            let shape = scaled_shape(template.shared_shape(), factor)
                .ok_or_else(|| SimError::invalid("body scale", &b.name, "this shape kind cannot be scaled"))?;
            let mut offset = *template.position_wrt_parent().unwrap_or(&Pose::IDENTITY);
            offset.translation *= factor;
            let c = &mut self.world.colliders[*h];
            c.set_shape(shape);
            c.set_position_wrt_parent(offset);
        }
        self.bodies[id.0].scale = factor;
        self.apply_mass(id);
        Ok(())
    }

    /// Replaces a taxel array's realism models, seeded (domain
    /// randomisation of the sensor). A reset keeps them and reseeds them.
    pub fn set_noise(&mut self, id: SensorId, noise: crate::NoiseDesc, seed: u64) -> Result<(), SimError> {
        noise.validate("noise")?;
        let s = &mut self.sensors[id.0];
        let n = s.taxels().len();
        s.noise = (!noise.is_off()).then(|| NoiseState::new(noise, n, self.dt_s * self.substeps as f32, seed));
        Ok(())
    }

    /// Number of bodies.
    pub fn body_count(&self) -> usize {
        self.bodies.len()
    }

    /// Body `index`'s name, kind, and its colliders' shapes with their
    /// `body_from_shape` poses (in insertion order).
    pub(crate) fn body_parts(&self, index: usize) -> (&str, BodyKind, Vec<(&dyn rapier3d::parry::shape::Shape, Pose)>) {
        let b = &self.bodies[index];
        let shapes = b
            .colliders
            .iter()
            .filter_map(|&h| self.world.colliders.get(h))
            .map(|c| (c.shape(), c.position_wrt_parent().copied().unwrap_or(*c.position())))
            .collect();
        (&b.name, b.kind, shapes)
    }

    /// The pose of body `index` (in insertion order), world frame.
    pub fn body_pose_at(&self, index: usize) -> Pose {
        self.pose(BodyId(index))
    }

    /// Number of taxel arrays.
    pub fn sensor_count(&self) -> usize {
        self.sensors.len()
    }

    /// Taxel array `index`, with the index of the body that carries it.
    pub fn sensor_at(&self, index: usize) -> (&TaxelArray, usize) {
        let s = &self.sensors[index];
        (s, self.bodies.iter().position(|b| b.handle == s.body).unwrap_or(0))
    }

    /// The underlying rapier world, for queries this API does not cover.
    pub fn world(&self) -> &PhysicsWorld {
        &self.world
    }
}

/// `shape` scaled uniformly by `s`, for the shape kinds scenes build.
fn scaled_shape(shape: &SharedShape, s: f32) -> Option<SharedShape> {
    use rapier3d::parry::shape::TypedShape;
    Some(match shape.as_typed_shape() {
        TypedShape::Cuboid(c) => SharedShape::new(c.scaled(Vector::splat(s))),
        TypedShape::Ball(b) => SharedShape::ball(b.radius * s),
        TypedShape::Cylinder(c) => SharedShape::cylinder(c.half_height * s, c.radius * s),
        TypedShape::Capsule(c) => SharedShape::capsule(c.segment.a * s, c.segment.b * s, c.radius * s),
        TypedShape::ConvexPolyhedron(c) => SharedShape::new(c.clone().scaled(Vector::splat(s))?),
        TypedShape::TriMesh(t) => SharedShape::new(t.clone().scaled(Vector::splat(s))),
        TypedShape::Compound(c) => {
            let parts = c
                .shapes()
                .iter()
                .map(|(pose, part)| {
                    let mut pose = *pose;
                    pose.translation *= s;
                    scaled_shape(part, s).map(|p| (pose, p))
                })
                .collect::<Option<Vec<_>>>()?;
            SharedShape::compound(parts)
        }
        _ => return None,
    })
}

/// The seed of sensor `index` for a scene seed (SplitMix64 mixing, so that
/// neighbouring seeds give unrelated streams).
fn sensor_seed(seed: u64, index: usize) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15u64.wrapping_mul(index as u64 + 1));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
