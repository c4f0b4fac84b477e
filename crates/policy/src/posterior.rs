//! The Bayes posterior over a closed set of known objects, read from an
//! Explore task's occupancy grid: a discriminator that needs no training,
//! and the best any discriminator can do with the same grid.
//!
//! It knows what a learned discriminator has to learn ([`PosteriorMeta`]):
//! the objects' cross-sections, the finger's radius, how far past it a
//! guarded move still touches, the object's jitter and the sensor's
//! phantom contacts. Each object's pose (yaw, and offset within the
//! jitter) is a point of a lattice; a read cell whose centre lies within
//! the finger's radius of the object so placed is contact, beyond the
//! radius and the guard free, and between the two (widened by the
//! lattice's spacing, so that the true pose, between lattice points,
//! agrees with its nearest one) either. A cell's reading against its class
//! is a phantom contact (the task's flip probability) or a missed one; the
//! posterior of an object sums its poses' likelihoods.
//!
//! Only the poses within [`KEEP_NATS`] of the best stay in the running,
//! so that after the first touches an update costs a few thousand
//! lookups, not the lattice's millions. A pose dropped so would need some
//! seven wrong readings in the best pose's favour to have mattered. While
//! most poses are in the running an episode's evidence is a score per
//! pose (4 bytes each); once fewer than half are, a list of the survivors
//! (8 bytes each), which soon holds thousands. Either way it adds the
//! same terms in the same order, so the two read alike to the bit.

use serde::{Deserialize, Serialize};

/// Log-likelihood below the best pose's at which a pose is dropped.
pub const KEEP_NATS: f32 = 40.0;

/// The chance that a move into a contact cell reads free: the sensor
/// misses a real touch this rarely (a guarded move presses until it
/// feels one).
const MISSED_PROB: f32 = 1e-3;

/// The class fields' resolution (m).
const FIELD_CELL_M: f32 = 0.00025;

/// The grid's codes (as the Explore tasks write them): a read free cell,
/// a contact cell, the finger's own (free) cell; anything else is unread.
const FREE: u8 = 1;
const CONTACT: u8 = 2;
const CURRENT: u8 = 3;

/// The lattice of poses the posterior sums over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoseLattice {
    /// Yaws, evenly over a turn (one, yaw 0, when the objects do not turn).
    pub yaws: usize,
    /// Offsets per axis, evenly over the jitter's range.
    pub offsets: usize,
}

impl Default for PoseLattice {
    /// 1,440 yaws by 11 x 11 offsets: on Explore-v2 its spacing blurs the
    /// contact band by under a millimetre.
    fn default() -> Self {
        Self { yaws: 1440, offsets: 11 }
    }
}

/// What a posterior discriminator knows of its task (`meta.json`'s
/// `discriminator.posterior`): everything it needs to run on a robot
/// without the simulator.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PosteriorMeta {
    /// Each object's cross-section in its own frame, vertices in order
    /// (m); class `k` of the action is object `k`.
    pub objects_m: Vec<Vec<[f32; 2]>>,
    /// The finger's radius at the exploring height (m).
    pub finger_radius_m: f32,
    /// How far past the finger's radius a guarded move may still touch
    /// (m): a cell between the two can read either way.
    pub guard_m: f32,
    /// The object's largest offset from the workspace's centre, per axis
    /// (m).
    pub jitter_m: f32,
    /// The object's yaw is anywhere in a turn (else 0).
    pub random_yaw: bool,
    /// The chance that a move through free space reads contact.
    pub phantom_prob: f32,
    /// The square workspace's side (m), centred on the origin, and its
    /// grid cell's (m).
    pub workspace_m: f32,
    /// The grid cell's side (m).
    pub cell_m: f32,
    /// The poses summed over.
    pub lattice: PoseLattice,
    /// Declare once the top object's probability reaches this.
    pub threshold: f32,
}

impl PosteriorMeta {
    /// Cells along each side of the square grid.
    pub fn grid_side(&self) -> usize {
        (self.workspace_m / self.cell_m).round() as usize
    }

