//! The 3D scene: bodies, taxel heatmaps on their pads, force arrows, the
//! finger's trail and a ground grid, posed at the shown frame.
//!
//! The simulation's world is z-up; bevy's is y-up. Everything recorded is
//! kept in the simulation's frame under one root entity turned by
//! [`Z_UP_TO_Y_UP`]; gizmos go through [`to_view`].

use std::sync::Arc;

use bevy::asset::RenderAssetUsages;
use bevy::mesh::{Indices, PrimitiveTopology, VertexAttributeValues};
use bevy::prelude::*;
use tactile_rollout::{Geometry, SensorRecord};

use crate::material::{ShadedMaterial, ShadedMaterialPlugin};
use crate::playback::{Playback, PlaybackSystems};
use crate::replay::{Replay, heat_srgb, rotate, transform_point};

/// The rotation from the simulation's z-up world to bevy's y-up one.
pub const Z_UP_TO_Y_UP: Quat =
    Quat::from_xyzw(-std::f32::consts::FRAC_1_SQRT_2, 0.0, 0.0, std::f32::consts::FRAC_1_SQRT_2);

/// A point of the simulation's world in bevy's.
pub fn to_view(p: [f32; 3]) -> Vec3 {
    Z_UP_TO_Y_UP * Vec3::from_array(p)
}

/// The rollout shown, shared by every system.
#[derive(Resource, Clone)]
pub struct ReplayData(pub Arc<Replay>);

/// What the gizmos draw; toggled by keys.
#[derive(Resource, Clone, Debug, PartialEq)]
pub struct DrawOptions {
    /// One arrow per pad: the total contact force, at its centre of pressure.
    pub total_force_arrows: bool,
    /// One arrow per pressed taxel.
    pub taxel_arrows: bool,
    /// The pads' paths up to the shown frame.
    pub trails: bool,
    /// The ground grid.
    pub grid: bool,
}

impl Default for DrawOptions {
    fn default() -> Self {
        DrawOptions { total_force_arrows: true, taxel_arrows: false, trails: true, grid: true }
    }
}

/// A body's visual: its transform follows the body's recorded pose.
#[derive(Component)]
pub struct BodyVisual(pub usize);

/// A sensor pad's heatmap mesh: one quad per taxel, coloured by its
/// normal force.
#[derive(Component)]
pub struct PadHeatmap {
    /// The sensor index.
    pub sensor: usize,
    /// Its mesh.
    pub mesh: Handle<Mesh>,
}

/// The frame the scene shows: (episode, frame).
#[derive(Resource, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ShownFrame(pub Option<(usize, usize)>);

/// Where the camera looks first and how large the region of interest is.
#[derive(Resource, Clone, Copy, Debug, PartialEq)]
pub struct ViewFraming {
    /// The middle of the moving bodies (m, simulation frame).
    pub centre_m: [f32; 3],
    /// The size of the region they move in (m).
    pub size_m: f32,
    /// Seen first from above (a task that keeps a map of the plane, such
    /// as the Explore tasks' occupancy grid).
    pub from_above: bool,
}

impl ViewFraming {
    /// The framing of `replay`'s first episode.
    pub fn of(replay: &Replay) -> Self {
        let from_above = replay.grids.iter().any(Option::is_some);
        let (centre_m, size_m) = framing(replay, from_above);
        ViewFraming { centre_m, size_m, from_above }
    }
}

