//! The scene in the rollout schema's own types (tactile-rollout owns the
//! one declaration of a recorded shape): its bodies with their shapes, and
//! its taxel arrays, as a [`SceneRecord`] holds them; poses as `x y z qx qy
//! qz qw`.

use rapier3d::parry::shape::{Shape, TypedShape};
use tactile_rollout::{BodyRecord, Geometry, SceneRecord, SensorRecord, ShapeRecord};

use crate::desc::BodyKind;
use crate::math::{Pose, Vector};
use crate::scene::Scene;

/// A pose as the rollout schema writes it: `x y z qx qy qz qw`.
pub fn pose7(p: &Pose) -> [f32; 7] {
    let (t, q) = (p.translation, p.rotation);
    [t.x, t.y, t.z, q.x, q.y, q.z, q.w]
}

/// The geometry of `shape` at `body_from_shape`, as shape records (a
/// compound gives one per part; shapes with no record, none).
fn shape_records(shape: &dyn Shape, body_from_shape: Pose, out: &mut Vec<ShapeRecord>) {
    let v3 = |v: Vector| [v.x, v.y, v.z];
    let geometry = match shape.as_typed_shape() {
        TypedShape::Cuboid(c) => Geometry::Cuboid { half_extents_m: v3(c.half_extents) },
        TypedShape::Ball(b) => Geometry::Ball { radius_m: b.radius },
        TypedShape::Capsule(c) => {
            Geometry::Capsule { half_height_m: (c.segment.b - c.segment.a).length() / 2.0, radius_m: c.radius }
        }
        TypedShape::Cylinder(c) => Geometry::Cylinder { half_height_m: c.half_height, radius_m: c.radius },
        TypedShape::TriMesh(t) => Geometry::Mesh {
            vertices_m: t.vertices().iter().map(|&v| v3(v)).collect(),
            triangles: t.indices().to_vec(),
        },
        TypedShape::ConvexPolyhedron(c) => {
            let (vertices, triangles) = c.to_trimesh();
            Geometry::Mesh { vertices_m: vertices.iter().map(|&v| v3(v)).collect(), triangles }
        }
        TypedShape::Compound(c) => {
            for (part_pose, part) in c.shapes() {
                shape_records(part.as_ref(), body_from_shape * *part_pose, out);
            }
            return;
        }
        _ => return,
    };
    out.push(ShapeRecord { geometry, body_from_shape: pose7(&body_from_shape) });
}

impl Scene {
    /// Adds this scene's bodies (in insertion order, with their shapes) and
    /// taxel arrays to `record`.
    pub fn describe(&self, record: &mut SceneRecord) {
        for i in 0..self.body_count() {
            let (name, kind, parts) = self.body_parts(i);
            let mut shapes = Vec::new();
            for (shape, pose) in parts {
                shape_records(shape, pose, &mut shapes);
            }
            let kind = match kind {
                BodyKind::Static => "static",
                BodyKind::Dynamic => "dynamic",
                BodyKind::Kinematic => "kinematic",
            };
            record.bodies.push(BodyRecord { name: name.to_owned(), kind: kind.into(), shapes });
        }
        for i in 0..self.sensor_count() {
            let (array, body) = self.sensor_at(i);
            let t = array.taxels();
            record.sensors.push(SensorRecord {
                name: array.name().to_owned(),
                body,
                body_from_pad: pose7(&array.body_from_pad()),
                positions_m: t.position_m.iter().map(|p| [p.x, p.y, p.z]).collect(),
                normals: t.normal.iter().map(|n| [n.x, n.y, n.z]).collect(),
                tangents: t.tangent.iter().map(|n| [n.x, n.y, n.z]).collect(),
            });
        }
    }

    /// Every body's world pose, in insertion order, into `out`.
    pub fn write_body_poses(&self, out: &mut [[f32; 7]]) {
        for (i, pose) in out.iter_mut().enumerate().take(self.body_count()) {
            *pose = pose7(&self.body_pose_at(i));
        }
    }
}