    /// The centre of grid cell `index` (row-major, rows along y; m).
    pub fn cell_centre_m(&self, index: usize) -> [f32; 2] {
        let (side, half, c) = (self.grid_side(), 0.5 * self.workspace_m, self.cell_m);
        [(index % side) as f32 * c + 0.5 * c - half, (index / side) as f32 * c + 0.5 * c - half]
    }

    /// Why the description cannot make a posterior, naming the field.
    pub fn refusal(&self) -> Option<String> {
        let positive = |v: f32| v.is_finite() && v > 0.0;
        if self.objects_m.len() < 2 {
            return Some(format!("objects_m: {} objects; a posterior needs at least 2", self.objects_m.len()));
        }
        if let Some(k) = self.objects_m.iter().position(|o| {
            o.len() < 3 || o.iter().flatten().any(|v| !v.is_finite()) || o.iter().flatten().all(|&v| v == 0.0)
        }) {
            return Some(format!("objects_m[{k}]: needs 3 or more finite vertices"));
        }
        for (field, value) in [("finger_radius_m", self.finger_radius_m), ("workspace_m", self.workspace_m)] {
            if !positive(value) {
                return Some(format!("{field}: {value} is not a positive length"));
            }
        }
        if !positive(self.cell_m) || self.grid_side() == 0 || self.grid_side() > 4096 {
            return Some(format!(
                "cell_m: {} does not divide workspace_m {} into a grid",
                self.cell_m, self.workspace_m
            ));
        }
        for (field, value) in [("guard_m", self.guard_m), ("jitter_m", self.jitter_m)] {
            if !(value.is_finite() && value >= 0.0) {
                return Some(format!("{field}: {value} must be finite and >= 0"));
            }
        }
        if !(self.phantom_prob.is_finite() && (0.0..0.5).contains(&self.phantom_prob)) {
            return Some(format!("phantom_prob: {} is not a probability below 0.5", self.phantom_prob));
        }
        if !(self.threshold.is_finite() && self.threshold > 0.0 && self.threshold <= 1.0) {
            return Some(format!("threshold: {} is not in (0, 1]", self.threshold));
        }
        let PoseLattice { yaws, offsets } = self.lattice;
        if yaws == 0 || offsets == 0 {
            return Some(format!("lattice: {yaws} yaws by {offsets} offsets; needs at least one of each"));
        }
        let poses = self.objects_m.len() as u64 * yaws as u64 * (offsets as u64).pow(2);
        if poses > u64::from(u32::MAX) || yaws > 100_000 || offsets > 1000 {
            return Some(format!("lattice: {poses} poses is more than a posterior holds"));
        }
        None
    }
}

/// A cell's class under a pose: the readings it allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum Class {
    Contact = 0,
    Either = 1,
    Free = 2,
}

/// The posterior's model of a task, shared by all its episodes.
pub struct ShapePosterior {
    /// Per object, its class field in its own frame: `field_side` squared
    /// cells of `FIELD_CELL_M`, centred on the object's origin.
    fields: Vec<Vec<Class>>,
    field_side: usize,
    field_half_m: f32,
    /// `(sin, cos)` of each lattice yaw.
    yaw_trig: Vec<(f32, f32)>,
    /// Each lattice offset along one axis (m).
    offsets_m: Vec<f32>,
    /// Each grid cell's centre (m), and whether any pose can make it other
    /// than free (readings elsewhere tell nothing).
    cell_centres_m: Vec<[f32; 2]>,
    informative: Vec<bool>,
    /// log p(reading | class): rows free, contact; columns by [`Class`].
    log_likelihood: [[f32; 3]; 2],
    objects: usize,
}

/// One episode's evidence: the poses still in the running with their
/// log-likelihoods, and each cell's reading when it was last read.
#[derive(Clone, Debug, Default)]
pub struct Evidence {
    /// Every pose's log-likelihood, `-inf` once dropped, while at least
    /// half the lattice is in the running; empty after.
    dense: Vec<f32>,
    /// The poses in the running, in lattice order, once fewer than half
    /// are.
    poses: Vec<(u32, f32)>,
    seen: Vec<u8>,
    read: Vec<(usize, u8)>,
    started: bool,
}