/// The middle of the moving bodies and the size of the region they move in
/// (m, simulation frame), over the first episode; with `objects`, the
/// fixed bodies near them too (an explored object, not the ones parked
/// away from the workspace).
fn framing(replay: &Replay, objects: bool) -> ([f32; 3], f32) {
    let bounds = |points: &[[f32; 3]]| {
        let (mut lo, mut hi) = ([f32::INFINITY; 3], [f32::NEG_INFINITY; 3]);
        for p in points {
            for i in 0..3 {
                if p[i].is_finite() {
                    lo[i] = lo[i].min(p[i]);
                    hi[i] = hi[i].max(p[i]);
                }
            }
        }
        (lo, hi)
    };
    let first = &replay.steps[replay.episodes[0].start];
    let mut points: Vec<[f32; 3]> = replay
        .scene
        .bodies
        .iter()
        .zip(&first.body_poses)
        .filter(|(body, _)| body.kind != "static")
        .map(|(_, p)| [p[0], p[1], p[2]])
        .collect();
    for trail in &replay.episodes[0].pad_trails_m {
        points.extend(trail.iter().copied());
    }
    let (lo, hi) = bounds(&points);
    if objects && lo[0] <= hi[0] {
        // Centred on the explored object, wide enough for everything the
        // finger did around it and the object's own extent (10 cm).
        let near = |p: &[f32; 7]| (0..3).all(|i| p[i] > lo[i] - 0.5 && p[i] < hi[i] + 0.5);
        let object =
            replay.scene.bodies.iter().zip(&first.body_poses).find(|(b, pose)| b.kind == "static" && near(pose));
        if let Some((_, p)) = object {
            let centre = [p[0], p[1], 0.5 * (lo[2] + hi[2])];
            let reach = points
                .iter()
                .map(|q| (q[0] - centre[0]).hypot(q[1] - centre[1]))
                .filter(|d| d.is_finite())
                .fold(0.1f32, f32::max);
            return (centre, 2.0 * reach + 0.05);
        }
    }
    if lo[0] > hi[0] {
        return ([0.0; 3], 0.5);
    }
    let centre = [0, 1, 2].map(|i| 0.5 * (lo[i] + hi[i]));
    let size = ((hi[0] - lo[0]).powi(2) + (hi[1] - lo[1]).powi(2) + (hi[2] - lo[2]).powi(2)).sqrt();
    (centre, size.max(0.05))
}

/// Spawns the scene and poses it every frame after the playback moved.
pub struct ScenePlugin;

/// The gizmos drawn over everything: force arrows and trails, which are
/// mostly inside or behind bodies.
#[derive(Default, Reflect, GizmoConfigGroup)]
pub struct OnTopGizmos;

impl Plugin for ScenePlugin {
    fn build(&self, app: &mut App) {
        let on_top = GizmoConfig { depth_bias: -1.0, line: GizmoLineConfig { width: 3.0, ..default() }, ..default() };
        app.add_plugins(ShadedMaterialPlugin)
            .insert_gizmo_config(OnTopGizmos, on_top)
            .init_resource::<DrawOptions>()
            .init_resource::<ShownFrame>()
            .add_systems(Startup, spawn_scene)
            .add_systems(Update, (pose_scene, draw_gizmos).chain().after(PlaybackSystems));
    }
}

fn shape_mesh(geometry: &Geometry) -> Mesh {
    match geometry {
        Geometry::Cuboid { half_extents_m: h } => Cuboid::new(2.0 * h[0], 2.0 * h[1], 2.0 * h[2]).into(),
        Geometry::Ball { radius_m } => {
            Sphere::new(*radius_m).mesh().ico(3).unwrap_or_else(|_| Sphere::new(*radius_m).into())
        }
        // Both are along y, as bevy's are.
        Geometry::Capsule { half_height_m, radius_m } => Capsule3d::new(*radius_m, 2.0 * half_height_m).into(),
        Geometry::Cylinder { half_height_m, radius_m } => Cylinder::new(*radius_m, 2.0 * half_height_m).into(),
        Geometry::Mesh { vertices_m, triangles } => {
            let n = vertices_m.len() as u32;
            let indices = triangles.iter().filter(|t| t.iter().all(|&i| i < n)).flatten().copied().collect();
            let mut mesh = Mesh::new(PrimitiveTopology::TriangleList, RenderAssetUsages::default())
                .with_inserted_attribute(Mesh::ATTRIBUTE_POSITION, vertices_m.clone())
                .with_inserted_indices(Indices::U32(indices));
            mesh.duplicate_vertices();
            mesh.compute_flat_normals();
            mesh
        }
    }
}

/// A recorded pose as a transform; a pose the file holds as NaN, infinite
/// or a zero quaternion (a physics fault) is drawn at the origin, unturned.
fn pose_transform(pose: &[f32; 7]) -> Transform {
    let q = Quat::from_xyzw(pose[3], pose[4], pose[5], pose[6]);
    let rotation = if q.is_finite() && q.length_squared() > 1e-12 { q.normalize() } else { Quat::IDENTITY };
    let t = Vec3::new(pose[0], pose[1], pose[2]);
    Transform { translation: if t.is_finite() { t } else { Vec3::ZERO }, rotation, scale: Vec3::ONE }
}

