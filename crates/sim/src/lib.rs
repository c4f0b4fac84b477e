//! # tactile-sim
//!
//! Rigid-body physics with tactile sensor arrays, on rapier3d.
//!
//! A [`Scene`] is built from data ([`SceneDesc`], a TOML file): static,
//! dynamic and kinematic bodies with box, sphere, capsule, cylinder, convex
//! hull and mesh colliders, PD drives towards position targets, robots
//! loaded from URDF ([`RobotDesc`]: links as bodies `<robot>/<link>`,
//! revolute joints with position, velocity or torque drives, read and set
//! in joint space through [`RobotId`]), and [`TaxelArray`]s whose layouts ([`LayoutDesc`]: grid, hemisphere,
//! cylinder) are data too. Each env step a taxel array reports per taxel
//! the normal force and 2-D shear, and per array the total force, centre of
//! pressure and contact flag, into a caller-owned [`TaxelFrame`]. The
//! pressure map takes its shape from an elastic-skin indentation field and
//! its magnitude from the solver's contact impulses, so the taxels sum to
//! the physical contact force (see the `sensor` module docs). Sensor
//! realism ([`NoiseDesc`]) is seeded and optional.
//!
//! ```
//! use tactile_sim::{Assets, Scene, SceneDesc};
//!
//! let desc = SceneDesc::from_toml(r#"
//!     [[bodies]]
//!     name = "table"
//!     kind = "static"
//!     [[bodies.colliders]]
//!     shape = { kind = "box", half_extents_m = [0.05, 0.05, 0.005] }
//!
//!     [[bodies]]
//!     name = "weight"
//!     kind = "dynamic"
//!     position_m = [0.0, 0.0, 0.015]
//!     [[bodies.colliders]]
//!     shape = { kind = "box", half_extents_m = [0.01, 0.01, 0.01] }
//!     mass_kg = 0.2
//!
//!     [[sensors]]
//!     name = "skin"
//!     body = "table"
//!     layout = { kind = "grid", rows = 8, cols = 8, pitch_m = 0.004,
//!                center_m = [0.0, 0.0, 0.005], normal = [0.0, 0.0, -1.0],
//!                u_axis = [1.0, 0.0, 0.0] }
//! "#, "example")?;
//! let mut scene = Scene::new(&desc, &Assets::builtin())?;
//! let skin = scene.sensor("skin")?;
//! let mut frame = scene.new_frame(skin);
//! for _ in 0..60 {
//!     scene.step();
//! }
//! scene.read(skin, &mut frame);
//! // The taxels carry the weight: 0.2 kg x 9.81 m/s^2.
//! assert!((frame.total_normal_n - 0.2 * 9.81).abs() < 0.02);
//! # Ok::<(), tactile_sim::SimError>(())
//! ```

mod bench_timing;
mod desc;
mod error;
pub mod hand_hold;
mod mesh;
mod noise;
mod record;
mod robot;
mod scene;
mod sensor;
mod taxel_layout;
pub mod taxel_slide;

/// The math types of the public API (glam, as rapier uses them).
pub mod math {
    pub use rapier3d::math::{Pose, Rotation, Vector};
}

pub use desc::{
    ASSETS_ENV, Assets, BodyDesc, BodyKind, ColliderDesc, DriveDesc, DriveMode, JointDriveDesc, MeshCollision,
    PhysicsDesc, RobotDesc, RotationDrive, SceneDesc, SensorDesc, SensorFileDesc, ShapeDesc, SkinDesc,
};
pub use error::SimError;
pub use mesh::TriMeshData;
pub use noise::{BinaryDesc, NoiseDesc, NoiseState};
pub use record::pose7;
pub use robot::{JointInfo, RobotId};
pub use scene::{BodyId, Fault, Scene, SensorId};
pub use sensor::{TaxelArray, TaxelFrame};
pub use taxel_layout::{LayoutDesc, Taxels};
