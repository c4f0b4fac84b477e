//! Taxel arrays: the elastic-skin sensor model.
//!
//! Each read, per array:
//! 1. the contact pairs of the pad collider that the solver pushed on this
//!    step give, per touching collider, the force on the pad (normal and
//!    friction impulses over the step, divided by the step);
//! 2. one short ray per taxel, cast only against those colliders, measures
//!    the gap `g_i` between the undeformed skin surface and the object
//!    along the taxel normal (negative where the object dips into the skin);
//! 3. the skin is an elastic foundation: pressed down by `delta`, taxel `i`
//!    carries `k A_i max(0, delta - g_i)`. `delta` is solved exactly so that
//!    the taxels carry the solver's normal force, which gives the dense
//!    shape of the pressure map (a sphere lights a disc of radius
//!    `sqrt(2 R delta)`, a flat press the whole face evenly);
//! 4. each taxel's share of the pair's force vector gives its normal force
//!    and its shear in its own tangent frame, so the taxels sum to the
//!    physical contact force;
//! 5. the realism models ([`crate::NoiseDesc`]) run over the frame, then
//!    the array totals (force, centre of pressure, contact flag) are taken
//!    from what the taxels report.
//!
//! A contact that no ray sees (an edge between taxels) goes to the taxel
//! nearest its contact point, if that lies on the sensing surface. Readings
//! go into a caller-owned [`TaxelFrame`]; the read allocates nothing.

use rapier3d::prelude::*;

use crate::desc::SkinDesc;
use crate::noise::NoiseState;
use crate::taxel_layout::Taxels;

/// One reading of a taxel array. Make it with [`TaxelArray::new_frame`] (or
/// [`crate::Scene::new_frame`]) once and reuse it every step.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TaxelFrame {
    /// Normal force per taxel (N), positive when the skin is pressed.
    pub normal_n: Vec<f32>,
    /// Shear force per taxel in its tangent frame `(t1, normal x t1)` (N).
    pub shear_n: Vec<[f32; 2]>,
    /// Sum of the taxel force vectors, in the pad frame (N).
    pub total_force_n: Vector,
    /// Sum of the normal forces (N).
    pub total_normal_n: f32,
    /// Centre of pressure in the pad frame (m); zero when nothing presses.
    pub centre_of_pressure_m: Vector,
    /// Whether the summed normal force exceeds the contact threshold.
    pub in_contact: bool,
}

impl TaxelFrame {
    /// A zeroed frame for `taxels` taxels.
    pub fn new(taxels: usize) -> Self {
        TaxelFrame { normal_n: vec![0.0; taxels], shear_n: vec![[0.0; 2]; taxels], ..Default::default() }
    }

    /// Number of taxels with a non-zero normal reading.
    pub fn nonzero_taxels(&self) -> usize {
        self.normal_n.iter().filter(|&&f| f != 0.0).count()
    }
}

/// The friction impulse that the solver applied to collider 1's body
/// through manifold `m` over the whole physics step (world frame).
///
/// rapier keeps the step's total normal impulse per point, but friction
/// only as the last solver substep's world-space vector (and, with the
/// Coulomb model, the step's total in a tangent basis it does not keep).
/// With the Coulomb model the basis is recovered from the last substep's
/// vector, which was expressed in it, so the total is exact. With the
/// default (simplified, one friction constraint per manifold) model the
/// last substep's friction is scaled by the step's ratio of total to
/// last-substep normal impulse: exact while sliding (friction = mu N in
/// every substep) and in steady sticking.
fn manifold_friction(m: &ContactManifold, dir1: Vector, coulomb: bool) -> Vector {
    if coulomb {
        let mut total = Vector::ZERO;
        for p in &m.points {
            let (x, y) = (p.data.tangent_impulse[0], p.data.tangent_impulse[1]);
            let (wx, wy) = (p.data.warmstart_tangent_impulse[0], p.data.warmstart_tangent_impulse[1]);
            let w2 = wx * wx + wy * wy;
            if w2 > 0.0 {
                let ww = p.data.warmstart_tangent_world;
                let re = (x * wx + y * wy) / w2;
                let im = (y * wx - x * wy) / w2;
                total += ww * re + dir1.cross(ww) * im;
            }
        }
        total
    } else {
        let (mut last, mut whole) = (0.0f32, 0.0f32);
        for p in &m.points {
            last += p.data.warmstart_impulse;
            whole += p.data.impulse;
        }
        match m.points.first() {
            Some(p) if last > 0.0 => p.data.warmstart_tangent_world * (whole / last),
            _ => Vector::ZERO,
        }
    }
}