/// The spacing of a sensor's taxels: the median distance to the nearest
/// neighbour (m).
fn taxel_pitch_m(sensor: &SensorRecord) -> f32 {
    let p = &sensor.positions_m;
    if p.len() < 2 {
        return 0.002;
    }
    let mut nearest: Vec<f32> = p
        .iter()
        .enumerate()
        .map(|(i, a)| {
            p.iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, b)| ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt())
                .fold(f32::INFINITY, f32::min)
        })
        .filter(|d| d.is_finite() && *d > 0.0)
        .collect();
    if nearest.is_empty() {
        return 0.002;
    }
    nearest.sort_by(f32::total_cmp);
    nearest[nearest.len() / 2]
}

/// How far inside the pad the heatmap's squares sit, in taxel pitches.
const HEATMAP_DEPTH_PITCHES: f32 = 0.3;

/// The centre of taxel `i`'s heatmap square (pad frame, m): the taxel,
/// moved inside the pad along its normal.
pub fn heatmap_square_centre(sensor: &SensorRecord, i: usize) -> [f32; 3] {
    let inward = Vec3::from_array(sensor.normals[i]).normalize_or(Vec3::Z);
    (Vec3::from_array(sensor.positions_m[i]) + inward * HEATMAP_DEPTH_PITCHES * taxel_pitch_m(sensor)).to_array()
}

/// One square per taxel, facing out of the pad, just inside its surface
/// (seen through the see-through body, and never hidden by the surface the
/// pad sinks into while it presses); colours start at the map's zero.
fn heatmap_mesh(sensor: &SensorRecord) -> Mesh {
    let half = 0.45 * taxel_pitch_m(sensor);
    let (mut positions, mut normals, mut indices) = (Vec::new(), Vec::new(), Vec::new());
    for (i, n) in sensor.normals.iter().enumerate() {
        let inward = Vec3::from_array(*n).normalize_or(Vec3::Z);
        let tangent = sensor.tangents.get(i).map(|t| Vec3::from_array(*t)).filter(|t| t.length_squared() > 0.5);
        let u = tangent.unwrap_or_else(|| inward.any_orthonormal_vector());
        let v = inward.cross(u).normalize_or(Vec3::X);
        let c = Vec3::from_array(heatmap_square_centre(sensor, i));
        let base = positions.len() as u32;
        for (su, sv) in [(-1.0, -1.0), (1.0, -1.0), (1.0, 1.0), (-1.0, 1.0)] {
            positions.push((c + (u * su + v * sv) * half).to_array());
            normals.push((-inward).to_array());
        }
        // Both windings: the square shows from either side.
        indices.extend_from_slice(&[base, base + 1, base + 2, base, base + 2, base + 3]);
        indices.extend_from_slice(&[base, base + 2, base + 1, base, base + 3, base + 2]);
    }
    let zero = Color::srgb_from_array(heat_srgb(0.0)).to_linear().to_f32_array();
    let colors = vec![zero; positions.len()];
    Mesh::new(PrimitiveTopology::TriangleList, RenderAssetUsages::default())
        .with_inserted_attribute(Mesh::ATTRIBUTE_POSITION, positions)
        .with_inserted_attribute(Mesh::ATTRIBUTE_NORMAL, normals)
        .with_inserted_attribute(Mesh::ATTRIBUTE_COLOR, colors)
        .with_inserted_indices(Indices::U32(indices))
}

fn body_colour(kind: &str, index: usize) -> Color {
    const DYNAMIC: [Color; 4] = [
        Color::srgb(0.85, 0.55, 0.25),
        Color::srgb(0.35, 0.6, 0.85),
        Color::srgb(0.6, 0.8, 0.4),
        Color::srgb(0.8, 0.45, 0.7),
    ];
    match kind {
        "static" => Color::srgb(0.42, 0.44, 0.47),
        "kinematic" => Color::srgb(0.75, 0.75, 0.8),
        _ => DYNAMIC[index % DYNAMIC.len()],
    }
}

