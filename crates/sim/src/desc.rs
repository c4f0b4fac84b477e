//! Scenes as data: the serde types of a scene file and of a sensor file.
//!
//! A scene file (TOML) holds a `[physics]` table, `[[bodies]]` with their
//! `[[bodies.colliders]]`, `[[robots]]` loaded from URDF, and `[[sensors]]`. Every key is checked: an
//! unknown key, a wrong type or an unknown shape kind is an error that names
//! the file, line and column. Units are in the key names (SI throughout);
//! the world is z-up.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::SimError;
use crate::noise::NoiseDesc;
use crate::taxel_layout::LayoutDesc;

/// A whole scene.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SceneDesc {
    /// Time step, substeps and solver settings.
    #[serde(default)]
    pub physics: PhysicsDesc,
    /// The bodies, in insertion order.
    #[serde(default)]
    pub bodies: Vec<BodyDesc>,
    /// Robots from URDF files; their links become bodies named
    /// `<robot>/<link>`, after the `[[bodies]]`.
    #[serde(default)]
    pub robots: Vec<RobotDesc>,
    /// The taxel arrays.
    #[serde(default)]
    pub sensors: Vec<SensorDesc>,
}

/// Physics settings (`[physics]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PhysicsDesc {
    /// Physics steps per second (the fixed step is `1 / physics_hz`).
    pub physics_hz: f32,
    /// Physics steps per env step (one call of [`crate::Scene::step`]).
    pub substeps: u32,
    /// Gravity (m/s^2), world frame.
    pub gravity_m_s2: [f32; 3],
    /// Solver iterations per physics step.
    pub solver_iterations: u32,
    /// Typical object size (m): scales the solver's tolerances (slop,
    /// prediction distance). Tactile scenes are centimetre-sized.
    pub length_unit_m: f32,
    /// Natural frequency of the contact constraints (Hz): how stiffly
    /// contacts resist penetration. rapier's default (30-60 Hz) lets a
    /// pressed pad sink tenths of a millimetre; tactile scenes want stiffer.
    pub contact_natural_hz: f32,
    /// Damping ratio of the contact constraints.
    pub contact_damping_ratio: f32,
}

impl Default for PhysicsDesc {
    fn default() -> Self {
        PhysicsDesc {
            physics_hz: 240.0,
            substeps: 4,
            gravity_m_s2: [0.0, 0.0, -9.81],
            solver_iterations: 4,
            length_unit_m: 0.01,
            contact_natural_hz: 480.0,
            contact_damping_ratio: 1.0,
        }
    }
}

/// How a body moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BodyKind {
    /// Never moves.
    Static,
    /// Moved by forces; may carry a [`DriveDesc`] towards a position target.
    Dynamic,
    /// Moved to position targets exactly, pushes without being pushed.
    Kinematic,
}

/// One body (`[[bodies]]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BodyDesc {
    /// Unique name, used by sensors and targets.
    pub name: String,
    /// Static, dynamic or kinematic.
    pub kind: BodyKind,
    /// Initial position of the body frame (m, world).
    #[serde(default)]
    pub position_m: [f32; 3],
    /// Initial orientation as roll, pitch, yaw about fixed x, y, z (rad).
    #[serde(default)]
    pub rotation_rpy_rad: [f32; 3],
    /// Linear velocity damping (1/s).
    #[serde(default)]
    pub linear_damping: f32,
    /// Angular velocity damping (1/s).
    #[serde(default)]
    pub angular_damping: f32,
    /// A PD drive towards a kinematic target (dynamic bodies only).
    #[serde(default)]
    pub drive: Option<DriveDesc>,
    /// The body's colliders.
    #[serde(default)]
    pub colliders: Vec<ColliderDesc>,
}

/// A PD drive: a kinematic anchor that follows the target, joined to the
/// body by a spring-damper on each translation axis, so that contact forces
/// stay bounded and physical.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DriveDesc {
    /// Translational stiffness (N/m).
    pub stiffness_n_per_m: f32,
    /// Translational damping (N s/m).
    pub damping_n_s_per_m: f32,
    /// Rotation: locked to the target's (default), free, or a spring.
    #[serde(default)]
    pub rotation: RotationDrive,
}

/// How a drive treats the body's orientation.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum RotationDrive {
    /// The orientation follows the target rigidly.
    #[default]
    Locked,
    /// The body rotates freely.
    Free,
    /// A torsional spring-damper on each rotation axis.
    Spring {
        /// Rotational stiffness (N m/rad).
        stiffness_nm_per_rad: f32,
        /// Rotational damping (N m s/rad).
        damping_nm_s_per_rad: f32,
    },
}