impl Evidence {
    /// The poses still in the running (see [`ShapePosterior::pose_object`])
    /// and their log-likelihoods, in lattice order; none before the first
    /// informative reading.
    pub fn poses(&self) -> impl Iterator<Item = (u32, f32)> + '_ {
        let dense = self.dense.iter().enumerate().filter(|(_, s)| s.is_finite()).map(|(i, &s)| (i as u32, s));
        dense.chain(self.poses.iter().copied())
    }

    /// Drops the poses `KEEP_NATS` or more below the best. A score per
    /// pose becomes a list of the survivors once they are fewer than
    /// half, and the list gives back most of the memory of poses dropped
    /// since the last time (at most a few times an episode: it only
    /// shrinks), so that a thousand episodes' evidence holds their
    /// survivors, not each first reading's millions.
    fn prune(&mut self) {
        if self.dense.is_empty() {
            let best = self.poses.iter().map(|p| p.1).fold(f32::NEG_INFINITY, f32::max);
            self.poses.retain(|p| p.1 > best - KEEP_NATS);
            if self.poses.len() < self.poses.capacity() / 4 {
                self.poses.shrink_to(2 * self.poses.len());
            }
            return;
        }
        let best = self.dense.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let mut survivors = 0;
        for s in &mut self.dense {
            if *s > best - KEEP_NATS {
                survivors += 1;
            } else {
                *s = f32::NEG_INFINITY;
            }
        }
        if 2 * survivors < self.dense.len() {
            self.poses.clear();
            self.poses.reserve_exact(survivors);
            let kept = self.dense.iter().enumerate().filter(|(_, s)| s.is_finite());
            self.poses.extend(kept.map(|(i, &s)| (i as u32, s)));
            self.dense = Vec::new();
        }
    }

    /// Forgets everything (a new episode).
    pub fn clear(&mut self) {
        self.dense.clear();
        self.poses.clear();
        self.seen.iter_mut().for_each(|s| *s = 0);
        self.started = false;
    }
}

/// A reading, as the posterior sees a grid cell: none (0), free (1) or
/// contact (2).
fn reading(code: f32) -> u8 {
    match code as u8 {
        FREE | CURRENT => 1,
        CONTACT => 2,
        _ => 0,
    }
}

/// Distance from `p` to the polygon (0 inside it; m).
fn clearance_m(polygon: &[[f32; 2]], p: [f32; 2]) -> f32 {
    let n = polygon.len();
    let (mut inside, mut d2) = (false, f32::INFINITY);
    for i in 0..n {
        let (a, b) = (polygon[i], polygon[(i + 1) % n]);
        if (a[1] > p[1]) != (b[1] > p[1]) && p[0] < a[0] + (p[1] - a[1]) / (b[1] - a[1]) * (b[0] - a[0]) {
            inside = !inside;
        }
        let (abx, aby) = (b[0] - a[0], b[1] - a[1]);
        let len2 = (abx * abx + aby * aby).max(f32::MIN_POSITIVE);
        let t = (((p[0] - a[0]) * abx + (p[1] - a[1]) * aby) / len2).clamp(0.0, 1.0);
        d2 = d2.min((a[0] + t * abx - p[0]).powi(2) + (a[1] + t * aby - p[1]).powi(2));
    }
    if inside { 0.0 } else { d2.sqrt() }
}