/// The force one touching collider puts on the pad this step.
#[derive(Clone, Copy, Debug)]
struct PairForce {
    other: ColliderHandle,
    /// Force on the pad, pad frame (N).
    force_pad: Vector,
    /// Sum of the normal forces of its contact points (N).
    normal_n: f32,
    /// Normal-force weighted contact point, pad frame (m).
    centroid_pad: Vector,
}

const NO_OWNER: u8 = u8::MAX;
const MAX_PAIRS: usize = NO_OWNER as usize;

/// A taxel array attached to one collider of a body.
#[derive(Clone, Debug)]
pub struct TaxelArray {
    pub(crate) name: String,
    pub(crate) body: RigidBodyHandle,
    pub(crate) collider: ColliderHandle,
    pub(crate) body_from_pad: Pose,
    taxels: Taxels,
    bitangent: Vec<Vector>,
    /// Ray origins, one skin thickness under each taxel (pad frame).
    ray_origin: Vec<Vector>,
    skin: SkinDesc,
    pub(crate) noise: Option<NoiseState>,
    // Per-read scratch, sized once.
    gap_m: Vec<f32>,
    owner: Vec<u8>,
    pairs: Vec<PairForce>,
}

impl TaxelArray {
    pub(crate) fn new(
        name: String,
        body: RigidBodyHandle,
        collider: ColliderHandle,
        body_from_pad: Pose,
        taxels: Taxels,
        skin: SkinDesc,
        noise: Option<NoiseState>,
    ) -> Self {
        let n = taxels.len();
        let bitangent = taxels.normal.iter().zip(&taxels.tangent).map(|(n, t)| n.cross(*t)).collect();
        let ray_origin =
            taxels.position_m.iter().zip(&taxels.normal).map(|(p, n)| *p + *n * skin.thickness_m).collect();
        TaxelArray {
            name,
            body,
            collider,
            body_from_pad,
            taxels,
            bitangent,
            ray_origin,
            skin,
            noise,
            gap_m: vec![0.0; n],
            owner: vec![NO_OWNER; n],
            pairs: Vec::with_capacity(8),
        }
    }

    /// The array's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The taxel table (positions, normals, areas) in the pad frame.
    pub fn taxels(&self) -> &Taxels {
        &self.taxels
    }

    /// The pad's pose in the frame of the body that carries it.
    pub fn body_from_pad(&self) -> Pose {
        self.body_from_pad
    }

    /// The skin parameters.
    pub fn skin(&self) -> &SkinDesc {
        &self.skin
    }

    /// A zeroed frame sized for this array.
    pub fn new_frame(&self) -> TaxelFrame {
        TaxelFrame::new(self.taxels.len())
    }

    /// Reads the array after a physics step of `dt_s` seconds.
    pub(crate) fn read(&mut self, world: &PhysicsWorld, dt_s: f32, out: &mut TaxelFrame) {
        let n = self.taxels.len();
        out.normal_n.resize(n, 0.0);
        out.shear_n.resize(n, [0.0; 2]);
        out.normal_n.fill(0.0);
        out.shear_n.fill([0.0; 2]);

        self.collect_pairs(world, dt_s);
        if !self.pairs.is_empty() {
            let world_from_pad = *world.bodies[self.body].position() * self.body_from_pad;
            self.cast_rays(world, &world_from_pad);
            for k in 0..self.pairs.len() {
                self.share_out(k, out);
            }
        }
        if let Some(noise) = &mut self.noise {
            noise.apply(&mut out.normal_n, &mut out.shear_n);
        }
        self.totals(out);
    }