/// One collider (`[[bodies.colliders]]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColliderDesc {
    /// The geometry.
    pub shape: ShapeDesc,
    /// Position in the body frame (m).
    #[serde(default)]
    pub position_m: [f32; 3],
    /// Orientation in the body frame, roll-pitch-yaw (rad).
    #[serde(default)]
    pub rotation_rpy_rad: [f32; 3],
    /// Coulomb friction coefficient; a pair uses the mean of its two.
    #[serde(default = "default_friction")]
    pub friction: f32,
    /// Restitution coefficient; a pair uses the mean of its two.
    #[serde(default)]
    pub restitution: f32,
    /// Mass (kg); exclusive with `density_kg_m3`.
    #[serde(default)]
    pub mass_kg: Option<f32>,
    /// Density (kg/m^3); default 1000 when no mass is given.
    #[serde(default)]
    pub density_kg_m3: Option<f32>,
}

fn default_friction() -> f32 {
    0.5
}

/// A collider's geometry; `kind` selects the variant. Cylinders and
/// capsules stand along their local z axis.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ShapeDesc {
    /// A box.
    Box {
        /// Half the edge lengths (m).
        half_extents_m: [f32; 3],
    },
    /// A sphere.
    Sphere {
        /// Radius (m).
        radius_m: f32,
    },
    /// A capsule along z.
    Capsule {
        /// Half the length of the straight part (m).
        half_height_m: f32,
        /// Radius (m).
        radius_m: f32,
    },
    /// A cylinder along z.
    Cylinder {
        /// Half the height (m).
        half_height_m: f32,
        /// Radius (m).
        radius_m: f32,
    },
    /// The convex hull of points given inline or of a mesh file's vertices.
    ConvexHull {
        /// The points (m), when no file is given.
        #[serde(default)]
        points_m: Vec<[f32; 3]>,
        /// An OBJ or STL file under the assets folder.
        #[serde(default)]
        file: Option<String>,
        /// Scale applied to the file's vertices.
        #[serde(default = "unit_scale")]
        scale: [f32; 3],
    },
    /// A triangle mesh from an OBJ or STL file under the assets folder.
    Mesh {
        /// The file, relative to the assets folder.
        file: String,
        /// Scale applied to the vertices.
        #[serde(default = "unit_scale")]
        scale: [f32; 3],
        /// How the mesh collides: `auto` (a triangle mesh on static and
        /// kinematic bodies, a convex decomposition on dynamic ones),
        /// `trimesh`, `decompose` or `hull`.
        #[serde(default)]
        collision: MeshCollision,
    },
}

fn unit_scale() -> [f32; 3] {
    [1.0; 3]
}

/// A robot loaded from a URDF file (`[[robots]]`).
///
/// Each URDF link becomes a body named `<name>/<link>`; each revolute or
/// continuous joint a driven degree of freedom, in the order the file lists
/// them. Collisions are primitives (box, sphere, cylinder, capsule) and
/// OBJ/STL meshes, resolved next to the URDF file in the asset folders and
/// convex-decomposed on moving links.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RobotDesc {
    /// Unique name, the prefix of the link names (`hand/link_3.0_tip`).
    pub name: String,
    /// The URDF file: a path under the asset folders
    /// (`robots/allegro/allegro.urdf`), or an absolute path of the user's.
    pub urdf: String,
    /// Position of the root link (m, world).
    #[serde(default)]
    pub position_m: [f32; 3],
    /// Orientation of the root link as roll, pitch, yaw about fixed x, y, z (rad).
    #[serde(default)]
    pub rotation_rpy_rad: [f32; 3],
    /// Whether the root link is welded to the world (default) or free.
    #[serde(default = "yes")]
    pub fixed_base: bool,
    /// Whether the robot's links collide with each other (links joined by
    /// a joint never do). Off by default.
    #[serde(default)]
    pub self_collisions: bool,
    /// Gravity on the links, as a fraction of the scene's (HORA's hand
    /// simulates none: 0).
    #[serde(default = "one")]
    pub gravity_scale: f32,
    /// Coulomb friction coefficient of every link collider.
    #[serde(default = "default_friction")]
    pub friction: f32,
    /// The joint configuration at every reset (rad), by joint name; a joint
    /// not named starts at 0, or at the limit nearest to 0.
    #[serde(default)]
    pub joint_positions_rad: BTreeMap<String, f32>,
    /// The position drives' targets at every reset (rad), by joint name; a
    /// joint not named holds its reset position. A grasp is both: the
    /// joints where they touch the object, the targets a little inside it.
    #[serde(default)]
    pub joint_targets_rad: BTreeMap<String, f32>,
    /// The drive of every joint that `joints` does not override.
    #[serde(default)]
    pub drive: JointDriveDesc,
    /// Per-joint overrides of `drive`, by joint name (only the keys given).
    #[serde(default)]
    pub joints: BTreeMap<String, JointDriveDesc>,
}