impl ShapePosterior {
    /// The posterior `meta` describes; refused (naming the field) where
    /// [`PosteriorMeta::refusal`] finds a fault.
    pub fn new(meta: &PosteriorMeta) -> Result<Self, String> {
        if let Some(why) = meta.refusal() {
            return Err(why);
        }
        let polys = &meta.objects_m;
        let yaws = if meta.random_yaw { meta.lattice.yaws } else { 1 };
        let n = meta.lattice.offsets;
        let jitter = meta.jitter_m;
        let offset_step = if n > 1 { 2.0 * jitter / (n - 1) as f32 } else { 0.0 };
        let offsets_m: Vec<f32> =
            if n > 1 { (0..n).map(|o| -jitter + offset_step * o as f32).collect() } else { vec![0.0] };
        let max_radius = polys.iter().flatten().map(|p| p[0].hypot(p[1])).fold(0.0f32, f32::max);
        // How far a cell's true distance may lie from its nearest lattice
        // pose's, and from the field's sample.
        let yaw_slack = if yaws > 1 { std::f32::consts::PI / yaws as f32 * max_radius } else { 0.0 };
        let slack =
            0.5 * offset_step * std::f32::consts::SQRT_2 + yaw_slack + 0.5 * FIELD_CELL_M * std::f32::consts::SQRT_2;
        let r = meta.finger_radius_m;
        let (near, far) = (r - slack, r + meta.guard_m + slack);
        let field_half_m = max_radius + far + FIELD_CELL_M;
        let field_side = (2.0 * field_half_m / FIELD_CELL_M).ceil() as usize;
        if field_side > 8192 {
            return Err(format!(
                "objects_m: reaching {max_radius} m from their origins, too large for the class fields"
            ));
        }
        let fields = polys
            .iter()
            .map(|poly| {
                (0..field_side * field_side)
                    .map(|i| {
                        let q = [
                            (i % field_side) as f32 * FIELD_CELL_M + 0.5 * FIELD_CELL_M - field_half_m,
                            (i / field_side) as f32 * FIELD_CELL_M + 0.5 * FIELD_CELL_M - field_half_m,
                        ];
                        let d = clearance_m(poly, q);
                        if d < near {
                            Class::Contact
                        } else if d <= far {
                            Class::Either
                        } else {
                            Class::Free
                        }
                    })
                    .collect()
            })
            .collect();
        let side = meta.grid_side();
        let cell_centres_m: Vec<[f32; 2]> = (0..side * side).map(|i| meta.cell_centre_m(i)).collect();
        let reach = max_radius + far + jitter * std::f32::consts::SQRT_2;
        let informative = cell_centres_m.iter().map(|p| p[0].hypot(p[1]) <= reach).collect();
        let phantom = meta.phantom_prob.max(1e-4);
        let log_likelihood = [
            [MISSED_PROB.ln(), 0.5f32.ln(), (1.0 - phantom).ln()],
            [(1.0 - MISSED_PROB).ln(), 0.5f32.ln(), phantom.ln()],
        ];
        Ok(Self {
            fields,
            field_side,
            field_half_m,
            yaw_trig: (0..yaws).map(|y| (std::f32::consts::TAU * y as f32 / yaws as f32).sin_cos()).collect(),
            offsets_m,
            cell_centres_m,
            informative,
            log_likelihood,
            objects: polys.len(),
        })
    }

    /// Number of objects.
    pub fn objects(&self) -> usize {
        self.objects
    }

    /// Number of cells of the grid it reads.
    pub fn cells(&self) -> usize {
        self.cell_centres_m.len()
    }

    /// Number of poses of the lattice, over all objects.
    pub fn poses(&self) -> usize {
        self.objects * self.poses_per_object()
    }

    fn poses_per_object(&self) -> usize {
        self.yaw_trig.len() * self.offsets_m.len() * self.offsets_m.len()
    }

    /// The object a pose places.
    pub fn pose_object(&self, pose: u32) -> usize {
        pose as usize / self.poses_per_object()
    }

    /// New, empty evidence for an episode.
    pub fn evidence(&self) -> Evidence {
        Evidence { seen: vec![0; self.cells()], ..Evidence::default() }
    }

    fn class(&self, pose: usize, cell: usize) -> Class {
        let n = self.offsets_m.len();
        let per_yaw = n * n;
        let (object, rest) = (pose / self.poses_per_object(), pose % self.poses_per_object());
        let (yaw, offset) = (rest / per_yaw, rest % per_yaw);
        let (s, c) = self.yaw_trig[yaw];
        let p = self.cell_centres_m[cell];
        let (dx, dy) = (p[0] - self.offsets_m[offset % n], p[1] - self.offsets_m[offset / n]);
        // The cell's centre in the object's frame.
        let q = [c * dx + s * dy, -s * dx + c * dy];
        let ix = ((q[0] + self.field_half_m) / FIELD_CELL_M).floor();
        let iy = ((q[1] + self.field_half_m) / FIELD_CELL_M).floor();
        let side = self.field_side as f32;
        if (0.0..side).contains(&ix) && (0.0..side).contains(&iy) {
            self.fields[object][iy as usize * self.field_side + ix as usize]
        } else {
            Class::Free
        }
    }