    /// Step 1: the force of every collider that touches the pad.
    fn collect_pairs(&mut self, world: &PhysicsWorld, dt_s: f32) {
        self.pairs.clear();
        let Some(body) = world.bodies.get(self.body) else { return };
        let pad_from_world = (*body.position() * self.body_from_pad).inverse();
        let inv_dt = 1.0 / dt_s;
        let coulomb = world.integration_parameters.friction_model == FrictionModel::Coulomb;
        for pair in world.narrow_phase.contact_pairs_with(self.collider) {
            if !pair.has_any_active_contact() || self.pairs.len() == MAX_PAIRS {
                continue;
            }
            let pad_is_first = pair.collider1 == self.collider;
            let other = if pad_is_first { pair.collider2 } else { pair.collider1 };
            let Some(c1) = world.colliders.get(pair.collider1) else { continue };
            // Impulses act on collider 1's body along `-normal` (the solver's
            // direction `dir1`). Friction: see `manifold_friction`.
            let mut impulse_on_1 = Vector::ZERO;
            let mut normal_impulse = 0.0f32;
            let mut centroid_w = Vector::ZERO;
            for m in pair.solver_manifolds() {
                let dir1 = -m.data.normal;
                let mut manifold_normal = 0.0f32;
                for p in &m.points {
                    let lambda = p.data.impulse;
                    if lambda <= 0.0 {
                        continue;
                    }
                    manifold_normal += lambda;
                    centroid_w += c1.position().transform_point(p.local_p1) * lambda;
                }
                if manifold_normal > 0.0 {
                    impulse_on_1 += dir1 * manifold_normal + manifold_friction(m, dir1, coulomb);
                    normal_impulse += manifold_normal;
                }
            }
            if normal_impulse <= 0.0 {
                continue;
            }
            let force_w = if pad_is_first { impulse_on_1 } else { -impulse_on_1 } * inv_dt;
            self.pairs.push(PairForce {
                other,
                force_pad: pad_from_world.transform_vector(force_w),
                normal_n: normal_impulse * inv_dt,
                centroid_pad: pad_from_world.transform_point(centroid_w / normal_impulse),
            });
        }
    }

    /// Step 2: the skin gap under every taxel, against the touching colliders only.
    fn cast_rays(&mut self, world: &PhysicsWorld, world_from_pad: &Pose) {
        self.gap_m.fill(f32::INFINITY);
        self.owner.fill(NO_OWNER);
        let h = self.skin.thickness_m;
        let max_toi = 2.0 * h;
        for (k, pair) in self.pairs.iter().enumerate() {
            let Some(other) = world.colliders.get(pair.other) else { continue };
            let local_from_pad = other.position().inverse() * *world_from_pad;
            let shape = other.shape();
            for i in 0..self.ray_origin.len() {
                let ray = Ray::new(
                    local_from_pad.transform_point(self.ray_origin[i]),
                    local_from_pad.transform_vector(-self.taxels.normal[i]),
                );
                if let Some(toi) = shape.cast_local_ray(&ray, max_toi, true) {
                    let gap = toi - h;
                    if gap < self.gap_m[i] {
                        self.gap_m[i] = gap;
                        self.owner[i] = k as u8;
                    }
                }
            }
        }
    }

    /// Steps 3 and 4: solve the indentation of pair `k` and share its force out.
    fn share_out(&mut self, k: usize, out: &mut TaxelFrame) {
        let pair = self.pairs[k];
        let owner = k as u8;
        // Indented volume V = F / k; solve sum A_i (delta - g_i)+ = V.
        let volume = pair.normal_n / self.skin.stiffness_n_per_m3;
        let Some(delta) = indentation(&self.gap_m, &self.taxels.area_m2, &self.owner, owner, volume) else {
            self.fallback(&pair, out);
            return;
        };
        let mut weight_sum = 0.0f32;
        for i in 0..self.owner.len() {
            if self.owner[i] == owner {
                weight_sum += self.taxels.area_m2[i] * (delta - self.gap_m[i]).max(0.0);
            }
        }
        if weight_sum <= 0.0 {
            self.fallback(&pair, out);
            return;
        }
        let scale = 1.0 / weight_sum;
        for i in 0..self.owner.len() {
            if self.owner[i] != owner {
                continue;
            }
            let w = self.taxels.area_m2[i] * (delta - self.gap_m[i]).max(0.0) * scale;
            if w > 0.0 {
                self.add_force(i, pair.force_pad * w, out);
            }
        }
    }