fn yes() -> bool {
    true
}

fn one() -> f32 {
    1.0
}

/// How a joint is driven (`[robots.drive]`, `[robots.joints."<name>"]`).
/// Every key is optional; a joint's drive is the robot's `drive` with the
/// joint's own keys on top.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JointDriveDesc {
    /// `position` (PD towards a target angle), `velocity` (towards a target
    /// rate) or `torque` (the command is the torque). Default `position`.
    #[serde(default)]
    pub mode: Option<DriveMode>,
    /// Position gain (N m/rad); position drives need it.
    #[serde(default)]
    pub stiffness_nm_per_rad: Option<f32>,
    /// Velocity gain (N m s/rad); default 0.
    #[serde(default)]
    pub damping_nm_s_per_rad: Option<f32>,
    /// The most torque the drive applies (N m); default unlimited.
    #[serde(default)]
    pub max_torque_nm: Option<f32>,
    /// Reflected rotor inertia added to the joint (kg m^2); default 0.
    #[serde(default)]
    pub armature_kg_m2: Option<f32>,
    /// Dry joint friction: the most torque friction resists motion with
    /// (N m); default the URDF's `<dynamics friction>`, else 0.
    #[serde(default)]
    pub friction_nm: Option<f32>,
}

/// What a joint's drive tracks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriveMode {
    /// A PD law towards a target angle: `tau = k (q* - q) - c dq/dt`,
    /// solved implicitly with the contacts, clamped to the torque limit.
    #[default]
    Position,
    /// A damper towards a target rate: `tau = c (v* - dq/dt)`.
    Velocity,
    /// The command is the torque itself (clamped to the torque limit).
    Torque,
}

/// How a mesh collides.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeshCollision {
    /// Triangle mesh if the body is static or kinematic, else decomposition.
    #[default]
    Auto,
    /// The triangles as they are.
    Trimesh,
    /// A convex decomposition (V-HACD).
    Decompose,
    /// One convex hull.
    Hull,
}

/// A taxel array in a scene (`[[sensors]]`): a layout from a sensor file,
/// inline tables, or a file with inline overrides.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SensorDesc {
    /// Unique name.
    pub name: String,
    /// The body that carries the pad.
    pub body: String,
    /// Which of the body's colliders is the pad (index, default 0).
    #[serde(default)]
    pub collider: usize,
    /// A sensor file under the assets folder (`sensors/pad_8x8.toml`).
    #[serde(default)]
    pub file: Option<String>,
    /// Inline layout (overrides the file's).
    #[serde(default)]
    pub layout: Option<LayoutDesc>,
    /// Inline skin (overrides the file's).
    #[serde(default)]
    pub skin: Option<SkinDesc>,
    /// Inline noise (overrides the file's).
    #[serde(default)]
    pub noise: Option<NoiseDesc>,
}

/// A sensor file (`assets/sensors/*.toml`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SensorFileDesc {
    /// Where the taxels are.
    pub layout: LayoutDesc,
    /// The elastic skin over the pad.
    #[serde(default)]
    pub skin: SkinDesc,
    /// Realism models, all off by default.
    #[serde(default)]
    pub noise: NoiseDesc,
}

/// The elastic skin over a pad: an elastic foundation of stiffness `k`
/// and thickness `h`. A taxel whose skin is indented by `d` feels the
/// pressure `k d`; the indentation field gives the shape of the pressure
/// map, the solver's contact force its magnitude.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SkinDesc {
    /// Skin thickness `h` (m): the deepest indentation, and how far above
    /// the pad a taxel sees an object.
    pub thickness_m: f32,
    /// Foundation stiffness `k` (Pa per m of indentation, N/m^3); roughly
    /// the elastomer's Young's modulus over its thickness.
    pub stiffness_n_per_m3: f32,
    /// The array reports `in_contact` when its summed normal force exceeds
    /// this (N).
    pub contact_threshold_n: f32,
}

impl Default for SkinDesc {
    fn default() -> Self {
        SkinDesc { thickness_m: 0.001, stiffness_n_per_m3: 5.0e7, contact_threshold_n: 0.0 }
    }
}

impl SkinDesc {
    pub(crate) fn validate(&self, field: &str) -> Result<(), SimError> {
        crate::taxel_layout::positive(&format!("{field}.thickness_m"), self.thickness_m)?;
        crate::taxel_layout::positive(&format!("{field}.stiffness_n_per_m3"), self.stiffness_n_per_m3)?;
        if !(self.contact_threshold_n.is_finite() && self.contact_threshold_n >= 0.0) {
            return Err(SimError::invalid(
                format!("{field}.contact_threshold_n"),
                self.contact_threshold_n,
                "must be >= 0",
            ));
        }
        Ok(())
    }
}