    /// The chance that reading `cell` under `pose` feels contact.
    pub fn contact_probability(&self, pose: u32, cell: usize) -> f32 {
        self.log_likelihood[1][self.class(pose as usize, cell) as usize].exp()
    }

    /// Whether any pose can make `cell` other than free.
    pub fn is_informative(&self, cell: usize) -> bool {
        self.informative[cell]
    }

    /// Reads the grid's cells (the observation's codes) that changed since
    /// the last call. A grid in which a cell read before is unread again
    /// is another episode's: the evidence starts again from it. A grid of
    /// another size is ignored.
    pub fn update(&self, ev: &mut Evidence, grid: &[f32]) {
        if grid.len() != self.cells() {
            return;
        }
        if ev.seen.len() != self.cells() {
            ev.seen = vec![0; self.cells()];
            ev.started = false;
        }
        if ev.started && grid.iter().zip(&ev.seen).any(|(&code, &s)| s > 0 && reading(code) == 0) {
            ev.clear();
        }
        let ll = &self.log_likelihood;
        let term = |class: Class, old: u8, now: u8| {
            let k = class as usize;
            let before = if old > 0 { ll[usize::from(old - 1)][k] } else { 0.0 };
            let after = if now > 0 { ll[usize::from(now - 1)][k] } else { 0.0 };
            after - before
        };
        if !ev.started {
            ev.read.clear();
            for (c, &code) in grid.iter().enumerate() {
                ev.seen[c] = reading(code);
                if ev.seen[c] > 0 && self.informative[c] {
                    ev.read.push((c, ev.seen[c]));
                }
            }
            if ev.read.is_empty() {
                return;
            }
            // Every pose against every informative reading so far.
            ev.poses.clear();
            ev.dense.clear();
            ev.dense.reserve_exact(self.poses());
            let read = &ev.read;
            ev.dense.extend(
                (0..self.poses())
                    .map(|pose| read.iter().map(|&(c, now)| term(self.class(pose, c), 0, now)).sum::<f32>()),
            );
            ev.prune();
            ev.started = true;
            return;
        }
        let mut changed = false;
        for (c, &code) in grid.iter().enumerate() {
            let now = reading(code);
            let old = ev.seen[c];
            if now == old {
                continue;
            }
            ev.seen[c] = now;
            if !self.informative[c] {
                continue;
            }
            changed = true;
            for (pose, score) in ev.dense.iter_mut().enumerate().filter(|(_, s)| s.is_finite()) {
                *score += term(self.class(pose, c), old, now);
            }
            for (pose, score) in ev.poses.iter_mut() {
                *score += term(self.class(*pose as usize, c), old, now);
            }
        }
        if changed {
            ev.prune();
        }
    }