fn spawn_scene(
    mut commands: Commands,
    replay: Res<ReplayData>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<ShadedMaterial>>,
) {
    let replay = &replay.0;
    let root = commands.spawn((Name::new("scene"), Transform::from_rotation(Z_UP_TO_Y_UP), Visibility::default())).id();
    // The heatmap is drawn with the see-through bodies (opaque colours, so
    // blending changes nothing) and sorted after them: it shows through its
    // body in the legend's exact colours, and opaque bodies still hide it.
    let heat_material = materials.add(ShadedMaterial::unlit_on_top(1.0));
    let first = &replay.steps[replay.episodes[0].start];
    let mut dynamic = 0;
    for (i, body) in replay.scene.bodies.iter().enumerate() {
        let colour = body_colour(&body.kind, dynamic);
        dynamic += usize::from(body.kind == "dynamic");
        // A body that carries a sensor is drawn see-through, so that its
        // pads' heatmaps show from every side (they face the touched
        // object, usually away from the camera).
        let carries_sensor = replay.scene.sensors.iter().any(|s| s.body == i);
        let material = materials.add(if carries_sensor {
            ShadedMaterial::see_through(colour, 0.25)
        } else {
            ShadedMaterial::lit(colour)
        });
        let entity = commands
            .spawn((
                Name::new(body.name.clone()),
                BodyVisual(i),
                pose_transform(&first.body_poses[i]),
                Visibility::default(),
            ))
            .with_children(|parent| {
                for shape in &body.shapes {
                    parent.spawn((
                        Mesh3d(meshes.add(shape_mesh(&shape.geometry))),
                        MeshMaterial3d(material.clone()),
                        pose_transform(&shape.body_from_shape),
                    ));
                }
                for (s, sensor) in replay.scene.sensors.iter().enumerate().filter(|(_, s)| s.body == i) {
                    let mesh = meshes.add(heatmap_mesh(sensor));
                    parent.spawn((
                        Name::new(format!("{} heatmap", sensor.name)),
                        PadHeatmap { sensor: s, mesh: mesh.clone() },
                        Mesh3d(mesh),
                        MeshMaterial3d(heat_material.clone()),
                        pose_transform(&sensor.body_from_pad),
                    ));
                }
            })
            .id();
        commands.entity(root).add_child(entity);
    }
}

/// Poses the bodies and colours the heatmaps for the shown frame, when it
/// changed.
fn pose_scene(
    replay: Res<ReplayData>,
    playback: Res<Playback>,
    mut shown: ResMut<ShownFrame>,
    mut bodies: Query<(&BodyVisual, &mut Transform)>,
    pads: Query<&PadHeatmap>,
    mut meshes: ResMut<Assets<Mesh>>,
) {
    let now = (playback.episode, playback.frame);
    if shown.0 == Some(now) {
        return;
    }
    let step = replay.0.step(now.0, now.1);
    for (body, mut transform) in &mut bodies {
        if let Some(pose) = step.body_poses.get(body.0) {
            *transform = pose_transform(pose);
        }
    }
    let scale = replay.0.force_scale_n;
    for pad in &pads {
        let (Some(mut mesh), Some(forces)) = (meshes.get_mut(&pad.mesh), step.normal_n.get(pad.sensor)) else {
            continue;
        };
        if let Some(VertexAttributeValues::Float32x4(colours)) = mesh.attribute_mut(Mesh::ATTRIBUTE_COLOR) {
            for (quad, force_n) in colours.chunks_exact_mut(4).zip(forces) {
                let c = Color::srgb_from_array(heat_srgb(force_n / scale)).to_linear().to_f32_array();
                quad.fill(c);
            }
        }
    }
    shown.0 = Some(now);
}

/// The force a pad's taxels feel, summed (world frame, N), and where it
/// acts (the force-weighted mean of the pressed taxels, world frame).
pub fn pad_resultant(replay: &Replay, episode: usize, frame: usize, sensor: usize) -> Option<([f32; 3], [f32; 3])> {
    let step = replay.step(episode, frame);
    let record = &replay.scene.sensors[sensor];
    let body = &step.body_poses[record.body];
    let (mut force, mut centre, mut weight) = ([0.0f32; 3], [0.0f32; 3], 0.0f32);
    for (i, (&fn_n, shear)) in step.normal_n[sensor].iter().zip(&step.shear_n[sensor]).enumerate() {
        if !(fn_n.is_finite() && fn_n > 0.0) {
            continue;
        }
        let f = taxel_force_pad(record, i, fn_n, *shear);
        for k in 0..3 {
            force[k] += f[k];
            centre[k] += fn_n * record.positions_m[i][k];
        }
        weight += fn_n;
    }
    if weight <= 0.0 {
        return None;
    }
    let world_from_pad_q = quat_mul(&[body[3], body[4], body[5], body[6]], &record.body_from_pad[3..].try_into().ok()?);
    let at_pad = centre.map(|c| c / weight);
    let at_world = transform_point(body, transform_point(&record.body_from_pad, at_pad));
    Some((rotate(&world_from_pad_q, force), at_world))
}