pub(crate) fn parse_toml<T: serde::de::DeserializeOwned>(text: &str, origin: &str) -> Result<T, SimError> {
    toml::from_str(text).map_err(|e| {
        let (line, column) = match e.span() {
            Some(span) => {
                let before = &text[..span.start.min(text.len())];
                let line = before.matches('\n').count() + 1;
                let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
                (line, column)
            }
            None => (0, 0),
        };
        let message = e.message().split_whitespace().collect::<Vec<_>>().join(" ");
        SimError::Toml { origin: origin.to_owned(), line, column, message }
    })
}

impl SceneDesc {
    /// Parses a scene from TOML text; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, SimError> {
        parse_toml(text, origin)
    }

    /// Reads and parses a scene file.
    pub fn load(path: &Path) -> Result<Self, SimError> {
        let text = std::fs::read_to_string(path).map_err(|source| SimError::Io { path: path.to_owned(), source })?;
        Self::from_toml(&text, &path.display().to_string())
    }
}

/// Where asset files (scenes, sensor layouts, meshes, robots) are found:
/// every file of tactile's `assets/` folder is built in, so a binary or a
/// Python wheel needs no source tree; a folder of the user's own is
/// searched first, the built-in files behind it.
#[derive(Clone, Debug, Default)]
pub struct Assets {
    root: Option<PathBuf>,
}

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// The environment variable that names a user's own asset folder
/// ([`Assets::from_env`]).
pub const ASSETS_ENV: &str = "TACTILE_ASSETS";

impl Assets {
    /// The built-in files alone.
    pub fn builtin() -> Self {
        Assets { root: None }
    }

    /// Files under `root` first, the built-in ones behind them.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Assets { root: Some(root.into()) }
    }

    /// The folder named by `TACTILE_ASSETS` ([`ASSETS_ENV`]) where it is
    /// set, with the built-in files behind it; else the built-in files
    /// alone. What the tasks use.
    pub fn from_env() -> Self {
        match std::env::var_os(ASSETS_ENV) {
            Some(dir) if !dir.is_empty() => Assets::new(PathBuf::from(dir)),
            _ => Assets::builtin(),
        }
    }

    /// The paths of the built-in files (relative to `assets/`), sorted.
    pub fn builtin_files() -> impl Iterator<Item = &'static str> {
        BUILTIN.iter().map(|(name, _)| *name)
    }

    /// The name of an asset in messages: its path under the user's folder
    /// where it is there, else `assets/<rel>` (the built-in copy).
    pub fn path(&self, rel: &str) -> PathBuf {
        if Path::new(rel).is_absolute() {
            return PathBuf::from(rel);
        }
        match &self.root {
            Some(root) if root.join(rel).is_file() => root.join(rel),
            Some(root) if builtin(rel).is_none() => root.join(rel),
            _ => Path::new("assets").join(rel),
        }
    }

    /// The bytes of an asset: the user's file where there is one, else the
    /// built-in copy; an absolute path is read as it is.
    pub fn read(&self, rel: &str) -> Result<Cow<'static, [u8]>, SimError> {
        if Path::new(rel).is_absolute() {
            return std::fs::read(rel).map(Cow::Owned).map_err(|source| SimError::Io { path: rel.into(), source });
        }
        if let Some(root) = &self.root {
            if !root.is_dir() {
                // A mistyped TACTILE_ASSETS or --assets must not pass
                // silently behind the built-in files.
                return Err(SimError::Io {
                    path: root.clone(),
                    source: std::io::Error::new(std::io::ErrorKind::NotFound, "the asset folder is not a folder"),
                });
            }
            let path = root.join(rel);
            match std::fs::read(&path) {
                Ok(bytes) => return Ok(Cow::Owned(bytes)),
                Err(source) if source.kind() != std::io::ErrorKind::NotFound || builtin(rel).is_none() => {
                    return Err(SimError::Io { path, source });
                }
                Err(_) => {}
            }
        }
        builtin(rel).map(Cow::Borrowed).ok_or_else(|| SimError::Io {
            path: self.path(rel),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such asset (not built in)"),
        })
    }

    /// A text asset, as [`Assets::read`] finds it.
    pub fn read_text(&self, rel: &str) -> Result<String, SimError> {
        let bytes = self.read(rel)?;
        String::from_utf8(bytes.into_owned()).map_err(|_| SimError::Io {
            path: self.path(rel),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8 text"),
        })
    }
}

fn builtin(rel: &str) -> Option<&'static [u8]> {
    let rel = rel.strip_prefix("./").unwrap_or(rel);
    BUILTIN.binary_search_by(|(name, _)| (*name).cmp(rel)).ok().map(|i| BUILTIN[i].1)
}