    /// The posterior over the objects into `out` (one per object); uniform
    /// before the first informative reading.
    pub fn probabilities(&self, ev: &Evidence, out: &mut [f32]) {
        let best = ev.poses().map(|p| p.1).fold(f32::NEG_INFINITY, f32::max);
        if !ev.started || best == f32::NEG_INFINITY {
            out.iter_mut().for_each(|p| *p = 1.0 / self.objects as f32);
            return;
        }
        out.iter_mut().for_each(|p| *p = 0.0);
        for (pose, score) in ev.poses() {
            if let Some(p) = out.get_mut(self.pose_object(pose)) {
                *p += (score - best).exp();
            }
        }
        let total: f32 = out.iter().sum();
        out.iter_mut().for_each(|p| *p /= total);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A regular `n`-gon of circumradius `r_m`, turned by `turn` radians.
    fn regular(n: usize, r_m: f32, turn: f32) -> Vec<[f32; 2]> {
        (0..n)
            .map(|k| {
                let a = turn + std::f32::consts::TAU * k as f32 / n as f32;
                [r_m * a.cos(), r_m * a.sin()]
            })
            .collect()
    }

    /// Five objects of Explore-v2's size, on Explore-v2's grid, finger and
    /// sensor; a coarse lattice keeps the tests fast.
    fn meta() -> PosteriorMeta {
        PosteriorMeta {
            objects_m: vec![
                regular(4, 0.05, 0.3),
                regular(3, 0.07, 0.0),
                vec![[-0.08, -0.03], [0.08, -0.03], [0.08, 0.03], [-0.08, 0.03]],
                regular(6, 0.05, 0.0),
                vec![[-0.06, -0.06], [0.06, -0.06], [0.06, -0.01], [-0.01, -0.01], [-0.01, 0.06], [-0.06, 0.06]],
            ],
            finger_radius_m: 0.018,
            guard_m: 0.002,
            jitter_m: 0.005,
            random_yaw: true,
            phantom_prob: 0.005,
            workspace_m: 0.3,
            cell_m: 0.005,
            lattice: PoseLattice { yaws: 120, offsets: 3 },
            threshold: 0.9,
        }
    }

    /// Object `object` placed at lattice yaw `yaw` (offset 0, a lattice
    /// point), and the grid the finger would read around it: every cell
    /// within `ring_m` of the finger's reach, contact where the centre is
    /// within the finger's radius of the solid, free beyond radius and
    /// guard.
    fn drawn(
        post: &ShapePosterior,
        m: &PosteriorMeta,
        object: usize,
        yaw: usize,
        ring_m: f32,
    ) -> (Vec<[f32; 2]>, Vec<f32>) {
        let (s, c) = (std::f32::consts::TAU * yaw as f32 / m.lattice.yaws as f32).sin_cos();
        let placed: Vec<[f32; 2]> =
            m.objects_m[object].iter().map(|p| [c * p[0] - s * p[1], s * p[0] + c * p[1]]).collect();
        let r = m.finger_radius_m;
        let grid = post
            .cell_centres_m
            .iter()
            .map(|&p| {
                let d = clearance_m(&placed, p);
                if d < r - 0.001 && d > r - ring_m {
                    2.0
                } else if d > r + 0.003 && d < r + ring_m {
                    1.0
                } else {
                    0.0
                }
            })
            .collect();
        (placed, grid)
    }

    #[test]
    fn clearance_is_the_distance_to_the_polygon() {
        let square = vec![[-0.01, -0.01], [0.01, -0.01], [0.01, 0.01], [-0.01, 0.01]];
        for (p, d) in [([0.0, 0.0], 0.0), ([0.03, 0.0], 0.02), ([0.0, -0.015], 0.005), ([0.04, 0.05], 0.05)] {
            assert!((clearance_m(&square, p) - d).abs() < 1e-6, "{p:?}: {}", clearance_m(&square, p));
        }
    }

    #[test]
    fn names_the_object_a_grid_was_drawn_from() {
        let m = meta();
        let post = ShapePosterior::new(&m).unwrap();
        assert_eq!((post.objects(), post.cells(), post.poses()), (5, 3600, 5 * 120 * 9));
        let mut p = vec![0.0; 5];
        for object in 0..5 {
            let (_, grid) = drawn(&post, &m, object, 17 * object + 5, 0.012);
            let mut ev = post.evidence();
            post.update(&mut ev, &grid);
            post.probabilities(&ev, &mut p);
            assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-4);
            assert!(p[object] > 0.99, "object {object}: posterior {p:?}");
        }
    }

    #[test]
    fn another_episodes_grid_starts_the_evidence_again() {
        // The same evidence read after object 1's grid, as read fresh: a
        // read cell unread again is a new episode, not more evidence.
        let m = meta();
        let post = ShapePosterior::new(&m).unwrap();
        let (_, first) = drawn(&post, &m, 1, 30, 0.012);
        let (_, second) = drawn(&post, &m, 3, 70, 0.008);
        let mut ev = post.evidence();
        post.update(&mut ev, &first);
        post.update(&mut ev, &second);
        let mut fresh = post.evidence();
        post.update(&mut fresh, &second);
        assert!(ev.poses().eq(fresh.poses()));
        assert!(fresh.poses().next().is_some());
    }