    /// A contact no ray saw: the nearest taxel takes it if the contact lies
    /// on the sensing surface (within one spacing of a taxel, pressing it).
    fn fallback(&self, pair: &PairForce, out: &mut TaxelFrame) {
        let mut best = (f32::INFINITY, usize::MAX);
        for (i, p) in self.taxels.position_m.iter().enumerate() {
            let d2 = (*p - pair.centroid_pad).length_squared();
            if d2 < best.0 {
                best = (d2, i);
            }
        }
        let i = best.1;
        if i == usize::MAX {
            return;
        }
        let reach = self.taxels.spacing_m.max(self.skin.thickness_m);
        let pressing = pair.force_pad.dot(self.taxels.normal[i]) > 0.5 * pair.force_pad.length();
        if best.0.sqrt() <= reach && pressing {
            self.add_force(i, pair.force_pad, out);
        }
    }

    fn add_force(&self, i: usize, f: Vector, out: &mut TaxelFrame) {
        out.normal_n[i] += f.dot(self.taxels.normal[i]);
        out.shear_n[i][0] += f.dot(self.taxels.tangent[i]);
        out.shear_n[i][1] += f.dot(self.bitangent[i]);
    }

    /// Step 5: array totals from what the taxels report.
    fn totals(&self, out: &mut TaxelFrame) {
        let mut force = Vector::ZERO;
        let mut normal = 0.0f32;
        let mut moment = Vector::ZERO;
        for i in 0..out.normal_n.len() {
            let (fn_, [s1, s2]) = (out.normal_n[i], out.shear_n[i]);
            force += self.taxels.normal[i] * fn_ + self.taxels.tangent[i] * s1 + self.bitangent[i] * s2;
            normal += fn_;
            moment += self.taxels.position_m[i] * fn_;
        }
        out.total_force_n = force;
        out.total_normal_n = normal;
        out.centre_of_pressure_m = if normal > 0.0 { moment / normal } else { Vector::ZERO };
        out.in_contact = normal > self.skin.contact_threshold_n;
    }
}

/// The indentation `delta` at which the taxels owned by `which` carry the
/// indented volume `V`: the root of `f(delta) = sum A_i max(0, delta - g_i) - V`.
///
/// `f` is convex, piecewise linear and increasing. With every taxel in
/// contact, `delta_0 = (V + sum A_i g_i) / sum A_i` lies at or right of the
/// root; Newton's steps from there, `delta = (V + sum_active A_i g_i) /
/// sum_active A_i` over the taxels with `g_i < delta`, move left
/// monotonically and stop exactly when the active set stops changing: one
/// pass for a flat press, a few for a sphere, no sort.
fn indentation(gap_m: &[f32], area_m2: &[f32], owner: &[u8], which: u8, volume: f32) -> Option<f32> {
    let mut delta = f32::INFINITY;
    for _ in 0..=owner.len() {
        let (mut a_sum, mut ag_sum) = (0.0f32, 0.0f32);
        for i in 0..owner.len() {
            if owner[i] == which && gap_m[i] < delta {
                a_sum += area_m2[i];
                ag_sum += area_m2[i] * gap_m[i];
            }
        }
        if a_sum <= 0.0 {
            return None;
        }
        let next = (volume + ag_sum) / a_sum;
        if next >= delta {
            break;
        }
        delta = next;
    }
    delta.is_finite().then_some(delta)
}

#[cfg(test)]
mod tests {
    use super::indentation;

    #[test]
    fn indentation_solves_the_elastic_foundation_exactly() {
        let gaps = [0.0, 1.0, 2.0, 10.0];
        let areas = [1.0; 4];
        let all = [0u8; 4];
        // V = 1: only the first taxel is pressed, by 1.
        assert_eq!(indentation(&gaps, &areas, &all, 0, 1.0), Some(1.0));
        // V = 3: delta = 2 presses taxels 0 and 1 by 2 and 1.
        assert_eq!(indentation(&gaps, &areas, &all, 0, 3.0), Some(2.0));
        // V = 40: every taxel: (40 + 13) / 4.
        assert_eq!(indentation(&gaps, &areas, &all, 0, 40.0), Some(13.25));
        // Taxels of another pair do not count; no taxel, no solution.
        let owners = [0u8, 1, 1, 1];
        assert_eq!(indentation(&gaps, &areas, &owners, 0, 3.0), Some(3.0));
        assert_eq!(indentation(&gaps, &areas, &owners, 2, 3.0), None);
        // Unequal areas: the volume sums A_i (delta - g_i).
        let d = indentation(&[0.0, 0.0, 5.0], &[2.0, 1.0, 1.0], &[0; 3], 0, 6.0).unwrap();
        assert!((d - 2.0).abs() < 1e-6);
    }
}