/// Taxel `i`'s force on the pad, pad frame: its normal force along the
/// inward normal plus, where the file has the taxel's tangent, its shear.
fn taxel_force_pad(record: &SensorRecord, i: usize, normal_n: f32, shear_n: [f32; 2]) -> [f32; 3] {
    let n = Vec3::from_array(record.normals[i]);
    let mut f = n * normal_n;
    if let Some(t) = record.tangents.get(i) {
        let t = Vec3::from_array(*t);
        f += t * shear_n[0] + n.cross(t) * shear_n[1];
    }
    f.to_array()
}

fn quat_mul(a: &[f32; 4], b: &[f32; 4]) -> [f32; 4] {
    let q = Quat::from_array(*a) * Quat::from_array(*b);
    q.to_array()
}

fn draw_gizmos(
    mut gizmos: Gizmos,
    mut on_top: Gizmos<OnTopGizmos>,
    replay: Res<ReplayData>,
    playback: Res<Playback>,
    options: Res<DrawOptions>,
    framing: Res<ViewFraming>,
) {
    let replay = &replay.0;
    let (centre, size) = (framing.centre_m, framing.size_m);
    if options.grid {
        let cell = crate::replay::nice_ceiling(size / 8.0);
        let origin = Vec3::new((centre[0] / cell).round() * cell, (centre[1] / cell).round() * cell, 0.0);
        gizmos.grid(
            Isometry3d::new(to_view(origin.to_array()), Z_UP_TO_Y_UP),
            UVec2::splat(24),
            Vec2::splat(cell),
            LinearRgba::gray(0.45),
        );
    }
    let (episode, frame) = (playback.episode.min(replay.episodes.len() - 1), playback.frame);
    let span = &replay.episodes[episode];
    if options.trails {
        for trail in &span.pad_trails_m {
            let upto = frame.min(trail.len().saturating_sub(1));
            on_top.linestrip(trail[..=upto].iter().map(|p| to_view(*p)), Color::srgb(0.2, 0.9, 0.95));
        }
    }
    // Arrows: the largest total force in the file is a third of the view.
    let peak_total_n = span.total_force_n.iter().copied().fold(replay.force_scale_n, f32::max);
    let m_per_n = size / 3.0 / peak_total_n.max(1e-6);
    if options.total_force_arrows {
        for s in 0..replay.scene.sensors.len() {
            if let Some((force, at)) = pad_resultant(replay, episode, frame, s) {
                let (at, f) = (to_view(at), Z_UP_TO_Y_UP * Vec3::from_array(force));
                // From where it acts, the way it pushes the pad.
                on_top.arrow(at, at + f * m_per_n, Color::srgb(1.0, 0.3, 0.2)).with_tip_length(0.08 * size);
            }
        }
    }
    if options.taxel_arrows {
        let step = replay.step(episode, frame);
        for (s, record) in replay.scene.sensors.iter().enumerate() {
            let body = &step.body_poses[record.body];
            let q = quat_mul(
                &[body[3], body[4], body[5], body[6]],
                &[record.body_from_pad[3], record.body_from_pad[4], record.body_from_pad[5], record.body_from_pad[6]],
            );
            let pitch = taxel_pitch_m(record);
            for (i, (&fn_n, shear)) in step.normal_n[s].iter().zip(&step.shear_n[s]).enumerate() {
                if !(fn_n.is_finite() && fn_n > 0.0) {
                    continue;
                }
                let f = Vec3::from_array(rotate(&q, taxel_force_pad(record, i, fn_n, *shear)));
                let at = to_view(transform_point(body, transform_point(&record.body_from_pad, record.positions_m[i])));
                let len = 4.0 * pitch / replay.force_scale_n;
                let colour = Color::srgb_from_array(heat_srgb(fn_n / replay.force_scale_n));
                on_top.arrow(at, at + Z_UP_TO_Y_UP * f * len, colour).with_tip_length(0.5 * pitch);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_pose_is_drawn_at_the_origin_not_as_nan() {
        let good = pose_transform(&[1.0, 2.0, 3.0, 0.0, 0.0, 0.0, 2.0]);
        assert_eq!((good.translation, good.rotation), (Vec3::new(1.0, 2.0, 3.0), Quat::IDENTITY));
        for bad in [[f32::NAN, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0], [0.0; 7], [0.0, 0.0, 0.0, f32::INFINITY, 0.0, 0.0, 1.0]] {
            let t = pose_transform(&bad);
            assert!(t.translation.is_finite() && t.rotation.is_finite(), "{bad:?} -> {t:?}");
        }
    }
}