    #[test]
    fn evidence_read_cell_by_cell_is_the_evidence_read_at_once() {
        // Object 4 revealed a few cells at a time, nearest the first
        // contact first: each step's posterior is the one of all its
        // readings scored afresh, pose by pose, with nothing dropped; the
        // evidence starts as a score per pose and ends as a list.
        let m = meta();
        let post = ShapePosterior::new(&m).unwrap();
        let (_, full) = drawn(&post, &m, 4, 50, 0.012);
        let first = (0..post.cells()).find(|&c| full[c] == 2.0).unwrap();
        let at = post.cell_centres_m[first];
        let mut order: Vec<usize> = (0..post.cells()).filter(|&c| full[c] > 0.0).collect();
        order.sort_by(|&a, &b| {
            let d = |c: usize| (post.cell_centres_m[c][0] - at[0]).hypot(post.cell_centres_m[c][1] - at[1]);
            d(a).total_cmp(&d(b))
        });
        let mut grid = vec![0.0; post.cells()];
        let mut ev = post.evidence();
        let (mut was_dense, mut was_list) = (false, false);
        let (mut p, mut want) = (vec![0.0; 5], vec![0.0f64; 5]);
        for chunk in order.chunks(3) {
            for &c in chunk {
                grid[c] = full[c];
            }
            post.update(&mut ev, &grid);
            was_dense |= !ev.dense.is_empty();
            was_list |= ev.dense.is_empty() && !ev.poses.is_empty();
            post.probabilities(&ev, &mut p);
            let ll = &post.log_likelihood;
            let read: Vec<usize> = (0..post.cells()).filter(|&c| grid[c] > 0.0 && post.is_informative(c)).collect();
            let scores: Vec<f64> = (0..post.poses())
                .map(|pose| {
                    let term = |c: usize| ll[reading(grid[c]) as usize - 1][post.class(pose, c) as usize];
                    read.iter().map(|&c| f64::from(term(c))).sum()
                })
                .collect();
            let best = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            want.iter_mut().for_each(|w| *w = 0.0);
            for (pose, s) in scores.iter().enumerate() {
                want[post.pose_object(pose as u32)] += (s - best).exp();
            }
            let total: f64 = want.iter().sum();
            for (got, w) in p.iter().zip(&want) {
                assert!((f64::from(*got) - w / total).abs() < 1e-4, "{p:?} against {want:?} / {total}");
            }
        }
        assert!(was_dense && was_list, "dense {was_dense}, list {was_list}");
        assert!(p[4] > 0.99, "{p:?}");
    }

    #[test]
    fn a_phantom_contact_does_not_turn_it() {
        // A contact read in free space, 2-3.5 cm beyond the finger's reach,
        // where larger poses of other objects would feel one, read with
        // the rest: it costs the true pose the phantom rate, which is
        // less than what those poses' own contradictions cost them.
        let m = meta();
        let post = ShapePosterior::new(&m).unwrap();
        let r = m.finger_radius_m;
        let mut p = vec![0.0; 5];
        for object in 0..5 {
            let (placed, mut grid) = drawn(&post, &m, object, 40 + 7 * object, 0.008);
            let far = (0..post.cells())
                .find(|&c| {
                    let d = clearance_m(&placed, post.cell_centres_m[c]);
                    grid[c] == 0.0 && post.is_informative(c) && d > r + 0.02 && d < r + 0.035
                })
                .unwrap();
            grid[far] = 2.0;
            let mut ev = post.evidence();
            post.update(&mut ev, &grid);
            post.probabilities(&ev, &mut p);
            assert!(p[object] > 0.9, "object {object}: posterior {p:?}");
        }
    }

    #[test]
    fn a_contact_against_a_pose_costs_it_the_phantom_rate() {
        // One pose per object: reading contact where object 0 leaves the
        // cell free and object j covers it moves their log-odds by
        // ln(phantom) - ln(1 - missed), and only theirs.
        let m =
            PosteriorMeta { random_yaw: false, jitter_m: 0.0, lattice: PoseLattice { yaws: 1, offsets: 1 }, ..meta() };
        let post = ShapePosterior::new(&m).unwrap();
        let (c, j) = (0..post.cells())
            .find_map(|c| {
                let j = (1..5).find(|&j| post.class(j, c) == Class::Contact)?;
                (post.class(0, c) == Class::Free).then_some((c, j))
            })
            .unwrap();
        // Start from a free reading every object agrees on.
        let start =
            (0..post.cells()).find(|&c| post.is_informative(c) && (0..5).all(|k| post.class(k, c) == Class::Free));
        let mut grid = vec![0.0; post.cells()];
        grid[start.unwrap()] = 1.0;
        let mut ev = post.evidence();
        post.update(&mut ev, &grid);
        let mut before = vec![0.0; 5];
        post.probabilities(&ev, &mut before);
        assert!(before.iter().all(|&p| (p - 0.2).abs() < 1e-6), "{before:?}");
        grid[c] = 2.0;
        post.update(&mut ev, &grid);
        let mut after = vec![0.0; 5];
        post.probabilities(&ev, &mut after);
        let expected = m.phantom_prob.ln() - (1.0 - MISSED_PROB).ln();
        let measured = (after[0] / after[j]).ln();
        assert!((measured - expected).abs() < 1e-3, "log-odds {measured}, expected {expected}");
    }

    #[test]
    fn nothing_read_near_the_object_tells_nothing() {
        let post = ShapePosterior::new(&meta()).unwrap();
        let mut grid = vec![0.0; post.cells()];
        // The corner's free cells: no pose reaches them.
        grid[0] = 1.0;
        grid[1] = 3.0;
        let mut ev = post.evidence();
        post.update(&mut ev, &grid);
        let mut p = vec![0.0; 5];
        post.probabilities(&ev, &mut p);
        assert!(p.iter().all(|&v| (v - 0.2).abs() < 1e-6), "{p:?}");
        assert!(ev.poses().next().is_none());
    }

    #[test]
    fn the_field_agrees_with_the_polygon_distance() {
        // One yaw, one offset: the class of each cell is the polygon's
        // distance from the cell's centre, banded.
        let m =
            PosteriorMeta { random_yaw: false, jitter_m: 0.0, lattice: PoseLattice { yaws: 1, offsets: 1 }, ..meta() };
        let post = ShapePosterior::new(&m).unwrap();
        let r = m.finger_radius_m;
        let blur = 0.5 * FIELD_CELL_M * std::f32::consts::SQRT_2;
        for (object, poly) in m.objects_m.iter().enumerate() {
            for (c, &p) in post.cell_centres_m.iter().enumerate() {
                let d = clearance_m(poly, p);
                let expect = if d < r - 2.0 * blur {
                    Some(Class::Contact)
                } else if d > r + 0.002 + 2.0 * blur {
                    Some(Class::Free)
                } else if d > r + blur && d < r + 0.002 - blur {
                    Some(Class::Either)
                } else {
                    None
                };
                if let Some(e) = expect {
                    assert_eq!(post.class(object, c), e, "object {object}, cell {c}: {d} m from it");
                }
            }
        }
    }

    #[test]
    fn refuses_a_description_it_cannot_use_naming_the_field() {
        let cases: [(PosteriorMeta, &str); 6] = [
            (PosteriorMeta { lattice: PoseLattice { yaws: 0, offsets: 3 }, ..meta() }, "lattice"),
            (PosteriorMeta { guard_m: f32::NAN, ..meta() }, "guard_m"),
            (PosteriorMeta { objects_m: vec![regular(4, 0.05, 0.0)], ..meta() }, "objects_m"),
            (
                PosteriorMeta { objects_m: vec![regular(4, 0.05, 0.0), vec![[0.0, 0.0], [0.1, 0.0]]], ..meta() },
                "objects_m[1]",
            ),
            (PosteriorMeta { threshold: 1.5, ..meta() }, "threshold"),
            (PosteriorMeta { cell_m: 0.0, ..meta() }, "cell_m"),
        ];
        for (m, field) in cases {
            let err = ShapePosterior::new(&m).err().unwrap();
            assert!(err.starts_with(field), "{field}: {err}");
        }
    }
}
